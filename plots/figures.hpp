#pragma once
// The four figures of a run (docs/plots.md): each a gnuplot script plus data files computed by
// plots/analysis from the run directory alone.

#include <cstddef>
#include <vector>

#include "plots/gnuplot.hpp"
#include "plots/run_data.hpp"

namespace herd::plots {

// Limits that keep a 1,000-server run fast to draw; every figure says on it what it drew less
// than all of.
struct figure_limits {
    std::size_t lines_max = 300;             // convergence: thin lines (updates) drawn
    std::size_t line_points_max = 100;       // convergence: steps kept per line
    std::size_t reach_cells_max = 20'000'000;  // convergence: updates × servers replayed
    std::size_t fan_points = 400;            // convergence: times of the median and envelope
    std::size_t cdf_points_max = 200;        // delay CDF: points per server (50 past 100 servers)
    std::size_t heat_columns_max = 400;      // staleness: time columns
    std::size_t heat_rows_max = 250;         // staleness: rows (groups of servers past that)
    std::size_t heat_cells_max = 200'000'000;  // staleness: clients × servers replayed
    std::size_t rate_bins_max = 200;         // message rate: time bins
    std::size_t fault_labels_max = 10;       // fault windows labelled (all are shaded)
};

// 1. Convergence timeline: the fraction of servers each update has reached against the time
//    since its issue (thin lines, median, 5–95% envelope), and the same lines on the run's clock
//    with the fault windows shaded and labelled.
figure convergence_figure(const run_data& r, const figure_limits& limits);
// 2. Propagation delay CDF, one curve per server, and all servers together.
figure delay_cdf_figure(const run_data& r, const figure_limits& limits);
// 3. Staleness heatmap: servers × time, colour = clients whose record there is stale.
figure staleness_figure(const run_data& r, const figure_limits& limits);
// 4. Message rate by kind over time; drops and duplicates below.
figure messages_figure(const run_data& r, const figure_limits& limits);

// All four, in that order.
std::vector<figure> all_figures(const run_data& r, const figure_limits& limits = {});

}  // namespace herd::plots
