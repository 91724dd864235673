#pragma once
// An in-memory herd for tests and the demo: core::node objects wired by one FIFO queue of
// deliveries, no sockets, no clock. Modelled on quinn-proto's test `Pair`: step() performs one
// delivery, drive() runs until nothing is left, drive_bounded() stops after a given number.

#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/node.hpp"
#include "core/topology.hpp"

namespace herd::testing {

class harness {
public:
    // Answers a places lookup. Without one, every lookup fails ("no places provider").
    using places_fn = std::function<core::places_result(const core::query_places_effect&)>;

    // One node per server of `herd` with `options`, every link up, the clock at `now`.
    explicit harness(core::topology herd, core::nanos now = 0, places_fn places = {},
                     core::node_options options = {});

    core::node& at(std::string_view server);
    const core::topology& herd() const { return herd_; }

    // A client line to `server` on a new connection (or on `conn` when it is not 0). Returns the
    // connection; its replies arrive in replies(conn), at once or after later steps.
    core::conn_id client_line(std::string_view server, std::string_view line, core::conn_id conn = 0);
    const std::vector<std::string>& replies(core::conn_id conn) const;

    // Performs the oldest pending delivery (a line between neighbours or a places answer).
    // Returns false when nothing was pending.
    bool step();
    // Steps until nothing is pending; returns the number of steps. Aborts past a million steps
    // (a flood that never stops is a bug the test should see).
    std::size_t drive();
    // Steps at most `max_steps` times; returns true when nothing is left pending.
    bool drive_bounded(std::size_t max_steps);

    void set_now(core::nanos now) { now_ = now; }
    core::nanos now() const { return now_; }

    // Every line delivered between neighbours, in delivery order.
    struct delivery {
        std::string from;
        std::string to;
        std::string line;  // without '\n'
    };
    const std::vector<delivery>& trace() const { return trace_; }
    // How many delivered lines started with `prefix` (e.g. "FLOOD ").
    std::size_t delivered(std::string_view prefix) const;
    // Log effects, each as "<server>: <text>".
    const std::vector<std::string>& logs() const { return logs_; }

    // Timers the nodes set (set_timer effects), by server and id: the time each is due.
    const std::map<std::pair<std::string, core::timer_id>, core::nanos>& timers() const { return timers_; }
    // Moves the clock to the earliest due timer and fires it; false when none is set.
    bool fire_next_timer();

    // Link state, as a host would report it to both ends.
    void link_down(std::string_view a, std::string_view b);
    void link_up(std::string_view a, std::string_view b);

private:
    struct pending {
        std::string from;  // the sender, or the server whose lookup this answers
        std::string to;
        std::string line;
        bool places = false;
        core::query_places_effect query;
    };
    void collect(const std::string& server);

    core::topology herd_;
    core::nanos now_;
    places_fn places_;
    std::map<std::string, core::node, std::less<>> nodes_;
    std::deque<pending> queue_;
    std::map<core::conn_id, std::vector<std::string>> replies_;
    core::conn_id next_conn_ = 1;
    std::vector<delivery> trace_;
    std::vector<std::string> logs_;
    std::map<std::pair<std::string, core::timer_id>, core::nanos> timers_;
    std::vector<core::effect> scratch_;
};

// The number of FLOOD messages one update costs under the forwarding rule, in a connected herd
// with every link up and each server learning the update once before it is repeated to it:
// the origin sends to all its neighbours, every other server forwards once to all but one.
std::size_t predicted_floods(const core::topology& herd, std::string_view origin);

}  // namespace herd::testing
