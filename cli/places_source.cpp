#include "cli/places_source.hpp"

#include <memory>

#include "places/offline.hpp"

namespace herd::cli {

sim::places_fn places_source(const sim::scenario& s) {
    std::shared_ptr<const places::offline_index> index;
    if (s.places_data.empty()) {
        // The embedded index lives for the whole program; no ownership to share.
        index = std::shared_ptr<const places::offline_index>(&places::offline_index::embedded(),
                                                              [](const places::offline_index*) {});
    } else {
        try {
            index = std::make_shared<const places::offline_index>(
                places::offline_index::from_file(s.places_data));
        } catch (const places::load_error& e) {
            throw sim::scenario_error(s.file + ": $.places.data: " + e.what());
        }
    }
    return [index](double lat, double lon, double radius_m, int limit) {
        return index->nearby_json(lat, lon, radius_m, limit);
    };
}

}  // namespace herd::cli
