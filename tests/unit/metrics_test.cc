#include <boost/test/unit_test.hpp>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <vector>

#include "metrics.h"
#include "node_cache.h"
#include "temp_dir.h"

using namespace access_limiter;
using access_limiter::testing::TempDir;
using std::chrono::microseconds;

namespace {

std::uint64_t outcome(const MetricsSnapshot& s, Outcome o) {
  return s.outcomes[static_cast<std::size_t>(o)];
}

bool contains(const std::string& text, const std::string& line) {
  return text.find(line + "\n") != std::string::npos;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(metrics)

// A node cache's file, small: the counters live after its tables.
constexpr unsigned kEntryBits = 4;

BOOST_AUTO_TEST_CASE(two_mappings_of_one_node_cache_add_to_the_same_counters) {
  TempDir dir;
  SharedNodeCache first(dir.path() + "/cache", "/store", kEntryBits);
  SharedNodeCache second(dir.path() + "/cache", "/other-store", kEntryBits);
  SharedMetrics one(first.sharedCounters());
  SharedMetrics other(second.sharedCounters());
  one.count(Outcome::kAdmitted);
  other.count(Outcome::kAdmitted);
  other.count(Outcome::kTooManyRequests);
  one.count(Event::kNodeCacheHit);
  const MetricsSnapshot s = one.snapshot();
  BOOST_TEST(outcome(s, Outcome::kAdmitted) == 2u);
  BOOST_TEST(outcome(s, Outcome::kTooManyRequests) == 1u);
  BOOST_TEST(s.events[static_cast<std::size_t>(Event::kNodeCacheHit)] == 1u);
  BOOST_TEST(outcome(s, Outcome::kUnavailable) == 0u);
}

BOOST_AUTO_TEST_CASE(named_policies_count_apart_and_a_full_table_counts_as_default) {
  TempDir dir;
  SharedNodeCache cache(dir.path() + "/cache", "/store", kEntryBits);
  SharedMetrics metrics(cache.sharedCounters());
  metrics.count(Outcome::kTooManyRequests, 3600);
  metrics.count(Outcome::kTooManyRequests, 3600);
  metrics.count(Outcome::kAdmitted, 1);
  metrics.count(Event::kNodeCacheHit, 3600);
  metrics.count(Event::kDryRunRefusal, 86400);
  metrics.count(Outcome::kAdmitted);
  for (Second w = 100; w < 100 + static_cast<Second>(kPolicySlots); ++w)
    metrics.count(Outcome::kForbidden, w);  // 3 named already: the last 3 find no slot
  const MetricsSnapshot s = metrics.snapshot();
  BOOST_TEST_REQUIRE(s.policies.size() == kPolicySlots);
  BOOST_TEST(s.policies[0].window_seconds == 3600);
  BOOST_TEST(s.policies[0].outcomes[static_cast<std::size_t>(Outcome::kTooManyRequests)] == 2u);
  BOOST_TEST(s.policies[0].node_cache_hits == 1u);
  BOOST_TEST(s.policies[1].window_seconds == 1);
  BOOST_TEST(s.policies[2].dry_run_refusals == 1u);
  BOOST_TEST(outcome(s, Outcome::kAdmitted) == 1u);
  BOOST_TEST(outcome(s, Outcome::kForbidden) == 3u);
  BOOST_TEST(s.events[static_cast<std::size_t>(Event::kNodeCacheHit)] == 0u);
  const std::string text = prometheusText(s);
  BOOST_TEST(text.find("access_limiter_decisions_total{policy=\"hour\",outcome=\"429\"} 2\n") !=
             std::string::npos);
  BOOST_TEST(text.find("access_limiter_decisions_total{policy=\"second\",outcome=\"admitted\"} 1\n") !=
             std::string::npos);
  BOOST_TEST(text.find("access_limiter_dry_run_refusals_total{policy=\"day\"} 1\n") !=
             std::string::npos);
  BOOST_TEST(text.find("access_limiter_node_cache_hits_total{policy=\"hour\"} 1\n") !=
             std::string::npos);
}

BOOST_AUTO_TEST_CASE(processes_adding_at_once_lose_no_count) {
  TempDir dir;
  const std::string path = dir.path() + "/cache";
  constexpr int kProcesses = 4, kEach = 20000;
  for (int p = 0; p < kProcesses; ++p) {
    if (fork() == 0) {
      SharedNodeCache cache(path, "/store", kEntryBits);
      SharedMetrics metrics(cache.sharedCounters());
      for (int i = 0; i < kEach; ++i) metrics.count(Outcome::kAdmitted);
      _exit(0);
    }
  }
  for (int p = 0; p < kProcesses; ++p) wait(nullptr);
  SharedNodeCache cache(path, "/store", kEntryBits);
  BOOST_TEST(outcome(SharedMetrics(cache.sharedCounters()).snapshot(), Outcome::kAdmitted) ==
             static_cast<std::uint64_t>(kProcesses * kEach));
}

BOOST_AUTO_TEST_CASE(the_histogram_puts_each_time_in_its_bucket_and_keeps_the_exact_sum) {
  std::vector<std::uint64_t> words(kSharedCounterWords);
  SharedMetrics metrics(words.data());
  metrics.observeDecision(microseconds(100));      // on a bound: that bucket
  metrics.observeDecision(microseconds(101));      // just above: the next
  metrics.observeDecision(microseconds(2000000));  // above every bound
  const MetricsSnapshot s = metrics.snapshot();
  BOOST_TEST(s.decision_buckets[0] == 1u);
  BOOST_TEST(s.decision_buckets[1] == 1u);
  BOOST_TEST(s.decision_buckets.back() == 1u);
  BOOST_TEST(s.decision_micros_sum == 2000201u);
  const std::string text = prometheusText(s);
  BOOST_TEST(contains(text, "access_limiter_decision_seconds_bucket{le=\"0.000100\"} 1"));
  BOOST_TEST(contains(text, "access_limiter_decision_seconds_bucket{le=\"0.000250\"} 2"));
  BOOST_TEST(contains(text, "access_limiter_decision_seconds_bucket{le=\"1.000000\"} 2"));
  BOOST_TEST(contains(text, "access_limiter_decision_seconds_bucket{le=\"+Inf\"} 3"));
  BOOST_TEST(contains(text, "access_limiter_decision_seconds_sum 2.000201"));
  BOOST_TEST(contains(text, "access_limiter_decision_seconds_count 3"));
}

BOOST_AUTO_TEST_CASE(the_text_names_every_outcome_under_the_policy) {
  MetricsSnapshot s;
  s.outcomes[static_cast<std::size_t>(Outcome::kFailOpen)] = 7;
  s.events[static_cast<std::size_t>(Event::kMailHeldBack)] = 2;
  const std::string text = prometheusText(s);
  BOOST_TEST(contains(text, "# TYPE access_limiter_decisions_total counter"));
  BOOST_TEST(contains(text, "access_limiter_decisions_total{policy=\"default\",outcome=\"fail_open\"} 7"));
  for (const char* name : {"admitted", "429", "401", "403", "400", "503", "other"})
    BOOST_TEST(contains(text, std::string("access_limiter_decisions_total{policy=\"default\",outcome=\"") +
                                  name + "\"} 0"));
  BOOST_TEST(contains(text, "access_limiter_error_mails_total{result=\"held_back\"} 2"));
}

BOOST_AUTO_TEST_CASE(nothing_is_counted_without_a_node_cache_or_when_off) {
  NoNodeCache none;
  BOOST_TEST(dynamic_cast<NoMetrics*>(metricsOf(none, true).get()) != nullptr);
  TempDir dir;
  SharedNodeCache cache(dir.path() + "/cache", "/store", kEntryBits);
  BOOST_TEST(dynamic_cast<NoMetrics*>(metricsOf(cache, false).get()) != nullptr);
  metricsOf(cache, true)->count(Outcome::kAdmitted);
  BOOST_TEST(outcome(SharedMetrics(cache.sharedCounters()).snapshot(), Outcome::kAdmitted) == 1u);
}

BOOST_AUTO_TEST_CASE(the_counters_do_not_overlap_the_node_caches_tables) {
  TempDir dir;
  SharedNodeCache cache(dir.path() + "/cache", "/store", kEntryBits);
  for (int key = 0; key < 64; ++key) cache.learn("k" + std::to_string(key), KnownWindow{1000, 5});
  SharedMetrics metrics(cache.sharedCounters());
  for (int i = 0; i < 1000; ++i) metrics.count(Event::kNodeCacheHit);
  for (int key = 0; key < 64; ++key) {
    const auto taken = cache.recall("k" + std::to_string(key), 1000);
    BOOST_TEST((!taken || *taken == 5));
  }
  BOOST_TEST(metrics.snapshot().events[static_cast<std::size_t>(Event::kNodeCacheHit)] == 1000u);
}

BOOST_AUTO_TEST_SUITE_END()
