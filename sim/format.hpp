#pragma once
// Number formatting on the simulator's hot paths, exact and without the C library.

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>

namespace herd::sim {

// printf's "%.6f" (the exact binary value rounded to 6 decimals, ties to even) into [p, end),
// which must have room for it; returns the end of what was written. Every generated IAMAT writes
// two coordinates, and std::to_chars with a precision (the same digits) costs far more than the
// rest of the line. A double is m * 2^e with a 53-bit integer m, so v * 10^6 is m * 10^6 (which
// fits in 73 bits) shifted right by -e: an integer division, rounded exactly. Values of 2^43 or
// more (whose 10^6 multiple would not fit in 64 bits), infinities and NaN go to std::to_chars.
inline char* write_fixed6(char* p, char* end, double v) {
    int exp = 0;
    const double mantissa = std::frexp(v, &exp);  // |mantissa| in [0.5, 1), v = mantissa * 2^exp
    if (!std::isfinite(v) || exp > 43) return std::to_chars(p, end, v, std::chars_format::fixed, 6).ptr;
    if (std::signbit(v)) *p++ = '-';
    std::uint64_t units = 0;  // round(|v| * 10^6)
    if (v != 0) {
        const auto m = static_cast<std::uint64_t>(std::ldexp(std::fabs(mantissa), 53));  // exact
        const int shift = 53 - exp;  // |v| = m / 2^shift, shift >= 10
        // m * 10^6 < 2^73: at a shift of 75 or more, |v| * 10^6 < 1/4 rounds to 0.
        if (shift < 75) {
            __extension__ typedef unsigned __int128 u128;
            const u128 scaled = static_cast<u128>(m) * 1'000'000;
            units = static_cast<std::uint64_t>(scaled >> shift);
            const u128 rest = scaled & ((static_cast<u128>(1) << shift) - 1);
            const u128 half = static_cast<u128>(1) << (shift - 1);
            if (rest > half || (rest == half && (units & 1) != 0)) ++units;
        }
    }
    p = std::to_chars(p, end, units / 1'000'000).ptr;
    *p++ = '.';
    std::uint64_t frac = units % 1'000'000;
    for (int i = 5; i >= 0; --i, frac /= 10) p[i] = static_cast<char>('0' + frac % 10);
    return p + 6;
}

}  // namespace herd::sim
