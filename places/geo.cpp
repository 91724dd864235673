#include "places/geo.hpp"

#include <algorithm>
#include <cmath>

namespace herd::places {

geo_point geo_point::from_degrees(double lat, double lon) {
    const double lat_rad = lat * radians_per_degree;
    return geo_point{lat_rad, lon * radians_per_degree, std::cos(lat_rad)};
}

double distance_m(const geo_point& a, const geo_point& b) {
    const double s_lat = std::sin((b.lat_rad - a.lat_rad) / 2);
    const double s_lon = std::sin((b.lon_rad - a.lon_rad) / 2);
    const double h = s_lat * s_lat + a.cos_lat * b.cos_lat * s_lon * s_lon;
    // Rounding can push h a hair past 1 for antipodal points.
    return 2 * earth_radius_m * std::asin(std::sqrt(std::min(h, 1.0)));
}

double distance_m(double lat1, double lon1, double lat2, double lon2) {
    return distance_m(geo_point::from_degrees(lat1, lon1), geo_point::from_degrees(lat2, lon2));
}

unit_vector to_unit_vector(const geo_point& p) {
    return unit_vector{p.cos_lat * std::cos(p.lon_rad), p.cos_lat * std::sin(p.lon_rad),
                       std::sin(p.lat_rad)};
}

double chord2(const unit_vector& a, const unit_vector& b) {
    const double dx = a.x - b.x;
    const double dy = a.y - b.y;
    const double dz = a.z - b.z;
    return dx * dx + dy * dy + dz * dz;
}

double chord2_bound(double metres) {
    const double angle = metres / earth_radius_m;
    if (!(angle < std::numbers::pi)) return 5.0;  // every chord is at most 2
    const double chord = 2 * std::sin(std::max(angle, 0.0) / 2);
    // Relative slack for the trigonometry, absolute slack (about 6 µm) for the cancellation in
    // chord2 of nearly equal vectors: both far above the rounding, far below anything visible.
    const double widened = chord * (1 + 1e-7) + 1e-12;
    return widened * widened;
}

}  // namespace herd::places
