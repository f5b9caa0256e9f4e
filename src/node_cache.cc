#include "node_cache.h"

#include <sys/mman.h>
#include <sys/random.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>

#include "shared_file.h"
#include "siphash.h"

namespace access_limiter {

namespace {

// The file, in 64-bit words: a header, the window facts (one word an entry),
// then the policies (two words an entry).
constexpr std::size_t kHeaderWords = 8;
enum HeaderWord : std::size_t { kMagicWord, kEntryBitsWord, kSecretWord0, kSecretWord1 };
constexpr std::uint64_t kMagic = 0x4143434553533031;  // "ACCESS01"

std::size_t entriesOf(unsigned entry_bits) { return std::size_t{1} << entry_bits; }
std::size_t tableWords(unsigned entry_bits) { return kHeaderWords + 3 * entriesOf(entry_bits); }
std::size_t fileBytes(unsigned entry_bits) {
  return (tableWords(entry_bits) + kSharedCounterWords) * sizeof(std::uint64_t);
}

// Window entry layout, low bits first: taken (17), window modulo 2^27 (27),
// fingerprint (20, never 0, so an all-zero entry is empty).
constexpr unsigned kTakenBits = 17;
constexpr unsigned kWindowBits = 27;
constexpr std::uint64_t kTakenMask = (std::uint64_t{1} << kTakenBits) - 1;
constexpr std::uint64_t kWindowMask = (std::uint64_t{1} << kWindowBits) - 1;
constexpr unsigned kFingerprintShift = kTakenBits + kWindowBits;

// Policy entries are two words: the key's whole hash (never 0), then its
// value: limit (17), kind (2: 0 = no policy, 1 = limit, 2 = unlimited,
// 3 = blocked), second modulo 2^27 (27), and the hash's top 18 bits again,
// so that a value written for another key is never taken for this one's.
constexpr unsigned kKindShift = kTakenBits;
constexpr unsigned kPolicySecondShift = kKindShift + 2;
constexpr unsigned kPolicyCheckShift = kPolicySecondShift + kWindowBits;

std::uint64_t fingerprintOf(std::uint64_t entry) {
  return entry & ~(kTakenMask | (kWindowMask << kTakenBits));
}

std::uint64_t randomWord() {
  std::uint64_t word = 0;
  if (getrandom(&word, sizeof word, 0) != static_cast<ssize_t>(sizeof word)) {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    word = sipHash64(static_cast<std::uint64_t>(ts.tv_nsec), static_cast<std::uint64_t>(getpid()),
                   std::to_string(ts.tv_sec));
  }
  return word == 0 ? 1 : word;
}

}  // namespace

struct SharedNodeCache::Slot {
  std::uint64_t* entry;         // the window fact
  std::uint64_t* policy;        // the policy's two words
  std::uint64_t fingerprint;    // already shifted into place
  std::uint64_t hash;           // the key's whole hash, never 0
};

SharedNodeCache::SharedNodeCache(const std::string& path, const std::string& scope,
                                 unsigned entry_bits)
    : scope_(scope), entry_bits_(entry_bits), bytes_(fileBytes(entry_bits)) {
  std::string problem;
  table_ = mapSharedFile(path, bytes_, problem);
  if (problem.empty()) {
    std::uint64_t* header = table_;
    if (__atomic_load_n(&header[kMagicWord], __ATOMIC_ACQUIRE) == 0) {
      settleSharedWord(&header[kSecretWord0], randomWord());
      settleSharedWord(&header[kSecretWord1], randomWord());
      settleSharedWord(&header[kEntryBitsWord], entry_bits_);
      settleSharedWord(&header[kMagicWord], kMagic);
    }
    if (__atomic_load_n(&header[kMagicWord], __ATOMIC_ACQUIRE) != kMagic ||
        __atomic_load_n(&header[kEntryBitsWord], __ATOMIC_ACQUIRE) != entry_bits_)
      problem = path + " is not a node cache of this version (remove it)";
    secret0_ = __atomic_load_n(&header[kSecretWord0], __ATOMIC_ACQUIRE);
    secret1_ = __atomic_load_n(&header[kSecretWord1], __ATOMIC_ACQUIRE);
  }
  if (!problem.empty()) {
    if (table_ != nullptr) munmap(table_, bytes_);
    table_ = nullptr;
    throw NodeCacheError(problem);
  }
}

SharedNodeCache::~SharedNodeCache() {
  if (table_ != nullptr) munmap(table_, bytes_);
}

std::uint64_t* SharedNodeCache::sharedCounters() { return table_ + tableWords(entry_bits_); }

SharedNodeCache::Slot SharedNodeCache::slotOf(const std::string& key) const {
  std::string message = scope_;
  message.push_back('\0');
  message += key;
  const std::uint64_t h = sipHash64(secret0_, secret1_, message);
  std::uint64_t fingerprint = h >> kFingerprintShift;  // the top 20 bits; the index is the low ones
  if (fingerprint == 0) fingerprint = 1;
  const std::size_t index = h & (entriesOf(entry_bits_) - 1);
  std::uint64_t* windows = table_ + kHeaderWords;
  std::uint64_t* policies = windows + entriesOf(entry_bits_);
  return Slot{windows + index, policies + 2 * index, fingerprint << kFingerprintShift, h | 1};
}

std::optional<int> SharedNodeCache::recall(const std::string& key, Second window) const {
  const Slot slot = slotOf(key);
  const std::uint64_t entry = __atomic_load_n(slot.entry, __ATOMIC_ACQUIRE);
  if (fingerprintOf(entry) != slot.fingerprint) return {};
  if (((entry >> kTakenBits) & kWindowMask) != (static_cast<std::uint64_t>(window) & kWindowMask))
    return {};
  return static_cast<int>(entry & kTakenMask);
}

std::optional<std::optional<KeyPolicy>> SharedNodeCache::recallPolicy(const std::string& key,
                                                                      Second second) const {
  const Slot slot = slotOf(key);
  if (__atomic_load_n(&slot.policy[0], __ATOMIC_ACQUIRE) != slot.hash) return {};
  const std::uint64_t value = __atomic_load_n(&slot.policy[1], __ATOMIC_ACQUIRE);
  // Written by two processes at once, the words may hold one key's hash and
  // another's value: the check bits and a second look at the hash tell.
  if ((value >> kPolicyCheckShift) != (slot.hash >> kPolicyCheckShift) ||
      ((value >> kPolicySecondShift) & kWindowMask) !=
          (static_cast<std::uint64_t>(second) & kWindowMask) ||
      __atomic_load_n(&slot.policy[0], __ATOMIC_ACQUIRE) != slot.hash)
    return {};
  const int limit = static_cast<int>(value & kTakenMask);
  switch ((value >> kKindShift) & 3) {
    case 1:
      return std::optional<KeyPolicy>(KeyPolicy{KeyPolicy::Kind::kLimit, limit});
    case 2:
      return std::optional<KeyPolicy>(KeyPolicy{KeyPolicy::Kind::kUnlimited, 0});
    case 3:
      return std::optional<KeyPolicy>(KeyPolicy{KeyPolicy::Kind::kBlocked, 0});
    default:
      return std::optional<KeyPolicy>();
  }
}

void SharedNodeCache::learnPolicy(const std::string& key, Second second,
                                  const std::optional<KeyPolicy>& policy) {
  // A list of limits does not fit an entry: such a key's policy is read
  // from the store each time (one readlink).
  if (policy && !policy->limits.empty()) return;
  const Slot slot = slotOf(key);
  std::uint64_t kind = 0;
  std::uint64_t limit = 0;
  if (policy) {
    kind = policy->kind == KeyPolicy::Kind::kLimit       ? 1
           : policy->kind == KeyPolicy::Kind::kUnlimited ? 2
                                                          : 3;
    limit = static_cast<std::uint64_t>(std::max(policy->limit, 0)) & kTakenMask;
  }
  const std::uint64_t value =
      ((slot.hash >> kPolicyCheckShift) << kPolicyCheckShift) |
      ((static_cast<std::uint64_t>(second) & kWindowMask) << kPolicySecondShift) |
      (kind << kKindShift) | limit;
  // The value first, then the hash that claims it: a reader that sees this
  // key's hash sees this value or a later one.
  __atomic_store_n(&slot.policy[1], value, __ATOMIC_RELEASE);
  __atomic_store_n(&slot.policy[0], slot.hash, __ATOMIC_RELEASE);
}

void SharedNodeCache::learn(const std::string& key, KnownWindow fact) {
  const Slot slot = slotOf(key);
  const std::uint64_t window = static_cast<std::uint64_t>(fact.window) & kWindowMask;
  const std::uint64_t taken =
      std::min<std::uint64_t>(static_cast<std::uint64_t>(std::max(fact.taken, 0)), kTakenMask);
  std::uint64_t entry = __atomic_load_n(slot.entry, __ATOMIC_ACQUIRE);
  for (;;) {
    std::uint64_t wanted = slot.fingerprint | (window << kTakenBits) | taken;
    if (fingerprintOf(entry) == slot.fingerprint) {
      const std::uint64_t held_window = (entry >> kTakenBits) & kWindowMask;
      // Newer or older, modulo 2^27: a gap of half the range is years.
      const std::uint64_t ahead = (window - held_window) & kWindowMask;
      if (ahead == 0) {
        if ((entry & kTakenMask) >= taken) return;
      } else if (ahead > (kWindowMask >> 1)) {
        return;  // about an older window than the one held
      }
    }
    if (__atomic_compare_exchange_n(slot.entry, &entry, wanted, false, __ATOMIC_ACQ_REL,
                                    __ATOMIC_ACQUIRE))
      return;
  }
}

std::string nodeCacheScope(const std::string& store_root, Second window_seconds) {
  return store_root + "\n" + std::to_string(window_seconds);
}

std::unique_ptr<NodeCache> openNodeCacheOrNone(const std::string& path, const std::string& scope) {
  if (!path.empty()) {
    try {
      return std::make_unique<SharedNodeCache>(path, scope);
    } catch (const NodeCacheError&) {
    }
  }
  return std::make_unique<NoNodeCache>();
}

}  // namespace access_limiter
