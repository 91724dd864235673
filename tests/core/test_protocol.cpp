// core/protocol: times, diffs, locations and the parsing of client and peer lines.
#include <catch2/catch.hpp>

#include <limits>
#include <string>
#include <vector>

#include "core/node.hpp"
#include "core/protocol.hpp"
#include "core/topology.hpp"

using namespace herd::core;

namespace {
constexpr nanos s(std::int64_t seconds) { return seconds * 1'000'000'000; }
}  // namespace

TEST_CASE("client times parse exactly into integer nanoseconds", "[core]") {
    CHECK(parse_time("1520023934.918963997") == 1520023934918963997);
    CHECK(parse_time("1700000000.1234567") == 1700000000123456700);
    CHECK(parse_time("1520023934") == s(1520023934));
    CHECK(parse_time("0") == 0);
    CHECK(parse_time("0.000000001") == 1);
    // The largest time that fits in nanos, and one past it.
    CHECK(parse_time("9223372036.854775807") == std::numeric_limits<nanos>::max());
    CHECK_FALSE(parse_time("9223372036.854775808"));
    CHECK_FALSE(parse_time("99999999999999999999"));
}

TEST_CASE("two client times a double cannot tell apart stay different", "[core]") {
    const auto a = parse_time("1520023934.918963997");
    const auto b = parse_time("1520023934.918963998");
    REQUIRE(a);
    REQUIRE(b);
    CHECK(*b - *a == 1);
    CHECK(static_cast<double>(*a) == static_cast<double>(*b));  // why we never use double
}

TEST_CASE("malformed client times are refused", "[core]") {
    for (const char* t : {"1e9", "-5", "+5", "12.", ".5", "1520023934.1234567890", "", "abc",
                          "12.3.4", "0x10", "1 2", "12,5", "١٢"})
        CHECK_FALSE(parse_time(t));
}

TEST_CASE("time differences print with a sign and exactly nine fractional digits", "[core]") {
    CHECK(format_diff(263873386) == "+0.263873386");
    CHECK(format_diff(-1) == "-0.000000001");
    CHECK(format_diff(s(12)) == "+12.000000000");
    CHECK(format_diff(0) == "+0.000000000");
    CHECK(format_diff(-s(3) - 5) == "-3.000000005");
    CHECK(format_diff(std::numeric_limits<nanos>::min()) == "-9223372036.854775808");
    CHECK(format_diff(std::numeric_limits<nanos>::max()) == "+9223372036.854775807");
}

TEST_CASE("a client clock ahead of the server gives a negative diff with a fractional borrow",
          "[core]") {
    // Server receives at 1520023934.100000000; the client claims .918963997, 0.818963997 ahead.
    const nanos client = *parse_time("1520023934.918963997");
    const nanos server = *parse_time("1520023934.1");
    CHECK(format_diff(diff_saturated(server, client)) == "-0.818963997");
    // Borrow across a whole second: server 1520023936.000000001, client 1520023934.999999999.
    CHECK(format_diff(diff_saturated(*parse_time("1520023936.000000001"),
                                     *parse_time("1520023934.999999999"))) == "+1.000000002");
    CHECK(format_diff(diff_saturated(*parse_time("1520023934.999999999"),
                                     *parse_time("1520023936.000000001"))) == "-1.000000002");
}

TEST_CASE("a diff that would overflow saturates instead", "[core]") {
    CHECK(diff_saturated(std::numeric_limits<nanos>::min(), 1) == std::numeric_limits<nanos>::min());
    CHECK(diff_saturated(0, std::numeric_limits<nanos>::min()) == std::numeric_limits<nanos>::max());
}

TEST_CASE("diffs parse back exactly as they were formatted", "[core]") {
    for (nanos d : {nanos{0}, nanos{1}, nanos{-1}, s(12), -s(7) - 999999999, nanos{263873386}})
        CHECK(parse_diff(format_diff(d)) == d);
    CHECK_FALSE(parse_diff("0.263873386"));
    CHECK_FALSE(parse_diff("+0.26387338"));
    CHECK_FALSE(parse_diff("+0.2638733860"));
    CHECK_FALSE(parse_diff("+.263873386"));
}

TEST_CASE("ISO 6709 locations parse with optional fractions and exact range checks", "[core]") {
    const auto ucla = parse_location("+34.068930-118.445127");
    REQUIRE(ucla);
    CHECK(ucla->lat == Approx(34.068930));
    CHECK(ucla->lon == Approx(-118.445127));
    const auto whole = parse_location("+12-118");
    REQUIRE(whole);
    CHECK(whole->lat == 12);
    CHECK(whole->lon == -118);
    CHECK(parse_location("+90.000-180.0"));
    CHECK(parse_location("-90+180"));
    CHECK(parse_location("+0+0"));
    for (const char* l : {"+90.0000001+0", "+91+0", "+0+181", "+0-180.5", "34.1-118",
                          "+34.1+-118", "+34.1", "+34.1-", "+.5+1", "+5.+1", "+1234+1",
                          "+34.1-118.4x", "++34-118", "", "+34.1-118-5"})
        CHECK_FALSE(parse_location(l));
}

TEST_CASE("fields are split on runs of any white space", "[core]") {
    const auto f = split_fields(" \tIAMAT  a\v\fb\r\n");
    REQUIRE(f.size() == 3);
    CHECK(f[0] == "IAMAT");
    CHECK(f[1] == "a");
    CHECK(f[2] == "b");
    CHECK(split_fields("   ").empty());
}

TEST_CASE("fields are split as a byte-by-byte scan splits them, whatever bytes a line holds", "[core]") {
    // The split reads eight bytes at a time: white space at every offset of a word, control
    // characters (part of a field) and bytes above 0x7f must come out as one byte at a time does.
    auto reference = [](std::string_view line) {
        std::vector<std::string_view> out;
        std::size_t i = 0;
        auto space = [](char c) { return c == ' ' || (c >= '\t' && c <= '\r'); };
        while (i < line.size()) {
            while (i < line.size() && space(line[i])) ++i;
            const std::size_t start = i;
            while (i < line.size() && !space(line[i])) ++i;
            if (i > start) out.push_back(line.substr(start, i - start));
        }
        return out;
    };
    const char alphabet[] = {' ', '\t', '\n', '\v', '\f', '\r', '\x01', '\x08', '\x0e', '\x1f', '\x20', '\x21',
                             'a', 'Z', '0', '+', '.', '\x7f', '\x80', '\xc3', '\xa9', '\xff', '\0'};
    std::uint64_t state = 12345;
    auto next = [&] {  // a fixed sequence (xorshift64), the same every run
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        return state;
    };
    for (int n = 0; n < 20000; ++n) {
        std::string line(next() % 40, 'x');
        for (char& c : line)
            if (next() % 3 != 0) c = alphabet[next() % sizeof alphabet];
        INFO("line " << n << " of " << line.size() << " bytes");
        REQUIRE(split_fields(line) == reference(line));
    }
}

TEST_CASE("every malformed client line is answered with itself after '? ', byte for byte",
          "[core]") {
    const std::string id255(255, 'k');
    const std::string id256(256, 'k');
    const char* table[] = {
        // wrong commands and field counts
        "",
        "   ",
        "HELLO",
        "iamat kiwi +34.068930-118.445127 1520023934.918963997",
        "IAMAT",
        "IAMAT kiwi",
        "IAMAT kiwi +34.068930-118.445127",
        "IAMAT kiwi +34.068930-118.445127 1520023934.918963997 extra",
        "WHATSAT",
        "WHATSAT kiwi 10",
        "WHATSAT kiwi 10 5 extra",
        "whatsat kiwi 10 5",
        "AT Goloman +0.263873386 kiwi +34.068930-118.445127 1520023934.918963997",
        // locations
        "IAMAT kiwi +34.1+-118 1520023934",
        "IAMAT kiwi 34.1-118 1520023934",
        "IAMAT kiwi +91-118 1520023934",
        "IAMAT kiwi +90.5-118 1520023934",
        "IAMAT kiwi +34-181 1520023934",
        "IAMAT kiwi +34+180.000001 1520023934",
        "IAMAT kiwi +34.-118 1520023934",
        "IAMAT kiwi +34 1520023934",
        "IAMAT kiwi north 1520023934",
        // times
        "IAMAT kiwi +34.068930-118.445127 1e9",
        "IAMAT kiwi +34.068930-118.445127 -5",
        "IAMAT kiwi +34.068930-118.445127 12.",
        "IAMAT kiwi +34.068930-118.445127 .5",
        "IAMAT kiwi +34.068930-118.445127 1520023934.9189639970",
        "IAMAT kiwi +34.068930-118.445127 now",
        "IAMAT kiwi +34.068930-118.445127 99999999999999999999",
        // radius and limit (the client is known, so only the field can be at fault)
        "WHATSAT kiwi 0 5",
        "WHATSAT kiwi 0.000 5",
        "WHATSAT kiwi 51 5",
        "WHATSAT kiwi 50.01 5",
        "WHATSAT kiwi abc 5",
        "WHATSAT kiwi -10 5",
        "WHATSAT kiwi 1e1 5",
        "WHATSAT kiwi 10 0",
        "WHATSAT kiwi 10 21",
        "WHATSAT kiwi 10 5.5",
        "WHATSAT kiwi 10 -1",
        "WHATSAT kiwi 10 many",
        // unknown client, overlong client id
        "WHATSAT nobody 10 5",
        "IAMAT \t " "kkk" " \t+34.068930-118.445127    1520023934  extra",
        // a client may not send FLOOD
        "FLOOD Welsh +0.263873386 kiwi +34.068930-118.445127 1520023934.918963997",
    };
    static_assert(sizeof table / sizeof table[0] >= 40);

    node n("Goloman", seed_topology());
    std::vector<effect> fx;
    n.client_line(1, "IAMAT kiwi +34.068930-118.445127 1520023934.918963997", s(1520023935));
    n.poll_effects(fx);
    REQUIRE(n.records().find("kiwi"));

    auto check = [&](const std::string& line) {
        INFO("line: [" << line << "]");
        n.client_line(7, line, s(1520023935));
        n.poll_effects(fx);
        REQUIRE_FALSE(fx.empty());
        const auto* r = std::get_if<reply_effect>(&fx.front());
        REQUIRE(r);
        CHECK(r->conn == 7);
        CHECK(r->text == "? " + line + "\n");
        for (const auto& e : fx) CHECK_FALSE(std::holds_alternative<send_effect>(e));
    };
    for (const char* line : table) check(line);
    check("IAMAT " + id256 + " +34.068930-118.445127 1520023934");
    check("WHATSAT " + id256 + " 10 5");
    // 255 bytes is the longest id: accepted.
    n.client_line(7, "IAMAT " + id255 + " +34.068930-118.445127 1520023934", s(1520023935));
    n.poll_effects(fx);
    CHECK(std::get<reply_effect>(fx.front()).text.starts_with("AT Goloman "));
    // The store still holds exactly what the one good IAMAT put there.
    CHECK(n.records().size() == 2);
}

TEST_CASE("a refused line keeps its internal spacing and drops only the \\r of \\r\\n", "[core]") {
    node n("Hands", seed_topology());
    std::vector<effect> fx;
    n.client_line(3, "  WHATSAT \t nobody   10  5 \r", 0);
    n.poll_effects(fx);
    REQUIRE(fx.size() == 1);
    CHECK(std::get<reply_effect>(fx[0]).text == "?   WHATSAT \t nobody   10  5 \n");
}

TEST_CASE("FLOOD from a neighbour is refused when its origin or fields are unknown or malformed",
          "[core]") {
    node n("Goloman", seed_topology());
    n.peer_up("Hands", 0);
    std::vector<effect> fx;
    n.poll_effects(fx);
    for (const char* line : {
             "FLOOD Nowhere +0.263873386 kiwi +34.068930-118.445127 1520023934.918963997",
             "FLOOD Welsh 0.263873386 kiwi +34.068930-118.445127 1520023934.918963997",
             "FLOOD Welsh +0.263873386 kiwi +34.068930-118.445127",
             "FLOOD Welsh +0.263873386 kiwi +34.068930-318.445127 1520023934.918963997",
             "IAMAT kiwi +34.068930-118.445127 1520023934.918963997",
         }) {
        INFO(line);
        n.peer_line("Hands", line, 0);
        n.poll_effects(fx);
        bool refused = false;
        for (const auto& e : fx)
            if (const auto* sd = std::get_if<send_effect>(&e))
                refused = sd->peer == "Hands" && sd->line == "? " + std::string(line) + "\n";
        CHECK(refused);
    }
    CHECK(n.records().empty());
}
