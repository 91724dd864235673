// sim/scenario: the loader refuses bad files with the file, the JSON path and the problem.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "sim/scenario.hpp"

using herd::sim::parse_scenario;
using herd::sim::scenario_error;

namespace {

const std::string base = R"({"name": "t", "topology": {"servers": [{"name": "A"}, {"name": "B"}],
  "links": [{"between": ["A", "B"]}]}})";

// `base` with `extra` spliced in as more top-level fields.
std::string with(const std::string& extra) { return base.substr(0, base.size() - 1) + ", " + extra + "}"; }

std::string error_of(const std::string& text) {
    try {
        parse_scenario(text, "x.json");
    } catch (const scenario_error& e) {
        return e.what();
    }
    return "no error";
}

}  // namespace

TEST_CASE("a minimal scenario loads with the documented defaults", "[sim]") {
    const auto s = parse_scenario(base, "x.json");
    CHECK(s.name == "t");
    CHECK(s.seed == 1);
    CHECK(s.herd.servers.size() == 2);
    REQUIRE(s.links.size() == 1);
    CHECK(s.links[0].params.latency_ms.a == 10);
    CHECK(s.links[0].params.fifo);
    CHECK(s.protocol.repair == herd::core::repair_mode::none);
}

TEST_CASE("periodic repair reads its interval and stops 10 intervals after the last event by default", "[sim]") {
    const auto s = parse_scenario(with(R"("protocol": {"repair": "periodic", "repair_interval_ms": 250},
        "faults": [{"at_ms": 3000, "crash": "A"}])"), "x.json");
    CHECK(s.protocol.repair == herd::core::repair_mode::periodic);
    CHECK(s.protocol.repair_interval == 250'000'000);
    CHECK(s.repair_until == 5'500'000'000);
    const auto t = parse_scenario(with(R"("protocol": {"repair": "periodic", "repair_until_ms": 100})"), "x.json");
    CHECK(t.repair_until == 100'000'000);
}

TEST_CASE("every bad field is reported with the file and its JSON path", "[sim]") {
    const std::pair<std::string, std::string> cases[] = {
        {"{", "x.json: $: malformed JSON"},
        {"[]", "x.json: $: expected an object"},
        {with(R"("colour": 1)"), "x.json: $.colour: unknown field"},
        {R"({"topology": {"servers": [{"name": "A"}]}})", "x.json: $: missing field name"},
        {with(R"("seed": -1)"), "x.json: $.seed: expected a non-negative integer"},
        {with(R"("seed": "7")"), "x.json: $.seed: expected a non-negative integer"},
        {with(R"("start_time": "1e9")"), "x.json: $.start_time: expected POSIX seconds"},
        {with(R"("faults": [{"at_ms": 1, "crash": "A"}, {"at_ms": "soon", "restart": "A"}])"),
         "x.json: $.faults[1].at_ms: expected a number"},
        {with(R"("faults": [{"at_ms": 1, "crash": "Z"}])"), "x.json: $.faults[0].crash: unknown server Z"},
        {with(R"("faults": [{"at_ms": 1}])"), "x.json: $.faults[0]: expected exactly one of"},
        {with(R"("faults": [{"at_ms": 1, "crash": "A", "restart": "A"}])"), "x.json: $.faults[0]: expected exactly one of"},
        {with(R"("faults": [{"at_ms": -5, "crash": "A"}])"), "x.json: $.faults[0].at_ms: expected a number in [0"},
        {with(R"("faults": [{"at_ms": 1, "partition": [["A"], ["A"]]}])"), "x.json: $.faults[0].partition[1][0]: A is in two groups"},
        {with(R"("faults": [{"at_ms": 1, "link_down": ["A", "A"]}])"), "x.json: $.faults[0].link_down: a link joins two different servers"},
        {with(R"("workload": [{"at_ms": 0, "server": "Q", "line": "IAMAT a +1+1 1"}])"), "x.json: $.workload[0].server: unknown server Q"},
        {with(R"("workload": [{"at_ms": 0, "server": "A"}])"), "x.json: $.workload[0]: missing field line"},
        {with(R"("workload": [{"generate": {"clients": 0, "rate_per_s": 1, "from_ms": 0, "to_ms": 1}}])"),
         "x.json: $.workload[0].generate.clients: expected an integer in [1, 1000000]"},
        {with(R"("workload": [{"generate": {"clients": 1, "rate_per_s": 1, "from_ms": 5, "to_ms": 1}}])"),
         "x.json: $.workload[0].generate.to_ms: to_ms is before from_ms"},
        {with(R"("expect": {"converged": "yes"})"), "x.json: $.expect.converged: expected true or false"},
        {with(R"("protocol": {"repair": "sometimes"})"), "x.json: $.protocol.repair: expected \"none\", \"on_connect\" or \"periodic\""},
        {with(R"("protocol": {"repair": "on_connect", "repair_interval_ms": 100})"),
         "x.json: $.protocol.repair_interval_ms: only with \"repair\": \"periodic\""},
        {with(R"("protocol": {"repair": "periodic", "repair_interval_ms": 0})"),
         "x.json: $.protocol.repair_interval_ms: expected a number in [1"},
        {R"({"name": "t", "topology": {"servers": [{"name": "A"}, {"name": "A"}]}})",
         "x.json: $.topology.servers[1].name: duplicate server name A"},
        {R"({"name": "t", "topology": {"servers": [{"name": "A"}], "links": [{"between": ["A", "B"]}]}})",
         "x.json: $.topology.links[0].between[1]: unknown server B"},
        {R"({"name": "t", "topology": {"servers": [{"name": "A"}, {"name": "B"}], "links": [{"between": ["A", "B"], "loss": 1.5}]}})",
         "x.json: $.topology.links[0].loss: expected a number in [0, 1]"},
        {R"({"name": "t", "topology": {"servers": [{"name": "A"}, {"name": "B"}], "links": [{"between": ["A", "B"], "latency_ms": {"dist": "zipf"}}]}})",
         "x.json: $.topology.links[0].latency_ms.dist: unknown distribution"},
        {R"({"name": "t", "topology": {"servers": [{"name": "A"}, {"name": "B"}], "links": [{"between": ["A", "B"], "latency_ms": {"dist": "uniform", "min": 5, "max": 1}}]}})",
         "x.json: $.topology.links[0].latency_ms.max: max is less than min"},
        {R"({"name": "t", "topology": {"servers": [{"name": "A"}, {"name": "B"}], "links": [{"between": ["A", "B"]}, {"between": ["B", "A"]}]}})",
         "x.json: $.topology.links[1].between: duplicate link"},
        {R"({"name": "t", "topology": {"servers": [{"name": "A B"}]}})", "x.json: $.topology.servers[0].name: expected 1 to 64 characters without white space"},
    };
    for (const auto& [text, expected] : cases) {
        INFO(text);
        const std::string got = error_of(text);
        CHECK(got.rfind(expected, 0) == 0);
        CHECK(got.find('\n') == std::string::npos);
    }
}

TEST_CASE("a missing scenario file is one clear error", "[sim]") {
    try {
        herd::sim::load_scenario("/nonexistent/dir/s.json");
        FAIL("no error");
    } catch (const scenario_error& e) {
        CHECK(std::string(e.what()) == "/nonexistent/dir/s.json: cannot open the file");
    }
}

TEST_CASE("every scenario shipped in scenarios/ loads", "[sim]") {
    std::size_t n = 0;
    for (const auto& e : std::filesystem::directory_iterator(HERD_SOURCE_DIR "/scenarios")) {
        if (e.path().extension() != ".json" || e.path().filename() == "schema.json") continue;
        INFO(e.path().string());
        CHECK_NOTHROW(herd::sim::load_scenario(e.path()));
        ++n;
    }
    CHECK(n >= 1);
}

namespace {
void collect_keys(const nlohmann::json& j, std::set<std::string>& out) {
    if (j.is_object())
        for (const auto& [k, v] : j.items()) {
            out.insert(k);
            collect_keys(v, out);
        }
    if (j.is_array())
        for (const auto& v : j) collect_keys(v, out);
}
}  // namespace

TEST_CASE("every field the shipped scenarios use is documented in schema.json", "[sim]") {
    std::ifstream schema_file(HERD_SOURCE_DIR "/scenarios/schema.json");
    const auto schema = nlohmann::json::parse(schema_file);
    std::set<std::string> documented;
    // Property names are the keys of every "properties" object in the schema.
    std::function<void(const nlohmann::json&)> walk = [&](const nlohmann::json& j) {
        if (j.is_object()) {
            if (j.contains("properties"))
                for (const auto& [k, v] : j["properties"].items()) documented.insert(k);
            for (const auto& [k, v] : j.items()) walk(v);
        } else if (j.is_array()) {
            for (const auto& v : j) walk(v);
        }
    };
    walk(schema);
    for (const auto& e : std::filesystem::directory_iterator(HERD_SOURCE_DIR "/scenarios")) {
        if (e.path().extension() != ".json" || e.path().filename() == "schema.json") continue;
        std::ifstream in(e.path());
        std::set<std::string> used;
        collect_keys(nlohmann::json::parse(in), used);
        for (const auto& k : used) {
            INFO(e.path().filename().string() << " uses " << k);
            CHECK(documented.count(k) == 1);
        }
    }
}
