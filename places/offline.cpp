#include "places/offline.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <limits>

#include "places/google_json.hpp"

namespace herd::places {

namespace {

constexpr std::uint32_t leaf_points_max = 8;

constexpr double unit_vector::*axes[3] = {&unit_vector::x, &unit_vector::y, &unit_vector::z};

}  // namespace

// One query's state: the query point, the best candidates so far (a max-heap by (distance, id)
// of at most `limit`), and the squared chord past which nothing can enter the heap.
struct offline_index::search {
    struct candidate {
        double distance_m;
        std::uint32_t id;
        std::uint32_t slot;
        bool operator<(const candidate& o) const {
            return distance_m != o.distance_m ? distance_m < o.distance_m : id < o.id;
        }
    };

    const offline_index& index;
    geo_point g;
    unit_vector v;
    double radius_m;
    std::size_t limit;
    double bound2;
    std::vector<candidate> heap;

    double box_distance2(const node& n) const {
        const box& b = n.bounds;
        double d2 = 0;
        for (int a = 0; a < 3; ++a) {
            const double q = v.*axes[a];
            const double d = q < b.lo[a] ? b.lo[a] - q : q > b.hi[a] ? q - b.hi[a] : 0;
            d2 += d * d;
        }
        return d2;
    }

    void offer(std::uint32_t i) {
        const point& p = index.points_[i];
        if (chord2(v, p.v) > bound2) return;
        const candidate c{distance_m(g, index.geo_[i]), p.id, p.slot};
        if (c.distance_m > radius_m) return;
        if (heap.size() < limit) {
            heap.push_back(c);
            std::push_heap(heap.begin(), heap.end());
        } else if (c < heap.front()) {
            std::pop_heap(heap.begin(), heap.end());
            heap.back() = c;
            std::push_heap(heap.begin(), heap.end());
        } else {
            return;
        }
        // Once full, only places nearer than the farthest kept (or as near, with a smaller id)
        // can still enter: shrink the search to it.
        if (heap.size() == limit) bound2 = std::min(bound2, chord2_bound(heap.front().distance_m));
    }

    void visit(std::uint32_t at) {
        const node& n = index.nodes_[at];
        if (box_distance2(n) > bound2) return;
        if (n.left == 0) {
            for (std::uint32_t i = n.begin; i < n.end; ++i) offer(i);
            return;
        }
        // Nearer child first: it fills the heap sooner, which shrinks the bound for the other.
        const bool left_first =
            box_distance2(index.nodes_[n.left]) <= box_distance2(index.nodes_[n.right]);
        visit(left_first ? n.left : n.right);
        visit(left_first ? n.right : n.left);
    }
};

offline_index offline_index::from_file(const std::filesystem::path& path) {
    return offline_index(read_places_file(path));
}

offline_index offline_index::from_text(std::string_view text, std::string_view source_name) {
    return offline_index(parse_places(text, source_name));
}

const offline_index& offline_index::embedded() {
    static const offline_index index = from_text(embedded_text(), "embedded data/places.tsv");
    return index;
}

offline_index::offline_index(std::vector<place> places) : places_(std::move(places)) {
    assert(places_.size() <= places_max);
    std::vector<geo_point> geo;  // in place order; geo_ gets it in tree order
    geo.reserve(places_.size());
    points_.reserve(places_.size());
    for (std::size_t i = 0; i < places_.size(); ++i) {
        geo.push_back(geo_point::from_degrees(places_[i].lat, places_[i].lon));
        points_.push_back(
            point{to_unit_vector(geo.back()), places_[i].id, static_cast<std::uint32_t>(i)});
    }
    // About two nodes per leaf.
    nodes_.reserve(2 * (places_.size() / (leaf_points_max / 2) + 1));
    if (!points_.empty())
        build(0, static_cast<std::uint32_t>(points_.size()), box{{-1, -1, -1}, {1, 1, 1}});
    geo_.reserve(points_.size());
    for (const point& p : points_) geo_.push_back(geo[p.slot]);
}

// Builds the node over points_[begin, end) and returns its index. `loose` contains those points
// (the parent's box cut at the split): it chooses the split axis, the widest. The exact boxes,
// which the queries prune with, are the union of the children's, so each point is measured once.
std::uint32_t offline_index::build(std::uint32_t begin, std::uint32_t end, const box& loose) {
    const auto at = static_cast<std::uint32_t>(nodes_.size());
    nodes_.emplace_back();
    node n;
    n.begin = begin;
    n.end = end;
    if (end - begin <= leaf_points_max) {
        for (int a = 0; a < 3; ++a) {
            n.bounds.lo[a] = std::numeric_limits<double>::infinity();
            n.bounds.hi[a] = -std::numeric_limits<double>::infinity();
        }
        for (std::uint32_t i = begin; i < end; ++i)
            for (int a = 0; a < 3; ++a) {
                n.bounds.lo[a] = std::min(n.bounds.lo[a], points_[i].v.*axes[a]);
                n.bounds.hi[a] = std::max(n.bounds.hi[a], points_[i].v.*axes[a]);
            }
        nodes_[at] = n;
        return at;
    }
    int axis = 0;
    for (int a = 1; a < 3; ++a)
        if (loose.hi[a] - loose.lo[a] > loose.hi[axis] - loose.lo[axis]) axis = a;
    const std::uint32_t mid = begin + (end - begin) / 2;
    // Ties by id: the same places give the same tree, whatever their order in the file.
    std::nth_element(points_.begin() + begin, points_.begin() + mid, points_.begin() + end,
                     [m = axes[axis]](const point& a, const point& b) {
                         const double ka = a.v.*m;
                         const double kb = b.v.*m;
                         return ka != kb ? ka < kb : a.id < b.id;
                     });
    const double split = points_[mid].v.*axes[axis];
    box lower = loose;
    box upper = loose;
    lower.hi[axis] = split;
    upper.lo[axis] = split;
    n.left = build(begin, mid, lower);
    n.right = build(mid, end, upper);
    const box& l = nodes_[n.left].bounds;
    const box& r = nodes_[n.right].bounds;
    for (int a = 0; a < 3; ++a) {
        n.bounds.lo[a] = std::min(l.lo[a], r.lo[a]);
        n.bounds.hi[a] = std::max(l.hi[a], r.hi[a]);
    }
    nodes_[at] = n;
    return at;
}

std::vector<const place*> offline_index::nearby(double lat, double lon, double radius_m,
                                                int limit) const {
    std::vector<const place*> out;
    // NaN anywhere would poison the heap's order; such a query has no answer.
    if (limit < 1 || !(radius_m >= 0) || !std::isfinite(lat) || !std::isfinite(lon) ||
        nodes_.empty())
        return out;
    const geo_point g = geo_point::from_degrees(lat, lon);
    search s{*this,
             g,
             to_unit_vector(g),
             radius_m,
             static_cast<std::size_t>(std::min(limit, results_max)),
             chord2_bound(radius_m),
             {}};
    s.heap.reserve(s.limit);
    s.visit(0);
    std::sort_heap(s.heap.begin(), s.heap.end());
    out.reserve(s.heap.size());
    for (const auto& c : s.heap) out.push_back(&places_[c.slot]);
    return out;
}

std::string offline_index::nearby_json(double lat, double lon, double radius_m, int limit) const {
    return nearby_search_json(nearby(lat, lon, radius_m, limit));
}

std::shared_ptr<const offline_index> open_index(const std::string& data_file) {
    if (data_file.empty())  // the embedded index lives as long as the program: nothing to own
        return std::shared_ptr<const offline_index>(&offline_index::embedded(), [](const offline_index*) {});
    return std::make_shared<const offline_index>(offline_index::from_file(data_file));
}

}  // namespace herd::places
