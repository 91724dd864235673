#include "plots/gnuplot.hpp"

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <system_error>
#include <unistd.h>

#include <gnuplot-iostream.h>

namespace herd::plots {
namespace {

// A POSIX shell word: `'…'` with every `'` as `'\''`.
std::string shell_quote(const std::string& s) {
    std::string out = "'";
    for (const char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

// Ignores SIGPIPE while it lives: a gnuplot that stops early must not kill herd; the write fails
// instead, and the missing pictures say what happened.
class sigpipe_ignored {
public:
    sigpipe_ignored() : old_(std::signal(SIGPIPE, SIG_IGN)) {}
    ~sigpipe_ignored() { std::signal(SIGPIPE, old_); }
    sigpipe_ignored(const sigpipe_ignored&) = delete;
    sigpipe_ignored& operator=(const sigpipe_ignored&) = delete;

private:
    void (*old_)(int);
};

}  // namespace

std::string gp_quote(std::string_view text) {
    std::string out = "\"";
    for (const char c : text) {
        if (c == '\\' || c == '"') out += '\\';
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        out += c;
    }
    return out + "\"";
}

std::string fixed(double v, int decimals) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    return buf;
}

void write_text(const std::filesystem::path& path, std::string_view text) {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f.write(text.data(), static_cast<std::streamsize>(text.size()));
    if (!f.flush()) throw std::runtime_error("cannot write " + path.string());
}

void write_figure(const figure& f, const std::filesystem::path& dir) {
    for (const auto& [name, text] : f.data) write_text(dir / name, text);
    std::string data_names;
    for (const auto& [name, text] : f.data) data_names += (data_names.empty() ? "" : ", ") + name;
    const std::string size = std::to_string(f.width) + "," + std::to_string(f.height);
    std::string s;
    s += "# herd plot: " + f.name + ". Written by herd from the run directory above this one.\n";
    s += "# Data: " + data_names + ".\n";
    s += "# Render in this directory: gnuplot " + f.name + ".gp  (writes " + f.name + ".png and " + f.name + ".svg)\n";
    s += "set encoding utf8\n";
    s += "do for [fmt in \"png svg\"] {\n";
    s += "reset\n";
    s += "if (fmt eq \"png\") {\n";
    s += "  set terminal pngcairo size " + size + " noenhanced font \"sans,11\" background rgb \"white\"\n";
    s += "} else {\n";
    s += "  set terminal svg size " + size + " fixed noenhanced font \"sans,11\" background rgb \"white\"\n";
    s += "}\n";
    s += "set output \"" + f.name + ".\".fmt\n";
    s += f.commands;
    s += "unset multiplot\n";
    s += "unset output\n";
    s += "}\n";
    write_text(dir / (f.name + ".gp"), s);
}

std::optional<std::filesystem::path> find_gnuplot() {
    if (const char* env = std::getenv("HERD_GNUPLOT")) {
        const std::string v = env;
        if (v.empty() || v == "none") return std::nullopt;
        return std::filesystem::path(v);
    }
    const char* path = std::getenv("PATH");
    std::string_view dirs = path ? path : "/usr/bin:/bin";
    while (true) {
        const auto colon = dirs.find(':');
        const std::filesystem::path dir(std::string(dirs.substr(0, colon)));
        std::error_code ec;
        const auto candidate = (dir.empty() ? std::filesystem::path(".") : dir) / "gnuplot";
        if (std::filesystem::is_regular_file(candidate, ec) && ::access(candidate.c_str(), X_OK) == 0) return candidate;
        if (colon == std::string_view::npos) break;
        dirs.remove_prefix(colon + 1);
    }
    return std::nullopt;
}

std::string render(const std::filesystem::path& gnuplot, const std::filesystem::path& dir,
                   const std::vector<std::string>& names) {
    const auto log = dir / "gnuplot.log";
    for (const auto& n : names)
        for (const char* ext : {".png", ".svg"}) std::filesystem::remove(dir / (n + ext));
    {
        sigpipe_ignored guard;
        try {
            // gnuplot-iostream pipes the commands to gnuplot; its destructor waits for it to end.
            Gnuplot gp("exec " + shell_quote(gnuplot.string()) + " 2>" + shell_quote(log.string()));
            gp << "cd " << gp_quote(dir.string()) << "\n";
            for (const auto& n : names) gp << "load " << gp_quote(n + ".gp") << "\n";
            gp << "exit\n";
            gp.flush();
        } catch (const std::exception& e) {
            return "cannot run " + gnuplot.string() + ": " + e.what();
        }
    }
    std::string missing;
    for (const auto& n : names)
        for (const char* ext : {".png", ".svg"})
            if (!std::filesystem::exists(dir / (n + ext))) missing += (missing.empty() ? "" : ", ") + n + ext;
    std::error_code ec;
    const bool quiet = std::filesystem::file_size(log, ec) == 0 && !ec;
    if (quiet) std::filesystem::remove(log, ec);
    if (!missing.empty())
        return "gnuplot did not write " + missing + (quiet ? std::string() : " (its messages: " + log.string() + ")");
    return {};
}

}  // namespace herd::plots
