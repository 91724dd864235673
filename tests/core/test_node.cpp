// core/node: the sans-I/O server; inputs in, effects out.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "core/node.hpp"

using namespace herd::core;

namespace {

constexpr nanos received = 1520023935182837383;  // 0.263873386 s after the client's time
const char* const iamat_line = "IAMAT kiwi.cs.ucla.edu +34.068930-118.445127 1520023934.918963997";
const char* const at_line =
    "AT Goloman +0.263873386 kiwi.cs.ucla.edu +34.068930-118.445127 1520023934.918963997";

std::vector<effect> drain(node& n) {
    std::vector<effect> fx;
    n.poll_effects(fx);
    return fx;
}

template <class T>
std::vector<T> only(const std::vector<effect>& fx) {
    std::vector<T> out;
    for (const auto& e : fx)
        if (const auto* x = std::get_if<T>(&e)) out.push_back(*x);
    return out;
}

node live_goloman() {
    node n("Goloman", seed_topology());
    for (const auto& p : n.neighbours()) n.peer_up(p, 0);
    drain(n);
    return n;
}

const char* const three_places = R"({"html_attributions": [], "results": [
  {"name": "A", "vicinity": "a\n\n\nb"}, {"name": "B"}, {"name": "C"}], "status": "OK"})";

}  // namespace

TEST_CASE("an IAMAT is answered AT, stored, and flooded to every live neighbour", "[core]") {
    node n = live_goloman();
    n.client_line(9, iamat_line, received);
    const auto fx = drain(n);
    const auto replies = only<reply_effect>(fx);
    REQUIRE(replies.size() == 1);
    CHECK(replies[0].conn == 9);
    CHECK(replies[0].text == std::string(at_line) + "\n");
    const auto sends = only<send_effect>(fx);
    REQUIRE(sends.size() == 3);  // Hands, Holiday, Wilkes, in name order
    CHECK(sends[0].peer == "Hands");
    CHECK(sends[1].peer == "Holiday");
    CHECK(sends[2].peer == "Wilkes");
    for (const auto& sd : sends)
        CHECK(sd.line == "FLOOD Goloman +0.263873386 kiwi.cs.ucla.edu +34.068930-118.445127 "
                         "1520023934.918963997\n");
    CHECK(n.records().find("kiwi.cs.ucla.edu")->at_line() == at_line);
}

TEST_CASE("the AT reply echoes location and time byte for byte", "[core]") {
    node n = live_goloman();
    n.client_line(1, "IAMAT k +12-118 1520023934", received);
    CHECK(only<reply_effect>(drain(n))[0].text == "AT Goloman +1.182837383 k +12-118 1520023934\n");
}

TEST_CASE("an IAMAT older than the stored record is answered but neither stored nor flooded",
          "[core]") {
    node n = live_goloman();
    n.client_line(1, "IAMAT kiwi +1+1 200", received);
    drain(n);
    n.client_line(1, "IAMAT kiwi +2+2 100", received);
    const auto fx = drain(n);
    CHECK(only<reply_effect>(fx).size() == 1);
    CHECK(only<send_effect>(fx).empty());
    CHECK(n.records().find("kiwi")->location_text == "+1+1");
}

TEST_CASE("floods go only to neighbours whose link is up", "[core]") {
    node n("Goloman", seed_topology());
    n.peer_up("Wilkes", 0);
    drain(n);
    n.client_line(1, iamat_line, received);
    const auto sends = only<send_effect>(drain(n));
    REQUIRE(sends.size() == 1);
    CHECK(sends[0].peer == "Wilkes");
    n.peer_down("Wilkes", 0);
    n.client_line(1, "IAMAT kiwi.cs.ucla.edu +1+1 1520023935", received);
    CHECK(only<send_effect>(drain(n)).empty());
}

TEST_CASE("a FLOOD that changes the store is forwarded to every live neighbour but the sender",
          "[core]") {
    node n = live_goloman();
    const std::string flood =
        "FLOOD Welsh +0.100000000 kiwi +34.068930-118.445127 1520023934.918963997";
    n.peer_line("Holiday", flood, received);
    auto sends = only<send_effect>(drain(n));
    REQUIRE(sends.size() == 2);
    CHECK(sends[0].peer == "Hands");
    CHECK(sends[1].peer == "Wilkes");
    CHECK(sends[0].line == flood + "\n");
    // The same FLOOD again (by another path) changes nothing and goes nowhere.
    n.peer_line("Wilkes", flood, received);
    CHECK(drain(n).empty());
    CHECK(n.records().find("kiwi")->at_line() ==
          "AT Welsh +0.100000000 kiwi +34.068930-118.445127 1520023934.918963997");
}

TEST_CASE("a peer's refusal is logged and never answered", "[core]") {
    node n = live_goloman();
    n.peer_line("Hands", "? FLOOD garbage", received);
    const auto fx = drain(n);
    REQUIRE(fx.size() == 1);
    CHECK(std::holds_alternative<log_effect>(fx[0]));
}

TEST_CASE("lines from a server that is not a neighbour are ignored and logged", "[core]") {
    node n = live_goloman();
    n.peer_line("Welsh", "FLOOD Welsh +0.100000000 kiwi +1+1 5", received);
    const auto fx = drain(n);
    REQUIRE(fx.size() == 1);
    CHECK(std::holds_alternative<log_effect>(fx[0]));
    CHECK(n.records().empty());
}

TEST_CASE("a WHATSAT queries places at the stored location and replies AT line then JSON",
          "[core]") {
    node n = live_goloman();
    n.client_line(1, iamat_line, received);
    drain(n);
    n.client_line(2, "WHATSAT kiwi.cs.ucla.edu 10 2", received);
    const auto queries = only<query_places_effect>(drain(n));
    REQUIRE(queries.size() == 1);
    CHECK(queries[0].lat == Approx(34.068930));
    CHECK(queries[0].lon == Approx(-118.445127));
    CHECK(queries[0].radius_m == Approx(10000));
    CHECK(queries[0].limit == 2);
    CHECK(n.pending_places() == 1);

    n.places_done(queries[0].request, {true, three_places, {}}, received);
    const auto replies = only<reply_effect>(drain(n));
    REQUIRE(replies.size() == 1);
    CHECK(replies[0].conn == 2);
    CHECK(replies[0].text == std::string(at_line) + "\n" +
                                 "{\n"
                                 "   \"html_attributions\": [],\n"
                                 "   \"results\": [\n"
                                 "      {\n"
                                 "         \"name\": \"A\",\n"
                                 "         \"vicinity\": \"a\\n\\n\\nb\"\n"
                                 "      },\n"
                                 "      {\n"
                                 "         \"name\": \"B\"\n"
                                 "      }\n"
                                 "   ],\n"
                                 "   \"status\": \"OK\"\n"
                                 "}\n\n");
    CHECK(n.pending_places() == 0);
}

TEST_CASE("a failed places lookup or a bad status is answered with the WHATSAT refused",
          "[core]") {
    node n = live_goloman();
    n.client_line(1, iamat_line, received);
    drain(n);
    const std::string line = "WHATSAT kiwi.cs.ucla.edu 10 5";
    for (const places_result& r : {
             places_result{false, {}, "connection refused"},
             places_result{true, R"({"status": "REQUEST_DENIED", "results": []})", {}},
             places_result{true, R"({"status": "OVER_QUERY_LIMIT"})", {}},
             places_result{true, R"({"results": []})", {}},
             places_result{true, R"({"status": "OK", "results": [)", {}},
             places_result{true, "[1, 2]", {}},
         }) {
        n.client_line(4, line, received);
        const auto q = only<query_places_effect>(drain(n));
        REQUIRE(q.size() == 1);
        n.places_done(q[0].request, r, received);
        const auto fx = drain(n);
        const auto replies = only<reply_effect>(fx);
        REQUIRE(replies.size() == 1);
        CHECK(replies[0].text == "? " + line + "\n");
        CHECK(only<log_effect>(fx).size() == 1);
    }
}

TEST_CASE("ZERO_RESULTS is a valid places answer", "[core]") {
    std::string why;
    const auto json = format_places(R"({"html_attributions":[],"results":[],"status":"ZERO_RESULTS"})", 5, why);
    REQUIRE(json);
    CHECK(*json == "{\n   \"html_attributions\": [],\n   \"results\": [],\n   \"status\": \"ZERO_RESULTS\"\n}");
}

TEST_CASE("places answers for unknown requests are ignored", "[core]") {
    node n = live_goloman();
    n.places_done(42, {true, three_places, {}}, received);
    CHECK(drain(n).empty());
}

TEST_CASE("places lookups in flight are bounded", "[core]") {
    node n = live_goloman();
    n.client_line(1, iamat_line, received);
    drain(n);
    for (std::size_t i = 0; i < node::pending_places_max; ++i)
        n.client_line(2, "WHATSAT kiwi.cs.ucla.edu 10 2", received);
    CHECK(only<query_places_effect>(drain(n)).size() == node::pending_places_max);
    n.client_line(2, "WHATSAT kiwi.cs.ucla.edu 10 2", received);
    const auto fx = drain(n);
    CHECK(only<query_places_effect>(fx).empty());
    CHECK(only<reply_effect>(fx).at(0).text == "? WHATSAT kiwi.cs.ucla.edu 10 2\n");
}

TEST_CASE("a full store refuses new clients and keeps updating known ones", "[core]") {
    node n = live_goloman();
    n.limit_records(2);
    n.client_line(1, "IAMAT a +1+1 1", received);
    n.client_line(1, "IAMAT b +1+1 1", received);
    drain(n);
    n.client_line(1, "IAMAT c +1+1 1", received);
    auto fx = drain(n);
    CHECK(only<reply_effect>(fx).at(0).text == "? IAMAT c +1+1 1\n");
    CHECK(only<send_effect>(fx).empty());
    CHECK(only<log_effect>(fx).size() == 1);
    n.peer_line("Hands", "FLOOD Welsh +0.000000001 d +1+1 1", received);
    CHECK(n.records().find("d") == nullptr);
    n.client_line(1, "IAMAT a +2+2 2", received);
    CHECK(only<reply_effect>(drain(n)).at(0).text.starts_with("AT Goloman "));
    CHECK(n.records().find("a")->location_text == "+2+2");
    CHECK(n.records().size() == 2);
}
