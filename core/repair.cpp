#include "core/repair.hpp"

#include <charconv>

#include "core/protocol.hpp"
#include "core/store.hpp"

namespace herd::core {
namespace {

// FNV-1a 64, then the splitmix64 finaliser so that every bit depends on every byte: the hash
// must be the same on every machine (both ends of a link compute it), so not std::hash.
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

bool lower_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

}  // namespace

std::uint64_t client_hash(std::string_view client) { return finish(fnv(fnv_offset, client)); }

std::uint64_t record_hash(const record_view& r) {
    std::uint64_t h = fnv_offset;
    // Fields never hold a space, so a space separates them unambiguously.
    for (std::string_view f : {r.origin, r.diff_text, r.client, r.location_text, r.time_text})
        h = fnv(fnv(h, f), " ");
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
