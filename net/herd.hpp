#pragma once
// Running servers of a herd until SIGINT or SIGTERM: `herd serve` runs one, `herd up` all of
// them in one process, each on its own port, on one thread per core, talking over real loopback
// sockets.

#include <filesystem>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "core/config.hpp"

namespace herd::net {

class server;

// Reads a herd config file (a scenario file is one). Throws core::config_error.
core::herd_config load_config(const std::string& path);

// Which of `threads` threads each server of `names` runs on (same order as `names`): the
// busiest first, each to the thread with the least work so far (the first of those on a tie),
// a server's work counted as its links plus two (its clients: a request costs about two peer
// messages). Every FLOOD crosses every link, so a server's links are most of its work; round
// robin put three of the seed's busiest servers on one thread of two.
std::vector<std::size_t> assign_threads(const core::topology& herd, const std::vector<std::string>& names,
                                        std::size_t threads);

// Servers of a herd running in this process, on one io_context and thread per core (or
// `threads_max` of them when it is not 0; at most one per server), the servers spread over
// them by assign_threads; each server's handlers run on one thread. The constructor binds every
// listener before any thread starts, and throws core::config_error when a server cannot start
// (an unknown name, a port in use...). The destructor stops them (listeners closed, logs
// flushed) and joins the threads.
class running_servers {
public:
    running_servers(const core::herd_config& cfg, const std::vector<std::string>& names,
                    const std::filesystem::path& log_dir, std::size_t threads_max = 0);
    ~running_servers();
    // "<name> listening on port <p>, log <file>" for each server.
    void describe(std::ostream& out) const;
    // The running server `name`, or nullptr. Its handlers run on its own thread: reach it
    // through boost::asio::post(s->io(), ...).
    server* find(const std::string& name) const;

private:
    // `open_files`: the process's limit, once raised.
    void notices(const core::herd_config& cfg, std::uint64_t open_files) const;

    struct impl;
    std::unique_ptr<impl> impl_;
};

// Starts the servers `names` of `cfg` (every server when empty), logging to `log_dir`, and runs
// them (on `threads_max` threads, 0: one per core) until SIGINT or SIGTERM; then closes
// the listeners, flushes the logs and returns 0.
int run_herd(const core::herd_config& cfg, const std::vector<std::string>& names,
             const std::filesystem::path& log_dir, std::ostream& out, std::size_t threads_max = 0);

}  // namespace herd::net
