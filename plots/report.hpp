#pragma once
// report.html: one self-contained page for a run — the summary, the expectations, the figures
// (their SVGs inlined) and the herd graph with link states and per-link message counts. No
// script, no external file, font or network request: it opens anywhere, offline.

#include <filesystem>
#include <string>
#include <vector>

#include "plots/gnuplot.hpp"
#include "plots/run_data.hpp"

namespace herd::plots {

// The page for `r`. Each figure's SVG is read from `plots_dir`/NAME.svg; a figure without one
// shows `missing_note` (how to render it) instead.
std::string report_html(const run_data& r, const std::vector<figure>& figures, const std::filesystem::path& plots_dir,
                        const std::string& missing_note);

// A position for each server in a unit square, deterministic: a force-directed layout
// (Fruchterman–Reingold from a circle) up to `force_max` servers, a circle past that.
std::vector<std::pair<double, double>> herd_layout(const run_data& r, std::size_t force_max = 200);

// `svg` (as gnuplot writes it) ready to sit inside HTML next to others: no XML prolog, every id
// and reference to it prefixed with `prefix`-, its <title> replaced by `title`.
std::string inline_svg(const std::string& svg, const std::string& prefix, const std::string& title);

// Text for HTML: & < > " ' escaped.
std::string html_escape(const std::string& text);

}  // namespace herd::plots
