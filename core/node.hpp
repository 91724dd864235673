#pragma once
// core::node: one server of the herd as a sans-I/O state machine (DESIGN §2).
//
// A host feeds it inputs (client_line, peer_line, peer_up, peer_down, places_done), each with
// the current time, then drains the effects with poll_effects() and performs them: write a
// reply to a client connection, send a line to a neighbour, look up places, log. The node never
// performs I/O, reads a clock or draws a random number, so the same inputs give the same effects
// in the real host (net/) and in the simulator (sim/).

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <unordered_set>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/protocol.hpp"
#include "core/store.hpp"
#include "core/topology.hpp"

namespace herd::core {

using conn_id = std::uint64_t;     // a client connection, numbered by the host
using request_id = std::uint64_t;  // a places lookup, numbered by the node

// Write `text` (one or more whole lines, each ending in '\n') on client connection `conn`, in
// one write. A host drops a reply to a connection that has closed.
struct reply_effect {
    conn_id conn = 0;
    std::string text;
};

// Send `line` (ending in '\n') to neighbour `peer`. For a FLOOD or REPAIR line, `carried` is
// the record the line carries, and the line is its flood_line() or repair_line() and '\n'
// (empty for other lines): a host that keeps messages in memory, as the simulator does, may
// hand the record over with peer_record() instead of the line.
//
// With node_options::compact_sends (both hosts set it), a send that carries a record has an
// empty `line`: the host sends the record, or the line it makes from it once. A FLOOD
// to its targets is then one effect: `to_neighbours` is set, `peer` and `line` are empty, and
// the record goes to every neighbour that is up (node::is_up_at) but neighbour index `except`
// (no neighbour when it is SIZE_MAX), in neighbour order, as the FLOOD lines the node would
// otherwise have sent one by one. A carried record that is not to_neighbours is a REPAIR.
struct send_effect {
    std::string peer;
    std::string line;
    record_ptr carried = {};
    bool to_neighbours = false;
    std::size_t except = SIZE_MAX;
};

// Look up at most `limit` places within `radius_m` metres of (lat, lon); answer with
// places_done(request, …). Every query_places is answered exactly once.
struct query_places_effect {
    request_id request = 0;
    double lat = 0;
    double lon = 0;
    double radius_m = 0;
    int limit = 0;
};

enum class log_level { debug, info, warn, error };

struct log_effect {
    log_level level = log_level::info;
    std::string text;
};

// Call timer(id, …) once the node's clock reaches `at` (nanoseconds, the clock `now` is on). A
// later set_timer for the same id replaces the earlier one.
using timer_id = std::uint32_t;
inline constexpr timer_id repair_timer = 1;

struct set_timer_effect {
    timer_id id = 0;
    nanos at = 0;
};

using effect = std::variant<reply_effect, send_effect, query_places_effect, log_effect, set_timer_effect>;

// Repair (DESIGN §5, core/repair.hpp). none: plain flooding. on_connect: when a link comes up,
// both ends send a DIGEST and each answers the other's with the records of the buckets that
// differ. periodic: on_connect, and also a DIGEST to every live neighbour every
// repair_interval. A node answers a neighbour's DIGEST whatever its own mode.
enum class repair_mode { none, on_connect, periodic };

struct node_options {
    repair_mode repair = repair_mode::none;
    nanos repair_interval = 1'000'000'000;
    // Send effects without the lines of carried records, and a FLOOD as one effect for all its
    // targets (send_effect). Both hosts set it: the simulator hands records over, the real host
    // makes a FLOOD's line once for all its targets.
    bool compact_sends = false;
};

// "none", "on_connect", "periodic"; nothing for anything else.
std::optional<repair_mode> parse_repair_mode(std::string_view text);
const char* repair_mode_name(repair_mode m);

// The answer to a query_places: either the provider's JSON body (Google Nearby Search shape)
// or the reason it failed (for the log; never shown to the client).
struct places_result {
    bool ok = false;
    std::string body;
    std::string error;
};

class node {
public:
    // Limits.
    static constexpr std::size_t pending_places_max = 4096;
    // Clients a store holds. Past it an IAMAT for a new client is refused (`? line`) and a FLOOD
    // for one is not applied; both are logged. Known clients keep being updated.
    static constexpr std::size_t records_max = 1'000'000;
    // A lower bound on clients (for tests and small hosts).
    void limit_records(std::size_t n) { records_max_ = n; }

    // A node for server `name` of `herd`; `name` must be one of its servers. Every neighbour
    // starts down: the host reports peer_up when a link is established. `kept` is the store a
    // restarted server kept (empty for a new one).
    node(std::string name, const topology& herd, store kept = {}, node_options options = {});

    // The names of a herd's servers, built once and shared by all of its nodes (a herd of
    // 1,000 servers would otherwise hold a million copies of them).
    using server_names = std::unordered_set<std::string, string_hash, std::equal_to<>>;
    static std::shared_ptr<const server_names> names_of(const topology& herd);
    // As above, for hosts of large herds: the neighbours (sorted, as topology::neighbours gives
    // them) and the shared server names (names_of) are computed once by the host.
    node(std::string name, std::vector<std::string> neighbours,
         std::shared_ptr<const server_names> names, store kept = {}, node_options options = {});

    // A line from a client connection, without its '\n' (a trailing '\r' is ignored).
    // IAMAT: reply AT, merge, flood to every live neighbour when the store changed.
    // WHATSAT: query_places for the client's stored location, replied on places_done.
    // Anything else: reply `? <line>`.
    void client_line(conn_id conn, std::string_view line, nanos now);

    // A line from neighbour `peer` (the host has identified the connection). FLOOD or REPAIR:
    // merge and, if the store changed, forward as FLOOD to every live neighbour but `peer`.
    // DIGEST: send `peer` a REPAIR line for each record of the buckets whose sums differ.
    // Anything else is answered `? <line>` to the peer, except a peer's own `? …` refusal,
    // which is only logged (answering it would start an endless exchange).
    void peer_line(std::string_view peer, std::string_view line, nanos now);

    // A FLOOD (or, when `repair`, a REPAIR) line from neighbour `peer`, given as the record it
    // carries, as another node's send_effect `carried` it: the same effects as peer_line(peer,
    // line, now) for that line, without the line being parsed (or kept by the host).
    void peer_record(std::string_view peer, const record_ptr& carried, bool repair, nanos now);
    // The same from neighbours()[neighbour] (an index, so that a host that knows it saves the
    // name lookup).
    void peer_record_at(std::size_t neighbour, const record_ptr& carried, bool repair, nanos now);

    // The link to neighbour `peer` came up or went down. Floods go only to live neighbours.
    // With repair, peer_up sends `peer` a DIGEST (and, periodic, arms the repair timer).
    void peer_up(std::string_view peer, nanos now);
    void peer_down(std::string_view peer, nanos now);

    // The answer to query_places `request`. Replies to the WHATSAT that asked: the stored AT
    // line, '\n', the places JSON cut to the limit with runs of '\n' squeezed and trailing '\n'
    // removed, then "\n\n"; or `? <line>` when the lookup failed or its status is neither OK
    // nor ZERO_RESULTS. An unknown request id is ignored.
    void places_done(request_id request, const places_result& result, nanos now);

    // A timer set with set_timer fired. repair_timer: a DIGEST to every live neighbour, and the
    // timer is set again while any neighbour is up. An unknown id is ignored.
    void timer(timer_id id, nanos now);

    // Moves the effects produced since the last call into `out` (which is cleared first), in
    // the order they were produced.
    void poll_effects(std::vector<effect>& out);

    const std::string& name() const { return name_; }
    const store& records() const { return store_; }
    const std::vector<std::string>& neighbours() const { return neighbours_; }
    bool is_up(std::string_view peer) const;
    // Whether neighbours()[i] is up (i < neighbours().size()).
    bool is_up_at(std::size_t i) const { return up_[i]; }
    std::size_t pending_places() const { return pending_.size(); }
    const node_options& options() const { return options_; }

private:
    struct pending_whatsat {
        conn_id conn;
        std::string line;
        std::string at_line;
        int limit;
    };

    void on_iamat(conn_id conn, std::string_view line, const iamat& m, nanos now);
    void on_whatsat(conn_id conn, std::string_view line, const whatsat& m);
    // A FLOOD from neighbour `from`; `key` is client_hash(m.client).
    void on_flood(std::size_t from, const flood& m, std::uint64_t key);
    // FLOOD `r` to every live neighbour but neighbours_[except] (no_neighbour: to all).
    void flood_to_neighbours(const record_ptr& r, std::size_t except);
    void send_digest(const std::string& peer);
    void on_digest(std::string_view peer, const digest& d);
    void arm_repair_timer(nanos now);
    void refuse_client(conn_id conn, std::string_view line);
    void log(log_level level, std::string text);
    bool is_neighbour(std::string_view peer) const { return neighbour_index(peer) != no_neighbour; }
    // The index of `peer` in neighbours_, or no_neighbour.
    static constexpr std::size_t no_neighbour = SIZE_MAX;
    std::size_t neighbour_index(std::string_view peer) const;
    // False (and a log line) when `client` is new and the store is full.
    bool room_for(std::string_view client);

    // What a FLOOD touches comes first, and the store last (its bucket sums are 8 KiB): a host
    // of a thousand nodes then reads few cache lines of each.
    std::string name_;
    std::vector<std::string> neighbours_;             // sorted
    std::vector<std::uint64_t> neighbour_keys_;       // client_hash of each neighbour's name
    std::shared_ptr<const server_names> servers_;      // every server of the herd
    std::vector<bool> up_;                            // by neighbour: live
    std::size_t up_count_ = 0;
    std::size_t records_max_ = records_max;
    std::vector<effect> effects_;
    std::map<request_id, pending_whatsat> pending_;
    request_id next_request_ = 1;
    node_options options_;
    bool repair_timer_set_ = false;
    store store_;
};

// The places part of a WHATSAT reply: `body` (Nearby Search JSON) with `results` cut to `limit`,
// formatted with a 3-space indent, runs of '\n' squeezed to one and trailing '\n' removed.
// Returns nothing when the body is not JSON or its status is neither OK nor ZERO_RESULTS; then
// `why` says what was wrong.
std::optional<std::string> format_places(std::string_view body, int limit, std::string& why);

}  // namespace herd::core
