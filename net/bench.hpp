#pragma once
// `herd bench`: load on a running herd over real sockets. N client connections send IAMATs (and
// optionally WHATSATs) in a closed loop for a fixed time, spread over the herd's servers; a probe
// measures how long an update takes to reach the server farthest from where it was taken.

#include <cstdint>
#include <iosfwd>
#include <string>

#include "core/config.hpp"

namespace herd::net {

struct bench_options {
    int connections = 64;
    double seconds = 5;
    double whatsat_fraction = 0;
    int pipeline = 1;  // requests in flight per connection
};

struct bench_result {
    std::uint64_t requests = 0;
    std::uint64_t errors = 0;  // refusals, closed connections, timeouts
    double seconds = 0;
    double latency_p50_ms = 0, latency_p99_ms = 0, latency_max_ms = 0;
    std::uint64_t probes = 0;
    double farthest_p50_ms = 0, farthest_max_ms = 0;
    std::string origin, farthest;
};

// Runs the load against the servers of `cfg` (which must be running) and returns the figures.
bench_result run_bench(const core::herd_config& cfg, const bench_options& o);

void print_bench(const bench_result& r, const bench_options& o, std::ostream& out);

}  // namespace herd::net
