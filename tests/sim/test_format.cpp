#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "sim/format.hpp"
#include "sim/random.hpp"

using namespace herd::sim;

namespace {

std::string fixed6(double v) {
    char buf[400];
    return std::string(buf, write_fixed6(buf, buf + sizeof buf, v));
}

std::string printf6(double v) {
    char buf[400];
    std::snprintf(buf, sizeof buf, "%.6f", v);
    return buf;
}

}  // namespace

TEST_CASE("write_fixed6 writes what printf writes for random coordinates", "[sim]") {
    rng r(7);
    for (int i = 0; i < 1'000'000; ++i) {
        const double v = (r.uniform01() - 0.5) * 360;
        REQUIRE(fixed6(v) == printf6(v));
    }
}

TEST_CASE("write_fixed6 rounds exact ties to even as printf does", "[sim]") {
    // k / 2^7 has seven decimals ending in 5 when k is odd: 1/128 = 0.0078125.
    for (int shift = 7; shift <= 20; ++shift)
        for (int k = -5000; k <= 5000; ++k) {
            const double v = std::ldexp(static_cast<double>(k), -shift);
            REQUIRE(fixed6(v) == printf6(v));
        }
}

TEST_CASE("write_fixed6 agrees with printf next to every rounding boundary", "[sim]") {
    rng r(11);
    for (int i = 0; i < 200'000; ++i) {
        // Half a unit of the sixth decimal, and the doubles on either side of it.
        const double half = (static_cast<double>(r.below(360'000'000)) - 180'000'000 + 0.5) / 1e6;
        for (double v : {std::nextafter(half, -1e9), half, std::nextafter(half, 1e9)}) REQUIRE(fixed6(v) == printf6(v));
    }
}

TEST_CASE("write_fixed6 agrees with printf for zeros, tiny, large and special values", "[sim]") {
    const std::vector<double> values = {0.0, -0.0, 1e-300, -1e-300, 4.9e-324, 2.5e-7, -2.5e-7, 5e-7, 4.99999e-7,
                                        0.5, 1.5, 179.9999995, -179.9999995, 89.9999999, 1e12, -1e12, 8.796e12,
                                        9e12, 1e15, 4503599627370497.0, 1e300, -1e300, 123456789.123456789};
    for (double v : values) CHECK(fixed6(v) == printf6(v));
    CHECK(fixed6(INFINITY) == "inf");
    CHECK(fixed6(-INFINITY) == "-inf");
}
