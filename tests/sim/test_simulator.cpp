// sim/simulator: the deterministic host, its network model and what it records.
#include <catch2/catch.hpp>

#include <algorithm>
#include <limits>
#include <map>
#include <set>

#include "sim/random.hpp"
#include "sim/simulator.hpp"
#include "tests/sim/sim_support.hpp"

using namespace herd;
using nlohmann::json;

namespace {

sim::run_result run(const sim::scenario& s, std::optional<std::uint64_t> seed = std::nullopt) {
    return sim::run(s, seed, {});
}

json constant(double ms) { return {{"dist", "constant"}, {"value", ms}}; }

json iamat(double at_ms, int server, const std::string& client) {
    return {{"at_ms", at_ms}, {"server", "S" + std::to_string(server)},
            {"line", "IAMAT " + client + " +34.068930-118.445127 {now}"}};
}

// The row of `update` at `server` in the recording, if it reached it.
std::optional<core::nanos> applied_at(const sim::run_result& r, std::uint32_t update, std::uint32_t server) {
    for (const auto& a : r.applied)
        if (a.update == update && a.server == server) return a.applied;
    return std::nullopt;
}

}  // namespace

TEST_CASE("the same scenario and seed give identical bytes twice in one process", "[sim]") {
    const auto s = sim::load_scenario(HERD_SOURCE_DIR "/scenarios/seed.json");
    const auto a = run(s);
    const auto b = run(s);
    CHECK(sim::summary_json(s, a) == sim::summary_json(s, b));
    CHECK(sim::timeline_jsonl(a) == sim::timeline_jsonl(b));
    CHECK(sim::updates_csv(s, a) == sim::updates_csv(s, b));
    CHECK(a.events > 100);
}

TEST_CASE("another seed changes the timeline where latencies are random", "[sim]") {
    const auto s = sim::load_scenario(HERD_SOURCE_DIR "/scenarios/seed.json");
    CHECK(sim::timeline_jsonl(run(s, 1)) != sim::timeline_jsonl(run(s, 2)));
}

TEST_CASE("with constant latencies every server applies an update at its shortest-path latency",
          "[sim]") {
    for (std::uint64_t seed = 1; seed <= 60; ++seed) {
        sim::rng r(seed);
        const int n = 3 + static_cast<int>(r.below(18));
        const auto edges = testing::random_connected_graph(r, n);
        json links = json::array();
        std::map<std::pair<int, int>, core::nanos> latency;
        for (auto [a, b] : edges) {
            const double ms = 1 + static_cast<double>(r.below(50000)) / 1000.0;  // 1.000–50.999 ms
            links.push_back({{"between", {"S" + std::to_string(a), "S" + std::to_string(b)}},
                             {"latency_ms", constant(ms)}});
            latency[{a, b}] = latency[{b, a}] = static_cast<core::nanos>(std::llround(ms * 1e6));
        }
        json servers = json::array();
        for (int i = 0; i < n; ++i) servers.push_back({{"name", "S" + std::to_string(i)}});
        const int origin = static_cast<int>(r.below(n));
        const json j = {{"name", "paths"}, {"topology", {{"servers", servers}, {"links", links}}},
                        {"workload", {iamat(5, origin, "c")}}};
        const auto s = testing::scenario_from(j);
        const auto result = run(s);

        // Dijkstra (dense; n is small).
        std::vector<core::nanos> dist(n, std::numeric_limits<core::nanos>::max());
        std::vector<bool> done(n, false);
        dist[origin] = 0;
        for (int k = 0; k < n; ++k) {
            int u = -1;
            for (int v = 0; v < n; ++v)
                if (!done[v] && (u < 0 || dist[v] < dist[u])) u = v;
            done[u] = true;
            for (const auto& [e, w] : latency)
                if (e.first == u && dist[u] + w < dist[e.second]) dist[e.second] = dist[u] + w;
        }
        INFO("seed " << seed << ", " << n << " servers, " << edges.size() << " links, origin S" << origin);
        REQUIRE(result.updates.size() == 1);
        for (int v = 0; v < n; ++v) {
            INFO("server S" << v);
            const auto t = applied_at(result, 0, static_cast<std::uint32_t>(v));
            REQUIRE(t);
            CHECK(*t == 5'000'000 + dist[v]);
        }
        // The forwarding rule's prediction: 2|E| - (n - 1) FLOODs for one update.
        CHECK(result.messages_by_kind.at("FLOOD").sent == 2 * edges.size() - (n - 1));
        CHECK(result.converged);
    }
}

TEST_CASE("FIFO links never reorder and non-FIFO links do", "[sim]") {
    auto order_inversions = [](bool fifo) {
        json w = json::array();
        for (int i = 0; i < 200; ++i) w.push_back(iamat(i * 0.5, 0, "c" + std::to_string(i)));
        const json j = {{"name", "fifo"},
                        {"topology", testing::herd_json(2, {{0, 1}},
                                                        {{"latency_ms", {{"dist", "uniform"}, {"min", 1}, {"max", 100}}},
                                                         {"fifo", fifo}})},
                        {"workload", w}};
        const auto r = run(testing::scenario_from(j));
        REQUIRE(r.updates.size() == 200);
        int inversions = 0;
        core::nanos last = 0;
        for (std::uint32_t u = 0; u < 200; ++u) {
            const auto t = applied_at(r, u, 1);
            REQUIRE(t);
            if (*t < last) ++inversions;
            last = std::max(last, *t);
        }
        return inversions;
    };
    CHECK(order_inversions(true) == 0);
    CHECK(order_inversions(false) > 10);
}

TEST_CASE("duplicated messages never change a store twice", "[sim]") {
    json w = json::array();
    for (int i = 0; i < 50; ++i) w.push_back(iamat(i, i % 4, "c" + std::to_string(i % 7)));
    const json j = {{"name", "dup"},
                    {"topology", testing::herd_json(4, {{0, 1}, {1, 2}, {2, 3}, {3, 0}},
                                                    {{"latency_ms", {{"dist", "exponential"}, {"mean", 5}}},
                                                     {"duplicate", 1.0}, {"fifo", false}})},
                    {"workload", w}};
    const auto r = run(testing::scenario_from(j));
    CHECK(r.messages_by_kind.at("FLOOD").duplicated == r.messages_by_kind.at("FLOOD").sent);
    std::set<std::pair<std::uint32_t, std::uint32_t>> seen;
    for (const auto& a : r.applied) CHECK(seen.insert({a.update, a.server}).second);
    CHECK(r.converged);
}

TEST_CASE("with loss and no repair a run can end diverged, and the summary says so", "[sim]") {
    json w = json::array();
    for (int i = 0; i < 100; ++i) w.push_back(iamat(i, i % 5, "c" + std::to_string(i)));
    const json j = {{"name", "lossy"},
                    {"topology", testing::herd_json(5, {{0, 1}, {1, 2}, {2, 3}, {3, 4}},
                                                    {{"latency_ms", constant(3)}, {"loss", 0.3}})},
                    {"workload", w},
                    {"expect", {{"converged", true}}}};
    const auto s = testing::scenario_from(j);
    const auto r = run(s);
    CHECK_FALSE(r.converged);
    CHECK(r.stale_final > 0);
    CHECK(r.drops_by_reason.at("loss") > 0);
    CHECK_FALSE(r.ok);
    const auto summary = json::parse(sim::summary_json(s, r));
    CHECK(summary["converged"] == false);
    CHECK(summary["expectations"][0]["ok"] == false);
}

TEST_CASE("a crashed server fails its requests and loses what was in flight to it", "[sim]") {
    const json j = {{"name", "crash"},
                    {"topology", testing::herd_json(3, {{0, 1}, {1, 2}}, {{"latency_ms", constant(10)}})},
                    {"workload", {iamat(0, 0, "a"), iamat(25, 1, "b"), iamat(30, 0, "c")}},
                    {"faults", {{{"at_ms", 22}, {"crash", "S1"}, {"lose_state", true}},
                                {{"at_ms", 40}, {"restart", "S1"}}}}};
    const auto r = run(testing::scenario_from(j));
    CHECK(r.client_failures == 1);                 // "b" went to S1 while it was down
    CHECK(r.updates.size() == 2);
    CHECK(applied_at(r, 0, 2));                    // "a" passed S1 before the crash at 22 ms
    CHECK_FALSE(applied_at(r, 1, 1));              // "c" was sent while the link was down
    CHECK_FALSE(r.converged);                      // S1 came back empty; no repair
}

TEST_CASE("a crash that keeps state restarts with the store it had", "[sim]") {
    const json j = {{"name", "crash-keep"},
                    {"topology", testing::herd_json(2, {{0, 1}}, {{"latency_ms", constant(1)}})},
                    {"workload", {iamat(0, 0, "a")}},
                    {"faults", {{{"at_ms", 10}, {"crash", "S1"}}, {{"at_ms", 20}, {"restart", "S1"}}}}};
    CHECK(run(testing::scenario_from(j)).converged);
}

TEST_CASE("a one-way partition drops only messages leaving the first group", "[sim]") {
    const json j = {{"name", "one-way"},
                    {"topology", testing::herd_json(2, {{0, 1}}, {{"latency_ms", constant(1)}})},
                    {"workload", {iamat(10, 0, "a"), iamat(10, 1, "b")}},
                    {"faults", {{{"at_ms", 0}, {"partition", {{"S0"}, {"S1"}}}, {"one_way", true}}}}};
    const auto r = run(testing::scenario_from(j));
    CHECK(r.drops_by_reason.at("partition") == 1);
    CHECK_FALSE(applied_at(r, 0, 1));  // S0's update never reaches S1
    CHECK(applied_at(r, 1, 0));        // S1's reaches S0
}

TEST_CASE("a processing delay makes a server a serial queue", "[sim]") {
    json w = json::array();
    for (int i = 0; i < 10; ++i) w.push_back(iamat(0, 0, "c" + std::to_string(i)));
    json j = {{"name", "busy"},
              {"topology", testing::herd_json(2, {{0, 1}}, {{"latency_ms", constant(1)}})},
              {"workload", w}};
    j["topology"]["servers"][0]["processing_ms"] = constant(2);
    const auto r = run(testing::scenario_from(j));
    REQUIRE(r.updates.size() == 10);
    // Ten requests at t=0 are handled 2 ms apart.
    for (std::uint32_t u = 0; u < 10; ++u) CHECK(r.updates[u].issued == (u + 1) * 2'000'000);
}

TEST_CASE("{now} becomes the virtual time as a client writes it", "[sim]") {
    const json j = {{"name", "now"},
                    {"start_time", "1520023934.5"},
                    {"topology", testing::herd_json(1, {}, json::object())},
                    {"workload", {{{"at_ms", 250.000001}, {"server", "S0"}, {"line", "IAMAT k +1+1 {now}"},
                                   {"expect_reply", "^AT S0 \\+0\\.000000000 k \\+1\\+1 1520023934\\.750000001\\n$"}}}}};
    const auto r = run(testing::scenario_from(j));
    REQUIRE(r.expectations.size() == 1);
    CHECK(r.expectations[0].ok);
}

TEST_CASE("updates.csv has one row per update and server with exact millisecond times", "[sim]") {
    const json j = {{"name", "csv"},
                    {"topology", testing::herd_json(2, {{0, 1}}, {{"latency_ms", constant(1.5)}})},
                    {"workload", {iamat(2, 0, "k,1")}}};
    const auto s = testing::scenario_from(j);
    CHECK(sim::updates_csv(s, run(s)) ==
          "update,client,origin,server,issued_ms,applied_ms\n"
          "0,\"k,1\",S0,S0,2.000000,2.000000\n"
          "0,\"k,1\",S0,S1,2.000000,3.500000\n");
}

TEST_CASE("messages in flight on a link that goes down are lost", "[sim]") {
    const json j = {{"name", "in-flight"},
                    {"topology", testing::herd_json(2, {{0, 1}}, {{"latency_ms", constant(10)}})},
                    {"workload", {iamat(0, 0, "a")}},
                    {"faults", {{{"at_ms", 5}, {"link_down", {"S0", "S1"}}}, {{"at_ms", 6}, {"link_up", {"S0", "S1"}}}}}};
    const auto r = run(testing::scenario_from(j));
    CHECK(r.drops_by_reason.at("in_flight") == 1);
    CHECK_FALSE(applied_at(r, 0, 1));
}

TEST_CASE("a repeat settled when sent is lost to a break at the very time it arrives, as its message is", "[sim]") {
    // A triangle, 10 ms links: S1 and S2 take S0's update at 10 ms and forward it to each other
    // (the second of the two forwards goes to a server that holds it: a settled repeat), both
    // due at 20 ms, when S1-S2 breaks. The fault was queued first, so it comes first: both lost.
    for (const bool traced : {false, true}) {
        const json j = {{"name", "tie"},
                        {"topology", testing::herd_json(3, {{0, 1}, {0, 2}, {1, 2}}, {{"latency_ms", constant(10)}})},
                        {"workload", {iamat(0, 0, "a")}},
                        {"faults", {{{"at_ms", 20}, {"link_down", {"S1", "S2"}}}}},
                        {"timeline", {{"messages", traced}}}};
        const auto r = run(testing::scenario_from(j));
        INFO("messages traced: " << traced);
        CHECK(r.messages_by_kind.at("FLOOD").sent == 4);
        CHECK(r.messages_by_kind.at("FLOOD").delivered == 2);
        CHECK(r.drops_by_reason.at("in_flight") == 2);
        CHECK(r.end == 20'000'000);
    }
}

TEST_CASE("after a link comes back, new messages do not wait behind the lost ones", "[sim]") {
    const json j = {{"name", "fifo-after-down"},
                    {"topology", testing::herd_json(2, {{0, 1}}, {{"latency_ms", constant(5000)}})},
                    {"workload", {iamat(0, 0, "a"), iamat(30, 0, "b")}},
                    {"faults", {{{"at_ms", 10}, {"link_down", {"S0", "S1"}}},
                                {{"at_ms", 20}, {"link_up", {"S0", "S1"}}},
                                {{"at_ms", 25}, {"set_link", {{"between", {"S0", "S1"}}, {"latency_ms", constant(5)}}}}}}};
    const auto r = run(testing::scenario_from(j));
    CHECK_FALSE(applied_at(r, 0, 1));                // lost with the link
    CHECK(applied_at(r, 1, 1) == 35'000'000);        // not held until 5,000 ms
}

TEST_CASE("a set_link changes only the fields it gives, so a second one keeps the first", "[sim]") {
    // Loss 1 at 100 ms, then only the latency at 200 ms: the link must still lose everything.
    const json j = {{"name", "set-link-twice"},
                    {"topology", testing::herd_json(2, {{0, 1}}, {{"latency_ms", constant(1)}})},
                    {"workload", {iamat(50, 0, "a"), iamat(150, 0, "b"), iamat(250, 0, "c")}},
                    {"faults", {{{"at_ms", 100}, {"set_link", {{"between", {"S0", "S1"}}, {"loss", 1}}}},
                                {{"at_ms", 200}, {"set_link", {{"between", {"S1", "S0"}}, {"latency_ms", constant(5)}}}}}}};
    const auto r = run(testing::scenario_from(j));
    CHECK(applied_at(r, 0, 1) == 51'000'000);
    CHECK_FALSE(applied_at(r, 1, 1));
    CHECK_FALSE(applied_at(r, 2, 1));  // lost too: the loss of 1 stayed
    CHECK(r.drops_by_reason.at("loss") == 2);
}

TEST_CASE("a link or a server marked up false starts down until a link_up or a restart", "[sim]") {
    // S0 - S1 - S2, the first link down from the start, S2 down from the start.
    json topo = testing::herd_json(3, {{0, 1}, {1, 2}}, {{"latency_ms", constant(1)}});
    topo["links"][0]["up"] = false;
    topo["servers"][2]["up"] = false;
    const json j = {{"name", "start-down"},
                    {"topology", topo},
                    {"workload", {iamat(10, 0, "a"), iamat(10, 2, "b"), iamat(10, 1, "c"), iamat(300, 0, "d")}},
                    {"faults", {{{"at_ms", 100}, {"link_up", {"S0", "S1"}}}, {{"at_ms", 200}, {"restart", "S2"}}}}};
    const auto r = run(testing::scenario_from(j));
    REQUIRE(r.updates.size() == 3);           // b failed: S2 was down
    CHECK(r.client_failures == 1);
    CHECK_FALSE(applied_at(r, 0, 1));         // a stayed at S0: its link was down when it flooded
    CHECK(applied_at(r, 1, 0) == std::nullopt);  // c did not cross the down link either
    CHECK_FALSE(applied_at(r, 1, 2));         // nor reach S2 before it started
    CHECK(applied_at(r, 2, 1) == 301'000'000);  // d, after the link came up
    CHECK(applied_at(r, 2, 2) == 302'000'000);  // and S2, restarted, has it
    CHECK(r.converged == false);              // a and c never crossed (no repair)
    // The timeline starts with both, so the plots draw the downtime from 0.
    const std::string timeline = sim::timeline_jsonl(r);
    CHECK(timeline.find(R"("path":"$.topology.servers[2]","fault":"crash","server":"S2")") != std::string::npos);
    CHECK(timeline.find(R"("path":"$.topology.links[0]","fault":"link_down","between":["S0","S1"])") != std::string::npos);
    CHECK(timeline.find(R"("event":"link","a":"S0","b":"S1","state":"down")") != std::string::npos);
    CHECK(timeline.find(R"("event":"link","a":"S1","b":"S2","state":"down")") != std::string::npos);
}

TEST_CASE("records travel between nodes but FLOOD bytes count the lines they stand for", "[sim]") {
    // A triangle and a tail: S0 floods to S1 and S2, which forward to each other (repeats, which
    // the simulator does not hand to the node) and S2 to S3.
    json j = {{"name", "bytes"},
              {"start_time", "1520023934.000000000"},
              {"topology", testing::herd_json(4, {{0, 1}, {0, 2}, {1, 2}, {2, 3}}, {{"latency_ms", constant(10)}})},
              {"workload", {iamat(0, 0, "kiwi"), iamat(100, 3, "kiwi")}}};
    const auto r = run(testing::scenario_from(j));
    const std::string first = "FLOOD S0 +0.000000000 kiwi +34.068930-118.445127 1520023934.000000000\n";
    const std::string second = "FLOOD S3 +0.000000000 kiwi +34.068930-118.445127 1520023934.100000000\n";
    // 2|E| - (n - 1) FLOODs an update: 5 each.
    const auto& floods = r.messages_by_kind.at("FLOOD");
    CHECK(floods.sent == 10);
    CHECK(floods.delivered == 10);
    CHECK(floods.bytes == 5 * first.size() + 5 * second.size());
    CHECK(r.updates.size() == 2);
    CHECK(r.applied.size() == 8);  // each update at every server once, repeats changing nothing
    CHECK(r.converged);
}

TEST_CASE("a FLOOD repeat skipped by the simulator leaves every store as the node would", "[sim]") {
    // Random graphs, random latencies, duplicates and reordering: every server ends with the
    // newest record of every client, applied once per update.
    for (std::uint64_t seed = 1; seed <= 10; ++seed) {
        sim::rng r(seed);
        const int n = 3 + static_cast<int>(r.below(12));
        json j = {{"name", "repeats"},
                  {"seed", seed},
                  {"topology", testing::herd_json(n, testing::random_connected_graph(r, n),
                                                  {{"latency_ms", {{"dist", "uniform"}, {"min", 1}, {"max", 30}}},
                                                   {"duplicate", 0.2}, {"fifo", false}})},
                  {"workload", {{{"generate", {{"clients", 20}, {"rate_per_s", 200}, {"from_ms", 0}, {"to_ms", 2000}}}}}}};
        const auto res = run(testing::scenario_from(j));
        CHECK(res.converged);
        CHECK(res.stale_final == 0);
        std::set<std::pair<std::uint32_t, std::uint32_t>> seen;
        for (const auto& a : res.applied) CHECK(seen.insert({a.update, a.server}).second);
    }
}

TEST_CASE("the timeline escapes quotes, backslashes and control characters wherever they fall in a line", "[sim]") {
    // Special characters at every offset from 0 to 40, so that each falls in every position of
    // the sixteen- and eight-byte blocks the writer scans, among plain ASCII and UTF-8.
    const std::string specials[] = {"\"", "\\", "\x01", "\x1f", "\t", "\xc3\xa9"};  // and each reply ends in \n
    json lines = json::array();
    std::vector<std::string> sent;
    for (int at = 0; at <= 40; ++at)
        for (const auto& sp : specials) {
            const std::string line = "WHATSAT " + std::string(static_cast<std::size_t>(at), 'x') + sp + "abcdefghijklmnop";
            sent.push_back(line);
            lines.push_back({{"at_ms", static_cast<double>(sent.size())}, {"server", "S0"}, {"line", line}});
        }
    json j = {{"name", "escapes"},
              {"topology", testing::herd_json(2, {{0, 1}}, {{"latency_ms", constant(1)}})},
              {"workload", lines}};
    const auto r = run(testing::scenario_from(j));
    std::vector<std::string> requests, replies;
    for (const auto& l : r.timeline) {
        const auto e = json::parse(l);  // every line is valid JSON
        if (e["event"] == "request") requests.push_back(e["line"].get<std::string>());
        if (e["event"] == "reply") replies.push_back(e["reply"].get<std::string>());
    }
    CHECK(requests == sent);
    REQUIRE(replies.size() == sent.size());
    for (std::size_t i = 0; i < sent.size(); ++i) CHECK(replies[i].starts_with("? "));
}
