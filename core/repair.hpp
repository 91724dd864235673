#pragma once
// Anti-entropy repair (DESIGN §5): the digest two servers exchange to find the records they do
// not share, and its wire form.
//
// A store's clients fall into `fine_buckets` buckets by a hash of the client id. Each bucket's
// sum is the sum (mod 2^64) of a hash over every record in it, kept up to date by the store on
// each change, so a digest costs O(buckets), not O(records). A digest sent on the wire uses
// 2^k buckets for some k <= fine_bits, chosen by the sender from its store's size; the receiver
// folds its own fine sums to the same k (bucket j holds the fine buckets whose top k bits are j)
// and sends back the records of every bucket whose sums differ. Equal stores exchange only the
// digests.
//
// Wire form (one line each, between neighbours only):
//   DIGEST <k> <sum_0> ... <sum_{2^k-1}>          sums as 16 lowercase hex digits
//   REPAIR <origin> <diff> <client> <location> <client-time>     one record, fields as FLOOD's

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace herd::core {

struct record_view;

inline constexpr unsigned fine_bits = 10;
inline constexpr std::size_t fine_buckets = std::size_t{1} << fine_bits;
// A digest bucket holds about this many records before the sender doubles the buckets.
inline constexpr std::size_t records_per_bucket = 32;

// A 64-bit hash of a client id (or of any name), the same on every machine; the store's key
// hash, too.
std::uint64_t client_hash(std::string_view client);
// The fine bucket of a client id: the top fine_bits bits of client_hash.
inline std::uint32_t bucket_of_hash(std::uint64_t client_hash) {
    return static_cast<std::uint32_t>(client_hash >> (64 - fine_bits));
}
inline std::uint32_t bucket_of(std::string_view client) { return bucket_of_hash(client_hash(client)); }
// The hash of a record over every field (a record's contribution to its bucket's sum).
std::uint64_t record_hash(const record_view& r);

using fine_sums = std::array<std::uint64_t, fine_buckets>;

// The bits a store of `records` records uses for its digest: the smallest k with
// 2^k * records_per_bucket >= records, at most fine_bits.
unsigned digest_bits_for(std::size_t records);

// The sums at 2^k buckets folded from fine sums.
std::vector<std::uint64_t> fold(const fine_sums& fine, unsigned k);

struct digest {
    unsigned bits = 0;
    std::vector<std::uint64_t> sums;  // 2^bits of them
};

// `DIGEST <k> <sums...>` (no newline).
std::string format_digest(const digest& d);
// Parses a DIGEST line (without its newline); nothing when it is malformed: k above fine_bits,
// a count of sums other than 2^k, a sum that is not 16 lowercase hex digits.
std::optional<digest> parse_digest(std::string_view line);

}  // namespace herd::core
