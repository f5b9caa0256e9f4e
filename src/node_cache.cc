#include "node_cache.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace access_limiter {

namespace {

constexpr std::size_t kEntries = std::size_t{1} << SharedNodeCache::kEntryBits;
// The window facts, then the policies.
constexpr std::size_t kTableBytes = 2 * kEntries * sizeof(std::uint64_t);

// Entry layout, low bits first: taken (17), window modulo 2^27 (27),
// fingerprint (20, never 0, so an all-zero entry is empty).
constexpr unsigned kTakenBits = 17;
constexpr unsigned kWindowBits = 27;
constexpr std::uint64_t kTakenMask = (std::uint64_t{1} << kTakenBits) - 1;
constexpr std::uint64_t kWindowMask = (std::uint64_t{1} << kWindowBits) - 1;
constexpr unsigned kFingerprintShift = kTakenBits + kWindowBits;

std::uint64_t hashOf(const std::string& scope, const std::string& key) {
  std::uint64_t h = 14695981039346656037ull;  // FNV-1a, then a 64-bit finalizer
  auto mix = [&h](unsigned char byte) { h = (h ^ byte) * 1099511628211ull; };
  for (unsigned char c : scope) mix(c);
  mix(0);
  for (unsigned char c : key) mix(c);
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 33;
  return h;
}

// Policy entry layout, low bits first: limit (17), kind (2: 0 = no policy,
// 1 = limit, 2 = unlimited, 3 = blocked), second modulo 2^27 (27),
// fingerprint (18, never 0).
constexpr unsigned kKindShift = kTakenBits;
constexpr unsigned kPolicySecondShift = kKindShift + 2;
constexpr unsigned kPolicyFingerprintShift = kPolicySecondShift + kWindowBits;

std::uint64_t fingerprintOf(std::uint64_t entry) {
  return entry & ~(kTakenMask | (kWindowMask << kTakenBits));
}

std::string failure(const char* call, const std::string& path) {
  return std::string(call) + "(" + path + "): " + std::strerror(errno);
}

}  // namespace

struct SharedNodeCache::Slot {
  std::uint64_t* entry;
  std::uint64_t fingerprint;  // already shifted into place
};

SharedNodeCache::SharedNodeCache(const std::string& path, const std::string& scope)
    : scope_(scope) {
  const int fd = open(path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) throw NodeCacheError(failure("open", path));
  struct stat st {};
  std::string problem;
  if (fstat(fd, &st) != 0)
    problem = failure("stat", path);
  else if (!S_ISREG(st.st_mode))
    problem = path + " is not a regular file";
  else if (st.st_uid != geteuid())
    problem = path + " belongs to uid " + std::to_string(st.st_uid) + ", not to this user (uid " +
              std::to_string(geteuid()) + ")";
  else if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0)
    problem = path + " is writable by others than its owner";
  // Never shrunk: every process sizes it the same, and growing it keeps what
  // others wrote.
  else if (static_cast<std::size_t>(st.st_size) < kTableBytes &&
           ftruncate(fd, static_cast<off_t>(kTableBytes)) != 0)
    problem = failure("ftruncate", path);
  if (problem.empty()) {
    void* mapped = mmap(nullptr, kTableBytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (mapped == MAP_FAILED)
      problem = failure("mmap", path);
    else
      table_ = static_cast<std::uint64_t*>(mapped);
  }
  close(fd);
  if (!problem.empty()) throw NodeCacheError(problem);
}

SharedNodeCache::~SharedNodeCache() {
  if (table_ != nullptr) munmap(table_, kTableBytes);
}

SharedNodeCache::Slot SharedNodeCache::slotOf(const std::string& key) const {
  const std::uint64_t h = hashOf(scope_, key);
  std::uint64_t fingerprint = h >> kFingerprintShift;  // the top 20 bits; the index is the low ones
  if (fingerprint == 0) fingerprint = 1;
  return Slot{table_ + (h & (kEntries - 1)), fingerprint << kFingerprintShift};
}

std::optional<int> SharedNodeCache::recall(const std::string& key, Second window) const {
  const Slot slot = slotOf(key);
  const std::uint64_t entry = __atomic_load_n(slot.entry, __ATOMIC_ACQUIRE);
  if (fingerprintOf(entry) != slot.fingerprint) return {};
  if (((entry >> kTakenBits) & kWindowMask) != (static_cast<std::uint64_t>(window) & kWindowMask))
    return {};
  return static_cast<int>(entry & kTakenMask);
}

// The 18 top bits of a slot's fingerprint, never 0.
std::uint64_t SharedNodeCache::policyFingerprint(const Slot& slot) {
  return std::max<std::uint64_t>(slot.fingerprint >> (kFingerprintShift + 2), 1);
}

std::optional<std::optional<KeyPolicy>> SharedNodeCache::recallPolicy(const std::string& key,
                                                                      Second second) const {
  const Slot slot = slotOf(key);
  std::uint64_t* policy_entry = slot.entry + kEntries;
  const std::uint64_t entry = __atomic_load_n(policy_entry, __ATOMIC_ACQUIRE);
  const std::uint64_t fingerprint = policyFingerprint(slot);
  if ((entry >> kPolicyFingerprintShift) != fingerprint ||
      ((entry >> kPolicySecondShift) & kWindowMask) !=
          (static_cast<std::uint64_t>(second) & kWindowMask))
    return {};
  const int limit = static_cast<int>(entry & kTakenMask);
  switch ((entry >> kKindShift) & 3) {
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
  const Slot slot = slotOf(key);
  const std::uint64_t fingerprint = policyFingerprint(slot);
  std::uint64_t kind = 0;
  std::uint64_t limit = 0;
  if (policy) {
    kind = policy->kind == KeyPolicy::Kind::kLimit       ? 1
           : policy->kind == KeyPolicy::Kind::kUnlimited ? 2
                                                          : 3;
    limit = static_cast<std::uint64_t>(std::max(policy->limit, 0)) & kTakenMask;
  }
  // The newest read wins; two reads in one second saw the store a moment
  // apart, and either is the policy of that second.
  __atomic_store_n(slot.entry + kEntries,
                   (fingerprint << kPolicyFingerprintShift) |
                       ((static_cast<std::uint64_t>(second) & kWindowMask) << kPolicySecondShift) |
                       (kind << kKindShift) | limit,
                   __ATOMIC_RELEASE);
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

}  // namespace access_limiter
