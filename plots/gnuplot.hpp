#pragma once
// Figures as gnuplot scripts plus data files, and running gnuplot on them through
// gnuplot-iostream. A figure's script renders both `NAME.png` (pngcairo) and `NAME.svg` from
// its data files in the same directory, so `gnuplot NAME.gp` there re-renders it without herd.

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace herd::plots {

struct figure {
    std::string name;     // file stem: convergence, delay-cdf, staleness, messages
    std::string caption;  // one paragraph for the report: what is drawn, how it was computed
    int width = 1200, height = 750;
    std::vector<std::pair<std::string, std::string>> data;  // file name, contents
    std::string commands;  // gnuplot commands that draw the figure on the current terminal
};

// Writes the figure's data files and NAME.gp into `dir`. Throws std::runtime_error naming a
// file that cannot be written.
void write_figure(const figure& f, const std::filesystem::path& dir);

// The gnuplot to run: $HERD_GNUPLOT when set (empty or `none`: no gnuplot), else `gnuplot` on
// $PATH; nothing when there is none.
std::optional<std::filesystem::path> find_gnuplot();

// Runs `gnuplot` once on the scripts `names` (NAME.gp in `dir`) and checks that every NAME.png
// and NAME.svg came out. Returns an empty string on success, else what went wrong (gnuplot's own
// messages are in `dir`/gnuplot.log, which is removed when it stays empty).
std::string render(const std::filesystem::path& gnuplot, const std::filesystem::path& dir,
                   const std::vector<std::string>& names);

// A gnuplot double-quoted string literal (noenhanced text: only `\` and `"` are special).
std::string gp_quote(std::string_view text);

// Numbers as the data files write them: fixed decimals, no locale, no exponent.
std::string fixed(double v, int decimals);

// Writes `text` to `path` (binary, whole). Throws std::runtime_error when it cannot.
void write_text(const std::filesystem::path& path, std::string_view text);

}  // namespace herd::plots
