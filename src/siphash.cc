#include "siphash.h"

namespace access_limiter {

namespace {

std::uint64_t rotateLeft(std::uint64_t x, int bits) { return (x << bits) | (x >> (64 - bits)); }

// The state of one hash; `wide` selects the 128-bit variant, which differs
// in its initial v1 and its finalisation constants.
class SipState {
 public:
  SipState(std::uint64_t k0, std::uint64_t k1, bool wide)
      : v0_(k0 ^ 0x736f6d6570736575ull),
        v1_(k1 ^ 0x646f72616e646f6dull ^ (wide ? 0xee : 0)),
        v2_(k0 ^ 0x6c7967656e657261ull),
        v3_(k1 ^ 0x7465646279746573ull),
        wide_(wide) {}

  void absorb(std::string_view message) {
    const std::size_t length = message.size();
    std::size_t at = 0;
    for (; at + 8 <= length; at += 8) {
      std::uint64_t m = 0;
      for (int i = 7; i >= 0; --i) m = (m << 8) | static_cast<unsigned char>(message[at + i]);
      compress(m);
    }
    std::uint64_t last = static_cast<std::uint64_t>(length) << 56;
    for (std::size_t i = 0; at + i < length; ++i)
      last |= static_cast<std::uint64_t>(static_cast<unsigned char>(message[at + i])) << (8 * i);
    compress(last);
  }

  std::uint64_t first() {
    v2_ ^= wide_ ? 0xee : 0xff;
    return finish();
  }

  // Only after first(), for the 128-bit variant.
  std::uint64_t second() {
    v1_ ^= 0xdd;
    return finish();
  }

 private:
  void round() {
    v0_ += v1_, v1_ = rotateLeft(v1_, 13), v1_ ^= v0_, v0_ = rotateLeft(v0_, 32);
    v2_ += v3_, v3_ = rotateLeft(v3_, 16), v3_ ^= v2_;
    v0_ += v3_, v3_ = rotateLeft(v3_, 21), v3_ ^= v0_;
    v2_ += v1_, v1_ = rotateLeft(v1_, 17), v1_ ^= v2_, v2_ = rotateLeft(v2_, 32);
  }

  void compress(std::uint64_t m) {  // 2 rounds per word: the "2" of 2-4
    v3_ ^= m;
    round();
    round();
    v0_ ^= m;
  }

  std::uint64_t finish() {  // 4 rounds: the "4" of 2-4
    for (int i = 0; i < 4; ++i) round();
    return v0_ ^ v1_ ^ v2_ ^ v3_;
  }

  std::uint64_t v0_, v1_, v2_, v3_;
  bool wide_;
};

}  // namespace

std::uint64_t sipHash64(std::uint64_t k0, std::uint64_t k1, std::string_view message) {
  SipState state(k0, k1, false);
  state.absorb(message);
  return state.first();
}

std::pair<std::uint64_t, std::uint64_t> sipHash128(std::uint64_t k0, std::uint64_t k1,
                                                   std::string_view message) {
  SipState state(k0, k1, true);
  state.absorb(message);
  const std::uint64_t first = state.first();
  return {first, state.second()};
}

}  // namespace access_limiter
