#pragma once
// A recorded run read back from its directory (docs/simulator.md): summary.json, updates.csv
// and the parts of timeline.jsonl the plots need. The plots and the report are computed from
// this alone, so `herd plot DIR` works on any run directory, also one copied from elsewhere.

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace herd::plots {

using nanos = std::int64_t;  // virtual time since the start of the run

// A run directory that is missing a file or holds something unreadable; what() names the file
// (and the line) and the problem. The CLI prints it and exits 2.
class run_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

inline constexpr std::uint32_t none = 0xffffffff;

struct update_info {
    std::uint32_t client = none;  // index into run_data::clients
    std::uint32_t origin = none;  // index into run_data::servers
    nanos issued = 0;
    // The update's place among its client's updates in the store order (DESIGN §4): a higher
    // rank is newer. From the AT reply that answered its IAMAT; issue order when the timeline
    // lacks that reply (a timeline cut at its line limit).
    std::uint32_t rank = 0;
};

// One row of updates.csv.
struct applied_row {
    std::uint32_t update;
    std::uint32_t server;
    nanos applied;
};

// A `fault` line of the timeline (`names`: the link's two ends, or the crashed server).
struct fault_event {
    nanos t = 0;
    std::string fault;  // link_down, link_up, partition, partition_one_way, heal, crash, restart, set_link
    std::vector<std::string> names;
    std::vector<std::vector<std::string>> groups;  // partition
    bool lose_state = false;
};

// A `link` line: the link's connectivity changed (or started up, at time 0).
struct link_event {
    nanos t = 0;
    std::uint32_t link = none;  // index into run_data::links
    bool up = false;
};

// A `stale` line: (live server, client) pairs that held anything but the newest update.
struct stale_sample {
    nanos t = 0;
    std::uint64_t stale = 0;
    std::uint32_t live = 0;
};

enum class message_what : std::uint8_t { send, drop, duplicate };

// A `send`, `drop` or `duplicate` line (present unless the scenario turned them off).
struct message_event {
    nanos t = 0;
    message_what what = message_what::send;
    std::uint16_t kind = 0;    // index into run_data::message_kinds
    std::uint16_t reason = 0;  // drops: index into run_data::drop_reasons
};

struct run_data {
    std::filesystem::path dir;
    nlohmann::ordered_json summary;  // in the file's key order
    std::string scenario_file;       // as `herd sim` was given it (run.json); empty if unknown
    std::string scenario;
    std::uint64_t seed = 0;
    nanos end = 0;

    // The herd, in config order, and where it was read from (for the report).
    std::vector<std::string> servers;
    std::vector<std::pair<std::uint32_t, std::uint32_t>> links;
    std::string topology_source;

    std::vector<std::string> clients;
    std::vector<update_info> updates;  // by update id
    std::vector<applied_row> applied;  // updates.csv order: by update, then time, then server

    std::vector<fault_event> faults;
    std::vector<link_event> link_events;
    std::vector<stale_sample> stale;
    std::vector<nanos> requests;  // client requests, by time
    std::vector<message_event> messages;
    std::vector<std::string> message_kinds, drop_reasons;
    std::uint64_t timeline_lines = 0;

    // Appends a server or a link (keeping the look-up tables below).
    void add_server(std::string name);
    void add_link(std::uint32_t a, std::uint32_t b);
    // The index of a server by name, or `none`.
    std::uint32_t server_index(std::string_view name) const;
    // The index of the link between `a` and `b` (either order), or `none`.
    std::uint32_t link_index(std::uint32_t a, std::uint32_t b) const;
    // A count from summary.json's `messages` (`kind`: FLOOD, refusal; `field`: sent, dropped, …); to
    std::uint64_t summary_count(const std::string& kind, const std::string& field) const;

private:
    std::map<std::string, std::uint32_t, std::less<>> server_ids_;
    std::map<std::pair<std::uint32_t, std::uint32_t>, std::uint32_t> link_ids_;
};

// Reads the run directory `dir`. The herd comes from summary.json's `topology` when it has one,
// else from the scenario file it names (if it is still there and still matches the run), else
// from the servers and links the run's files mention. Throws run_error.
run_data load_run(const std::filesystem::path& dir);

// "123.456789" (milliseconds, as the run files write them) to nanoseconds, exactly; nothing when
// the text is not such a number.
std::optional<nanos> parse_ms(std::string_view text);
// Nanoseconds to milliseconds with 6 decimals ("123.456789"), the run files' own format.
std::string format_ms(nanos t);

}  // namespace herd::plots
