#pragma once
// What the plots show, computed from a recorded run: pure functions over run_data, no gnuplot
// and no files, so tests can check every number a picture is drawn from.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "plots/run_data.hpp"

namespace herd::plots {

// A fault's time window: a partition until the next heal, a link down until it is up again, a
// crash until the restart; one still open at the end of the run closes there. A set_link is an
// instant (from == to). Sorted by start.
struct fault_window {
    nanos from = 0, to = 0;
    std::string kind;  // partition, link, crash, set_link
    std::string label;
};
std::vector<fault_window> fault_windows(const run_data& r);

// For each update (every `stride`-th when updates × servers would pass `cells_max`), the times
// after its issue at which servers first held it or a newer update of the same client (a server
// that already held a newer one counts at 0), sorted. A server it never reached is missing: the
// last entry over the number of servers is the fraction it reached in the end.
struct reach_table {
    std::vector<std::uint32_t> updates;
    std::vector<std::vector<nanos>> since_issue;
    std::size_t stride = 1;
};
reach_table reach_times(const run_data& r, std::size_t cells_max);

// The fraction of `servers` that an update with these sorted reach times has reached `t` after
// its issue.
double reached_fraction(const std::vector<nanos>& since_issue, nanos t, std::size_t servers);

// The 5th, 50th and 95th percentiles (nearest rank) over the table's updates of the fraction
// reached, at `points` times evenly spaced from 0 to `until` (both included).
struct fan_point {
    nanos t = 0;
    double p5 = 0, p50 = 0, p95 = 0;
};
std::vector<fan_point> fan(const reach_table& table, std::size_t servers, nanos until, std::size_t points);

// Per server (config order), the delays applied − issued of its rows in updates.csv, sorted: the
// same pairs as summary.json's delay_ms.
std::vector<std::vector<nanos>> delays_by_server(const run_data& r);

// For each live server, how many clients it holds anything but the newest update of (the
// simulator's staleness, per server), replayed from updates.csv and the timeline's issues and
// crashes. Columns are the timeline's `stale` samples but the last (every `stride`-th when there
// are more than `columns_max`); `end` is the state at the end of the run (the last sample). A
// server that is down is -1. Each column of live servers sums to the timeline's count.
struct staleness_grid {
    std::vector<nanos> times;
    std::vector<std::uint64_t> totals;  // the timeline's count at each column
    std::vector<std::int64_t> cells;    // server-major: cells[server * times.size() + column]
    std::vector<std::int64_t> end;      // per server, at the end of the run
    std::uint64_t end_total = 0;        // the timeline's last count
    std::size_t stride = 1;
    bool skipped = false;  // more than cells_max (client, server) pairs to replay
};
staleness_grid staleness(const run_data& r, std::size_t columns_max, std::size_t cells_max);

// Counts per time bin [k·bin, (k+1)·bin).
struct count_series {
    std::string name;
    std::vector<std::uint64_t> counts;
};
struct message_rates {
    nanos bin = 0;
    std::vector<count_series> sent;     // by message kind, from the timeline's send lines
    std::vector<count_series> dropped;  // by reason
    count_series duplicated{"duplicated", {}};
    count_series requests{"client requests", {}};
    count_series issued{"updates issued", {}};
    // The timeline has a line for every message summary.json counts (not turned off, not cut).
    bool complete = false;
};
message_rates message_rates_of(const run_data& r, std::size_t bins_max);

// A round bin width (1, 2 or 5 times a power of ten nanoseconds, at least 1 µs) that cuts
// [0, span] into at most `bins_max` bins.
nanos round_bin(nanos span, std::size_t bins_max);

}  // namespace herd::plots
