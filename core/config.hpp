#pragma once
// The herd config (DESIGN §1): any JSON object with a `topology`, and optionally `places` and
// `net`. A scenario file is one (the simulator's own fields are allowed and left to it), so
// `herd serve Welsh --config scenarios/seed.json` runs the herd the scenario simulates.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/json_reader.hpp"
#include "core/node.hpp"
#include "core/topology.hpp"

namespace herd::core {

struct places_config {
    std::string provider = "offline";  // "offline" or "google"
    std::string data;                  // offline: a data file, resolved against the config's folder; empty: the embedded set
    std::string endpoint = "https://maps.googleapis.com/maps/api/place/nearbysearch/json";
    std::string key_env = "GOOGLE_PLACES_API_KEY";  // google: the environment variable holding the key
    double timeout_ms = 5000;
};

// Limits of the real host (the simulator ignores them).
struct net_config {
    std::uint32_t connections_max = 10'000;           // client connections per server
    double idle_timeout_ms = 300'000;                 // a silent client connection is closed
    std::uint64_t peer_queue_bytes_max = 16 << 20;    // unsent herd traffic per link
    double redial_min_ms = 50;                        // peer redial backoff, doubled to the max
    double redial_max_ms = 5000;
    // The environment variable holding the herd's shared secret; empty: peers are trusted by
    // the name they give (DESIGN §6).
    std::string secret_env;
};

struct herd_config {
    std::string file;  // "" for the built-in seed herd
    topology herd;
    places_config places;
    net_config net;
    node_options protocol;
};

// The seed's herd (seed_topology) with the offline places.
herd_config seed_config();

// Hooks for the fields a caller adds to servers and links (the simulator's latency, loss...).
struct topology_hooks {
    std::vector<const char*> server_keys;
    std::vector<const char*> link_keys;
    std::function<void(const json_reader& server, std::size_t index)> on_server;
    std::function<void(const json_reader& link, std::size_t index)> on_link;
};

// The fields of a server and of a link that only the simulator reads (sim/scenario.cpp); the
// real host's config accepts and ignores them, so that a scenario is a config.
extern const std::vector<const char*> simulator_server_keys;
extern const std::vector<const char*> simulator_link_keys;

// Reads `topology` ({servers, links, link_defaults}; link_defaults is the caller's): unique
// server names without white space, ports, links between two different known servers, each pair
// once. Throws config_error.
topology read_topology(const json_reader& t, const topology_hooks& hooks = {});

// Reads `places`; `more_keys` are fields the caller reads itself.
places_config read_places(const json_reader& p, const std::vector<const char*>& more_keys = {});

// Reads `protocol` ({repair, repair_interval_ms}); `more_keys` are fields the caller reads.
node_options read_protocol(const json_reader& p, const std::vector<const char*>& more_keys = {});

// Reads a herd config from parsed JSON; `file` names it in errors and anchors relative paths.
// The simulator's top-level fields (workload, faults...) are allowed and not checked here.
herd_config read_config(const nlohmann::json& root, const std::string& file);

}  // namespace herd::core
