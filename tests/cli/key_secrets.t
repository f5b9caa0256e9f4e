#!/usr/bin/env bash
# Keys are credentials. A key from a header is stored, logged and shown only
# as its hash under the cluster's secret (ACCESS_KEY_SECRET); the operator
# names keys as clients send them; the store is its owner's alone; and the
# secret never reaches a guarded application.
. "$(dirname "$0")/../lib.sh"

ROOT="$WORK/access"
mkdir -p "$ROOT"
SECRET=000102030405060708090a0b0c0d0e0f
OTHER_SECRET=f0e0d0c0b0a090807060504030201000
CREDENTIAL='sk_live+Abc/123=='
header_env=(ACCESS_ROOT="$ROOT" ACCESS_KEY=header:X-Api-Key ACCESS_LIMIT=2 ACCESS_WINDOW=600)

# request SECRET : one request with the credential; the log goes to $WORK/log.
request() {
  cgi "$LIMITER" "${header_env[@]}" ACCESS_KEY_SECRET="$1" HTTP_X_API_KEY="$CREDENTIAL"
  printf '%s\n' "$ERR" >>"$WORK/log"
}
request "$SECRET"
is "$(status)" 200 "a key from a header is admitted"
stored=$(find "$ROOT" -mindepth 1 -maxdepth 1 -printf '%f\n')
like "$stored" '^h~[0-9a-f]{32}$' "it is stored as h~ and 32 hex digits"
request "$SECRET"
request "$SECRET"
is "$(status)" 429 "the same credential again is the same key: 429 at its limit"
like "$(cat "$WORK/log")" "key $stored reached its limit" "the log names the key by its hash"
is "$(grep -rlF -- 'sk_live' "$ROOT" "$WORK/log" 2>/dev/null; find "$ROOT" -name '*sk_live*')" "" \
  "the credential is nowhere: not in the store's names or files, not in the log"

# Another secret: another hash, so every node of a cluster needs the same one.
request "$OTHER_SECRET"
is "$(status)" 200 "under another secret the credential is another key"
is "$(find "$ROOT" -mindepth 1 -maxdepth 1 | wc -l)" 2 "stored under a second name"

# Without a secret: still hashed (unkeyed), never in the clear.
cgi "$LIMITER" "${header_env[@]}" HTTP_X_API_KEY="$CREDENTIAL"
is "$(status)" 200 "without ACCESS_KEY_SECRET a header key is admitted"
is "$(find "$ROOT" -name '*sk_live*' | wc -l) $(find "$ROOT" -mindepth 1 -maxdepth 1 | wc -l)" "0 3" \
  "and stored hashed all the same"

# A bad secret is the operator's mistake: a 500, and the value is never repeated.
cgi "$LIMITER" "${header_env[@]}" ACCESS_KEY_SECRET=not-hex-but-secret HTTP_X_API_KEY="$CREDENTIAL"
is "$(status)" 500 "a malformed ACCESS_KEY_SECRET: 500"
like "$ERR" 'ACCESS_KEY_SECRET: must be 32 hex digits' "the log says what is wrong"
ok "$(! grep -q 'not-hex-but-secret' <<<"$OUT$ERR"; echo $?)" "without repeating the value"
out=$(env "${header_env[@]}" ACCESS_KEY_SECRET="$SECRET" "$LIMITER" --check-config)
like "$out" $'\nACCESS_KEY_SECRET=set \\(fingerprint [0-9a-f]{8}\\)' "--check-config shows a fingerprint of the secret"
ok "$(! grep -q "$SECRET" <<<"$out"; echo $?)" "and never the secret"
out_other=$(env "${header_env[@]}" ACCESS_KEY_SECRET="$OTHER_SECRET" "$LIMITER" --check-config)
ok "$([ "$(grep SECRET <<<"$out")" != "$(grep SECRET <<<"$out_other")" ]; echo $?)" "two secrets have two fingerprints"

# The operator names a key as the client sends it.
operator=(env "${header_env[@]}" ACCESS_KEY_SECRET="$SECRET")
out=$("${operator[@]}" "$LIMITER" --key add "$CREDENTIAL" --blocked); rc=$?
is "$rc $out" "0 access-limiter: $stored blocked" "--key add takes the raw credential and stores its hash"
sleep 1.1  # a node reads a key's policy at most once a second
request "$SECRET"
is "$(status)" 403 "the credential is then refused as blocked"
like "$(body)" "\"detail\":\"key $stored is blocked\"" "the refusal names the hash, not the credential"
out=$("${operator[@]}" "$LIMITER" --status "$CREDENTIAL")
like "$out" "^$stored +- +- +blocked" "--status with the raw credential shows its hash"
ok "$(! "${operator[@]}" "$LIMITER" --status | grep -q sk_live; echo $?)" "--status of every key shows no credential"
is "$("${operator[@]}" "$LIMITER" --key list)" "$stored blocked" "--key list shows the hash"
out=$("${operator[@]}" "$LIMITER" --key remove "$stored"); rc=$?
is "$rc $out" "0 access-limiter: removed $stored" "--key remove takes the hash as --status shows it, too"
err=$("${operator[@]}" "$LIMITER" --key add "$(printf 'x%.0s' $(seq 200))" 2>&1); rc=$?
like "$rc $err" "^2 access-limiter: --key add \\(the value given\\): must be a header's value" "a value no request could carry is refused (exit 2), without repeating it"

# A location that sets its own header key, while the settings keep a
# parameter: --header says KEY is a credential.
param_operator=(env ACCESS_ROOT="$ROOT" ACCESS_KEY_SECRET="$SECRET")
out=$("${param_operator[@]}" "$LIMITER" --key add "$CREDENTIAL" --blocked --header); rc=$?
is "$rc $out" "0 access-limiter: $stored blocked" "--key add --header hashes the credential under a parameter ACCESS_KEY"
is "$(find "$ROOT" -name '*sk_live*' | wc -l)" 0 "and stores nothing in the clear"
"${param_operator[@]}" "$LIMITER" --key remove "$CREDENTIAL" --header >/dev/null
is "$?" 0 "--key remove --header finds it"

# The store is its owner's alone: what requests and --key make.
is "$(find "$ROOT" -mindepth 1 -type d ! -perm 0700 | wc -l)" 0 "every key directory is 0700"
is "$(find "$ROOT" -type f ! -perm 0600 | wc -l)" 0 "every slot file is 0600"

# A guarded application never sees the secret, wherever it was set.
APP="$WORK/app"
mkdir -p "$APP"
printf '#!/bin/sh\nprintf "Content-Type: text/plain\\r\\n\\r\\n"\nenv\n' >"$APP/env.cgi"
chmod 0755 "$APP/env.cgi"
cgi "$LIMITER" GATEWAY_INTERFACE=CGI/1.1 REQUEST_METHOD=GET REDIRECT_HANDLER=access-limited \
  REDIRECT_STATUS=200 REDIRECT_URL=/api/env.cgi SCRIPT_NAME=/cgi-bin/access-limiter \
  PATH_INFO=/api/env.cgi PATH_TRANSLATED="$APP/env.cgi" ACCESS_ROOT="$ROOT" \
  REDIRECT_ACCESS_APP_ROOT="$APP" ACCESS_KEY=header:X-Api-Key HTTP_X_API_KEY=app-key \
  ACCESS_KEY_SECRET="$SECRET" REDIRECT_ACCESS_KEY_SECRET="$OTHER_SECRET" REDIRECT_APP_ENV=production \
  REDIRECT_REDIRECT_ACCESS_KEY_SECRET="$SECRET" REDIRECT_REDIRECT_ACCESS_ROOT="$ROOT"
like "$OUT" 'APP_ENV=production' "the application runs with its location's variables"
is "$(grep -c 'KEY_SECRET' <<<"$OUT")" 0 "but never ACCESS_KEY_SECRET: the handler's, the location's, or an earlier handler run's after a script's local redirect"
is "$(grep -c 'ACCESS_ROOT' <<<"$OUT")" 0 "nor an earlier handler run's own settings"

done_testing
