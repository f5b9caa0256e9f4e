#!/usr/bin/env bash
# The request body, as Apache hands it over on stdin: read to the end of what
# CONTENT_LENGTH announces (or to the end of input for a chunked body, which
# comes without CONTENT_LENGTH), drained before answering so that the web
# server never sees it half read, and never read past the 1 MiB drain cap.
# What the program read is measured as the offset it left in a shared file.
. "$(dirname "$0")/../lib.sh"

export ACCESS_ROOT="$WORK/access"
mkdir -p "$ACCESS_ROOT"
FORM=application/x-www-form-urlencoded
MIB=1048576

# consumed BODY-FILE [VAR=value ...] : runs the limiter with the file as
# stdin; sets OUT as cgi does, and LEFT to how many bytes of the
# file the limiter left unread.
consumed() {
  local file=$1
  shift
  {
    env "$@" "$LIMITER" >"$WORK/out" 2>"$WORK/err"
    wc -c | tr -d ' ' >"$WORK/left"
  } <"$file"
  OUT=$(tr -d '\r' <"$WORK/out")
  LEFT=$(cat "$WORK/left")
}

head -c 3000 /dev/zero | tr '\0' x >"$WORK/json"
consumed "$WORK/json" REQUEST_METHOD=POST CONTENT_TYPE=application/json CONTENT_LENGTH=3000 QUERY_STRING=app_id=k
is "$(status) $LEFT" "415 0" "a refused body is drained to its Content-Length before the answer"

head -c $((MIB + 5000)) /dev/zero | tr '\0' x >"$WORK/huge"
consumed "$WORK/huge" REQUEST_METHOD=POST CONTENT_TYPE=$FORM CONTENT_LENGTH=$((MIB + 5000)) QUERY_STRING=app_id=k
is "$(status) $LEFT" "413 5000" "a body over the cap: 413, and exactly 1 MiB drained, not more"

printf 'app_id=fine' >"$WORK/form"
cat "$WORK/json" >>"$WORK/form"
consumed "$WORK/form" REQUEST_METHOD=POST CONTENT_TYPE=$FORM CONTENT_LENGTH=11
is "$(status) $LEFT" "200 3000" "nothing past Content-Length is read"

consumed "$WORK/json" REQUEST_METHOD=PUT CONTENT_LENGTH=3000 QUERY_STRING=app_id=k
is "$(status) $LEFT" "405 0" "a refused method's body is drained too"

consumed "$WORK/json" REQUEST_METHOD=GET CONTENT_LENGTH=3000 QUERY_STRING=app_id=getbody
is "$(status) $LEFT" "200 0" "a GET with a body: answered, and the body drained"

# Chunked: no CONTENT_LENGTH, HTTP_TRANSFER_ENCODING set; read to the end.
printf 'app_id=chunked&note=hello' >"$WORK/chunked"
consumed "$WORK/chunked" REQUEST_METHOD=POST CONTENT_TYPE=$FORM HTTP_TRANSFER_ENCODING=chunked
is "$(status) $LEFT" "200 0" "a chunked form body is read to its end"
ok "$([ -d "$ACCESS_ROOT/chunked" ]; echo $?)" "the key in a chunked body is counted"
consumed "$WORK/json" REQUEST_METHOD=POST CONTENT_TYPE=application/json HTTP_TRANSFER_ENCODING=chunked QUERY_STRING=app_id=k
is "$(status) $LEFT" "415 0" "a refused chunked body is drained to its end"
{ printf 'app_id=chunkedbig&pad='; head -c 5000 /dev/zero | tr '\0' x; } >"$WORK/chunked-big"
consumed "$WORK/chunked-big" REQUEST_METHOD=POST CONTENT_TYPE=$FORM HTTP_TRANSFER_ENCODING=chunked
is "$(status) $LEFT" "413 0" "a chunked body over 4096 bytes: 413, drained"
like "$(body)" '"detail":"the request body may be at most 4096 bytes"' "the 413 names the limit"
ok "$([ ! -e "$ACCESS_ROOT/chunkedbig" ]; echo $?)" "an oversized chunked body counts nothing"
consumed "$WORK/huge" REQUEST_METHOD=POST CONTENT_TYPE=$FORM HTTP_TRANSFER_ENCODING=chunked
is "$(status) $LEFT" "413 5000" "a chunked body past the cap: 1 MiB drained, not more"

: >"$WORK/empty"
consumed "$WORK/empty" REQUEST_METHOD=POST HTTP_TRANSFER_ENCODING=chunked QUERY_STRING=app_id=emptychunked
is "$(status)" 200 "an empty chunked body without a Content-Type is no body: 200, not 415"

# From a shell (no CONTENT_LENGTH, no Transfer-Encoding) stdin is not a body:
# a terminal or a pipe left open never makes the program wait.
mkfifo "$WORK/open-pipe"
exec {writer}<>"$WORK/open-pipe"  # a pipe whose writer never closes it
timeout 3 env QUERY_STRING=app_id=shell "$LIMITER" <"$WORK/open-pipe" >"$WORK/out"
is "$?" 0 "a GET from a shell does not wait on stdin"
exec {writer}>&-

done_testing
