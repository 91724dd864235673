// places/offline: the offline provider's index and its answers.
#include <algorithm>
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "places/offline.hpp"
#include "tests/support/rng.hpp"

using namespace herd::places;

namespace {

constexpr double ucla_lat = 34.068930;
constexpr double ucla_lon = -118.445127;

std::vector<std::string> names(const std::vector<const place*>& found) {
    std::vector<std::string> out;
    for (const place* p : found) out.push_back(p->name);
    return out;
}

// The answer by definition: every place, by (distance, id), within the radius, cut to limit.
std::vector<const place*> brute_force(const offline_index& index, double lat, double lon,
                                      double radius_m, int limit) {
    struct hit {
        double d;
        const place* p;
    };
    std::vector<hit> hits;
    for (const place& p : index.all()) {
        const double d = distance_m(lat, lon, p.lat, p.lon);
        if (d <= radius_m) hits.push_back({d, &p});
    }
    std::sort(hits.begin(), hits.end(), [](const hit& a, const hit& b) {
        return a.d != b.d ? a.d < b.d : a.p->id < b.p->id;
    });
    std::vector<const place*> out;
    for (std::size_t i = 0; i < hits.size() && i < static_cast<std::size_t>(std::min(limit, 20));
         ++i)
        out.push_back(hits[i].p);
    return out;
}

// A small data set around the antimeridian and the poles.
const char* const edges_tsv =
    "# id\tname\tlat\tlon\tfeature_code\tcountry\tadmin\tpopulation\n"
    "1\tEast of 180\t0\t179.95\tPPL\tFJ\t\t1000\n"
    "2\tWest of 180\t0\t-179.95\tPPL\tFJ\t\t1000\n"
    "3\tFar east\t0\t179\tPPL\tFJ\t\t1000\n"
    "14\tNorth B\t89.9\t-120\tPPL\t\t\t1000\n"
    "13\tNorth A\t89.9\t60\tPPL\t\t\t1000\n"
    "12\tTwin 2\t10\t10\tPPL\t\t\t1000\n"
    "11\tTwin 1\t10\t10\tPPL\t\t\t1000\n"
    "20\tSouth pole\t-90\t0\tPPL\tAQ\t\t1000\n"
    "21\tSouth near\t-89.95\t45\tPPL\tAQ\t\t1000\n"
    "30\tEquator 0.01\t0\t0.01\tPPL\t\t\t1000\n";

const offline_index& edges() {
    static const offline_index index = offline_index::from_text(edges_tsv, "edges.tsv");
    return index;
}

}  // namespace

TEST_CASE(
    "the UCLA example gives Westwood, Century City, Beverly Hills, Santa Monica, Culver "
    "City",
    "[places]") {
    const auto& index = offline_index::embedded();
    CHECK(index.size() == 135233);
    const auto found = index.nearby(ucla_lat, ucla_lon, 10'000, 5);
    CHECK(names(found) == std::vector<std::string>{"Westwood", "Century City", "Beverly Hills",
                                                   "Santa Monica", "Culver City"});
    REQUIRE(found.size() == 5);
    CHECK(found[0]->id == 5408522);
    CHECK(found == brute_force(index, ucla_lat, ucla_lon, 10'000, 5));
}

TEST_CASE("a place exactly at the radius is inside, and a hair less leaves it out", "[places]") {
    // Equator 0.01 is 1111.95 m from (0, 0); nothing else is near.
    const double d = distance_m(0, 0, 0, 0.01);
    CHECK(names(edges().nearby(0, 0, d, 20)) == std::vector<std::string>{"Equator 0.01"});
    CHECK(edges().nearby(0, 0, std::nextafter(d, 0.0), 20).empty());
    // The same at UCLA, for Westwood (1952.51 m) with a centimetre either side.
    const auto& index = offline_index::embedded();
    const double w = distance_m(ucla_lat, ucla_lon, 34.05612, -118.43063);
    CHECK(names(index.nearby(ucla_lat, ucla_lon, w + 0.01, 20)) ==
          std::vector<std::string>{"Westwood"});
    CHECK(index.nearby(ucla_lat, ucla_lon, w - 0.01, 20).empty());
}

TEST_CASE("queries near the antimeridian find places on the other side", "[places]") {
    // From just west of 180° (longitude -179.99): West of 180 at 4.4 km, East of 180 at 6.7 km.
    CHECK(names(edges().nearby(0, -179.99, 10'000, 20)) ==
          std::vector<std::string>{"West of 180", "East of 180"});
    CHECK(names(edges().nearby(0, 179.99, 10'000, 20)) ==
          std::vector<std::string>{"East of 180", "West of 180"});
    // On the line itself both are 5.6 km away, whichever way the line is written.
    for (const double lon : {180.0, -180.0}) {
        const auto both = names(edges().nearby(0, lon, 10'000, 20));
        CHECK(std::is_permutation(both.begin(), both.end(),
                                  std::vector<std::string>{"East of 180", "West of 180"}.begin()));
    }
    // Fiji in the embedded set: Levuka (179.3°) and Tubou (-178.8°) from the line itself.
    const auto& index = offline_index::embedded();
    CHECK(names(index.nearby(-18.15, 180, 150'000, 20)) ==
          std::vector<std::string>{"Levuka", "Tubou"});
    CHECK(names(index.nearby(-18.15, -180, 150'000, 20)) ==
          std::vector<std::string>{"Levuka", "Tubou"});
}

TEST_CASE("a query at a pole works whatever its longitude", "[places]") {
    // North A and North B are 11.1 km from the pole on opposite meridians.
    const auto north = names(edges().nearby(90, 0, 20'000, 20));
    REQUIRE(north.size() == 2);
    CHECK(std::is_permutation(north.begin(), north.end(),
                              std::vector<std::string>{"North A", "North B"}.begin()));
    CHECK(names(edges().nearby(90, 137.5, 20'000, 20)) == north);
    CHECK(names(edges().nearby(-90, 0, 10'000, 20)) ==
          std::vector<std::string>{"South pole", "South near"});
    // In the embedded set: Longyearbyen from the North Pole, McMurdo Station from the South.
    const auto& index = offline_index::embedded();
    CHECK(names(index.nearby(90, 0, 1'500'000, 20)) == std::vector<std::string>{"Longyearbyen"});
    CHECK(names(index.nearby(90, -77, 1'500'000, 20)) == std::vector<std::string>{"Longyearbyen"});
    CHECK(names(index.nearby(-90, 0, 1'500'000, 20)) ==
          std::vector<std::string>{"McMurdo Station"});
}

TEST_CASE("places at the same distance are ordered by GeoNames id", "[places]") {
    // Twin 2 comes first in the file, Twin 1 has the smaller id.
    CHECK(names(edges().nearby(10, 10, 1, 20)) == std::vector<std::string>{"Twin 1", "Twin 2"});
    CHECK(names(edges().nearby(10.001, 10, 1000, 1)) == std::vector<std::string>{"Twin 1"});
}

TEST_CASE("a limit of 1 gives the nearest place and 20 the twenty nearest", "[places]") {
    const auto& index = offline_index::embedded();
    CHECK(names(index.nearby(ucla_lat, ucla_lon, 10'000, 1)) ==
          std::vector<std::string>{"Westwood"});
    const auto twenty = index.nearby(ucla_lat, ucla_lon, 50'000, 20);
    REQUIRE(twenty.size() == 20);
    CHECK(twenty == brute_force(index, ucla_lat, ucla_lon, 50'000, 20));
    for (std::size_t i = 1; i < twenty.size(); ++i)
        CHECK(distance_m(ucla_lat, ucla_lon, twenty[i - 1]->lat, twenty[i - 1]->lon) <=
              distance_m(ucla_lat, ucla_lon, twenty[i]->lat, twenty[i]->lon));
    // Never more than Google's 20; nothing for a limit below 1, a negative radius or a NaN.
    CHECK(index.nearby(ucla_lat, ucla_lon, 50'000, 25).size() == 20);
    CHECK(index.nearby(ucla_lat, ucla_lon, 50'000, 0).empty());
    CHECK(index.nearby(ucla_lat, ucla_lon, -1, 5).empty());
    CHECK(index.nearby(std::nan(""), ucla_lon, 50'000, 5).empty());
    CHECK(index.nearby(ucla_lat, ucla_lon, std::nan(""), 5).empty());
}

TEST_CASE("an empty area (mid-Pacific) gives ZERO_RESULTS", "[places]") {
    const auto& index = offline_index::embedded();
    CHECK(index.nearby(0, -140, 50'000, 20).empty());
    CHECK(index.nearby_json(0, -140, 50'000, 20) ==
          "{\n   \"html_attributions\" : [],\n   \"results\" : [],\n"
          "   \"status\" : \"ZERO_RESULTS\"\n}\n");
}

TEST_CASE("the same query twice gives identical bytes, whatever the file order", "[places]") {
    const auto& index = offline_index::embedded();
    const std::string once = index.nearby_json(ucla_lat, ucla_lon, 50'000, 20);
    CHECK(once == index.nearby_json(ucla_lat, ucla_lon, 50'000, 20));
    CHECK(once.find("\"status\" : \"OK\"") != std::string::npos);
    // A second index over the same places, read in reverse order, answers byte for byte the same.
    std::vector<place> reversed(index.all().rbegin(), index.all().rend());
    const offline_index other(std::move(reversed));
    CHECK(other.nearby_json(ucla_lat, ucla_lon, 50'000, 20) == once);
}

TEST_CASE("a user's file makes an index, and a missing or malformed one a load_error", "[places]") {
    const auto dir = std::filesystem::path(HERD_PLACES_TEST_DIR);
    const auto good = dir / "offline-good.tsv";
    std::ofstream(good, std::ios::binary) << edges_tsv;
    CHECK(offline_index::from_file(good).size() == 10);
    const auto bad = dir / "offline-bad.tsv";
    std::ofstream(bad, std::ios::binary) << edges_tsv << "31\tX\t0\t0\tPPL\t\t\tmany\n";
    CHECK_THROWS_WITH(offline_index::from_file(bad),
                      bad.string() +
                          ": line 12: population 'many' is not a whole number in [0, "
                          "4294967295]");
    const auto missing = dir / "offline-missing.tsv";
    std::filesystem::remove(missing);
    CHECK_THROWS_AS(offline_index::from_file(missing), load_error);
}

TEST_CASE("the index agrees with a brute-force scan everywhere", "[places]") {
    const auto& index = offline_index::embedded();
    herd::testing::rng rng(20240601);
    const auto uniform = [&](double lo, double hi) {
        return lo + (hi - lo) * static_cast<double>(rng.next() >> 11) * 0x1p-53;
    };
    constexpr double radii_m[] = {1'000, 10'000, 50'000, 300'000, 3'000'000};
    for (int i = 0; i < 60; ++i) {
        // Half at populated places (jittered), half anywhere on the globe, poles included.
        double lat, lon;
        if (i % 2 == 0) {
            const place& p = index.all()[rng.below(index.size())];
            lat = std::clamp(p.lat + uniform(-0.1, 0.1), -90.0, 90.0);
            lon = p.lon;
        } else {
            lat = std::asin(uniform(-1, 1)) * 180 / 3.141592653589793;
            lon = uniform(-180, 180);
        }
        if (i == 1) lat = 90;
        if (i == 3) lat = -90;
        const double r = radii_m[rng.below(std::size(radii_m))];
        const int limit = 1 + static_cast<int>(rng.below(20));
        INFO("query " << i << ": " << lat << ", " << lon << ", " << r << " m, limit " << limit);
        CHECK(index.nearby(lat, lon, r, limit) == brute_force(index, lat, lon, r, limit));
    }
}
