// The offline provider behind core::node: whole WHATSAT replies.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <variant>
#include <vector>

#include "core/node.hpp"
#include "places/offline.hpp"

using namespace herd::core;

namespace {

constexpr nanos received = 1520023935182837383;  // 0.263873386 s after the UCLA IAMAT's time

// What a Goloman node replies to `whatsat` after `iamat`, its places lookup answered from the
// embedded index as a host would: IAMAT, WHATSAT, query_places, places_done, reply.
std::string reply_to(const std::string& iamat, const std::string& whatsat) {
    node n("Goloman", seed_topology());
    std::vector<effect> fx;
    n.client_line(1, iamat, received);
    n.client_line(1, whatsat, received);
    n.poll_effects(fx);  // the AT reply, then the lookup (logs, if any, are ignored)
    const auto lookup = std::find_if(fx.begin(), fx.end(), [](const effect& e) {
        return std::holds_alternative<query_places_effect>(e);
    });
    REQUIRE(lookup != fx.end());
    const auto q = std::get<query_places_effect>(*lookup);
    const auto& index = herd::places::offline_index::embedded();
    n.places_done(q.request, {true, index.nearby_json(q.lat, q.lon, q.radius_m, q.limit), {}},
                  received);
    n.poll_effects(fx);
    for (const auto& e : fx)
        if (const auto* r = std::get_if<reply_effect>(&e)) return r->text;
    FAIL("no reply to " << whatsat);
    return {};
}

}  // namespace

TEST_CASE("WHATSAT through core::node lists the five UCLA places after the AT line", "[places]") {
    const std::string reply =
        reply_to("IAMAT kiwi.cs.ucla.edu +34.068930-118.445127 1520023934.918963997",
                 "WHATSAT kiwi.cs.ucla.edu 10 5");
    CHECK(reply.starts_with("AT Goloman +0.263873386 kiwi.cs.ucla.edu +34.068930-118.445127 "
                            "1520023934.918963997\n{\n"));
    CHECK(reply.ends_with("}\n\n"));
    CHECK(reply.find("\n\n") == reply.size() - 2);
    std::size_t at = 0;
    for (const char* name :
         {"Westwood", "Century City", "Beverly Hills", "Santa Monica", "Culver City"}) {
        const auto next = reply.find("\"name\": \"" + std::string(name) + "\"", at);
        CHECK(next != std::string::npos);
        at = next;
    }
    CHECK(reply.find("\"status\": \"OK\"") != std::string::npos);
}

TEST_CASE("WHATSAT over an empty area replies ZERO_RESULTS, not a refusal", "[places]") {
    const std::string reply =
        reply_to("IAMAT boat +0.000000-140.000000 1520023934", "WHATSAT boat 50 20");
    CHECK(reply.starts_with("AT Goloman "));
    CHECK(reply.ends_with("{\n   \"html_attributions\": [],\n   \"results\": [],\n"
                          "   \"status\": \"ZERO_RESULTS\"\n}\n\n"));
}
