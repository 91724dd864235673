// What the core costs a line, as the real host feeds it: one node (Holiday of the seed herd, three
// neighbours) takes client IAMATs and FLOOD lines, each FLOOD first as news and then, from another
// neighbour, as a repeat (how most FLOODs reach a server). The lines are made first; only the
// node's work is timed. Prints nanoseconds a line for each
// kind; `valgrind --tool=callgrind build/bench/core_bench --quick` counts instructions exactly.
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "core/node.hpp"
#include "core/topology.hpp"

using namespace herd;

namespace {

std::string client_time(long long s, long long ns) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%lld.%09lld", s, ns);
    return buf;
}

struct lines {
    std::vector<std::string> iamat, flood;
};

// `n` of each, for 64 clients (as `herd bench` has), each line newer than the client's last:
// IAMATs, and FLOODs taken at Goloman for 64 other clients.
constexpr int clients = 64;
lines make_lines(int n) {
    lines out;
    for (int i = 0; i < n; ++i) {
        const std::string t = client_time(1'700'000'000 + i / 1000, (i % 1000) * 1'000'000LL + 123);
        const std::string c = std::to_string(i % clients);
        out.iamat.push_back("IAMAT bench" + c + " +34.068930-118.445127 " + t);
        out.flood.push_back("FLOOD Goloman +0.000123456 other" + c + " +34.068930-118.445127 " + t);
    }
    return out;
}

template <class F>
double ns_per(int n, F&& f) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    return std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count() / n;
}

}  // namespace

int main(int argc, char** argv) {
    const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
    if (argc > 1 && !quick) {
        std::fprintf(stderr, "usage: core_bench [--quick]\n");
        return 2;
    }
    const int n = quick ? 20'000 : 200'000;
    const lines l = make_lines(n);
    // As the real host runs it (net/server.cpp): with compact sends, a FLOOD is one effect for all
    // its targets, whose line the host makes once.
    core::node_options options;
    options.compact_sends = true;
    core::node node("Holiday", core::seed_topology(), {}, options);
    std::vector<core::effect> fx;
    for (const char* p : {"Goloman", "Welsh", "Wilkes"}) node.peer_up(p, 0);
    node.poll_effects(fx);
    const core::nanos now = 1'700'000'100'000'000'000;
    const double iamat = ns_per(n, [&] {
        for (int i = 0; i < n; ++i) {
            node.client_line(1, l.iamat[static_cast<std::size_t>(i)], now);
            node.poll_effects(fx);
        }
    });
    const double news = ns_per(n, [&] {
        for (int i = 0; i < n; ++i) {
            node.peer_line("Goloman", l.flood[static_cast<std::size_t>(i)], now);
            node.poll_effects(fx);
        }
    });
    // The records the node holds now, each from another neighbour again and again.
    const double repeats = ns_per(n, [&] {
        for (int i = 0; i < n; ++i) {
            node.peer_line("Wilkes", l.flood[static_cast<std::size_t>(n - clients + i % clients)], now);
            node.poll_effects(fx);
        }
    });
    if (node.records().size() != 2 * clients) {
        std::fprintf(stderr, "core_bench: the node holds %zu records, not %d\n", node.records().size(), 2 * clients);
        return 1;
    }
    std::printf("%d lines of each kind for %d clients, one node with three neighbours\n", n, clients);
    std::printf("  IAMAT (answered, flooded to 3)      %7.0f ns a line\n", iamat);
    std::printf("  FLOOD, news (stored, flooded to 2)  %7.0f ns a line\n", news);
    std::printf("  FLOOD, repeat (changes nothing)     %7.0f ns a line\n", repeats);
    return 0;
}
