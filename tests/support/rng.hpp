#pragma once
// A small seeded generator for tests (splitmix64): the same seed gives the same draws on every
// machine, unlike the standard library's distributions and std::shuffle.

#include <cstdint>
#include <utility>
#include <vector>

namespace herd::testing {

class rng {
public:
    explicit rng(std::uint64_t seed) : state_(seed) {}

    std::uint64_t next() {
        std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    }

    // In [0, n), n > 0 (modulo bias is below 2^-50 for the small n of tests).
    std::uint64_t below(std::uint64_t n) { return next() % n; }

    template <class T>
    void shuffle(std::vector<T>& v) {
        for (std::size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[below(i)]);
    }

private:
    std::uint64_t state_;
};

}  // namespace herd::testing
