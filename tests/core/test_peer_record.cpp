// core/node: peer_record (a FLOOD or REPAIR handed over as the record it carries) does what
// peer_line does with the line, and compact sends say what the lines said.
#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

#include "core/node.hpp"

using namespace herd::core;

namespace {

record make_record(std::string client, std::string origin, nanos time, std::string location = "+34.068930-118.445127") {
    // The time text of `time` nanoseconds, as a client writes it (9 decimals).
    std::string frac = std::to_string(time % 1'000'000'000);
    frac.insert(0, 9 - frac.size(), '0');
    return record{std::move(client), std::move(location), std::to_string(time / 1'000'000'000) + "." + frac, time,
                  std::move(origin), "+0.263873386"};
}

record_ptr share(const record& r) { return std::make_shared<const stored_record>(r); }

// Every effect as text: what a host would do with it, the carried record by its content.
std::vector<std::string> describe(node& n) {
    std::vector<effect> fx;
    n.poll_effects(fx);
    std::vector<std::string> out;
    for (const auto& e : fx) {
        if (const auto* r = std::get_if<reply_effect>(&e)) {
            out.push_back("reply " + std::to_string(r->conn) + " " + r->text);
        } else if (const auto* s = std::get_if<send_effect>(&e)) {
            out.push_back("send " + s->peer + " " + s->line + (s->carried ? " carrying " + s->carried->r.flood_line() : ""));
        } else if (const auto* l = std::get_if<log_effect>(&e)) {
            out.push_back("log " + std::to_string(static_cast<int>(l->level)) + " " + l->text);
        } else if (const auto* t = std::get_if<set_timer_effect>(&e)) {
            out.push_back("timer " + std::to_string(t->id) + " " + std::to_string(t->at));
        } else {
            out.push_back("places");
        }
    }
    return out;
}

node live(const std::string& name, node_options options = {}) {
    node n(name, seed_topology(), {}, options);
    for (const auto& p : n.neighbours()) n.peer_up(p, 0);
    std::vector<effect> fx;
    n.poll_effects(fx);
    return n;
}

// Two nodes that have seen the same inputs: one is given lines, the other records.
struct pair_of_nodes {
    node by_line, by_record;

    explicit pair_of_nodes(const std::string& name, std::size_t records_max = node::records_max)
        : by_line(live(name)), by_record(live(name)) {
        by_line.limit_records(records_max);
        by_record.limit_records(records_max);
    }

    // Feeds `r` from `peer` to both, as a FLOOD (or REPAIR) line and as a record, and checks
    // that they did the same.
    void feed(const std::string& peer, const record& r, bool repair, nanos now = 1) {
        by_line.peer_line(peer, repair ? r.repair_line() : r.flood_line(), now);
        by_record.peer_record(peer, share(r), repair, now);
        check_same();
    }

    void check_same() {
        CHECK(describe(by_line) == describe(by_record));
        CHECK(by_line.records() == by_record.records());
        CHECK(by_line.records().sums() == by_record.records().sums());
        CHECK(by_line.records().version() == by_record.records().version());
        CHECK(by_line.records().size() == by_record.records().size());
    }
};

const nanos t0 = 1520023934918963997;

}  // namespace

TEST_CASE("peer_record stores and forwards a FLOOD from a known origin as peer_line does", "[core]") {
    pair_of_nodes n("Goloman");
    n.feed("Hands", make_record("kiwi", "Welsh", t0), false);
    CHECK(n.by_record.records().version() == 1);
    // A newer record for the client replaces it and is forwarded; an older one changes nothing.
    n.feed("Wilkes", make_record("kiwi", "Holiday", t0 + 5), false);
    n.feed("Holiday", make_record("kiwi", "Welsh", t0 + 1), false);
    CHECK(n.by_record.records().version() == 2);
    CHECK(n.by_record.records().find("kiwi")->origin == "Holiday");
}

TEST_CASE("peer_record takes a REPAIR as peer_line does", "[core]") {
    pair_of_nodes n("Goloman");
    n.feed("Hands", make_record("kiwi", "Welsh", t0), true);
    n.feed("Hands", make_record("kiwi", "Welsh", t0), true);
    n.feed("Holiday", make_record("apple", "Hands", t0 + 7), true);
    n.feed("Holiday", make_record("apple", "Hands", t0 + 3), true);
    CHECK(n.by_record.records().size() == 2);
}

TEST_CASE("peer_record ignores a repeated FLOOD, the same record or an equal copy, as peer_line does", "[core]") {
    pair_of_nodes n("Goloman");
    const record r = make_record("kiwi", "Welsh", t0);
    const record_ptr p = share(r);
    n.by_line.peer_line("Hands", r.flood_line(), 1);
    n.by_record.peer_record("Hands", p, false, 1);
    n.check_same();
    const auto version = n.by_record.records().version();
    // The very record again (the simulator's repeats), then an equal copy of it.
    n.by_line.peer_line("Wilkes", r.flood_line(), 2);
    n.by_record.peer_record("Wilkes", p, false, 2);
    n.check_same();
    n.feed("Holiday", r, false);
    CHECK(n.by_record.records().version() == version);
}

TEST_CASE("peer_record refuses a FLOOD or REPAIR from an unknown origin as peer_line does", "[core]") {
    pair_of_nodes n("Goloman");
    n.feed("Hands", make_record("kiwi", "Nowhere", t0), false);
    n.feed("Hands", make_record("kiwi", "Nowhere", t0), true);
    CHECK(n.by_record.records().empty());
}

TEST_CASE("peer_record ignores a FLOOD from an unknown origin that equals the stored record as peer_line does", "[core]") {
    // A store kept from elsewhere may hold such a record.
    const record r = make_record("kiwi", "Nowhere", t0);
    store kept;
    kept.merge(r);
    node by_line("Goloman", seed_topology(), kept), by_record("Goloman", seed_topology(), kept);
    for (node* x : {&by_line, &by_record})
        for (const auto& p : x->neighbours()) x->peer_up(p, 0);
    describe(by_line);
    describe(by_record);
    for (bool repair : {false, true}) {
        by_line.peer_line("Hands", repair ? r.repair_line() : r.flood_line(), 1);
        by_record.peer_record("Hands", share(r), repair, 1);
        CHECK(describe(by_line) == describe(by_record));
    }
    // The record the store holds itself, handed back.
    by_line.peer_line("Hands", r.flood_line(), 1);
    by_record.peer_record("Hands", by_record.records().shared("kiwi"), false, 1);
    CHECK(describe(by_line) == describe(by_record));
    CHECK(by_line.records() == by_record.records());
}

TEST_CASE("peer_record ignores a record from a server that is not a neighbour as peer_line does", "[core]") {
    pair_of_nodes n("Goloman");
    n.feed("Welsh", make_record("kiwi", "Welsh", t0), false);
    n.feed("Nowhere", make_record("kiwi", "Welsh", t0), true);
    CHECK(n.by_record.records().empty());
}

TEST_CASE("peer_record does not store a new client in a full store, as peer_line does", "[core]") {
    pair_of_nodes n("Goloman", 1);
    n.feed("Hands", make_record("kiwi", "Welsh", t0), false);
    n.feed("Hands", make_record("apple", "Welsh", t0), false);  // refused: full
    n.feed("Hands", make_record("apple", "Welsh", t0), true);
    n.feed("Hands", make_record("kiwi", "Welsh", t0 + 1), false);  // a known client: updated
    CHECK(n.by_record.records().size() == 1);
    CHECK(n.by_record.records().find("kiwi")->time == t0 + 1);
}

TEST_CASE("peer_record_at with a neighbour index is peer_record with its name", "[core]") {
    node by_name = live("Goloman"), by_index = live("Goloman");
    const record_ptr p = share(make_record("kiwi", "Welsh", t0));
    for (std::size_t i = 0; i < by_name.neighbours().size(); ++i) {
        by_name.peer_record(by_name.neighbours()[i], p, false, 1);
        by_index.peer_record_at(i, p, false, 1);
        CHECK(describe(by_name) == describe(by_index));
    }
    CHECK(by_name.records() == by_index.records());
}

TEST_CASE("a store holds a shared record itself, not an equal copy", "[core]") {
    store s;
    const record r = make_record("kiwi", "Welsh", t0);
    const record_ptr p = share(r);
    CHECK_FALSE(s.holds(p));
    s.merge(p);
    CHECK(s.holds(p));
    CHECK_FALSE(s.holds(share(r)));
    CHECK(s.last_changed_shared() == p);
    s.prefetch(p->key);  // changes nothing
    CHECK(s.size() == 1);
}

TEST_CASE("compact sends flood one effect naming the targets and carry records without lines", "[core]") {
    node_options compact;
    compact.compact_sends = true;
    compact.repair = repair_mode::on_connect;
    node_options plain;
    plain.repair = repair_mode::on_connect;
    node a = live("Goloman", plain), b = live("Goloman", compact);
    const record r = make_record("kiwi", "Welsh", t0);
    const auto peer_of = [&](std::size_t i) { return a.neighbours()[i]; };
    std::vector<effect> fa, fb;

    // From a neighbour: to every live one but the sender.
    a.peer_record("Hands", share(r), false, 1);
    b.peer_record("Hands", share(r), false, 1);
    a.poll_effects(fa);
    b.poll_effects(fb);
    REQUIRE(fb.size() == 1);
    const auto& m = std::get<send_effect>(fb[0]);
    CHECK(m.to_neighbours);
    CHECK(m.peer.empty());
    CHECK(m.line.empty());
    CHECK(m.carried->r == r);
    std::vector<std::string> expanded;
    for (std::size_t i = 0; i < b.neighbours().size(); ++i)
        if (i != m.except && b.is_up_at(i)) expanded.push_back(peer_of(i) + " " + m.carried->r.flood_line() + "\n");
    std::vector<std::string> lines;
    for (const auto& e : fa) {
        const auto& s = std::get<send_effect>(e);
        CHECK_FALSE(s.to_neighbours);
        lines.push_back(s.peer + " " + s.line);
    }
    CHECK(lines == expanded);
    CHECK(lines.size() == 2);

    // From a client, with a neighbour down: to every live one.
    a.peer_down("Wilkes", 2);
    b.peer_down("Wilkes", 2);
    a.poll_effects(fa);
    b.poll_effects(fb);
    const char* const iamat = "IAMAT apple +34.068930-118.445127 1520023934.918963997";
    a.client_line(1, iamat, t0 + 10);
    b.client_line(1, iamat, t0 + 10);
    a.poll_effects(fa);
    b.poll_effects(fb);
    REQUIRE(fb.size() == 2);
    CHECK(std::get<reply_effect>(fa[0]).text == std::get<reply_effect>(fb[0]).text);
    const auto& all = std::get<send_effect>(fb[1]);
    CHECK(all.to_neighbours);
    CHECK(all.except == SIZE_MAX);
    std::size_t targets = 0;
    for (std::size_t i = 0; i < b.neighbours().size(); ++i) targets += b.is_up_at(i);
    CHECK(targets == 2);
    CHECK(fa.size() == 1 + targets);

    // No live target: no effect at all.
    a.peer_down("Hands", 3);
    b.peer_down("Hands", 3);
    a.poll_effects(fa);
    b.poll_effects(fb);
    a.peer_record("Holiday", share(make_record("pear", "Welsh", t0)), false, 4);
    b.peer_record("Holiday", share(make_record("pear", "Welsh", t0)), false, 4);
    a.poll_effects(fa);
    b.poll_effects(fb);
    CHECK(fa.empty());
    CHECK(fb.empty());

    // A REPAIR answer to a DIGEST: the records, without their lines.
    const std::string empty_digest = format_digest(store{}.digest_at(0));
    a.peer_line("Holiday", empty_digest, 5);
    b.peer_line("Holiday", empty_digest, 5);
    a.poll_effects(fa);
    b.poll_effects(fb);
    std::vector<std::string> repairs_a, repairs_b;
    for (const auto& e : fa)
        if (const auto* s = std::get_if<send_effect>(&e)) repairs_a.push_back(s->peer + " " + s->line);
    for (const auto& e : fb)
        if (const auto* s = std::get_if<send_effect>(&e)) {
            CHECK(s->line.empty());
            CHECK_FALSE(s->to_neighbours);
            repairs_b.push_back(s->peer + " " + s->carried->r.repair_line() + "\n");
        }
    CHECK(repairs_a.size() == 3);
    CHECK(repairs_a == repairs_b);
}
