#!/usr/bin/env bats
# estimate.bats - the requests a run made and a dry run's estimate of an
# act run (arc(7), REQUESTS AND ESTIMATE; arc-reconcile(1), --price-table).
# A dry run followed at once by an act run, nothing changed between,
# must have estimated the act run's delete requests exactly: against
# s3rver (DeleteObjects batches), Azurite (Blob Batch, and a single
# DELETE for a batch of one) and etcd (txn), each with more candidates
# than one batch (--batch 2).  The counts agree with what tests/proxy.py
# saw, and a price table file replaces the built-in prices.
# Servers: s3rver 3.7.1 behind tests/proxy.py, Azurite 3.35.0, one etcd
# member; each stopped by its PID.
load test_helper
load servers
bats_require_minimum_version 1.5.0

H=2026/04/10/12			# an hour directory: files in it have 7 segments
NOW=2026-04-11T14:00:00Z
OLD='2026-04-01 00:00:00'	# far outside the grace window at $NOW

setup_file() {
	[ -d "$ARC_NODE_MODULES/s3rver" ] || {
		echo "the npm test servers are missing: sh tests/deps.sh build test" >&2
		return 1
	}
	launch_etcd
	start_s3_proxied
	start_azurite 2>/dev/null ||
	    wait_http_for 60 "http://127.0.0.1:$AZ_PORT/"
	wait_s3_proxied
	etcd_wait "$ETCD_PORT"
	unset ARC_PRICE_TABLE
}

teardown_file() {
	stop_named fp
	stop_named s3
	stop_azurite
	stop_etcd
}

setup() {
	B=bkt$BATS_TEST_NUMBER
	make_bucket "$B"
	MANIFEST=$BATS_TEST_TMPDIR/m.ndjson
	STATE=$BATS_TEST_TMPDIR/state
	: >"$MANIFEST"
	fp_fresh
	export ARC_HTTP_BACKOFF_MS=1 ARC_HTTP_ATTEMPTS=2 ARC_HTTP_TIMEOUT=5
	export TMPDIR=$BATS_TEST_TMPDIR/tmp
	mkdir -p "$TMPDIR"
}

# ---- helpers -------------------------------------------------------------

# fentry PATH: one manifest line, created long before $NOW.
fentry() {
	local db=${1%%/*} rest=${1#*/}
	printf '{"path":"%s","created_at":"2026-04-01T00:00:00Z","size_bytes":10,"database":"%s","measurement":"%s","origin_node_id":"node-1","lsn":1}\n' \
	    "$1" "$db" "${rest%%/*}"
}

# record ID_GLOB JQ: a field of the run record whose dry_run is $1.
# dry JQ / act JQ: a field of the state's one dry or one act run record.
dry() {
	jq -r "select(.dry_run == true) | $1" "$STATE"/runs/*.json
}
act() {
	jq -r "select(.dry_run == false) | $1" "$STATE"/runs/*.json
}

# deletes OBJ: the delete requests of a requests or estimate object.
deletes() {
	printf '%s.by_class | .delete + .batch + .txn' "$1"
}

# expect N: fail unless the last `run` exited N, showing its stderr.
expect() {
	if [ "$status" -ne "$1" ]; then
		printf 'exit %s, expected %s; stderr:\n%s\n' "$status" "$1" "$stderr"
		return 1
	fi
}

# plant_s3: 4 objects in sync with $MANIFEST and 5 orphan objects, old.
plant_s3() {
	local i keys=()
	for i in 1 2 3 4; do
		keys+=("db/cpu/$H/in_$i.parquet")
		fentry "db/cpu/$H/in_$i.parquet" >>"$MANIFEST"
	done
	for i in 1 2 3 4 5; do
		keys+=("db/cpu/$H/orphan_$i.parquet")
	done
	s3seed_old "$B" "${keys[@]}"
}

# s3run [OPTION...]: the driver on bucket $B through the proxy, batches of 2.
s3run() {
	proxied arc-reconcile --state-dir "$STATE" --now "$NOW" --batch 2 \
	    --max-orphan-ratio 1 "$@" "s3://$B" "$MANIFEST"
}

# ---- S3 -------------------------------------------------------------------

@test "a dry run on S3 estimates exactly the DeleteObjects batches and checks the act run then sends" {
	plant_s3
	run --separate-stderr s3run
	expect 1
	# 5 orphans in batches of 2: three DeleteObjects, and a HEAD for each
	assert_equal "$(dry "$(deletes .estimate)")" 3
	assert_equal "$(dry '.estimate.by_class.batch')" 3
	assert_equal "$(dry '.requests.by_class.batch + .requests.by_class.delete')" 0
	run --separate-stderr s3run --act
	expect 0
	assert_equal "$(act "$(deletes .requests)")" 3
	assert_equal "$(act '.requests.by_class.batch')" 3
	# nothing changed between: the whole estimate was exact, class by class
	assert_equal "$(dry '.estimate.by_class')" "$(act '.requests.by_class')"
	assert_equal "$(act 'has("estimate")')" false
}

@test "with --archive-files and --if-unchanged the estimate counts the archive's reads and a conditional DELETE a key" {
	plant_s3
	run --separate-stderr s3run --archive-files --if-unchanged
	expect 1
	# conditional deletes cannot ride in a DeleteObjects: one DELETE each
	assert_equal "$(dry '[.estimate.by_class.delete, .estimate.by_class.batch]|@tsv')" \
	    "$(printf '5\t0')"
	# the archive holds each file: a GET each, in the dry run as in --act
	assert_equal "$(dry '.requests.by_class.get')" 5
	run --separate-stderr s3run --archive-files --if-unchanged --act
	expect 0
	assert_equal "$(act '[.requests.by_class.delete, .requests.by_class.batch]|@tsv')" \
	    "$(printf '5\t0')"
	assert_equal "$(dry '.estimate.by_class')" "$(act '.requests.by_class')"
}

@test "the requests a dry run counts are the ones the proxy saw, by class" {
	plant_s3
	run --separate-stderr s3run
	expect 1
	local list head get
	list=$(grep -cE "^GET /$B\\?.*list-type=2" "$FP_LOG" || true)
	head=$(grep -cE '^HEAD ' "$FP_LOG" || true)
	get=$(grep -E '^GET ' "$FP_LOG" | grep -vc 'list-type=2' || true)
	[ "$list" -gt 0 ] && [ "$head" -gt 0 ]
	assert_equal "$(dry '.requests.by_class.list')" "$list"
	assert_equal "$(dry '.requests.by_class.head')" "$head"
	assert_equal "$(dry '.requests.by_class.get')" "$get"
	assert_equal "$(dry '.requests.total')" "$(wc -l <"$FP_LOG")"
	assert_equal "$(dry '.requests.retries')" 0
}

@test "a retried request is counted as a request and as a retry" {
	plant_s3
	# every listing page's first attempt fails; the second passes
	faults "GET list-type=2 503 1"
	run --separate-stderr s3run
	expect 1
	local list
	list=$(grep -cE "^GET /$B\\?.*list-type=2" "$FP_LOG" || true)
	assert_equal "$(dry '.requests.by_class.list')" "$list"
	[ "$(dry '.requests.retries')" -ge 1 ]
}

@test "the dry-run summary line says the act run's requests, time and price" {
	plant_s3
	run --separate-stderr s3run
	expect 1
	assert_stderr --regexp "dry-run: 0 manifest and 5 storage would-deletes, drift remains; --act would make [0-9]+ requests \(3 delete, batch or txn\), [0-9.]+s of requests, \\\$[0-9.]+"
	assert_equal "$(dry '.estimate.price_table')" s3-standard
	# the built-in S3 Standard prices, by class
	assert_equal "$(dry '.estimate | (.by_class.list + .by_class.put + .by_class.batch) * 0.000005 + (.by_class.head + .by_class.get) * 0.0000004 - .price_usd | fabs < 1e-12')" true
	# a class the dry run never sent is timed at its mean over all
	assert_equal "$(dry '.estimate.rate_assumed | index("batch") != null')" true
}

@test "a price table file replaces the built-in prices" {
	plant_s3
	printf '# test prices, USD per request\nhead 0.5\nLIST 2   # a comment\n\nbatch 10\n' >prices
	run --separate-stderr s3run --price-table prices
	expect 1
	assert_equal "$(dry '.estimate.price_table')" prices
	assert_equal "$(dry '.estimate | .by_class.head * 0.5 + .by_class.list * 2 + .by_class.batch * 10 - .price_usd | fabs < 1e-9')" true
	[ "$(dry '.estimate.price_usd')" != 0 ]
}

@test "a malformed price table is refused with its file and line, exit 2, before any request" {
	plant_s3
	printf 'head 0.5\nheads 1\n' >bad
	printf 'head 0.5\nget x\n' >bad2
	printf 'head 0.5\nget 1\n' >good
	run --separate-stderr s3run --price-table bad
	expect 2
	assert_equal "$stderr" "arc-reconcile: price table 'bad' line 2: 'heads' is not a request class (list head get put delete batch range txn other)"
	run --separate-stderr s3run --price-table bad2
	expect 2
	assert_equal "$stderr" "arc-reconcile: price table 'bad2' line 2: the price of get must be a number of USD per request"
	assert_equal "$(wc -l <"$FP_LOG")" 0
	[ ! -d "$STATE/runs" ] || [ -z "$(ls "$STATE/runs")" ]
	# the control: a good table, the same run
	ARC_PRICE_TABLE=good run --separate-stderr s3run
	expect 1
	assert_equal "$(dry '.estimate.price_table')" good
}

# ---- a local store, a manifest file ----------------------------------------

@test "a run on a local store and a manifest file counts no request and estimates none" {
	mkdir -p store/db/cpu/$H
	printf x >"store/db/cpu/$H/orphan.parquet"
	touch -d "$OLD" "store/db/cpu/$H/orphan.parquet"
	run --separate-stderr arc-reconcile --state-dir "$STATE" --now "$NOW" \
	    --max-orphan-ratio 1 store "$MANIFEST"
	expect 1
	assert_equal "$(dry '[.requests.total, .estimate.total, .estimate.price_usd, .estimate.price_table]|@tsv')" \
	    "$(printf '0\t0\t0\tnone')"
}

# ---- etcd -------------------------------------------------------------------

@test "a dry run on an etcd manifest estimates exactly the act run's txns and verification ranges" {
	local P=/t$BATS_TEST_NUMBER/files/ i
	for i in 1 2 3 4 5; do fentry "db/cpu/$H/lost_$i.parquet"; done >seed.ndjson
	fentry "db/cpu/$H/kept.parquet" >>seed.ndjson
	arc-manifest-load seed.ndjson "etcd://$ETCD$P"
	mkdir -p store/db/cpu/$H
	printf x >"store/db/cpu/$H/kept.parquet"
	touch -d "$OLD" "store/db/cpu/$H/kept.parquet"
	run --separate-stderr arc-reconcile --state-dir "$STATE" --now "$NOW" \
	    --batch 2 --max-orphan-ratio 1 store "etcd://$ETCD$P"
	expect 1
	# 5 orphan entries in batches of 2: three txns, a range for each entry
	assert_equal "$(dry '.estimate.by_class.txn')" 3
	assert_equal "$(dry '.requests.by_class.txn')" 0
	[ "$(dry '.requests.by_class.range')" -gt 0 ]
	run --separate-stderr arc-reconcile --state-dir "$STATE" --now "$NOW" \
	    --batch 2 --max-orphan-ratio 1 --act store "etcd://$ETCD$P"
	expect 0
	assert_equal "$(act '.requests.by_class.txn')" 3
	assert_equal "$(dry "$(deletes .estimate)")" "$(act "$(deletes .requests)")"
	assert_equal "$(dry '.estimate.by_class')" "$(act '.requests.by_class')"
	assert_equal "$(dry '.estimate.price_table')" none
}

# ---- Azure ------------------------------------------------------------------

@test "a dry run on Azure estimates exactly the Blob Batches and the single DELETE of a batch of one" {
	local C=est$BATS_TEST_NUMBER i names=() now
	curl -s -o /dev/null -X PUT "$AZ_ENDPOINT/$C?restype=container&$(azsas)"
	for i in 1 2 3 4 5; do names+=("db/cpu/$H/orphan_$i.parquet"); done
	azseed "$C" "${names[@]}" "db/cpu/$H/kept.parquet"
	fentry "db/cpu/$H/kept.parquet" >"$MANIFEST"
	# blobs written now: a clock days on makes them old
	now=$(date -u -d '+9 days' +%Y-%m-%dT%H:%M:%SZ)
	run --separate-stderr arc-reconcile --state-dir "$STATE" --now "$now" \
	    --batch 2 --max-orphan-ratio 1 "az://$C" "$MANIFEST"
	expect 1
	# batches of 2, 2 and 1: two Blob Batches and one DELETE
	assert_equal "$(dry '[.estimate.by_class.batch, .estimate.by_class.delete]|@tsv')" \
	    "$(printf '2\t1')"
	run --separate-stderr arc-reconcile --state-dir "$STATE" --now "$now" \
	    --batch 2 --max-orphan-ratio 1 --act "az://$C" "$MANIFEST"
	expect 0
	assert_equal "$(act '[.requests.by_class.batch, .requests.by_class.delete]|@tsv')" \
	    "$(printf '2\t1')"
	assert_equal "$(dry '.estimate.by_class')" "$(act '.requests.by_class')"
	assert_equal "$(dry '.estimate.price_table')" azure-blob-hot
}
