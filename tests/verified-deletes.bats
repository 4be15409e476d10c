#!/usr/bin/env bats
# verified-deletes.bats - a delete is "deleted" only once it is seen to
# have happened (arc-delete(1), Verified deletes): an S3 store behind
# tests/proxy.py that acknowledges deletes and keeps the objects
# (ack-delete) or cannot answer the check (503), and an etcd manifest
# behind tests/arcapi.py that acknowledges a removal and keeps the entry.
# Every fault has its positive control: the same run through the same
# proxy without the fault says deleted and counts the deletes verified.
# Servers: s3rver 3.7.1, one etcd member; each stopped by its PID.
load test_helper
load servers
bats_require_minimum_version 1.5.0

H=2026/04/10/12			# an hour directory: files in it have 7 segments
NOW=2026-04-11T14:00:00Z
OLD='2026-04-01 00:00:00'	# far outside the grace window at $NOW
OLDREC=2026-04-01T00:00:00Z
D=db/m/2026/04/11/12		# the etcd tests' managed directory

setup_file() {
	[ -d "$ARC_NODE_MODULES/s3rver" ] || {
		echo "the npm test servers are missing: sh tests/deps.sh build test" >&2
		return 1
	}
	launch_etcd
	start_arcapi
	start_s3_proxied
	wait_s3_proxied
	etcd_wait "$ETCD_PORT"
}

teardown_file() {
	stop_named fp
	stop_named s3
	stop_arcapi
	stop_etcd
}

setup() {
	B=bkt$BATS_TEST_NUMBER
	make_bucket "$B"
	MANIFEST=$BATS_TEST_TMPDIR/m.ndjson
	STATE=$BATS_TEST_TMPDIR/state
	: >"$MANIFEST"
	fp_fresh
	reset_arcapi
	P=/t$BATS_TEST_NUMBER/files/
	mkdir -p store
	export ARC_HTTP_BACKOFF_MS=1 ARC_HTTP_ATTEMPTS=2 ARC_HTTP_TIMEOUT=5
}

# ---- helpers -------------------------------------------------------------

# has BUCKET KEY / hasnt BUCKET KEY: the object is on the server or not.
has() {
	[ -f "$S3_DATA/$1/$2._S3rver_object" ]
}
hasnt() {
	[ ! -e "$S3_DATA/$1/$2._S3rver_object" ]
}

# scand PATH: an orphan-storage candidate record.
scand() {
	printf 'orphan-storage\t%s\t%s\t20\n' "$1" "$OLDREC"
}

# stat_json KEY: a count of arc-delete's -S file st.json.
stat_json() {
	jq -r ".$1" st.json
}

# count_requests REGEX: how many logged proxy requests match.
count_requests() {
	grep -cE -- "$1" "$FP_LOG" || true
}

# fentry PATH: one manifest line, created long before $NOW.
fentry() {
	local db=${1%%/*} rest=${1#*/}
	printf '{"path":"%s","created_at":"2026-04-01T00:00:00Z","size_bytes":10,"database":"%s","measurement":"%s","origin_node_id":"node-1","lsn":1}\n' \
	    "$1" "$db" "${rest%%/*}"
}

# two orphan objects in bucket $B, and their candidate records in d.rec
O1="db/cpu/$H/o1.parquet"
O2="db/cpu/$H/o2.parquet"
two_orphans() {
	s3seed_old "$B" "$O1" "$O2" "db/cpu/$H/keep.parquet"
	{ scand "$O1"; scand "$O2"; } >d.rec
}

# ---- a store: S3 ---------------------------------------------------------

@test "objects S3 deleted and a check then finds absent are reported deleted and counted verified" {
	two_orphans
	run -0 --separate-stderr proxied arc-delete --act -A ar.tgz -S st.json \
	    "s3://$B" "$MANIFEST" <d.rec
	assert_output "$(printf 'deleted\torphan-storage\t%s\tDELETED\n' "$O1" "$O2")"
	assert_stderr ''
	hasnt "$B" "$O1"
	hasnt "$B" "$O2"
	has "$B" "db/cpu/$H/keep.parquet"
	assert_equal "$(jq -c '[.storage_deletes, .verified_deletes, .unverified_deletes, .bytes_freed]' st.json)" \
	    '[2,2,0,40]'
	# the check is a HEAD per deleted object, after the delete
	assert_equal "$(count_requests "^HEAD /$B/db/cpu/")" 2
}

@test "objects a store acknowledged deleting but kept are reported unverified, not deleted, with exit 1" {
	two_orphans
	faults "POST \\?delete ack-delete" "DELETE . ack-delete"
	run -1 --separate-stderr proxied arc-delete --act -A ar.tgz -S st.json \
	    "s3://$B" "$MANIFEST" <d.rec
	assert_output "$(printf 'unverified\torphan-storage\t%s\tUNVERIFIED\n' "$O1" "$O2")"
	assert_stderr --partial "'$O1': unverified: the store acknowledged the delete but still has the file"
	assert_stderr --partial "'$O2': unverified:"
	# the proxy answered the delete itself: the objects are still there
	assert_equal "$(count_requests "^POST /$B\\?delete.* ack-delete")" 1
	has "$B" "$O1"
	has "$B" "$O2"
	assert_equal "$(jq -c '[.storage_deletes, .verified_deletes, .unverified_deletes, .bytes_freed]' st.json)" \
	    '[2,0,2,0]'
}

@test "a check that gets 503 leaves an acknowledged delete unverified, never deleted" {
	two_orphans
	# the objects only: the bucket HEAD before the delete still answers
	faults "HEAD /db/cpu/ 503"
	run -1 --separate-stderr proxied arc-delete --act -A ar.tgz -S st.json \
	    "s3://$B" "$MANIFEST" <d.rec
	assert_output "$(printf 'unverified\torphan-storage\t%s\tUNVERIFIED\n' "$O1" "$O2")"
	assert_stderr --partial "'$O1': unverified:"
	refute_output --partial deleted
	# the delete itself went through: only the check could not answer
	hasnt "$B" "$O1"
	assert_equal "$(jq -c '[.storage_deletes, .verified_deletes, .unverified_deletes]' st.json)" \
	    '[2,0,2]'
}

@test "a dry run sends no check and counts nothing verified" {
	two_orphans
	run -0 --separate-stderr proxied arc-delete -S st.json "s3://$B" "$MANIFEST" <d.rec
	assert_output "$(printf 'would-delete\torphan-storage\t%s\tORPHAN_STORAGE\n' "$O1" "$O2")"
	assert_equal "$(count_requests '^(HEAD|POST|DELETE) ')" 0
	assert_equal "$(jq -c '[.verified_deletes, .unverified_deletes]' st.json)" '[0,0]'
}

# ---- the driver: the run record and the exit status ------------------------

# plant_run: 10 objects in sync with $MANIFEST, 2 orphan objects, and
# one orphan entry (db/zzz/.../lost.parquet), all old.
LOST="db/zzz/$H/lost.parquet"
plant_run() {
	local i keys=()
	for i in 01 02 03 04 05 06 07 08 09 10; do
		keys+=("db/cpu/$H/in_$i.parquet")
	done
	for i in "${keys[@]}"; do fentry "$i"; done >"$MANIFEST"
	fentry "$LOST" >>"$MANIFEST"
	s3seed_old "$B" "${keys[@]}" "$O1" "$O2"
}

reconcile() {
	proxied arc-reconcile --state-dir "$STATE" --now "$NOW" \
	    --max-orphan-ratio 1 --act "s3://$B" "$MANIFEST"
}

@test "an act run whose deletes are all verified exits 0 and records them as verified" {
	plant_run
	run -0 --separate-stderr reconcile
	assert_output "$(printf 'deleted\t%s\t%s\tDELETED\n' orphan-manifest "$LOST" \
	    orphan-storage "$O1" orphan-storage "$O2")"
	assert_equal "$(jq -c '[.manifest_deletes, .storage_deletes, .verified_deletes, .unverified_deletes]' "$STATE"/runs/*.json)" \
	    '[1,2,3,0]'
	assert_stderr --partial "no drift remains"
}

@test "an act run on a store that keeps acknowledged deletes ends with drift remaining and records them as unverified" {
	plant_run
	faults "POST \\?delete ack-delete" "DELETE . ack-delete"
	run -1 --separate-stderr reconcile
	assert_output "$(printf '%s\t%s\t%s\t%s\n' deleted orphan-manifest "$LOST" \
	    DELETED unverified orphan-storage "$O1" UNVERIFIED \
	    unverified orphan-storage "$O2" UNVERIFIED)"
	assert_equal "$(jq -c '[.manifest_deletes, .storage_deletes, .verified_deletes, .unverified_deletes, .bytes_freed]' "$STATE"/runs/*.json)" \
	    '[1,2,1,2,0]'
	assert_stderr --partial "drift remains"
	refute_stderr --partial "no drift remains"
	has "$B" "$O1"
}

# ---- a manifest: etcd behind tests/arcapi.py ---------------------------------

# etcd_seed PATH...: entries under $P in etcd, loaded directly.
etcd_seed() {
	local p
	for p in "$@"; do fentry "$p"; done >seed.ndjson
	arc-manifest-load seed.ndjson "etcd://$ETCD$P"
}

# ekeys: the keys under $P, one a line.
ekeys() {
	curl -s "http://$ETCD/v3/kv/range" -d "$(jq -cn --arg k "$P" \
	    --arg e "${P%/}0" '{key: ($k | @base64), range_end: ($e | @base64)}')" |
	    jq -r '.kvs // [] | .[].key | @base64d'
}

@test "an etcd entry removed through the gateway and then absent is reported deleted and counted verified" {
	etcd_seed "$D/lost.parquet" "$D/keep.parquet"
	arc-manifest-dump "etcd://$ETCD$P" | grep lost | sed 's/^/orphan-manifest\t/' >cand
	echo "$ETCD" >"$ARCAPI_DIR/etcd_upstream"
	run -0 --separate-stderr arc-delete --act -A ar.tgz -S st.json store \
	    "etcd://127.0.0.1:$ARCAPI_PORT$P" <cand
	assert_output "$(printf 'deleted\torphan-manifest\t%s\tDELETED' "$D/lost.parquet")"
	assert_equal "$(ekeys)" "$P$D/keep.parquet"
	assert_equal "$(jq -c '[.manifest_deletes, .verified_deletes, .unverified_deletes]' st.json)" '[1,1,0]'
}

@test "an etcd entry whose removal the gateway acknowledged but that is still there is unverified, with exit 1" {
	etcd_seed "$D/lost.parquet" "$D/keep.parquet"
	arc-manifest-dump "etcd://$ETCD$P" | grep lost | sed 's/^/orphan-manifest\t/' >cand
	# the gateway answers the transaction as done and forwards nothing
	# else: the look-up after it reaches etcd, where the entry still is
	echo "$ETCD" >"$ARCAPI_DIR/etcd_upstream"
	printf '200\n{"header":{},"succeeded":true,"responses":[{"response_delete_range":{"deleted":"1"}}]}\n' \
	    >"$ARCAPI_DIR/etcd-txn"
	run -1 --separate-stderr arc-delete --act -A ar.tgz -S st.json store \
	    "etcd://127.0.0.1:$ARCAPI_PORT$P" <cand
	assert_output "$(printf 'unverified\torphan-manifest\t%s\tUNVERIFIED' "$D/lost.parquet")"
	assert_stderr --partial "'$D/lost.parquet': unverified: the manifest acknowledged the removal but still has the entry"
	assert_equal "$(ekeys)" "$(printf '%s\n' "$P$D/keep.parquet" "$P$D/lost.parquet")"
	assert_equal "$(jq -c '[.manifest_deletes, .verified_deletes, .unverified_deletes]' st.json)" '[1,0,1]'
}
