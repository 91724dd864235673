#include <catch2/catch.hpp>

#include <string>
#include <utility>
#include <vector>

#include "sim/simulator.hpp"

using herd::sim::timeline_lines;

namespace {

std::vector<std::string> as_strings(const timeline_lines& t) {
    std::vector<std::string> out;
    for (std::string_view l : t) out.emplace_back(l);
    return out;
}

}  // namespace

TEST_CASE("timeline lines keep every line in order across blocks, longer lines than a block too", "[sim]") {
    timeline_lines t;
    std::vector<std::string> expected;
    for (int i = 0; i < 30'000; ++i) {
        // About 3 MiB in all, with an empty line and a 2 MiB one among them.
        std::string line = i == 7 ? std::string() : i == 12'345 ? std::string(2u << 20, 'x') : "{\"line\":" + std::to_string(i) + std::string(static_cast<std::size_t>(i % 97), ' ') + "}";
        t.push_back(line);
        expected.push_back(std::move(line));
    }
    REQUIRE(t.size() == expected.size());
    CHECK(as_strings(t) == expected);
    CHECK(t[12'345].size() == 2u << 20);
    std::size_t bytes = 0;
    for (const auto& l : expected) bytes += l.size();
    CHECK(t.text_bytes() == bytes);
}

TEST_CASE("a copy of timeline lines holds its own text and a moved-from one can be written again", "[sim]") {
    timeline_lines a;
    a.push_back("first");
    a.push_back("second");
    timeline_lines copy = a;
    a.push_back("third");
    CHECK(as_strings(copy) == std::vector<std::string>{"first", "second"});
    copy = a;
    CHECK(as_strings(copy) == std::vector<std::string>{"first", "second", "third"});
    timeline_lines moved = std::move(a);
    CHECK(as_strings(moved) == std::vector<std::string>{"first", "second", "third"});
    a = timeline_lines();
    a.push_back("again");
    CHECK(as_strings(a) == std::vector<std::string>{"again"});
    CHECK(as_strings(moved) == std::vector<std::string>{"first", "second", "third"});
}
