#pragma once
// `herd bench`: load on a running herd over real sockets. N client connections send IAMATs (and
// optionally WHATSATs) in a closed loop for a fixed time, spread over the herd's servers; a probe
// measures how long an update takes to reach the server farthest from where it was taken.

#include <cstdint>
#include <iosfwd>
#include <string>

#include "core/config.hpp"

namespace herd::net {

class running_servers;

struct bench_options {
    int connections = 64;
    double seconds = 5;
    double whatsat_fraction = 0;
    int pipeline = 1;  // requests in flight per connection
    // With the herd in this process: find when an update reaches the farthest server by
    // asking it WHATSAT over a client connection, as for an external herd, rather than by
    // watching it apply the update.
    bool poll_farthest = false;
    // With the herd in this process: run each load connection on the thread of the server it
    // loads, rather than all of them on a thread of the bench's own.
    bool load_on_herd_threads = false;
};

struct bench_result {
    std::uint64_t requests = 0;
    std::uint64_t errors = 0;  // refusals, closed connections, timeouts
    double seconds = 0;
    double latency_p50_ms = 0, latency_p99_ms = 0, latency_max_ms = 0;
    std::uint64_t probes = 0;
    double farthest_p50_ms = 0, farthest_max_ms = 0;  // from the probe's IAMAT write
    // Watched in this process only: from the origin taking the update (as `herd sim` measures
    // propagation: 0 at the origin).
    double spread_p50_ms = 0, spread_max_ms = 0;
    std::string origin, farthest;
    // How the farthest server's delay was taken: "applied" (watched at the server, in this
    // process) or "WHATSAT" (asked there; includes a client round trip to that server).
    std::string farthest_method;
};

// Runs the load against the servers of `cfg` (which must be running) and returns the figures.
// With `in_process` (the herd running in this process), the probe watches the farthest server
// apply each update, unless o.poll_farthest.
bench_result run_bench(const core::herd_config& cfg, const bench_options& o, running_servers* in_process = nullptr);

void print_bench(const bench_result& r, const bench_options& o, std::ostream& out);

}  // namespace herd::net
