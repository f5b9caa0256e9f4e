#pragma once

#include <cstdint>
#include <string_view>
#include <utility>

namespace access_limiter {

// SipHash-2-4 (Aumasson and Bernstein): a keyed pseudo-random function. Its
// 128-bit key (k0, k1: the key's bytes 0-7 and 8-15, little-endian) is the
// secret; without it no one can compute, choose or invert a hash.

// The 64-bit output.
std::uint64_t sipHash64(std::uint64_t k0, std::uint64_t k1, std::string_view message);

// The 128-bit output (SipHash-2-4-128), as its first and second 64-bit words.
std::pair<std::uint64_t, std::uint64_t> sipHash128(std::uint64_t k0, std::uint64_t k1,
                                                   std::string_view message);

}  // namespace access_limiter
