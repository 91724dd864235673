#include "core/protocol.hpp"

#include <bit>
#include <cassert>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <limits>

namespace herd::core {
namespace {

constexpr nanos ns_per_s = 1'000'000'000;

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// ' ', or one of '\t' '\n' '\v' '\f' '\r' (9 to 13): two compares a byte on the hot path.
bool is_space(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

bool all_digits(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s)
        if (!is_digit(c)) return false;
    return true;
}

bool all_zeros(std::string_view s) {
    for (char c : s)
        if (c != '0') return false;
    return true;
}

// The value of a run of at most 19 digits (every caller bounds its field so), or nothing when
// it exceeds `max`. Below 10^19, under 2^64, no step overflows: one compare at the end will do.
std::optional<std::uint64_t> digits_value(std::string_view s, std::uint64_t max) {
    assert(s.size() <= 19);
    if (s.size() > 19) return std::nullopt;
    std::uint64_t v = 0;
    for (char c : s) v = v * 10 + static_cast<std::uint64_t>(c - '0');
    if (v > max) return std::nullopt;
    return v;
}

// A decimal "digits[.digits]" split into its two parts; nothing if it has another shape.
struct decimal {
    std::string_view whole;
    std::string_view fraction;  // empty when there is no '.'
};

// One pass: at least one digit, then either the end, or '.' and at least one digit to the end.
std::optional<decimal> split_decimal(std::string_view s) {
    std::size_t i = 0;
    while (i < s.size() && is_digit(s[i])) ++i;
    if (i == 0) return std::nullopt;
    if (i == s.size()) return decimal{s, {}};
    if (s[i] != '.') return std::nullopt;
    const std::size_t dot = i++;
    while (i < s.size() && is_digit(s[i])) ++i;
    if (i != s.size() || i == dot + 1) return std::nullopt;
    return decimal{s.substr(0, dot), s.substr(dot + 1)};
}

double to_double(std::string_view s) {
    double v = 0;
    std::from_chars(s.data(), s.data() + s.size(), v);
    return v;
}

// Whether `s` is one signed ISO 6709 coordinate, `[+-]D{1,3}[.D+]`, with |value| <= max_degrees
// (checked on the digits).
bool valid_coordinate(std::string_view s, unsigned max_degrees) {
    if (s.size() < 2 || (s[0] != '+' && s[0] != '-')) return false;
    const auto d = split_decimal(s.substr(1));
    if (!d || d->whole.size() > 3) return false;
    const auto whole = digits_value(d->whole, 999);
    return *whole < max_degrees || (*whole == max_degrees && all_zeros(d->fraction));
}

double coordinate_value(std::string_view s) {
    const double v = to_double(s.substr(1));
    return s[0] == '-' ? -v : v;
}

// The latitude and longitude parts of a location, split at the longitude's sign.
std::optional<std::pair<std::string_view, std::string_view>> split_location(std::string_view text) {
    if (text.size() > location_bytes_max || text.empty()) return std::nullopt;
    std::size_t split = 1;  // the longitude's sign: the first '+' or '-' after the first byte
    while (split < text.size() && text[split] != '+' && text[split] != '-') ++split;
    if (split == text.size()) return std::nullopt;
    const auto lat = text.substr(0, split), lon = text.substr(split);
    if (!valid_coordinate(lat, 90) || !valid_coordinate(lon, 180)) return std::nullopt;
    return std::pair{lat, lon};
}

}  // namespace

namespace {

// The nanoseconds of a split decimal number of seconds (at most 9 fraction digits), or nothing
// past the largest nanos.
std::optional<nanos> nanos_of(const std::optional<decimal>& d) {
    if (!d || d->fraction.size() > 9 || d->whole.size() > 19) return std::nullopt;
    constexpr auto max = static_cast<std::uint64_t>(std::numeric_limits<nanos>::max());
    const auto seconds = digits_value(d->whole, max / ns_per_s);
    if (!seconds) return std::nullopt;
    std::uint64_t fraction_ns = 0;
    for (std::size_t i = 0; i < 9; ++i)
        fraction_ns = fraction_ns * 10 + (i < d->fraction.size() ? d->fraction[i] - '0' : 0);
    const std::uint64_t whole_ns = *seconds * ns_per_s;
    if (whole_ns > max - fraction_ns) return std::nullopt;
    return static_cast<nanos>(whole_ns + fraction_ns);
}

}  // namespace

std::optional<nanos> parse_time(std::string_view text) { return nanos_of(split_decimal(text)); }

std::string format_diff(nanos diff) {
    // Work on the magnitude as unsigned so that the most negative value has one too.
    const bool negative = diff < 0;
    const std::uint64_t mag = negative ? 0 - static_cast<std::uint64_t>(diff)
                                       : static_cast<std::uint64_t>(diff);
    char buf[32];
    char* p = buf;
    *p++ = negative ? '-' : '+';
    p = std::to_chars(p, buf + sizeof buf, mag / ns_per_s).ptr;
    *p++ = '.';
    std::uint64_t frac = mag % ns_per_s;
    for (int i = 8; i >= 0; --i) {
        p[i] = static_cast<char>('0' + frac % 10);
        frac /= 10;
    }
    return std::string(buf, p + 9);
}

std::optional<nanos> parse_diff(std::string_view text) {
    if (text.size() < 2 || (text[0] != '+' && text[0] != '-')) return std::nullopt;
    const auto d = split_decimal(text.substr(1));
    if (!d || d->fraction.size() != 9) return std::nullopt;
    const auto mag = nanos_of(d);
    if (!mag) return std::nullopt;
    return text[0] == '-' ? -*mag : *mag;
}

nanos diff_saturated(nanos now, nanos then) {
    nanos out = 0;
    if (__builtin_sub_overflow(now, then, &out))
        return then < 0 ? std::numeric_limits<nanos>::max() : std::numeric_limits<nanos>::min();
    return out;
}

std::optional<location> parse_location(std::string_view text) {
    const auto parts = split_location(text);
    if (!parts) return std::nullopt;
    return location{coordinate_value(parts->first), coordinate_value(parts->second)};
}

bool valid_location(std::string_view text) { return split_location(text).has_value(); }

namespace {

// The fields of a line, without allocating: every command has at most 6, so a line with more
// is invalid whatever they are and only the count matters past that.
struct field_list {
    static constexpr std::size_t capacity = 7;
    std::string_view f[capacity];
    std::size_t n = 0;  // capped at capacity
    std::size_t size() const { return n; }
    std::string_view operator[](std::size_t i) const { return f[i]; }
};

// The first byte at or below ' ' in [p, end), or end: eight bytes at a time. In a word, the
// lowest byte b with b < 0x21 is the lowest one whose bit 7 is set in (x - 0x21…) & ~x & 0x80…
// (a byte at or above 0x80 is never flagged, and no borrow reaches the lowest flagged byte from
// below); bytes above it may be flagged wrongly, and are not looked at.
const char* next_at_or_below_space(const char* p, const char* end) {
    constexpr std::uint64_t ones = 0x0101010101010101ULL;
    // (The lowest byte of the word is the first in memory on a little-endian machine only.)
    while (std::endian::native == std::endian::little && end - p >= 8) {
        std::uint64_t x;
        std::memcpy(&x, p, 8);
        const std::uint64_t low = (x - ones * 0x21) & ~x & (ones * 0x80);
        if (low != 0) return p + (__builtin_ctzll(low) >> 3);
        p += 8;
    }
    while (p != end && static_cast<unsigned char>(*p) > ' ') ++p;
    return p;
}

// Hands each field of `line` to `sink` until it returns false. Every host line goes through
// here (a FLOOD at each server it reaches), so the scan is lean: a byte above ' ' is never white
// space, and the bytes up to the next one at or below it are skipped a word at a time; only that
// byte is looked at again (a control character is part of a field).
template <class Sink>
void for_each_field(std::string_view line, Sink&& sink) {
    const char* p = line.data();
    const char* const end = p + line.size();
    for (;;) {
        while (p != end && is_space(*p)) ++p;
        if (p == end) return;
        const char* const start = p;
        do p = next_at_or_below_space(p + 1, end);
        while (p != end && !is_space(*p));
        if (!sink(std::string_view(start, static_cast<std::size_t>(p - start)))) return;
    }
}

field_list fields_of(std::string_view line) {
    field_list out;
    for_each_field(line, [&](std::string_view f) {
        out.f[out.n++] = f;
        return out.n < field_list::capacity;
    });
    return out;
}

}  // namespace

bool flood_fields(std::string_view line, std::string_view (&out)[6]) {
    const auto f = fields_of(line);
    if (f.size() != 6 || f[0] != "FLOOD") return false;
    for (std::size_t i = 0; i < 6; ++i) out[i] = f[i];
    return true;
}

std::vector<std::string_view> split_fields(std::string_view line) {
    std::vector<std::string_view> fields;
    for_each_field(line, [&](std::string_view f) {
        fields.push_back(f);
        return true;
    });
    return fields;
}

std::string_view strip_cr(std::string_view line) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    return line;
}

namespace {

bool valid_client(std::string_view client) {
    return !client.empty() && client.size() <= client_id_bytes_max;
}

message parse_iamat(const field_list& f) {
    if (f.size() != 4 || !valid_client(f[1])) return invalid{};
    const auto time = parse_time(f[3]);
    if (!valid_location(f[2]) || !time) return invalid{};
    return iamat{f[1], f[2], f[3], *time};
}

message parse_whatsat(const field_list& f) {
    if (f.size() != 4 || !valid_client(f[1])) return invalid{};
    // Radius: a decimal km in (0, 50], checked on the digits.
    const auto r = split_decimal(f[2]);
    if (!r || r->whole.size() > 9) return invalid{};
    const auto whole = digits_value(r->whole, 999'999'999);
    const auto max = static_cast<std::uint64_t>(whatsat_radius_km_max);
    if (*whole > max || (*whole == max && !all_zeros(r->fraction))) return invalid{};
    if (*whole == 0 && all_zeros(r->fraction)) return invalid{};
    // Limit: an integer in [1, 20].
    if (!all_digits(f[3]) || f[3].size() > 9) return invalid{};
    const auto limit = digits_value(f[3], 999'999'999);
    if (*limit < 1 || *limit > static_cast<std::uint64_t>(whatsat_limit_max)) return invalid{};
    return whatsat{f[1], to_double(f[2]) * 1000.0, static_cast<int>(*limit)};
}

message parse_flood(const field_list& f, bool repair) {
    if (f.size() != 6 || !valid_client(f[3]) || f[1].empty()) return invalid{};
    const auto diff = parse_diff(f[2]);
    const auto time = parse_time(f[5]);
    if (!diff || !valid_location(f[4]) || !time) return invalid{};
    return flood{repair, f[1], f[2], f[3], f[4], f[5], *time};
}

}  // namespace

message parse_flood_fields(const std::string_view (&fields)[6]) {
    field_list f;
    for (const std::string_view x : fields) f.f[f.n++] = x;
    return parse_flood(f, false);
}

message parse_message(std::string_view line) {
    const auto f = fields_of(line);
    if (f.size() == 0) return invalid{};
    if (f[0] == "IAMAT") return parse_iamat(f);
    if (f[0] == "WHATSAT") return parse_whatsat(f);
    if (f[0] == "FLOOD") return parse_flood(f, false);
    if (f[0] == "REPAIR") return parse_flood(f, true);
    return invalid{};
}

std::string format_refusal(std::string_view line) {
    std::string out;
    out.reserve(line.size() + 3);
    out += "? ";
    out += line;
    out += '\n';
    return out;
}

}  // namespace herd::core
