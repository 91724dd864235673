#pragma once
// The store of DESIGN §4: one record per client, last writer wins by a total order.

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "core/protocol.hpp"

namespace herd::core {

// One client's last known position, as the server that took the IAMAT (its origin) formed it.
// The text fields are kept byte for byte so that the AT line can be re-formed exactly.
struct record {
    std::string client;
    std::string location_text;
    location where;
    std::string time_text;
    nanos time = 0;
    std::string origin;
    std::string diff_text;

    // `AT <origin> <diff> <client> <location> <client-time>` (no newline).
    std::string at_line() const;
    // `FLOOD <origin> <diff> <client> <location> <client-time>` (no newline).
    std::string flood_line() const;
};

// The store order: client time, then origin server name, then location text; then, so that the
// order is total over everything a record carries, the time text and the diff text (two records
// equal in all five are the same record). Negative, zero or positive like std::string::compare.
int compare(const record& a, const record& b);

// The records of one server, keyed by client id and iterated in client id order.
class store {
public:
    // Keeps the newer of `r` and the stored record for its client. Returns the stored record
    // when the store changed (a first record for the client, or one newer than the stored one),
    // nullptr when it did not.
    const record* merge(record r);

    // The record of `client`, or nullptr.
    const record* find(std::string_view client) const;

    std::size_t size() const { return records_.size(); }
    bool empty() const { return records_.empty(); }

    // Counts the changes merge() made; a host compares it before and after an input to learn
    // whether the input changed the store, and last_changed() tells which record it stored.
    std::uint64_t version() const { return version_; }
    const record* last_changed() const { return find(last_changed_); }

    using map_type = std::map<std::string, record, std::less<>>;
    map_type::const_iterator begin() const { return records_.begin(); }
    map_type::const_iterator end() const { return records_.end(); }

    friend bool operator==(const store& a, const store& b);

private:
    map_type records_;
    std::uint64_t version_ = 0;
    std::string last_changed_;  // the client whose record merge() last stored
};

bool operator==(const record& a, const record& b);

}  // namespace herd::core
