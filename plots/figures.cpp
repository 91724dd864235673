#include "plots/figures.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "plots/analysis.hpp"

namespace herd::plots {
namespace {

constexpr double ns_per_ms = 1e6;

double ms(nanos t) { return static_cast<double>(t) / ns_per_ms; }

std::string title_of(const run_data& r, const std::string& what) {
    return what + " — scenario " + r.scenario + ", seed " + std::to_string(r.seed);
}

// "1,234,567"
std::string grouped(std::uint64_t v) {
    const std::string digits = std::to_string(v);
    std::string out;
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
        out += digits[i];
    }
    return out;
}

// Indices 0..n-1 thinned to at most `keep` (first and last always kept), evenly spread.
std::vector<std::size_t> thin(std::size_t n, std::size_t keep) {
    std::vector<std::size_t> out;
    if (n == 0) return out;
    if (n <= keep || keep < 2) {
        out.resize(n);
        for (std::size_t i = 0; i < n; ++i) out[i] = i;
        return out;
    }
    for (std::size_t j = 0; j < keep; ++j) out.push_back(j * (n - 1) / (keep - 1));
    return out;
}

const char* window_colour(const std::string& kind) {
    if (kind == "partition") return "#E69F00";
    if (kind == "crash") return "#D55E00";
    if (kind == "link") return "#56B4E9";
    return "#777777";
}

// Darker, for text on white.
const char* label_colour(const std::string& kind) {
    if (kind == "partition") return "#8A5A00";
    if (kind == "crash") return "#A03000";
    if (kind == "link") return "#1F5F8F";
    return "#444444";
}

// Commands that mark the fault windows on a time axis in ms: shaded (or, with `shade` false,
// edged with dashed lines), the first `labels_max` labelled, stacked where they overlap.
std::string fault_commands(const std::vector<fault_window>& windows, bool shade, std::size_t labels_max) {
    std::string s = windows.empty() ? "" : "set style textbox opaque fillcolor rgb \"white\" noborder\n";
    for (std::size_t i = 0; i < windows.size(); ++i) {
        const auto& w = windows[i];
        const std::string colour = window_colour(w.kind);
        // Edges drawn over a picture (the heatmap) need the darker colour.
        const std::string edge = shade ? colour : label_colour(w.kind);
        const std::string x1 = fixed(ms(w.from), 6), x2 = fixed(ms(w.to), 6);
        if (w.from == w.to || !shade) {
            s += "set arrow from first " + x1 + ", graph 0 to first " + x1 + ", graph 1 nohead dt 2 lw 1.5 lc rgb \"" + edge + "\" front\n";
            if (w.from != w.to)
                s += "set arrow from first " + x2 + ", graph 0 to first " + x2 + ", graph 1 nohead dt 2 lw 1.5 lc rgb \"" + edge + "\" front\n";
        } else {
            s += "set object rect from first " + x1 + ", graph 0 to first " + x2 + ", graph 1 behind fillcolor rgb \"" + colour +
                 "\" fillstyle transparent solid 0.18 noborder\n";
        }
        if (i >= labels_max) continue;
        std::size_t level = 0;
        for (std::size_t j = 0; j < i; ++j)
            if (windows[j].to >= w.from && j < labels_max) ++level;
        const std::string y = fixed(0.96 - 0.055 * static_cast<double>(level % 5), 3);
        s += "set label " + gp_quote(w.label) + " at first " + x1 + ", graph " + y + " left offset character 0.4,0 front boxed font \",9\" textcolor rgb \"" +
             label_colour(w.kind) + "\"\n";
    }
    return s;
}

std::string fault_note(const std::vector<fault_window>& windows, std::size_t labels_max) {
    if (windows.size() <= labels_max) return {};
    return "; " + std::to_string(windows.size()) + " fault windows, the first " + std::to_string(labels_max) + " labelled";
}

// A plot element that draws nothing and shows `title` in the key with this style.
std::string key_entry(const std::string& style, const std::string& title) {
    return "keyentry " + style + " title " + gp_quote(title);
}

}  // namespace

figure convergence_figure(const run_data& r, const figure_limits& limits) {
    figure f;
    f.name = "convergence";
    f.height = 900;
    const std::size_t n = r.servers.size();
    const double servers = static_cast<double>(std::max<std::size_t>(n, 1));
    const auto windows = fault_windows(r);
    const auto table = reach_times(r, limits.reach_cells_max);
    const std::size_t m = table.updates.size();

    // The top panel spans the propagation delays (updates.csv's applied − issued, whose maximum
    // is summary.json's): an update that reaches a server only later, through a newer update of
    // its client after a fault, runs off its right edge and shows in the bottom panel.
    nanos delay_max = 0;
    for (const auto& a : r.applied) delay_max = std::max(delay_max, a.applied - r.updates[a.update].issued);
    const nanos x_max = std::max<nanos>(delay_max + delay_max / 20, 1'000'000);
    std::size_t beyond = 0;
    for (const auto& v : table.since_issue) beyond += !v.empty() && v.back() > x_max ? 1 : 0;

    // An update is drawn as affected by faults when its spread (until it reached every server,
    // or the end of the run) overlaps a fault window.
    auto until_of = [&](std::size_t k) {
        const auto& v = table.since_issue[k];
        return v.size() >= n && !v.empty() ? r.updates[table.updates[k]].issued + v.back() : r.end;
    };
    auto affected = [&](std::size_t k) {
        const nanos from = r.updates[table.updates[k]].issued, until = until_of(k);
        return std::any_of(windows.begin(), windows.end(),
                           [&](const fault_window& w) { return w.from != w.to && w.from <= until && w.to >= from; });
    };
    const auto drawn = thin(m, limits.lines_max);
    std::string blocks[2];
    std::size_t drawn_count[2] = {0, 0};
    for (const auto k : drawn) {
        const auto& v = table.since_issue[k];
        const nanos issued = r.updates[table.updates[k]].issued;
        const int part = affected(k) ? 1 : 0;
        auto& out = blocks[part];
        ++drawn_count[part];
        auto point = [&](nanos since, std::size_t reached) {
            out += fixed(ms(since), 6) + " " + fixed(ms(issued + since), 6) + " " + fixed(static_cast<double>(reached) / servers, 6) + "\n";
        };
        // A step function: the fraction at 0 (the origin, and servers that already held a newer
        // update), one point per kept step, and, for an update that never reached every server,
        // flat to the end of the run.
        const auto at_zero = static_cast<std::size_t>(std::upper_bound(v.begin(), v.end(), nanos{0}) - v.begin());
        point(0, at_zero);
        for (const auto i : thin(v.size(), limits.line_points_max))
            if (v[i] > 0) point(v[i], i + 1);
        if (v.size() < n) point(std::max(r.end - issued, v.empty() ? nanos{0} : v.back()), v.size());
        out += "\n";
    }
    const std::string header = "# one block per update drawn: since_issue_ms run_time_ms fraction_of_servers_reached\n";
    f.data.emplace_back("convergence-lines.dat", header + "# updates clear of fault windows\n" + blocks[0]);
    f.data.emplace_back("convergence-lines-faults.dat", header + "# updates whose spread overlaps a fault window\n" + blocks[1]);
    std::string fan_text = "# since_issue_ms p5 p50 p95 (fraction of servers reached, over " + std::to_string(m) + " updates)\n";
    for (const auto& p : fan(table, n, x_max, limits.fan_points))
        fan_text += fixed(ms(p.t), 6) + " " + fixed(p.p5, 6) + " " + fixed(p.p50, 6) + " " + fixed(p.p95, 6) + "\n";
    f.data.emplace_back("convergence-fan.dat", fan_text);

    // The whole store on the run's clock: the share of (live server, client) records that hold
    // the client's newest update, from the timeline's staleness samples.
    std::vector<nanos> first_issue(r.clients.size(), std::numeric_limits<nanos>::max());
    for (const auto& u : r.updates)
        if (u.client != none) first_issue[u.client] = std::min(first_issue[u.client], u.issued);
    std::sort(first_issue.begin(), first_issue.end());
    std::string fresh = "# run_time_ms fraction of (live server, client) records holding the client's newest update\n";
    for (const auto i : thin(r.stale.size(), 4000)) {
        const auto& sample = r.stale[i];
        const bool last = i + 1 == r.stale.size();
        const auto clients = static_cast<std::uint64_t>(
            (last ? std::upper_bound(first_issue.begin(), first_issue.end(), sample.t) : std::lower_bound(first_issue.begin(), first_issue.end(), sample.t)) -
            first_issue.begin());
        const double records = static_cast<double>(clients) * sample.live;
        fresh += fixed(ms(sample.t), 6) + " " + fixed(records > 0 ? 1.0 - static_cast<double>(sample.stale) / records : 1.0, 6) + "\n";
    }
    f.data.emplace_back("convergence-fresh.dat", fresh);

    std::string note = "thin lines: " + grouped(drawn.size()) + " of " + grouped(r.updates.size()) + " updates";
    if (drawn.size() < r.updates.size()) note += ", evenly spaced by id";
    note += ", at most " + std::to_string(limits.line_points_max) + " steps each; median and 5–95% envelope over " +
            (table.stride > 1 ? "every " + std::to_string(table.stride) + "th update (" + grouped(m) + ")" : "all " + grouped(m) + " updates");
    const std::string cut = beyond ? grouped(beyond) + " updates reach their last servers after " + fixed(ms(x_max), 1) +
                                         " ms, through newer updates (see the bottom panel)"
                                   : "";
    f.caption = "For every update, the fraction of the " + grouped(n) +
                " servers that hold it, or a newer update of the same client, against the time since it was issued (from updates.csv). "
                "Top: thin lines per update, the median and the 5–95% envelope across updates, over the range of propagation delays. "
                "Bottom: the same lines on the run's clock, with fault windows shaded, and in black the share of all (live server, client) "
                "records that hold the client's newest update (from the timeline's staleness samples). Purple lines are updates whose "
                "spread overlaps a fault window. " + note + (cut.empty() ? "" : "; " + cut) + ".";

    const std::string fraction_label = "fraction of the " + grouped(n) + " servers holding it (or newer)";
    std::string& c = f.commands;
    c += "set multiplot title " + gp_quote(title_of(r, "Convergence of updates") + "\n" + note + (cut.empty() ? "" : "\n" + cut) +
                                           fault_note(windows, limits.fault_labels_max)) + "\n";
    c += "set lmargin 12\nset rmargin 4\n";
    c += "set origin 0,0.40\nset size 1,0.52\n";
    c += "set xlabel \"time since the update was issued (ms)\"\nset ylabel " + gp_quote(fraction_label) + "\n";
    c += "set yrange [0:1.02]\nset xrange [0:" + fixed(ms(x_max), 6) + "]\nset grid lc rgb \"#dddddd\"\n";
    c += "set key bottom right opaque box lc rgb \"#cccccc\"\n";
    const char* plain = "lw 0.6 lc rgb \"#A00077BB\"";
    const char* faulty = "lw 0.8 lc rgb \"#60AA3377\"";
    std::string plot = "plot ";
    if (m > 0) {
        plot += "'convergence-fan.dat' using 1:2:4 with filledcurves lc rgb \"#0077BB\" fillstyle transparent solid 0.15 noborder title \"5–95% of updates\", ";
        if (drawn_count[0]) plot += "'convergence-lines.dat' using 1:3 with steps " + std::string(plain) + " notitle, ";
        if (drawn_count[1]) plot += "'convergence-lines-faults.dat' using 1:3 with steps " + std::string(faulty) + " notitle, ";
        if (drawn_count[0]) plot += key_entry("with lines lw 1 lc rgb \"#0077BB\"", "one update (" + grouped(drawn_count[0]) + " drawn)") + ", ";
        if (drawn_count[1]) plot += key_entry("with lines lw 1 lc rgb \"#AA3377\"", "spread overlaps a fault window (" + grouped(drawn_count[1]) + ")") + ", ";
        plot += "'convergence-fan.dat' using 1:3 with lines lw 3 lc rgb \"#003F6B\" title \"median\"\n";
    } else {
        plot += "NaN notitle\nset label \"no updates in this run\" at graph 0.5, graph 0.5 center\n";
    }
    c += plot;
    c += "unset label\nunset object\nunset arrow\n";
    c += "set origin 0,0\nset size 1,0.40\nunset title\n";
    c += "set xlabel \"virtual time since the start of the run (ms)\"\nset ylabel \"fraction of servers (black: of records)\"\n";
    c += "set xrange [0:" + fixed(ms(std::max(r.end, nanos{1})), 6) + "]\nset key bottom right opaque box lc rgb \"#cccccc\"\n";
    c += fault_commands(windows, true, limits.fault_labels_max);
    std::string lower = "plot NaN notitle";
    if (drawn_count[0]) lower += ", 'convergence-lines.dat' using 2:3 with steps " + std::string(plain) + " notitle";
    if (drawn_count[1]) lower += ", 'convergence-lines-faults.dat' using 2:3 with steps " + std::string(faulty) + " notitle";
    if (!r.stale.empty()) lower += ", 'convergence-fresh.dat' using 1:2 with lines lw 2 lc rgb \"black\" title \"all records: share holding the newest update\"";
    c += lower + "\n";
    return f;
}

figure delay_cdf_figure(const run_data& r, const figure_limits& limits) {
    figure f;
    f.name = "delay-cdf";
    const auto per_server = delays_by_server(r);
    const std::size_t n = per_server.size();
    const std::size_t keep = n > 100 ? std::min<std::size_t>(limits.cdf_points_max, 50) : limits.cdf_points_max;
    std::vector<nanos> all;
    for (const auto& v : per_server) all.insert(all.end(), v.begin(), v.end());
    std::sort(all.begin(), all.end());

    // A CDF as steps: (delay, fraction of pairs with a delay <= it), thinned, the last (the
    // maximum, fraction 1) always kept.
    auto cdf = [&](const std::vector<nanos>& v, std::size_t points, std::string& out) {
        for (const auto i : thin(v.size(), points))
            out += fixed(ms(v[i]), 6) + " " + fixed(static_cast<double>(i + 1) / static_cast<double>(v.size()), 6) + "\n";
    };
    std::string per = "# one block per server (config order): delay_ms fraction_of_its_pairs; block k is server k\n";
    std::size_t drawn = 0;
    for (std::size_t s = 0; s < n; ++s) {
        per += "# " + r.servers[s] + "\n";
        if (per_server[s].empty()) per += "NaN NaN\n";  // keeps block k = server k
        cdf(per_server[s], keep, per);
        per += "\n\n";
        drawn += per_server[s].empty() ? 0 : 1;
    }
    f.data.emplace_back("delay-cdf.dat", per);
    std::string whole = "# all servers: delay_ms fraction_of_all_pairs (" + grouped(all.size()) + " pairs)\n";
    cdf(all, 500, whole);
    f.data.emplace_back("delay-cdf-all.dat", whole);

    // The summary's percentiles, nearest rank, marked on the all-servers curve.
    std::string marks;
    auto nearest_rank = [&](double p) {
        const auto k = static_cast<std::size_t>(std::ceil(p * static_cast<double>(all.size())));
        return all[std::min(all.size(), std::max<std::size_t>(k, 1)) - 1];
    };
    if (!all.empty())
        for (const auto& [p, name] : {std::pair{0.5, "p50"}, {0.9, "p90"}, {0.99, "p99"}, {1.0, "max"}})
            marks += fixed(ms(nearest_rank(p)), 6) + " " + fixed(p, 2) + " " + name + "\n";
    f.data.emplace_back("delay-cdf-marks.dat", "# delay_ms fraction name: summary.json's delay_ms percentiles\n" + marks);

    const std::string note = n > 12 ? "one thin line per server (" + grouped(drawn) + "), at most " + std::to_string(keep) + " points each"
                                    : "at most " + std::to_string(keep) + " points per server";
    f.caption = "For each server, the cumulative distribution of its propagation delays: applied − issued over its rows in updates.csv, "
                "that is from the moment the origin took the IAMAT to the moment this server stored the update (0 at the origin). "
                "Black: all servers together, with summary.json's p50, p90, p99 and max marked. " + note + ".";
    std::string& c = f.commands;
    c += "set title " + gp_quote(title_of(r, "Propagation delay CDF") + "\n" + note + "; black: all " + grouped(all.size()) + " (update, server) pairs") + "\n";
    c += "set xlabel \"delay from issue at the origin to apply at the server (ms)\"\n";
    c += "set ylabel \"fraction of the server's (update, server) pairs\"\n";
    c += "set yrange [0:1.02]\nset grid lc rgb \"#dddddd\"\n";
    if (!all.empty()) c += "set xrange [0:" + fixed(std::max(ms(all.back()) * 1.15, 0.001), 6) + "]\n";
    c += "set key bottom right opaque box lc rgb \"#cccccc\"" + std::string(n > 12 ? "" : " title \"server\"") + "\n";
    std::string plot = "plot ";
    if (all.empty()) {
        c += "set label \"no updates in this run\" at graph 0.5, graph 0.5 center\nset xrange [0:1]\n";
        plot += "NaN notitle\n";
    } else {
        if (n > 12) {
            plot += "'delay-cdf.dat' using 1:2 with steps lw 0.6 lc rgb \"#990077BB\" notitle, ";
            plot += key_entry("with lines lw 0.6 lc rgb \"#0077BB\"", "one server (" + grouped(drawn) + ")") + ", ";
        } else {
            for (std::size_t s = 0; s < n; ++s)
                if (!per_server[s].empty())
                    plot += "'delay-cdf.dat' index " + std::to_string(s) + " using 1:2 with steps lw 1.8 lt " + std::to_string(s + 1) +
                            " title " + gp_quote(r.servers[s]) + ", ";
        }
        plot += "'delay-cdf-all.dat' using 1:2 with steps lw 2.5 lc rgb \"black\" title \"all servers\", ";
        plot += "'delay-cdf-marks.dat' using 1:2 with points pt 7 ps 1 lc rgb \"black\" notitle, ";
        plot += "'delay-cdf-marks.dat' using 1:2:(sprintf(\"%s %.3f ms\", strcol(3), $1)) with labels left offset character 0.8,-0.6 font \",9\" notitle\n";
    }
    c += plot;
    return f;
}

figure staleness_figure(const run_data& r, const figure_limits& limits) {
    figure f;
    f.name = "staleness";
    const std::size_t n = r.servers.size();
    f.height = static_cast<int>(std::clamp<std::size_t>(300 + 16 * n, 600, 1000));
    const auto g = staleness(r, limits.heat_columns_max, limits.heat_cells_max);
    const std::size_t cols = g.times.size();
    const auto windows = fault_windows(r);

    // A matrix as gnuplot's nonuniform matrix: the column times, then a row label and values.
    auto matrix = [&](std::size_t rows, auto&& value) {
        std::string text = std::to_string(cols);
        for (const auto t : g.times) text += " " + fixed(ms(t), 6);
        text += "\n";
        for (std::size_t row = 0; row < rows && cols > 0; ++row) {
            text += std::to_string(row);
            for (std::size_t k = 0; k < cols; ++k) text += " " + std::to_string(value(row, k));
            text += "\n";
        }
        return text;
    };
    f.data.emplace_back("staleness.dat",
                        "# nonuniform matrix: first row: columns, then the sample times (ms); each further row: server index, then\n"
                        "# the clients whose newest update that server does not hold at each time (-1: the server is down)\n" +
                            matrix(n, [&](std::size_t s, std::size_t k) { return g.cells[s * cols + k]; }));
    std::string end_text = "# at the end of the run (" + format_ms(r.end) + " ms): server stale_clients (-1: down); total " +
                           std::to_string(g.end_total) + "\n";
    for (std::size_t s = 0; s < g.end.size(); ++s) end_text += r.servers[s] + " " + std::to_string(g.end[s]) + "\n";
    f.data.emplace_back("staleness-end.dat", end_text);

    // Past heat_rows_max servers a pixel row would be thinner than a screen's: each row drawn is a
    // group of consecutive servers, coloured by its stalest live member.
    const std::size_t group = (n + limits.heat_rows_max - 1) / std::max<std::size_t>(limits.heat_rows_max, 1);
    const std::size_t rows = group > 1 ? (n + group - 1) / group : n;
    auto grouped_cell = [&](std::size_t row, std::size_t k) {
        std::int64_t v = -1;
        for (std::size_t s = row * group; s < std::min(n, (row + 1) * group); ++s) v = std::max(v, g.cells[s * cols + k]);
        return v;
    };
    if (group > 1)
        f.data.emplace_back("staleness-groups.dat", "# nonuniform matrix like staleness.dat, one row per group of " + std::to_string(group) +
                                                        " consecutive servers: the largest count among its live servers\n" +
                                                        matrix(rows, grouped_cell));

    // The colour scale: up to the largest count, unless a few cells (a server back from a crash
    // without its state) dwarf the rest; then it saturates at the 99th percentile.
    std::vector<std::int64_t> positive;
    for (const auto v : g.cells)
        if (v > 0) positive.push_back(v);
    std::sort(positive.begin(), positive.end());
    const std::int64_t largest = positive.empty() ? 1 : positive.back();
    const std::int64_t p99 = positive.empty() ? 1 : positive[(positive.size() * 99) / 100 == positive.size() ? positive.size() - 1 : (positive.size() * 99) / 100];
    const std::int64_t top = largest > 3 * std::max<std::int64_t>(p99, 1) ? std::max<std::int64_t>(p99, 1) : largest;

    std::string sampling = "columns: the timeline's staleness samples";
    if (g.stride > 1) sampling += ", every " + std::to_string(g.stride) + "th of " + grouped(r.stale.size() - 1);
    if (group > 1) sampling += "; rows: groups of " + std::to_string(group) + " servers (the stalest live one)";
    const std::string scale = top < largest ? "colour saturates at " + std::to_string(top) + " (99th percentile); the largest is " + std::to_string(largest) : "";
    const std::string end_note = "at the end (" + fixed(ms(r.end), 3) + " ms): " + grouped(g.end_total) + " stale (server, client) records";
    const bool any_down = std::any_of(windows.begin(), windows.end(), [](const fault_window& w) { return w.kind == "crash"; });
    f.caption = "For each server (rows, in config order) and time (columns), how many clients the server holds anything but the newest "
                "update of: the simulator's staleness, per server, replayed from updates.csv and the timeline's issue and crash lines. "
                "Grey: the server is down. Every column of staleness.dat sums to the timeline's `stale` count at that time. " + sampling +
                (scale.empty() ? "" : "; " + scale) + "; " + end_note + ".";
    std::string& c = f.commands;
    c += "set title " + gp_quote(title_of(r, "Staleness per server") + "\n" + sampling + (any_down ? "; grey: server down" : "") + "\n" + end_note +
                                 (scale.empty() ? "" : "; " + scale) + fault_note(windows, limits.fault_labels_max)) + "\n";
    c += "set xlabel \"virtual time since the start of the run (ms)\"\nset ylabel " + gp_quote(group > 1 ? "servers (groups of " + std::to_string(group) + ")" : "server") + "\n";
    c += "set cblabel \"clients whose record at the server is stale\"\n";
    c += "set palette defined (0 \"#FFFFFF\", 1 \"#FEE391\", 2 \"#FE9929\", 3 \"#CC4C02\", 4 \"#662506\")\n";
    c += "set cbrange [0:" + std::to_string(top) + "]\n";
    if (top <= 10) c += "set cbtics 1\n";
    // Row labels: every row while they fit, else evenly spaced ones (a group by its first server).
    std::string tics;
    const std::size_t tic_step = rows <= 40 ? 1 : (rows + 29) / 30;
    for (std::size_t row = 0; row < rows; row += tic_step)
        tics += (tics.empty() ? "" : ", ") + gp_quote(r.servers[row * group]) + " " + std::to_string(row);
    c += "set ytics (" + tics + ")" + (rows > 40 ? " font \",8\"" : "") + "\n";
    c += "set yrange [" + fixed(static_cast<double>(std::max<std::size_t>(rows, 1)) - 0.5, 1) + ":-0.5]\n";
    if (cols >= 2) {
        const double half = ms(g.times[1] - g.times[0]) / 2;
        c += "set xrange [" + fixed(ms(g.times.front()) - half, 6) + ":" + fixed(ms(g.times.back()) + half, 6) + "]\n";
    }
    c += "set object 1 rect from graph 0, graph 0 to graph 1, graph 1 behind fillcolor rgb \"#BBBBBB\" fillstyle solid noborder\n";
    c += "set key off\n";
    c += fault_commands(windows, false, limits.fault_labels_max);
    if (g.skipped || cols < 2 || n == 0) {
        c += "set label " + gp_quote(g.skipped ? "too many (client, server) pairs to replay: not drawn" : "too few staleness samples to draw") +
             " at graph 0.5, graph 0.5 center\nplot NaN notitle\n";
    } else {
        c += "plot '" + std::string(group > 1 ? "staleness-groups.dat" : "staleness.dat") +
             "' nonuniform matrix using 1:2:($3 < 0 ? NaN : $3) with image notitle\n";
    }
    return f;
}

figure messages_figure(const run_data& r, const figure_limits& limits) {
    figure f;
    f.name = "messages";
    f.height = 800;
    const auto m = message_rates_of(r, limits.rate_bins_max);
    const auto windows = fault_windows(r);
    const std::size_t bins = m.requests.counts.size();
    const double per_s = 1e9 / static_cast<double>(m.bin);
    const bool have_sends = std::any_of(m.sent.begin(), m.sent.end(), [](const count_series& s) {
        return std::any_of(s.counts.begin(), s.counts.end(), [](std::uint64_t v) { return v > 0; });
    });

    std::vector<const count_series*> rates;
    for (const auto& s : m.sent) rates.push_back(&s);
    rates.push_back(&m.requests);
    rates.push_back(&m.issued);
    std::string text = "# bin_start_ms then per second over the bin of " + fixed(ms(m.bin), 3) + " ms:";
    for (const auto* s : rates) text += " [" + s->name + "]";
    text += "\n";
    for (std::size_t b = 0; b < bins; ++b) {
        text += fixed(ms(static_cast<nanos>(b) * m.bin), 6);
        for (const auto* s : rates) text += " " + fixed(static_cast<double>(s->counts[b]) * per_s, 3);
        text += "\n";
    }
    f.data.emplace_back("messages.dat", text);
    std::vector<const count_series*> faults;
    for (const auto& s : m.dropped) faults.push_back(&s);
    faults.push_back(&m.duplicated);
    std::string ftext = "# bin_start_ms then messages in the bin of " + fixed(ms(m.bin), 3) + " ms:";
    for (const auto* s : faults) ftext += " [" + (s == &m.duplicated ? s->name : "dropped: " + s->name) + "]";
    ftext += "\n";
    for (std::size_t b = 0; b < bins; ++b) {
        ftext += fixed(ms(static_cast<nanos>(b) * m.bin), 6);
        for (const auto* s : faults) ftext += " " + std::to_string(s->counts[b]);
        ftext += "\n";
    }
    f.data.emplace_back("messages-faults.dat", ftext);

    // What summary.json counts, for the runs whose timeline has no line per message.
    std::uint64_t sent_total = 0, dropped_total = 0, duplicated_total = 0;
    std::string by_kind;
    if (const auto it = r.summary.find("messages"); it != r.summary.end())
        for (const auto& [kind, cnt] : it->items()) {
            sent_total += cnt.value("sent", std::uint64_t{0});
            dropped_total += cnt.value("dropped", std::uint64_t{0});
            duplicated_total += cnt.value("duplicated", std::uint64_t{0});
            by_kind += (by_kind.empty() ? "" : ", ") + kind + " " + grouped(cnt.value("sent", std::uint64_t{0}));
        }
    std::string reasons;
    if (const auto it = r.summary.find("drops_by_reason"); it != r.summary.end())
        for (const auto& [reason, cnt] : it->items()) reasons += (reasons.empty() ? "" : ", ") + reason + " " + grouped(cnt.get<std::uint64_t>());

    std::string basis;
    if (m.complete) {
        basis = "from the timeline's send, drop and duplicate lines";
    } else if (have_sends) {
        basis = "the timeline holds only part of the " + grouped(sent_total) + " messages sent (cut at its line limit):\nrates cover what it holds";
    } else {
        basis = "no line per message in this run's timeline (timeline.messages false):\nserver messages shown as their mean rate over the run, from summary.json's totals";
    }
    const std::string bin_note = "bins of " + fixed(ms(m.bin), 3) + " ms";
    f.caption = "Top: messages per second by kind (server-to-server FLOOD and refusals), client requests and updates issued, in " + bin_note +
                ". Bottom: messages dropped (by reason) and duplicated per bin. Basis: " + basis + ". Totals (summary.json): sent " +
                (by_kind.empty() ? "none" : by_kind) + "; dropped " + grouped(dropped_total) + (reasons.empty() ? "" : " (" + reasons + ")") +
                "; duplicated " + grouped(duplicated_total) + ".";

    std::string& c = f.commands;
    c += "set multiplot title " + gp_quote(title_of(r, "Message rate") + "\n" + basis + "; " + bin_note + fault_note(windows, limits.fault_labels_max)) + "\n";
    c += "set lmargin 12\nset rmargin 4\nset grid lc rgb \"#dddddd\"\n";
    c += "set xrange [0:" + fixed(ms(std::max(r.end, nanos{1})), 6) + "]\n";
    c += "set origin 0,0.32\nset size 1,0.6\nset xlabel \"virtual time since the start of the run (ms)\"\nset ylabel \"messages per second\"\n";
    // Room above the curves for the key; a log scale when server messages dwarf client requests.
    std::uint64_t server_peak = 0, client_peak = 1;
    for (const auto& s : m.sent) server_peak = std::max(server_peak, *std::max_element(s.counts.begin(), s.counts.end()));
    client_peak = std::max(client_peak, *std::max_element(m.requests.counts.begin(), m.requests.counts.end()));
    const double mean_rate = static_cast<double>(sent_total) / std::max(ms(r.end) / 1000.0, 1e-9);
    const double server_rate = have_sends ? static_cast<double>(server_peak) * per_s : mean_rate;
    const bool log_scale = server_rate > 30.0 * static_cast<double>(client_peak) * per_s;
    c += "set key top right opaque box lc rgb \"#cccccc\"\n";
    c += log_scale ? "set logscale y\nset format y \"%.0s%c\"\nset yrange [*:*]\nset offsets 0, 0, graph 0.35, 0\nset ylabel \"messages per second (log scale)\"\n"
                   : "set yrange [0:*]\nset offsets 0, 0, graph 0.25, 0\n";
    c += fault_commands(windows, true, limits.fault_labels_max);
    const char* colours[] = {"#0077BB", "#EE7733", "#009988", "#CC3311", "#33BBEE", "#EE3377"};
    std::string plot = "plot ";
    std::size_t col = 2, colour = 0;
    for (const auto& s : m.sent) {
        plot += "'messages.dat' using 1:" + std::to_string(col++) + " with steps lw 2 lc rgb \"" + colours[colour++ % 6] + "\" title " + gp_quote(s.name + " sent") + ", ";
    }
    if (!m.complete && !have_sends && sent_total > 0) {
        plot += fixed(mean_rate, 3) + " with lines dt 2 lw 2 lc rgb \"#0077BB\" title " +
                gp_quote("server messages, mean over the run: " + grouped(sent_total) + " sent (" + by_kind + ")") + ", ";
    }
    plot += "'messages.dat' using 1:" + std::to_string(col++) + " with steps lw 1.2 lc rgb \"#777777\" title \"client requests\", ";
    plot += "'messages.dat' using 1:" + std::to_string(col++) + " with steps lw 1.2 dt 3 lc rgb \"#222222\" title \"updates issued\"\n";
    c += plot;
    c += "unset label\nunset object\nunset arrow\nunset title\nunset logscale y\nset format y \"% h\"\nset offsets 0, 0, 0, 0\n";
    c += "set origin 0,0\nset size 1,0.32\nset ylabel \"messages per bin\"\nset key top right opaque box lc rgb \"#cccccc\"\n";
    c += fault_commands(windows, true, 0);
    const bool any_fault_msgs = dropped_total + duplicated_total > 0;
    if (!any_fault_msgs) {
        c += "set label \"no message was dropped or duplicated\" at graph 0.5, graph 0.5 center\nset yrange [0:1]\nset key off\nplot NaN notitle\n";
    } else if (!m.complete && !have_sends) {
        c += "set label " + gp_quote("dropped " + grouped(dropped_total) + (reasons.empty() ? "" : " (" + reasons + ")") + ", duplicated " +
                                     grouped(duplicated_total) + ": totals from summary.json, their times are not recorded") +
             " at graph 0.5, graph 0.5 center\nset yrange [0:1]\nset key off\nplot NaN notitle\n";
    } else {
        const char* marks[] = {"#CC3311", "#EE7733", "#AA3377", "#BBBB00"};
        std::string lower = "plot ";
        std::size_t fc = 2;
        for (std::size_t i = 0; i < m.dropped.size(); ++i)
            lower += "'messages-faults.dat' using 1:" + std::to_string(fc++) + " with impulses lw 3 lc rgb \"" + marks[i % 4] +
                     "\" title " + gp_quote("dropped: " + m.dropped[i].name) + ", ";
        lower += "'messages-faults.dat' using ($1 + " + fixed(ms(m.bin) / 2, 6) + "):" + std::to_string(fc) +
                 " with impulses lw 3 lc rgb \"#009988\" title \"duplicated\"\n";
        std::uint64_t most = 0;
        for (const auto* series : faults) most = std::max(most, *std::max_element(series->counts.begin(), series->counts.end()));
        c += "set yrange [0:*]\nset offsets 0, 0, graph 0.3, 0\n" + std::string(most <= 10 ? "set ytics 1\n" : "") + lower;
    }
    return f;
}

std::vector<figure> all_figures(const run_data& r, const figure_limits& limits) {
    std::vector<figure> out;
    out.push_back(convergence_figure(r, limits));
    out.push_back(delay_cdf_figure(r, limits));
    out.push_back(staleness_figure(r, limits));
    out.push_back(messages_figure(r, limits));
    return out;
}

}  // namespace herd::plots
