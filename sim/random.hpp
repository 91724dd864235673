#pragma once
// The simulator's own randomness: xoshiro256** seeded through splitmix64, and distributions
// written here, so that a scenario and a seed give the same draws with every compiler and
// standard library (std:: distributions differ between implementations).

#include <cmath>
#include <cstdint>
#include <string_view>

namespace herd::sim {

class rng {
public:
    explicit rng(std::uint64_t seed = 0);

    // Inline: every message draws from its link's stream (a latency, a loss, a duplicate).
    std::uint64_t next() {
        const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
        const std::uint64_t t = s_[1] << 17;
        s_[2] ^= s_[0];
        s_[3] ^= s_[1];
        s_[1] ^= s_[2];
        s_[0] ^= s_[3];
        s_[2] ^= t;
        s_[3] = rotl(s_[3], 45);
        return result;
    }
    // Uniform in [0, 1) with 53 bits.
    double uniform01() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
    // Uniform in [0, n) for n > 0, without modulo bias (Lemire's method with rejection).
    std::uint64_t below(std::uint64_t n);
    bool chance(double p) { return p > 0 && uniform01() < p; }

    // A stream for a named part of the run (a link, a node, a generator): the same root seed
    // and name always give the same stream, and adding a part does not shift any other.
    static rng derive(std::uint64_t root_seed, std::string_view name);

private:
    static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

    std::uint64_t s_[4];
};

// Standard normal deviate (Box–Muller; uses two uniforms, no cached spare, so a draw always
// consumes the same amount of the stream).
double standard_normal(rng& r);

// A distribution of durations or distances, in the unit of the key that holds it.
struct distribution {
    enum class kind { constant, uniform, normal, exponential, lognormal, pareto };
    kind k = kind::constant;
    double a = 0;  // value | min | mean | mean | median | min
    double b = 0;  //       | max | stddev |     | sigma  | shape
};

// One draw. `normal` is truncated at 0: a negative draw is drawn again (the loader keeps the
// mean at 0 or above, so at least half the draws are kept), so no mass piles up at 0.
// Inline for the kinds most links have (every message draws a latency); the rest out of line.
// Being in a header, its arithmetic is compiled where it is called: every such file must be
// built with the project's options (-ffp-contract=off), or draws could differ across machines.
double draw_any(const distribution& d, rng& r);
inline double draw(const distribution& d, rng& r) {
    if (d.k == distribution::kind::uniform) return d.a + (d.b - d.a) * r.uniform01();
    if (d.k == distribution::kind::constant) return d.a;
    return draw_any(d, r);
}

}  // namespace herd::sim
