#pragma once
#include "sim/scenario.hpp"
#include "sim/simulator.hpp"

namespace herd::cli {

// The simulator's places answers for `s`: the offline index over the scenario's places.data
// file, or over the embedded data set. Throws sim::scenario_error (naming the file, the JSON
// path and the problem) when that file is missing or malformed.
sim::places_fn places_source(const sim::scenario& s);

}  // namespace herd::cli
