// places/google_json: places as Google's legacy Nearby Search response.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "places/google_json.hpp"

using namespace herd::places;

namespace {

place make_place(std::uint32_t id, std::string name, double lat, double lon, std::string code,
                 std::string country, std::string admin, std::uint32_t population) {
    return place{
        id,        std::move(name), lat, lon, std::move(code), std::move(country), std::move(admin),
        population};
}

const place westwood =
    make_place(5408522, "Westwood", 34.05612, -118.43063, "PPLX", "US", "CA", 2019);
const place beverly_hills =
    make_place(5328041, "Beverly Hills", 34.07362, -118.40036, "PPL", "US", "CA", 34109);

}  // namespace

TEST_CASE("a result is written field by field as Google writes it", "[places]") {
    const std::vector<const place*> results{&westwood};
    CHECK(nearby_search_json(results) == R"({
   "html_attributions" : [],
   "results" : [
      {
         "geometry" : {
            "location" : {
               "lat" : 34.05612,
               "lng" : -118.43063
            },
            "viewport" : {
               "northeast" : {
                  "lat" : 34.0651132,
                  "lng" : -118.4197739
               },
               "southwest" : {
                  "lat" : 34.0471268,
                  "lng" : -118.4414861
               }
            }
         },
         "icon" : "https://maps.gstatic.com/mapfiles/place_api/icons/geocode-71.png",
         "name" : "Westwood",
         "place_id" : "geonames:5408522",
         "reference" : "geonames:5408522",
         "types" : [ "neighborhood", "political" ],
         "vicinity" : "Westwood, CA, US"
      }
   ],
   "status" : "OK"
}
)");
}

TEST_CASE("no results is ZERO_RESULTS with an empty results array", "[places]") {
    CHECK(nearby_search_json({}) ==
          "{\n   \"html_attributions\" : [],\n   \"results\" : [],\n"
          "   \"status\" : \"ZERO_RESULTS\"\n}\n");
}

TEST_CASE("the body is JSON with Google's keys in Google's order", "[places]") {
    const std::vector<const place*> results{&westwood, &beverly_hills};
    const auto doc = nlohmann::ordered_json::parse(nearby_search_json(results));
    std::vector<std::string> keys;
    for (const auto& [k, v] : doc.items()) keys.push_back(k);
    CHECK(keys == std::vector<std::string>{"html_attributions", "results", "status"});
    REQUIRE(doc["results"].size() == 2);
    keys.clear();
    for (const auto& [k, v] : doc["results"][1].items()) keys.push_back(k);
    CHECK(keys == std::vector<std::string>{"geometry", "icon", "name", "place_id", "reference",
                                           "types", "vicinity"});
    CHECK(doc["results"][1]["name"] == "Beverly Hills");
    CHECK(doc["results"][1]["types"] == nlohmann::json::array({"locality", "political"}));
    CHECK(doc["results"][1]["geometry"]["location"]["lat"] == 34.07362);
    CHECK(doc["status"] == "OK");
}

TEST_CASE("names are escaped and stay UTF-8", "[places]") {
    const place odd =
        make_place(7, "Sant Julià \"de\" L\\òria", 42.46372, 1.49129, "PPLA", "AD", "06", 8022);
    const std::vector<const place*> results{&odd};
    const std::string body = nearby_search_json(results);
    CHECK(body.find(R"("name" : "Sant Julià \"de\" L\\òria")") != std::string::npos);
    CHECK(nlohmann::json::parse(body)["results"][0]["name"] == odd.name);
    // The loaders refuse control characters; a place made in code still gives valid JSON.
    const place ctl = make_place(8,
                                 "a\x01"
                                 "b\n",
                                 0, 0, "PPL", "", "", 0);
    const std::vector<const place*> ctl_results{&ctl};
    CHECK(nearby_search_json(ctl_results).find(R"("name" : "a\u0001b\u000a")") !=
          std::string::npos);
}

TEST_CASE("types follow the GeoNames feature code", "[places]") {
    using v = std::vector<std::string_view>;
    const auto types = [](std::string_view code) {
        const auto t = types_for(code);
        return v(t.begin(), t.end());
    };
    CHECK(types("PPLX") == v{"neighborhood", "political"});
    for (const auto code : {"PPL", "PPLA", "PPLA2", "PPLC", "PPLL", "PPLS", "STLMT", "XYZ"})
        CHECK(types(code) == v{"locality", "political"});
}

TEST_CASE("vicinity shows a lettered admin code and the country", "[places]") {
    CHECK(vicinity_for(beverly_hills) == "Beverly Hills, CA, US");
    CHECK(vicinity_for(make_place(1, "Pas de la Casa", 42.5, 1.7, "PPL", "AD", "03", 2363)) ==
          "Pas de la Casa, AD");
    CHECK(vicinity_for(make_place(1, "Bath", 51.4, -2.4, "PPL", "GB", "ENG", 1)) ==
          "Bath, ENG, GB");
    CHECK(vicinity_for(make_place(1, "Nowhere", 0, 0, "PPL", "", "", 0)) == "Nowhere");
    CHECK(place_id_for(beverly_hills) == "geonames:5328041");
}

TEST_CASE("the viewport grows with the population and stays on the globe", "[places]") {
    // A big city: half a side of sqrt(3.9e6 / (pi * 1000)) = 35.2 km.
    const place la =
        make_place(5368361, "Los Angeles", 34.05223, -118.24368, "PPLA2", "US", "CA", 3971883);
    const viewport v = viewport_for(la);
    CHECK(v.northeast.lat - la.lat == Approx(35.56 / 111.195).epsilon(1e-3));
    CHECK(v.southwest.lat < la.lat);
    CHECK(v.northeast.lng > la.lon);
    // Across the antimeridian the northeast corner wraps to the west.
    const viewport fiji = viewport_for(make_place(1, "East", -16.5, 179.995, "PPL", "FJ", "", 0));
    CHECK(fiji.northeast.lng < -179.9);
    CHECK(fiji.southwest.lng > 179.9);
    // At a pole it covers every longitude, and latitudes stop at the pole.
    const viewport pole = viewport_for(make_place(2, "Pole", 89.999, 10, "PPL", "", "", 0));
    CHECK(pole.northeast.lat == 90);
    CHECK(pole.northeast.lng == 180);
    CHECK(pole.southwest.lng == -180);
    const viewport south = viewport_for(make_place(3, "South", -90, 0, "PPL", "AQ", "", 0));
    CHECK(south.southwest.lat == -90);
}
