#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include "clock.h"
#include "policy.h"

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
  // How many slots of the window starting at `window` are known taken;
  // none when the node knows nothing of that window.
  virtual std::optional<int> recall(const std::string& key, Second window) const = 0;
  // Adds a fact. One about an older window than the one held for the key is
  // dropped; one about the same window keeps the larger count.
  virtual void learn(const std::string& key, KnownWindow fact) = 0;

  // The key's policy as read from the store during `second` (none inside
  // means: the key has no policy); nothing when it was not read then. A
  // policy is not a monotonic fact (an operator may change it at any time),
  // so it is kept for the second it was read in only: a change reaches
  // every node within a second. A policy with a list of limits may be
  // left unlearnt (then it is read from the store each time).
  virtual std::optional<std::optional<KeyPolicy>> recallPolicy(const std::string& key,
                                                               Second second) const = 0;
  virtual void learnPolicy(const std::string& key, Second second,
                           const std::optional<KeyPolicy>& policy) = 0;

  // kSharedCounterWords words of the node's counters (metrics.h), in the
  // same shared memory; nullptr when there is none.
  virtual std::uint64_t* sharedCounters() { return nullptr; }
};

// The size of NodeCache::sharedCounters, in 64-bit words (a page).
inline constexpr std::size_t kSharedCounterWords = 512;

// Remembers nothing: every decision asks the store (ACCESS_NODE_CACHE=off).
class NoNodeCache final : public NodeCache {
 public:
  std::optional<int> recall(const std::string&, Second) const override { return {}; }
  void learn(const std::string&, KnownWindow) override {}
  std::optional<std::optional<KeyPolicy>> recallPolicy(const std::string&, Second) const override {
    return {};
  }
  void learnPolicy(const std::string&, Second, const std::optional<KeyPolicy>&) override {}
};

// Why a cache file cannot be used ("open(/dev/shm/x): Permission denied").
class NodeCacheError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Fixed tables in a file on a memory file system (/dev/shm), mapped by every
// process that opens it and updated with atomic operations: no lock, so a
// process killed mid-update blocks no one. One entry per key, found by a
// keyed hash (SipHash, its key a random secret kept in the file's header) of
// the scope (the store's root and the window length) and the key, so stores
// and window lengths sharing the file keep apart, and no client can choose
// keys that share an entry. Two keys that land on one entry take turns in
// it: each eviction only costs the evicted key a round trip.
//
// A window entry packs a 20-bit fingerprint of the hash, the window modulo
// 2^27 seconds (about 4 years) and the taken count (up to 2^17 - 1, above
// kMaxLimit): a fact mistaken for another key's can only make the node
// refuse, for the rest of that window. A policy is not such a fact (a wrong
// one could admit), so its entry holds the whole 64-bit hash beside the
// policy, its kind, limit and the second it was read in.
//
// After the tables, one page holds the node's counters (metrics.h): a
// process that decides has the file mapped already, so counting costs it
// no system call. A file made before that page existed grows by it.
//
// The blocks are allocated when the file is made (24 MiB at the default
// size), so a full /dev/shm is a NodeCacheError, never a signal later.
class SharedNodeCache final : public NodeCache {
 public:
  static constexpr unsigned kEntryBits = 20;  // 2^20 entries a table

  // Opens the table at `path`, creating it (mode 0600) when missing. Throws
  // NodeCacheError when it cannot be opened or mapped, or when it is not a
  // regular file owned by this user and writable by no one else: any process
  // that can write it could make this node refuse keys.
  // `entry_bits` sizes the tables (2^entry_bits keys); a file is made for
  // one size, and refused with another.
  SharedNodeCache(const std::string& path, const std::string& scope,
                  unsigned entry_bits = kEntryBits);
  ~SharedNodeCache() override;
  SharedNodeCache(const SharedNodeCache&) = delete;
  SharedNodeCache& operator=(const SharedNodeCache&) = delete;

  std::optional<int> recall(const std::string& key, Second window) const override;
  void learn(const std::string& key, KnownWindow fact) override;
  std::optional<std::optional<KeyPolicy>> recallPolicy(const std::string& key,
                                                       Second second) const override;
  void learnPolicy(const std::string& key, Second second,
                   const std::optional<KeyPolicy>& policy) override;
  std::uint64_t* sharedCounters() override;

 private:
  struct Slot;
  Slot slotOf(const std::string& key) const;

  std::string scope_;
  unsigned entry_bits_;
  std::size_t bytes_;
  std::uint64_t secret0_ = 0, secret1_ = 0;  // the hash's key, from the file
  std::uint64_t* table_ = nullptr;  // 2^kEntryBits words, shared with the other processes
};

// What a node cache's facts are about: the counters of one store (its root
// directory), in windows of one length.
std::string nodeCacheScope(const std::string& store_root, Second window_seconds);

// The node cache at `path`, or none when `path` is empty or the file is
// unusable: a cache costs speed when missing, never an answer (--check-config
// says why it is unusable).
std::unique_ptr<NodeCache> openNodeCacheOrNone(const std::string& path, const std::string& scope);

}  // namespace access_limiter
