#pragma once
// Support for net tests: free loopback ports, a blocking line client with a timeout, a herd of
// net::server objects running on a background thread, and child processes of the herd binary.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/config.hpp"
#include "net/clock.hpp"

namespace herd::net {
class server;
}

namespace herd::testing {

// A port on 127.0.0.1 for a server of a test to listen on: given to no one else while the
// process lives (net_support.cpp says how).
std::uint16_t free_port();

// The seed's five-server herd on free loopback ports.
core::herd_config seed_config_on_free_ports();

// A blocking TCP client of one connection; every read gives up after `timeout`.
class line_client {
public:
    explicit line_client(std::uint16_t port, std::chrono::milliseconds timeout = std::chrono::seconds(3));
    ~line_client();
    line_client(const line_client&) = delete;
    line_client& operator=(const line_client&) = delete;

    bool connected() const { return fd_ >= 0; }
    void send(std::string_view bytes);
    void shutdown_send();
    // Up to and including the next '\n' (or what arrived before EOF or the timeout).
    std::string read_line();
    // Up to and including the next "\n\n" (a WHATSAT reply).
    std::string read_until_blank_line();
    // Everything until the server closes (or the timeout).
    std::string read_all();
    // Whether the server closed the connection (EOF) within the timeout.
    bool closed_by_server();

    // A client over an accepted socket `fd` (see line_listener).
    line_client(int fd, std::chrono::milliseconds timeout);

private:
    void set_timeouts(std::chrono::milliseconds timeout);
    std::string read_until(std::string_view end);
    int fd_ = -1;
    std::string buffered_;
};

// A listening socket on 127.0.0.1:`port`, to stand in for a server (a neighbour that dials it
// meets the test instead).
class line_listener {
public:
    explicit line_listener(std::uint16_t port);
    ~line_listener();
    line_listener(const line_listener&) = delete;
    line_listener& operator=(const line_listener&) = delete;
    bool listening() const { return fd_ >= 0; }
    // The next connection, or nullptr after `timeout`.
    std::unique_ptr<line_client> accept(std::chrono::milliseconds timeout);

private:
    int fd_ = -1;
};

// One request on a fresh connection; the first reply (a line, or a WHATSAT reply up to its
// blank line).
std::string ask(std::uint16_t port, const std::string& line);

// Asks `line` at `port` until the reply starts with `prefix` or `deadline` passes; returns the
// last reply.
std::string ask_until(std::uint16_t port, const std::string& line, std::string_view prefix,
                      std::chrono::milliseconds deadline);

// Sends IAMATs for `client` at `origin_port`, each newer than the last, until a WHATSAT at every
// port of `ports` answers with `prefix`: links come up on their own, and plain flooding never
// re-sends an update that passed before a link was up. False if `deadline` passes first.
bool spread_everywhere(std::uint16_t origin_port, const std::string& client,
                       const std::vector<std::uint16_t>& ports, std::string_view prefix,
                       std::chrono::milliseconds deadline = std::chrono::seconds(3));

// Servers of a herd running in this process on one background thread.
class running_herd {
public:
    running_herd(const core::herd_config& cfg, const std::vector<std::string>& names,
                 const std::filesystem::path& log_dir = {}, net::clock_fn clock = net::system_now);
    ~running_herd();  // stops them and joins the thread
    std::uint16_t port(std::string_view name) const;
    // Runs `fn` on the herd's thread and waits for it: the only safe way to look at a server
    // (its node, its counters) or to poke it while the herd runs.
    void on_io(const std::function<void()>& fn);
    // The server `name` (use it inside on_io).
    net::server& server(std::string_view name);

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

// A `herd` child process (the binary built with the tests), stopped by the destructor.
class child_process {
public:
    // `stderr_file`: where the child's stderr goes (empty: the test's own).
    explicit child_process(const std::vector<std::string>& args, const std::filesystem::path& stderr_file = {});
    ~child_process();
    void kill(int signal);
    // Waits for the exit; returns the exit code, or 128 + signal.
    int wait();
    pid_t pid() const { return pid_; }

private:
    pid_t pid_ = -1;
};

// Waits until `port` on 127.0.0.1 accepts connections; false after `deadline`.
bool listening(std::uint16_t port, std::chrono::milliseconds deadline);

// Servers of a herd as `herd serve NAME --config FILE --log-dir DIR` processes, one a server,
// each started (and, after a kill, restarted) by name; the destructor stops those still running.
class serve_processes {
public:
    serve_processes(std::filesystem::path config, std::filesystem::path log_dir);
    // Starts server `name` (again, replacing a process that was killed) and waits until it
    // listens on `port`; false if it does not within 2 s.
    bool start(const std::string& name, std::uint16_t port);
    child_process& operator[](const std::string& name) { return *procs_.at(name); }
    // Every process, by server name.
    const std::map<std::string, std::unique_ptr<child_process>>& all() const { return procs_; }

private:
    std::filesystem::path config_, log_dir_;
    std::map<std::string, std::unique_ptr<child_process>> procs_;
};

// A new empty folder under the system temp folder.
std::filesystem::path temp_folder(const std::string& prefix);

// The whole content of a file ("" when it cannot be read).
std::string read_file(const std::filesystem::path& file);

// Waits until `file` holds `text` (logs are flushed every 250 ms); false after `deadline`.
bool file_contains(const std::filesystem::path& file, std::string_view text,
                   std::chrono::milliseconds deadline = std::chrono::seconds(3));

}  // namespace herd::testing
