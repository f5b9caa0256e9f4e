#include "decision.h"

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "limiter.h"
#include "policy.h"

namespace access_limiter {

namespace {

// Passes every call on to `inner`, noting whether any was made.
class NotingStore final : public Store {
 public:
  explicit NotingStore(Store& inner) : inner_(inner) {}
  bool called() const { return called_; }

  int countTaken(const std::string& key, const Window& window, int known_taken, int limit) override {
    called_ = true;
    return inner_.countTaken(key, window, known_taken, limit);
  }
  bool claimSlot(const std::string& key, const Window& window, int slot) override {
    called_ = true;
    return inner_.claimSlot(key, window, slot);
  }
  void releaseSlot(const std::string& key, const Window& window, int slot) override {
    called_ = true;
    inner_.releaseSlot(key, window, slot);
  }
  Collection collectAll(Second keep_from, Second keep_until) override {
    called_ = true;
    return inner_.collectAll(keep_from, keep_until);
  }
  std::optional<KeyPolicy> readPolicy(const std::string& key) override {
    called_ = true;
    return inner_.readPolicy(key);
  }
  void writePolicy(const std::string& key, const KeyPolicy& policy) override {
    called_ = true;
    inner_.writePolicy(key, policy);
  }
  bool removePolicy(const std::string& key) override {
    called_ = true;
    return inner_.removePolicy(key);
  }
  std::vector<std::string> keys() override {
    called_ = true;
    return inner_.keys();
  }
  void probe() override {
    called_ = true;
    inner_.probe();
  }

 private:
  Store& inner_;
  bool called_ = false;
};

Verdict decideWith(Store& store, NodeCache& known, const Clock& clock, const std::string& key,
                   const DecisionSettings& settings) {
  Verdict verdict;
  const Second now = clock.now();
  std::optional<KeyPolicy> policy;
  if (const auto recalled = known.recallPolicy(key, now)) {
    policy = *recalled;
  } else {
    policy = store.readPolicy(key);
    known.learnPolicy(key, now, policy);
  }
  if (!policy && settings.known_keys_only) {
    verdict.refused_status = 401;
    verdict.refusal_detail =
        "unknown key: " + key + " is not registered (ACCESS_KNOWN_KEYS_ONLY=1)";
  } else if (policy && policy->kind == KeyPolicy::Kind::kBlocked) {
    verdict.refused_status = 403;
    verdict.refusal_detail = "key " + key + " is blocked";
  }
  if (verdict.refused_status != 0) {
    if (!settings.dry_run) return verdict;
    Verdict admitted;
    admitted.admitted = true;
    admitted.dry_run_changed = true;
    admitted.headers.emplace_back(kDryRunHeader, std::to_string(verdict.refused_status));
    return admitted;
  }
  if (policy && policy->kind == KeyPolicy::Kind::kUnlimited) {
    // Never counted, so no RateLimit fields: there is no limit to describe.
    verdict.admitted = true;
    if (settings.dry_run) verdict.headers.emplace_back(kDryRunHeader, "200");
    return verdict;
  }
  const LimitList limits = effectiveLimits(policy, settings.limits(), settings.window_seconds);
  Limiter limiter(store, known, clock, limits);
  const Admission admission = limiter.admitAll(key);
  // Only one request can claim a window's last slot, so this is said once
  // per key per limit per window, cluster-wide; a line per refusal would
  // drown the error log under a flood.
  if (admission.admitted) {
    for (const Decision& d : admission.decisions) {
      if (d.slot != d.rule.limit - 1) continue;
      if (!verdict.limit_reached.empty()) verdict.limit_reached += "; ";
      verdict.limit_reached += "key " + key + " reached its limit of " +
                               std::to_string(d.rule.limit) + " per " +
                               std::to_string(d.rule.window_seconds) + " s (" +
                               (d.rule.plain ? "window " : policyName(d.rule) + " window ") +
                               std::to_string(d.window) + ")";
    }
    if (!verdict.limit_reached.empty() && settings.dry_run)
      verdict.limit_reached += "; dry run: requests past it are admitted";
  }
  for (const std::string& error : admission.release_errors)
    verdict.release_failure += (verdict.release_failure.empty() ? "" : "; ") + error;
  if (!verdict.release_failure.empty())
    verdict.release_failure = "key " + key +
                              " was refused but a claim of its could not be given back (one "
                              "admission fewer in that window): " +
                              verdict.release_failure;
  verdict.headers = rateLimitHeaders(admission);
  const LimitRule& reported = admission.decisions[reportedLimit(admission)].rule;
  verdict.reported_policy_window = reported.plain ? 0 : reported.window_seconds;
  if (settings.dry_run) {
    // As if enforcing, but a 200 has nothing to retry.
    verdict.headers.erase(std::remove_if(verdict.headers.begin(), verdict.headers.end(),
                                         [](const auto& h) { return h.first == "Retry-After"; }),
                          verdict.headers.end());
    verdict.headers.emplace_back(kDryRunHeader, admission.admitted ? "200" : "429");
    verdict.admitted = true;
    verdict.dry_run_changed = !admission.admitted;
    return verdict;
  }
  verdict.admitted = admission.admitted;
  if (!admission.admitted) {
    verdict.refused_status = 429;
    const bool plain = limits.size() == 1 && limits.front().plain;
    if (!plain)
      for (const std::size_t i : admission.violated)
        verdict.violated_policies.push_back(policyName(admission.decisions[i].rule));
  }
  return verdict;
}

}  // namespace

Verdict decideForKey(Store& store, NodeCache& known, const Clock& clock, const std::string& key,
                     const DecisionSettings& settings) {
  NotingStore noting(store);
  Verdict verdict = decideWith(noting, known, clock, key, settings);
  verdict.from_node_cache = !noting.called() && (!verdict.admitted || verdict.dry_run_changed);
  return verdict;
}

}  // namespace access_limiter
