#include "core/topology.hpp"

#include <algorithm>

namespace herd::core {

const server_info* topology::find(std::string_view name) const {
    for (const auto& s : servers)
        if (s.name == name) return &s;
    return nullptr;
}

std::vector<std::string> topology::neighbours(std::string_view name) const {
    std::vector<std::string> out;
    for (const auto& [a, b] : links) {
        if (a == name && b != name) out.push_back(b);
        if (b == name && a != name) out.push_back(a);
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

topology seed_topology() {
    topology t;
    std::uint16_t port = 11670;
    for (const char* name : {"Goloman", "Hands", "Holiday", "Welsh", "Wilkes"})
        t.servers.push_back({name, "127.0.0.1", port++, 0});
    t.links = {{"Goloman", "Hands"},  {"Goloman", "Holiday"}, {"Goloman", "Wilkes"},
               {"Hands", "Wilkes"},   {"Holiday", "Welsh"},   {"Holiday", "Wilkes"}};
    return t;
}

}  // namespace herd::core
