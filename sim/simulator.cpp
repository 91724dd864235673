#include "sim/simulator.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cassert>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <deque>
#include <limits>
#include <nlohmann/json.hpp>
#include <memory>
#include <optional>
#include <regex>
#include <unordered_map>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "core/node.hpp"
#include "sim/event_queue.hpp"
#include "sim/format.hpp"
#include "sim/random.hpp"

namespace herd::sim {
namespace {

using core::nanos;
using ojson = nlohmann::ordered_json;

constexpr std::uint32_t none = UINT32_MAX;
constexpr std::size_t inbox_max = 1'000'000;

// A delay drawn in milliseconds, capped at 1e9 ms (the scenario's own limit): a pareto tail
// may be huge. Inline: every message draws one.
inline nanos ms_ns(double ms) {
    const double ns = std::min(ms * 1e6, 1e15);
    // std::llround (halves away from zero), without a call: the truncation and the fraction
    // are exact for |ns| < 2^53.
    auto r = static_cast<nanos>(ns);
    const double frac = ns - static_cast<double>(r);
    if (frac >= 0.5)
        ++r;
    else if (frac <= -0.5)
        --r;
    return r;
}

// No event is scheduled past this virtual time (about 31 years): with the start time bounded
// by the loader, times stay far from overflow.
constexpr nanos horizon = 1'000'000'000'000'000'000;

// format_ms into `buf` (at least 32 bytes); returns the end.
char* write_ms(char* buf, nanos ns);

// A time as a client writes it: seconds with 9 decimals. Written into `buf` (at least 32
// bytes); returns the end. Every generated IAMAT formats one, so no snprintf.
char* write_time(char* buf, nanos t) {
    if (t < 0) return buf + std::snprintf(buf, 32, "%lld.%09lld", static_cast<long long>(t / 1'000'000'000),
                                          static_cast<long long>(t % 1'000'000'000));
    char* p = std::to_chars(buf, buf + 20, t / 1'000'000'000).ptr;
    *p++ = '.';
    auto frac = t % 1'000'000'000;
    for (int i = 8; i >= 0; --i, frac /= 10) p[i] = static_cast<char>('0' + frac % 10);
    return p + 9;
}

std::string format_time(nanos t) {
    char buf[32];
    return std::string(buf, write_time(buf, t));
}

// printf's "%+.6f" (write_fixed6 writes the digits exactly as printf would).
char* write_degrees(char* p, char* end, double v) {
    if (!std::signbit(v)) *p++ = '+';
    return write_fixed6(p, end, v);
}

// Counters are kept in arrays by index during the run and named in finish().
enum kind_index : std::uint32_t { kind_flood, kind_digest, kind_repair, kind_refusal, kind_other, kinds };
const char* const kind_names[kinds] = {"FLOOD", "DIGEST", "REPAIR", "refusal", "other"};

kind_index message_kind(std::string_view line) {
    if (line.starts_with("FLOOD ")) return kind_flood;
    if (line.starts_with("DIGEST ")) return kind_digest;
    if (line.starts_with("REPAIR ")) return kind_repair;
    if (line.starts_with("?")) return kind_refusal;
    return kind_other;
}

enum reason_index : std::uint32_t { drop_link_down, drop_partition, drop_loss, drop_in_flight, drop_overload, reasons };
const char* const reason_names[reasons] = {"link_down", "partition", "loss", "in_flight", "overload"};

// 24 bytes: time, sequence, and what to do (kind in the low 3 bits of `what`, an index in the
// next 32, and for ev_process the server's incarnation, modulo 2^29, above that).
// The time to a generator's next request: exponential, so requests form a Poisson process.
nanos gap(const generator& g, rng& r) {
    return ms_ns(draw({distribution::kind::exponential, 1000.0 / g.rate_per_s, 0}, r));
}

// Where an event comes in the run: its time, then its sequence number.
struct event_order {
    nanos t;
    std::uint64_t seq;
    bool operator<(const event_order& o) const { return t != o.t ? t < o.t : seq < o.seq; }
};

struct event {
    nanos t;
    std::uint64_t seq;
    std::uint64_t what;
    bool operator<(const event& o) const { return event_order{t, seq} < event_order{o.t, o.seq}; }
    std::uint32_t kind() const { return static_cast<std::uint32_t>(what & 7); }
    std::uint32_t idx() const { return static_cast<std::uint32_t>(what >> 3); }
    std::uint64_t aux() const { return what >> 35; }
};
static_assert(sizeof(event) == 24);

enum : std::uint32_t { ev_deliver, ev_line, ev_places, ev_fault, ev_gen, ev_process, ev_timer, ev_fifo };

// One timeline line, written by hand: the hot paths record an event per message, and building
// a JSON object for each would cost more than simulating it. Keys are fixed ASCII; values are
// escaped as JSON strings (the text is UTF-8: it comes from the scenario, the core and the index).
// The line is written straight into a scratch buffer the caller keeps (it soon has room for any
// line; each part first makes room for its longest form), and done() gives it for the timeline
// to copy: the timeline may hold millions of lines.
class json_line {
public:
    json_line(std::vector<char>& scratch, nanos t, std::string_view event) : buf_(scratch) {
        if (buf_.size() < 256) buf_.resize(256);
        p_ = buf_.data();
        room(48 + event.size());
        put("{\"t_ms\":");
        p_ = write_ms(p_, t);
        put(",\"event\":\"");
        put(event);
        *p_++ = '"';
    }
    json_line& str(std::string_view key, std::string_view v) {
        room(key.size() + 8 + 6 * v.size());  // "\u00xx" is the longest escape
        head(key);
        *p_++ = '"';
        // Runs of characters that need no escape are copied whole; sixteen (or eight) at a
        // time are found plain at once.
        std::size_t run = 0;
        for (std::size_t i = next_special(v, 0); i < v.size(); i = next_special(v, i + 1)) {
            const auto u = static_cast<unsigned char>(v[i]);
            put(v.substr(run, i - run));
            run = i + 1;
            *p_++ = '\\';
            if (u == '"' || u == '\\') {
                *p_++ = static_cast<char>(u);
            } else if (u == '\n') {
                *p_++ = 'n';
            } else {
                static constexpr char hex[] = "0123456789abcdef";
                put("u00");
                *p_++ = hex[u >> 4];
                *p_++ = hex[u & 15];
            }
        }
        put(v.substr(run));
        *p_++ = '"';
        return *this;
    }
    json_line& num(std::string_view key, std::uint64_t v) {
        room(key.size() + 4 + 20);
        head(key);
        p_ = std::to_chars(p_, p_ + 20, v).ptr;
        return *this;
    }
    // The line, valid until the scratch buffer is next written.
    std::string_view done() {
        room(1);
        *p_++ = '}';
        return {buf_.data(), static_cast<std::size_t>(p_ - buf_.data())};
    }

private:
    // The bytes a JSON string holds as they are: all but '"', '\\' and control characters.
    static constexpr auto plain = [] {
        std::array<bool, 256> t{};
        for (int c = 0x20; c < 256; ++c) t[static_cast<std::size_t>(c)] = c != '"' && c != '\\';
        return t;
    }();

    // The index of the first byte of v at or after i that needs an escape, or v.size().
    static std::size_t next_special(std::string_view v, std::size_t i) {
        const char* s = v.data();
        const std::size_t n = v.size();
#ifdef __SSE2__
        // Sixteen bytes at a time: a byte needs an escape when it is '"', '\\' or at most 0x1f
        // (unsigned: the bytes of UTF-8 sequences are plain).
        const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\'), control = _mm_set1_epi8(0x1f);
        for (; i + 16 <= n; i += 16) {
            const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + i));
            const __m128i special = _mm_or_si128(_mm_cmpeq_epi8(_mm_min_epu8(x, control), x),
                                                 _mm_or_si128(_mm_cmpeq_epi8(x, quote), _mm_cmpeq_epi8(x, backslash)));
            if (const auto mask = static_cast<unsigned>(_mm_movemask_epi8(special)); mask != 0)
                return i + static_cast<std::size_t>(__builtin_ctz(mask));
        }
#endif
        while (i + 8 <= n && plain8(s + i)) i += 8;
        for (; i < n; ++i)
            if (!plain[static_cast<unsigned char>(s[i])]) return i;
        return n;
    }

    // Whether the eight bytes at p are all plain: none below 0x20, none '"' or '\\' (the
    // tests for a zero byte are exact, so a byte that needs escaping is never passed over).
    static bool plain8(const char* p) {
        constexpr std::uint64_t ones = 0x0101010101010101, high = 0x8080808080808080;
        std::uint64_t x;
        std::memcpy(&x, p, 8);
        const std::uint64_t quote = x ^ (ones * '"'), backslash = x ^ (ones * '\\');
        return ((((x - ones * 0x20) & ~x) | ((quote - ones) & ~quote) | ((backslash - ones) & ~backslash)) & high) == 0;
    }

    // At least n more bytes of room after p_.
    void room(std::size_t n) {
        const auto used = static_cast<std::size_t>(p_ - buf_.data());
        if (buf_.size() - used >= n) return;
        buf_.resize(std::max(buf_.size() * 2, used + n));
        p_ = buf_.data() + used;
    }
    void put(std::string_view s) {
        std::memcpy(p_, s.data(), s.size());
        p_ += s.size();
    }
    void head(std::string_view key) {
        put(",\"");
        put(key);
        put("\":");
    }

    std::vector<char>& buf_;
    char* p_ = nullptr;
};

struct input {
    enum { peer, client, places } k;
    std::uint32_t from = 0;  // peer: sender server index
    std::uint32_t at = 0;    // peer: the sender's index among the receiver's neighbours
    core::conn_id conn = 0;
    core::request_id request = 0;
    std::string text;  // line or places body; empty for a carried record
    core::record_ptr carried = {};  // peer: the record a FLOOD or REPAIR line carries
    bool repair = false;            // with carried: the line was a REPAIR
    std::uint32_t update = none;    // with carried: its update, when known
};

struct server_state {
    std::string name;
    std::vector<std::string> neighbours;  // sorted
    std::optional<core::node> node;
    bool up = true;
    bool lost_state = false;  // a crash emptied its store (once is enough)
    std::uint64_t incarnation = 0;
    nanos clock_offset = 0;
    std::optional<distribution> processing;
    rng proc_rng, places_rng;
    std::deque<input> inbox;
    bool busy = false;
    std::vector<std::uint32_t> dir_to;  // by neighbour (in `neighbours` order): the directed link
    std::size_t next_send = 0;          // the neighbour after the one last sent to
    // The node's timers: a set_timer bumps the id's generation, and an ev_timer event of an
    // older generation (or incarnation) is stale.
    std::map<core::timer_id, std::uint64_t> timer_gen;
};

struct link_state {
    std::uint32_t a, b;
    link_params params;
    bool admin_up = true;
    bool cut = false;  // by a two-way partition
    bool connected = false;
    // Counts the link's breaks. A link breaks at most once a fault (at most 100,000 of them),
    // so 32 bits never wrap.
    std::uint32_t epoch = 0;
};

// What a send and a delivery read share the first cache line (a big herd's directions are a
// miss each), and the direction's counts and its queue's next slot the second (a processor
// fetches such pairs of lines together).
struct alignas(128) dir_state {
    std::uint32_t link, from, to;
    std::uint32_t at_to;  // the index of `from` among the neighbours of `to`
    std::uint32_t fifo = none;  // its queue of messages in flight on a FIFO link (fifos_)
    bool blackhole = false;  // by a one-way partition
    nanos last_delivery = 0;
    rng r;
    message_counts counts;  // messages_by_link
    // Where the queue's next message will be written, as of the last send (a hint for
    // prefetching, in the line a send fetches anyway: reading the queue itself to find it was
    // another miss a target). Only ever prefetched, never read: null (a full ring, a new
    // queue) only costs a missing prefetch.
    const void* fifo_next = nullptr;
};
static_assert(offsetof(dir_state, counts) == 64 && sizeof(dir_state) == 128);

// A FLOOD settled when sent (simulation::settle): when it arrives, on which direction, and the
// link's epoch when it was sent.
struct settled_repeat {
    event_order at;
    std::uint32_t dir;
    std::uint32_t epoch;
};

struct message {
    std::uint32_t dir;
    std::uint32_t epoch;   // the link's when sent
    std::uint32_t update;  // the update of the record, when the sender knew it; else none
    kind_index kind;
    // The line of a message that carries no record (a DIGEST, a refusal); a FLOOD or REPAIR
    // travels as its record. Held apart so that a message in flight takes one cache line.
    std::unique_ptr<std::string> line;
    // The record of a FLOOD or REPAIR: `carried`, or, when that is empty, the record of
    // `update` (simulation::records_), which lives as long as the run.
    core::record_ptr carried;
    // The record's stored_record::key (0 for a line), copied when it is sent: the receiver's
    // store slot can then be asked for before the record itself has come from memory.
    std::uint64_t key;
};

// Messages in flight in one direction of a FIFO link, in sending order, which is also delivery
// order; only the first is in the event queue, with the time and sequence number it was given
// when it was sent. When the link breaks, its queue is left to drain (every message in it is
// lost, each at its own time) and the next message starts a new one: after a break, a new
// message may arrive before the lost ones would have.
struct fifo_queue {
    // One cache line each: a message is written when it is sent and read when it arrives,
    // long after, so each is a miss.
    struct alignas(64) entry {
        nanos t;
        std::uint64_t seq;
        message m;
    };
    static_assert(sizeof(entry) == 64);
    std::uint32_t dir = none;

    bool empty() const { return count_ == 0; }
    entry& front() { return ring_[head_]; }
    // Where push_back will write, when it need not grow the ring (for prefetching); else null.
    const entry* next_slot() const {
        return count_ < ring_.size() ? &ring_[(head_ + count_) & (ring_.size() - 1)] : nullptr;
    }
    // The entry after the first, if any (for prefetching): its time and sequence number are
    // read as soon as the first is delivered.
    const entry* second() const { return count_ > 1 ? &ring_[(head_ + 1) & (ring_.size() - 1)] : nullptr; }
    // Drops the first entry (its message moved out by the caller).
    void pop_front() {
        head_ = (head_ + 1) & (ring_.size() - 1);
        --count_;
    }
    void push_back(entry e) {
        if (count_ == ring_.size()) grow();
        ring_[(head_ + count_) & (ring_.size() - 1)] = std::move(e);
        ++count_;
    }

private:
    // A ring of a power-of-two size that only grows: a link keeps the room its busiest moment
    // needed, and sending allocates nothing (a std::deque takes a new block every few entries).
    void grow() {
        std::vector<entry> bigger(ring_.empty() ? 4 : ring_.size() * 2);
        for (std::size_t i = 0; i < count_; ++i) bigger[i] = std::move(ring_[(head_ + i) & (ring_.size() - 1)]);
        ring_.swap(bigger);
        head_ = 0;
    }

    std::vector<entry> ring_;
    std::size_t head_ = 0, count_ = 0;
};

struct places_query {
    std::uint32_t server;
    std::uint64_t incarnation;
    core::query_places_effect q;
};

struct generator_state {
    rng r;
    std::vector<std::pair<double, double>> pos;
    std::vector<std::uint32_t> targets;
    std::string whatsat_tail;  // " <radius> <limit>", the same for every WHATSAT
};

// Client ids to indexes 0, 1, 2, … in the order they are first added. Open addressing on the
// hash the store computed for the record already (stored_record::key): a lookup hashes nothing
// and reads one slot, then compares one name. Looked up, never iterated.
class client_table {
public:
    std::uint32_t find_or_add(std::string_view client, std::uint64_t key, bool& fresh) {
        if ((names_.size() + 1) * 2 > slots_.size()) grow();
        const std::size_t mask = slots_.size() - 1;
        std::size_t i = key & mask;
        for (; slots_[i].index != none; i = (i + 1) & mask)
            if (slots_[i].key == key && names_[slots_[i].index] == client) return slots_[i].index;
        fresh = true;
        slots_[i] = {key, static_cast<std::uint32_t>(names_.size())};
        names_.emplace_back(client);
        return slots_[i].index;
    }

private:
    struct slot {
        std::uint64_t key = 0;
        std::uint32_t index = none;
    };

    void grow() {
        std::vector<slot> old(slots_.empty() ? 64 : slots_.size() * 2);
        old.swap(slots_);
        const std::size_t mask = slots_.size() - 1;
        for (const auto& o : old) {
            if (o.index == none) continue;
            std::size_t i = o.key & mask;
            while (slots_[i].index != none) i = (i + 1) & mask;
            slots_[i] = o;
        }
    }

    std::vector<slot> slots_;
    std::vector<std::string> names_;  // by index
};

// By update, then server: the earliest arrival of a FLOOD of that update scheduled to that
// server so far (simulation::settles_when_sent). Rows come in blocks of 64 updates, so that
// growing never copies (a vector would hold twice its size while it grows), for the first
// updates up to 256 MiB (80 MB for 10,000 updates of a 1,000-server herd).
class arrival_table {
public:
    explicit arrival_table(std::size_t servers) : servers_(std::max<std::size_t>(1, servers)) {}

    // Adds update u's row (updates come in order 0, 1, 2, …), unless the table is full.
    void add(std::uint32_t u) {
        if (u != rows_ || (std::size_t{u} + 1) * servers_ * sizeof(core::nanos) > bytes_max) return;
        if (u % block == 0) {
            blocks_.push_back(std::make_unique<core::nanos[]>(block * servers_));
            std::fill_n(blocks_.back().get(), block * servers_, std::numeric_limits<core::nanos>::max());
        }
        ++rows_;
    }
    // The entry of update u and server s; null when u has no row.
    core::nanos* find(std::uint32_t u, std::uint32_t s) {
        if (u >= rows_) return nullptr;
        return &blocks_[u / block][(u % block) * servers_ + s];
    }

private:
    static constexpr std::size_t block = 64;
    static constexpr std::size_t bytes_max = std::size_t{256} << 20;
    std::size_t servers_;
    std::uint32_t rows_ = 0;
    std::vector<std::unique_ptr<core::nanos[]>> blocks_;
};

class simulation {
public:
    simulation(const scenario& s, std::uint64_t seed, const places_fn& places)
        : s_(s), seed_(seed), places_(places) {
        // Neighbour lists once for all (topology::neighbours scans every link).
        std::map<std::string, std::vector<std::string>, std::less<>> adjacent;
        for (const auto& l : s.links) {
            adjacent[l.a].push_back(l.b);
            adjacent[l.b].push_back(l.a);
        }
        for (auto& [name, list] : adjacent) std::sort(list.begin(), list.end());
        servers_.reserve(s.servers.size());  // a server_state is copied, not moved, when it grows
        for (std::size_t i = 0; i < s.servers.size(); ++i) {
            server_state st;
            st.name = s.servers[i].name;
            st.neighbours = adjacent[st.name];
            st.node.emplace(st.name, st.neighbours, names_, core::store{}, node_options());
            st.clock_offset = ms_ns(s.servers[i].clock_offset_ms);
            st.processing = s.servers[i].processing_ms;
            st.proc_rng = rng::derive(seed, "node:" + st.name + ":processing");
            st.places_rng = rng::derive(seed, "node:" + st.name + ":places");
            index_[st.name] = static_cast<std::uint32_t>(i);
            has_processing_.push_back(st.processing.has_value());
            servers_.push_back(std::move(st));
        }
        for (const auto& l : s.links) {
            const auto li = static_cast<std::uint32_t>(links_.size());
            links_.push_back({index_.at(l.a), index_.at(l.b), l.params, l.up, false, false, 0});
            for (int d = 0; d < 2; ++d) {
                const std::uint32_t from = d == 0 ? index_.at(l.a) : index_.at(l.b);
                const std::uint32_t to = d == 0 ? index_.at(l.b) : index_.at(l.a);
                const std::string name = servers_[from].name + "->" + servers_[to].name;
                auto& f = servers_[from];
                const auto at = std::lower_bound(f.neighbours.begin(), f.neighbours.end(), servers_[to].name);
                f.dir_to.resize(f.neighbours.size(), none);
                f.dir_to[static_cast<std::size_t>(at - f.neighbours.begin())] = static_cast<std::uint32_t>(dirs_.size());
                assert(dirs_.size() == 2 * li + d);  // link l's directions are 2l and 2l+1
                const auto& back = servers_[to].neighbours;
                const auto at_to = static_cast<std::uint32_t>(
                    std::lower_bound(back.begin(), back.end(), servers_[from].name) - back.begin());
                dirs_.push_back({li, from, to, at_to, none, false, 0, rng::derive(seed, "link:" + name), {}});
            }
        }
        for (std::size_t i = 0; i < s.lines.size(); ++i)
            push(s.lines[i].at, ev_line, static_cast<std::uint32_t>(i));
        for (std::size_t i = 0; i < s.faults.size(); ++i)
            push(s.faults[i].at, ev_fault, static_cast<std::uint32_t>(i));
        for (std::size_t g = 0; g < s.generators.size(); ++g) {
            const auto& spec = s.generators[g];
            generator_state gs{rng::derive(seed, "generator:" + std::to_string(g)), {}, {}, {}};
            char tail[64];
            std::snprintf(tail, sizeof tail, " %.3f %d", spec.radius_km, spec.limit);
            gs.whatsat_tail = tail;
            for (std::uint32_t c = 0; c < spec.clients; ++c) {
                // Start somewhere in a square of side area_km around the centre.
                const double dy = (gs.r.uniform01() - 0.5) * spec.area_km;
                const double dx = (gs.r.uniform01() - 0.5) * spec.area_km;
                gs.pos.push_back(moved(spec.center_lat, spec.center_lon, dy, dx));
            }
            for (const auto& name : spec.servers) gs.targets.push_back(index_.at(name));
            if (gs.targets.empty())
                for (std::uint32_t i = 0; i < servers_.size(); ++i) gs.targets.push_back(i);
            gens_.push_back(std::move(gs));
            const nanos first = spec.from + gap(spec, gens_[g].r);
            if (first <= spec.to) push(first, ev_gen, static_cast<std::uint32_t>(g));
        }
        r_.seed = seed;
        breaks_.resize(links_.size());
        line_replies_.resize(s.lines.size());
    }

    run_result run(const std::function<void(nanos)>& on_progress) {
        // A server that starts down is down before anything happens; then every link comes up
        // (unless it starts down, or joins such a server): both ends learn it at time 0, before
        // anything else happens.
        // The timeline says so as faults at 0 (with the scenario's path for the field), and a
        // link that does not come up is down from 0, so the plots draw its downtime.
        for (std::uint32_t s = 0; s < servers_.size(); ++s)
            if (!s_.servers[s].up) {
                servers_[s].up = false;
                --live_;  // nothing is held yet: no staleness to account
                timeline_json(ojson{{"t_ms", 0}, {"event", "fault"}, {"path", "$.topology.servers[" + std::to_string(s) + "]"},
                                    {"fault", "crash"}, {"server", servers_[s].name}, {"lose_state", false}});
            }
        for (std::uint32_t l = 0; l < links_.size(); ++l)
            if (!links_[l].admin_up)
                timeline_json(ojson{{"t_ms", 0}, {"event", "fault"}, {"path", "$.topology.links[" + std::to_string(l) + "]"},
                                    {"fault", "link_down"}, {"between", {servers_[links_[l].a].name, servers_[links_[l].b].name}}});
        for (std::uint32_t l = 0; l < links_.size(); ++l) update_link(l, 0);
        for (const auto& link : links_)
            if (!link.connected) link_line(link);
        next_sample_ = 0;
        std::uint64_t steps = 0;
        while (!queue_.empty()) {
            if (r_.events >= s_.events_max) {
                r_.events_limit_hit = true;
                break;
            }
            const event e = queue_.top();
            ++r_.events;
            ++r_.queued_events;
            r_.queue_depth_sum += queue_.size();
            sample_until(e.t);
            now_ = e.t;
            current_seq_ = e.seq;
            if (e.kind() == ev_fifo) {
                prefetch_after_top();
                on_fifo(e.idx());  // takes the event off the queue itself
            } else {
                queue_.pop();
                dispatch(e);
            }
            if (on_progress && (++steps & 0xffff) == 0) on_progress(now_);
        }
        // The last event may have been a settled repeat's arrival (unless the run was stopped).
        if (!r_.events_limit_hit) now_ = std::max(now_, settled_end_);
        settle_log(true);
        r_.end = now_;
        sample_until(now_);
        emit_sample(now_);
        finish();
        return std::move(r_);
    }

private:
    // The nodes' options: the scenario's protocol, with compact sends (records travel as
    // themselves, and a FLOOD is one effect).
    core::node_options node_options() const {
        core::node_options o = s_.protocol;
        o.compact_sends = true;
        return o;
    }

    // ---- the event queue ----
    void push(nanos t, std::uint32_t kind, std::uint32_t idx, std::uint64_t aux = 0) {
        if (t > horizon) {
            ++beyond_horizon_;
            return;
        }
        queue_.push(event{t, seq_++, kind | (std::uint64_t{idx} << 3) | ((aux & ((1ULL << 29) - 1)) << 35)});
    }

    void dispatch(const event& e) {
        switch (e.kind()) {
            case ev_deliver: on_deliver(e.idx()); break;
            case ev_line: on_line(e.idx()); break;
            case ev_places: on_places(e.idx()); break;
            case ev_fault: on_fault(s_.faults[e.idx()]); break;
            case ev_gen: on_generate(e.idx()); break;
            case ev_process: on_process(e.idx(), e.aux()); break;
            case ev_timer: on_timer(e.idx(), e.aux()); break;
            case ev_fifo: assert(false && "run() calls on_fifo"); break;
        }
    }

    // ---- inputs, through the server's serial queue when it has a processing delay ----
    void deliver_input(std::uint32_t s, input&& in) {
        auto& st = servers_[s];
        if (!st.processing) {
            handle(s, in);
            return;
        }
        if (st.inbox.size() >= inbox_max) {
            ++drops_[drop_overload];
            return;
        }
        st.inbox.push_back(std::move(in));
        if (!st.busy) {
            st.busy = true;
            push(now_ + ms_ns(draw(*st.processing, st.proc_rng)), ev_process, s, st.incarnation);
        }
    }

    void on_process(std::uint32_t s, std::uint64_t incarnation) {
        auto& st = servers_[s];
        if (!st.up || (st.incarnation & ((1ULL << 29) - 1)) != incarnation || st.inbox.empty()) return;
        input in = std::move(st.inbox.front());
        st.inbox.pop_front();
        handle(s, in);
        if (st.inbox.empty())
            st.busy = false;
        else
            push(now_ + ms_ns(draw(*st.processing, st.proc_rng)), ev_process, s, st.incarnation);
    }

    void handle(std::uint32_t s, const input& in) {
        if (in.k == input::peer && in.carried) return handle_record(s, in.at, in.carried, in.repair, in.update);
        if (in.k == input::client) return handle_client(s, in.conn, in.text);
        feed(s, none, nullptr, false, [&](core::node& n, nanos node_now) {
            if (in.k == input::peer)
                n.peer_line(servers_[in.from].name, in.text, node_now);
            else
                n.places_done(in.request, {true, in.text, {}}, node_now);
        });
    }

    // A client line, handed over as it is (a server without a processing delay takes it at
    // once, and its text need not be kept).
    void handle_client(std::uint32_t s, core::conn_id conn, std::string_view line) {
        feed(s, none, nullptr, true, [&](core::node& n, nanos node_now) { n.client_line(conn, line, node_now); });
    }

    // A FLOOD or REPAIR from neighbour `at` of server s comes with its record, as the sender's
    // send effect carried it: the node takes it without parsing a line, and every store that
    // holds it shares the one copy.
    void handle_record(std::uint32_t s, std::uint32_t at, const core::record_ptr& carried, bool repair,
                       std::uint32_t update) {
        // A FLOOD of a record the server holds already changes nothing and sends nothing (the
        // node's first check, node::peer_record): most FLOODs are such repeats, and the
        // recording knows which server holds which update, in far less memory than the stores.
        if (!repair && update != none && holds_update(s, update)) {
            assert(servers_[s].node->records().find(carried->r.client) &&
                   *servers_[s].node->records().find(carried->r.client) == carried->r);
            return;
        }
        feed(s, update, &carried, false,
             [&](core::node& n, nanos node_now) { n.peer_record_at(at, carried, repair, node_now); });
    }

    // Hands server s one input (`give` calls its node, at the node's time), records what the
    // input changed in its store, and performs the effects.
    template <class Give>
    void feed(std::uint32_t s, std::uint32_t update, const core::record_ptr* carried, bool from_client, Give&& give) {
        auto& st = servers_[s];
        auto& n = *st.node;
        const auto version = n.records().version();
        give(n, s_.start_time + now_ + st.clock_offset);
        if (n.records().version() != version) {
            slot_spans_[s] = n.records().slots_for_prefetch();
            on_applied(s, update, carried, from_client);
        }
        perform(s);
    }

    void perform(std::uint32_t s) {
        servers_[s].node->poll_effects(effects_);
        for (auto& e : effects_) {
            if (auto* rep = std::get_if<core::reply_effect>(&e)) {
                on_reply(s, *rep);
            } else if (auto* sd = std::get_if<core::send_effect>(&e)) {
                const std::uint32_t u = sd->carried && sd->carried.get() == applied_record_ ? applied_update_ : none;
                if (sd->to_neighbours) {
                    // A FLOOD to every live neighbour but one, in neighbour order.
                    const auto& st = servers_[s];
                    const std::uint64_t bytes = carried_bytes(*sd->carried, kind_flood);
                    // Each message is written where no cache line has been for long, and each
                    // direction's state, counts and link are read: ask for them all first, the
                    // directions (at random among thousands) before what they lead to.
                    for (std::size_t i = 0; i < st.neighbours.size(); ++i) {
                        core::store::prefetch_line(&dirs_[st.dir_to[i]]);
                        core::store::prefetch_line(&dirs_[st.dir_to[i]].counts);
                    }
                    for (std::size_t i = 0; i < st.neighbours.size(); ++i) {
                        const std::uint32_t d = st.dir_to[i];
                        core::store::prefetch_line(&links_[dirs_[d].link]);
                        if (const void* slot = dirs_[d].fifo_next) core::store::prefetch_line(slot);
                        // Whether a FLOOD of the update is due there already (settles_when_sent).
                        if (const nanos* due = arrivals_.find(u, dirs_[d].to)) core::store::prefetch_line(due);
                    }
                    for (std::size_t i = 0; i < st.neighbours.size(); ++i)
                        if (i != sd->except && st.node->is_up_at(i))
                            send(s, st.dir_to[i], kind_flood, bytes, {}, sd->carried, u);
                } else if (sd->carried) {
                    // A REPAIR (compact sends: a lone carried record is one).
                    const std::uint64_t bytes = carried_bytes(*sd->carried, kind_repair);
                    send(s, dir_to(s, sd->peer), kind_repair, bytes, {}, sd->carried, u);
                } else {
                    const std::uint64_t bytes = sd->line.size();
                    const kind_index kind = message_kind(sd->line);
                    send(s, dir_to(s, sd->peer), kind, bytes, std::move(sd->line), {}, u);
                }
            } else if (auto* q = std::get_if<core::query_places_effect>(&e)) {
                std::uint32_t idx;
                if (!free_places_.empty()) {
                    idx = free_places_.back();
                    free_places_.pop_back();
                    places_q_[idx] = {s, servers_[s].incarnation, *q};
                } else {
                    idx = static_cast<std::uint32_t>(places_q_.size());
                    places_q_.push_back({s, servers_[s].incarnation, *q});
                }
                push(now_ + ms_ns(draw(s_.places_delay_ms, servers_[s].places_rng)), ev_places, idx);
            } else if (auto* t = std::get_if<core::set_timer_effect>(&e)) {
                set_timer(s, *t);
            }
            // log effects: the real host writes them; the simulator records effects it can see.
        }
        applied_record_ = nullptr;  // the next record at this address may be another's
    }

    // ---- timers ----
    // The event's aux holds the timer id (3 bits) and its generation; a crash bumps every
    // generation (the process is gone, and its timers with it).
    static constexpr std::uint64_t timer_ids = 8;

    void set_timer(std::uint32_t s, const core::set_timer_effect& t) {
        assert(t.id < timer_ids);
        auto& st = servers_[s];
        const std::uint64_t gen = ++st.timer_gen[t.id];
        // Timer times are on the node's clock; periodic repair stops at repair_until so that
        // a run ends.
        const nanos at = std::max(now_, t.at - s_.start_time - st.clock_offset);
        if (at > s_.repair_until) return;
        push(at, ev_timer, s, gen * timer_ids + t.id);
    }

    void on_timer(std::uint32_t s, std::uint64_t aux) {
        auto& st = servers_[s];
        const auto id = static_cast<core::timer_id>(aux % timer_ids);
        if (!st.up || ((st.timer_gen[id] * timer_ids + id) & ((1ULL << 29) - 1)) != aux) return;
        st.node->timer(id, s_.start_time + now_ + st.clock_offset);
        perform(s);
    }

    // ---- the network ----
    // The directed link from s to its neighbour `peer` (the node sends only to neighbours).
    std::uint32_t dir_to(std::uint32_t s, std::string_view peer) {
        auto& st = servers_[s];
        // A flood goes to the neighbours in order: the one after the last is the first guess.
        std::size_t i = st.next_send < st.neighbours.size() ? st.next_send : 0;
        if (st.neighbours[i] != peer) {
            const auto at = std::lower_bound(st.neighbours.begin(), st.neighbours.end(), peer);
            assert(at != st.neighbours.end() && *at == peer);
            i = static_cast<std::size_t>(at - st.neighbours.begin());
        }
        st.next_send = i + 1;
        return st.dir_to[i];
    }

    // The bytes of the line (with its '\n') that a FLOOD or REPAIR of `r` would be: the node
    // sends the record alone (compact sends).
    static std::uint64_t carried_bytes(const core::stored_record& p, kind_index kind) {
        const auto& r = p.r;
        const std::uint64_t n = r.sent_bytes(kind == kind_repair ? "REPAIR" : "FLOOD");
        assert(n == (kind == kind_repair ? r.repair_line() : r.flood_line()).size() + 1);
        return n;
    }

    // Sends a message on directed link d: `line` (a DIGEST, a refusal) or, for a FLOOD or
    // REPAIR, the record it carries, `bytes` long on the wire. `line` may be the text of an
    // effect in effects_ (moved from only when its message is queued): nothing called from
    // here may run perform() again.
    void send(std::uint32_t s, std::uint32_t d, kind_index kind, std::uint64_t bytes, std::string&& line,
              const core::record_ptr& carried, std::uint32_t update) {
        assert(dirs_[d].from == s);
        (void)s;
        auto& dir = dirs_[d];
        auto& link = links_[dir.link];
        ++by_kind_[kind].sent;
        ++dirs_[d].counts.sent;
        by_kind_[kind].bytes += bytes;
        dirs_[d].counts.bytes += bytes;
        trace_message("send", d, kind, nullptr);
        if (!link.connected) return drop(d, kind, drop_link_down);
        if (dir.blackhole) return drop(d, kind, drop_partition);
        if (dir.r.chance(link.params.loss)) return drop(d, kind, drop_loss);
        const bool twice = dir.r.chance(link.params.duplicate);
        if (twice) {
            schedule(d, kind, std::string(line), carried, update);
            ++by_kind_[kind].duplicated;
            ++dirs_[d].counts.duplicated;
            trace_message("duplicate", d, kind, nullptr);
        }
        schedule(d, kind, std::move(line), carried, update);
    }

    void schedule(std::uint32_t d, kind_index kind, std::string&& line, const core::record_ptr& record, std::uint32_t update) {
        auto& dir = dirs_[d];
        const auto& link = links_[dir.link];
        nanos at = now_ + ms_ns(draw(link.params.latency_ms, dir.r));
        if (link.params.fifo) at = std::max(at, dir.last_delivery);  // TCP: no overtaking
        dir.last_delivery = std::max(dir.last_delivery, at);
        // When a FLOOD of this update is due at the receiver (kept only in quiet runs that do
        // not trace messages): asked, then this one noted.
        nanos* due = kind == kind_flood ? arrivals_.find(update, dir.to) : nullptr;
        const bool settles = link.params.fifo && at <= horizon && settles_when_sent(d, kind, update, due, at);
        if (due != nullptr) *due = std::min(*due, at);
        if (settles) return settle(d, at);
        enqueue(d, kind, std::move(line), record, update, at);
    }

    // The message of schedule() that is not settled: into its link's FIFO queue or, on a link
    // that reorders, into the event queue. Kept out of line: most of schedule's messages in a
    // big herd are settled repeats and need none of this.
    [[gnu::noinline]] void enqueue(std::uint32_t d, kind_index kind, std::string&& line, const core::record_ptr& record,
                                   std::uint32_t update, nanos at) {
        auto& dir = dirs_[d];
        const auto& link = links_[dir.link];
        std::unique_ptr<std::string> text;
        if (!record) text = std::make_unique<std::string>(std::move(line));
        // The record of a known update is records_[update]: the message names it by the update
        // alone, and sending and delivering touch no reference count.
        core::record_ptr carried;
        if (record && (update == none || records_[update] != record)) carried = record;
        const std::uint64_t key = record ? record->key : 0;
        if (link.params.fifo && at <= horizon) {
            if (dir.fifo == none) dir.fifo = new_fifo(d);
            auto& q = fifos_[dir.fifo];
            const bool first = q.empty();
            q.push_back({at, seq_, {d, link.epoch, update, kind, std::move(text), std::move(carried), key}});
            dir.fifo_next = q.next_slot();
            if (first) queue_.push(event{at, seq_, ev_fifo | (std::uint64_t{dir.fifo} << 3)});
            ++seq_;
            return;
        }
        std::uint32_t slot;
        if (!free_msgs_.empty()) {
            slot = free_msgs_.back();
            free_msgs_.pop_back();
            msgs_[slot] = {d, link.epoch, update, kind, std::move(text), std::move(carried), key};
        } else {
            slot = static_cast<std::uint32_t>(msgs_.size());
            msgs_.push_back({d, link.epoch, update, kind, std::move(text), std::move(carried), key});
        }
        push(at, ev_deliver, slot);
    }

    // A FLOOD whose receiver holds its record already when it is sent changes nothing when it
    // arrives: the receiver still holds that record then, or a newer one for the client (a store
    // only moves forward), and the node ignores both without a word (node::peer_record_at);
    // only a break of the link can lose it on the way (and a lost store comes with a crash, which
    // breaks every link of the server). So such a repeat is settled when sent: counted as an
    // event and as delivered at once, with no message in memory and no event in the queue. Its
    // arrival (time, sequence number, direction and the link's epoch) goes on a log, read later
    // against the link's breaks (settle_log). Not when the receiver has a serial queue (the
    // repeat would take its turn there), on a link that reorders, or when the timeline traces
    // every message.
    //
    // In a run where nothing in flight is ever lost (no fault breaks a link: quiet_), a FLOOD
    // that arrives after another FLOOD of the same update to the same server was scheduled to
    // arrive is such a repeat too: that one comes first (an earlier time, or the same time and a
    // smaller sequence number), and the server then holds the update or a newer record.
    // `due`: the earliest arrival of a FLOOD of the update at the receiver so far, when kept.
    bool settles_when_sent(std::uint32_t d, kind_index kind, std::uint32_t update, const nanos* due, nanos at) {
        const std::uint32_t to = dirs_[d].to;
        if (kind != kind_flood || update == none || timeline_messages_ || has_processing_[to]) return false;
        if (holds_update(to, update)) return true;
        if (due == nullptr || *due > at) return false;
        ++r_.settled_behind;
        return true;
    }

    void settle(std::uint32_t d, nanos at) {
        ++r_.events;
        ++by_kind_[kind_flood].delivered;
        ++dirs_[d].counts.delivered;
        settled_end_ = std::max(settled_end_, at);
        // In a quiet run no link breaks after the start, so none is lost: nothing to look up.
        if (quiet_) {
            ++seq_;
            return;
        }
        settled_.push_back({{at, seq_++}, d, links_[dirs_[d].link].epoch});
        if (settled_.size() >= 2 * settled_kept_) settle_log(false);
    }

    // Finds the fate of the settled repeats that have arrived (all of them at the end of the run):
    // lost if their link broke after they were sent and before they arrived (the break's event
    // came before theirs), as deliver() would find; the log keeps the rest.
    void settle_log(bool all) {
        std::size_t kept = 0;
        for (const settled_repeat& x : settled_) {
            if (!all && !(x.at < event_order{now_, current_seq_})) {
                settled_[kept++] = x;
                continue;
            }
            const auto& breaks = breaks_[dirs_[x.dir].link];
            if (x.epoch < breaks.size() && breaks[x.epoch] < x.at) {
                --by_kind_[kind_flood].delivered;
                --dirs_[x.dir].counts.delivered;
                drop(x.dir, kind_flood, drop_in_flight);
            }
        }
        settled_.resize(kept);
        settled_kept_ = std::max<std::size_t>(kept, 4096);
    }

    std::uint32_t new_fifo(std::uint32_t d) {
        std::uint32_t q;
        if (!free_fifos_.empty()) {
            q = free_fifos_.back();
            free_fifos_.pop_back();
        } else {
            q = static_cast<std::uint32_t>(fifos_.size());
            fifos_.emplace_back();
        }
        fifos_[q].dir = d;
        return q;
    }

    // The first message of FIFO queue q is due (its event is first in the event queue): the
    // next message, if any, takes that event's place.
    void on_fifo(std::uint32_t q) {
        auto& f = fifos_[q];
        message m = std::move(f.front().m);
        f.pop_front();
        if (!f.empty()) {
            queue_.replace_top(event{f.front().t, f.front().seq, ev_fifo | (std::uint64_t{q} << 3)});
        } else {
            queue_.pop();
            if (dirs_[f.dir].fifo != q) free_fifos_.push_back(q);  // left behind by a break, now drained
        }
        prefetch_slot_of_top();
        deliver(m);
    }

    // The message that will most likely be delivered next (the least of the first event's
    // children) and where it goes: a big herd's messages wait long in memory, and each is a
    // cache miss when it arrives. Then the FIFO queues of that event's children, the candidates
    // an event later: finding a queue's first message reads the queue (where its ring is), and
    // asking for it costs no read. Only these few: a prefetch that misses holds one of the
    // processor's few fill buffers until its line comes, and too many stall the rest.
    void prefetch_after_top() {
        const event* next = queue_.next_after_top();
        if (!next) return;
        if (next->kind() == ev_fifo) {
            auto& f = fifos_[next->idx()];
            core::store::prefetch_line(&f.front());
            core::store::prefetch_line(&dirs_[f.dir]);
        }
        std::size_t n;
        const event* later = queue_.children_of(next, n);
        for (std::size_t i = 0; i < n; ++i)
            if (later[i].kind() == ev_fifo) core::store::prefetch_line(&fifos_[later[i].idx()]);
    }

    // The next event's message was asked for while this one was first (prefetch_after_top):
    // when it carries a record that its receiver will look up in its store, ask for the store's
    // slot now, an event ahead.
    void prefetch_slot_of_top() {
        if (queue_.empty() || queue_.top().kind() != ev_fifo) return;
        auto& f = fifos_[queue_.top().idx()];
        const message& m = f.front().m;
        // What its delivery reads besides the message: the message after it (whose time takes
        // its place in the event queue), its link and its direction's counters.
        if (const auto* next = f.second()) core::store::prefetch_line(next);
        core::store::prefetch_line(&dirs_[m.dir].counts);
        core::store::prefetch_line(&links_[dirs_[m.dir].link]);
        if (m.line) return;
        const std::uint32_t to = dirs_[m.dir].to;
        if (m.kind == kind_flood && m.update != none && holds_update(to, m.update)) return;
        const auto& span = slot_spans_[to];
        if (!span.first) return;
        core::store::prefetch_line(span.first + (m.key & span.mask) * span.size);
        core::store::prefetch_line(span.sums + core::bucket_of_hash(m.key));
        core::store::prefetch_line(span.self);
        // The record itself: the node reads its key, client and origin, and its hash if stored.
        const core::stored_record* rec = record_of(m).get();  // addresses only: nothing is read
        core::store::prefetch_line(rec);
        core::store::prefetch_line(&rec->r.origin);
        core::store::prefetch_line(&rec->key);
        // The recording's row for that client and server (on_applied reads and writes it when
        // the record is news): rows of a thousand servers spread over megabytes.
        if (m.update != none) core::store::prefetch_line(&held(to, update_client_[m.update]));
    }

    // The record a FLOOD or REPAIR message carries.
    const core::record_ptr& record_of(const message& m) const {
        assert(!m.line && (m.carried || m.update != none));
        return m.carried ? m.carried : records_[m.update];
    }

    void on_deliver(std::uint32_t slot) {
        message m = std::move(msgs_[slot]);
        free_msgs_.push_back(slot);
        deliver(m);
    }

    void deliver(message& m) {
        const auto& dir = dirs_[m.dir];
        const auto& link = links_[dir.link];
        const kind_index kind = m.kind;
        // A connection that broke while the message was in flight lost it.
        if (link.epoch != m.epoch || !link.connected) return drop(m.dir, kind, drop_in_flight);
        ++by_kind_[kind].delivered;
        ++dirs_[m.dir].counts.delivered;
        trace_message("deliver", m.dir, kind, nullptr);
        if (!m.line) {
            const core::record_ptr& record = record_of(m);
            if (!has_processing_[dir.to]) return handle_record(dir.to, dir.at_to, record, kind == kind_repair, m.update);
            return deliver_input(dir.to, input{input::peer, dir.from, dir.at_to, 0, 0, {}, record, kind == kind_repair, m.update});
        }
        std::string line = std::move(*m.line);
        line.pop_back();  // the '\n'
        deliver_input(dir.to, input{input::peer, dir.from, dir.at_to, 0, 0, std::move(line), {}, false, none});
    }

    void drop(std::uint32_t d, kind_index kind, reason_index reason) {
        ++by_kind_[kind].dropped;
        ++dirs_[d].counts.dropped;
        ++drops_[reason];
        trace_message("drop", d, kind, reason_names[reason]);
    }

    // Checked here, inline: most runs trace no message, and every message would call it.
    void trace_message(const char* what, std::uint32_t d, kind_index kind, const char* reason) {
        if (timeline_messages_) write_trace(what, d, kind, reason);
    }
    [[gnu::noinline]] void write_trace(const char* what, std::uint32_t d, kind_index kind, const char* reason) {
        json_line j(scratch_, now_, what);
        j.str("from", servers_[dirs_[d].from].name).str("to", servers_[dirs_[d].to].name).str("kind", kind_names[kind]);
        if (reason) j.str("reason", reason);
        timeline(j.done());
    }

    // The timeline's line for a link's state now.
    void link_line(const link_state& link) {
        timeline_json(ojson{{"t_ms", 0}, {"event", "link"}, {"a", servers_[link.a].name},
                            {"b", servers_[link.b].name}, {"state", link.connected ? "up" : "down"}});
    }

    // Recomputes whether link l is connected and tells both ends when that changed.
    void update_link(std::uint32_t l, nanos) {
        auto& link = links_[l];
        const bool now_connected =
            link.admin_up && !link.cut && servers_[link.a].up && servers_[link.b].up;
        if (now_connected == link.connected) return;
        link.connected = now_connected;
        link_line(link);
        if (!now_connected) {
            // A new connection: what was in flight is lost and holds nothing up.
            ++link.epoch;
            breaks_[l].push_back(event_order{now_, current_seq_});
            for (std::uint32_t d = 2 * l; d < 2 * l + 2; ++d) {  // a link's two directions
                auto& dir = dirs_[d];
                dir.last_delivery = 0;
                if (dir.fifo != none && fifos_[dir.fifo].empty()) free_fifos_.push_back(dir.fifo);
                dir.fifo = none;
                dir.fifo_next = nullptr;
            }
        }
        for (auto [x, y] : {std::pair{link.a, link.b}, std::pair{link.b, link.a}}) {
            auto& st = servers_[x];
            if (!st.up) continue;
            const nanos node_now = s_.start_time + now_ + st.clock_offset;
            if (now_connected)
                st.node->peer_up(servers_[y].name, node_now);
            else
                st.node->peer_down(servers_[y].name, node_now);
            perform(x);
        }
    }

    // ---- faults ----
    std::uint32_t link_index(const std::string& a, const std::string& b) const {
        for (std::uint32_t l = 0; l < links_.size(); ++l) {
            const auto& x = servers_[links_[l].a].name;
            const auto& y = servers_[links_[l].b].name;
            if ((x == a && y == b) || (x == b && y == a)) return l;
        }
        assert(false && "the loader checked every link");
        return 0;
    }

    void on_fault(const fault& f) {
        ojson j{{"t_ms", 0}, {"event", "fault"}, {"path", f.json_path}};
        switch (f.k) {
            case fault::kind::link_down:
            case fault::kind::link_up: {
                const auto l = link_index(f.a, f.b);
                links_[l].admin_up = f.k == fault::kind::link_up;
                j["fault"] = f.k == fault::kind::link_up ? "link_up" : "link_down";
                j["between"] = {f.a, f.b};
                timeline_json(j);
                update_link(l, now_);
                return;
            }
            case fault::kind::partition: {
                j["fault"] = f.one_way ? "partition_one_way" : "partition";
                j["groups"] = f.groups;
                timeline_json(j);
                std::vector<std::uint32_t> group(servers_.size(), none);
                for (std::uint32_t g = 0; g < f.groups.size(); ++g)
                    for (const auto& name : f.groups[g]) group[index_.at(name)] = g;
                for (std::uint32_t d = 0; d < dirs_.size(); ++d) {
                    const auto gf = group[dirs_[d].from], gt = group[dirs_[d].to];
                    if (gf == none || gt == none || gf == gt) continue;
                    if (f.one_way) {
                        if (gf == 0) dirs_[d].blackhole = true;  // messages out of the first group vanish
                    } else {
                        links_[dirs_[d].link].cut = true;
                    }
                }
                for (std::uint32_t l = 0; l < links_.size(); ++l) update_link(l, now_);
                return;
            }
            case fault::kind::heal: {
                j["fault"] = "heal";
                timeline_json(j);
                for (auto& d : dirs_) d.blackhole = false;
                for (auto& l : links_) l.cut = false;
                for (std::uint32_t l = 0; l < links_.size(); ++l) update_link(l, now_);
                return;
            }
            case fault::kind::crash: {
                const auto s = index_.at(f.a);
                j["fault"] = "crash";
                j["server"] = f.a;
                j["lose_state"] = f.lose_state;
                timeline_json(j);
                crash(s, f.lose_state);
                return;
            }
            case fault::kind::restart: {
                j["fault"] = "restart";
                j["server"] = f.a;
                timeline_json(j);
                restart(index_.at(f.a));
                return;
            }
            case fault::kind::set_link: {
                const auto l = link_index(f.a, f.b);
                f.change.apply(links_[l].params);
                j["fault"] = "set_link";
                j["between"] = {f.a, f.b};
                timeline_json(j);
                return;
            }
        }
    }

    void crash(std::uint32_t s, bool lose_state) {
        auto& st = servers_[s];
        if (!st.up) return;
        set_live(s, false);
        st.up = false;
        ++st.incarnation;
        st.inbox.clear();
        st.busy = false;
        for (auto& [id, gen] : st.timer_gen) ++gen;
        if (lose_state) {
            st.lost_state = true;
            st.node.reset();
            slot_spans_[s] = {};
            for (std::uint32_t c = 0; c < latest_.size(); ++c) {
                set_holds(s, held(s, c), false);
                held(s, c) = none;
            }
            forget_lost_updates();
        }
        for (std::uint32_t l = 0; l < links_.size(); ++l)
            if (links_[l].a == s || links_[l].b == s) update_link(l, now_);
    }

    void restart(std::uint32_t s) {
        auto& st = servers_[s];
        if (st.up) return;
        // The process starts afresh; only the store survives a crash that kept its state.
        core::store kept;
        if (st.node) kept = st.node->records();
        st.node.emplace(st.name, st.neighbours, names_, std::move(kept), node_options());
        slot_spans_[s] = st.node->records().slots_for_prefetch();
        st.up = true;
        set_live(s, true);
        for (std::uint32_t l = 0; l < links_.size(); ++l)
            if (links_[l].a == s || links_[l].b == s) update_link(l, now_);
    }

    // ---- workload ----
    void on_line(std::uint32_t i) {
        const auto& w = s_.lines[i];
        std::string line = w.line;
        for (auto at = line.find("{now}"); at != std::string::npos; at = line.find("{now}"))
            line.replace(at, 5, format_time(s_.start_time + now_));
        const core::conn_id conn = next_conn_++;
        conn_line_[conn] = i;
        client_request(index_.at(w.server), conn, line);
    }

    void client_request(std::uint32_t s, core::conn_id conn, std::string_view line) {
        const std::string_view first = line.substr(0, line.find(' '));
        ++requests_[first == "IAMAT" ? 0 : first == "WHATSAT" ? 1 : 2];
        if (!servers_[s].up) {
            ++r_.client_failures;
            timeline(json_line(scratch_, now_, "fail").str("server", servers_[s].name).str("line", line).done());
            return;
        }
        timeline(json_line(scratch_, now_, "request").str("server", servers_[s].name).num("conn", conn).str("line", line).done());
        if (!has_processing_[s]) return handle_client(s, conn, line);
        deliver_input(s, input{input::client, 0, 0, conn, 0, std::string(line)});
    }

    void on_reply(std::uint32_t s, const core::reply_effect& rep) {
        if (rep.text.starts_with("? ")) ++r_.client_refusals;
        timeline(json_line(scratch_, now_, "reply").str("server", servers_[s].name).num("conn", rep.conn).str("reply", rep.text).done());
        if (conn_line_.empty()) return;  // no timed line (generators' connections are not kept)
        const auto it = conn_line_.find(rep.conn);
        if (it != conn_line_.end() && !line_replies_[it->second]) line_replies_[it->second] = rep.text;
    }

    static std::pair<double, double> moved(double lat, double lon, double north_km, double east_km) {
        constexpr double km_per_deg = 111.32;
        lat = std::clamp(lat + north_km / km_per_deg, -89.9, 89.9);
        lon += east_km / (km_per_deg * std::max(0.01, std::cos(lat * M_PI / 180)));
        while (lon > 180) lon -= 360;
        while (lon < -180) lon += 360;
        return {lat, lon};
    }

    void on_generate(std::uint32_t g) {
        const auto& spec = s_.generators[g];
        auto& gs = gens_[g];
        const auto c = static_cast<std::uint32_t>(gs.r.below(spec.clients));
        const auto s = gs.targets[gs.r.below(gs.targets.size())];
        const bool whatsat = gs.r.chance(spec.whatsat_fraction);
        // "WHATSAT g<g>-c<c> <radius> <limit>" or "IAMAT g<g>-c<c> <lat><lon> <time>", as
        // snprintf's "%.3f %d" and "%+.6f%+.6f" would write them.
        // Written into a buffer and handed on as a view (a server without a processing delay
        // takes it at once; a queued one copies it). Each part has a bound of its own, far more
        // room than it takes (moved() keeps a position within ±90 and ±180 degrees; even a
        // fixed-notation double has at most 309 digits before the point), so that the
        // compiler sees every write fit.
        char buf[1200];
        char* p = buf;
        const std::string_view head = whatsat ? "WHATSAT g" : "IAMAT g";
        std::memcpy(p, head.data(), head.size());
        p = std::to_chars(p + head.size(), buf + 40, g).ptr;
        *p++ = '-';
        *p++ = 'c';
        p = std::to_chars(p, buf + 80, c).ptr;
        if (whatsat) {
            const std::size_t tail = std::min<std::size_t>(gs.whatsat_tail.size(), 100);  // 64 at most
            std::memcpy(p, gs.whatsat_tail.data(), tail);
            p += tail;
        } else {
            const double angle = 2 * M_PI * gs.r.uniform01();
            auto& at = gs.pos[c];
            at = moved(at.first, at.second, spec.move_km * std::cos(angle), spec.move_km * std::sin(angle));
            *p++ = ' ';
            p = write_degrees(p, buf + 500, at.first);
            p = write_degrees(p, buf + 1000, at.second);
            *p++ = ' ';
            p = write_time(p, s_.start_time + now_);
        }
        client_request(s, next_conn_++, std::string_view(buf, static_cast<std::size_t>(p - buf)));
        const nanos next = now_ + std::max<nanos>(1, gap(spec, gs.r));
        if (next <= spec.to) push(next, ev_gen, g);
    }

    void on_places(std::uint32_t idx) {
        const places_query pq = places_q_[idx];
        free_places_.push_back(idx);
        auto& st = servers_[pq.server];
        if (!st.up || st.incarnation != pq.incarnation) return;
        if (!places_) {
            st.node->places_done(pq.q.request, {false, {}, "no places index"}, s_.start_time + now_ + st.clock_offset);
            perform(pq.server);
            return;
        }
        deliver_input(pq.server, input{input::places, 0, 0, 0, pq.q.request,
                                       places_(pq.q.lat, pq.q.lon, pq.q.radius_m, pq.q.limit)});
    }

    // ---- recording: updates, applications, staleness ----
    // The index of the client of stored record r, numbered as first seen.
    std::uint32_t client_index(const core::stored_record& r) {
        bool fresh = false;
        const std::uint32_t c = clients_.find_or_add(r.r.client, r.key, fresh);
        if (fresh) {
            latest_.push_back(none);
            holders_.push_back(0);
            held_.resize(held_.size() + servers_.size(), none);
        }
        return c;
    }

    // The update server s holds for client c (none: nothing, or a record of no update).
    std::uint32_t& held(std::uint32_t s, std::uint32_t c) { return held_[std::size_t{c} * servers_.size() + s]; }

    // The update whose record `p` server s just stored, by the record's content; none when it
    // is not one we saw issued.
    std::uint32_t update_of(std::uint32_t s, const core::record_ptr& p, bool from_client, bool& issued) {
        const std::uint32_t c = client_index(*p);
        // A record an IAMAT stored is newer than any the server stored before for the client, so
        // unless the server lost its store it is no update seen before: no search.
        if (!from_client || servers_[s].lost_state) {
            if (const std::uint32_t u = find_update(c, p->r); u != none) return u;
            // Only an IAMAT at its origin creates an update; anything else is a record we did not see issued.
            if (!from_client) return none;
        }
        const auto u = static_cast<std::uint32_t>(r_.updates.size());
        r_.updates.push_back({p->r.client, s, now_});
        if (u < holds_updates_max_) holds_bits_.resize((std::size_t{u} + 1) * holds_words_, 0);
        if (quiet_ && !timeline_messages_) arrivals_.add(u);
        records_.push_back(p);
        update_client_.push_back(c);
        if (updates_indexed_) updates_by_time_.emplace(update_key(c, p->r.time), u);
        issued = true;
        timeline(json_line(scratch_, now_, "issue").num("update", u).str("client", p->r.client).str("origin", servers_[s].name).done());
        return u;
    }

    // Whether server s holds (a record equal to) update u's, by the bits below.
    bool holds_update(std::uint32_t s, std::uint32_t u) const {
        const std::size_t w = std::size_t{u} * holds_words_ + s / 64;
        return w < holds_bits_.size() && (holds_bits_[w] >> (s % 64) & 1) != 0;
    }
    void set_holds(std::uint32_t s, std::uint32_t u, bool on) {
        if (u == none) return;
        const std::size_t w = std::size_t{u} * holds_words_ + s / 64;
        if (w >= holds_bits_.size()) return;
        if (on)
            holds_bits_[w] |= std::uint64_t{1} << (s % 64);
        else
            holds_bits_[w] &= ~(std::uint64_t{1} << (s % 64));
    }

    static std::uint64_t update_key(std::uint32_t c, nanos time) {
        return (std::uint64_t{c} << 32) ^ static_cast<std::uint64_t>(time);
    }

    // The update of client c whose record equals r, or none. The index is built on the first
    // search (a run without repair or lost stores never needs one).
    std::uint32_t find_update(std::uint32_t c, const core::record& r) {
        if (!updates_indexed_) {
            for (std::uint32_t u = 0; u < records_.size(); ++u)
                updates_by_time_.emplace(update_key(update_client_[u], records_[u]->r.time), u);
            updates_indexed_ = true;
        }
        for (auto [it, end] = updates_by_time_.equal_range(update_key(c, r.time)); it != end; ++it)
            if (records_[it->second]->r == r) return it->second;
        return none;
    }

    // The store of server s changed, by a client line (from_client), or by a record `carried`
    // whose update, when the sender knew it, is `update`.
    void on_applied(std::uint32_t s, std::uint32_t update, const core::record_ptr* carried, bool from_client) {
        // A FLOOD or REPAIR that changed the store stored the record it carried, and the update
        // of that record came with it when the sender knew it: no lookup for most applications.
        const core::record_ptr& p = servers_[s].node->records().last_changed_shared();
        bool issued = false;
        const std::uint32_t u = update != none && carried && p == *carried ? update : update_of(s, p, from_client, issued);
        if (u == none) {
            // A record of no update we saw issued: whatever the server held for the client, it
            // no longer does.
            const std::uint32_t c = client_index(*p);
            set_holds(s, held(s, c), false);
            return;
        }
        // The floods this change sends carry the record: their messages carry the update too.
        applied_record_ = p.get();
        applied_update_ = u;
        const std::uint32_t c = update_client_[u];
        std::uint32_t& h = held(s, c);
        const bool was_fresh = h != none && h == latest_[c];
        set_holds(s, h, false);
        set_holds(s, u, true);
        h = u;
        if (issued && (latest_[c] == none || core::compare(records_[u]->r, records_[latest_[c]]->r) > 0)) {
            total_holders_ -= holders_[c];
            if (latest_[c] == none) ++clients_with_updates_;
            latest_[c] = u;
            holders_[c] = 1;  // only the origin holds a new update
            ++total_holders_;
        } else if (!was_fresh && u == latest_[c]) {
            ++holders_[c];
            ++total_holders_;
        } else if (was_fresh && u != latest_[c]) {
            --holders_[c];
            --total_holders_;
        }
        r_.applied.push_back({u, s, now_});
        if (s_.timeline_messages)
            timeline(json_line(scratch_, now_, "apply").num("update", u).str("server", servers_[s].name).done());
        note_staleness();
    }

    // A crash that loses state may take with it the only copy of a client's newest update.
    // Staleness is measured against the newest record some server still holds (live, or down
    // with its store kept), so such a client falls back to the newest update that survived.
    void forget_lost_updates() {
        for (std::uint32_t c = 0; c < latest_.size(); ++c) {
            if (latest_[c] == none) continue;
            std::uint32_t best = none;
            bool latest_survives = false;
            for (std::uint32_t s = 0; s < servers_.size() && !latest_survives; ++s) {
                const std::uint32_t h = held(s, c);
                if (h == none) continue;
                latest_survives = h == latest_[c];
                if (best == none || core::compare(records_[h]->r, records_[best]->r) > 0) best = h;
            }
            if (latest_survives) continue;
            total_holders_ -= holders_[c];
            holders_[c] = 0;
            latest_[c] = best;
            if (best == none) {
                --clients_with_updates_;
                continue;
            }
            for (std::uint32_t s = 0; s < servers_.size(); ++s)
                if (servers_[s].up && held(s, c) == best) ++holders_[c];
            total_holders_ += holders_[c];
        }
        note_staleness();
    }

    void set_live(std::uint32_t s, bool live) {
        for (std::uint32_t c = 0; c < latest_.size(); ++c)
            if (held(s, c) != none && held(s, c) == latest_[c]) {
                holders_[c] += live ? 1 : -1;
                total_holders_ += live ? 1 : -1;
            }
        live_ += live ? 1 : -1;
        note_staleness();
    }

    std::uint64_t stale() const {
        return static_cast<std::uint64_t>(live_) * clients_with_updates_ - total_holders_;
    }

    void note_staleness() {
        if (stale() == 0) {
            if (!r_.converged_at) r_.converged_at = now_;
        } else {
            r_.converged_at.reset();
        }
    }

    void sample_until(nanos t) {
        if (t < next_sample_) return;
        const nanos period = ms_ns(s_.sample_ms);
        while (next_sample_ <= t && samples_ < samples_max) {
            emit_sample(next_sample_);
            next_sample_ += period;
        }
    }

    void emit_sample(nanos t) {
        ++samples_;
        timeline(json_line(scratch_, t, "stale").num("stale", stale()).num("live_servers", live_).done());
    }

    void timeline(std::string_view line) {
        if (r_.timeline.size() < timeline_max)
            r_.timeline.push_back(line);
        else
            ++timeline_dropped_;
    }

    // The rare events (faults, link changes) carry nested values: nlohmann writes those.
    void timeline_json(const ojson& j) {
        std::string line = j.dump(-1, ' ', false, ojson::error_handler_t::replace);
        // t_ms goes in as exact text; nlohmann would print a double.
        line.replace(line.find("\"t_ms\":0"), 8, "\"t_ms\":" + format_ms(now_));
        timeline(line);
    }

    void finish() {
        // Name the counters; a kind, link or reason that saw nothing is left out.
        for (std::uint32_t k = 0; k < kinds; ++k)
            if (by_kind_[k].sent) r_.messages_by_kind[kind_names[k]] = by_kind_[k];
        for (std::uint32_t d = 0; d < dirs_.size(); ++d)
            if (dirs_[d].counts.sent)
                r_.messages_by_link[servers_[dirs_[d].from].name + "->" + servers_[dirs_[d].to].name] = dirs_[d].counts;
        for (std::uint32_t x = 0; x < reasons; ++x)
            if (drops_[x]) r_.drops_by_reason[reason_names[x]] = drops_[x];
        const char* const request_names[] = {"IAMAT", "WHATSAT", "other"};
        for (std::uint32_t x = 0; x < 3; ++x)
            if (requests_[x]) r_.client_requests[request_names[x]] = requests_[x];
        // Converged: every live server holds the same store.
        const core::store* first = nullptr;
        r_.converged = true;
        for (const auto& st : servers_) {
            if (!st.up) continue;
            if (!first)
                first = &st.node->records();
            else if (!(*first == st.node->records()))
                r_.converged = false;
        }
        // The stores are done with: give their memory back before the rows are sorted (a big
        // run's peak would otherwise hold both).
        for (auto& st : servers_) st.node.reset();
        sort_applied();
        r_.stale_final = stale();
        if (!r_.converged) r_.converged_at.reset();
        evaluate();
    }

    // Sorts the rows by (update, applied, server). They were recorded in time order, so a stable
    // counting sort by update leaves only rows of one update at one time to order by server
    // (a big run has millions of rows; a comparison sort of them took a second).
    void sort_applied() {
        auto& rows = r_.applied;
        assert(std::is_sorted(rows.begin(), rows.end(), [](const update_row& a, const update_row& b) { return a.applied < b.applied; }));
        std::vector<std::size_t> start(r_.updates.size() + 1, 0);
        for (const auto& a : rows) ++start[a.update + 1];
        for (std::size_t u = 1; u < start.size(); ++u) start[u] += start[u - 1];
        std::vector<update_row> sorted(rows.size());
        for (const auto& a : rows) sorted[start[a.update]++] = a;
        for (std::size_t i = 0; i < sorted.size();) {
            std::size_t j = i + 1;
            while (j < sorted.size() && sorted[j].update == sorted[i].update && sorted[j].applied == sorted[i].applied) ++j;
            if (j - i > 1)
                std::sort(sorted.begin() + static_cast<std::ptrdiff_t>(i), sorted.begin() + static_cast<std::ptrdiff_t>(j),
                          [](const update_row& a, const update_row& b) { return a.server < b.server; });
            i = j;
        }
        rows = std::move(sorted);
    }

    void expect(std::string name, bool ok, std::string detail) {
        r_.ok = r_.ok && ok;
        r_.expectations.push_back({std::move(name), ok, std::move(detail)});
    }

    static std::string num(double v) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%.3f", v);
        return buf;
    }

    void evaluate() {
        const auto& x = s_.expect;
        const auto d = delays(r_);
        if (r_.events_limit_hit)
            expect("events_max", false, "stopped after " + std::to_string(s_.events_max) + " events");
        if (beyond_horizon_)
            expect("horizon", false, std::to_string(beyond_horizon_) + " events fell after the horizon of 10^18 ns and were not run");
        if (timeline_dropped_)
            expect("timeline_max", false,
                   std::to_string(timeline_dropped_) + " timeline lines past the first " + std::to_string(timeline_max) +
                       " were not written (\"timeline\": {\"messages\": false} writes far fewer)");
        if (x.converged)
            expect("converged", r_.converged == *x.converged,
                   std::string(r_.converged ? "converged" : "diverged") + ", " +
                       std::to_string(r_.stale_final) + " stale (server, client) records");
        if (x.converged_by_ms) {
            const bool ok = r_.converged && r_.converged_at && *r_.converged_at <= ms_ns(*x.converged_by_ms);
            expect("converged_by_ms", ok,
                   r_.converged_at ? "converged at " + format_ms(*r_.converged_at) + " ms"
                                   : std::string("never converged"));
        }
        auto bound = [&](const char* name, const std::optional<double>& limit, double actual) {
            if (limit) expect(name, actual <= *limit, num(actual) + " (limit " + num(*limit) + ")");
        };
        bound("delay_ms_p50_max", x.delay_ms_p50_max, d.p50);
        bound("delay_ms_p90_max", x.delay_ms_p90_max, d.p90);
        bound("delay_ms_p99_max", x.delay_ms_p99_max, d.p99);
        bound("delay_ms_max", x.delay_ms_max, d.max);
        bound("messages_per_update_max", x.messages_per_update_max, messages_per_update(r_));
        if (x.client_failures_max)
            expect("client_failures_max", r_.client_failures <= *x.client_failures_max,
                   std::to_string(r_.client_failures) + " (limit " + std::to_string(*x.client_failures_max) + ")");
        for (std::size_t i = 0; i < s_.lines.size(); ++i) {
            const auto& pattern = s_.lines[i].expect_reply;
            if (!pattern) continue;
            const std::string name = "workload[" + std::to_string(i) + "].expect_reply";
            const auto& got = line_replies_[i];
            if (!got) {
                expect(name, false, "no reply to: " + s_.lines[i].line);
                continue;
            }
            bool ok = false;
            std::string detail;
            try {
                ok = std::regex_search(*got, std::regex(*pattern));
                detail = "first line: " + got->substr(0, got->find('\n'));
            } catch (const std::regex_error&) {
                detail = "invalid regular expression " + *pattern;
            }
            expect(name, ok, detail);
        }
    }

public:
    static double messages_per_update(const run_result& r) {
        const auto it = r.messages_by_kind.find("FLOOD");
        if (r.updates.empty() || it == r.messages_by_kind.end()) return 0;
        return static_cast<double>(it->second.sent) / static_cast<double>(r.updates.size());
    }

private:
    static constexpr std::size_t timeline_max = 20'000'000;
    std::uint64_t timeline_dropped_ = 0;  // lines past timeline_max
    static constexpr std::uint64_t samples_max = 1'000'000;

    const scenario& s_;
    const bool timeline_messages_ = s_.timeline_messages;
    std::uint64_t seed_;
    const places_fn& places_;
    std::shared_ptr<const core::node::server_names> names_ = core::node::names_of(s_.herd);
    std::vector<server_state> servers_;
    std::vector<char> has_processing_;  // by server: st.processing, read by every delivery
    // By server: where its store's slots are, for prefetching (core::store::slots_for_prefetch),
    // as of its store's last change; empty while it has no store.
    std::vector<core::store::slot_span> slot_spans_ = std::vector<core::store::slot_span>(s_.servers.size());
    std::map<std::string, std::uint32_t, std::less<>> index_;
    std::vector<link_state> links_;
    std::vector<dir_state> dirs_;
    std::vector<generator_state> gens_;
    event_queue<event> queue_;
    std::uint64_t seq_ = 0;
    nanos now_ = 0;
    std::uint64_t current_seq_ = 0;  // the sequence number of the event being run
    // Repeats settled when sent whose fate is not yet known (settle), and the room the log
    // may take before it is read.
    std::vector<settled_repeat> settled_;
    std::size_t settled_kept_ = 4096;
    nanos settled_end_ = 0;  // the latest arrival of a settled repeat
    // By link: when each break happened, by the epoch it ended (the event's time and sequence number).
    std::vector<std::vector<event_order>> breaks_;
    message_counts by_kind_[kinds];
    std::uint64_t drops_[reasons] = {};
    std::uint64_t requests_[3] = {};  // IAMAT, WHATSAT, other
    std::uint64_t beyond_horizon_ = 0;
    std::vector<message> msgs_;  // in flight on a link that is not FIFO
    std::vector<std::uint32_t> free_msgs_;
    std::vector<fifo_queue> fifos_;
    std::vector<std::uint32_t> free_fifos_;
    std::vector<places_query> places_q_;
    std::vector<std::uint32_t> free_places_;
    std::vector<core::effect> effects_;
    core::conn_id next_conn_ = 1;
    std::unordered_map<core::conn_id, std::size_t> conn_line_;
    std::vector<std::optional<std::string>> line_replies_;
    // Recording. The hash tables are looked up, never iterated, so their order cannot reach output.
    // Updates by (client index, client time), to find an update by its record's content.
    std::unordered_multimap<std::uint64_t, std::uint32_t> updates_by_time_;
    bool updates_indexed_ = false;
    // By update (a deque: a reference to one stays valid while more are added).
    std::deque<core::record_ptr> records_;
    std::vector<std::uint32_t> update_client_;    // by update: the client index
    // The record the input being handled stored, and its update (on_applied sets them, perform
    // gives the update to the messages that carry that record, and clears them).
    const core::stored_record* applied_record_ = nullptr;
    std::uint32_t applied_update_ = none;
    client_table clients_;
    // By update, a bit for each server: the server holds that update's record (held[c] is the
    // update, and the store has not taken a record of no update since). Kept for the first
    // updates up to 256 MiB of bits; a later update is looked up in the store.
    std::size_t holds_words_ = std::max<std::size_t>(1, (s_.servers.size() + 63) / 64);
    std::size_t holds_updates_max_ = (std::size_t{256} << 20) / (8 * holds_words_);
    std::vector<std::uint64_t> holds_bits_;
    // Whether nothing in flight can be lost in this run: no fault breaks a link (link_down, a
    // partition, a crash). Then, unless messages are traced, by update and server, the earliest
    // arrival of a FLOOD of the update scheduled to that server (settles_when_sent).
    const bool quiet_ = std::none_of(s_.faults.begin(), s_.faults.end(), [](const fault& f) {
        return f.k == fault::kind::link_down || f.k == fault::kind::partition || f.k == fault::kind::crash;
    });
    arrival_table arrivals_{s_.servers.size()};
    std::vector<std::uint32_t> latest_, holders_;
    // By client, then server: the update the server holds (held()). A client's row is
    // together, as the servers store its update one after another.
    std::vector<std::uint32_t> held_;
    std::uint64_t total_holders_ = 0, clients_with_updates_ = 0;
    std::uint32_t live_ = static_cast<std::uint32_t>(s_.servers.size());
    nanos next_sample_ = 0;
    std::uint64_t samples_ = 0;
    std::vector<char> scratch_;  // json_line's buffer
    run_result r_;
};

}  // namespace

namespace {

char* write_ms(char* buf, core::nanos ns) {
    char* p = buf;
    const bool neg = ns < 0;
    const auto mag = neg ? 0 - static_cast<std::uint64_t>(ns) : static_cast<std::uint64_t>(ns);
    if (neg) *p++ = '-';
    p = std::to_chars(p, buf + 24, mag / 1'000'000).ptr;
    *p++ = '.';
    std::uint64_t frac = mag % 1'000'000;
    for (int i = 5; i >= 0; --i, frac /= 10) p[i] = static_cast<char>('0' + frac % 10);
    return p + 6;
}

}  // namespace

std::string format_ms(core::nanos ns) {
    char buf[32];
    return std::string(buf, write_ms(buf, ns));
}

run_result run(const scenario& s, std::optional<std::uint64_t> seed, const places_fn& places,
               const std::function<void(core::nanos)>& on_progress) {
    simulation sim(s, seed.value_or(s.seed), places);
    return sim.run(on_progress);
}

delay_summary delays(const run_result& r) {
    std::vector<core::nanos> d;
    d.reserve(r.applied.size());
    for (const auto& a : r.applied) d.push_back(a.applied - r.updates[a.update].issued);
    delay_summary out;
    out.pairs = d.size();
    if (d.empty()) return out;
    // Nearest rank: the k-th smallest, found by selection rather than by sorting them all (a big
    // run has millions of pairs). Each selection leaves the larger ones after it, so the next,
    // higher rank looks only there.
    auto begin = d.begin();
    auto rank = [&](double p) {
        const auto k = static_cast<std::size_t>(std::ceil(p * static_cast<double>(d.size())));
        const auto at = d.begin() + static_cast<std::ptrdiff_t>(std::clamp<std::size_t>(k, 1, d.size()) - 1);
        std::nth_element(begin, at, d.end());
        begin = at;
        return static_cast<double>(*at) / 1e6;
    };
    out.p50 = rank(0.50);
    out.p90 = rank(0.90);
    out.p99 = rank(0.99);
    out.max = static_cast<double>(*std::max_element(begin, d.end())) / 1e6;
    return out;
}

std::string summary_json(const scenario& s, const run_result& r) {
    ojson j;
    j["scenario"] = s.name;
    if (!s.about.empty()) j["about"] = s.about;
    j["seed"] = r.seed;
    j["servers"] = s.servers.size();
    j["links"] = s.links.size();
    ojson names = ojson::array(), pairs = ojson::array();
    for (const auto& srv : s.servers) names.push_back(srv.name);
    for (const auto& l : s.links) pairs.push_back({l.a, l.b});
    j["topology"] = {{"servers", std::move(names)}, {"links", std::move(pairs)}};
    j["repair"] = core::repair_mode_name(s.protocol.repair);
    if (s.protocol.repair == core::repair_mode::periodic) {
        j["repair_interval_ms"] = static_cast<double>(s.protocol.repair_interval) / 1e6;
        j["repair_until_ms"] = static_cast<double>(s.repair_until) / 1e6;
    }
    j["events"] = r.events;
    j["end_ms"] = static_cast<double>(r.end) / 1e6;
    j["updates"] = r.updates.size();
    ojson msgs = ojson::object();
    for (const auto& [kind, c] : r.messages_by_kind)
        msgs[kind] = {{"sent", c.sent}, {"delivered", c.delivered}, {"dropped", c.dropped}, {"duplicated", c.duplicated}, {"bytes", c.bytes}};
    j["messages"] = msgs;
    // Repair traffic apart from the floods (DESIGN §5).
    message_counts repair;
    for (const char* kind : {"DIGEST", "REPAIR"})
        if (const auto it = r.messages_by_kind.find(kind); it != r.messages_by_kind.end()) {
            repair.sent += it->second.sent;
            repair.bytes += it->second.bytes;
        }
    j["repair_traffic"] = {{"messages", repair.sent}, {"bytes", repair.bytes}};
    j["drops_by_reason"] = r.drops_by_reason;
    // An array, not an object: ordered_json finds keys by a linear scan, and a big herd has
    // thousands of links.
    ojson links = ojson::array();
    for (const auto& [name, c] : r.messages_by_link)
        links.push_back({{"link", name}, {"sent", c.sent}, {"delivered", c.delivered}, {"dropped", c.dropped}, {"duplicated", c.duplicated}, {"bytes", c.bytes}});
    j["messages_by_link"] = std::move(links);
    j["client_requests"] = r.client_requests;
    j["client_failures"] = r.client_failures;
    j["client_refusals"] = r.client_refusals;
    const auto d = delays(r);
    j["delay_ms"] = {{"pairs", d.pairs}, {"p50", d.p50}, {"p90", d.p90}, {"p99", d.p99}, {"max", d.max}};
    j["messages_per_update"] = simulation::messages_per_update(r);
    j["converged"] = r.converged;
    j["converged_at_ms"] = r.converged_at ? ojson(static_cast<double>(*r.converged_at) / 1e6) : ojson(nullptr);
    j["stale_final"] = r.stale_final;
    ojson ex = ojson::array();
    for (const auto& e : r.expectations) ex.push_back({{"name", e.name}, {"ok", e.ok}, {"detail", e.detail}});
    j["expectations"] = ex;
    j["ok"] = r.ok;
    return j.dump(2, ' ', false, ojson::error_handler_t::replace) + "\n";
}

// RFC 4180: a field with a comma or a quote goes in quotes, its quotes doubled.
std::string csv_field(const std::string& f) {
    if (f.find_first_of(",\"") == std::string::npos) return f;
    std::string out = "\"";
    for (char c : f) out += c == '"' ? std::string("\"\"") : std::string(1, c);
    return out + "\"";
}

std::string updates_csv(const scenario& s, const run_result& r) {
    std::string out = "update,client,origin,server,issued_ms,applied_ms\n";
    for (const auto& a : r.applied) {
        const auto& u = r.updates[a.update];
        out += std::to_string(a.update) + "," + csv_field(u.client) + "," + csv_field(s.servers[u.origin].name) + "," +
               csv_field(s.servers[a.server].name) + "," + format_ms(u.issued) + "," + format_ms(a.applied) + "\n";
    }
    return out;
}

std::string timeline_jsonl(const run_result& r) {
    std::string out;
    out.reserve(r.timeline.text_bytes() + r.timeline.size());
    for (const std::string_view l : r.timeline) {
        out += l;
        out += '\n';
    }
    return out;
}

}  // namespace herd::sim
