#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

#include "clock.h"

namespace access_limiter {

// A fact about one key: at least `taken` slots of `window` are taken.
// Such a fact stays true for the life of its window (a slot is never freed
// inside a live window), so it may be stale but is never wrong: it is behind.
struct KnownWindow {
  Second window = 0;
  int taken = 0;
};

// What this node has learnt about keys' current windows, shared by the
// processes on the node that decide for the same store. It saves asking the
// store what the node already knows: a window known full is refused without
// asking, and a claim starts at the first slot not known taken. Claims are
// still decided by the store alone, so a fact that is behind costs a round
// trip, never an admission too many.
class NodeCache {
 public:
  virtual ~NodeCache() = default;
  // The newest fact about `key` whose window is one of now ..
  // now + kClockSkewToleranceSeconds; none about older windows.
  virtual std::optional<KnownWindow> recall(const std::string& key, Second now) const = 0;
  // Adds a fact. One about an older window than the one held for the key is
  // dropped; one about the same window keeps the larger count.
  virtual void learn(const std::string& key, KnownWindow fact) = 0;
};

// Remembers nothing: every decision asks the store (ACCESS_NODE_CACHE=off).
class NoNodeCache final : public NodeCache {
 public:
  std::optional<KnownWindow> recall(const std::string&, Second) const override { return {}; }
  void learn(const std::string&, KnownWindow) override {}
};

// Why a cache file cannot be used ("open(/dev/shm/x): Permission denied").
class NodeCacheError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A fixed table of 2^kEntryBits 8-byte entries in a file on a memory file system
// (/dev/shm), mapped by every process that opens it and updated with atomic
// compare-and-swap: no lock, so a process killed mid-update blocks no one.
// One entry per key, found by a hash of the store's root and the key, so
// stores sharing the file keep apart. Two keys that land on the same entry
// take turns in it: each eviction only costs the evicted key a round trip.
//
// An entry packs a 20-bit fingerprint of the hash, the window modulo 2^27
// seconds (about 4 years) and the taken count (up to 2^17 - 1, above
// kMaxLimit).
class SharedNodeCache final : public NodeCache {
 public:
  static constexpr unsigned kEntryBits = 20;  // 2^20 entries: 8 MiB, allocated as touched

  // Opens the table at `path`, creating it (mode 0600) when missing. Throws
  // NodeCacheError when it cannot be opened or mapped, or when it is not a
  // regular file owned by this user and writable by no one else: any process
  // that can write it could make this node refuse keys.
  SharedNodeCache(const std::string& path, const std::string& store_root);
  ~SharedNodeCache() override;
  SharedNodeCache(const SharedNodeCache&) = delete;
  SharedNodeCache& operator=(const SharedNodeCache&) = delete;

  std::optional<KnownWindow> recall(const std::string& key, Second now) const override;
  void learn(const std::string& key, KnownWindow fact) override;

 private:
  struct Slot;
  Slot slotOf(const std::string& key) const;

  std::string store_root_;
  std::uint64_t* table_ = nullptr;  // 2^kEntryBits words, shared with the other processes
};

}  // namespace access_limiter
