#include "sim/random.hpp"

namespace herd::sim {
namespace {

std::uint64_t splitmix64(std::uint64_t& x) {
    std::uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

__extension__ typedef unsigned __int128 u128;

}  // namespace

rng::rng(std::uint64_t seed) {
    for (auto& s : s_) s = splitmix64(seed);
}

std::uint64_t rng::below(std::uint64_t n) {
    // Multiply-shift on the high and low halves of a 128-bit product, with rejection.
    for (;;) {
        const std::uint64_t x = next();
        const std::uint64_t hi = static_cast<std::uint64_t>(
            (static_cast<u128>(x) * n) >> 64);
        const std::uint64_t lo = x * n;
        if (lo >= n || lo >= (0 - n) % n) return hi;
    }
}

rng rng::derive(std::uint64_t root_seed, std::string_view name) {
    // FNV-1a over the name, mixed with the root seed.
    std::uint64_t h = 0xcbf29ce484222325ULL;
    for (unsigned char c : name) h = (h ^ c) * 0x100000001b3ULL;
    std::uint64_t x = root_seed ^ rotl(h, 17);
    return rng(splitmix64(x) ^ h);
}

double standard_normal(rng& r) {
    const double u1 = 1.0 - r.uniform01();  // (0, 1]
    const double u2 = r.uniform01();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
}

double draw_any(const distribution& d, rng& r) {
    using k = distribution::kind;
    switch (d.k) {
        case k::constant: return d.a;
        case k::uniform: return d.a + (d.b - d.a) * r.uniform01();
        case k::normal:
            // Each try is kept with odds of at least one half: 64 tries all fail with odds under
            // 2^-64, and then the mean stands in.
            for (int i = 0; i < 64; ++i)
                if (const double x = d.a + d.b * standard_normal(r); x >= 0) return x;
            return d.a;
        case k::exponential: return -d.a * std::log(1.0 - r.uniform01());
        case k::lognormal: return d.a * std::exp(d.b * standard_normal(r));
        case k::pareto: return d.a / std::pow(1.0 - r.uniform01(), 1.0 / d.b);
    }
    return d.a;
}

}  // namespace herd::sim
