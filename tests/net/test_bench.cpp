// `herd bench` against a herd in this process: every request is counted, and the probe sees its
// updates reach the farthest server, whether the load runs on a thread of its own or on the
// herd's threads.
#include <catch2/catch.hpp>

#include "net/bench.hpp"
#include "net/herd.hpp"
#include "tests/net/net_support.hpp"

using namespace herd;

TEST_CASE("the bench counts every reply and watches its updates reach the farthest server", "[net]") {
    const bool on_herd_threads = GENERATE(false, true);
    INFO("load on the herd's threads: " << on_herd_threads);
    const auto cfg = testing::seed_config_on_free_ports();
    net::running_servers herd(cfg, {}, std::filesystem::path(), 2);
    std::vector<std::uint16_t> others;
    for (const auto& s : cfg.herd.servers)
        if (s.name != "Welsh") others.push_back(s.port);
    REQUIRE(testing::spread_everywhere(cfg.herd.find("Welsh")->port, "links-up", others, "AT Welsh"));

    net::bench_options o;
    o.connections = 8;
    o.seconds = 0.5;
    o.pipeline = 2;
    o.load_on_herd_threads = on_herd_threads;
    const auto r = net::run_bench(cfg, o, &herd);
    CHECK(r.errors == 0);
    CHECK(r.requests > 100);
    CHECK(r.requests % 2 == 0);  // whole batches: each connection waits for both replies
    CHECK(r.latency_p50_ms > 0);
    CHECK(r.latency_p50_ms <= r.latency_p99_ms);
    CHECK(r.latency_p99_ms <= r.latency_max_ms);
    CHECK(r.origin == "Goloman");
    CHECK(r.farthest == "Welsh");
    CHECK(r.farthest_method == "applied");
    CHECK(r.probes > 0);
    CHECK(r.spread_p50_ms > 0);
    CHECK(r.spread_p50_ms <= r.farthest_p50_ms);
}
