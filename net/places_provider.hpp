#pragma once
// Answers the node's query_places effects in the real host, asynchronously: the answer comes
// back through `done` on the server's executor, never inside the call (so a node input never
// re-enters the node).

#include <utility>
#include <boost/asio/any_io_executor.hpp>
#include <functional>
#include <memory>

#include "core/config.hpp"
#include "core/node.hpp"

namespace herd::net {

class places_provider {
public:
    using done_fn = std::function<void(core::places_result)>;
    virtual ~places_provider() = default;
    // Looks up q's places; calls `done` exactly once, later, on the executor it was made with.
    virtual void lookup(const core::query_places_effect& q, done_fn done) = 0;
};

// The provider `cfg` names: the offline index (over cfg.data, or the embedded set) or Google's
// Nearby Search. Throws core::config_error naming `config_file`, $.places… and the problem
// (a missing or malformed data file, a bad endpoint).
std::unique_ptr<places_provider> make_places_provider(boost::asio::any_io_executor ex,
                                                      const core::places_config& cfg,
                                                      const std::string& config_file,
                                                      std::function<void(std::string)> log);

}  // namespace herd::net
