// places_bench: how long the embedded places index takes to build, and how fast it answers
// "the 20 nearest places within r" compared with a brute-force scan of every place.
//
//   places_bench [queries]     (default 100000 index queries per radius; a hundredth as many
//                               brute-force ones, which are slower by about that factor)
//
// Queries are at populated places drawn with a fixed seed, so every run asks the same questions.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "places/offline.hpp"

using namespace herd::places;

namespace {

using bench_clock = std::chrono::steady_clock;

double elapsed_us(bench_clock::time_point start) {
    return std::chrono::duration<double, std::micro>(bench_clock::now() - start).count();
}

struct query {
    double lat;
    double lon;
};

// The baseline: every place's distance, then the nearest `limit` by (distance, id).
std::vector<const place*> brute_force(const offline_index& index, const query& q, double radius_m,
                                      int limit) {
    struct hit {
        double d;
        const place* p;
        bool operator<(const hit& o) const { return d != o.d ? d < o.d : p->id < o.p->id; }
    };
    std::vector<hit> hits;
    const geo_point from = geo_point::from_degrees(q.lat, q.lon);
    for (const place& p : index.all()) {
        const double d = distance_m(from, geo_point::from_degrees(p.lat, p.lon));
        if (d <= radius_m) hits.push_back({d, &p});
    }
    const auto n = std::min(hits.size(), static_cast<std::size_t>(limit));
    std::partial_sort(hits.begin(), hits.begin() + static_cast<std::ptrdiff_t>(n), hits.end());
    std::vector<const place*> out;
    for (std::size_t i = 0; i < n; ++i) out.push_back(hits[i].p);
    return out;
}

struct stats {
    double median_us;
    double p99_us;
    double mean_us;
};

stats summarise(std::vector<double> us) {
    std::sort(us.begin(), us.end());
    double sum = 0;
    for (const double u : us) sum += u;
    return {us[us.size() / 2], us[us.size() * 99 / 100], sum / static_cast<double>(us.size())};
}

// Times `run` once per query; `checksum` keeps the optimiser from dropping the work.
stats time_queries(const std::vector<query>& queries, std::size_t count,
                   const std::function<std::size_t(const query&)>& run, std::size_t& checksum) {
    std::vector<double> us;
    us.reserve(count);
    for (std::size_t i = 0; i < count; ++i) {
        const auto start = bench_clock::now();
        checksum += run(queries[i]);
        us.push_back(elapsed_us(start));
    }
    return summarise(us);
}

void row(const char* what, std::size_t count, const stats& s) {
    std::printf("%-26s %9zu %11.2f %9.2f %9.2f\n", what, count, s.median_us, s.p99_us, s.mean_us);
}

}  // namespace

int main(int argc, char** argv) {
    const std::size_t count = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 100'000;
    const std::size_t brute_count = std::max<std::size_t>(count / 100, 10);
    constexpr int limit = 20;

    // Build: parse the embedded text, then the tree; five times, the median counts.
    std::vector<double> parse_ms, tree_ms, total_ms;
    std::size_t size = 0;
    for (int i = 0; i < 5; ++i) {
        const auto start = bench_clock::now();
        auto places = parse_places(embedded_text(), "embedded");
        const double parsed = elapsed_us(start) / 1000;
        const offline_index index(std::move(places));
        const double total = elapsed_us(start) / 1000;
        parse_ms.push_back(parsed);
        tree_ms.push_back(total - parsed);
        total_ms.push_back(total);
        size = index.size();
    }
    const auto median = [](std::vector<double> v) {
        std::sort(v.begin(), v.end());
        return v[v.size() / 2];
    };
    std::printf("places_bench: %zu places (embedded data/places.tsv, %zu bytes)\n", size,
                embedded_text().size());
    std::printf(
        "build, median of 5: %.1f ms (parse %.1f ms + k-d tree %.1f ms); fastest %.1f ms\n\n",
        median(total_ms), median(parse_ms), median(tree_ms),
        *std::min_element(total_ms.begin(), total_ms.end()));

    const offline_index& index = offline_index::embedded();
    std::mt19937_64 gen(42);
    std::vector<query> queries;
    queries.reserve(count);
    for (std::size_t i = 0; i < count; ++i) {
        const place& p = index.all()[gen() % index.size()];
        queries.push_back({p.lat, p.lon});
    }

    std::size_t checksum = 0;
    std::printf("%-26s %9s %11s %9s %9s\n", "query (limit 20)", "queries", "median µs", "p99 µs",
                "mean µs");
    std::size_t agree = 0, compared = 0;
    for (const double radius_m : {10'000.0, 50'000.0}) {
        const std::string km = std::to_string(static_cast<int>(radius_m / 1000)) + " km";
        row(("index, " + km).c_str(), count,
            time_queries(
                queries, count,
                [&](const query& q) { return index.nearby(q.lat, q.lon, radius_m, limit).size(); },
                checksum));
        row(("index + JSON, " + km).c_str(), count,
            time_queries(
                queries, count,
                [&](const query& q) {
                    return index.nearby_json(q.lat, q.lon, radius_m, limit).size();
                },
                checksum));
        row(("brute force, " + km).c_str(), brute_count,
            time_queries(
                queries, brute_count,
                [&](const query& q) { return brute_force(index, q, radius_m, limit).size(); },
                checksum));
        for (std::size_t i = 0; i < brute_count; ++i, ++compared)
            agree += index.nearby(queries[i].lat, queries[i].lon, radius_m, limit) ==
                     brute_force(index, queries[i], radius_m, limit);
    }
    std::printf("\nindex == brute force on %zu of %zu queries (checksum %zu)\n", agree, compared,
                checksum);
    return agree == compared ? 0 : 1;
}
