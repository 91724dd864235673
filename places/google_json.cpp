#include "places/google_json.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <numbers>

#include "places/geo.hpp"

namespace herd::places {

namespace {

constexpr std::array<std::string_view, 2> locality_types{"locality", "political"};
constexpr std::array<std::string_view, 2> neighborhood_types{"neighborhood", "political"};

constexpr double people_per_km2 = 1000;
constexpr double viewport_half_km_min = 1;
constexpr double viewport_half_km_max = 50;

double round7(double v) { return std::round(v * 1e7) / 1e7 + 0.0; }  // + 0.0: no -0

double wrap_lng(double lng) {
    if (lng > 180) return lng - 360;
    if (lng < -180) return lng + 360;
    return lng;
}

// The shortest decimal that reads back as `v`, never in exponent form (Google writes 34.0522342).
void append_number(std::string& out, double v) {
    std::array<char, 64> buf;
    const auto r = std::to_chars(buf.data(), buf.data() + buf.size(), v, std::chars_format::fixed);
    out.append(buf.data(), r.ptr);
}

// A JSON string. Names are checked to be UTF-8 without control characters when loaded, so only
// '"' and '\\' need escaping; control characters are escaped anyway, to stay valid JSON.
void append_string(std::string& out, std::string_view s) {
    constexpr std::string_view hex = "0123456789abcdef";
    const auto needs_escape = [](char c) {
        return c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20;
    };
    out += '"';
    while (!s.empty()) {
        // Plain runs are appended whole; escaping is the rare case.
        const auto plain =
            static_cast<std::size_t>(std::find_if(s.begin(), s.end(), needs_escape) - s.begin());
        out.append(s.substr(0, plain));
        if (plain == s.size()) break;
        const auto c = static_cast<unsigned char>(s[plain]);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else {
            out += "\\u00";
            out += hex[c >> 4];
            out += hex[c & 0xf];
        }
        s.remove_prefix(plain + 1);
    }
    out += '"';
}

// Google's layout: three spaces per level, `"key" : value`.
class writer {
public:
    explicit writer(std::string& out) : out_(out) {}

    void key(int depth, std::string_view k) {
        out_.append(static_cast<std::size_t>(depth) * 3, ' ');
        append_string(out_, k);
        out_ += " : ";
    }
    void string_member(int depth, std::string_view k, std::string_view v, bool last) {
        key(depth, k);
        append_string(out_, v);
        end(last);
    }
    void lat_lng_object(int depth, std::string_view k, const lat_lng& v, bool last) {
        key(depth, k);
        out_ += "{\n";
        key(depth + 1, "lat");
        append_number(out_, v.lat);
        out_ += ",\n";
        key(depth + 1, "lng");
        append_number(out_, v.lng);
        out_ += '\n';
        close(depth, '}', last);
    }
    void close(int depth, char bracket, bool last) {
        out_.append(static_cast<std::size_t>(depth) * 3, ' ');
        out_ += bracket;
        end(last);
    }
    void end(bool last) { out_ += last ? "\n" : ",\n"; }

private:
    std::string& out_;
};

void append_result(writer& w, std::string& out, const place& p) {
    out += "      {\n";
    w.key(3, "geometry");
    out += "{\n";
    w.lat_lng_object(4, "location", {p.lat, p.lon}, false);
    const viewport v = viewport_for(p);
    w.key(4, "viewport");
    out += "{\n";
    w.lat_lng_object(5, "northeast", v.northeast, false);
    w.lat_lng_object(5, "southwest", v.southwest, true);
    w.close(4, '}', true);
    w.close(3, '}', false);
    w.string_member(3, "icon", geocode_icon, false);
    w.string_member(3, "name", p.name, false);
    const std::string id = place_id_for(p);
    w.string_member(3, "place_id", id, false);
    w.string_member(3, "reference", id, false);
    w.key(3, "types");
    out += "[ ";
    bool first = true;
    for (const auto t : types_for(p.feature_code)) {
        if (!first) out += ", ";
        first = false;
        append_string(out, t);
    }
    out += " ],\n";
    w.string_member(3, "vicinity", vicinity_for(p), true);
}

}  // namespace

std::span<const std::string_view> types_for(std::string_view feature_code) {
    if (feature_code == "PPLX") return neighborhood_types;
    return locality_types;
}

std::string place_id_for(const place& p) { return "geonames:" + std::to_string(p.id); }

std::string vicinity_for(const place& p) {
    std::string out = p.name;
    const bool letters =
        !p.admin.empty() && std::all_of(p.admin.begin(), p.admin.end(), [](char c) {
            return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
        });
    if (letters) out += ", " + p.admin;
    if (!p.country.empty()) out += ", " + p.country;
    return out;
}

viewport viewport_for(const place& p) {
    const double half_km = std::clamp(std::sqrt(p.population / (std::numbers::pi * people_per_km2)),
                                      viewport_half_km_min, viewport_half_km_max);
    const double dlat = half_km * 1000 / earth_radius_m / radians_per_degree;
    const double north = std::min(p.lat + dlat, 90.0);
    const double south = std::max(p.lat - dlat, -90.0);
    // Widest at the parallel nearer the pole; the whole circle once a pole is inside.
    const double cos_edge =
        std::cos(std::max(std::abs(north), std::abs(south)) * radians_per_degree);
    const double dlon = cos_edge > 0 ? dlat / cos_edge : 180;
    viewport v;
    v.northeast.lat = round7(north);
    v.southwest.lat = round7(south);
    if (dlon >= 180) {
        v.northeast.lng = 180;
        v.southwest.lng = -180;
    } else {
        v.northeast.lng = round7(wrap_lng(p.lon + dlon));
        v.southwest.lng = round7(wrap_lng(p.lon - dlon));
    }
    return v;
}

std::string nearby_search_json(std::span<const place* const> results) {
    std::string out;
    out.reserve(256 + results.size() * 1024);
    writer w(out);
    out += "{\n";
    w.key(1, "html_attributions");
    out += "[],\n";
    w.key(1, "results");
    if (results.empty()) {
        out += "[],\n";
    } else {
        out += "[\n";
        for (std::size_t i = 0; i < results.size(); ++i) {
            append_result(w, out, *results[i]);
            w.close(2, '}', i + 1 == results.size());
        }
        w.close(1, ']', false);
    }
    w.string_member(1, "status", results.empty() ? "ZERO_RESULTS" : "OK", true);
    out += "}\n";
    return out;
}

}  // namespace herd::places
