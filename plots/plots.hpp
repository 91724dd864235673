#pragma once
// herd_plots: turns a run directory written by `herd sim` into pictures and a report
// (docs/plots.md). Reads only the run's files; never changes summary.json, timeline.jsonl or
// updates.csv. Everything it writes is deterministic: the same run gives the same bytes.

#include <filesystem>
#include <string>
#include <vector>

#include "plots/figures.hpp"

namespace herd::plots {

struct options {
    bool render = true;  // run gnuplot (when there is one) on the scripts
    figure_limits limits;
};

struct outcome {
    std::filesystem::path plots_dir;  // RUN_DIR/plots
    std::filesystem::path report;     // RUN_DIR/report.html
    std::vector<std::string> figures;  // names: convergence, delay-cdf, staleness, messages
    bool rendered = false;             // every figure has its PNG and SVG
    std::string message;               // one line for the user: what was written, or how to render
};

// Writes RUN_DIR/plots/ (for each figure its data files and NAME.gp, and when gnuplot runs,
// NAME.png and NAME.svg) and RUN_DIR/report.html. Without gnuplot (or with render false) the
// data and scripts are still written and `message` says how to render them. Throws run_error
// when the run directory cannot be read, std::runtime_error when a file cannot be written.
outcome plot_run(const std::filesystem::path& run_dir, const options& opts = {});

}  // namespace herd::plots
