#include <boost/test/unit_test.hpp>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>

#include "metrics.h"
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

BOOST_AUTO_TEST_CASE(two_mappings_of_one_file_add_to_the_same_counters) {
  TempDir dir;
  SharedMetrics one(dir.path() + "/metrics");
  SharedMetrics other(dir.path() + "/metrics");
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

BOOST_AUTO_TEST_CASE(processes_adding_at_once_lose_no_count) {
  TempDir dir;
  const std::string path = dir.path() + "/metrics";
  constexpr int kProcesses = 4, kEach = 20000;
  for (int p = 0; p < kProcesses; ++p) {
    if (fork() == 0) {
      SharedMetrics metrics(path);
      for (int i = 0; i < kEach; ++i) metrics.count(Outcome::kAdmitted);
      _exit(0);
    }
  }
  for (int p = 0; p < kProcesses; ++p) wait(nullptr);
  BOOST_TEST(outcome(SharedMetrics(path).snapshot(), Outcome::kAdmitted) ==
             static_cast<std::uint64_t>(kProcesses * kEach));
}

BOOST_AUTO_TEST_CASE(the_histogram_puts_each_time_in_its_bucket_and_keeps_the_exact_sum) {
  TempDir dir;
  SharedMetrics metrics(dir.path() + "/metrics");
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

BOOST_AUTO_TEST_CASE(a_file_others_could_write_is_refused_and_costs_no_answer) {
  TempDir dir;
  const std::string path = dir.path() + "/metrics";
  { SharedMetrics made(path); }
  chmod(path.c_str(), 0666);
  BOOST_CHECK_THROW(SharedMetrics refused(path), MetricsError);
  auto none = openMetricsOrNone(path);
  none->count(Outcome::kAdmitted);  // counts nowhere, throws nothing
  BOOST_CHECK_THROW(SharedMetrics directory(dir.path()), MetricsError);
  BOOST_TEST(dynamic_cast<NoMetrics*>(openMetricsOrNone("").get()) != nullptr);
}

BOOST_AUTO_TEST_SUITE_END()
