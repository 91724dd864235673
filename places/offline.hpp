#pragma once
// The offline places provider (DESIGN §7): an index over a places data set answering "nearest
// places within a radius" in Google's Nearby Search JSON shape, with no network.
//
// The index is a k-d tree over the places as points of the unit sphere (3-D), so the
// antimeridian and the poles need no special case. Distances are haversine (places/geo.hpp).
// Deterministic: no clock, no randomness; equal distances are ordered by GeoNames id.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "places/data.hpp"
#include "places/geo.hpp"

namespace herd::places {

class offline_index;

// The index a host answers from: the embedded one when `data_file` is empty, else one over that
// file. Throws load_error for a missing or malformed file.
std::shared_ptr<const offline_index> open_index(const std::string& data_file);

// Google returns at most 20 results a page; so does the index, whatever the limit asked.
inline constexpr int results_max = 20;

class offline_index {
public:
    // The index over the data set compiled into the binary (data/places.tsv), built on first use
    // (thread-safe) and kept for the life of the program.
    static const offline_index& embedded();

    // An index over the data file at `path`. Throws load_error (places/data.hpp) when the file is
    // missing, unreadable or malformed; the message names the file, the line and the problem.
    static offline_index from_file(const std::filesystem::path& path);

    // An index over a data file's text; `source_name` names it in errors. Throws load_error.
    static offline_index from_text(std::string_view text, std::string_view source_name);

    // An index over `places` (ids must be unique; the loaders check it).
    explicit offline_index(std::vector<place> places);

    offline_index(offline_index&&) noexcept = default;
    offline_index& operator=(offline_index&&) noexcept = default;
    offline_index(const offline_index&) = delete;
    offline_index& operator=(const offline_index&) = delete;

    std::size_t size() const { return places_.size(); }
    // Every place, in data file order.
    const std::vector<place>& all() const { return places_; }

    // The places whose distance_m from (lat, lon) is at most radius_m, nearest first (equal
    // distances by id), at most min(limit, results_max) of them. Empty when limit < 1,
    // radius_m < 0 or NaN, or lat or lon is not finite. The pointers live as long as the index.
    std::vector<const place*> nearby(double lat, double lon, double radius_m, int limit) const;

    // The Nearby Search JSON body for the same query (places/google_json.hpp): status "OK" with
    // the results, or "ZERO_RESULTS". The same query gives the same bytes.
    std::string nearby_json(double lat, double lon, double radius_m, int limit) const;

private:
    // A place as a point of the k-d tree, in tree order; small, so that building the tree moves
    // little memory.
    struct point {
        unit_vector v;
        std::uint32_t id = 0;
        std::uint32_t slot = 0;  // index into places_
    };
    struct box {
        double lo[3];
        double hi[3];
    };
    // A node covers points_[begin, end) and their bounding box; leaves have no children.
    struct node {
        box bounds;
        std::uint32_t begin = 0;
        std::uint32_t end = 0;
        std::uint32_t left = 0;  // 0: a leaf (the root is node 0, never a child)
        std::uint32_t right = 0;
    };
    struct search;

    std::uint32_t build(std::uint32_t begin, std::uint32_t end, const box& loose);

    std::vector<place> places_;
    std::vector<point> points_;
    std::vector<geo_point> geo_;  // geo_[i] is points_[i] for haversine, also in tree order
    std::vector<node> nodes_;
};

}  // namespace herd::places
