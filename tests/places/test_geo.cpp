// places/geo: haversine distances and the chord bound the index prunes with.
#include <catch2/catch.hpp>

#include <cmath>
#include <numbers>

#include "places/geo.hpp"

using namespace herd::places;

TEST_CASE("distances are haversine over the mean Earth radius", "[places]") {
    // One degree of a great circle.
    CHECK(distance_m(0, 0, 0, 1) == Approx(earth_radius_m * std::numbers::pi / 180).epsilon(1e-12));
    CHECK(distance_m(0, 0, 1, 0) == Approx(111'195.0802).epsilon(1e-9));
    // Pole to pole, and antipodes on the equator: half the circumference.
    CHECK(distance_m(90, 0, -90, 0) == Approx(earth_radius_m * std::numbers::pi));
    CHECK(distance_m(0, 0, 0, 180) == Approx(earth_radius_m * std::numbers::pi));
    // UCLA to Westwood (GeoNames 5408522).
    CHECK(distance_m(34.068930, -118.445127, 34.05612, -118.43063) ==
          Approx(1952.508).margin(0.01));
}

TEST_CASE("distances are symmetric, zero for one point, and blind to the antimeridian",
          "[places]") {
    CHECK(distance_m(12.5, 45.25, 12.5, 45.25) == 0);
    CHECK(distance_m(34.1, -118.4, -33.9, 151.2) == distance_m(-33.9, 151.2, 34.1, -118.4));
    CHECK(distance_m(0, 179.95, 0, -179.95) == Approx(distance_m(0, -0.05, 0, 0.05)));
    CHECK(distance_m(10, 180, 10, -180) == Approx(0).margin(1e-6));
    // At a pole longitude means nothing.
    CHECK(distance_m(90, 0, 80, 10) == Approx(distance_m(90, 170, 80, 10)));
}

TEST_CASE("the chord bound covers every point distance_m puts within the radius", "[places]") {
    const auto a = geo_point::from_degrees(51.5, -0.1);
    for (const double km : {0.001, 1.0, 10.0, 50.0, 1000.0, 19'000.0}) {
        // A point `km` due north-east, and its chord against the bound for its own distance.
        const double deg = km / 111.195;
        const auto b = geo_point::from_degrees(51.5 + deg * 0.6, -0.1 + deg * 0.8);
        const double d = distance_m(a, b);
        CHECK(chord2(to_unit_vector(a), to_unit_vector(b)) <= chord2_bound(d));
        // And the bound is tight: no more than a part in a million wider.
        CHECK(std::sqrt(chord2_bound(d)) <=
              std::sqrt(chord2(to_unit_vector(a), to_unit_vector(b))) * (1 + 1e-6) + 1e-11);
    }
    CHECK(chord2_bound(earth_radius_m * 4) > 4);
    CHECK(chord2_bound(std::nan("")) > 4);
}
