// core/repair and repair in core::node: digests, their wire form, and reconciliation.

#include <catch2/catch.hpp>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "core/node.hpp"
#include "core/repair.hpp"
#include "core/store.hpp"
#include "tests/support/harness.hpp"
#include "tests/support/rng.hpp"

using namespace herd::core;
using herd::testing::harness;

namespace {

record make(std::string client, std::string origin, nanos time, std::string loc = "+1+1") {
    const std::string t = std::to_string(time);
    return {std::move(client), std::move(loc), t, time * 1'000'000'000, std::move(origin), "+0.000000001"};
}

const node_options on_connect{repair_mode::on_connect, 1'000'000'000};

bool all_stores_equal(harness& h) {
    for (const auto& s : h.herd().servers)
        if (!(h.at(s.name).records() == h.at(h.herd().servers[0].name).records())) return false;
    return true;
}

}  // namespace

TEST_CASE("a digest line round-trips through format and parse", "[core]") {
    for (unsigned bits : {0u, 1u, 5u, fine_bits}) {
        digest d{bits, {}};
        for (std::size_t i = 0; i < (std::size_t{1} << bits); ++i) d.sums.push_back(i * 0x9e3779b97f4a7c15ULL);
        const auto text = format_digest(d);
        const auto back = parse_digest(text);
        REQUIRE(back);
        CHECK(back->bits == bits);
        CHECK(back->sums == d.sums);
    }
    CHECK(format_digest({0, {0xabcdef}}) == "DIGEST 0 0000000000abcdef");
}

TEST_CASE("a record's hash is the same on every machine and changes with any byte or field bound", "[core]") {
    // Both ends of a link compare sums of these: the value is part of the protocol. The figure
    // is what this code gave when the hash was chosen; another machine or compiler must agree.
    const record_view kiwi{"kiwi.cs.ucla.edu", "+34.068930-118.445127", "1520023934.918963997", 0, "Goloman",
                           "+0.263873386"};
    CHECK(record_hash(kiwi) == 0x64226c5a179dfbf4ULL);
    // Fields of every length a word holds, and every byte: each change gives another hash.
    std::set<std::uint64_t> seen;
    const std::string base = "abcdefghijklmnopqrstuvwxyz0123456789";
    for (std::size_t n = 0; n <= 20; ++n) {
        std::string client = base.substr(0, n);
        CHECK(seen.insert(record_hash({client, "+1+1", "1.5", 0, "A", "+0"})).second);
        for (std::size_t i = 0; i < n; ++i) {
            std::string changed = client;
            changed[i] = '_';
            CHECK(seen.insert(record_hash({changed, "+1+1", "1.5", 0, "A", "+0"})).second);
        }
    }
    // The same bytes with the bound between two fields moved.
    CHECK(record_hash({"ab", "+1+1", "1.5", 0, "A", "+0"}) != record_hash({"a", "+1+1", "1.5", 0, "A", "+0b"}));
    CHECK(record_hash({"ab", "+1+1", "1.5", 0, "A", "+0"}) != record_hash({"ab", "+1+1", "1.5", 0, "A+", "0"}));
}

TEST_CASE("malformed digest lines are refused", "[core]") {
    const std::string bad[] = {
        "DIGEST",
        "DIGEST 0",
        "DIGEST x 0000000000000000",
        "DIGEST 11 0000000000000000",
        "DIGEST 1 0000000000000000",                          // 2 sums expected
        "DIGEST 0 0000000000000000 0000000000000000",         // 1 sum expected
        "DIGEST 0 000000000000000",                           // 15 digits
        "DIGEST 0 000000000000000G",
        "DIGEST 0 ABCDEF0000000000",                          // upper case
        "DIGEST -0 0000000000000000",
        "DIGEST 000 0000000000000000",
        "FLOOD 0 0000000000000000",
    };
    for (const auto& line : bad) {
        INFO(line);
        CHECK_FALSE(parse_digest(line));
    }
}

TEST_CASE("stores holding the same records have the same sums whatever order they were filled in", "[core]") {
    herd::testing::rng r(7);
    std::vector<record> records;
    for (int i = 0; i < 300; ++i)
        records.push_back(make("c" + std::to_string(r.below(100)), r.below(2) ? "A" : "B", static_cast<nanos>(r.below(50))));
    store a, b;
    for (const auto& x : records) a.merge(x);
    std::reverse(records.begin(), records.end());
    for (const auto& x : records) b.merge(x);
    REQUIRE(a == b);
    CHECK(a.sums() == b.sums());
    // And a store with only the winners, stored once each, has them too.
    store c;
    for (const record* x : a.sorted()) c.merge(*x);
    CHECK(c.sums() == a.sums());
}

TEST_CASE("a store's sums change when a record changes and fold keeps the total", "[core]") {
    store s;
    s.merge(make("kiwi", "A", 1));
    const auto before = s.sums();
    s.merge(make("kiwi", "A", 2));
    CHECK(s.sums() != before);
    std::uint64_t total = 0;
    for (auto x : s.sums()) total += x;
    for (unsigned k = 0; k <= fine_bits; ++k) {
        const auto folded = fold(s.sums(), k);
        REQUIRE(folded.size() == std::size_t{1} << k);
        std::uint64_t sum = 0;
        for (auto x : folded) sum += x;
        CHECK(sum == total);
    }
    CHECK(s.digest_at(0).sums[0] == total);
}

TEST_CASE("a digest has about 32 records a bucket, at most 1024 buckets", "[core]") {
    CHECK(digest_bits_for(0) == 0);
    CHECK(digest_bits_for(32) == 0);
    CHECK(digest_bits_for(33) == 1);
    CHECK(digest_bits_for(1000) == 5);
    CHECK(digest_bits_for(100'000) == fine_bits);
    // 100,000 records: the digest line is under 18 KB and within the line limit.
    digest d{fine_bits, std::vector<std::uint64_t>(fine_buckets, 0)};
    CHECK(format_digest(d).size() < 18'000);
    CHECK(format_digest(d).size() < line_bytes_max);
}

TEST_CASE("the records of the differing buckets are listed in client order", "[core]") {
    store s;
    for (int i = 0; i < 50; ++i) s.merge(make("c" + std::to_string(i), "A", 1));
    std::vector<bool> all(2, true), none(2, false);
    const auto every = s.in_buckets(1, all);
    REQUIRE(every.size() == 50);
    CHECK(std::is_sorted(every.begin(), every.end(), [](auto a, auto b) { return a->client < b->client; }));
    CHECK(s.in_buckets(1, none).empty());
    std::vector<bool> first{true, false};
    const auto half = s.in_buckets(1, first);
    for (const record* x : half) CHECK(bucket_of(x->client) >> (fine_bits - 1) == 0);
}

TEST_CASE("a server cut off when an update passed learns it when its link comes back only with repair", "[core]") {
    for (const auto mode : {repair_mode::none, repair_mode::on_connect}) {
        INFO(repair_mode_name(mode));
        harness h(seed_topology(), 1, {}, {mode, 1'000'000'000});
        h.drive();
        h.link_down("Holiday", "Welsh");
        h.client_line("Goloman", "IAMAT kiwi +1+1 1");
        h.drive();
        CHECK(h.at("Welsh").records().empty());
        h.link_up("Holiday", "Welsh");
        h.drive();
        if (mode == repair_mode::none) {
            CHECK(h.at("Welsh").records().empty());  // plain flooding: nothing re-sends it
            CHECK(h.delivered("DIGEST ") == 0);
            continue;
        }
        REQUIRE(h.at("Welsh").records().find("kiwi"));
        CHECK(h.at("Welsh").records().find("kiwi")->origin == "Goloman");
        CHECK(h.delivered("REPAIR ") == 1);
        CHECK(all_stores_equal(h));
    }
}

TEST_CASE("updates on both sides of a partition are repaired both ways and flooded on", "[core]") {
    harness h(seed_topology(), 1, {}, on_connect);
    h.drive();
    h.link_down("Holiday", "Wilkes");
    h.link_down("Goloman", "Holiday");
    // Holiday and Welsh on one side, Goloman, Hands and Wilkes on the other.
    h.client_line("Welsh", "IAMAT a +1+1 1");
    h.client_line("Hands", "IAMAT b +1+1 1");
    h.client_line("Welsh", "IAMAT c +1+1 1");
    h.client_line("Goloman", "IAMAT c +2+2 2");  // newer: wins everywhere
    h.drive();
    CHECK_FALSE(all_stores_equal(h));
    h.link_up("Goloman", "Holiday");  // one link heals: the rest learn through it
    h.drive();
    CHECK(all_stores_equal(h));
    REQUIRE(h.at("Welsh").records().size() == 3);
    CHECK(h.at("Welsh").records().find("c")->origin == "Goloman");
    CHECK(h.at("Wilkes").records().find("a")->origin == "Welsh");
}

TEST_CASE("two servers that agree exchange only their digests on reconnect", "[core]") {
    harness h(seed_topology(), 1, {}, on_connect);
    for (int i = 0; i < 200; ++i) h.client_line("Hands", "IAMAT c" + std::to_string(i) + " +1+1 1");
    h.drive();
    REQUIRE(all_stores_equal(h));
    const auto trace_before = h.trace().size();
    h.link_down("Goloman", "Hands");
    h.link_up("Goloman", "Hands");
    h.drive();
    CHECK(h.trace().size() - trace_before == 2);  // one DIGEST each way, no REPAIR
    CHECK(h.trace().back().line.starts_with("DIGEST 3 "));  // 200 records: 8 buckets
}

TEST_CASE("one differing record costs only its bucket's records", "[core]") {
    harness h(seed_topology(), 1, {}, on_connect);
    for (int i = 0; i < 1000; ++i) h.client_line("Hands", "IAMAT c" + std::to_string(i) + " +1+1 1");
    h.drive();
    h.link_down("Goloman", "Hands");
    h.link_down("Hands", "Wilkes");
    h.client_line("Hands", "IAMAT c7 +2+2 2");
    h.drive();
    const auto repairs_before = h.delivered("REPAIR ");
    h.link_up("Goloman", "Hands");
    h.drive();
    CHECK(all_stores_equal(h));  // Wilkes learns through Goloman
    // 1000 records in 32 buckets, about 31 a bucket: one bucket goes each way, not 1000 records.
    const auto repairs = h.delivered("REPAIR ") - repairs_before;
    CHECK(repairs > 0);
    CHECK(repairs < 200);
}

TEST_CASE("periodic repair sets its timer and mends a lost flood", "[core]") {
    topology t;
    t.servers = {{"A", "127.0.0.1", 1, 0}, {"B", "127.0.0.1", 2, 0}};
    t.links = {{"A", "B"}};
    node a("A", t, {}, {repair_mode::periodic, 500});
    node b("B", t, {}, {repair_mode::periodic, 500});
    std::vector<effect> fa, fb;
    a.peer_up("B", 100);
    b.peer_up("A", 100);
    a.poll_effects(fa);
    b.poll_effects(fb);
    auto timer_at = [](const std::vector<effect>& fx) {
        for (const auto& e : fx)
            if (const auto* t = std::get_if<set_timer_effect>(&e)) return t->at;
        return nanos{-1};
    };
    CHECK(timer_at(fa) == 600);
    // An IAMAT at A whose FLOOD to B is lost.
    a.client_line(1, "IAMAT kiwi +1+1 1", 200);
    a.poll_effects(fa);
    CHECK(b.records().empty());
    // B's timer: its DIGEST reaches A, whose answer carries the record.
    b.timer(repair_timer, 600);
    b.poll_effects(fb);
    CHECK(timer_at(fb) == 1100);
    for (const auto& e : fb)
        if (const auto* s = std::get_if<send_effect>(&e)) a.peer_line("B", s->line.substr(0, s->line.size() - 1), 601);
    a.poll_effects(fa);
    for (const auto& e : fa)
        if (const auto* s = std::get_if<send_effect>(&e)) b.peer_line("A", s->line.substr(0, s->line.size() - 1), 602);
    REQUIRE(b.records().find("kiwi"));
    CHECK(b.records() == a.records());
    // With no neighbour up the timer is not set again.
    b.peer_down("A", 700);
    b.poll_effects(fb);
    b.timer(repair_timer, 1100);
    b.poll_effects(fb);
    CHECK(timer_at(fb) == -1);
    CHECK(fb.empty());
}

TEST_CASE("a client's DIGEST and REPAIR lines are refused and logged and nothing is applied", "[core]") {
    harness h(seed_topology(), 1, {}, on_connect);
    h.drive();
    const auto c = h.client_line("Hands", "REPAIR Goloman +0.000000001 kiwi +1+1 1");
    h.client_line("Hands", "DIGEST 0 0000000000000000", c);
    h.drive();
    REQUIRE(h.replies(c).size() == 2);
    CHECK(h.replies(c)[0] == "? REPAIR Goloman +0.000000001 kiwi +1+1 1\n");
    CHECK(h.replies(c)[1] == "? DIGEST 0 0000000000000000\n");
    CHECK(h.at("Hands").records().empty());
    CHECK(std::count_if(h.logs().begin(), h.logs().end(), [](const std::string& l) {
              return l.find("from client connection") != std::string::npos && l.find("refused") != std::string::npos;
          }) == 2);
}

TEST_CASE("a malformed DIGEST or REPAIR from a neighbour is answered with a refusal", "[core]") {
    harness h(seed_topology(), 1, {}, on_connect);
    h.drive();
    std::vector<effect> fx;
    auto& n = h.at("Hands");
    n.poll_effects(fx);
    n.peer_line("Goloman", "DIGEST 3 00", 1);
    n.peer_line("Goloman", "REPAIR Nobody +0.000000001 kiwi +1+1 1", 1);
    n.poll_effects(fx);
    std::vector<std::string> sent;
    for (const auto& e : fx)
        if (const auto* s = std::get_if<send_effect>(&e)) sent.push_back(s->line);
    CHECK(sent == std::vector<std::string>{"? DIGEST 3 00\n", "? REPAIR Nobody +0.000000001 kiwi +1+1 1\n"});
    CHECK(n.records().empty());
}
