#pragma once
// Helpers for simulator tests: scenarios built as JSON in code.

#include <nlohmann/json.hpp>
#include <string>

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

inline sim::scenario scenario_from(const nlohmann::json& j) {
    return sim::parse_scenario(j.dump(), "test.json");
}

}  // namespace herd::testing
