// Repair in the simulator: plain flooding ends diverged where repair converges, repair traffic
// is counted apart from floods, and a property over 200 random fault schedules.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <iostream>
#include <set>

#include "sim/random.hpp"
#include "sim/simulator.hpp"
#include "tests/sim/sim_support.hpp"

using namespace herd;
using nlohmann::json;

namespace {

sim::run_result run(const sim::scenario& s) { return sim::run(s, std::nullopt, {}); }

std::string server(std::uint64_t i) { return "S" + std::to_string(i); }

// A random connected herd of 4 to 12 servers, clients moving everywhere for 2 s while
// partitions, link failures, crashes (some losing their store) and lossy links come and go,
// then at `heal_ms` a final heal: partitions healed, links up, crashed servers restarted, loss
// back to 0, and each link that lost messages while up (lossy, or across a one-way partition)
// reconnected: over TCP, a connection that loses data is one that broke.
json random_faults(std::uint64_t seed, const std::string& repair, double heal_ms) {
    sim::rng r(seed);
    const int n = 4 + static_cast<int>(r.below(9));
    const auto links = testing::random_connected_graph(r, n);
    json faults = json::array();
    std::set<std::pair<int, int>> lossy;
    for (int k = 1 + static_cast<int>(r.below(4)); k > 0; --k) {
        const double at = static_cast<double>(r.below(2000));
        const auto [a, b] = links[r.below(links.size())];
        switch (r.below(4)) {
            case 0: {  // a partition into two random groups
                json g0 = json::array(), g1 = json::array();
                std::vector<int> side(n);
                for (int s = 0; s < n; ++s) (((side[s] = static_cast<int>(r.below(2)))) ? g0 : g1).push_back(server(s));
                if (g0.empty() || g1.empty()) break;
                const bool one_way = r.below(4) == 0;
                faults.push_back({{"at_ms", at}, {"partition", json::array({g0, g1})}, {"one_way", one_way}});
                // Messages vanish on a one-way cut link that stays up, as on a lossy one.
                if (one_way)
                    for (auto [x, y] : links)
                        if (side[x] != side[y]) lossy.insert({x, y});
                break;
            }
            case 1:
                faults.push_back({{"at_ms", at}, {"link_down", {server(a), server(b)}}});
                break;
            case 2:
                faults.push_back({{"at_ms", at}, {"crash", server(r.below(n))}, {"lose_state", r.below(2) == 0}});
                break;
            case 3:
                faults.push_back({{"at_ms", at}, {"set_link", {{"between", {server(a), server(b)}}, {"loss", 0.05 + 0.25 * r.uniform01()}}}});
                lossy.insert({a, b});
                break;
        }
    }
    faults.push_back({{"at_ms", heal_ms}, {"heal", true}});
    for (int s = 0; s < n; ++s) faults.push_back({{"at_ms", heal_ms}, {"restart", server(s)}});
    for (auto [a, b] : links) faults.push_back({{"at_ms", heal_ms}, {"link_up", {server(a), server(b)}}});
    for (auto [a, b] : lossy) {
        faults.push_back({{"at_ms", heal_ms}, {"set_link", {{"between", {server(a), server(b)}}, {"loss", 0}}}});
        faults.push_back({{"at_ms", heal_ms}, {"link_down", {server(a), server(b)}}});
        faults.push_back({{"at_ms", heal_ms}, {"link_up", {server(a), server(b)}}});
    }
    return {{"name", "random-faults-" + std::to_string(seed)},
            {"seed", seed},
            {"topology", testing::herd_json(n, links,
                                            {{"latency_ms", {{"dist", "uniform"}, {"min", 1}, {"max", 20}}},
                                             {"fifo", r.below(2) == 0},
                                             {"duplicate", r.below(2) ? 0.0 : 0.05}})},
            {"protocol", {{"repair", repair}}},
            {"workload", {{{"generate", {{"clients", 20}, {"rate_per_s", 200}, {"from_ms", 0}, {"to_ms", 2000}}}}}},
            {"faults", faults},
            {"timeline", {{"messages", false}}}};
}

json two_sides(const std::string& repair) {
    // S0 - S1 - S2 - S3 in a line; S1-S2 is cut while clients move at both ends.
    return {{"name", "two-sides"},
            {"topology", testing::herd_json(4, {{0, 1}, {1, 2}, {2, 3}}, {{"latency_ms", {{"dist", "constant"}, {"value", 5}}}})},
            {"protocol", {{"repair", repair}}},
            {"workload",
             {{{"at_ms", 20}, {"server", "S0"}, {"line", "IAMAT a +1+1 {now}"}},
              {{"at_ms", 30}, {"server", "S3"}, {"line", "IAMAT b +1+1 {now}"}},
              {{"at_ms", 40}, {"server", "S3"}, {"line", "IAMAT a +2+2 {now}"}}}},
            {"faults", {{{"at_ms", 10}, {"link_down", {"S1", "S2"}}}, {{"at_ms", 100}, {"link_up", {"S1", "S2"}}}}}};
}

}  // namespace

TEST_CASE("updates on both sides of a cut link stay apart without repair and meet with it", "[sim]") {
    const auto none = run(testing::scenario_from(two_sides("none")));
    CHECK_FALSE(none.converged);
    CHECK(none.messages_by_kind.count("DIGEST") == 0);
    const auto repaired = run(testing::scenario_from(two_sides("on_connect")));
    CHECK(repaired.converged);
    // The link comes back at 100 ms: a DIGEST each way (5 ms), REPAIRs (5 ms), then the floods
    // on to S0 and S3 (5 ms).
    REQUIRE(repaired.converged_at);
    CHECK(*repaired.converged_at == 115'000'000);
}

TEST_CASE("repair messages and bytes are counted apart from floods", "[sim]") {
    const auto s = testing::scenario_from(two_sides("on_connect"));
    const auto r = run(s);
    const auto& digests = r.messages_by_kind.at("DIGEST");
    const auto& repairs = r.messages_by_kind.at("REPAIR");
    // Every link's ends send a DIGEST when it comes up: 3 links at the start, 1 again at 100 ms.
    CHECK(digests.sent == 8);
    // One bucket each way: S1 sends its (older) a, S2 its (newer) a and b.
    CHECK(repairs.sent == 3);
    CHECK(repairs.bytes > 2 * 30);
    const auto summary = json::parse(sim::summary_json(s, r));
    CHECK(summary["repair"] == "on_connect");
    CHECK(summary["repair_traffic"]["messages"] == digests.sent + repairs.sent);
    CHECK(summary["repair_traffic"]["bytes"] == digests.bytes + repairs.bytes);
    CHECK(summary["messages"]["FLOOD"]["bytes"] > 0);
    // messages_per_update counts FLOODs only.
    CHECK(summary["messages_per_update"] == static_cast<double>(r.messages_by_kind.at("FLOOD").sent) / 3.0);
}

TEST_CASE("periodic repair mends a lost flood and its timers stop so the run ends", "[sim]") {
    json j = {{"name", "periodic"},
              {"topology", testing::herd_json(2, {{0, 1}}, {{"latency_ms", {{"dist", "constant"}, {"value", 5}}}, {"loss", 1.0}})},
              {"protocol", {{"repair", "periodic"}, {"repair_interval_ms", 100}}},
              {"workload", {{{"at_ms", 10}, {"server", "S0"}, {"line", "IAMAT a +1+1 {now}"}}}},
              {"faults", {{{"at_ms", 150}, {"set_link", {{"between", {"S0", "S1"}}, {"loss", 0}}}}}}};
    const auto s = testing::scenario_from(j);
    CHECK(s.repair_until == 1'150'000'000);  // 10 intervals after the last fault
    const auto r = run(s);
    CHECK(r.converged);
    // Timers at 100, 200 ms...: the round at 200 ms is the first after the loss stops.
    REQUIRE(r.converged_at);
    CHECK(*r.converged_at == 210'000'000);
    CHECK(r.end <= s.repair_until + 10'000'000);
    const auto again = run(s);
    CHECK(sim::timeline_jsonl(again) == sim::timeline_jsonl(r));
}

TEST_CASE("repair on connect and a final heal converge after random partitions, crashes and losses",
          "[sim]") {
    constexpr double heal_ms = 2500;
    core::nanos worst = 0;
    std::uint64_t worst_seed = 0, diverged_without = 0;
    for (std::uint64_t seed = 1; seed <= 200; ++seed) {
        const auto r = run(testing::scenario_from(random_faults(seed, "on_connect", heal_ms)));
        INFO("reproduce: seed " << seed);
        if (std::getenv("HERD_DUMP_SEED") && std::to_string(seed) == std::getenv("HERD_DUMP_SEED"))
            std::cout << random_faults(seed, "on_connect", heal_ms).dump(1) << "\n";
        REQUIRE(r.converged);
        REQUIRE(r.converged_at);
        const core::nanos after = std::max<core::nanos>(0, *r.converged_at - static_cast<core::nanos>(heal_ms * 1e6));
        if (after > worst) {
            worst = after;
            worst_seed = seed;
        }
        diverged_without += run(testing::scenario_from(random_faults(seed, "none", heal_ms))).converged ? 0 : 1;
    }
    // Plain flooding fails on many of the same schedules: the property is not vacuous.
    CHECK(diverged_without > 50);
    std::cout << "repair on connect: 200 random fault schedules converged; worst time to converge after the final heal "
              << sim::format_ms(worst) << " ms (seed " << worst_seed << "); plain flooding diverged on "
              << diverged_without << " of them\n";
}

TEST_CASE("repeats settled when sent count as their messages would, through random breaks and crashes", "[sim]") {
    // A run that traces every message settles no repeat (each is a real message, delivered or
    // lost in its turn): its counts, times and stores are the reference for the same run untraced.
    // With constant 10 ms latencies, faults (at whole milliseconds) often fall at the very time
    // a repeat arrives.
    std::uint64_t lost_in_flight = 0;
    for (std::uint64_t seed = 1; seed <= 100; ++seed) {
        for (const char* repair : {"none", "on_connect"}) {
            json j = random_faults(seed, repair, 2500);
            if (seed % 2 == 0) j["topology"]["link_defaults"]["latency_ms"] = {{"dist", "constant"}, {"value", 10}};
            const auto settled = testing::scenario_from(j);
            j["timeline"]["messages"] = true;
            const auto traced = testing::scenario_from(j);
            const auto a = run(settled), b = run(traced);
            INFO("reproduce: seed " << seed << ", repair " << repair);
            REQUIRE(sim::summary_json(settled, a) == sim::summary_json(traced, b));
            REQUIRE(sim::updates_csv(settled, a) == sim::updates_csv(traced, b));
            REQUIRE(a.end == b.end);
            if (const auto it = a.drops_by_reason.find("in_flight"); it != a.drops_by_reason.end()) lost_in_flight += it->second;
        }
    }
    CHECK(lost_in_flight > 100);
}

TEST_CASE("in a run where no link breaks, a FLOOD due after another of its update counts as its message would", "[sim]") {
    // No link_down, partition or crash: nothing in flight is lost, so a FLOOD that arrives after
    // one of the same update to the same server is a repeat, settled when sent. The traced run
    // (every message real) is the reference. Latencies that tie (constant), reorder (not FIFO),
    // and servers with a serial queue (never settled) are all drawn; so are links and servers
    // that start down and come up later (their only breaks are at time 0).
    std::uint64_t settled_behind = 0;
    for (std::uint64_t seed = 1; seed <= 60; ++seed) {
        sim::rng r(seed * 7919);
        const int n = 4 + static_cast<int>(r.below(17));
        const auto links = testing::random_connected_graph(r, n);
        const json latencies[] = {{{"dist", "constant"}, {"value", 10}},
                                  {{"dist", "uniform"}, {"min", 1}, {"max", 20}},
                                  {{"dist", "exponential"}, {"mean", 5}},
                                  {{"dist", "lognormal"}, {"median", 5}, {"sigma", 0.8}}};
        json defaults = {{"latency_ms", latencies[r.below(4)]},
                         {"fifo", r.below(4) != 0},
                         {"duplicate", r.below(2) ? 0.0 : 0.05},
                         {"loss", r.below(2) ? 0.0 : 0.05}};
        json topology = testing::herd_json(n, links, defaults);
        json faults = json::array();
        for (int s = 0; s < n; ++s) {
            if (r.below(5) == 0) topology["servers"][s]["processing_ms"] = {{"dist", "uniform"}, {"min", 0.1}, {"max", 2}};
            if (r.below(8) == 0) {
                topology["servers"][s]["up"] = false;
                faults.push_back({{"at_ms", static_cast<double>(r.below(800))}, {"restart", server(s)}});
            }
        }
        for (std::size_t i = 0; i < links.size(); ++i) {
            const auto [a, b] = links[i];
            if (r.below(8) == 0) {
                topology["links"][i]["up"] = false;
                faults.push_back({{"at_ms", static_cast<double>(r.below(800))}, {"link_up", {server(a), server(b)}}});
            }
            if (r.below(4) == 0)
                faults.push_back({{"at_ms", static_cast<double>(r.below(1000))},
                                  {"set_link", {{"between", {server(a), server(b)}}, {"latency_ms", latencies[r.below(4)]}}}});
        }
        json j = {{"name", "quiet-" + std::to_string(seed)},
                  {"seed", seed},
                  {"topology", topology},
                  {"workload", {{{"generate", {{"clients", 30}, {"rate_per_s", 400}, {"from_ms", 0}, {"to_ms", 1000}}}}}},
                  {"faults", faults},
                  {"timeline", {{"messages", false}}}};
        const auto settled = testing::scenario_from(j);
        j["timeline"]["messages"] = true;
        const auto traced = testing::scenario_from(j);
        const auto a = run(settled), b = run(traced);
        INFO("reproduce: seed " << seed);
        REQUIRE(sim::summary_json(settled, a) == sim::summary_json(traced, b));
        REQUIRE(sim::updates_csv(settled, a) == sim::updates_csv(traced, b));
        REQUIRE(a.end == b.end);
        settled_behind += a.settled_behind;
        CHECK(b.settled_behind == 0);
    }
    // The runs took that path, many times.
    CHECK(settled_behind > 10'000);
}
