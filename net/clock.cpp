#include "net/clock.hpp"

#include <chrono>

namespace herd::net {

core::nanos system_now() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace herd::net
