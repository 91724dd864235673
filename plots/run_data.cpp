#include "plots/run_data.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <map>
#include <numeric>
#include <sstream>
#include <unordered_map>

#include "core/protocol.hpp"
#include "core/store.hpp"
#include "sim/scenario.hpp"

namespace herd::plots {
namespace {

std::string read_file(const std::filesystem::path& p) {
    std::ifstream f(p, std::ios::binary);
    if (!f) throw run_error(p.string() + ": cannot read (is this a run directory written by herd sim?)");
    std::ostringstream s;
    s << f.rdbuf();
    return std::move(s).str();
}

// Calls `each(line, number)` for every line of `text` (without its newline).
template <typename F>
void for_each_line(std::string_view text, F&& each) {
    std::size_t number = 0;
    while (!text.empty()) {
        const auto nl = text.find('\n');
        const auto line = text.substr(0, nl);
        each(line, ++number);
        if (nl == std::string_view::npos) break;
        text.remove_prefix(nl + 1);
    }
}

// The raw value of `"key":` in one of the simulator's timeline lines: a number's text, or a
// string's content still escaped. The simulator writes keys in a fixed order and escapes every
// quote inside strings, so the first `"key":` is the key itself.
std::optional<std::string_view> raw_field(std::string_view line, std::string_view key) {
    std::string pattern;
    pattern.reserve(key.size() + 3);
    pattern += '"';
    pattern += key;
    pattern += "\":";
    const auto at = line.find(pattern);
    if (at == std::string_view::npos) return std::nullopt;
    auto rest = line.substr(at + pattern.size());
    if (!rest.empty() && rest.front() == '"') {
        for (std::size_t i = 1; i < rest.size(); ++i) {
            if (rest[i] == '\\') {
                ++i;
            } else if (rest[i] == '"') {
                return rest.substr(1, i - 1);
            }
        }
        return std::nullopt;
    }
    const auto stop = rest.find_first_of(",}");
    return rest.substr(0, stop);
}

void put_utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xc0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xe0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
        out += static_cast<char>(0x80 | (cp & 0x3f));
    } else {
        out += static_cast<char>(0xf0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
        out += static_cast<char>(0x80 | (cp & 0x3f));
    }
}

// A JSON string's escaped content to its text.
std::string unescape(std::string_view s) {
    if (s.find('\\') == std::string_view::npos) return std::string(s);
    std::string out;
    out.reserve(s.size());
    auto hex4 = [&](std::size_t at) -> std::uint32_t {
        std::uint32_t v = 0;
        if (at + 4 > s.size()) return 0xfffd;
        for (std::size_t k = at; k < at + 4; ++k) {
            const char c = s[k];
            v <<= 4;
            if (c >= '0' && c <= '9') v |= static_cast<std::uint32_t>(c - '0');
            else if (c >= 'a' && c <= 'f') v |= static_cast<std::uint32_t>(c - 'a' + 10);
            else if (c >= 'A' && c <= 'F') v |= static_cast<std::uint32_t>(c - 'A' + 10);
            else return 0xfffd;
        }
        return v;
    };
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '\\' || i + 1 == s.size()) {
            out += s[i];
            continue;
        }
        const char e = s[++i];
        switch (e) {
            case 'n': out += '\n'; break;
            case 't': out += '\t'; break;
            case 'r': out += '\r'; break;
            case 'b': out += '\b'; break;
            case 'f': out += '\f'; break;
            case 'u': {
                std::uint32_t cp = hex4(i + 1);
                i += 4;
                if (cp >= 0xd800 && cp < 0xdc00 && i + 6 < s.size() + 1 && s.substr(i + 1, 2) == "\\u") {
                    const std::uint32_t lo = hex4(i + 3);
                    if (lo >= 0xdc00 && lo < 0xe000) {
                        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                        i += 6;
                    }
                }
                put_utf8(out, cp);
                break;
            }
            default: out += e; break;  // \" \\ \/
        }
    }
    return out;
}

std::uint64_t parse_u64(std::string_view text, const std::string& where) {
    std::uint64_t v = 0;
    const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || p != text.data() + text.size()) throw run_error(where + ": expected a whole number, got '" + std::string(text) + "'");
    return v;
}

nanos parse_ms_or_throw(std::string_view text, const std::string& where) {
    const auto t = parse_ms(text);
    if (!t) throw run_error(where + ": expected milliseconds like 12.345678, got '" + std::string(text) + "'");
    return *t;
}

// Splits one updates.csv row into its six fields (RFC 4180: a quoted field may hold commas and
// doubled quotes). `scratch` keeps an unquoted client id alive.
bool csv_fields(std::string_view line, std::string_view (&out)[6], std::string& scratch) {
    std::size_t field = 0, i = 0;
    while (field < 6) {
        if (i < line.size() && line[i] == '"') {
            scratch.clear();
            ++i;
            for (; i < line.size(); ++i) {
                if (line[i] == '"') {
                    if (i + 1 < line.size() && line[i + 1] == '"') {
                        scratch += '"';
                        ++i;
                    } else {
                        break;
                    }
                } else {
                    scratch += line[i];
                }
            }
            if (i >= line.size()) return false;
            ++i;  // the closing quote
            out[field++] = scratch;
        } else {
            const auto comma = line.find(',', i);
            out[field++] = line.substr(i, comma == std::string_view::npos ? std::string_view::npos : comma - i);
            i = comma == std::string_view::npos ? line.size() : comma;
        }
        if (field < 6) {
            if (i >= line.size() || line[i] != ',') return false;
            ++i;
        }
    }
    return i == line.size();
}

// The herd from summary.json's `topology` ({"servers": [names], "links": [[a, b], ...]}), when
// the simulator writes one.
bool topology_from_summary(run_data& r) {
    const auto it = r.summary.find("topology");
    if (it == r.summary.end() || !it->is_object()) return false;
    for (const auto& s : it->value("servers", nlohmann::ordered_json::array())) {
        r.add_server(s.is_string() ? s.get<std::string>() : s.value("name", std::string()));
    }
    std::vector<std::pair<std::string, std::string>> names;
    for (const auto& l : it->value("links", nlohmann::ordered_json::array())) {
        const auto ends = l.is_array() ? l : l.value("between", nlohmann::ordered_json::array());
        if (ends.size() == 2) names.emplace_back(ends[0].get<std::string>(), ends[1].get<std::string>());
    }
    for (const auto& [a, b] : names) {
        const auto ia = r.server_index(a), ib = r.server_index(b);
        if (ia == none || ib == none) throw run_error("summary.json: $.topology.links: unknown server " + (ia == none ? a : b));
        r.add_link(ia, ib);
    }
    r.topology_source = "summary.json";
    return !r.servers.empty();
}

// The herd from the scenario file run.json names, if it can be found and still has the run's
// name and numbers of servers and links. The path is as `herd sim` was given it: relative to the
// directory it ran in, which is often the run directory's grandparent (runs/NAME-seedN).
bool topology_from_scenario(run_data& r) {
    const std::string& file = r.scenario_file;
    if (file.empty()) return false;
    std::vector<std::filesystem::path> tries{file};
    if (std::filesystem::path(file).is_relative()) {
        tries.push_back(r.dir / ".." / file);
        tries.push_back(r.dir / ".." / ".." / file);
    }
    for (const auto& p : tries) {
        std::error_code ec;
        if (!std::filesystem::is_regular_file(p, ec)) continue;
        sim::scenario s;
        try {
            s = sim::load_scenario(p);
        } catch (const std::exception&) {
            continue;
        }
        if (s.name != r.scenario || s.servers.size() != r.summary.value("servers", std::size_t{0}) ||
            s.links.size() != r.summary.value("links", std::size_t{0}))
            continue;
        for (const auto& sv : s.servers) r.add_server(sv.name);
        for (const auto& l : s.links) r.add_link(r.server_index(l.a), r.server_index(l.b));
        r.topology_source = "scenario file " + p.lexically_normal().string();
        return true;
    }
    return false;
}

struct reply_key {
    nanos t;
    std::uint32_t server;
    std::string client;
    auto operator<=>(const reply_key&) const = default;
};

struct at_record {
    std::string origin, diff, location, time_text;
    nanos time = 0;
};

// What the timeline holds beyond the typed vectors of run_data: names seen, and the AT replies
// to IAMATs (to rank updates in the store order).
struct timeline_extras {
    std::vector<std::pair<nanos, std::pair<std::string, std::string>>> link_lines;  // t, (a, b)
    std::vector<bool> link_up;
    std::vector<std::tuple<std::uint32_t, nanos, std::string, std::string>> issues;  // update, t, origin, client
    std::map<reply_key, at_record> replies;
};

void read_timeline(run_data& r, timeline_extras& x) {
    const auto path = r.dir / "timeline.jsonl";
    const std::string text = read_file(path);
    std::unordered_map<std::uint64_t, bool> iamat_conn;  // conn -> its request was an IAMAT
    std::map<std::string, std::uint16_t, std::less<>> kinds, reasons;
    auto intern = [](std::map<std::string, std::uint16_t, std::less<>>& m, std::vector<std::string>& names,
                     std::string_view v) {
        const auto it = m.find(v);
        if (it != m.end()) return it->second;
        const auto id = static_cast<std::uint16_t>(names.size());
        names.emplace_back(v);
        m.emplace(std::string(v), id);
        return id;
    };
    for_each_line(text, [&](std::string_view line, std::size_t number) {
        if (line.empty()) return;
        ++r.timeline_lines;
        const std::string where = path.string() + ":" + std::to_string(number);
        const auto t_text = raw_field(line, "t_ms");
        const auto event = raw_field(line, "event");
        if (!t_text || !event) throw run_error(where + ": expected t_ms and event");
        const nanos t = parse_ms_or_throw(*t_text, where);
        const std::string_view e = *event;
        if (e == "send" || e == "drop" || e == "duplicate") {
            message_event m;
            m.t = t;
            m.what = e == "send" ? message_what::send : e == "drop" ? message_what::drop : message_what::duplicate;
            m.kind = intern(kinds, r.message_kinds, unescape(raw_field(line, "kind").value_or("?")));
            if (m.what == message_what::drop)
                m.reason = intern(reasons, r.drop_reasons, unescape(raw_field(line, "reason").value_or("?")));
            r.messages.push_back(m);
        } else if (e == "stale") {
            r.stale.push_back({t, parse_u64(raw_field(line, "stale").value_or(""), where),
                               static_cast<std::uint32_t>(parse_u64(raw_field(line, "live_servers").value_or(""), where))});
        } else if (e == "request") {
            r.requests.push_back(t);
            const auto conn = parse_u64(raw_field(line, "conn").value_or("0"), where);
            iamat_conn[conn] = raw_field(line, "line").value_or("").substr(0, 6) == "IAMAT ";
        } else if (e == "reply") {
            const auto conn = parse_u64(raw_field(line, "conn").value_or("0"), where);
            const auto it = iamat_conn.find(conn);
            if (it == iamat_conn.end() || !it->second) return;
            const std::string reply = unescape(raw_field(line, "reply").value_or(""));
            const auto f = core::split_fields(std::string_view(reply).substr(0, reply.find('\n')));
            if (f.size() != 6 || f[0] != "AT") return;
            const auto time = core::parse_time(f[5]);
            if (!time) return;
            x.replies.emplace(reply_key{t, r.server_index(unescape(raw_field(line, "server").value_or(""))), std::string(f[3])},
                              at_record{std::string(f[1]), std::string(f[2]), std::string(f[4]), std::string(f[5]), *time});
        } else if (e == "issue") {
            x.issues.emplace_back(static_cast<std::uint32_t>(parse_u64(raw_field(line, "update").value_or(""), where)), t,
                                  unescape(raw_field(line, "origin").value_or("")),
                                  unescape(raw_field(line, "client").value_or("")));
        } else if (e == "link" || e == "fault") {
            nlohmann::json j;
            try {
                j = nlohmann::json::parse(line);
            } catch (const nlohmann::json::exception& ex) {
                throw run_error(where + ": " + ex.what());
            }
            if (e == "link") {
                x.link_lines.push_back({t, {j.value("a", std::string()), j.value("b", std::string())}});
                x.link_up.push_back(j.value("state", std::string()) == "up");
                return;
            }
            fault_event f;
            f.t = t;
            f.fault = j.value("fault", std::string());
            if (j.contains("between")) f.names = j["between"].get<std::vector<std::string>>();
            if (j.contains("server")) f.names = {j["server"].get<std::string>()};
            if (j.contains("groups")) f.groups = j["groups"].get<std::vector<std::vector<std::string>>>();
            f.lose_state = j.value("lose_state", false);
            r.faults.push_back(std::move(f));
        }
    });
}

// Ranks each client's updates in the store order (core::compare over the AT record); a client
// with an update whose reply is missing is ranked by issue order instead, so the order stays
// one order.
void rank_updates(run_data& r, const timeline_extras& x) {
    std::vector<const at_record*> rec(r.updates.size(), nullptr);
    for (const auto& [u, t, origin, client] : x.issues) {
        if (u >= r.updates.size()) continue;
        const reply_key key{t, r.server_index(origin), client};
        const auto it = x.replies.find(key);
        if (it != x.replies.end() && it->second.origin == origin) rec[u] = &it->second;
    }
    std::vector<std::vector<std::uint32_t>> by_client(r.clients.size());
    for (std::uint32_t u = 0; u < r.updates.size(); ++u)
        if (r.updates[u].client != none) by_client[r.updates[u].client].push_back(u);
    for (auto& list : by_client) {
        const bool all_known = std::all_of(list.begin(), list.end(), [&](std::uint32_t u) { return rec[u] != nullptr; });
        std::stable_sort(list.begin(), list.end(), [&](std::uint32_t a, std::uint32_t b) {
            if (!all_known) return std::tie(r.updates[a].issued, a) < std::tie(r.updates[b].issued, b);
            const auto& ra = *rec[a];
            const auto& rb = *rec[b];
            const core::record_view va{{}, ra.location, ra.time_text, ra.time, ra.origin, ra.diff};
            const core::record_view vb{{}, rb.location, rb.time_text, rb.time, rb.origin, rb.diff};
            return core::compare(va, vb) < 0;
        });
        for (std::uint32_t k = 0; k < list.size(); ++k) r.updates[list[k]].rank = k;
    }
}

void read_updates(run_data& r, std::map<std::string, std::uint32_t>& seen_servers) {
    const auto path = r.dir / "updates.csv";
    const std::string text = read_file(path);
    std::unordered_map<std::string, std::uint32_t> clients;
    std::string scratch;
    for_each_line(text, [&](std::string_view line, std::size_t number) {
        if (number == 1) {
            if (line != "update,client,origin,server,issued_ms,applied_ms")
                throw run_error(path.string() + ":1: expected the header update,client,origin,server,issued_ms,applied_ms");
            return;
        }
        if (line.empty()) return;
        const std::string where = path.string() + ":" + std::to_string(number);
        std::string_view f[6];
        if (!csv_fields(line, f, scratch)) throw run_error(where + ": expected six comma-separated fields");
        const auto u = static_cast<std::uint32_t>(parse_u64(f[0], where));
        auto server_id = [&](std::string_view name) {
            auto id = r.server_index(name);
            if (id == none) {
                const auto [it, fresh] = seen_servers.try_emplace(std::string(name), static_cast<std::uint32_t>(seen_servers.size()));
                id = 0x80000000u | it->second;  // resolved once every name is known
            }
            return id;
        };
        if (u >= r.updates.size()) r.updates.resize(u + 1);
        auto& info = r.updates[u];
        if (info.client == none) {
            const auto [it, fresh] = clients.try_emplace(std::string(f[1]), static_cast<std::uint32_t>(r.clients.size()));
            if (fresh) r.clients.emplace_back(f[1]);
            info.client = it->second;
            info.origin = server_id(f[2]);
            info.issued = parse_ms_or_throw(f[4], where);
        }
        r.applied.push_back({u, server_id(f[3]), parse_ms_or_throw(f[5], where)});
    });
}

}  // namespace

std::optional<nanos> parse_ms(std::string_view text) {
    const auto dot = text.find('.');
    const auto whole = text.substr(0, dot);
    const auto frac = dot == std::string_view::npos ? std::string_view() : text.substr(dot + 1);
    if (whole.empty() || frac.size() > 6 || (dot != std::string_view::npos && frac.empty())) return std::nullopt;
    std::int64_t w = 0, fr = 0;
    auto [p, ec] = std::from_chars(whole.data(), whole.data() + whole.size(), w);
    if (ec != std::errc() || p != whole.data() + whole.size() || w < 0 || w > 9'000'000'000'000) return std::nullopt;
    if (!frac.empty()) {
        auto [q, ec2] = std::from_chars(frac.data(), frac.data() + frac.size(), fr);
        if (ec2 != std::errc() || q != frac.data() + frac.size() || fr < 0) return std::nullopt;
        for (auto k = frac.size(); k < 6; ++k) fr *= 10;
    }
    return w * 1'000'000 + fr;
}

std::string format_ms(nanos t) {
    char buf[48];
    const char* sign = t < 0 ? "-" : "";
    const auto a = t < 0 ? -t : t;
    std::snprintf(buf, sizeof buf, "%s%lld.%06lld", sign, static_cast<long long>(a / 1'000'000),
                  static_cast<long long>(a % 1'000'000));
    return buf;
}

void run_data::add_server(std::string name) {
    server_ids_.emplace(name, static_cast<std::uint32_t>(servers.size()));
    servers.push_back(std::move(name));
}

void run_data::add_link(std::uint32_t a, std::uint32_t b) {
    link_ids_.emplace(std::minmax(a, b), static_cast<std::uint32_t>(links.size()));
    links.emplace_back(a, b);
}

std::uint32_t run_data::server_index(std::string_view name) const {
    const auto it = server_ids_.find(name);
    return it == server_ids_.end() ? none : it->second;
}

std::uint32_t run_data::link_index(std::uint32_t a, std::uint32_t b) const {
    const auto it = link_ids_.find(std::minmax(a, b));
    return it == link_ids_.end() ? none : it->second;
}

std::uint64_t run_data::summary_count(const std::string& kind, const std::string& field) const {
    const auto m = summary.find("messages");
    if (m == summary.end() || !m->contains(kind)) return 0;
    return (*m)[kind].value(field, std::uint64_t{0});
}

run_data load_run(const std::filesystem::path& dir) {
    run_data r;
    r.dir = dir;
    const auto summary_path = dir / "summary.json";
    try {
        r.summary = nlohmann::ordered_json::parse(read_file(summary_path));
        r.scenario = r.summary.at("scenario").get<std::string>();
        r.seed = r.summary.at("seed").get<std::uint64_t>();
        r.end = static_cast<nanos>(std::llround(r.summary.at("end_ms").get<double>() * 1e6));
    } catch (const nlohmann::json::exception& e) {
        throw run_error(summary_path.string() + ": " + e.what());
    }
    // run.json (how the run was asked for) is optional: a run directory of the three files alone
    // still plots.
    const auto run_path = dir / "run.json";
    if (std::error_code ec; std::filesystem::is_regular_file(run_path, ec)) {
        try {
            r.scenario_file = nlohmann::json::parse(read_file(run_path)).value("scenario_file", std::string());
        } catch (const nlohmann::json::exception& e) {
            throw run_error(run_path.string() + ": " + e.what());
        }
    } else {
        r.scenario_file = r.summary.value("file", std::string());  // runs written before run.json
    }
    if (!topology_from_summary(r) && !topology_from_scenario(r)) r.topology_source = "the run's files (scenario file not found)";

    // Names the topology did not list (only when it came from the run's files) are added in
    // name order once all are seen, so that the order does not depend on which file named them
    // first.
    std::map<std::string, std::uint32_t> seen;
    read_updates(r, seen);
    timeline_extras x;
    read_timeline(r, x);
    const bool known_topology = !r.servers.empty();
    for (const auto& [t, ab] : x.link_lines)
        for (const auto& n : {ab.first, ab.second})
            if (r.server_index(n) == none) seen.try_emplace(n, static_cast<std::uint32_t>(seen.size()));
    if (known_topology && !seen.empty())
        throw run_error((dir / "updates.csv").string() + ": server " + seen.begin()->first + " is not in the herd of " + r.topology_source);
    std::vector<std::uint32_t> remap(seen.size());
    for (const auto& [name, id] : seen) {
        remap[id] = static_cast<std::uint32_t>(r.servers.size());
        r.add_server(name);
    }
    auto resolve = [&](std::uint32_t& s) {
        if (s != none && (s & 0x80000000u)) s = remap[s & 0x7fffffffu];
    };
    for (auto& u : r.updates) resolve(u.origin);
    for (auto& a : r.applied) resolve(a.server);

    for (std::size_t k = 0; k < x.link_lines.size(); ++k) {
        const auto a = r.server_index(x.link_lines[k].second.first);
        const auto b = r.server_index(x.link_lines[k].second.second);
        auto l = r.link_index(a, b);
        if (l == none) {
            if (known_topology) continue;
            l = static_cast<std::uint32_t>(r.links.size());
            r.add_link(a, b);
        }
        r.link_events.push_back({x.link_lines[k].first, l, x.link_up[k]});
    }
    rank_updates(r, x);
    return r;
}

}  // namespace herd::plots
