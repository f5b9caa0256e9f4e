#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "clock.h"
#include "node_cache.h"

namespace access_limiter {

// What one node's processes did, for an operator's graphs: counters in the
// node cache's file (NodeCache::sharedCounters), which every process that
// decides maps already, added to with atomic operations. A process never
// reads or rewrites the file to count, nor makes a system call for it; only
// a scrape reads it. Counts carry no key: keys are unbounded (the busiest
// are in --status).

// How a request's decision ended.
enum class Outcome : unsigned {
  kAdmitted,         // admitted and counted (a dry run's admissions too)
  kFailOpen,         // admitted uncounted: the store failed, ACCESS_FAIL_OPEN=1
  kTooManyRequests,  // 429
  kUnauthorized,     // 401
  kForbidden,        // 403
  kBadRequest,       // 400
  kUnavailable,      // 503: the store failed or did not answer in time
  kOther,            // any other answer of ours (405, 413, 500...)
  kCount
};

// What happened on the way to a decision.
enum class Event : unsigned {
  kDryRunRefusal,  // a dry run admitted what enforcing would have refused
  kStoreError,     // the store failed (StoreError)
  kStoreTimeout,   // the store did not answer within ACCESS_STORE_TIMEOUT
  kNodeCacheHit,   // a refusal answered from the node cache, no store call
  kMailSent,       // an error mail handed to the mail command
  kMailHeldBack,   // an error mail not sent: one for that cause went recently
  kCount
};

// The decision-time histogram's upper bounds, in microseconds; one more
// bucket holds what is above the last.
inline constexpr std::array<std::uint64_t, 10> kDecisionBucketBoundsMicros{
    100, 250, 500, 1000, 2500, 5000, 10000, 25000, 100000, 1000000};

// The policy a count is labelled with: 0 for "default" (a plain limit, or
// an answer with no RateLimit field); otherwise a list's limit, named by its
// window (policyName). A node keeps kPolicySlots such windows; counts for
// any further window go to "default".
inline constexpr std::size_t kPolicySlots = 16;

// One named policy's counts.
struct PolicyCounts {
  Second window_seconds = 0;
  std::array<std::uint64_t, static_cast<std::size_t>(Outcome::kCount)> outcomes{};
  std::uint64_t dry_run_refusals = 0;
  std::uint64_t node_cache_hits = 0;
};

struct MetricsSnapshot {
  std::array<std::uint64_t, static_cast<std::size_t>(Outcome::kCount)> outcomes{};
  std::array<std::uint64_t, static_cast<std::size_t>(Event::kCount)> events{};
  // Decisions per bucket, not cumulative; the last is above every bound.
  std::array<std::uint64_t, kDecisionBucketBoundsMicros.size() + 1> decision_buckets{};
  std::uint64_t decision_micros_sum = 0;
  // The named policies seen on this node, in the order first seen.
  std::vector<PolicyCounts> policies;
};

class Metrics {
 public:
  virtual ~Metrics() = default;
  // `policy_window`: see kPolicySlots. Events other than kDryRunRefusal and
  // kNodeCacheHit carry no policy.
  virtual void count(Outcome outcome, Second policy_window = 0) = 0;
  virtual void count(Event event, Second policy_window = 0) = 0;
  // One decision took `elapsed`, from its request's arrival to its answer.
  virtual void observeDecision(std::chrono::microseconds elapsed) = 0;
};

// Counts nothing (ACCESS_METRICS=0, or no usable node cache).
class NoMetrics final : public Metrics {
 public:
  void count(Outcome, Second) override {}
  void count(Event, Second) override {}
  void observeDecision(std::chrono::microseconds) override {}
};

// The counters in `words` (kSharedCounterWords of them, shared memory that
// outlives this object: a node cache's).
class SharedMetrics final : public Metrics {
 public:
  explicit SharedMetrics(std::uint64_t* words) : words_(words) {}

  void count(Outcome outcome, Second policy_window = 0) override;
  void count(Event event, Second policy_window = 0) override;
  void observeDecision(std::chrono::microseconds elapsed) override;
  MetricsSnapshot snapshot() const;

 private:
  // The named policy's words, claiming a free slot for it; nullptr when
  // every slot holds another.
  std::uint64_t* policyWords(Second policy_window);
  std::uint64_t* words_;
};

// Counts one request's end: its outcome, and the time since `arrived`.
void countDecision(Metrics& metrics, Outcome outcome, std::chrono::steady_clock::time_point arrived,
                   Second policy_window = 0);

// The counters of `cache` when `counting` (ACCESS_METRICS=1) and it has
// them; else NoMetrics. `cache` must outlive them.
std::unique_ptr<Metrics> metricsOf(NodeCache& cache, bool counting);

// The snapshot in Prometheus' text exposition format (version 0.0.4).
std::string prometheusText(const MetricsSnapshot& snapshot);

// A scrape: the counters of the node cache at `node_cache_path`, opened as
// the processes that count open it, in that format. Throws NodeCacheError
// when it cannot be used.
std::string scrapeNodeCounters(const std::string& node_cache_path);

}  // namespace access_limiter
