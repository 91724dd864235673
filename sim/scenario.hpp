#pragma once
// A scenario (DESIGN §9–10): the herd, its network, the workload, the faults and what to expect.
// load_scenario() checks everything and reports the first fault with the file and JSON path.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/protocol.hpp"
#include "core/topology.hpp"
#include "sim/random.hpp"

namespace herd::sim {

// `file: $.json.path: problem`; the CLI prints it and exits 2.
using scenario_error = core::config_error;

struct link_params {
    distribution latency_ms{distribution::kind::constant, 10, 0};
    double loss = 0;
    double duplicate = 0;
    bool fifo = true;
};

// Some of a link's parameters (a set_link fault, or a link's own over its defaults): the ones
// given replace those of the link; the others keep their values.
struct link_change {
    std::optional<distribution> latency_ms;
    std::optional<double> loss, duplicate;
    std::optional<bool> fifo;

    void apply(link_params& p) const {
        if (latency_ms) p.latency_ms = *latency_ms;
        if (loss) p.loss = *loss;
        if (duplicate) p.duplicate = *duplicate;
        if (fifo) p.fifo = *fifo;
    }
};

struct link_spec {
    std::string a, b;
    link_params params;
    bool up = true;  // false: down from the start, until a link_up
};

struct server_spec {
    std::string name;
    std::optional<distribution> processing_ms;  // none: inputs are handled at once
    double clock_offset_ms = 0;
    bool up = true;  // false: down from the start (as if crashed), until a restart
};

struct timed_line {
    core::nanos at = 0;
    std::string server;
    std::string line;  // may hold {now}
    std::optional<std::string> expect_reply;  // ECMAScript regex searched in the first reply
};

struct generator {
    std::uint32_t clients = 1;
    double rate_per_s = 1;
    core::nanos from = 0;
    core::nanos to = 0;
    double whatsat_fraction = 0;
    double move_km = 0.1;
    double center_lat = 34.068930;
    double center_lon = -118.445127;
    double area_km = 20;
    double radius_km = 10;
    int limit = 5;
    std::vector<std::string> servers;  // empty: every server
};

struct fault {
    enum class kind { link_down, link_up, partition, heal, crash, restart, set_link };
    kind k = kind::link_down;
    core::nanos at = 0;
    std::string a, b;                            // link_down, link_up, set_link; crash/restart: a
    std::vector<std::vector<std::string>> groups;  // partition
    bool one_way = false;                        // partition: only messages from groups[0] out
    bool lose_state = false;                     // crash
    link_change change;                          // set_link: applied to the link's parameters then
    std::string json_path;                       // for messages
};

struct expectations {
    std::optional<bool> converged;
    std::optional<double> converged_by_ms;
    std::optional<double> delay_ms_p50_max, delay_ms_p90_max, delay_ms_p99_max, delay_ms_max;
    std::optional<double> messages_per_update_max;
    std::optional<std::uint64_t> client_failures_max;
};

struct scenario {
    std::string file;
    std::string name;
    std::string about;  // what the scenario shows, in a sentence or two
    std::uint64_t seed = 1;
    core::nanos start_time = 0;
    core::topology herd;
    std::vector<server_spec> servers;  // config order, parallel to herd.servers
    std::vector<link_spec> links;
    core::node_options protocol;  // repair mode and interval
    // Periodic repair: no repair timer fires after this virtual time, so that a run ends.
    // Default: 10 repair intervals after the last workload line, generator stop or fault.
    core::nanos repair_until = 0;
    distribution places_delay_ms{distribution::kind::constant, 20, 0};
    std::string places_data;  // a places data file (resolved against the scenario's folder); empty: the embedded set
    std::vector<timed_line> lines;
    std::vector<generator> generators;
    std::vector<fault> faults;
    expectations expect;
    bool timeline_messages = true;  // one timeline line per message (off for huge runs)
    double sample_ms = 100;         // staleness sampling period
    std::uint64_t events_max = 100'000'000;
};

// Reads and checks `path`. Throws scenario_error naming the file, the JSON path and the problem.
scenario load_scenario(const std::filesystem::path& path);
// The same for text already read; `file` names it in messages.
scenario parse_scenario(std::string_view text, const std::string& file);

}  // namespace herd::sim
