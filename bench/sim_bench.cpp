// Simulator throughput (a benchmark, not a test): events per second on one core, against a bare
// std::priority_queue of 24-byte events at the same depth, and the 1,000-server run.
//   build/bench/sim_bench [--quick]
//   build/bench/sim_bench [--quick] --write DIR   writes the two scenarios to DIR (for herd sim)
//   build/bench/sim_bench --run FILE...            runs scenario files alone (for perf, callgrind)
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <nlohmann/json.hpp>
#include <queue>
#include <set>
#include <vector>

#include "sim/random.hpp"
#include "sim/scenario.hpp"
#include "sim/simulator.hpp"

using namespace herd;
using clock_type = std::chrono::steady_clock;

namespace {

double seconds_since(clock_type::time_point t0) {
    return std::chrono::duration<double>(clock_type::now() - t0).count();
}

// The baseline: push/pop on a priority queue of 24-byte events kept at `depth`.
double bare_queue_events_per_s(std::size_t depth, std::size_t ops) {
    struct ev {
        std::int64_t t;
        std::uint64_t seq;
        std::uint64_t payload;
        bool operator>(const ev& o) const { return t != o.t ? t > o.t : seq > o.seq; }
    };
    static_assert(sizeof(ev) == 24);
    std::priority_queue<ev, std::vector<ev>, std::greater<>> q;
    sim::rng r(1);
    std::uint64_t seq = 0;
    for (std::size_t i = 0; i < depth; ++i) q.push({static_cast<std::int64_t>(r.below(1'000'000)), seq++, i});
    const auto t0 = clock_type::now();
    std::uint64_t sink = 0;
    for (std::size_t i = 0; i < ops; ++i) {
        const ev e = q.top();
        q.pop();
        sink += e.payload;
        q.push({e.t + static_cast<std::int64_t>(r.below(1'000'000)), seq++, e.payload});
    }
    const double s = seconds_since(t0);
    if (sink == 42) std::puts("");
    return static_cast<double>(ops) / s;
}

nlohmann::json random_graph(int n, int degree, std::uint64_t seed) {
    sim::rng r(seed);
    std::set<std::pair<int, int>> edges;
    for (int v = 1; v < n; ++v) edges.insert({static_cast<int>(r.below(v)), v});
    while (edges.size() < static_cast<std::size_t>(n * degree / 2)) {
        const int a = static_cast<int>(r.below(n)), b = static_cast<int>(r.below(n));
        if (a != b) edges.insert(std::minmax(a, b));
    }
    nlohmann::json servers = nlohmann::json::array(), links = nlohmann::json::array();
    for (int i = 0; i < n; ++i) servers.push_back({{"name", "S" + std::to_string(i)}});
    for (auto [a, b] : edges) links.push_back({{"between", {"S" + std::to_string(a), "S" + std::to_string(b)}}});
    return {{"servers", servers}, {"links", links},
            {"link_defaults", {{"latency_ms", {{"dist", "uniform"}, {"min", 2}, {"max", 20}}}}}};
}

double cpu_seconds() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

// Wall time decides; CPU time is printed too, as the machine may be shared.
void report(const char* name, const sim::scenario& s) {
    const double cpu0 = cpu_seconds();
    const auto t0 = clock_type::now();
    const auto r = sim::run(s, std::nullopt, {});
    const double secs = seconds_since(t0);
    const double cpu = cpu_seconds() - cpu0;
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    // How deep the event queue was, on average, when an event left it; and the share of events
    // that never entered it (FLOODs settled when sent, docs/simulator.md).
    const double depth = r.queued_events ? static_cast<double>(r.queue_depth_sum) / static_cast<double>(r.queued_events) : 0;
    std::printf("%-34s %10llu events %8.2f s %8.2f M events/s (cpu %.2f s)  %zu updates  converged %s  peak RSS %.0f MB"
                "  mean queue depth %.0f  settled %.0f%%\n",
                name, static_cast<unsigned long long>(r.events), secs,
                static_cast<double>(r.events) / secs / 1e6, cpu, r.updates.size(), r.converged ? "yes" : "no",
                static_cast<double>(ru.ru_maxrss) / 1024, depth,
                r.events ? 100.0 * static_cast<double>(r.events - r.queued_events) / static_cast<double>(r.events) : 0.0);
    std::fflush(stdout);
}

// The seed herd under heavy load: 5,000 clients, 20,000 requests/s for 10 s of virtual time.
nlohmann::json seed_heavy(bool quick) {
    nlohmann::json seed = {
        {"name", "seed-heavy"},
        {"timeline", {{"messages", false}}},
        {"workload", {{{"generate", {{"clients", 5000}, {"rate_per_s", 20000}, {"from_ms", 0},
                                     {"to_ms", quick ? 1000 : 10000}}}}}}};
    seed["topology"] = {
        {"servers", {{{"name", "Goloman"}}, {{"name", "Hands"}}, {{"name", "Holiday"}}, {{"name", "Welsh"}}, {{"name", "Wilkes"}}}},
        {"links", {{{"between", {"Goloman", "Hands"}}}, {{"between", {"Goloman", "Holiday"}}}, {{"between", {"Goloman", "Wilkes"}}},
                   {{"between", {"Hands", "Wilkes"}}}, {{"between", {"Holiday", "Welsh"}}}, {{"between", {"Holiday", "Wilkes"}}}}},
        {"link_defaults", {{"latency_ms", {{"dist", "uniform"}, {"min", 5}, {"max", 15}}}}}};
    return seed;
}

// 1,000 servers, average degree 6, 10,000 updates (1,000 with quick).
nlohmann::json random_1000(bool quick) {
    return {{"name", "random-1000"},
            {"topology", random_graph(1000, 6, 2)},
            {"timeline", {{"messages", false}}},
            {"workload", {{{"generate", {{"clients", 10000}, {"rate_per_s", 1000}, {"from_ms", 0},
                                         {"to_ms", quick ? 1000 : 10000}}}}}}};
}

}  // namespace

int main(int argc, char** argv) {
    bool quick = false;
    const char* write_dir = nullptr;
    std::vector<const char*> files;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--quick") == 0) {
            quick = true;
        } else if (std::strcmp(argv[i], "--write") == 0 && i + 1 < argc) {
            write_dir = argv[++i];
        } else if (std::strcmp(argv[i], "--run") == 0 && i + 1 < argc) {
            while (i + 1 < argc) files.push_back(argv[++i]);
        } else {
            std::fprintf(stderr, "usage: sim_bench [--quick] [--write DIR | --run FILE...]\n");
            return 2;
        }
    }
    if (!files.empty()) {
        for (const char* f : files) report(f, sim::load_scenario(f));
        return 0;
    }
    if (write_dir) {
        for (const auto& [name, j] : {std::pair{"seed-heavy", seed_heavy(quick)}, std::pair{"random-1000", random_1000(quick)}}) {
            const std::string path = std::string(write_dir) + "/" + name + (quick ? "-quick" : "") + ".json";
            std::ofstream(path) << j.dump(1) << "\n";
            std::printf("%s\n", path.c_str());
        }
        return 0;
    }
    std::printf("bare std::priority_queue, 24-byte events, depth 4096: %.2f M events/s\n",
                bare_queue_events_per_s(4096, quick ? 2'000'000 : 20'000'000) / 1e6);
    report("seed herd, 20,000 requests/s", sim::parse_scenario(seed_heavy(quick).dump(), "seed-heavy"));
    report(quick ? "1,000 servers, ~1,000 updates" : "1,000 servers, ~10,000 updates",
           sim::parse_scenario(random_1000(quick).dump(), "random-1000"));
}
