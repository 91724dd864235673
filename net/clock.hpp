#pragma once
// The real host's clock. core::node never reads a clock: the host passes `now` with every input,
// and tests pass a fixed one (a function of this type) to get byte-exact output.

#include <functional>

#include "core/protocol.hpp"

namespace herd::net {

using clock_fn = std::function<core::nanos()>;

// Nanoseconds since the POSIX epoch from the system clock.
core::nanos system_now();

}  // namespace herd::net
