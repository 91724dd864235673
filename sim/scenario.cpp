#include "sim/scenario.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

namespace herd::sim {
namespace {

using json = nlohmann::json;

constexpr double ms_max = 1e9;  // about 11.5 days of virtual time: plenty, and no overflow

using node_ref = core::json_reader;

core::nanos ms_to_ns(double ms) { return static_cast<core::nanos>(std::llround(ms * 1e6)); }

distribution read_distribution(const node_ref& n) {
    if (!n.value().is_object()) n.fail("expected an object such as {\"dist\": \"constant\", \"value\": 10}");
    if (!n.has("dist")) n.fail("missing field dist");
    const std::string d = n["dist"].string();
    using k = distribution::kind;
    distribution out;
    auto two = [&](k kind, const char* x, const char* y, double xmin, double ymin) {
        n.object({"dist", x, y});
        if (!n.has(x)) n.fail(std::string("missing field ") + x);
        if (!n.has(y)) n.fail(std::string("missing field ") + y);
        out = {kind, n[x].number(xmin, ms_max), n[y].number(ymin, ms_max)};
    };
    if (d == "constant") {
        n.object({"dist", "value"});
        if (!n.has("value")) n.fail("missing field value");
        out = {k::constant, n["value"].number(0, ms_max), 0};
    } else if (d == "uniform") {
        two(k::uniform, "min", "max", 0, 0);
        if (out.b < out.a) n["max"].fail("max is less than min");
    } else if (d == "normal") {
        two(k::normal, "mean", "stddev", 0, 0);
    } else if (d == "exponential") {
        n.object({"dist", "mean"});
        if (!n.has("mean")) n.fail("missing field mean");
        out = {k::exponential, n["mean"].number(0, ms_max), 0};
    } else if (d == "lognormal") {
        two(k::lognormal, "median", "sigma", 0, 0);
        if (out.b > 10) n["sigma"].fail("expected a number in [0, 10]");
    } else if (d == "pareto") {
        two(k::pareto, "min", "shape", 0, 0);
        if (out.b <= 0) n["shape"].fail("expected a number greater than 0");
    } else {
        n["dist"].fail("unknown distribution \"" + d +
                       "\" (constant, uniform, normal, exponential, lognormal, pareto)");
    }
    return out;
}

// The parameters a link, link_defaults or set_link gives (link_change::apply puts them over
// others).
link_change read_link_change(const node_ref& n) {
    link_change c;
    if (n.has("latency_ms")) c.latency_ms = read_distribution(n["latency_ms"]);
    if (n.has("loss")) c.loss = n["loss"].number(0, 1);
    if (n.has("duplicate")) c.duplicate = n["duplicate"].number(0, 1);
    if (n.has("fifo")) c.fifo = n["fifo"].boolean();
    return c;
}

class loader {
public:
    loader(const json& root, const std::string& file) : root_(root, "$", file), file_(file) {}

    scenario load() {
        root_.object({"name", "about", "seed", "start_time", "topology", "protocol", "places", "workload",
                      "faults", "expect", "timeline", "limits", "net"});
        scenario s;
        s.file = file_;
        if (!root_.has("name")) root_.fail("missing field name");
        s.name = root_["name"].string();
        if (s.name.empty() || s.name.size() > 100) root_["name"].fail("expected 1 to 100 characters");
        if (root_.has("about")) {
            s.about = root_["about"].string();
            if (s.about.size() > 1000) root_["about"].fail("expected at most 1000 characters");
        }
        if (root_.has("seed")) s.seed = root_["seed"].integer(0, UINT64_MAX);
        if (root_.has("start_time")) {
            const auto t = core::parse_time(root_["start_time"].string());
            if (!t) root_["start_time"].fail("expected POSIX seconds such as \"1520023934.000000000\"");
            if (*t > 4'000'000'000'000'000'000) root_["start_time"].fail("expected a time before the year 2096");
            s.start_time = *t;
        }
        if (!root_.has("topology")) root_.fail("missing field topology");
        read_topology(root_["topology"], s);
        std::optional<double> repair_until_ms;
        if (root_.has("protocol")) {
            const auto p = root_["protocol"];
            s.protocol = core::read_protocol(p, {"repair_until_ms"});
            if (p.has("repair_until_ms")) {
                if (s.protocol.repair != core::repair_mode::periodic)
                    p["repair_until_ms"].fail("only with \"repair\": \"periodic\"");
                repair_until_ms = p["repair_until_ms"].number(0, ms_max);
            }
        }
        if (root_.has("places")) {
            // The simulator always answers from the offline index (over `data` when given),
            // whatever provider the real herd would use.
            const auto p = root_["places"];
            s.places_data = core::read_places(p, {"delay_ms"}).data;
            if (p.has("delay_ms")) s.places_delay_ms = read_distribution(p["delay_ms"]);
        }
        if (root_.has("net")) core::read_config(root_.value(), file_);  // checks the real host's limits
        if (root_.has("workload")) read_workload(root_["workload"], s);
        if (root_.has("faults")) read_faults(root_["faults"], s);
        if (root_.has("expect")) read_expect(root_["expect"], s);
        if (root_.has("timeline")) {
            const auto t = root_["timeline"];
            t.object({"messages", "sample_ms"});
            if (t.has("messages")) s.timeline_messages = t["messages"].boolean();
            if (t.has("sample_ms")) s.sample_ms = t["sample_ms"].number(1, ms_max);
        }
        if (root_.has("limits")) {
            const auto l = root_["limits"];
            l.object({"events_max"});
            if (l.has("events_max")) s.events_max = l["events_max"].integer(1, 10'000'000'000ULL);
        }
        if (repair_until_ms) {
            s.repair_until = ms_to_ns(*repair_until_ms);
        } else {
            core::nanos last = 0;
            for (const auto& l : s.lines) last = std::max(last, l.at);
            for (const auto& g : s.generators) last = std::max(last, g.to);
            for (const auto& f : s.faults) last = std::max(last, f.at);
            s.repair_until = last + 10 * s.protocol.repair_interval;
        }
        return s;
    }

private:
    void read_topology(const node_ref& t, scenario& s) {
        link_params defaults;
        bool defaults_up = true;
        if (t.has("link_defaults")) {
            const auto d = t["link_defaults"];
            d.object({"latency_ms", "loss", "duplicate", "fifo", "up"});
            read_link_change(d).apply(defaults);
            if (d.has("up")) defaults_up = d["up"].boolean();
        }
        core::topology_hooks hooks;
        hooks.server_keys = core::simulator_server_keys;
        hooks.link_keys = core::simulator_link_keys;
        hooks.on_server = [&](const node_ref& v, std::size_t) {
            server_spec spec{v["name"].string(), std::nullopt, 0};
            if (v.has("processing_ms")) spec.processing_ms = read_distribution(v["processing_ms"]);
            if (v.has("clock_offset_ms")) spec.clock_offset_ms = v["clock_offset_ms"].number(-ms_max, ms_max);
            if (v.has("up")) spec.up = v["up"].boolean();
            names_.insert(spec.name);
            s.servers.push_back(std::move(spec));
        };
        hooks.on_link = [&](const node_ref& l, std::size_t) {
            const auto p = l["between"];
            link_spec spec{p.at(0).string(), p.at(1).string(), defaults, defaults_up};
            read_link_change(l).apply(spec.params);
            if (l.has("up")) spec.up = l["up"].boolean();
            s.links.push_back(std::move(spec));
        };
        s.herd = core::read_topology(t, hooks);
    }

    std::pair<std::string, std::string> read_pair(const node_ref& p, const scenario& s) {
        if (p.array() != 2) p.fail("expected two server names");
        const std::string a = read_server(p.at(0), s);
        const std::string b = read_server(p.at(1), s);
        if (a == b) p.fail("a link joins two different servers");
        return {a, b};
    }

    std::string read_server(const node_ref& v, const scenario&) {
        std::string name = v.string();
        if (!names_.count(name)) v.fail("unknown server " + name);
        return name;
    }

    const link_spec& find_link(const node_ref& p, const scenario& s, const std::string& a,
                               const std::string& b) {
        for (const auto& l : s.links)
            if ((l.a == a && l.b == b) || (l.a == b && l.b == a)) return l;
        p.fail("no link between " + a + " and " + b);
    }

    void read_workload(const node_ref& w, scenario& s) {
        const std::size_t n = w.array();
        if (n > 1'000'000) w.fail("at most 1000000 entries");
        for (std::size_t i = 0; i < n; ++i) {
            const auto e = w.at(i);
            if (e.value().is_object() && e.has("generate")) {
                e.object({"generate"});
                s.generators.push_back(read_generator(e["generate"], s));
                continue;
            }
            e.object({"at_ms", "server", "line", "expect_reply"});
            for (const char* f : {"at_ms", "server", "line"})
                if (!e.has(f)) e.fail(std::string("missing field ") + f);
            timed_line t;
            t.at = ms_to_ns(e["at_ms"].number(0, ms_max));
            t.server = read_server(e["server"], s);
            t.line = e["line"].string();
            if (t.line.size() > core::line_bytes_max) e["line"].fail("longer than 64 KiB");
            if (t.line.find('\n') != std::string::npos) e["line"].fail("a line may not contain \\n");
            if (e.has("expect_reply")) {
                t.expect_reply = e["expect_reply"].string();
                try {
                    std::regex check(*t.expect_reply);
                } catch (const std::regex_error& x) {
                    e["expect_reply"].fail(std::string("invalid regular expression (") + x.what() + ")");
                }
            }
            s.lines.push_back(std::move(t));
        }
    }

    generator read_generator(const node_ref& g, const scenario& s) {
        g.object({"clients", "rate_per_s", "from_ms", "to_ms", "whatsat_fraction", "move_km",
                  "center", "area_km", "radius_km", "limit", "servers"});
        generator out;
        for (const char* f : {"clients", "rate_per_s", "from_ms", "to_ms"})
            if (!g.has(f)) g.fail(std::string("missing field ") + f);
        out.clients = static_cast<std::uint32_t>(g["clients"].integer(1, 1'000'000));
        out.rate_per_s = g["rate_per_s"].number(0.001, 1e7);
        out.from = ms_to_ns(g["from_ms"].number(0, ms_max));
        out.to = ms_to_ns(g["to_ms"].number(0, ms_max));
        if (out.to < out.from) g["to_ms"].fail("to_ms is before from_ms");
        if (g.has("whatsat_fraction")) out.whatsat_fraction = g["whatsat_fraction"].number(0, 1);
        if (g.has("move_km")) out.move_km = g["move_km"].number(0, 20000);
        if (g.has("center")) {
            const auto loc = core::parse_location(g["center"].string());
            if (!loc) g["center"].fail("expected an ISO 6709 location such as \"+34.068930-118.445127\"");
            out.center_lat = loc->lat;
            out.center_lon = loc->lon;
        }
        if (g.has("area_km")) out.area_km = g["area_km"].number(0, 20000);
        if (g.has("radius_km")) out.radius_km = g["radius_km"].number(0.001, 50);
        if (g.has("limit")) out.limit = static_cast<int>(g["limit"].integer(1, 20));
        if (g.has("servers")) {
            const auto v = g["servers"];
            for (std::size_t i = 0, n = v.array(1); i < n; ++i) out.servers.push_back(read_server(v.at(i), s));
        }
        return out;
    }

    void read_faults(const node_ref& f, scenario& s) {
        const std::size_t n = f.array();
        if (n > 100'000) f.fail("at most 100000 faults");
        for (std::size_t i = 0; i < n; ++i) {
            const auto e = f.at(i);
            e.object({"at_ms", "link_down", "link_up", "partition", "one_way", "heal", "crash",
                      "lose_state", "restart", "set_link"});
            if (!e.has("at_ms")) e.fail("missing field at_ms");
            fault x;
            x.at = ms_to_ns(e["at_ms"].number(0, ms_max));
            x.json_path = e.path();
            int kinds = 0;
            if (e.has("link_down")) {
                ++kinds;
                x.k = fault::kind::link_down;
                std::tie(x.a, x.b) = read_pair(e["link_down"], s);
                find_link(e["link_down"], s, x.a, x.b);
            }
            if (e.has("link_up")) {
                ++kinds;
                x.k = fault::kind::link_up;
                std::tie(x.a, x.b) = read_pair(e["link_up"], s);
                find_link(e["link_up"], s, x.a, x.b);
            }
            if (e.has("partition")) {
                ++kinds;
                x.k = fault::kind::partition;
                const auto p = e["partition"];
                std::set<std::string> used;
                for (std::size_t g = 0, ng = p.array(2); g < ng; ++g) {
                    const auto group = p.at(g);
                    std::vector<std::string> names;
                    for (std::size_t j = 0, nj = group.array(1); j < nj; ++j) {
                        names.push_back(read_server(group.at(j), s));
                        if (!used.insert(names.back()).second)
                            group.at(j).fail(names.back() + " is in two groups");
                    }
                    x.groups.push_back(std::move(names));
                }
                if (e.has("one_way")) x.one_way = e["one_way"].boolean();
            } else if (e.has("one_way")) {
                e["one_way"].fail("one_way goes with partition");
            }
            if (e.has("heal")) {
                ++kinds;
                x.k = fault::kind::heal;
                if (!e["heal"].boolean()) e["heal"].fail("expected true");
            }
            if (e.has("crash")) {
                ++kinds;
                x.k = fault::kind::crash;
                x.a = read_server(e["crash"], s);
                if (e.has("lose_state")) x.lose_state = e["lose_state"].boolean();
            } else if (e.has("lose_state")) {
                e["lose_state"].fail("lose_state goes with crash");
            }
            if (e.has("restart")) {
                ++kinds;
                x.k = fault::kind::restart;
                x.a = read_server(e["restart"], s);
            }
            if (e.has("set_link")) {
                ++kinds;
                x.k = fault::kind::set_link;
                const auto l = e["set_link"];
                l.object({"between", "latency_ms", "loss", "duplicate", "fifo"});
                if (!l.has("between")) l.fail("missing field between");
                std::tie(x.a, x.b) = read_pair(l["between"], s);
                find_link(l["between"], s, x.a, x.b);
                x.change = read_link_change(l);
            }
            if (kinds != 1)
                e.fail("expected exactly one of link_down, link_up, partition, heal, crash, restart, set_link");
            s.faults.push_back(std::move(x));
        }
    }

    void read_expect(const node_ref& e, scenario& s) {
        e.object({"converged", "converged_by_ms", "delay_ms_p50_max", "delay_ms_p90_max",
                  "delay_ms_p99_max", "delay_ms_max", "messages_per_update_max",
                  "client_failures_max"});
        auto& x = s.expect;
        if (e.has("converged")) x.converged = e["converged"].boolean();
        if (e.has("converged_by_ms")) x.converged_by_ms = e["converged_by_ms"].number(0, ms_max);
        if (e.has("delay_ms_p50_max")) x.delay_ms_p50_max = e["delay_ms_p50_max"].number(0, ms_max);
        if (e.has("delay_ms_p90_max")) x.delay_ms_p90_max = e["delay_ms_p90_max"].number(0, ms_max);
        if (e.has("delay_ms_p99_max")) x.delay_ms_p99_max = e["delay_ms_p99_max"].number(0, ms_max);
        if (e.has("delay_ms_max")) x.delay_ms_max = e["delay_ms_max"].number(0, ms_max);
        if (e.has("messages_per_update_max"))
            x.messages_per_update_max = e["messages_per_update_max"].number(0, 1e12);
        if (e.has("client_failures_max"))
            x.client_failures_max = e["client_failures_max"].integer(0, UINT64_MAX);
    }

    node_ref root_;
    const std::string& file_;
    std::set<std::string, std::less<>> names_;  // the servers read so far
};

}  // namespace

scenario parse_scenario(std::string_view text, const std::string& file) {
    const json root = core::parse_json(text, file);
    return loader(root, file).load();
}

scenario load_scenario(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw scenario_error(path.string() + ": cannot open the file");
    std::ostringstream ss;
    ss << in.rdbuf();
    if (ss.str().size() > 64 * 1024 * 1024) throw scenario_error(path.string() + ": $: larger than 64 MiB");
    return parse_scenario(ss.str(), path.string());
}

}  // namespace herd::sim
