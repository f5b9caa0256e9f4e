#!/usr/bin/env bash
# The key the application reads is the key that was counted. Each request
# below makes PHP read app_id with a value other than the first one the
# query names. Debian's php-cgi run as its own Action (/bare) shows what
# PHP reads; through the guard (/php) the same request must be refused with
# a 400 (or 413) JSON naming the problem, and PHP must not run.
. "$(dirname "$0")/../lib.sh"

PHP_CGI=$(command -v php-cgi || true)
if [ -z "$PHP_CGI" ]; then
  skip "php-cgi is not installed (apt-get install php-cgi): the key's fidelity through PHP was NOT tested"
  done_testing
  exit $?
fi
private_apache 22000
APP="$WORK/app"
mkdir -p "$APP/php" "$WORK/php-ini" "$ROOT"
RUNS="$APP/runs"
: >"$RUNS"
chmod 0666 "$RUNS"
cat >"$APP/php/key.php" <<PHP
<?php
file_put_contents("$RUNS", "php\n", FILE_APPEND | LOCK_EX);
header("Content-Type: text/plain");
foreach (["GET" => \$_GET, "POST" => \$_POST, "REQUEST" => \$_REQUEST, "COOKIE" => \$_COOKIE] as \$name => \$vars) {
  echo \$name, "=", json_encode(\$vars["app_id"] ?? null), "\n";
}
PHP
# Cookies in \$_REQUEST too (php.ini-production leaves them out): the widest
# view an application could have.
echo 'request_order = "GPC"' >"$WORK/php-ini/request-order.ini"
chmod -R a+rX "$APP" "$WORK/php-ini"
cat >"$WORK/key.conf" <<CONF
Alias /php "$APP/php"
<Directory "$APP/php">
  Require all granted
  SetHandler access-limited
  SetEnv ACCESS_APP_ROOT "$APP/php"
  SetEnv ACCESS_APP_INTERPRETER "$PHP_CGI"
  SetEnv ACCESS_LIMIT 1000
  SetEnv PHP_INI_SCAN_DIR "$WORK/php-ini"
</Directory>
$(php_bare_conf "$APP/php" "SetEnv PHP_INI_SCAN_DIR \"$WORK/php-ini\"")
Alias /perl "$APP/perl"
<Directory "$APP/perl">
  Require all granted
  SetHandler access-limited
  SetEnv ACCESS_APP_ROOT "$APP/perl"
  SetEnv ACCESS_LIMIT 1000
</Directory>
Alias /perlbare "$APP/perl"
<Location /perlbare>
  Options +ExecCGI
  SetHandler cgi-script
</Location>
CONF
"$PROJECT_ROOT/scripts/run" --no-install --port "$PORT" --state-dir "$STATE" \
  --access-root "$ROOT" --include "$WORK/key.conf" >"$WORK/run.log" 2>&1
ok $? "a private Apache serves PHP guarded (/php) and bare (/bare)" || cat "$WORK/run.log"
runs() { grep -c '^php' "$RUNS"; }

# The two probes: app_id counted once, then the same again through PHP.
http GET "$URL/php/key.php?app_id=good&note=x"
is "$(status)" 200 "a plain key: PHP runs"
is "$(body | tr '\n' ' ')" 'GET="good" POST=null REQUEST="good" COOKIE=null ' "PHP reads the counted key"
printf 'a=1&b=%s' "$(head -c 3000 /dev/zero | tr '\0' b)" >"$WORK/form"
http POST "$URL/php/key.php?app_id=good" --data-binary @"$WORK/form"
is "$(status) $(body | sed -n 's/^REQUEST=//p')" '200 "good"' "a form without a key, at most 4096 bytes: PHP runs with the counted key"
http GET "$URL/php/key.php?app_id=good" -H 'Cookie: app_id=good; theme=dark'
is "$(status)" 200 "a cookie with the counted key's own value: PHP runs"

# attack NAME CURL-ARGS... : PHP alone reads "REAL" as app_id (unless
# PHP_READS=no: an application that is not php-cgi could); the guard refuses
# with a 400 JSON whose detail names the problem, and PHP does not run.
attack() {
  local name=$1 before
  shift
  if [ "${PHP_READS:-yes}" = yes ]; then
    http POST "$URL/bare/key.php?$QUERY" "$@"
    like "$(body | tr '\n' ' ')" 'REAL' "$name: PHP alone reads another key"
  fi
  before=$(runs)
  http POST "$URL/php/key.php?$QUERY" "$@"
  is "$(status)" 400 "$name: refused with 400"
  like "$(body)" '"detail":".*app_id' "$name: a JSON detail naming app_id"
  is "$(runs)" "$before" "$name: PHP did not run"
}
form=(-H 'Content-Type: application/x-www-form-urlencoded')
QUERY='app_id=throwaway&app.id=REAL' attack "a dot for the underscore" --data-binary ''
QUERY='app_id=throwaway&app+id=REAL' attack "a space for the underscore" --data-binary ''
QUERY='app_id=throwaway&%20app_id=REAL' attack "a leading space" --data-binary ''
QUERY='app_id=throwaway&app%5Bid=REAL' attack "an unclosed [" --data-binary ''
QUERY='app_id=throwaway&app_id%00x=REAL' attack "a NUL in the name" --data-binary ''
QUERY='app_id=throwaway&app_id%5B%5D=REAL' attack "an array of app_id" --data-binary ''
QUERY='app_id=throwaway&app_id=REAL' attack "the key twice in the query" --data-binary ''
QUERY='app_id=throwaway' attack "the key in the query and in the form body" --data-binary 'app_id=REAL' "${form[@]}"
QUERY='app_id=throwaway' attack "another spelling in the form body" --data-binary 'x=1&app.id=REAL' "${form[@]}"
QUERY='app_id=throwaway' attack "a form type with a comma after it" --data-binary 'app_id=REAL' -H 'Content-Type: application/x-www-form-urlencoded,x'
QUERY='app_id=throwaway' attack "a form type in capitals" --data-binary 'app_id=REAL' -H 'Content-Type: APPLICATION/X-WWW-FORM-URLENCODED'
# php-cgi reads no chunked body (it has no CONTENT_LENGTH); other applications do.
PHP_READS=no QUERY='app_id=throwaway' attack "a chunked form body" --data-binary 'app_id=REAL' "${form[@]}" -H 'Transfer-Encoding: chunked'
QUERY='app_id=throwaway' attack "a multipart form field" -F 'app_id=REAL'
QUERY='app_id=throwaway' attack "a multipart field spelled otherwise" -F 'app.id=REAL'
QUERY='app_id=throwaway' attack "a cookie (\$_REQUEST)" --data-binary '' -H 'Cookie: theme=dark; app_id=REAL'
QUERY='app_id=throwaway' attack "a cookie with a comma in its value" --data-binary '' -H 'Cookie: app_id=throwaway,REAL'
# Part headers as PHP's parser reads them, not only as they are usually written.
multipart() { # multipart HEADER-LINES : a one-field multipart body, in $WORK/multipart
  printf -- '--XX\r\n%b\r\n\r\nREAL\r\n--XX--\r\n' "$1" >"$WORK/multipart"
}
mp=(-H 'Content-Type: multipart/form-data; boundary=XX' --data-binary @"$WORK/multipart")
multipart "Content-Disposition: form-data; name='app_id'"
QUERY='app_id=throwaway' attack "a multipart name in single quotes" "${mp[@]}"
multipart 'Content-Disposition: form-data;\r\n name="app_id"'
QUERY='app_id=throwaway' attack "a folded multipart header" "${mp[@]}"
multipart 'Content-Disposition: form-data; name= app_id'
QUERY='app_id=throwaway' attack "a blank after name=" "${mp[@]}"
multipart 'Content-Disposition: form-data; name="app_id'
QUERY='app_id=throwaway' attack "an unclosed quote" "${mp[@]}"

# Perl's CGI.pm reads names its own way too: %uXXXX escapes, and a PUT's
# body as urlencoded whatever its type. /perl guarded, /perlbare run as is.
if perl -MCGI -e 1 2>/dev/null; then
  mkdir -p "$APP/perl"
  # shellcheck disable=SC2016 # Perl code, not ours to expand
  printf '#!/usr/bin/perl\nuse CGI;\nmy $q = CGI->new;\nopen(my $r, ">>", "%s"); print $r "perl\\n"; close $r;\nprint "Content-Type: text/plain\\r\\n\\r\\nPARAM=", scalar($q->param("app_id")) // "none", "\\n";\n' \
    "$RUNS" >"$APP/perl/key.pl"
  chmod 0755 "$APP/perl/key.pl"
  perl_attack() { # perl_attack NAME CURL-ARGS... : as attack, against CGI.pm
    local name=$1 before
    shift
    http GET "$URL/perlbare/key.pl?$QUERY" "$@"
    like "$(body)" 'PARAM=EVIL' "$name: CGI.pm alone reads another key"
    before=$(grep -c '^perl' "$RUNS")
    http GET "$URL/perl/key.pl?$QUERY" "$@"
    is "$(status)" 400 "$name: refused with 400"
    is "$(grep -c '^perl' "$RUNS")" "$before" "$name: the Perl app did not run"
  }
  QUERY='app%u005Fid=EVIL&app_id=good' perl_attack "a %u escape (CGI.pm)"
  QUERY='app_id=good' perl_attack "a PUT's multipart-typed body (CGI.pm)" -X PUT \
    -H 'Content-Type: multipart/form-data; boundary=zzz' --data-binary 'app_id=EVIL'
  http GET "$URL/perl/key.pl?app_id=good&x=1"
  is "$(status) $(body)" "200 PARAM=good" "a plain key: the Perl app runs with it"
else
  skip "Perl's CGI.pm is not installed (apt-get install libcgi-pm-perl): its readings were NOT tested"
fi

# A form too large to check: the guard reads at most 4096 bytes of it.
printf 'a=1&app_id=REAL&b=%s' "$(head -c 5000 /dev/zero | tr '\0' b)" >"$WORK/form"
before=$(runs)
http POST "$URL/php/key.php?app_id=throwaway" --data-binary @"$WORK/form"
is "$(status)" 413 "a form body over 4096 bytes where the key is a parameter: 413"
like "$(body)" '"detail":"a form body may be at most 4096 bytes' "its JSON detail says why"
is "$(header Content-Type)" "application/json; charset=utf-8" "as JSON"
is "$(runs)" "$before" "PHP did not run"

done_testing
