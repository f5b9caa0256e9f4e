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
constexpr std::size_t kTableBytes = kEntries * sizeof(std::uint64_t);

// Entry layout, low bits first: taken (17), window modulo 2^27 (27),
// fingerprint (20, never 0, so an all-zero entry is empty).
constexpr unsigned kTakenBits = 17;
constexpr unsigned kWindowBits = 27;
constexpr std::uint64_t kTakenMask = (std::uint64_t{1} << kTakenBits) - 1;
constexpr std::uint64_t kWindowMask = (std::uint64_t{1} << kWindowBits) - 1;
constexpr unsigned kFingerprintShift = kTakenBits + kWindowBits;

std::uint64_t hashOf(const std::string& store_root, const std::string& key) {
  std::uint64_t h = 14695981039346656037ull;  // FNV-1a, then a 64-bit finalizer
  auto mix = [&h](unsigned char byte) { h = (h ^ byte) * 1099511628211ull; };
  for (unsigned char c : store_root) mix(c);
  mix(0);
  for (unsigned char c : key) mix(c);
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 33;
  return h;
}

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

SharedNodeCache::SharedNodeCache(const std::string& path, const std::string& store_root)
    : store_root_(store_root) {
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
  const std::uint64_t h = hashOf(store_root_, key);
  std::uint64_t fingerprint = h >> kFingerprintShift;  // the top 20 bits; the index is the low ones
  if (fingerprint == 0) fingerprint = 1;
  return Slot{table_ + (h & (kEntries - 1)), fingerprint << kFingerprintShift};
}

std::optional<KnownWindow> SharedNodeCache::recall(const std::string& key, Second now) const {
  const Slot slot = slotOf(key);
  const std::uint64_t entry = __atomic_load_n(slot.entry, __ATOMIC_ACQUIRE);
  if (fingerprintOf(entry) != slot.fingerprint) return {};
  const std::uint64_t stored_window = (entry >> kTakenBits) & kWindowMask;
  for (Second window = now + kClockSkewToleranceSeconds; window >= now; --window)
    if ((static_cast<std::uint64_t>(window) & kWindowMask) == stored_window)
      return KnownWindow{window, static_cast<int>(entry & kTakenMask)};
  return {};
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
