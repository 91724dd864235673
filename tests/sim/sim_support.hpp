#pragma once
// Helpers for simulator tests: scenarios built as JSON in code.

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "sim/random.hpp"

#include "sim/scenario.hpp"
#include "sim/simulator.hpp"

namespace herd::testing {

// A herd of `n` servers named S0..S{n-1} with the given links and defaults.
inline nlohmann::json herd_json(int n, const std::vector<std::pair<int, int>>& links,
                                const nlohmann::json& link_defaults) {
    nlohmann::json servers = nlohmann::json::array();
    for (int i = 0; i < n; ++i) servers.push_back({{"name", "S" + std::to_string(i)}});
    nlohmann::json ls = nlohmann::json::array();
    for (auto [a, b] : links)
        ls.push_back({{"between", {"S" + std::to_string(a), "S" + std::to_string(b)}}});
    return {{"servers", servers}, {"links", ls}, {"link_defaults", link_defaults}};
}

// A random connected graph on n servers: a random spanning tree plus up to n random extra
// edges, each (a, b) with a < b, sorted.
inline std::vector<std::pair<int, int>> random_connected_graph(sim::rng& r, int n) {
    std::set<std::pair<int, int>> edges;
    for (int v = 1; v < n; ++v) edges.insert({static_cast<int>(r.below(v)), v});
    for (int extra = static_cast<int>(r.below(n)); extra > 0; --extra) {
        const int a = static_cast<int>(r.below(n)), b = static_cast<int>(r.below(n));
        if (a != b) edges.insert(std::minmax(a, b));
    }
    return {edges.begin(), edges.end()};
}

inline sim::scenario scenario_from(const nlohmann::json& j) {
    return sim::parse_scenario(j.dump(), "test.json");
}

}  // namespace herd::testing
