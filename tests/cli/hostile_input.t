#!/usr/bin/env bash
# Hostile and malformed requests: each gets its 4xx JSON naming the problem,
# never a crash, and writes nothing, inside ACCESS_ROOT or outside it.
. "$(dirname "$0")/../lib.sh"

export ACCESS_ROOT="$WORK/jail/access"
mkdir -p "$ACCESS_ROOT"
FORM=application/x-www-form-urlencoded
LONG_KEY=$(printf 'k%.0s' $(seq 129))
HUGE_QUERY="app_id=k&pad=$(printf 'x%.0s' $(seq 5000))"

# expected status | name | REQUEST_METHOD | CONTENT_TYPE | CONTENT_LENGTH | QUERY_STRING | body
CASES=$(cat <<TABLE
400|dot-dot traversal|GET|||app_id=../../etc/passwd|
400|absolute path|GET|||app_id=/etc|
400|separator inside|GET|||app_id=a/b|
400|backslash|GET|||app_id=a%5Cb|
400|percent-encoded traversal|GET|||app_id=%2e%2e%2f%2e%2e%2fescape|
400|percent-encoded slash|GET|||app_id=a%2Fb|
400|double-encoded traversal|GET|||app_id=%252e%252e%252fescape|
400|overlong UTF-8 dot|GET|||app_id=%c0%ae%c0%ae|
400|NUL in the key|GET|||app_id=a%00b|
400|NUL only|GET|||app_id=%00|
400|newline in the key|GET|||app_id=a%0Ab|
400|dot only|GET|||app_id=.|
400|dot-dot only|GET|||app_id=..|
400|hidden name|GET|||app_id=.probe|
400|non-ASCII key|GET|||app_id=%C3%A9|
400|space via plus|GET|||app_id=a+b|
400|over-long key|GET|||app_id=$LONG_KEY|
400|repeated app_id|GET|||app_id=a&app_id=b|
400|repeated app_id, one empty|GET|||app_id=&app_id=b|
400|repeated across query and body|POST|$FORM|8|app_id=a|app_id=b
414|huge QUERY_STRING|GET|||$HUGE_QUERY|
413|huge CONTENT_LENGTH|POST|$FORM|99999999999||
413|CONTENT_LENGTH past the limit|POST|$FORM|4097||app_id=k
400|negative CONTENT_LENGTH|POST|$FORM|-1||
400|non-numeric CONTENT_LENGTH|POST|$FORM|12abc||
400|CONTENT_LENGTH longer than the body|POST|$FORM|100||app_id=short
415|JSON body|POST|application/json|14||{"app_id":"k"}
415|multipart body|POST|multipart/form-data; boundary=x|8||app_id=k
415|XML body|POST|text/xml|8||app_id=k
415|body without a type|POST||8||app_id=k
405|PUT|PUT|||app_id=k|
405|DELETE|DELETE|||app_id=k|
405|OPTIONS|OPTIONS|||app_id=k|
405|made-up method|BREW|||app_id=k|
405|lower-case get|get|||app_id=k|
401|no key|GET|||other=1|
401|key name in another case|GET|||APP_ID=k|
400|a semicolon inside the key (not a separator)|GET|||app_id=semi;colon|
401|the key after a semicolon|GET|||x=1;app_id=k|
TABLE
)

phrase() {
  case $1 in
    400) echo "Bad Request" ;; 401) echo "Unauthorized" ;; 405) echo "Method Not Allowed" ;;
    413) echo "Content Too Large" ;; 414) echo "URI Too Long" ;; 415) echo "Unsupported Media Type" ;;
  esac
}

while IFS='|' read -r expected name method type length query body_text; do
  BODY=$body_text
  cgi "$LIMITER" REQUEST_METHOD="$method" CONTENT_TYPE="$type" CONTENT_LENGTH="$length" QUERY_STRING="$query"
  BODY=''
  is "$(status) rc=$RC" "$expected rc=0" "$name: answers $expected without crashing"
  like "$(body)" "^\\{\"message\":\"$(phrase "$expected")\"" "$name: JSON names the status"
  like "$(body)" '"detail":"[^"]+' "$name: the detail names the problem"
  if [ "$expected" = 405 ]; then
    is "$(header Allow)" "GET, HEAD, POST" "$name: Allow lists the methods"
  fi
  is "$ERR" "" "$name: a client error is not logged as ours"
done <<<"$CASES"

ok "$([ -z "$(find "$WORK/jail" -mindepth 1 ! -path "$ACCESS_ROOT" -print -quit)" ]; echo $?)" \
  "no request above wrote anything, inside ACCESS_ROOT or next to it"

# A POST body far larger than announced is not read past its Content-Length.
BODY="app_id=fine&$(head -c 1000000 /dev/zero | tr '\0' 'x')"
cgi "$LIMITER" REQUEST_METHOD=POST CONTENT_TYPE=$FORM CONTENT_LENGTH=11
BODY=''
is "$(status)" 200 "a body longer than Content-Length is cut at Content-Length"

done_testing
