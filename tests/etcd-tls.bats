#!/usr/bin/env bats
# etcd-tls.bats - etcd over TLS and with users, configured the etcdctl
# way (etcds://, ETCDCTL_ENDPOINTS, ETCDCTL_CACERT, ETCDCTL_CERT,
# ETCDCTL_KEY, ETCDCTL_USER, ETCDCTL_PASSWORD), and proxies, against:
#   tls   real etcd 3.4 with TLS and --client-cert-auth (a CA, a server
#         certificate for 127.0.0.1 and a client certificate made with
#         openssl here);
#   auth  real etcd 3.4 with auth enabled: root, user arc (readwrite on
#         /arc/), user other (readwrite on /elsewhere/ only), tokens that
#         expire after 2 s unused;
# s3rver and tests/arcapi.py for the proxy tests, through tests/proxy.py.
# Each test's keys are under /arc/tN/.  Every server stops by its PID.
load test_helper
load servers
bats_require_minimum_version 1.5.0

D=db/m/2026/04/11/12	# a managed directory: its files have 7 segments

setup_file() {
	TLS=$BATS_FILE_TMPDIR/tls
	export TLS
	make_tls "$TLS"
	etcd_launch_with tls https --cert-file "$TLS/server.crt" \
	    --key-file "$TLS/server.key" --trusted-ca-file "$TLS/ca.crt" \
	    --client-cert-auth
	etcd_launch_with auth http --auth-token simple --auth-token-ttl 2
	start_arcapi
	start_s3rver
	start_proxy px
	etcd_wait_url "https://127.0.0.1:$ETCD_tls_PORT" --cacert "$TLS/ca.crt" \
	    --cert "$TLS/client.crt" --key "$TLS/client.key"
	etcd_wait_url "http://127.0.0.1:$ETCD_auth_PORT"
	local c="etcdctl --endpoints 127.0.0.1:$ETCD_auth_PORT --dial-timeout 3s"
	{
		$c user add root:rootpw && $c user grant-role root root &&
		$c user add arc:arcpw && $c role add arcrole &&
		$c role grant-permission --prefix arcrole readwrite /arc/ &&
		$c user grant-role arc arcrole &&
		$c user add other:otherpw && $c role add otherrole &&
		$c role grant-permission --prefix otherrole readwrite /elsewhere/ &&
		$c user grant-role other otherrole && $c auth enable
	} >"$BATS_FILE_TMPDIR/auth-setup.log" 2>&1 ||
	    { cat "$BATS_FILE_TMPDIR/auth-setup.log" >&2; return 1; }
}

teardown_file() {
	stop_named px
	stop_arcapi
	stop_s3rver
	stop_etcd_member tls
	stop_etcd_member auth
}

setup() {
	export ARC_HTTP_ATTEMPTS=2 ARC_HTTP_TIMEOUT=5 ARC_HTTP_BACKOFF_MS=50
	export ETCDCTL_API=3
	export TMPDIR=$BATS_TEST_TMPDIR/tmp
	mkdir -p "$TMPDIR" store
	PFX=/arc/t$BATS_TEST_NUMBER
	TE=127.0.0.1:$ETCD_tls_PORT
	AE=127.0.0.1:$ETCD_auth_PORT
	PXPORT=$(cat "$BATS_FILE_TMPDIR/px.port")
	PXLOG=$BATS_FILE_TMPDIR/px.requests
	: >"$PXLOG"
}

# tls_env / auth_env: the settings that work for each server.
tls_env() {
	export ETCDCTL_CACERT=$TLS/ca.crt ETCDCTL_CERT=$TLS/client.crt \
	    ETCDCTL_KEY=$TLS/client.key
}
auth_env() {
	export ETCDCTL_USER=arc:arcpw
}

# tctl / actl ARG...: etcdctl as an administrator of each server (the
# ETCDCTL_* of a test are for the tools, not for it).
ECTL="env -u ETCDCTL_CACERT -u ETCDCTL_CERT -u ETCDCTL_KEY -u ETCDCTL_USER
    -u ETCDCTL_PASSWORD -u ETCDCTL_ENDPOINTS etcdctl"
tctl() {
	$ECTL --endpoints "https://$TE" --cacert "$TLS/ca.crt" \
	    --cert "$TLS/client.crt" --key "$TLS/client.key" \
	    --dial-timeout 3s --command-timeout 10s "$@"
}
actl() {
	$ECTL --endpoints "$AE" --user root:rootpw --dial-timeout 3s \
	    --command-timeout 10s "$@"
}

# fentry PATH: an NDJSON FileEntry.
fentry() {
	printf '{"path":"%s","created_at":"2026-04-11T14:00:00Z","size_bytes":10,"database":"db","measurement":"m","origin_node_id":"node-1","lsn":1}\n' "$1"
}

# expect N: fail unless the last `run` exited N, showing its stderr.
expect() {
	if [ "$status" -ne "$1" ]; then
		printf 'exit %s, expected %s; stderr:\n%s\n' "$status" "$1" "$stderr"
		return 1
	fi
}

# one_line: the last `run`'s stderr is exactly one line.
one_line() {
	[ -n "$stderr" ] && [ "$(printf '%s\n' "$stderr" | wc -l)" -eq 1 ] ||
	    { printf 'not one line:\n%s\n' "$stderr"; return 1; }
}

# plant URL: with the working settings in the environment, the entries
# kept and lost under URL, files kept and orphan in ./store, and the
# candidate files of a run: cand (orphan-storage: kept, orphan) and mcand
# (orphan-manifest: lost, with its revision from a dump).
plant() {
	old_files store "$D/kept.parquet" "$D/orphan.parquet"
	{ fentry "$D/kept.parquet"; fentry "$D/lost.parquet"; } >m.ndjson
	arc-manifest-load m.ndjson "$1" 2>/dev/null
	printf 'orphan-storage\t%s\t2026-04-09T00:00:00Z\t10\n' \
	    "$D/kept.parquet" "$D/orphan.parquet" >cand
	arc-manifest-dump "$1" | grep lost.parquet |
	    sed 's/^/orphan-manifest\t/' >mcand
	[ -s mcand ]
}

# all_work URL LOCK: with the settings in the environment, every tool
# does its work on the manifest at URL (planted) and arc-lock takes LOCK.
all_work() {
	run --separate-stderr arc-manifest-dump "$1"
	expect 0
	assert_output "$(printf '%s\t2026-04-11T14:00:00Z\t10\tnode-1\t%s\n' \
	    "$D/kept.parquet" "$(awk -F'\t' '{ print $6 }' mcand | sed q)" \
	    | sed q)"$'\n'"$(cut -f2- mcand)"
	run --separate-stderr arc-recheck store "$1" <cand
	expect 1		# kept is in the manifest: rejected
	assert_output "$(printf 'orphan-storage\t%s\t2026-04-09T00:00:00Z\t10' "$D/orphan.parquet")"
	run --separate-stderr arc-delete --act -A arch.tgz store "$1" <mcand
	expect 0
	assert_output "$(printf 'deleted\torphan-manifest\t%s\tDELETED' "$D/lost.parquet")"
	run --separate-stderr arc-manifest-dump "$1"
	assert_output --partial kept.parquet
	refute_output --partial lost.parquet
	fentry "$D/new.parquet" >new.ndjson
	run --separate-stderr arc-manifest-load new.ndjson "$1"
	expect 0
	run --separate-stderr arc-lock "$2" sh -c 'echo ran under the lock'
	expect 0
	assert_output "ran under the lock"
}

# all_refused URL LOCK WANT: with the settings in the environment, every
# tool exits 2 with a message holding WANT, writes no record, deletes
# nothing; arc-lock never runs its command.  Checked afterwards with the
# working settings (the caller's check_intact).
all_refused() {
	run --separate-stderr arc-manifest-dump "$1"
	expect 2
	assert_output ""
	one_line
	assert_stderr --partial "$3"
	run --separate-stderr arc-recheck store "$1" <cand
	expect 2
	assert_output ""
	one_line
	assert_stderr --partial "$3"
	run --separate-stderr arc-delete --act -A arch.tgz store "$1" <mcand
	expect 2
	refute_output --partial deleted
	assert_stderr --partial "$3"
	[ ! -e arch.tgz ]
	fentry "$D/new.parquet" >new.ndjson
	run --separate-stderr arc-manifest-load new.ndjson "$1"
	expect 2
	assert_stderr --partial "$3"
	run --separate-stderr arc-lock "$2" sh -c 'echo ran under the lock'
	expect 2
	assert_output ""
	one_line
	assert_stderr --partial "$3"
}

# intact URL: (working settings) the entries kept and lost are both
# still there, and new was not put.
intact() {
	run --separate-stderr arc-manifest-dump "$1"
	expect 0
	assert_output --partial kept.parquet
	assert_output --partial lost.parquet
	refute_output --partial new.parquet
}

# ---- TLS ---------------------------------------------------------------

@test "etcds:// with ETCDCTL_CACERT and a client certificate: load, dump, re-check, delete and lock all work" {
	tls_env
	plant "etcds://$TE$PFX/files/"
	all_work "etcds://$TE$PFX/files/" "etcds://$TE$PFX/lock"
}

@test "etcd:/// and etcds:/// take the endpoints from ETCDCTL_ENDPOINTS, where an https:// endpoint means TLS" {
	tls_env
	plant "etcds://$TE$PFX/files/"
	export ETCDCTL_ENDPOINTS=https://$TE
	run --separate-stderr arc-manifest-dump "etcd:///arc/t$BATS_TEST_NUMBER/files/"
	expect 0
	assert_output --partial lost.parquet
	ETCDCTL_ENDPOINTS=$TE
	run --separate-stderr arc-manifest-dump "etcds:///arc/t$BATS_TEST_NUMBER/files/"
	expect 0
	assert_output --partial lost.parquet
	# the other way round: plain HTTP to a TLS server gets no answer
	run --separate-stderr arc-manifest-dump "etcd:///arc/t$BATS_TEST_NUMBER/files/"
	expect 2
	# and etcds:// never drops to an http:// endpoint
	ETCDCTL_ENDPOINTS=http://$TE
	run --separate-stderr arc-manifest-dump "etcds:///arc/t$BATS_TEST_NUMBER/files/"
	expect 2
	assert_stderr --partial "TLS is never dropped"
	unset ETCDCTL_ENDPOINTS
	run --separate-stderr arc-manifest-dump "etcds:///arc/t$BATS_TEST_NUMBER/files/"
	expect 2
	assert_stderr --partial "ETCDCTL_ENDPOINTS is not set"
}

@test "with a CA that did not sign the server's certificate every tool exits 2 with one line naming the host and ETCDCTL_CACERT, and nothing is deleted" {
	tls_env
	plant "etcds://$TE$PFX/files/"
	ETCDCTL_CACERT=$TLS/wrong.crt all_refused "etcds://$TE$PFX/files/" \
	    "etcds://$TE$PFX/lock" "TLS with $TE failed (CA ETCDCTL_CACERT=$TLS/wrong.crt)"
	intact "etcds://$TE$PFX/files/"
	run tctl get --prefix "$PFX/lock" --keys-only
	assert_output ""
}

@test "without a client certificate every tool exits 2 saying the server wants one, and nothing is deleted" {
	tls_env
	plant "etcds://$TE$PFX/files/"
	(
		unset ETCDCTL_CERT ETCDCTL_KEY
		all_refused "etcds://$TE$PFX/files/" "etcds://$TE$PFX/lock" \
		    "TLS with $TE refused: the server wants a client certificate"
	)
	intact "etcds://$TE$PFX/files/"
}

@test "ETCDCTL_CERT without ETCDCTL_KEY is refused before any request" {
	tls_env
	plant "etcds://$TE$PFX/files/"
	run --separate-stderr env -u ETCDCTL_KEY arc-manifest-dump "etcds://$TE$PFX/files/"
	expect 2
	assert_stderr --partial "needs both ETCDCTL_CERT and ETCDCTL_KEY"
}

@test "ETCDCTL_CACERT is etcd's CA alone: SSL_CERT_FILE does not rescue a wrong one, and without it SSL_CERT_FILE verifies etcds://" {
	tls_env
	plant "etcds://$TE$PFX/files/"
	run --separate-stderr env SSL_CERT_FILE="$TLS/ca.crt" \
	    ETCDCTL_CACERT="$TLS/wrong.crt" arc-manifest-dump "etcds://$TE$PFX/files/"
	expect 2
	assert_stderr --partial "CA ETCDCTL_CACERT=$TLS/wrong.crt"
	run --separate-stderr env -u ETCDCTL_CACERT SSL_CERT_FILE="$TLS/ca.crt" \
	    arc-manifest-dump "etcds://$TE$PFX/files/"
	expect 0
	assert_output --partial lost.parquet
	run --separate-stderr env -u ETCDCTL_CACERT SSL_CERT_FILE="$TLS/wrong.crt" \
	    arc-manifest-dump "etcds://$TE$PFX/files/"
	expect 2
	assert_stderr --partial "SSL_CERT_FILE=$TLS/wrong.crt"
}

@test "a TLS refusal is never retried: one CONNECT through HTTPS_PROXY however many attempts are allowed" {
	tls_env
	plant "etcds://$TE$PFX/files/"
	export ARC_HTTP_ATTEMPTS=5 HTTPS_PROXY=http://127.0.0.1:$PXPORT
	# the control: the right CA through the proxy works, tunnelled
	run --separate-stderr arc-manifest-dump "etcds://$TE$PFX/files/"
	expect 0
	assert_output --partial lost.parquet
	[ "$(grep -c "^CONNECT $TE" "$PXLOG")" -ge 1 ]
	: >"$PXLOG"
	run --separate-stderr env ETCDCTL_CACERT="$TLS/wrong.crt" \
	    arc-manifest-dump "etcds://$TE$PFX/files/"
	expect 2
	[ "$(grep -c "^CONNECT $TE" "$PXLOG")" -eq 1 ]
}

@test "arc-reconcile --lock etcds:// runs under the lock, and with a wrong CA exits 2 and writes no run record" {
	tls_env
	plant "etcds://$TE$PFX/files/"
	run --separate-stderr arc-reconcile --state-dir s1 --lock "etcds://$TE$PFX/lock" \
	    store "etcds://$TE$PFX/files/"
	[ "$status" -le 1 ] || expect 1
	[ "$(find s1/runs -name '*.json' | wc -l)" -eq 1 ]
	run --separate-stderr env ETCDCTL_CACERT="$TLS/wrong.crt" arc-reconcile \
	    --state-dir s2 --lock "etcds://$TE$PFX/lock" store "etcds://$TE$PFX/files/"
	expect 2
	assert_stderr --partial "CA ETCDCTL_CACERT=$TLS/wrong.crt"
	[ "$(find s2 -name '*.json' 2>/dev/null | wc -l)" -eq 0 ]
}

@test "arc-list against an https endpoint whose certificate does not verify exits 2 with no records, never 1 with a partial listing" {
	export AWS_ENDPOINT_URL=https://$TE AWS_CA_BUNDLE=$TLS/wrong.crt
	run --separate-stderr arc-list -p "$D" s3://bucket
	expect 2
	assert_output ""
	assert_stderr --partial "TLS with $TE failed (CA AWS_CA_BUNDLE=$TLS/wrong.crt)"
	# the control: with the right CA the certificate verifies, and the
	# handshake gets as far as etcd's question for a client certificate
	AWS_CA_BUNDLE=$TLS/ca.crt
	run --separate-stderr arc-list -p "$D" s3://bucket
	expect 2
	refute_stderr --partial "failed (CA"
	assert_stderr --partial "the server wants a client certificate"
}

# ---- users -------------------------------------------------------------

@test "with ETCDCTL_USER limited to the prefix by its role: load, dump, re-check, delete and lock all work" {
	auth_env
	plant "etcd://$AE$PFX/files/"
	all_work "etcd://$AE$PFX/files/" "etcd://$AE$PFX/lock"
	# the user and password apart work as user:password does
	run --separate-stderr env ETCDCTL_USER=arc ETCDCTL_PASSWORD=arcpw \
	    arc-manifest-dump "etcd://$AE$PFX/files/"
	expect 0
	assert_output --partial kept.parquet
}

@test "a wrong password: every tool exits 2 with one line that never shows the password, and nothing is deleted" {
	auth_env
	plant "etcd://$AE$PFX/files/"
	ETCDCTL_USER=arc:hunter2-wrong all_refused "etcd://$AE$PFX/files/" \
	    "etcd://$AE$PFX/lock" "etcd authentication as 'arc' failed"
	refute_stderr --partial hunter2
	intact "etcd://$AE$PFX/files/"
}

@test "a user whose role lacks the prefix: every tool exits 2 with 'permission denied', and nothing is deleted" {
	auth_env
	plant "etcd://$AE$PFX/files/"
	ETCDCTL_USER=other:otherpw all_refused "etcd://$AE$PFX/files/" \
	    "etcd://$AE$PFX/lock" "permission denied (as etcd user 'other')"
	intact "etcd://$AE$PFX/files/"
	run actl get --prefix "$PFX/lock" --keys-only
	assert_output ""
}

@test "no user against etcd with auth: exit 2 saying to set ETCDCTL_USER" {
	auth_env
	plant "etcd://$AE$PFX/files/"
	run --separate-stderr env -u ETCDCTL_USER arc-manifest-dump "etcd://$AE$PFX/files/"
	expect 2
	one_line
	assert_stderr --partial "set ETCDCTL_USER"
}

@test "arc-lock keeps its lease when the auth token expires between two keepalives: it fetches a new one" {
	auth_env
	# tokens expire after 2 s unused; keepalives are 4 s apart (ttl 12)
	run --separate-stderr arc-lock -t 12 -f lost "etcd://$AE$PFX/lock" \
	    sh -c 'sleep 9; echo done'
	expect 0
	assert_output done
	refute_stderr --partial lost
	[ ! -e lost ]
	# the control: the token does expire (a call with an old one fails)
	tok=$(curl -s -X POST -d '{"name":"arc","password":"arcpw"}' \
	    "http://$AE/v3/auth/authenticate" | jq -r .token)
	sleep 4
	run curl -s -X POST -H "Authorization: $tok" -d '{"key":"L2FyYy8="}' \
	    "http://$AE/v3/kv/range"
	assert_output --partial "invalid auth token"
}

@test "a user name or password in an etcd URL is a usage error that never repeats the password" {
	local u
	for u in "etcd://arc:s3cr3tpw@$AE$PFX/files/" "etcds://arc:s3cr3tpw@$TE$PFX/files/" \
	    "etcd://arc@$AE$PFX/files/"; do
		run --separate-stderr arc-manifest-dump "$u"
		expect 2
		one_line
		assert_stderr --partial "URL with a user name or password: refused"
		refute_stderr --partial s3cr3tpw
		run --separate-stderr arc-recheck store "$u" </dev/null
		expect 2
		refute_stderr --partial s3cr3tpw
		run --separate-stderr arc-delete store "$u" </dev/null
		expect 2
		refute_stderr --partial s3cr3tpw
		run --separate-stderr arc-manifest-load /dev/null "$u"
		expect 2
		refute_stderr --partial s3cr3tpw
		run --separate-stderr arc-lock "$u" true
		expect 2
		refute_stderr --partial s3cr3tpw
	done
	run --separate-stderr arc-reconcile --state-dir s --lock \
	    "etcd://arc:s3cr3tpw@$AE$PFX/lock" store "etcd://$AE$PFX/files/"
	expect 2
	refute_stderr --partial s3cr3tpw
	run --separate-stderr env ETCDCTL_ENDPOINTS="http://arc:s3cr3tpw@$AE" \
	    arc-manifest-dump "etcd:///arc/files/"
	expect 2
	refute_stderr --partial s3cr3tpw
	# the control: the same URL without the user works
	run --separate-stderr env ETCDCTL_USER=arc:arcpw arc-manifest-dump "etcd://$AE$PFX/files/"
	expect 0
}

# ---- proxies -----------------------------------------------------------

@test "arc-list against s3rver goes through HTTP_PROXY (upper case), and not when NO_PROXY lists 127.0.0.1" {
	make_bucket pxb
	s3put pxb "$D/a.parquet"
	HTTP_PROXY=http://127.0.0.1:$PXPORT run --separate-stderr arc-list -a s3://pxb
	expect 0
	assert_output --partial "$D/a.parquet"
	[ "$(grep -c "^GET http://127.0.0.1:$S3_PORT/pxb" "$PXLOG")" -ge 1 ]
	: >"$PXLOG"
	HTTP_PROXY=http://127.0.0.1:$PXPORT NO_PROXY=localhost,127.0.0.1 \
	    run --separate-stderr arc-list -a s3://pxb
	expect 0
	assert_output --partial "$D/a.parquet"
	[ ! -s "$PXLOG" ]
}

@test "arc-manifest-dump against Arc's API goes through http_proxy, and not when no_proxy lists 127.0.0.1" {
	reset_arcapi
	fentry "$D/a.parquet" >"$ARCAPI_DIR/manifest.ndjson"
	http_proxy=http://127.0.0.1:$PXPORT run --separate-stderr \
	    arc-manifest-dump "arc+http://127.0.0.1:$ARCAPI_PORT"
	expect 0
	assert_output --partial "$D/a.parquet"
	[ "$(grep -c "^GET http://127.0.0.1:$ARCAPI_PORT/api/v1/cluster/files" "$PXLOG")" -ge 1 ]
	: >"$PXLOG"
	HTTP_PROXY=http://127.0.0.1:$PXPORT no_proxy=127.0.0.1 run --separate-stderr \
	    arc-manifest-dump "arc+http://127.0.0.1:$ARCAPI_PORT"
	expect 0
	assert_output --partial "$D/a.parquet"
	[ ! -s "$PXLOG" ]
}
