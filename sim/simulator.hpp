#pragma once
// The simulated host: every server of a scenario as a core::node, on virtual time, behind a
// network model with latency, loss, duplication, reordering, link failures, partitions and
// crashes. One event queue ordered by (time, sequence); all randomness from sim::rng streams
// derived from the scenario's seed. run() is deterministic: the same scenario and seed give the
// same result, byte for byte, in every output.

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sim/scenario.hpp"

namespace herd::sim {

// Answers a places lookup with a Nearby Search JSON body (the offline index in herd).
using places_fn = std::function<std::string(double lat, double lon, double radius_m, int limit)>;

struct message_counts {
    std::uint64_t sent = 0, delivered = 0, dropped = 0, duplicated = 0;
    std::uint64_t bytes = 0;  // of the messages sent
};

struct update_row {
    std::uint32_t update;
    std::uint32_t server;  // index into scenario servers
    core::nanos applied;
};

struct update_info {
    std::string client;
    std::uint32_t origin;
    core::nanos issued;
};

struct expectation_result {
    std::string name;
    bool ok;
    std::string detail;
};

// The timeline's lines (JSON objects, without their '\n'), in order. They are kept end to end
// in blocks of a mebibyte, each line a view into its block: a run writes up to millions, and a
// string apiece would cost an allocation and some 48 bytes more each. Iterating gives
// std::string_views; a copy copies the text (the views then point into the copy's blocks).
class timeline_lines {
public:
    timeline_lines() = default;
    timeline_lines(const timeline_lines& o) { append(o); }
    timeline_lines(timeline_lines&& o) noexcept { swap(o); }
    timeline_lines& operator=(timeline_lines o) noexcept {
        swap(o);
        return *this;
    }

    void push_back(std::string_view line) {
        if (cap_ - used_ < line.size()) new_block(line.size());
        char* at = blocks_.back().get() + used_;
        if (!line.empty()) std::memcpy(at, line.data(), line.size());
        used_ += line.size();
        text_bytes_ += line.size();
        lines_.emplace_back(at, line.size());
    }

    std::size_t size() const { return lines_.size(); }
    bool empty() const { return lines_.empty(); }
    std::string_view operator[](std::size_t i) const { return lines_[i]; }
    std::vector<std::string_view>::const_iterator begin() const { return lines_.begin(); }
    std::vector<std::string_view>::const_iterator end() const { return lines_.end(); }
    // The bytes of every line, without newlines.
    std::size_t text_bytes() const { return text_bytes_; }

private:
    static constexpr std::size_t block_bytes = std::size_t{1} << 20;

    void new_block(std::size_t at_least) {
        cap_ = std::max(block_bytes, at_least);
        blocks_.push_back(std::make_unique_for_overwrite<char[]>(cap_));
        used_ = 0;
    }
    void append(const timeline_lines& o) {
        for (std::string_view l : o) push_back(l);
    }
    void swap(timeline_lines& o) noexcept {
        blocks_.swap(o.blocks_);
        lines_.swap(o.lines_);
        std::swap(used_, o.used_);
        std::swap(cap_, o.cap_);
        std::swap(text_bytes_, o.text_bytes_);
    }

    std::vector<std::unique_ptr<char[]>> blocks_;
    std::size_t used_ = 0, cap_ = 0;  // of the last block
    std::size_t text_bytes_ = 0;
    std::vector<std::string_view> lines_;
};

struct run_result {
    std::uint64_t seed = 0;
    std::uint64_t events = 0;
    bool events_limit_hit = false;
    core::nanos end = 0;
    std::vector<update_info> updates;
    std::vector<update_row> applied;  // sorted by (update, applied, server)
    std::map<std::string, message_counts> messages_by_kind;            // FLOOD, refusal
    std::map<std::string, message_counts> messages_by_link;            // "A->B"
    std::map<std::string, std::uint64_t> drops_by_reason;
    std::map<std::string, std::uint64_t> client_requests;              // IAMAT, WHATSAT, other
    std::uint64_t client_failures = 0;  // requests to a crashed server
    std::uint64_t client_refusals = 0;  // `? line` replies
    bool converged = false;
    std::optional<core::nanos> converged_at;  // when the last stale record became fresh
    std::uint64_t stale_final = 0;
    // FLOODs settled when sent because another of their update was due at the receiver first
    // (docs/simulator.md; quiet runs). A diagnostic for tests and benchmarks: in no output file.
    std::uint64_t settled_behind = 0;
    // The events that went through the event queue, and the sum of the queue's size at each:
    // their ratio is the mean queue depth the run worked at. Diagnostics, as above.
    std::uint64_t queued_events = 0;
    std::uint64_t queue_depth_sum = 0;
    timeline_lines timeline;
    std::vector<expectation_result> expectations;
    bool ok = true;
};

// Runs `s` with `seed` (the scenario's own when not given). `on_progress`, when set, is called
// now and then with the virtual time reached (for a progress line on a terminal).
run_result run(const scenario& s, std::optional<std::uint64_t> seed, const places_fn& places,
               const std::function<void(core::nanos)>& on_progress = {});

// Delay percentiles over all (update, server) pairs, in milliseconds (nearest rank).
struct delay_summary {
    double p50 = 0, p90 = 0, p99 = 0, max = 0;
    std::size_t pairs = 0;
};
delay_summary delays(const run_result& r);

// The run directory's files (DESIGN §9): summary.json, timeline.jsonl, updates.csv.
std::string summary_json(const scenario& s, const run_result& r);
std::string updates_csv(const scenario& s, const run_result& r);
std::string timeline_jsonl(const run_result& r);

// Exact milliseconds with 6 decimals from nanoseconds: 1234567 ns -> "1.234567".
std::string format_ms(core::nanos ns);

}  // namespace herd::sim
