#include "core/node.hpp"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>

namespace herd::core {
namespace {

template <class... F>
struct overloaded : F... {
    using F::operator()...;
};
template <class... F>
overloaded(F...) -> overloaded<F...>;

std::string squeeze_newlines(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text)
        if (c != '\n' || (!out.empty() && out.back() != '\n')) out += c;
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
}

}  // namespace

std::optional<std::string> format_places(std::string_view body, int limit, std::string& why) {
    // ordered_json keeps the provider's key order; parse without exceptions (untrusted bytes).
    auto doc = nlohmann::ordered_json::parse(body.begin(), body.end(), nullptr, false);
    if (doc.is_discarded() || !doc.is_object()) {
        why = "places response is not a JSON object";
        return std::nullopt;
    }
    const auto status = doc.find("status");
    if (status == doc.end() || !status->is_string()) {
        why = "places response has no status";
        return std::nullopt;
    }
    const auto& s = status->get_ref<const std::string&>();
    if (s != "OK" && s != "ZERO_RESULTS") {
        why = "places status " + s;
        return std::nullopt;
    }
    const auto results = doc.find("results");
    if (results != doc.end() && results->is_array() &&
        results->size() > static_cast<std::size_t>(limit))
        results->erase(results->begin() + limit, results->end());
    return squeeze_newlines(doc.dump(3, ' ', false, nlohmann::ordered_json::error_handler_t::replace));
}

std::optional<repair_mode> parse_repair_mode(std::string_view text) {
    if (text == "none") return repair_mode::none;
    if (text == "on_connect") return repair_mode::on_connect;
    if (text == "periodic") return repair_mode::periodic;
    return std::nullopt;
}

const char* repair_mode_name(repair_mode m) {
    switch (m) {
        case repair_mode::none: return "none";
        case repair_mode::on_connect: return "on_connect";
        case repair_mode::periodic: return "periodic";
    }
    return "none";
}

std::shared_ptr<const node::server_names> node::names_of(const topology& herd) {
    auto names = std::make_shared<server_names>();
    for (const auto& s : herd.servers) names->insert(s.name);
    return names;
}

node::node(std::string name, const topology& herd, store kept, node_options options)
    : node(name, herd.neighbours(name), names_of(herd), std::move(kept), options) {}

node::node(std::string name, std::vector<std::string> neighbours,
           std::shared_ptr<const server_names> names, store kept, node_options options)
    : name_(std::move(name)),
      neighbours_(std::move(neighbours)),
      servers_(std::move(names)),
      up_(neighbours_.size(), false),
      options_(options),
      store_(std::move(kept)) {
    assert(servers_->count(name_) == 1);
    assert(std::is_sorted(neighbours_.begin(), neighbours_.end()));
    assert(options_.repair_interval > 0);
    for (const auto& n : neighbours_) neighbour_keys_.push_back(client_hash(n));
    // Room for a flood to every neighbour and a reply, so that a busy node does not grow it.
    effects_.reserve(neighbours_.size() + 4);
}

void node::client_line(conn_id conn, std::string_view raw, nanos now) {
    const std::string_view line = strip_cr(raw);
    std::visit(overloaded{
                   [&](const iamat& m) { on_iamat(conn, line, m, now); },
                   [&](const whatsat& m) { on_whatsat(conn, line, m); },
                   [&](const flood& f) {
                       refuse_client(conn, line);
                       log(log_level::warn, std::string(f.repair ? "REPAIR" : "FLOOD") +
                                                " from client connection " + std::to_string(conn) +
                                                " refused");
                   },
                   [&](const invalid&) {
                       refuse_client(conn, line);
                       if (line.starts_with("DIGEST"))
                           log(log_level::warn, "DIGEST from client connection " +
                                                    std::to_string(conn) + " refused");
                   },
               },
               parse_message(line));
}

void node::peer_line(std::string_view peer, std::string_view raw, nanos) {
    const std::string_view line = strip_cr(raw);
    const std::size_t from = neighbour_index(peer);
    if (from == no_neighbour) {
        log(log_level::warn, "line from " + std::string(peer) + ", not a neighbour, ignored");
        return;
    }
    if (line.starts_with('?')) {
        log(log_level::warn, std::string(peer) + " refused our line: " + std::string(line));
        return;
    }
    // Most FLOODs a server receives repeat the record it holds (the flood reaches it by every
    // path): such a line was valid when it was stored and changes nothing, so it needs no parse.
    // The client's hash is taken once, for this lookup and for the store's merge.
    std::string_view f6[6];
    const bool six = flood_fields(line, f6);
    const std::uint64_t key = six ? client_hash(f6[3]) : 0;
    if (six) {
        const record* r = store_.find(f6[3], key);
        if (r != nullptr && r->origin == f6[1] && r->diff_text == f6[2] &&
            r->location_text == f6[4] && r->time_text == f6[5])
            return;
    }
    if (line.starts_with("DIGEST ")) {
        if (const auto d = parse_digest(line)) {
            on_digest(peer, *d);
            return;
        }
    }
    // A FLOOD's fields are split already: parsed from them, not from the line again.
    const message m = six ? parse_flood_fields(f6) : parse_message(line);
    if (const auto* f = std::get_if<flood>(&m); f && servers_->count(f->origin) != 0) {
        on_flood(from, *f, six ? key : client_hash(f->client));
        return;
    }
    log(log_level::warn, "refused from " + std::string(peer) + ": " + std::string(line));
    effects_.push_back(send_effect{std::string(peer), format_refusal(line)});
}

void node::peer_record(std::string_view peer, const record_ptr& carried, bool repair, nanos now) {
    const std::size_t from = neighbour_index(peer);
    if (from == no_neighbour) {
        log(log_level::warn, "line from " + std::string(peer) + ", not a neighbour, ignored");
        return;
    }
    peer_record_at(from, carried, repair, now);
}

void node::peer_record_at(std::size_t from, const record_ptr& carried, bool repair, nanos) {
    // peer_line's steps for a well-formed FLOOD or REPAIR line, in its order, minus the parse.
    assert(carried && from < neighbours_.size());
    // peer_line ignores a FLOOD equal to the stored record before anything else. Most FLOODs a
    // server receives repeat the record it holds, and most of those are the very record it
    // holds (the one shared copy): a pointer compare.
    if (!repair && store_.holds(carried)) return;
    const record& r = carried->r;
    if (servers_->count(r.origin) == 0) {
        const record* stored = store_.find(r.client);
        if (!repair && stored != nullptr && *stored == r) return;
        const std::string line = repair ? r.repair_line() : r.flood_line();
        log(log_level::warn, "refused from " + neighbours_[from] + ": " + line);
        effects_.push_back(send_effect{neighbours_[from], format_refusal(line)});
        return;
    }
    if (!room_for(r.client)) return;
    if (store_.merge(carried)) flood_to_neighbours(carried, from);
}

void node::peer_up(std::string_view peer, nanos now) {
    if (!is_neighbour(peer)) {
        log(log_level::warn, "peer_up for " + std::string(peer) + ", not a neighbour, ignored");
        return;
    }
    const std::size_t i = neighbour_index(peer);
    if (up_[i]) return;
    up_[i] = true;
    ++up_count_;
    log(log_level::info, "link to " + neighbours_[i] + " up");
    if (options_.repair == repair_mode::none) return;
    send_digest(neighbours_[i]);
    if (options_.repair == repair_mode::periodic) arm_repair_timer(now);
}

void node::timer(timer_id id, nanos now) {
    if (id != repair_timer || options_.repair != repair_mode::periodic || !repair_timer_set_) return;
    repair_timer_set_ = false;
    if (up_count_ == 0) return;  // peer_up sets it again
    for (std::size_t i = 0; i < neighbours_.size(); ++i)
        if (up_[i]) send_digest(neighbours_[i]);
    arm_repair_timer(now);
}

void node::arm_repair_timer(nanos now) {
    if (repair_timer_set_) return;
    repair_timer_set_ = true;
    const nanos at = now > std::numeric_limits<nanos>::max() - options_.repair_interval
                         ? std::numeric_limits<nanos>::max()
                         : now + options_.repair_interval;
    effects_.push_back(set_timer_effect{repair_timer, at});
}

void node::send_digest(const std::string& peer) {
    std::string line = format_digest(store_.digest_at(digest_bits_for(store_.size())));
    line += '\n';
    effects_.push_back(send_effect{peer, std::move(line)});
}

void node::on_digest(std::string_view peer, const digest& d) {
    const auto mine = fold(store_.sums(), d.bits);
    std::vector<bool> differ(mine.size());
    bool any = false;
    for (std::size_t j = 0; j < mine.size(); ++j) any |= differ[j] = mine[j] != d.sums[j];
    if (!any) return;
    const auto records = store_.shared_in_buckets(d.bits, differ);
    if (records.empty()) return;
    log(log_level::info, "repair: " + std::to_string(records.size()) + " records to " + std::string(peer));
    for (const record_ptr& r : records) {
        if (options_.compact_sends) {
            effects_.push_back(send_effect{std::string(peer), {}, r});
            continue;
        }
        std::string line = r->r.repair_line();
        line += '\n';
        effects_.push_back(send_effect{std::string(peer), std::move(line), r});
    }
}

void node::peer_down(std::string_view peer, nanos) {
    const std::size_t i = neighbour_index(peer);
    if (i == no_neighbour || !up_[i]) return;
    up_[i] = false;
    --up_count_;
    log(log_level::info, "link to " + std::string(peer) + " down");
}

void node::places_done(request_id request, const places_result& result, nanos) {
    const auto it = pending_.find(request);
    if (it == pending_.end()) return;
    pending_whatsat w = std::move(it->second);
    pending_.erase(it);
    std::string why = result.error;
    std::optional<std::string> json;
    if (result.ok) json = format_places(result.body, w.limit, why);
    if (!json) {
        log(log_level::warn, "places lookup for '" + w.line + "' failed: " + why);
        refuse_client(w.conn, w.line);
        return;
    }
    std::string text;
    text.reserve(w.at_line.size() + json->size() + 3);
    text += w.at_line;
    text += '\n';
    text += *json;
    text += "\n\n";
    effects_.push_back(reply_effect{w.conn, std::move(text)});
}

void node::poll_effects(std::vector<effect>& out) {
    out.clear();
    out.swap(effects_);
}

void node::on_iamat(conn_id conn, std::string_view line, const iamat& m, nanos now) {
    if (!room_for(m.client)) {
        refuse_client(conn, line);
        return;
    }
    const std::string diff = format_diff(diff_saturated(now, m.time));
    const record_view r{m.client, m.location_text, m.time_text, m.time, name_, diff};
    // `AT <server> <diff> <client> <location> <client-time>\n`, sized once and filled in place.
    const std::string_view fields[] = {"AT", name_, diff, m.client, m.location_text, m.time_text};
    std::size_t size = 0;
    for (std::string_view f : fields) size += f.size() + 1;
    std::string reply(size, '\n');
    char* p = reply.data();
    for (std::string_view f : fields) {
        std::memcpy(p, f.data(), f.size());
        p += f.size();
        *p++ = ' ';
    }
    reply.back() = '\n';
    effects_.push_back(reply_effect{conn, std::move(reply)});
    // An IAMAT older than the stored record is answered but neither stored nor flooded.
    if (store_.merge(r)) flood_to_neighbours(store_.last_changed_shared(), no_neighbour);
}

void node::on_whatsat(conn_id conn, std::string_view line, const whatsat& m) {
    const record* r = store_.find(m.client);
    if (r == nullptr) {
        refuse_client(conn, line);
        return;
    }
    if (pending_.size() >= pending_places_max) {
        log(log_level::warn, "too many places lookups in flight; refused: " + std::string(line));
        refuse_client(conn, line);
        return;
    }
    const request_id id = next_request_++;
    pending_.emplace(id, pending_whatsat{conn, std::string(line), r->at_line(), m.limit});
    const auto where = parse_location(r->location_text);  // valid: the store holds only such
    effects_.push_back(query_places_effect{id, where->lat, where->lon, m.radius_m, m.limit});
}

void node::on_flood(std::size_t from, const flood& m, std::uint64_t key) {
    if (!room_for(m.client)) return;
    const record_view r{m.client, m.location_text, m.time_text, m.time, m.origin, m.diff_text};
    if (store_.merge(r, key)) flood_to_neighbours(store_.last_changed_shared(), from);
}

void node::flood_to_neighbours(const record_ptr& r, std::size_t except) {
    if (options_.compact_sends) {
        // One effect for every target, when there is one.
        // Built in place: a send_effect made and then moved into the list was moved twice
        // (into a variant, then into the vector), four string moves, and a big herd's
        // simulation makes millions of these.
        if (up_count_ > (except != no_neighbour && up_[except] ? 1u : 0u)) {
            auto& e = std::get<send_effect>(effects_.emplace_back(std::in_place_type<send_effect>));
            e.carried = r;
            e.to_neighbours = true;
            e.except = except;
        }
        return;
    }
    std::string line = r->r.flood_line();
    line += '\n';
    // Every target but the last gets a copy of the line; the last gets the line itself.
    std::size_t last = no_neighbour;
    for (std::size_t i = 0; i < neighbours_.size(); ++i) {
        if (!up_[i] || i == except) continue;
        if (last != no_neighbour) effects_.push_back(send_effect{neighbours_[last], line, r});
        last = i;
    }
    if (last != no_neighbour) effects_.push_back(send_effect{neighbours_[last], std::move(line), r});
}

void node::refuse_client(conn_id conn, std::string_view line) {
    effects_.push_back(reply_effect{conn, format_refusal(line)});
}

void node::log(log_level level, std::string text) {
    effects_.push_back(log_effect{level, std::move(text)});
}

bool node::room_for(std::string_view client) {
    if (store_.size() < records_max_ || store_.find(client) != nullptr) return true;
    log(log_level::warn, "store full (" + std::to_string(store_.size()) + " clients): " +
                             std::string(client) + " not stored");
    return false;
}

std::size_t node::neighbour_index(std::string_view peer) const {
    // Every input from a peer asks: a scan of 64-bit keys, then one string compare.
    const std::uint64_t key = client_hash(peer);
    for (std::size_t i = 0; i < neighbour_keys_.size(); ++i)
        if (neighbour_keys_[i] == key && neighbours_[i] == peer) return i;
    return no_neighbour;
}

bool node::is_up(std::string_view peer) const {
    const std::size_t i = neighbour_index(peer);
    return i != no_neighbour && up_[i];
}

}  // namespace herd::core
