#!/usr/bin/env bash
# The node's metrics: after a known mix of requests, through the CGI and the
# persistent authorizer, the counters of --metrics and access-health?metrics
# match it exactly, in Prometheus' text format (promtool agrees).
. "$(dirname "$0")/../lib.sh"

# The counters live in the node cache's file (lib.sh gives this script its own).
export ACCESS_ROOT="$WORK/access" ACCESS_LIMIT=3
mkdir -p "$ACCESS_ROOT"
NOW=1700000000

# decide [VAR=value...] : one CGI decision by the test build at NOW; prints its status.
decide() {
  hung_cgi "$TESTABLE" ACCESS_TEST_NOW="$NOW" "$@"
  status
}
# sample NAME{LABELS} : the value --metrics gives that sample.
sample() {
  "$LIMITER" --metrics | awk -v name="$1" '$1 == name { print $2 }'
}

codes=""
for _ in 1 2 3 4 5; do codes="$codes$(decide QUERY_STRING=app_id=steady) "; done
is "$codes" "200 200 200 429 429 " "five requests on one key with ACCESS_LIMIT=3: three admitted, two refused"
is "$(decide QUERY_STRING=)" 401 "no key: 401"
is "$(decide QUERY_STRING=app_id=../x)" 400 "a malformed key: 400"
"$LIMITER" --key add blocked --blocked >/dev/null
is "$(decide QUERY_STRING=app_id=blocked)" 403 "a blocked key: 403"
is "$(decide QUERY_STRING=app_id=dry ACCESS_DRY_RUN=1 ACCESS_LIMIT=1) $(decide QUERY_STRING=app_id=dry ACCESS_DRY_RUN=1 ACCESS_LIMIT=1)" \
  "200 200" "a dry run over its limit of 1: both admitted"
is "$(decide QUERY_STRING=app_id=m REQUEST_METHOD=DELETE)" 405 "a method the endpoint refuses: 405"
# A store that fails: mailed once, then held back (one cause per interval).
printf '#!/bin/sh\ncat >>"%s"\n' "$WORK/mails" >"$WORK/sendmail" && chmod +x "$WORK/sendmail"
touch "$WORK/not-a-dir"
broken=(ACCESS_ROOT="$WORK/not-a-dir/access" ACCESS_ERROR_MAIL=ops@example.com
  ACCESS_MAIL_COMMAND="$WORK/sendmail" ACCESS_MAIL_INTERVAL=600)
is "$(decide QUERY_STRING=app_id=s "${broken[@]}") $(decide QUERY_STRING=app_id=s "${broken[@]}")" "503 503" \
  "a store that fails: 503 twice"
is "$(decide QUERY_STRING=app_id=s ACCESS_ROOT="$WORK/not-a-dir/access" ACCESS_FAIL_OPEN=1)" 200 \
  "failing open: 200"
is "$(decide QUERY_STRING=app_id=h ACCESS_TEST_FAULT=hang-store ACCESS_STORE_TIMEOUT=0.2)" 503 \
  "a store that hangs: 503 at ACCESS_STORE_TIMEOUT"
is "$(decide QUERY_STRING=app_id=h ACCESS_TEST_FAULT=hang-store ACCESS_STORE_TIMEOUT=0.2 ACCESS_FAIL_OPEN=1)" 200 \
  "a store that hangs, failing open: 200"

out=$("$LIMITER" --metrics); rc=$?
is "$rc" 0 "--metrics exits 0"
decisions='access_limiter_decisions_total{policy="default",outcome='
is "$(for outcome in admitted fail_open 429 401 403 400 503 other; do printf '%s=%s ' "$outcome" "$(sample "$decisions\"$outcome\"}")"; done)" \
  "admitted=5 fail_open=2 429=2 401=1 403=1 400=1 503=3 other=1 " "the decisions by outcome, exactly"
is "$(sample 'access_limiter_dry_run_refusals_total{policy="default"}')" 1 "one dry-run refusal"
is "$(sample 'access_limiter_node_cache_hits_total{policy="default"}')" 3 \
  "three refusals answered by the node cache (two 429s and the dry run's)"
is "$(sample access_limiter_store_errors_total) $(sample access_limiter_store_timeouts_total)" "3 2" \
  "three store errors, two store timeouts"
is "$(sample 'access_limiter_error_mails_total{result="sent"}') $(sample 'access_limiter_error_mails_total{result="held_back"}')" \
  "1 1" "one error mail sent, one held back"
is "$(sample access_limiter_decision_seconds_count) $(sample 'access_limiter_decision_seconds_bucket{le="+Inf"}')" "16 16" \
  "the decision-time histogram holds all 16 decisions"
ok "$(awk '/^access_limiter_decision_seconds_bucket/ { if ($2 < last) bad = 1; last = $2 } END { exit bad }' <<<"$out"; echo $?)" \
  "its buckets are cumulative"
ok "$([ "$(sample 'access_limiter_decision_seconds_bucket{le="0.100000"}')" -lt 16 ]; echo $?)" \
  "the two decisions the store timeout ended (0.2 s) are above the 0.1 s bucket"
ok "$(! grep -q 'steady\|blocked' <<<"$out"; echo $?)" "no key appears in the metrics"
if command -v promtool >/dev/null; then
  problems=$(promtool check metrics <<<"$out" 2>&1)
  is "$? $problems" "0 " "promtool check metrics finds no problem"
else
  skip "promtool is not installed (apt-get install prometheus): the format was NOT checked by it"
fi

# The health program serves the same text, never rate-limited.
cgi "$HEALTH" QUERY_STRING=metrics
is "$(status) $(header Content-Type)" "200 text/plain; version=0.0.4; charset=utf-8" "access-health?metrics answers 200 in the text format"
is "$(body)" "$("$LIMITER" --metrics)" "with what --metrics prints"
cgi "$HEALTH" QUERY_STRING=metrics=
is "$(status) $(header Content-Type)" "200 text/plain; version=0.0.4; charset=utf-8" \
  "?metrics= too (Prometheus' params {metrics: [\"\"]})"
cgi "$HEALTH" QUERY_STRING=other
like "$(status) $(body)" '^(200|503) \{"status":' "any other query string gets the health check"
cgi "$HEALTH" QUERY_STRING=metrics ACCESS_NODE_CACHE=off
is "$(status) $(body)" '404 {"message":"Not Found","detail":"no metrics here: they are kept in the node cache (ACCESS_NODE_CACHE=off)"}' \
  "ACCESS_NODE_CACHE=off: the scrape is a 404 that says why"
err=$(ACCESS_NODE_CACHE=off "$LIMITER" --metrics 2>&1 >/dev/null); rc=$?
is "$rc $err" "1 access-limiter: --metrics: the metrics are kept in the node cache, and ACCESS_NODE_CACHE is off" \
  "and --metrics exits 1 saying so"
before=$(sample access_limiter_decision_seconds_count)
is "$(decide QUERY_STRING=app_id=uncounted ACCESS_METRICS=0)" 200 "ACCESS_METRICS=0: a request is decided as ever"
is "$(sample access_limiter_decision_seconds_count)" "$before" "and counted nowhere"
mkdir "$WORK/a-directory"
is "$(decide QUERY_STRING=app_id=unusable ACCESS_NODE_CACHE="$WORK/a-directory")" 200 \
  "a node cache that cannot be used costs no answer, counted or not"
err=$(ACCESS_NODE_CACHE="$WORK/a-directory" "$LIMITER" --metrics 2>&1 >/dev/null); rc=$?
like "$rc $err" "^1 access-limiter: --metrics: ACCESS_NODE_CACHE unusable: .*a-directory" "--metrics says why"

# The persistent authorizer counts in its node cache too, per request.
export ACCESS_NODE_CACHE="$WORK/authorizer-cache"
address="127.0.0.1:$(free_port)"
start_authorizer "$WORK/authorizer.log" "$LIMITER" --fastcgi "$address" --workers 2
codes=""
for _ in 1 2 3 4; do
  fcgi "$address" QUERY_STRING=app_id=fastcgi REQUEST_METHOD=GET ACCESS_WINDOW=3600
  codes="$codes$(status) "
done
fcgi "$address" REQUEST_METHOD=GET
codes="$codes$(status) "
# Apache's second question for an admitted request (a subrequest) is not a decision.
fcgi "$address" QUERY_STRING=app_id=fastcgi REQUEST_METHOD=GET ACCESS_LIMITER_DECIDED=1
codes="$codes$(status)"
is "$codes" "200 200 200 429 401 200" "the authorizer: three admitted, a 429, a 401, and a subrequest's repeat"
is "$(for outcome in admitted 429 401; do printf '%s=%s ' "$outcome" "$(sample "$decisions\"$outcome\"}")"; done)$(sample access_limiter_decision_seconds_count)" \
  "admitted=3 429=1 401=1 5" "its metrics count the five decisions, not the repeat"
done_testing
