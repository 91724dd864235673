#include "core/repair.hpp"

#include <bit>
#include <charconv>
#include <cstring>

#include "core/protocol.hpp"
#include "core/store.hpp"

namespace herd::core {
namespace {

// Both hashes must be the same on every machine (both ends of a link compute them), so not
// std::hash. client_hash is FNV-1a 64 (client ids are short), record_hash a word at a time; each
// ends with the splitmix64 finaliser so that every bit depends on every byte.
constexpr std::uint64_t fnv_offset = 0xcbf29ce484222325ULL;
constexpr std::uint64_t fnv_prime = 0x100000001b3ULL;

std::uint64_t fnv(std::uint64_t h, std::string_view s) {
    for (unsigned char c : s) {
        h ^= c;
        h *= fnv_prime;
    }
    return h;
}

std::uint64_t finish(std::uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

// `p`'s `n` bytes (1 to 4, or 8) as a little-endian number, on any machine.
template <std::size_t n>
std::uint64_t le(const char* p) {
    std::uint64_t w = 0;
    if constexpr (std::endian::native == std::endian::little) {
        std::memcpy(&w, p, n);
    } else {
        for (std::size_t i = 0; i < n; ++i) w |= std::uint64_t{static_cast<unsigned char>(p[i])} << (8 * i);
    }
    return w;
}

// The last `n` (1 to 7) bytes of a field as one number, in at most two loads, as wyhash reads
// its tail: bytes 4 to 7 as its first four and its last four (which may overlap), 1 to 3 as
// its first, middle and last byte. The field's length is hashed too, so nothing is ambiguous.
std::uint64_t tail_word(const char* p, std::size_t n) {
    if (n >= 4) return le<4>(p) | le<4>(p + n - 4) << 32;
    return le<1>(p) | le<1>(p + n / 2) << 8 | le<1>(p + n - 1) << 16;
}

// One step of record_hash: a multiply spreads each word's bits upwards, the shift brings the
// high half back down.
std::uint64_t word_step(std::uint64_t h, std::uint64_t w) {
    h = (h ^ w) * 0x9e3779b97f4a7c15ULL;
    return h ^ (h >> 32);
}

bool lower_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

}  // namespace

std::uint64_t client_hash(std::string_view client) { return finish(fnv(fnv_offset, client)); }

std::uint64_t record_hash(const record_view& r) {
    // Eight bytes a step, not one: every store change hashes a whole record (some 70 bytes), and
    // FNV's chain of a multiply a byte made this a tenth of a FLOOD's cost. Each field is taken
    // as its length, then its bytes as little-endian words (the last few as tail_word reads
    // them), so that the fields' bounds are part of what is hashed and every machine gets the
    // same value.
    std::uint64_t h = fnv_offset;
    for (std::string_view f : {r.origin, r.diff_text, r.client, r.location_text, r.time_text}) {
        h = word_step(h, f.size());
        const char* p = f.data();
        std::size_t n = f.size();
        for (; n >= 8; p += 8, n -= 8) h = word_step(h, le<8>(p));
        if (n > 0) h = word_step(h, tail_word(p, n));
    }
    return finish(h);
}

unsigned digest_bits_for(std::size_t records) {
    unsigned k = 0;
    while (k < fine_bits && (std::size_t{1} << k) * records_per_bucket < records) ++k;
    return k;
}

std::vector<std::uint64_t> fold(const fine_sums& fine, unsigned k) {
    std::vector<std::uint64_t> out(std::size_t{1} << k, 0);
    for (std::size_t i = 0; i < fine_buckets; ++i) out[i >> (fine_bits - k)] += fine[i];
    return out;
}

std::string format_digest(const digest& d) {
    static constexpr char hex[] = "0123456789abcdef";
    std::string out = "DIGEST " + std::to_string(d.bits);
    out.reserve(out.size() + d.sums.size() * 17);
    for (std::uint64_t s : d.sums) {
        out += ' ';
        for (int shift = 60; shift >= 0; shift -= 4) out += hex[(s >> shift) & 15];
    }
    return out;
}

std::optional<digest> parse_digest(std::string_view line) {
    const auto f = split_fields(line);
    if (f.size() < 3 || f[0] != "DIGEST" || f[1].size() > 2) return std::nullopt;
    unsigned bits = 0;
    const auto [end, ec] = std::from_chars(f[1].data(), f[1].data() + f[1].size(), bits);
    if (ec != std::errc{} || end != f[1].data() + f[1].size() || bits > fine_bits) return std::nullopt;
    if (f.size() != 2 + (std::size_t{1} << bits)) return std::nullopt;
    digest d{bits, {}};
    d.sums.reserve(f.size() - 2);
    for (std::size_t i = 2; i < f.size(); ++i) {
        if (f[i].size() != 16) return std::nullopt;
        std::uint64_t v = 0;
        for (char c : f[i]) {
            if (!lower_hex(c)) return std::nullopt;
            v = v << 4 | static_cast<std::uint64_t>(c <= '9' ? c - '0' : c - 'a' + 10);
        }
        d.sums.push_back(v);
    }
    return d;
}

}  // namespace herd::core
