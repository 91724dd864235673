#pragma once
// The shape of a herd: its servers and the links between them (DESIGN §1). Loading one from a
// config file belongs to the hosts; this is the plain data both of them hand to core::node.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace herd::core {

struct server_info {
    std::string name;
    std::string host = "127.0.0.1";
    std::uint16_t port = 0;
    std::uint16_t peer_port = 0;  // 0: herd traffic shares the client port
};

struct topology {
    std::vector<server_info> servers;                      // in config order
    std::vector<std::pair<std::string, std::string>> links;  // unordered pairs

    // The server named `name`, or nullptr.
    const server_info* find(std::string_view name) const;
    // The neighbours of `name`, sorted by name, each once.
    std::vector<std::string> neighbours(std::string_view name) const;
};

// The seed's five-server herd: Goloman 11670, Hands 11671, Holiday 11672, Welsh 11673,
// Wilkes 11674; links Goloman–Hands, Goloman–Holiday, Goloman–Wilkes, Hands–Wilkes,
// Holiday–Welsh, Holiday–Wilkes.
topology seed_topology();

}  // namespace herd::core
