#include "metrics.h"

#include <cinttypes>
#include <cstdio>

#include "limit_list.h"

namespace access_limiter {

namespace {

// The counters' words: the outcomes, the events, the histogram's buckets
// and its sum (the rest of the page is for later counters).
constexpr std::size_t kOutcomeWords = static_cast<std::size_t>(Outcome::kCount);
constexpr std::size_t kEventWords = static_cast<std::size_t>(Event::kCount);
constexpr std::size_t kBucketWords = kDecisionBucketBoundsMicros.size() + 1;
constexpr std::size_t kOutcomesAt = 0;
constexpr std::size_t kEventsAt = kOutcomesAt + kOutcomeWords;
constexpr std::size_t kBucketsAt = kEventsAt + kEventWords;
constexpr std::size_t kSumAt = kBucketsAt + kBucketWords;
// Then the named policies: each a word naming it (its window; 0 = free),
// its outcomes, its dry-run refusals and its node-cache hits.
constexpr std::size_t kPolicyWords = 1 + kOutcomeWords + 2;
constexpr std::size_t kPoliciesAt = kSumAt + 1;
static_assert(kPoliciesAt + kPolicySlots * kPolicyWords <= kSharedCounterWords,
              "the counters fit in the node cache's page");

void add(std::uint64_t* word, std::uint64_t amount) {
  __atomic_fetch_add(word, amount, __ATOMIC_RELAXED);
}

std::uint64_t load(const std::uint64_t* word) { return __atomic_load_n(word, __ATOMIC_RELAXED); }

}  // namespace

std::uint64_t* SharedMetrics::policyWords(Second policy_window) {
  const auto wanted = static_cast<std::uint64_t>(policy_window);
  for (std::size_t slot = 0; slot < kPolicySlots; ++slot) {
    std::uint64_t* words = &words_[kPoliciesAt + slot * kPolicyWords];
    std::uint64_t held = load(words);
    // A lost exchange leaves in `held` the name another process gave it.
    if (held == 0 &&
        __atomic_compare_exchange_n(words, &held, wanted, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
      return words;
    if (held == wanted) return words;
  }
  return nullptr;
}

void SharedMetrics::count(Outcome outcome, Second policy_window) {
  const auto index = static_cast<std::size_t>(outcome);
  std::uint64_t* named = policy_window > 0 ? policyWords(policy_window) : nullptr;
  add(named != nullptr ? &named[1 + index] : &words_[kOutcomesAt + index], 1);
}

void SharedMetrics::count(Event event, Second policy_window) {
  std::uint64_t* named = policy_window > 0 ? policyWords(policy_window) : nullptr;
  if (named != nullptr && event == Event::kDryRunRefusal) return add(&named[1 + kOutcomeWords], 1);
  if (named != nullptr && event == Event::kNodeCacheHit) return add(&named[2 + kOutcomeWords], 1);
  add(&words_[kEventsAt + static_cast<std::size_t>(event)], 1);
}

void SharedMetrics::observeDecision(std::chrono::microseconds elapsed) {
  const std::uint64_t micros = elapsed.count() > 0 ? static_cast<std::uint64_t>(elapsed.count()) : 0;
  std::size_t bucket = 0;
  while (bucket < kDecisionBucketBoundsMicros.size() && micros > kDecisionBucketBoundsMicros[bucket])
    ++bucket;
  add(&words_[kBucketsAt + bucket], 1);
  add(&words_[kSumAt], micros);
}

MetricsSnapshot SharedMetrics::snapshot() const {
  MetricsSnapshot snapshot;
  for (std::size_t i = 0; i < kOutcomeWords; ++i) snapshot.outcomes[i] = load(&words_[kOutcomesAt + i]);
  for (std::size_t i = 0; i < kEventWords; ++i) snapshot.events[i] = load(&words_[kEventsAt + i]);
  for (std::size_t i = 0; i < kBucketWords; ++i)
    snapshot.decision_buckets[i] = load(&words_[kBucketsAt + i]);
  snapshot.decision_micros_sum = load(&words_[kSumAt]);
  for (std::size_t slot = 0; slot < kPolicySlots; ++slot) {
    const std::uint64_t* words = &words_[kPoliciesAt + slot * kPolicyWords];
    const std::uint64_t window = load(words);
    if (window == 0) break;
    PolicyCounts counts;
    counts.window_seconds = static_cast<Second>(window);
    for (std::size_t i = 0; i < kOutcomeWords; ++i) counts.outcomes[i] = load(&words[1 + i]);
    counts.dry_run_refusals = load(&words[1 + kOutcomeWords]);
    counts.node_cache_hits = load(&words[2 + kOutcomeWords]);
    snapshot.policies.push_back(counts);
  }
  return snapshot;
}

void countDecision(Metrics& metrics, Outcome outcome, std::chrono::steady_clock::time_point arrived,
                   Second policy_window) {
  metrics.count(outcome, policy_window);
  metrics.observeDecision(std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now() - arrived));
}

std::string scrapeNodeCounters(const std::string& node_cache_path) {
  SharedNodeCache cache(node_cache_path, "");
  return prometheusText(SharedMetrics(cache.sharedCounters()).snapshot());
}

std::unique_ptr<Metrics> metricsOf(NodeCache& cache, bool counting) {
  if (std::uint64_t* words = cache.sharedCounters(); counting && words != nullptr)
    return std::make_unique<SharedMetrics>(words);
  return std::make_unique<NoMetrics>();
}

namespace {

// Window 0 is "default": a plain limit's, and that of answers without a
// RateLimit field.
std::string policyLabel(Second window_seconds) {
  return "policy=\"" + policyName(LimitRule{0, window_seconds, window_seconds == 0}) + "\"";
}

std::string family(const char* name, const char* type, const char* help) {
  return std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
}

std::string sample(const std::string& name_and_labels, std::uint64_t value) {
  return name_and_labels + " " + std::to_string(value) + "\n";
}

// Microseconds as seconds, exactly: 1234567 -> "1.234567".
std::string seconds(std::uint64_t micros) {
  char text[32];
  std::snprintf(text, sizeof text, "%" PRIu64 ".%06" PRIu64, micros / 1000000, micros % 1000000);
  return text;
}

}  // namespace

std::string prometheusText(const MetricsSnapshot& s) {
  static constexpr const char* kOutcomeNames[] = {"admitted", "fail_open", "429", "401",
                                                  "403",      "400",       "503", "other"};
  static_assert(sizeof kOutcomeNames / sizeof kOutcomeNames[0] == kOutcomeWords);
  std::string text = family("access_limiter_decisions_total", "counter",
                            "Requests this node decided, by outcome (fail_open: admitted "
                            "uncounted because the store failed) and by the policy their "
                            "RateLimit field named (a 429: the limit that refused it).");
  const auto event = [&s](Event e) { return s.events[static_cast<std::size_t>(e)]; };
  // Every policy's counts, "default" (window 0) first.
  std::vector<PolicyCounts> policies(1);
  policies.front().outcomes = s.outcomes;
  policies.front().dry_run_refusals = event(Event::kDryRunRefusal);
  policies.front().node_cache_hits = event(Event::kNodeCacheHit);
  policies.insert(policies.end(), s.policies.begin(), s.policies.end());
  for (const PolicyCounts& p : policies)
    for (std::size_t i = 0; i < kOutcomeWords; ++i)
      text += sample("access_limiter_decisions_total{" + policyLabel(p.window_seconds) +
                         ",outcome=\"" + kOutcomeNames[i] + "\"}",
                     p.outcomes[i]);
  text += family("access_limiter_dry_run_refusals_total", "counter",
                 "Requests a dry run admitted that enforcing would have refused.");
  for (const PolicyCounts& p : policies)
    text += sample("access_limiter_dry_run_refusals_total{" + policyLabel(p.window_seconds) + "}",
                   p.dry_run_refusals);
  text += family("access_limiter_node_cache_hits_total", "counter",
                 "Refusals answered from the node cache, without a store call.");
  for (const PolicyCounts& p : policies)
    text += sample("access_limiter_node_cache_hits_total{" + policyLabel(p.window_seconds) + "}",
                   p.node_cache_hits);
  text += family("access_limiter_store_errors_total", "counter", "Store calls that failed.");
  text += sample("access_limiter_store_errors_total", event(Event::kStoreError));
  text += family("access_limiter_store_timeouts_total", "counter",
                 "Decisions whose store did not answer within ACCESS_STORE_TIMEOUT.");
  text += sample("access_limiter_store_timeouts_total", event(Event::kStoreTimeout));
  text += family("access_limiter_error_mails_total", "counter",
                 "Error mails, sent or held back (ACCESS_MAIL_INTERVAL).");
  text += sample("access_limiter_error_mails_total{result=\"sent\"}", event(Event::kMailSent));
  text += sample("access_limiter_error_mails_total{result=\"held_back\"}", event(Event::kMailHeldBack));
  text += family("access_limiter_decision_seconds", "histogram",
                 "Time from a request's arrival to its answer.");
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < kDecisionBucketBoundsMicros.size(); ++i) {
    cumulative += s.decision_buckets[i];
    text += sample("access_limiter_decision_seconds_bucket{le=\"" +
                       seconds(kDecisionBucketBoundsMicros[i]) + "\"}",
                   cumulative);
  }
  cumulative += s.decision_buckets.back();
  text += sample("access_limiter_decision_seconds_bucket{le=\"+Inf\"}", cumulative);
  text += "access_limiter_decision_seconds_sum " + seconds(s.decision_micros_sum) + "\n";
  text += sample("access_limiter_decision_seconds_count", cumulative);
  return text;
}

}  // namespace access_limiter
