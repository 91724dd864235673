// tests/support/harness: the in-memory five-server herd.
#include <catch2/catch.hpp>

#include "core/topology.hpp"
#include "tests/support/harness.hpp"

using herd::core::seed_topology;
using herd::testing::harness;

namespace {
constexpr herd::core::nanos received = 1520023935182837383;
}

TEST_CASE("an IAMAT at Welsh reaches all five stores with the predicted number of FLOODs",
          "[core]") {
    harness h(seed_topology(), received);
    const auto conn =
        h.client_line("Welsh", "IAMAT kiwi.cs.ucla.edu +34.068930-118.445127 1520023934.918963997");
    REQUIRE(h.replies(conn).size() == 1);
    h.drive();
    const std::string at =
        "AT Welsh +0.263873386 kiwi.cs.ucla.edu +34.068930-118.445127 1520023934.918963997";
    for (const auto& s : h.herd().servers) {
        INFO(s.name);
        const auto* r = h.at(s.name).records().find("kiwi.cs.ucla.edu");
        REQUIRE(r);
        CHECK(r->at_line() == at);
    }
    // Welsh sends 1 (to Holiday); Holiday 2, Goloman 2, Wilkes 2, Hands 1: 8 = 2|E| - (n - 1).
    CHECK(herd::testing::predicted_floods(h.herd(), "Welsh") == 8);
    CHECK(h.delivered("FLOOD ") == 8);
    CHECK(h.trace().size() == 8);
}

TEST_CASE("a WHATSAT at Hands answers with Welsh's AT line first", "[core]") {
    harness h(seed_topology(), received, [](const herd::core::query_places_effect&) {
        return herd::core::places_result{
            true, R"({"html_attributions": [], "results": [], "status": "ZERO_RESULTS"})", {}};
    });
    h.client_line("Welsh", "IAMAT kiwi.cs.ucla.edu +34.068930-118.445127 1520023934.918963997");
    h.drive();
    const auto conn = h.client_line("Hands", "WHATSAT kiwi.cs.ucla.edu 10 5");
    CHECK(h.replies(conn).empty());  // the places answer is a later step
    h.drive();
    REQUIRE(h.replies(conn).size() == 1);
    const std::string& reply = h.replies(conn)[0];
    CHECK(reply.substr(0, reply.find('\n')) ==
          "AT Welsh +0.263873386 kiwi.cs.ucla.edu +34.068930-118.445127 1520023934.918963997");
    CHECK(reply.ends_with("}\n\n"));
}

TEST_CASE("drive_bounded stops after the given number of steps", "[core]") {
    harness h(seed_topology(), received);
    h.client_line("Welsh", "IAMAT kiwi +1+1 1");
    CHECK_FALSE(h.drive_bounded(3));
    CHECK(h.trace().size() == 3);
    CHECK(h.drive_bounded(100));
    CHECK(h.trace().size() == 8);
}

TEST_CASE("concurrent updates for one client at two servers converge everywhere", "[core]") {
    harness h(seed_topology(), received);
    h.client_line("Welsh", "IAMAT kiwi +1+1 1520023934.5");
    h.client_line("Hands", "IAMAT kiwi +2+2 1520023934.5");
    h.drive();
    for (const auto& s : h.herd().servers) {
        INFO(s.name);
        CHECK(h.at(s.name).records().find("kiwi")->origin == "Welsh");  // "Welsh" > "Hands"
    }
}
