// core/store: last writer wins by the total order of DESIGN §4.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "core/store.hpp"
#include "tests/support/rng.hpp"

using namespace herd::core;
using herd::testing::rng;

namespace {

record rec(std::string client, nanos time, std::string origin, std::string location = "+1+1",
           std::string diff = "+0.000000001") {
    record r;
    r.client = std::move(client);
    r.location_text = std::move(location);
    r.time = time;
    r.time_text = std::to_string(time / 1'000'000'000) + "." +
                  std::string(9 - std::to_string(time % 1'000'000'000).size(), '0') +
                  std::to_string(time % 1'000'000'000);
    r.origin = std::move(origin);
    r.diff_text = std::move(diff);
    return r;
}

}  // namespace

TEST_CASE("a newer client time replaces the record and an older one does not", "[core]") {
    store st;
    CHECK(st.merge(rec("kiwi", 200, "Hands")));
    CHECK_FALSE(st.merge(rec("kiwi", 100, "Welsh")));
    CHECK(st.find("kiwi")->origin == "Hands");
    CHECK(st.merge(rec("kiwi", 300, "Goloman")));
    CHECK(st.find("kiwi")->origin == "Goloman");
    CHECK(st.size() == 1);
}

TEST_CASE("merging the same record twice changes the store once", "[core]") {
    store st;
    CHECK(st.merge(rec("kiwi", 5, "Hands")));
    CHECK_FALSE(st.merge(rec("kiwi", 5, "Hands")));
}

TEST_CASE("equal client times are ordered by origin, then location, then time text, then diff",
          "[core]") {
    CHECK(compare(rec("k", 5, "Hands"), rec("k", 5, "Welsh")) < 0);
    CHECK(compare(rec("k", 5, "Welsh", "+1+1"), rec("k", 5, "Welsh", "+1+2")) < 0);
    record a = rec("k", 5, "Welsh");
    record b = a;
    b.time_text = "0.000000005";
    a.time_text = "0.0000000050";  // same time, other spelling (only reachable by repair)
    CHECK(compare(a, b) != 0);
    record c = rec("k", 5, "Welsh", "+1+1", "+0.000000001");
    record d = rec("k", 5, "Welsh", "+1+1", "+0.000000002");
    CHECK(compare(c, d) < 0);
    CHECK(compare(d, c) > 0);
    CHECK(compare(c, c) == 0);
}

TEST_CASE("two origins with the same client time converge on the same record", "[core]") {
    store at_hands, at_welsh;
    const record from_hands = rec("kiwi", 1000, "Hands", "+10+10");
    const record from_welsh = rec("kiwi", 1000, "Welsh", "+20+20");
    at_hands.merge(from_hands);
    at_hands.merge(from_welsh);
    at_welsh.merge(from_welsh);
    at_welsh.merge(from_hands);
    CHECK(at_hands == at_welsh);
    CHECK(at_hands.find("kiwi")->origin == "Welsh");
}

TEST_CASE("merge gives the same store for every shuffled, duplicated delivery order", "[core]") {
    const char* origins[] = {"Goloman", "Hands", "Holiday", "Welsh", "Wilkes"};
    const char* locations[] = {"+1+1", "+1+2", "-5.5+100", "+34.068930-118.445127"};
    for (std::uint64_t seed = 1; seed <= 1000; ++seed) {
        rng r(seed);
        // A small set of clients and times so that collisions on time (and origin) are common.
        std::vector<record> set;
        const auto n = 1 + r.below(12);
        for (std::uint64_t i = 0; i < n; ++i)
            set.push_back(rec("c" + std::to_string(r.below(3)), static_cast<nanos>(r.below(4)),
                              origins[r.below(5)], locations[r.below(4)],
                              "+0.00000000" + std::to_string(r.below(3))));
        store reference;
        for (const auto& x : set) reference.merge(x);
        for (int order = 0; order < 5; ++order) {
            std::vector<record> delivery = set;
            const auto extra = r.below(set.size() + 1);
            for (std::uint64_t i = 0; i < extra; ++i) delivery.push_back(set[r.below(set.size())]);
            r.shuffle(delivery);
            store st;
            for (const auto& x : delivery) st.merge(x);
            INFO("seed " << seed << " order " << order);
            REQUIRE(st == reference);
        }
        // The survivor for each client is the maximum of its records.
        for (const record* kept : reference.sorted())
            for (const auto& x : set)
                if (x.client == kept->client) REQUIRE(compare(x, *kept) <= 0);
    }
}

TEST_CASE("sorted() lists the records in client id order", "[core]") {
    store st;
    for (const char* c : {"kiwi", "apple", "mango", "banana"}) st.merge(rec(c, 1, "Hands"));
    std::vector<std::string> clients;
    for (const record* r : st.sorted()) clients.push_back(r->client);
    CHECK(clients == std::vector<std::string>{"apple", "banana", "kiwi", "mango"});
}
