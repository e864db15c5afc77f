#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# vmmemtop export --web.config.file (the exporter-toolkit format), synthetic VMs:
#  1. TLS + basic auth: 200 with the right password, 401 with a wrong one, an unknown user or
#     none; an unknown user takes as long as a known one (bcrypt against a dummy hash);
#     plain HTTP to the TLS port fails; a TLS 1.1-only client is refused.
#  2. RequireAndVerifyClientCert: no client certificate, no answer; one signed by
#     client_ca_file, 200.
#  3. Bad files: each gives exactly one line on stderr and exit 2, before any kernel work.
# Certificates from openssl, bcrypt hashes from python3's crypt. Costs ~15 s.
set -u
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
need_bins curl openssl "$PY"
need_built "$VMMEMTOP"
. "$TOPDIR/tests/host/prometheus.sh"
make_tmp; tmp=$TMP
pids=()		# every background job is stopped at exit (lib.sh)
FAIL_LOGS="$tmp/*.log" FAIL_LOG_LINES=5
cd "$tmp"

# a CA, a server certificate for 127.0.0.1 and a client certificate, both signed by the CA
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 -subj /CN=vmmem-test-ca 2>/dev/null
for n in server client; do
	openssl req -newkey rsa:2048 -nodes -keyout $n.key -out $n.csr -subj /CN=$n 2>/dev/null
	printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' > $n.ext
	openssl x509 -req -in $n.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -extfile $n.ext -out $n.crt 2>/dev/null
done
openssl req -x509 -newkey rsa:2048 -nodes -keyout other.key -out other.crt -days 2 -subj /CN=other 2>/dev/null
[ -s server.crt ] && [ -s client.crt ] || fail "openssl could not make the test certificates"
hash=$("$PY" -W ignore -c "import crypt; print(crypt.crypt('s3cret', crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=1 << 10)))")
[[ "$hash" == '$2b$10$'* ]] || fail "python3 crypt made no bcrypt hash: $hash"

cat > web.yml <<EOF2
tls_server_config:
  cert_file: server.crt    # relative: taken from this file's directory
  key_file: server.key
basic_auth_users:
  alice: '$hash'
EOF2
start() {	# CONFIG -> $PORT, $exp
	PORT=$(free_port)
	"$VMMEMTOP" export --listen 127.0.0.1:$PORT --backend synthetic:5 --web.config.file "$1" >"$tmp/exporter.log" 2>&1 &
	exp=$!
	pids+=($exp)
	wait_for 15 grep -q serving "$tmp/exporter.log" || fail "exporter with $1 did not start"
}
code() { curl -s -o "$tmp/body" -w '%{http_code}' --cacert ca.crt "$@"; }
start "$tmp/web.yml"
URL=https://127.0.0.1:$PORT/metrics
wait_for 10 bash -c "curl -s --cacert ca.crt -u alice:s3cret $URL | grep -qx 'vmmem_up 1'" || fail "no vmmem_up 1 over TLS"
c=$(code -u alice:s3cret "$URL"); [ "$c" = 200 ] || fail "right password: $c"
grep -qx 'vmmem_up 1' body || fail "TLS body has no vmmem_up 1"
c=$(code -u alice:wrong "$URL"); [ "$c" = 401 ] || fail "wrong password: $c, want 401"
c=$(code -u mallory:s3cret "$URL"); [ "$c" = 401 ] || fail "unknown user: $c, want 401"
c=$(code "$URL"); [ "$c" = 401 ] || fail "no credentials: $c, want 401"
curl -s -o /dev/null -D hdr --cacert ca.crt "$URL"
grep -qi '^WWW-Authenticate: Basic realm="vmmemtop"' hdr || fail "401 without a WWW-Authenticate challenge"
echo "TLS + basic auth: right password 200, wrong password 401, unknown user 401, none 401"
# timing: the mean of 6 requests each (bcrypt cost 10)
mean() { for _ in 1 2 3 4 5 6; do curl -s -o /dev/null -w '%{time_total}\n' --cacert ca.crt -u "$1" "$URL"; done |
	awk '{ s += $1 } END { printf "%.1f", s / NR * 1000 }'; }
known=$(mean alice:wrong) unknown=$(mean mallory:wrong)
echo "401 time: known user with a wrong password ${known} ms, unknown user ${unknown} ms (mean of 6)"
awk -v k="$known" -v u="$unknown" 'BEGIN { exit !(u >= k / 2 && u <= k * 2 && k > 5) }' ||
	fail "an unknown user's 401 takes ${unknown} ms, a known one's ${known} ms: not the same bcrypt work"
out=$(curl -s -m 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/metrics"); rc=$?
[ "$rc" -ne 0 ] || [ "$out" != 200 ] || fail "plain HTTP to the TLS port got $out"
echo "plain HTTP to the TLS port: curl exit $rc, status ${out:-none}"
curl -s -m 5 -o /dev/null --cacert ca.crt --tls-max 1.1 -u alice:s3cret "$URL"; rc=$?
[ "$rc" -ne 0 ] || fail "a TLS 1.1-only client was served"
echo "TLS 1.1-only client: refused (curl exit $rc)"
kill $exp; wait $exp 2>/dev/null

# ---------- 2. client certificates ----------
cat > mtls.yml <<EOF2
tls_server_config:
  cert_file: $tmp/server.crt
  key_file: $tmp/server.key
  client_auth_type: RequireAndVerifyClientCert
  client_ca_file: $tmp/ca.crt
  min_version: TLS12
EOF2
start "$tmp/mtls.yml"
URL=https://127.0.0.1:$PORT/metrics
c=$(code -m 5 "$URL"); [ "$c" != 200 ] || fail "no client certificate, yet 200"
echo "RequireAndVerifyClientCert: without a client certificate: ${c}"
c=$(code -m 5 --cert other.crt --key other.key "$URL"); [ "$c" != 200 ] || fail "a certificate not from client_ca_file, yet 200"
c=$(code -m 5 --cert client.crt --key client.key "$URL"); [ "$c" = 200 ] || fail "a client certificate from client_ca_file: $c"
echo "RequireAndVerifyClientCert: self-signed client certificate refused, one signed by client_ca_file 200"
kill $exp; wait $exp 2>/dev/null

# ---------- 3. bad files: one line, exit 2 ----------
bad() {	# NAME CONTENT EXPECTED-SUBSTRING
	printf '%b' "$2" > "bad-$1.yml"
	"$VMMEMTOP" export --listen 127.0.0.1:1 --web.config.file "$tmp/bad-$1.yml" >/dev/null 2>"$tmp/bad.err"
	local rc=$? lines
	lines=$(wc -l < "$tmp/bad.err")
	[ $rc = 2 ] && [ "$lines" = 1 ] && grep -q -- "$3" "$tmp/bad.err" ||
		fail "bad config $1: exit $rc, $lines lines: $(cat "$tmp/bad.err") (want exit 2, one line with '$3')"
	echo "bad config $1: $(cat "$tmp/bad.err")"
}
bad yaml 'tls_server_config: [unclosed\n' 'not YAML'
bad unknown-key 'rate_limit:\n  burst: 2\n' 'rate_limit: not supported'
bad tls10 "tls_server_config:\n  cert_file: $tmp/server.crt\n  key_file: $tmp/server.key\n  min_version: TLS10\n" 'TLS10 is refused'
bad no-key "tls_server_config:\n  cert_file: $tmp/server.crt\n" 'cert_file without key_file'
bad missing-file "tls_server_config:\n  cert_file: $tmp/nope.crt\n  key_file: $tmp/server.key\n" 'No such file'
bad key-mismatch "tls_server_config:\n  cert_file: $tmp/server.crt\n  key_file: $tmp/other.key\n" 'key_file'
bad not-bcrypt 'basic_auth_users:\n  alice: secret\n' 'not a bcrypt hash'
bad auth-type "tls_server_config:\n  cert_file: $tmp/server.crt\n  key_file: $tmp/server.key\n  client_auth_type: RequireAnyClientCert\n" 'not supported'
"$VMMEMTOP" export --listen 127.0.0.1:1 --web.config.file "$tmp/none.yml" >/dev/null 2>"$tmp/bad.err"
rc=$?; [ $rc = 2 ] && [ "$(wc -l < "$tmp/bad.err")" = 1 ] || fail "a missing config file: exit $rc: $(cat "$tmp/bad.err")"
echo "missing file: $(cat "$tmp/bad.err")"
echo "PASS"
