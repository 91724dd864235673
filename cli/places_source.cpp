#include "cli/places_source.hpp"

#include <memory>

#include "places/offline.hpp"

namespace herd::cli {

sim::places_fn places_source(const sim::scenario& s) {
    std::shared_ptr<const places::offline_index> index;
    try {
        index = places::open_index(s.places_data);
    } catch (const places::load_error& e) {
        throw sim::scenario_error(s.file + ": $.places.data: " + e.what());
    }
    return [index](double lat, double lon, double radius_m, int limit) {
        return index->nearby_json(lat, lon, radius_m, limit);
    };
}

}  // namespace herd::cli
