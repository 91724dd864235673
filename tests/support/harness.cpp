#include "tests/support/harness.hpp"

#include <algorithm>
#include <cstdlib>
#include <stdexcept>

namespace herd::testing {

harness::harness(core::topology herd, core::nanos now, places_fn places, core::node_options options)
    : herd_(std::move(herd)), now_(now), places_(std::move(places)) {
    for (const auto& s : herd_.servers) nodes_.emplace(s.name, core::node(s.name, herd_, {}, options));
    for (const auto& [a, b] : herd_.links) link_up(a, b);
}

core::node& harness::at(std::string_view server) {
    const auto it = nodes_.find(server);
    if (it == nodes_.end()) throw std::out_of_range("no server " + std::string(server));
    return it->second;
}

core::conn_id harness::client_line(std::string_view server, std::string_view line,
                                   core::conn_id conn) {
    if (conn == 0) conn = next_conn_++;
    replies_[conn];
    at(server).client_line(conn, line, now_);
    collect(std::string(server));
    return conn;
}

const std::vector<std::string>& harness::replies(core::conn_id conn) const {
    static const std::vector<std::string> none;
    const auto it = replies_.find(conn);
    return it == replies_.end() ? none : it->second;
}

bool harness::step() {
    if (queue_.empty()) return false;
    pending p = std::move(queue_.front());
    queue_.pop_front();
    if (p.places) {
        core::places_result r;
        if (places_)
            r = places_(p.query);
        else
            r.error = "no places provider";
        at(p.to).places_done(p.query.request, r, now_);
    } else {
        trace_.push_back({p.from, p.to, p.line.substr(0, p.line.size() - 1)});
        at(p.to).peer_line(p.from, p.line, now_);
    }
    collect(p.to);
    return true;
}

std::size_t harness::drive() {
    constexpr std::size_t steps_max = 1'000'000;
    std::size_t steps = 0;
    while (step())
        if (++steps > steps_max) std::abort();
    return steps;
}

bool harness::drive_bounded(std::size_t max_steps) {
    for (std::size_t i = 0; i < max_steps && step(); ++i) {
    }
    return queue_.empty();
}

std::size_t harness::delivered(std::string_view prefix) const {
    std::size_t n = 0;
    for (const auto& d : trace_)
        if (std::string_view(d.line).starts_with(prefix)) ++n;
    return n;
}

void harness::link_down(std::string_view a, std::string_view b) {
    at(a).peer_down(b, now_);
    at(b).peer_down(a, now_);
    collect(std::string(a));
    collect(std::string(b));
}

void harness::link_up(std::string_view a, std::string_view b) {
    at(a).peer_up(b, now_);
    at(b).peer_up(a, now_);
    collect(std::string(a));
    collect(std::string(b));
}

void harness::collect(const std::string& server) {
    at(server).poll_effects(scratch_);
    for (auto& e : scratch_) {
        if (auto* r = std::get_if<core::reply_effect>(&e)) {
            replies_[r->conn].push_back(std::move(r->text));
        } else if (auto* s = std::get_if<core::send_effect>(&e)) {
            queue_.push_back({server, std::move(s->peer), std::move(s->line), false, {}});
        } else if (auto* q = std::get_if<core::query_places_effect>(&e)) {
            queue_.push_back({server, server, {}, true, *q});
        } else if (auto* l = std::get_if<core::log_effect>(&e)) {
            logs_.push_back(server + ": " + l->text);
        } else if (auto* t = std::get_if<core::set_timer_effect>(&e)) {
            timers_[{server, t->id}] = t->at;
        }
    }
}

bool harness::fire_next_timer() {
    if (timers_.empty()) return false;
    auto next = timers_.begin();
    for (auto it = timers_.begin(); it != timers_.end(); ++it)
        if (it->second < next->second) next = it;
    const auto [server, id] = next->first;
    now_ = std::max(now_, next->second);
    timers_.erase(next);
    at(server).timer(id, now_);
    collect(server);
    return true;
}

std::size_t predicted_floods(const core::topology& herd, std::string_view origin) {
    std::size_t n = herd.neighbours(origin).size();
    for (const auto& s : herd.servers)
        if (s.name != origin) n += herd.neighbours(s.name).size() - 1;
    return n;
}

}  // namespace herd::testing
