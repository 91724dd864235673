#pragma once
#include "sim/simulator.hpp"

namespace herd::cli {
// The simulator's places answers: the embedded offline index.
sim::places_fn places_source();
}  // namespace herd::cli
