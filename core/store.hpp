#pragma once
// The store of DESIGN §4: one record per client, last writer wins by a total order.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>
#include <string>
#include <string_view>

#include "core/protocol.hpp"
#include "core/repair.hpp"

namespace herd::core {

// A hash for std::string keys that also takes string_view (lookups without a copy).
struct string_hash {
    using is_transparent = void;
    // client_hash, not std::hash: a FLOOD's origin is looked up on every delivery, and the
    // origin names are short.
    std::size_t operator()(std::string_view s) const { return client_hash(s); }
};

// A record whose text lives elsewhere (in a parsed line): merge compares it without copying,
// and builds a record only when it is newer than the stored one.
struct record_view {
    std::string_view client;
    std::string_view location_text;
    std::string_view time_text;
    nanos time = 0;
    std::string_view origin;
    std::string_view diff_text;
};

// One client's last known position, as the server that took the IAMAT (its origin) formed it.
// The text fields are kept byte for byte so that the AT line can be re-formed exactly.
struct record {
    std::string client;
    std::string location_text;  // valid ISO 6709: parse_location gives its degrees
    std::string time_text;
    nanos time = 0;
    std::string origin;
    std::string diff_text;

    // `AT <origin> <diff> <client> <location> <client-time>` (no newline).
    std::string at_line() const;
    // `FLOOD <origin> <diff> <client> <location> <client-time>` (no newline).
    std::string flood_line() const;
    // `REPAIR <origin> <diff> <client> <location> <client-time>` (no newline).
    std::string repair_line() const;
    // The bytes a host sends for one of these lines headed `head` ("FLOOD", "REPAIR"), with its
    // newline, counted without making it.
    std::size_t sent_bytes(std::string_view head) const {
        return head.size() + origin.size() + diff_text.size() + client.size() + location_text.size() +
               time_text.size() + 6;
    }

    record_view view() const {
        return {client, location_text, time_text, time, origin, diff_text};
    }
};

// The store order: client time, then origin server name, then location text; then, so that the
// order is total over everything a record carries, the time text and the diff text (two records
// equal in all five are the same record). Negative, zero or positive like std::string::compare.
int compare(const record_view& a, const record_view& b);
inline int compare(const record& a, const record& b) { return compare(a.view(), b.view()); }

// A record as a store keeps it: immutable, with the hashes the store needs computed once.
// Shared: the record a FLOOD carries is the same at every server, so a host that hands records
// along (send_effect::carried, node::peer_record) lets every store hold the one copy, and a
// store keeps the same record through a copy.
struct stored_record {
    record r;
    std::uint64_t key = 0;   // client_hash(r.client)
    std::uint64_t hash = 0;  // record_hash(r.view())

    explicit stored_record(record rec);
    explicit stored_record(const record_view& v);
    // The same, with key = client_hash(v.client) given.
    stored_record(const record_view& v, std::uint64_t key);
};
using record_ptr = std::shared_ptr<const stored_record>;

// The records of one server, keyed by client id. A hash table: a server looks a client up for
// every message it receives. Its order is the hash's, so nothing may iterate it into output:
// sorted() gives the records in client order.
class store {
public:
    // Keeps the newer of `r` and the stored record for its client. Returns the stored record
    // when the store changed (a first record for the client, or one newer than the stored one),
    // nullptr when it did not.
    const record* merge(record r);
    const record* merge(const record_view& r);
    // The same, for a caller that has the client's hash (`key`, client_hash(r.client)) already.
    const record* merge(const record_view& r, std::uint64_t key);
    // The same for a shared record, which is kept as it is (not copied).
    const record* merge(const record_ptr& r);

    // The record of `client`, or nullptr.
    const record* find(std::string_view client) const;
    // The same, with the client's hash (client_hash(client)) given.
    const record* find(std::string_view client, std::uint64_t key) const;
    // The same, shared; empty when there is none.
    record_ptr shared(std::string_view client) const;
    // Whether the store holds `r` itself (the same shared record, not an equal copy).
    bool holds(const record_ptr& r) const;
    // Asks the processor to fetch the slot where client key `key` (stored_record::key) starts
    // its probe: a host that knows which record a store is about to see can have it in cache.
    // Changes nothing.
    void prefetch(std::uint64_t key) const {
        if (slots_.empty()) return;
        prefetch_line(&slots_[key & (slots_.size() - 1)]);
        prefetch_line(&sums_[bucket_of_hash(key)]);
    }
    // Where prefetch() looks, for a host that keeps it to prefetch without reading the store
    // (valid until the store next changes): the slot where key k's probe starts is at
    // first + (k & mask) * size, and the bucket sum a change for k updates is
    // sums[bucket_of_hash(k)]; `self` is the store itself (what every lookup reads first).
    struct slot_span {
        const char* first = nullptr;
        std::size_t mask = 0;
        std::size_t size = 0;
        const std::uint64_t* sums = nullptr;
        const store* self = nullptr;
    };
    slot_span slots_for_prefetch() const {
        if (slots_.empty()) return {};
        return {reinterpret_cast<const char*>(slots_.data()), slots_.size() - 1, sizeof(slot), sums_.data(), this};
    }
    // Asks for the cache line at `p` (GCC drops a __builtin_prefetch it finds nothing depends
    // on, so on x86 this is the instruction itself).
    static void prefetch_line(const void* p) {
#if defined(__x86_64__) || defined(__i386__)
        asm volatile("prefetcht0 %0" : : "m"(*static_cast<const char*>(p)));
#else
        __builtin_prefetch(p);
#endif
    }

    std::size_t size() const { return size_; }
    bool empty() const { return size_ == 0; }

    // Counts the changes merge() made; a host compares it before and after an input to learn
    // whether the input changed the store, and last_changed() tells which record it stored
    // (nullptr before the first change).
    std::uint64_t version() const { return version_; }
    const record* last_changed() const;
    // The same, shared (empty before the first change).
    const record_ptr& last_changed_shared() const;

    // Every record, in client id order.
    std::vector<const record*> sorted() const;

    // Repair (core/repair.hpp): the sum of record_hash over the records of each fine bucket,
    // kept up to date by merge().
    const fine_sums& sums() const { return sums_; }
    // The digest of this store at 2^bits buckets.
    digest digest_at(unsigned bits) const { return {bits, fold(sums_, bits)}; }
    // The records whose bucket in a 2^bits-bucket digest is flagged in `buckets` (2^bits
    // flags), in client id order.
    std::vector<const record*> in_buckets(unsigned bits, const std::vector<bool>& buckets) const;
    // The same, shared.
    std::vector<record_ptr> shared_in_buckets(unsigned bits, const std::vector<bool>& buckets) const;

    friend bool operator==(const store& a, const store& b);

private:
    // Open addressing with linear probing over a power-of-two table, at most 3/4 full. A slot
    // keeps the client's key hash beside the record, so a probe reads the record (another cache
    // line, shared with other stores) only when the hashes agree. An empty slot has no record.
    struct slot {
        std::uint64_t key = 0;
        record_ptr rec;
    };
    static constexpr std::size_t npos = SIZE_MAX;

    // The slot holding `client` (key hash `key`), or the empty slot where it would go.
    std::size_t probe(std::string_view client, std::uint64_t key) const;
    // Stores `r` in slot i (empty, or holding an older record of the same client).
    const record* put(std::size_t i, record_ptr r);
    // The slots holding a record whose bucket is flagged, sorted by client.
    std::vector<std::size_t> slots_in_buckets(unsigned bits, const std::vector<bool>& buckets) const;

    std::vector<slot> slots_;
    std::size_t size_ = 0;
    std::uint64_t version_ = 0;
    std::size_t last_changed_ = npos;  // the slot merge() last stored into
    fine_sums sums_{};                 // last: 8 KiB that a lookup does not read
};

bool operator==(const record& a, const record& b);

}  // namespace herd::core
