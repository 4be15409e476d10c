#!/usr/bin/env bats
# arcapi.bats - Arc's cluster API as a manifest (arc+http://HOST:PORT),
# against tests/arcapi.py, which serves GET /api/v1/cluster/files as Arc
# does: pages sorted by path with an exclusive cursor and next_cursor ""
# at the end, files null for an empty page, the database filter, Bearer
# tokens with Arc's 401 and 403 bodies, the standalone answer, and a
# manifest that changes between two requests.  The server caps a page at
# its own page_size, so that a few entries span several pages although
# the client always asks for limit=10000.
#
# One server for the file; each test steers it through the files in
# $ARCAPI_DIR (reset before every test) and reads its requests.log.
load test_helper
load servers
bats_require_minimum_version 1.5.0

D=db/m/2026/04/11/12	# a managed directory: its files have 7 segments
TOKEN=tok-8f2e61d0c4	# the admin token, when a test turns auth on

setup_file() {
	TLS=$BATS_FILE_TMPDIR/tls
	export TLS
	make_tls "$TLS"
	start_arcapi
	# the same stand-in over HTTPS, on the same control directory
	start_arcapi_tls "$TLS/server.crt" "$TLS/server.key" "$TLS/ca.crt"
}

teardown_file() {
	stop_named arcapi-tls
	stop_arcapi
}

setup() {
	export ARC_HTTP_ATTEMPTS=2 ARC_HTTP_TIMEOUT=5 ARC_HTTP_BACKOFF_MS=50
	export TMPDIR=$BATS_TEST_TMPDIR/tmp
	mkdir -p "$TMPDIR" store
	unset ARC_API_TOKEN ARC_API_TOKEN_FILE
	A=arc+http://127.0.0.1:$ARCAPI_PORT
	AS=arc+https://127.0.0.1:$ARCAPI_TLS_PORT
	STATE=$BATS_TEST_TMPDIR/state
	reset_arcapi
	KILL_PIDS=
}

teardown() {
	stop_test_pids
}

# fentry PATH [LSN [DATABASE]]: an NDJSON FileEntry.
fentry() {
	local db=${3:-${1%%/*}}
	printf '{"path":"%s","created_at":"2026-04-11T14:00:00Z","size_bytes":10,"database":"%s","measurement":"m","origin_node_id":"node-1","lsn":%s}\n' \
	    "$1" "$db" "${2:-1}"
}

# mrecord PATH [LSN]: the manifest record arc-manifest-dump writes for
# fentry PATH LSN.
mrecord() {
	printf '%s\t2026-04-11T14:00:00Z\t10\tnode-1\t%s\n' "$1" "${2:-1}"
}

# serve FILE: the server's manifest becomes FILE's entries.
serve() {
	cp "$1" "$ARCAPI_DIR/manifest.ndjson"
}

# queries: the query strings of the files requests, one a line.
queries() {
	jq -r 'select(.path == "/api/v1/cluster/files") | .query' \
	    "$ARCAPI_DIR/requests.log"
}

# uri STRING: STRING percent-encoded as a query value.
uri() {
	jq -rn --arg s "$1" '$s | @uri'
}

# decode_deferred FILE: each op of each BatchFileOpsPayload line as
# "type TAB path TAB reason", and "--" after each line (a batch).
decode_deferred() {
	jq -r '(.ops[] | [(.type | tostring), (.payload | @base64d | fromjson |
	    .path, .reason)] | @tsv), "--"' "$1"
}

# expect N: fail unless the last `run` exited N, showing its stderr.
expect() {
	if [ "$status" -ne "$1" ]; then
		printf 'exit %s, expected %s; stderr:\n%s\n' "$status" "$1" "$stderr"
		return 1
	fi
}

# the_record: the one run record in $STATE.
the_record() {
	local n
	n=$(find "$STATE/runs" -name '*.json' 2>/dev/null | wc -l)
	[ "$n" -eq 1 ] || { echo "expected 1 run record, found $n" >&2; return 1; }
	find "$STATE/runs" -name '*.json'
}

field() {
	jq -r "$1" "$(the_record)"
}

# ---- the dump ------------------------------------------------------------

@test "arc-manifest-dump pages through a manifest larger than the server's page and writes every entry sorted by path" {
	local i
	echo 10 >"$ARCAPI_DIR/page_size"
	# registered in reverse order: the server, not the file, sorts
	for i in $(seq -w 25 -1 1); do fentry "$D/f$i.parquet" "$((10#$i))"; done >m.ndjson
	serve m.ndjson
	run --separate-stderr arc-manifest-dump "$A"
	assert_success
	assert_output "$(for i in $(seq -w 1 25); do mrecord "$D/f$i.parquet" "$((10#$i))"; done)"
	# three pages, each asked for with Arc's maximum, each after the last
	# path of the one before (the cursor is exclusive)
	run queries
	assert_output "$(printf '%s\n' "limit=10000" \
	    "cursor=$(uri "$D/f10.parquet")&limit=10000" \
	    "cursor=$(uri "$D/f20.parquet")&limit=10000")"
}

@test "arc-manifest-dump -d DATABASE asks the server for that database only and writes its entries" {
	local i
	echo 2 >"$ARCAPI_DIR/page_size"
	for i in 1 2 3 4 5; do
		fentry "db1/m/2026/04/11/12/f$i.parquet" "$i"
		fentry "db2/m/2026/04/11/12/f$i.parquet" "$i"
	done >m.ndjson
	serve m.ndjson
	run --separate-stderr arc-manifest-dump -d db1 "$A"
	assert_success
	assert_output "$(for i in 1 2 3 4 5; do mrecord "db1/m/2026/04/11/12/f$i.parquet" "$i"; done)"
	run queries
	[ "${#lines[@]}" -eq 3 ]
	for l in "${lines[@]}"; do
		[[ "&$l&" == *"&database=db1&"* ]]
	done
}

@test "an empty manifest or an unknown database (files null) is an empty dump, not an error" {
	run --separate-stderr arc-manifest-dump "$A"
	assert_success
	assert_output ""
	fentry "$D/a.parquet" >m.ndjson
	serve m.ndjson
	run --separate-stderr arc-manifest-dump -d nosuchdb "$A"
	assert_success
	assert_output ""
	[ "$(curl -s "$ARCAPI/api/v1/cluster/files?database=nosuchdb&limit=5" | jq -c .files)" = null ]
}

@test "a later page of files null (the rest removed meanwhile) ends the dump without an error" {
	local i
	echo 10 >"$ARCAPI_DIR/page_size"
	for i in $(seq -w 1 25); do fentry "$D/f$i.parquet"; done >m.ndjson
	serve m.ndjson
	# after the first page, everything past it is unregistered
	head -n 10 m.ndjson >"$ARCAPI_DIR/after.1"
	run --separate-stderr arc-manifest-dump "$A"
	assert_success
	assert_output "$(for i in $(seq -w 1 10); do mrecord "$D/f$i.parquet"; done)"
	[ "$(queries | wc -l)" -eq 2 ]
}

@test "an entry registered below the cursor between two pages is missed by the dump and found by arc-recheck's live lookup" {
	local i
	echo 10 >"$ARCAPI_DIR/page_size"
	for i in $(seq -w 1 25); do fentry "$D/f$i.parquet"; done >m.ndjson
	serve m.ndjson
	{ cat m.ndjson; fentry "$D/f05a.parquet"; } >"$ARCAPI_DIR/after.1"
	run --separate-stderr arc-manifest-dump "$A"
	assert_success
	[ "${#lines[@]}" -eq 25 ]
	refute_output --partial "f05a"
	# so the storage side sees it as an orphan: the live re-check saves it
	old_files store "$D/f05a.parquet" "$D/f99.parquet"
	printf 'orphan-storage\t%s\t2026-04-09T00:00:00Z\t10\n' \
	    "$D/f05a.parquet" "$D/f99.parquet" >cand
	run --separate-stderr arc-recheck -R rej store "$A" <cand
	assert_output "$(printf 'orphan-storage\t%s\t2026-04-09T00:00:00Z\t10' "$D/f99.parquet")"
	run cat rej
	assert_output "$(printf 'in-manifest\torphan-storage\t%s\t2026-04-09T00:00:00Z\t10\tRECHECK_REGISTERED\t-' "$D/f05a.parquet")"
}

@test "arc-recheck's live lookup steps over entries that sort just below the path" {
	{
		fentry "$D/a.parque-1"; fentry "$D/a.parque-2"; fentry "$D/a.parquet"
		fentry "$D/b.parque-1"; fentry "$D/b.parquet0"
	} >m.ndjson
	serve m.ndjson
	old_files store "$D/a.parquet" "$D/b.parquet"
	printf 'orphan-storage\t%s\t2026-04-09T00:00:00Z\t10\n' \
	    "$D/a.parquet" "$D/b.parquet" >cand
	run --separate-stderr arc-recheck -R rej store "$A" <cand
	assert_output "$(printf 'orphan-storage\t%s\t2026-04-09T00:00:00Z\t10' "$D/b.parquet")"
	run cat rej
	assert_output "$(printf 'in-manifest\torphan-storage\t%s\t2026-04-09T00:00:00Z\t10\tRECHECK_REGISTERED\t-' "$D/a.parquet")"
}

# ---- authentication and the standalone answer ----------------------------

@test "ARC_API_TOKEN is sent as a Bearer token and never shows in the output" {
	echo "$TOKEN" >"$ARCAPI_DIR/token"
	echo 1 >"$ARCAPI_DIR/page_size"
	{ fentry "$D/a.parquet"; fentry "$D/b.parquet"; } >m.ndjson
	serve m.ndjson
	ARC_API_TOKEN=$TOKEN run --separate-stderr arc-manifest-dump "$A"
	assert_success
	assert_output "$(mrecord "$D/a.parquet"; mrecord "$D/b.parquet")"
	refute_output --partial "$TOKEN"
	refute_stderr --partial "$TOKEN"
	run jq -r .auth "$ARCAPI_DIR/requests.log"
	assert_output "$(printf 'Bearer %s\n' "$TOKEN" "$TOKEN")"
}

@test "without ARC_API_TOKEN a server that requires one gives 'authentication required', exit 2 and no records" {
	echo "$TOKEN" >"$ARCAPI_DIR/token"
	fentry "$D/a.parquet" >m.ndjson
	serve m.ndjson
	run --separate-stderr arc-manifest-dump "$A"
	assert_failure 2
	assert_output ""
	assert_stderr --partial "authentication required"
	assert_stderr --partial "ARC_API_TOKEN"
	[ "$(jq -r .auth "$ARCAPI_DIR/requests.log")" = null ]
}

@test "a wrong token gives 'authentication required' and exit 2, and the message does not repeat the token" {
	echo "$TOKEN" >"$ARCAPI_DIR/token"
	fentry "$D/a.parquet" >m.ndjson
	serve m.ndjson
	ARC_API_TOKEN=wrong-tok-77 run --separate-stderr arc-manifest-dump "$A"
	assert_failure 2
	assert_output ""
	assert_stderr --partial "authentication required"
	refute_stderr --partial "wrong-tok-77"
}

@test "a token without admin gives 'permission denied', exit 2 and no records" {
	echo "$TOKEN" >"$ARCAPI_DIR/token"
	echo reader-tok-3 >"$ARCAPI_DIR/token_noadmin"
	fentry "$D/a.parquet" >m.ndjson
	serve m.ndjson
	ARC_API_TOKEN=reader-tok-3 run --separate-stderr arc-manifest-dump "$A"
	assert_failure 2
	assert_output ""
	assert_stderr --partial "permission denied"
	assert_stderr --partial "admin"
	refute_stderr --partial "reader-tok-3"
}

@test "ARC_API_TOKEN_FILE: the token is read from the file, white space around it dropped, and read again on every run" {
	echo "$TOKEN" >"$ARCAPI_DIR/token"
	fentry "$D/a.parquet" >m.ndjson
	serve m.ndjson
	printf '  %s \n\n' "$TOKEN" >tokfile
	chmod 600 tokfile
	ARC_API_TOKEN_FILE=$PWD/tokfile run --separate-stderr arc-manifest-dump "$A"
	expect 0
	assert_output "$(mrecord "$D/a.parquet")"
	refute_stderr --partial "$TOKEN"
	[ "$(jq -r .auth "$ARCAPI_DIR/requests.log")" = "Bearer $TOKEN" ]
	# rotated: the next run sends the new token, and the server now
	# wants it
	echo tok-rotated-42 >"$ARCAPI_DIR/token"
	echo tok-rotated-42 >tokfile
	ARC_API_TOKEN_FILE=$PWD/tokfile run --separate-stderr arc-manifest-dump "$A"
	expect 0
	assert_output "$(mrecord "$D/a.parquet")"
	# ARC_API_TOKEN, when set, comes first
	ARC_API_TOKEN=tok-rotated-42 ARC_API_TOKEN_FILE=$PWD/nonexistent \
	    run --separate-stderr arc-manifest-dump "$A"
	expect 0
}

@test "an ARC_API_TOKEN_FILE that cannot be read or is empty is exit 2 before any request, and never shows the token" {
	echo "$TOKEN" >"$ARCAPI_DIR/token"
	fentry "$D/a.parquet" >m.ndjson
	serve m.ndjson
	ARC_API_TOKEN_FILE=$PWD/nonexistent run --separate-stderr arc-manifest-dump "$A"
	expect 2
	assert_output ""
	assert_stderr --partial "cannot open ARC_API_TOKEN_FILE '$PWD/nonexistent'"
	printf ' \n' >empty
	ARC_API_TOKEN_FILE=$PWD/empty run --separate-stderr arc-manifest-dump "$A"
	expect 2
	assert_stderr --partial "empty"
	printf '%s\nsecond-line-tok\n' "$TOKEN" >two
	ARC_API_TOKEN_FILE=$PWD/two run --separate-stderr arc-manifest-dump "$A"
	expect 2
	assert_stderr --partial "not one line"
	refute_stderr --partial "$TOKEN"
	refute_stderr --partial second-line-tok
	[ ! -s "$ARCAPI_DIR/requests.log" ]
	# the control: the same token in a good file works
	echo "$TOKEN" >good
	ARC_API_TOKEN_FILE=$PWD/good run --separate-stderr arc-manifest-dump "$A"
	expect 0
}

@test "arc+https:// is verified with SSL_CERT_FILE or SSL_CERT_DIR and dumps as arc+http:// does" {
	{ fentry "$D/a.parquet"; fentry "$D/b.parquet"; } >m.ndjson
	serve m.ndjson
	SSL_CERT_FILE=$TLS/ca.crt run --separate-stderr arc-manifest-dump "$AS"
	expect 0
	assert_output "$(mrecord "$D/a.parquet"; mrecord "$D/b.parquet")"
	# a directory of CAs by hash, as c_rehash makes it
	mkdir cadir
	cp "$TLS/ca.crt" "cadir/$(openssl x509 -hash -noout -in "$TLS/ca.crt").0"
	SSL_CERT_DIR=$PWD/cadir SSL_CERT_FILE=$TLS/wrong.crt \
	    run --separate-stderr arc-manifest-dump "$AS"
	expect 0
	assert_output "$(mrecord "$D/a.parquet"; mrecord "$D/b.parquet")"
}

@test "arc+https:// with a CA that did not sign the server is exit 2 naming the host and the CA settings, with no records and no retry" {
	fentry "$D/a.parquet" >m.ndjson
	serve m.ndjson
	ARC_HTTP_ATTEMPTS=5 SSL_CERT_FILE=$TLS/wrong.crt \
	    run --separate-stderr arc-manifest-dump "$AS"
	expect 2
	assert_output ""
	assert_stderr --partial "TLS with 127.0.0.1:$ARCAPI_TLS_PORT failed (CA SSL_CERT_FILE=$TLS/wrong.crt SSL_CERT_DIR=(unset))"
	assert_stderr --partial "(after 1 attempts)"
	[ ! -s "$ARCAPI_DIR/requests.log" ]
	# arc-recheck: exit 2, not 1 with every candidate rejected
	old_files store "$D/x.parquet"
	printf 'orphan-storage\t%s\t2026-04-09T00:00:00Z\t10\n' "$D/x.parquet" >cand
	SSL_CERT_FILE=$TLS/wrong.crt run --separate-stderr arc-recheck store "$AS" <cand
	expect 2
	assert_output ""
	assert_stderr --partial "TLS with 127.0.0.1:$ARCAPI_TLS_PORT failed"
	# the control: the right CA
	SSL_CERT_FILE=$TLS/ca.crt run --separate-stderr arc-recheck store "$AS" <cand
	expect 0
	assert_output "$(cat cand)"
}

@test "a standalone node's answer is an error naming its reason" {
	echo "Clustering not enabled in configuration (cluster.enabled=false)" \
	    >"$ARCAPI_DIR/standalone"
	run --separate-stderr arc-manifest-dump "$A"
	assert_failure 2
	assert_output ""
	assert_stderr --partial "Clustering not enabled in configuration (cluster.enabled=false)"
}

@test "arc-recheck never confirms an orphan-storage candidate when the API refuses the lookup" {
	echo "$TOKEN" >"$ARCAPI_DIR/token"
	old_files store "$D/x.parquet"
	printf 'orphan-storage\t%s\t2026-04-09T00:00:00Z\t10\n' "$D/x.parquet" >cand
	run --separate-stderr arc-recheck -R rej store "$A" <cand
	assert_output ""
	assert_stderr --partial "authentication required"
	run cat rej
	assert_output --regexp "^error	orphan-storage	$D/x.parquet	"
}

# ---- arc-delete: deferred manifest deletes --------------------------------

@test "arc-delete --act defers orphan-manifest deletes to Arc's BatchFileOpsPayload lines and still deletes orphan files" {
	{ fentry "$D/lost1.parquet"; fentry "$D/lost2.parquet"; fentry "$D/lost3.parquet"; } >m.ndjson
	serve m.ndjson
	old_files store "$D/orphan.parquet"
	{
		for p in lost1 lost2 lost3; do
			printf 'orphan-manifest\t%s\n' "$(mrecord "$D/$p.parquet")"
		done
		printf 'orphan-storage\t%s\t2026-04-09T00:00:00Z\t10\n' "$D/orphan.parquet"
	} >cand
	run --separate-stderr arc-delete --act -A arch.tgz -b 2 --deferred def.ndjson store "$A" <cand
	assert_failure 1	# deferred is not done
	assert_output "$(printf '%s\torphan-manifest\t%s\tDEFERRED\n' deferred "$D/lost1.parquet" \
	    deferred "$D/lost2.parquet" deferred "$D/lost3.parquet"
	    printf 'deleted\torphan-storage\t%s\tDELETED' "$D/orphan.parquet")"
	# one line a batch of two, delete ops (type 8) with Arc's reason
	run decode_deferred def.ndjson
	assert_output "$(printf '8\t%s\treconcile-orphan-manifest\n' "$D/lost1.parquet" "$D/lost2.parquet"
	    echo --
	    printf '8\t%s\treconcile-orphan-manifest\n' "$D/lost3.parquet"
	    echo --)"
	# the payload is exactly Arc's {"path":..,"reason":..}
	[ "$(head -n 1 def.ndjson | jq -r '.ops[0].payload | @base64d')" = \
	    "{\"path\":\"$D/lost1.parquet\",\"reason\":\"reconcile-orphan-manifest\"}" ]
	# Arc's manifest was only read
	cmp m.ndjson "$ARCAPI_DIR/manifest.ndjson"
	[ "$(jq -r .method "$ARCAPI_DIR/requests.log" | sort -u)" = GET ]
	[ ! -e "store/$D/orphan.parquet" ]
}

@test "arc-delete --act with an arc+http manifest and no --deferred file deletes nothing and says why" {
	fentry "$D/lost1.parquet" >m.ndjson
	serve m.ndjson
	old_files store "$D/orphan.parquet"
	{
		printf 'orphan-manifest\t%s\n' "$(mrecord "$D/lost1.parquet")"
		printf 'orphan-storage\t%s\t2026-04-09T00:00:00Z\t10\n' "$D/orphan.parquet"
	} >cand
	run --separate-stderr arc-delete --act -A arch.tgz store "$A" <cand
	assert_failure 4
	assert_stderr --partial "--deferred"
	assert_line "$(printf 'failed\torphan-manifest\t%s\tDELETE_FAILED' "$D/lost1.parquet")"
	[ -f "store/$D/orphan.parquet" ]
}

@test "arc-delete's dry run with an arc+http manifest writes no deferred file" {
	fentry "$D/lost1.parquet" >m.ndjson
	serve m.ndjson
	printf 'orphan-manifest\t%s\n' "$(mrecord "$D/lost1.parquet")" >cand
	run --separate-stderr arc-delete --deferred def.ndjson store "$A" <cand
	assert_success
	assert_output "$(printf 'would-delete\torphan-manifest\t%s\tORPHAN_MANIFEST' "$D/lost1.parquet")"
	[ ! -e def.ndjson ]
}

# ---- the driver ------------------------------------------------------------

# plant: in sync a, b; orphan-manifest lost1, lost2 (entries only);
# orphan-storage orph1, orph2 (old files only).
plant() {
	{
		fentry "$D/a.parquet"; fentry "$D/b.parquet"
		fentry "$D/lost1.parquet"; fentry "$D/lost2.parquet"
	} >m.ndjson
	serve m.ndjson
	old_files store "$D/a.parquet" "$D/b.parquet" "$D/orph1.parquet" "$D/orph2.parquet"
}

@test "the driver's act run defers the manifest deletes to a file named in the run record and repairs storage fully, the token never in argv or output" {
	local pid rc=0 i
	plant
	echo "$TOKEN" >"$ARCAPI_DIR/token"
	echo 0.1 >"$ARCAPI_DIR/delay"
	export ARC_API_TOKEN=$TOKEN
	arc-reconcile --state-dir "$STATE" --act --max-orphan-ratio 1 store "$A" >out 2>err &
	pid=$!
	KILL_PIDS=$pid
	# no process of the run ever has the token in its command line
	while kill -0 "$pid" 2>/dev/null; do
		ps -eo args >>argv.log
		sleep 0.1
	done
	wait "$pid" || rc=$?
	[ "$rc" -eq 1 ] || { cat err; false; }	# drift remains: the deferred entries
	[ -s argv.log ]
	run grep -F -- "$TOKEN" argv.log
	assert_failure 1
	run grep -rlF -- "$TOKEN" out err "$STATE"
	assert_failure 1
	[ "$(field .aborted)" = false ]
	[ "$(field .manifest_deletes)" -eq 0 ]
	[ "$(field .storage_deletes)" -eq 2 ]
	run decode_deferred "$(field .deferred)"
	assert_output "$(printf '8\t%s\treconcile-orphan-manifest\n' "$D/lost1.parquet" "$D/lost2.parquet"; echo --)"
	run sh -c 'find store -type f | sort'
	assert_output "$(printf 'store/%s\n' "$D/a.parquet" "$D/b.parquet")"
	cmp m.ndjson "$ARCAPI_DIR/manifest.ndjson"
	[ "$(jq -r .auth "$ARCAPI_DIR/requests.log" | sort -u)" = "Bearer $TOKEN" ]
}

@test "the driver's dry run with an arc+http manifest names no deferred file and changes nothing" {
	plant
	run --separate-stderr arc-reconcile --state-dir "$STATE" store "$A"
	expect 1
	[ "$(field .orphan_manifest_count)" -eq 2 ]
	[ "$(field .orphan_storage_count)" -eq 2 ]
	[ "$(field '.deferred // "none"')" = none ]
	[ -z "$(ls "$STATE/deferred")" ]
	[ "$(find store -type f | wc -l)" -eq 4 ]
}

@test "the driver against a standalone node aborts as manifest_unreadable, naming the reason, and deletes nothing" {
	plant
	echo "License does not include clustering feature" >"$ARCAPI_DIR/standalone"
	run --separate-stderr arc-reconcile --state-dir "$STATE" --act --max-orphan-ratio 1 store "$A"
	expect 2
	[ "$(field .abort_reason)" = manifest_unreadable ]
	[[ "$(field .abort_message)" == *"License does not include clustering feature"* ]]
	[ "$(find store -type f | wc -l)" -eq 4 ]
}
