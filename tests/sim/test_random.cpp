// sim/random: the simulator's own generator and streams.
#include <catch2/catch.hpp>

#include "sim/random.hpp"

using herd::sim::rng;

TEST_CASE("the same seed gives the same stream and another seed another", "[sim]") {
    rng a(42), b(42), c(43);
    for (int i = 0; i < 100; ++i) {
        const auto x = a.next();
        CHECK(x == b.next());
        CHECK(x != c.next());
    }
}

TEST_CASE("xoshiro256** seeded by splitmix64 gives the reference first values", "[sim]") {
    // Pinned so that a change to the generator (which would change every run) is noticed.
    rng r(0);
    const std::uint64_t first = r.next();
    rng again(0);
    CHECK(again.next() == first);
    CHECK(first == 0x99ec5f36cb75f2b4ULL);
}

TEST_CASE("derived streams depend on the name only, so adding a part shifts nothing else", "[sim]") {
    rng a = rng::derive(7, "link:A->B");
    rng b = rng::derive(7, "link:A->B");
    rng other = rng::derive(7, "link:B->A");
    CHECK(a.next() == b.next());
    CHECK(rng::derive(7, "link:A->B").next() != other.next());
    CHECK(rng::derive(8, "link:A->B").next() != rng::derive(7, "link:A->B").next());
}

TEST_CASE("below stays in range and uniform01 stays within zero and one", "[sim]") {
    rng r(1);
    std::uint64_t counts[6] = {};
    for (int i = 0; i < 60000; ++i) {
        const auto v = r.below(6);
        REQUIRE(v < 6);
        ++counts[v];
        const double u = r.uniform01();
        REQUIRE(u >= 0.0);
        REQUIRE(u < 1.0);
    }
    for (auto c : counts) CHECK(c > 9000);  // about 10000 each
}
