#include "core/config.hpp"

#include <filesystem>
#include <set>

namespace herd::core {
namespace {

// Fields of a scenario that only the simulator reads.
const std::vector<const char*> simulator_keys = {"name",   "about", "seed",   "start_time", "workload",
                                                 "faults", "expect", "timeline",   "limits"};

std::string resolve(const std::string& path, const std::string& against_file) {
    const std::filesystem::path p(path);
    if (p.is_absolute() || against_file.empty()) return p.string();
    return (std::filesystem::path(against_file).parent_path() / p).string();
}

}  // namespace

const std::vector<const char*> simulator_server_keys = {"processing_ms", "clock_offset_ms", "up"};
const std::vector<const char*> simulator_link_keys = {"latency_ms", "loss", "duplicate", "fifo", "up"};

herd_config seed_config() {
    herd_config c;
    c.herd = seed_topology();
    return c;
}

topology read_topology(const json_reader& t, const topology_hooks& hooks) {
    t.object({"servers", "links", "link_defaults"});
    if (!t.has("servers")) t.fail("missing field servers");
    topology out;
    std::set<std::string, std::less<>> names;
    const auto servers = t["servers"];
    const std::size_t n = servers.array(1);
    if (n > 10'000) servers.fail("at most 10000 servers");
    for (std::size_t i = 0; i < n; ++i) {
        const auto v = servers.at(i);
        v.object({"name", "host", "port", "peer_port"}, hooks.server_keys);
        if (!v.has("name")) v.fail("missing field name");
        server_info info;
        info.name = v["name"].string();
        if (info.name.empty() || info.name.size() > 64 ||
            info.name.find_first_of(" \t\r\n\v\f") != std::string::npos)
            v["name"].fail("expected 1 to 64 characters without white space");
        if (!names.insert(info.name).second) v["name"].fail("duplicate server name " + info.name);
        if (v.has("host")) info.host = v["host"].string();
        if (v.has("port")) info.port = static_cast<std::uint16_t>(v["port"].integer(1, 65535));
        if (v.has("peer_port"))
            info.peer_port = static_cast<std::uint16_t>(v["peer_port"].integer(1, 65535));
        if (info.peer_port != 0 && info.peer_port == info.port)
            v["peer_port"].fail("the peer port must differ from the client port");
        out.servers.push_back(std::move(info));
        if (hooks.on_server) hooks.on_server(v, i);
    }
    if (t.has("links")) {
        const auto links = t["links"];
        std::set<std::pair<std::string, std::string>> seen;
        for (std::size_t i = 0, m = links.array(); i < m; ++i) {
            const auto l = links.at(i);
            l.object({"between"}, hooks.link_keys);
            if (!l.has("between")) l.fail("missing field between");
            const auto p = l["between"];
            if (p.array() != 2) p.fail("expected two server names");
            std::string ends[2];
            for (std::size_t k = 0; k < 2; ++k) {
                ends[k] = p.at(k).string();
                if (!names.count(ends[k])) p.at(k).fail("unknown server " + ends[k]);
            }
            if (ends[0] == ends[1]) p.fail("a link joins two different servers");
            if (!seen.insert(std::minmax(ends[0], ends[1])).second)
                p.fail("duplicate link " + ends[0] + "–" + ends[1]);
            out.links.emplace_back(ends[0], ends[1]);
            if (hooks.on_link) hooks.on_link(l, i);
        }
    }
    return out;
}

places_config read_places(const json_reader& p, const std::vector<const char*>& more_keys) {
    p.object({"provider", "data", "endpoint", "key_env", "timeout_ms"}, more_keys);
    places_config c;
    if (p.has("provider")) {
        c.provider = p["provider"].string();
        if (c.provider != "offline" && c.provider != "google")
            p["provider"].fail("expected \"offline\" or \"google\"");
    }
    if (p.has("data")) {
        c.data = p["data"].string();
        if (c.data.empty()) p["data"].fail("expected a file name");
        c.data = resolve(c.data, p.file());
    }
    if (p.has("endpoint")) {
        c.endpoint = p["endpoint"].string();
        if (!c.endpoint.starts_with("http://") && !c.endpoint.starts_with("https://"))
            p["endpoint"].fail("expected an http:// or https:// URL");
    }
    if (p.has("key_env")) {
        c.key_env = p["key_env"].string();
        if (c.key_env.empty()) p["key_env"].fail("expected the name of an environment variable");
    }
    if (p.has("timeout_ms")) c.timeout_ms = p["timeout_ms"].number(1, 600'000);
    return c;
}

node_options read_protocol(const json_reader& p, const std::vector<const char*>& more_keys) {
    p.object({"repair", "repair_interval_ms"}, more_keys);
    node_options o;
    if (p.has("repair")) {
        const auto mode = parse_repair_mode(p["repair"].string());
        if (!mode) p["repair"].fail("expected \"none\", \"on_connect\" or \"periodic\"");
        o.repair = *mode;
    }
    if (p.has("repair_interval_ms")) {
        if (o.repair != repair_mode::periodic)
            p["repair_interval_ms"].fail("only with \"repair\": \"periodic\"");
        o.repair_interval = static_cast<nanos>(p["repair_interval_ms"].number(1, 86'400'000) * 1e6);
    }
    return o;
}

herd_config read_config(const nlohmann::json& root, const std::string& file) {
    const json_reader r(root, "$", file);
    r.object({"topology", "places", "net", "protocol"}, simulator_keys);
    if (!r.has("topology")) r.fail("missing field topology");
    herd_config c;
    c.file = file;
    c.herd = read_topology(r["topology"], {simulator_server_keys, simulator_link_keys, {}, {}});
    if (r.has("places")) c.places = read_places(r["places"], {"delay_ms"});
    if (r.has("protocol")) c.protocol = read_protocol(r["protocol"], {"repair_until_ms"});
    if (r.has("net")) {
        const auto n = r["net"];
        n.object({"connections_max", "idle_timeout_ms", "peer_queue_bytes_max", "redial_min_ms",
                  "redial_max_ms", "secret_env"});
        if (n.has("secret_env")) {
            c.net.secret_env = n["secret_env"].string();
            if (c.net.secret_env.empty()) n["secret_env"].fail("expected the name of an environment variable");
        }
        if (n.has("connections_max")) c.net.connections_max = static_cast<std::uint32_t>(n["connections_max"].integer(1, 1'000'000));
        if (n.has("idle_timeout_ms")) c.net.idle_timeout_ms = n["idle_timeout_ms"].number(1, 86'400'000);
        if (n.has("peer_queue_bytes_max")) c.net.peer_queue_bytes_max = n["peer_queue_bytes_max"].integer(1024, 1ULL << 34);
        if (n.has("redial_min_ms")) c.net.redial_min_ms = n["redial_min_ms"].number(1, 60'000);
        if (n.has("redial_max_ms")) c.net.redial_max_ms = n["redial_max_ms"].number(c.net.redial_min_ms, 600'000);
    }
    return c;
}

}  // namespace herd::core
