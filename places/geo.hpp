#pragma once
// Distances on the sphere (DESIGN §7): haversine over the mean Earth radius. One function for the
// index, its tests and the brute-force baseline of bench/places_bench.cpp, so all three agree to
// the last bit.

#include <numbers>

namespace herd::places {

// The IUGG mean Earth radius, R1 = (2a + b) / 3.
inline constexpr double earth_radius_m = 6'371'008.8;
inline constexpr double radians_per_degree = std::numbers::pi / 180;

// A position prepared for many distance computations: latitude and longitude in radians and the
// cosine of the latitude. Latitude in [-90, 90] and longitude in [-180, 180] degrees; any
// longitude works (the formula is periodic in it).
struct geo_point {
    double lat_rad = 0;
    double lon_rad = 0;
    double cos_lat = 1;

    static geo_point from_degrees(double lat, double lon);
};

// The great-circle distance in metres between `a` and `b` (haversine formula, earth_radius_m),
// in [0, π·earth_radius_m]. Symmetric; exact zero for equal points.
double distance_m(const geo_point& a, const geo_point& b);

// The same for positions in degrees.
double distance_m(double lat1, double lon1, double lat2, double lon2);

// A position as a point on the unit sphere (x towards (0°, 0°), z towards the North Pole).
struct unit_vector {
    double x = 0;
    double y = 0;
    double z = 0;
};

unit_vector to_unit_vector(const geo_point& p);

// The squared chord length between two points of the unit sphere.
double chord2(const unit_vector& a, const unit_vector& b);

// An upper bound of chord2 for two points at most `metres` apart (by distance_m): the exact
// chord widened enough to cover the rounding of both formulas, so that a search pruning on it
// never loses a point that distance_m puts within `metres`. Above half the circumference (or for
// a NaN) it is larger than any chord.
double chord2_bound(double metres);

}  // namespace herd::places
