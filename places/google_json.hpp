#pragma once
// Places as Google's legacy Places API Nearby Search response (DESIGN §7), formatted as Google
// formats it: 3-space indent, `"key" : value`, keys in Google's (alphabetical) order, string
// arrays on one line. docs/places.md tells how each field is derived from a GeoNames place.

#include <span>
#include <string>
#include <string_view>

#include "places/data.hpp"

namespace herd::places {

// The icon Google gives to geocoded results (localities, neighbourhoods).
inline constexpr std::string_view geocode_icon =
    "https://maps.gstatic.com/mapfiles/place_api/icons/geocode-71.png";

// Google's `types` for a GeoNames feature code: {"neighborhood", "political"} for PPLX (a section
// of a populated place), {"locality", "political"} for every other code.
std::span<const std::string_view> types_for(std::string_view feature_code);

// `place_id` (and `reference`): "geonames:<id>", stable across data updates.
std::string place_id_for(const place& p);

// `vicinity`: the name, then the admin1 code when it is letters (US states, GB nations, Swiss
// cantons: codes people read; numeric codes are not shown), then the country code, separated by
// ", ": "Beverly Hills, CA, US", "Pas de la Casa, AD".
std::string vicinity_for(const place& p);

struct lat_lng {
    double lat = 0;
    double lng = 0;
};

struct viewport {
    lat_lng northeast;
    lat_lng southwest;
};

// `geometry.viewport`: a square centred on the place, half a side being the radius of a disc that
// holds its population at 1,000 people per km², clamped to [1, 50] km. Latitudes are clamped to
// [-90, 90]; longitudes wrap into [-180, 180] (northeast.lng < southwest.lng across the
// antimeridian) and span the whole circle when the square reaches a pole. Rounded to 7 decimals.
viewport viewport_for(const place& p);

// The whole response body for `results` (nearest first, as given): html_attributions (empty),
// results, status ("OK", or "ZERO_RESULTS" when `results` is empty). Ends with "}\n".
std::string nearby_search_json(std::span<const place* const> results);

}  // namespace herd::places
