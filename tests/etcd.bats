#!/usr/bin/env bats
# etcd.bats - manifests kept in etcd (etcd://HOST:PORT[,HOST:PORT...]/PREFIX)
# and the lease-backed lock (arc-reconcile --lock), against real etcd
# 3.4 servers on 127.0.0.1: one member for most tests, a 3-member cluster
# for the failure tests, s3rver for a pipeline on S3, and tests/arcapi.py
# as a fake etcd gateway (answers with missing fields, a failing txn) or a
# proxy that counts requests and changes etcd between two of them.
#
# Every test uses keys of its own under /tN/ (N the test's number), so the
# shared servers need no cleaning.  Each server is stopped by its PID.
load test_helper
load servers
bats_require_minimum_version 1.5.0

D=db/m/2026/04/11/12	# a managed directory: its files have 7 segments

setup_file() {
	# all at once: each takes seconds on a loaded machine
	launch_etcd
	launch_etcd_cluster
	start_arcapi
	start_s3rver
	etcd_wait "$ETCD_PORT"
	wait_etcd_cluster
}

teardown_file() {
	stop_arcapi
	stop_s3rver
	stop_etcd_cluster
	stop_etcd
	# a member a failed test left stopped or a lock etcd of its own
	stop_etcd_member lk
}

setup() {
	# bounded HTTP: a dead endpoint or a lost quorum costs seconds, not minutes
	export ARC_HTTP_ATTEMPTS=2 ARC_HTTP_TIMEOUT=3 ARC_HTTP_BACKOFF_MS=50
	export ETCDCTL_API=3
	export TMPDIR=$BATS_TEST_TMPDIR/tmp
	mkdir -p "$TMPDIR" store
	P=/t$BATS_TEST_NUMBER/files/
	M=etcd://$ETCD$P
	STATE=$BATS_TEST_TMPDIR/state
	reset_arcapi
	KILL_PIDS=
}

teardown() {
	stop_test_pids
}

# ectl [ENDPOINTS] ARG...: etcdctl on the single member (or ENDPOINTS,
# when the first argument holds a ':').
ectl() {
	local ep=$ETCD
	case $1 in *:*) ep=$1; shift ;; esac
	etcdctl --endpoints "$ep" --dial-timeout 3s --command-timeout 10s "$@"
}

# ekeys PREFIX [ENDPOINTS]: the keys under PREFIX, one a line, in order.
ekeys() {
	ectl ${2:+"$2"} get --prefix "$1" -w json |
	    jq -r '.kvs // [] | .[].key | @base64d'
}

# erev KEY: the key's mod_revision.
erev() {
	ectl get "$1" -w json | jq -r '.kvs[0].mod_revision'
}

# fentry PATH [ORIGIN [LSN]]: an NDJSON FileEntry (database and
# measurement from the path) without a jq process.
fentry() {
	local db=${1%%/*} rest=${1#*/}
	printf '{"path":"%s","created_at":"2026-04-11T14:00:00Z","size_bytes":10,"database":"%s","measurement":"%s","origin_node_id":"%s","lsn":%s}\n' \
	    "$1" "$db" "${rest%%/*}" "${2:-node-1}" "${3:-1}"
}

# seed URL PATH...: load entries for PATHs into etcd with arc-manifest-load.
seed() {
	local url=$1 p
	shift
	for p in "$@"; do fentry "$p"; done >"$BATS_TEST_TMPDIR/seed.ndjson"
	arc-manifest-load "$BATS_TEST_TMPDIR/seed.ndjson" "$url" \
	    2>"$BATS_TEST_TMPDIR/seed.err" ||
	    { cat "$BATS_TEST_TMPDIR/seed.err"; return 1; }
}

# b64 STRING
b64() {
	printf '%s' "$1" | base64 -w0
}

# expect N: fail unless the last `run` exited N, showing its stderr.
expect() {
	if [ "$status" -ne "$1" ]; then
		printf 'exit %s, expected %s; stderr:\n%s\n' "$status" "$1" "$stderr"
		return 1
	fi
}

# the_record [STATE]: the one run record in the state directory.
the_record() {
	local s=${1:-$STATE} n
	n=$(find "$s/runs" -name '*.json' 2>/dev/null | wc -l)
	[ "$n" -eq 1 ] || { echo "expected 1 run record in $s, found $n" >&2; return 1; }
	find "$s/runs" -name '*.json'
}

# field JQ [STATE]: a field of the one run record.
field() {
	jq -r "$1" "$(the_record "${2:-}")"
}

# ---- loading and dumping ---------------------------------------------

@test "arc-manifest-load puts each entry at PREFIX plus its path with the entry's JSON as the value" {
	local odd="$D/a b\"é.parquet"
	{ fentry "$D/c.parquet"; jentry "$odd"; fentry "$D/b.parquet"; } >m.ndjson
	run --separate-stderr arc-manifest-load m.ndjson "$M"
	assert_success
	assert_stderr "arc-manifest-load: 3 of 3 entries put"
	run ekeys "$P"
	assert_output "$(printf '%s\n' "$P$odd" "$P$D/b.parquet" "$P$D/c.parquet")"
	run ectl get --print-value-only "$P$odd"
	[ "$(jq -r .path <<<"$output")" = "$odd" ]
	[ "$(jq -r .origin_node_id <<<"$output")" = node-1 ]
}

@test "arc-manifest-load -c keeps a key that exists and says how many it put" {
	fentry "$D/a.parquet" node-9 9 >first.ndjson
	arc-manifest-load first.ndjson "$M" 2>/dev/null
	{ fentry "$D/a.parquet" node-1 1; fentry "$D/b.parquet"; } >m.ndjson
	run --separate-stderr arc-manifest-load -c m.ndjson "$M"
	assert_success
	assert_stderr "arc-manifest-load: 1 of 2 entries put (existing keys kept)"
	run ectl get --print-value-only "$P$D/a.parquet"
	[ "$(jq -r .origin_node_id <<<"$output")" = node-9 ]
	run ekeys "$P"
	assert_output "$(printf '%s\n' "$P$D/a.parquet" "$P$D/b.parquet")"
}

@test "arc-manifest-dump writes the keys under the prefix as sorted records whose rev is each key's mod_revision" {
	# one put each, out of order, so that every key has its own revision
	ectl put "$P$D/c.parquet" "$(fentry "$D/c.parquet" node-3 900003)" >/dev/null
	ectl put "$P$D/a.parquet" "$(fentry "$D/a.parquet" node-1 900001)" >/dev/null
	ectl put "$P$D/b.parquet" "$(fentry "$D/b.parquet" node-2 900002)" >/dev/null
	# neighbours of the prefix that are not under it
	ectl put "${P%/}" "$(fentry "$D/x.parquet")" >/dev/null
	ectl put "${P%/}0/$D/y.parquet" "$(fentry "$D/y.parquet")" >/dev/null
	run --separate-stderr arc-manifest-dump "$M"
	assert_success
	assert_output "$(printf '%s\t2026-04-11T14:00:00Z\t10\t%s\t%s\n' \
	    "$D/a.parquet" node-1 "$(erev "$P$D/a.parquet")" \
	    "$D/b.parquet" node-2 "$(erev "$P$D/b.parquet")" \
	    "$D/c.parquet" node-3 "$(erev "$P$D/c.parquet")")"
	# the revisions are etcd's, not the entries' lsn
	refute_output --partial 90000
}

@test "arc-manifest-dump over more than 10000 keys reads every page at the first page's revision" {
	local big=/t$BATS_TEST_NUMBER/big/ rev0 body2
	awk -v d="$D" 'BEGIN { for (i = 0; i < 10050; i++)
	    printf "{\"path\":\"%s/f%05d.parquet\",\"created_at\":\"2026-04-11T14:00:00Z\",\"size_bytes\":10,\"database\":\"db\",\"measurement\":\"m\",\"origin_node_id\":\"n1\",\"lsn\":1}\n", d, i }' >big.ndjson
	arc-manifest-load big.ndjson "etcd://$ETCD$big" 2>/dev/null
	rev0=$(ectl get / -w json | jq -r .header.revision)
	# through the proxy: once the first page is read, delete the last 50
	# keys (all on the second page) and register a new one there
	echo "$ETCD" >"$ARCAPI_DIR/etcd_upstream"
	printf '/v3/kv/deleterange {"key":"%s","range_end":"%s"}\n/v3/kv/put {"key":"%s","value":"%s"}\n' \
	    "$(b64 "$big$D/f10000.parquet")" "$(b64 "$big$D/f99999.parquet")" \
	    "$(b64 "$big$D/f10001x.parquet")" \
	    "$(b64 "$(fentry "$D/f10001x.parquet")")" >"$ARCAPI_DIR/after.1.etcd"
	arc-manifest-dump "etcd://127.0.0.1:$ARCAPI_PORT$big" >out 2>err || {
		cat err; false; }
	# the snapshot: all 10050 keys as they were, not the new one
	[ "$(wc -l <out)" -eq 10050 ]
	diff <(cut -f1 out) <(jq -r .path big.ndjson)
	# two pages, the second at the first one's revision, after its last key
	[ "$(grep -c '"/v3/kv/range"' "$ARCAPI_DIR/requests.log")" -eq 2 ]
	body2=$(grep '"/v3/kv/range"' "$ARCAPI_DIR/requests.log" | sed -n 2p | jq -r .body)
	[ "$(jq -r .revision <<<"$body2")" = "$rev0" ]
	[ "$(jq -r .key <<<"$body2" | base64 -d | tr '\0' '@')" = "$big$D/f09999.parquet@" ]
	# and etcd did change meanwhile
	[ "$(ekeys "$big" | wc -l)" -eq 10001 ]
}

@test "arc-manifest-dump with small pages narrows its ranges and still writes every key once, in order, at one revision" {
	local big=/t$BATS_TEST_NUMBER/w/ n rev0 ranges
	# 3 databases x 4 measurements x 3 days x 24 hours x 3 files, and
	# names that are prefixes of one another or sit alone in a directory
	awk 'BEGIN { for (d = 0; d < 3; d++) for (m = 0; m < 4; m++)
	    for (y = 10; y < 13; y++) for (h = 0; h < 24; h++) for (f = 0; f < 3; f++)
	    printf "db%d/m%d/2026/04/%02d/%02d/f%d.parquet\n", d, m, y, h, f }' >paths
	printf '%s\n' db1/m1/2026/04/10/00/f0.parquet.parquet db1/lone/x.parquet \
	    db1/m1/2026/04/10/00/f.parquet db9/z.parquet >>paths
	while read -r p; do fentry "$p"; done <paths >w.ndjson
	n=$(wc -l <paths)
	arc-manifest-load w.ndjson "etcd://$ETCD$big" 2>/dev/null
	rev0=$(ectl get / -w json | jq -r .header.revision)
	arc-manifest-dump "etcd://$ETCD$big" >whole 2>err || { cat err; false; }
	[ "$(wc -l <whole)" -eq "$n" ]
	diff <(cut -f1 whole) <(LC_ALL=C sort paths)
	echo "$ETCD" >"$ARCAPI_DIR/etcd_upstream"
	for k in 7 250; do
		: >"$ARCAPI_DIR/requests.log"
		ARC_ETCD_PAGE_KEYS=$k arc-manifest-dump \
		    "etcd://127.0.0.1:$ARCAPI_PORT$big" >paged 2>err || { cat err; false; }
		diff whole paged
		grep '"/v3/kv/range"' "$ARCAPI_DIR/requests.log" | jq -r .body >ranges
		# every page but the first at the first page's revision
		[ "$(sed 1d ranges | jq -r .revision | sort -u)" = "$rev0" ]
		# ranges narrower than the prefix were asked for, and not
		# many more requests than pages
		[ "$(jq -r .range_end ranges | sort -u | wc -l)" -gt 1 ]
		[ "$(wc -l <ranges)" -le $((3 * n / k + 60)) ]
	done
}

@test "arc-manifest-dump refuses an ARC_ETCD_PAGE_KEYS that is not a count, exit 2" {
	seed "$M" "$D/a.parquet"
	ARC_ETCD_PAGE_KEYS=0 run --separate-stderr arc-manifest-dump "$M"
	assert_equal "$status" 2
	assert_output ''
	assert_stderr --partial ARC_ETCD_PAGE_KEYS
}

@test "arc-manifest-dump -d DATABASE with an etcd manifest never writes another database's entries" {
	seed "$M" db1/m/2026/04/11/12/a.parquet db2/m/2026/04/11/12/b.parquet
	run --separate-stderr arc-manifest-dump -d db1 "$M"
	# either it filters or it refuses; it never passes off the whole manifest
	if [ "$status" -eq 0 ]; then
		assert_output "$(printf 'db1/m/2026/04/11/12/a.parquet\t2026-04-11T14:00:00Z\t10\tnode-1\t%s' \
		    "$(erev "${P}db1/m/2026/04/11/12/a.parquet")")"
	else
		assert_equal "$status" 2
		assert_output ""
	fi
}

@test "an etcd range answer without a revision, or a key without its mod_revision, is an error and nothing is written" {
	printf '200\n{"header":{}}\n' >"$ARCAPI_DIR/etcd-range"
	run --separate-stderr arc-manifest-dump "etcd://127.0.0.1:$ARCAPI_PORT/x/"
	assert_failure 2
	assert_output ""
	assert_stderr --partial "a range answer without a revision"

	printf '200\n{"header":{"revision":"7"},"kvs":[{"key":"%s","value":"%s","create_revision":"5"}],"count":"1"}\n' \
	    "$(b64 "/x/$D/a.parquet")" "$(b64 "$(fentry "$D/a.parquet")")" \
	    >"$ARCAPI_DIR/etcd-range"
	run --separate-stderr arc-manifest-dump "etcd://127.0.0.1:$ARCAPI_PORT/x/"
	assert_failure 2
	assert_output ""
	assert_stderr --partial "mod_revision"
}

@test "arc-manifest-dump through a list whose first endpoint is dead reads from the next one" {
	local dead
	dead=$(free_port)
	seed "$M" "$D/a.parquet" "$D/b.parquet"
	run --separate-stderr arc-manifest-dump "etcd://127.0.0.1:$dead,$ETCD$P"
	assert_success
	assert_line --index 0 --partial "$D/a.parquet"
	assert_line --index 1 --partial "$D/b.parquet"
	[ "${#lines[@]}" -eq 2 ]
}

# ---- arc-recheck: live lookups -----------------------------------------

@test "arc-recheck rejects an orphan-storage candidate whose path was registered in etcd after the dump" {
	old_files store "$D/late.parquet" "$D/orphan.parquet"
	printf 'orphan-storage\t%s\t2026-04-09T00:00:00Z\t10\n' \
	    "$D/late.parquet" "$D/orphan.parquet" >cand
	seed "$M" "$D/late.parquet"
	run --separate-stderr arc-recheck -R rej store "$M" <cand
	assert_output "$(printf 'orphan-storage\t%s\t2026-04-09T00:00:00Z\t10' "$D/orphan.parquet")"
	run cat rej
	assert_output "$(printf 'in-manifest\torphan-storage\t%s\t2026-04-09T00:00:00Z\t10\tRECHECK_REGISTERED\t-' "$D/late.parquet")"
}

@test "arc-recheck through a dead first endpoint still finds a registered path" {
	local dead
	dead=$(free_port)
	old_files store "$D/late.parquet"
	printf 'orphan-storage\t%s\t2026-04-09T00:00:00Z\t10\n' "$D/late.parquet" >cand
	seed "$M" "$D/late.parquet"
	run --separate-stderr arc-recheck -R rej store "etcd://127.0.0.1:$dead,$ETCD$P" <cand
	assert_output ""
	run cat rej
	assert_output --regexp "^in-manifest	orphan-storage	$D/late.parquet	"
}

@test "arc-recheck takes an etcd lookup answer without a header as an error, never as absent" {
	old_files store "$D/x.parquet"
	printf 'orphan-storage\t%s\t2026-04-09T00:00:00Z\t10\n' "$D/x.parquet" >cand
	printf '200\n{}\n' >"$ARCAPI_DIR/etcd-range"
	run --separate-stderr arc-recheck -R rej store "etcd://127.0.0.1:$ARCAPI_PORT/x/" <cand
	assert_output ""
	run cat rej
	assert_output --regexp "^error	orphan-storage	$D/x.parquet	"
}

@test "arc-recheck takes an etcd lookup answer without a revision as an error, never as absent" {
	old_files store "$D/x.parquet"
	printf 'orphan-storage\t%s\t2026-04-09T00:00:00Z\t10\n' "$D/x.parquet" >cand
	printf '200\n{"header":{}}\n' >"$ARCAPI_DIR/etcd-range"
	run --separate-stderr arc-recheck -R rej store "etcd://127.0.0.1:$ARCAPI_PORT/x/" <cand
	assert_output ""
	run cat rej
	assert_output --regexp "^error	orphan-storage	$D/x.parquet	"
}

# ---- arc-delete: compare-and-delete ------------------------------------

@test "arc-delete keeps an entry re-registered since the dump ('changed') and reports one deleted meanwhile as 'gone'" {
	seed "$M" "$D/a.parquet" "$D/b.parquet" "$D/c.parquet"
	arc-manifest-dump "$M" | sed 's/^/orphan-manifest\t/' >cand
	# a writer registers b again and someone else removes c
	ectl put "$P$D/b.parquet" "$(fentry "$D/b.parquet" node-2 2)" >/dev/null
	ectl del "$P$D/c.parquet" >/dev/null
	run --separate-stderr arc-delete --act -A arch.tgz store "$M" <cand
	assert_failure 1
	assert_output "$(printf '%s\torphan-manifest\t%s\t%s\n' \
	    deleted "$D/a.parquet" DELETED \
	    changed "$D/b.parquet" CHANGED_SINCE_LISTING \
	    gone "$D/c.parquet" GONE)"
	run ekeys "$P"
	assert_output "$P$D/b.parquet"
	run ectl get --print-value-only "$P$D/b.parquet"
	[ "$(jq -r .origin_node_id <<<"$output")" = node-2 ]
}

@test "arc-delete keeps an etcd entry whose candidate has no rev ('changed': etcd gives every entry one), and deletes the one with its mod_revision" {
	seed "$M" "$D/a.parquet" "$D/b.parquet"
	arc-manifest-dump "$M" | sed 's/^/orphan-manifest\t/' >cand
	# b's candidate as a dump of a file manifest without LSNs writes it
	awk -F '\t' -v OFS='\t' '/b\.parquet/ { $6 = "-" } { print }' cand >c2
	run --separate-stderr arc-delete --act -A arch.tgz store "$M" <c2
	assert_failure 1
	assert_output "$(printf '%s\torphan-manifest\t%s\t%s\n' \
	    deleted "$D/a.parquet" DELETED \
	    changed "$D/b.parquet" CHANGED_SINCE_LISTING)"
	run ekeys "$P"
	assert_output "$P$D/b.parquet"
}

@test "arc-delete removes 300 entries in one batch (more than etcd's 128 operations a transaction) and keeps one re-registered among them" {
	local i keep
	for i in $(seq -w 1 300); do fentry "$D/f$i.parquet"; done >m.ndjson
	arc-manifest-load m.ndjson "$M" 2>/dev/null
	arc-manifest-dump "$M" | sed 's/^/orphan-manifest\t/' >cand
	keep=$P$D/f200.parquet
	ectl put "$keep" "$(fentry "$D/f200.parquet" node-2 2)" >/dev/null
	run --separate-stderr arc-delete --act -A arch.tgz -b 1000 -n 1000 store "$M" <cand
	assert_failure 1
	[ "$(grep -c '^deleted	orphan-manifest	' <<<"$output")" -eq 299 ]
	assert_line "$(printf 'changed\torphan-manifest\t%s\tCHANGED_SINCE_LISTING' "$D/f200.parquet")"
	run ekeys "$P"
	assert_output "$keep"
}

@test "a transaction error that is not a failed compare stops arc-delete with exit 4 before any file is deleted" {
	seed "$M" "$D/lost.parquet"
	old_files store "$D/orphan.parquet"
	{
		arc-manifest-dump "$M" | sed 's/^/orphan-manifest\t/'
		printf 'orphan-storage\t%s\t2026-04-09T00:00:00Z\t10\n' "$D/orphan.parquet"
	} >cand
	# the proxy passes everything on to etcd but answers every txn with
	# an error etcd gives (too many operations)
	echo "$ETCD" >"$ARCAPI_DIR/etcd_upstream"
	printf '400\n{"error":"etcdserver: too many operations in txn request","message":"etcdserver: too many operations in txn request","code":3}\n' \
	    >"$ARCAPI_DIR/etcd-txn"
	run --separate-stderr arc-delete --act -A arch.tgz store "etcd://127.0.0.1:$ARCAPI_PORT$P" <cand
	assert_failure 4
	assert_stderr --partial "too many operations in txn request"
	assert_line "$(printf 'failed\torphan-manifest\t%s\tDELETE_FAILED' "$D/lost.parquet")"
	refute_line --partial "deleted"
	[ -f "store/$D/orphan.parquet" ]
	run ekeys "$P"
	assert_output "$P$D/lost.parquet"
}

@test "arc-delete through a list whose first endpoint is dead deletes through the next one" {
	local dead
	dead=$(free_port)
	seed "$M" "$D/a.parquet" "$D/b.parquet"
	arc-manifest-dump "$M" | sed 's/^/orphan-manifest\t/' >cand
	run --separate-stderr arc-delete --act -A arch.tgz store "etcd://127.0.0.1:$dead,$ETCD$P" <cand
	assert_success
	assert_output "$(printf 'deleted\torphan-manifest\t%s\tDELETED\n' "$D/a.parquet" "$D/b.parquet")"
	run ekeys "$P"
	assert_output ""
}

# ---- the driver: etcd manifest with a local store and with S3 ------------

# plant_local: in sync a, b; orphan-manifest lost1, lost2 (entries only);
# orphan-storage orph1, orph2 (old files only); young (a new file only).
plant_local() {
	seed "$M" "$D/a.parquet" "$D/b.parquet" "$D/lost1.parquet" "$D/lost2.parquet"
	old_files store "$D/a.parquet" "$D/b.parquet" "$D/orph1.parquet" "$D/orph2.parquet"
	printf 'new\n' >"store/$D/young.parquet"
}

@test "the driver's dry run with an etcd manifest and a local store reports the drift and changes nothing" {
	plant_local
	find store -type f | sort >before
	run --separate-stderr arc-reconcile --state-dir "$STATE" store "$M"
	expect 1
	[ "$(field .dry_run)" = true ]
	[ "$(field .aborted)" = false ]
	[ "$(field .manifest_file_count)" -eq 4 ]
	[ "$(field .orphan_manifest_count)" -eq 2 ]
	[ "$(field .orphan_storage_count)" -eq 2 ]
	[ "$(field .skipped_grace)" -eq 1 ]
	[ "$(field '.orphan_manifest_sample | join(",")')" = "$D/lost1.parquet,$D/lost2.parquet" ]
	[ "$(field '.orphan_storage_sample | join(",")')" = "$D/orph1.parquet,$D/orph2.parquet" ]
	run ekeys "$P"
	[ "${#lines[@]}" -eq 4 ]
	diff before <(find store -type f | sort)
}

@test "the driver's act run with an etcd manifest and a local store removes the orphan entries and files and nothing else" {
	plant_local
	run --separate-stderr arc-reconcile --state-dir "$STATE" --act --max-orphan-ratio 1 store "$M"
	expect 0
	[ "$(field .dry_run)" = false ]
	[ "$(field .aborted)" = false ]
	[ "$(field .manifest_deletes)" -eq 2 ]
	[ "$(field .storage_deletes)" -eq 2 ]
	run ekeys "$P"
	assert_output "$(printf '%s\n' "$P$D/a.parquet" "$P$D/b.parquet")"
	run sh -c 'find store -type f | sort'
	assert_output "$(printf 'store/%s\n' "$D/a.parquet" "$D/b.parquet" "$D/young.parquet")"
	# the archive holds the removed entries as they were in etcd
	tar -xzf "$(field .archive)" -O --wildcards '*manifest-entries.ndjson' >entries
	[ "$(jq -r .path entries | sort | tr '\n' ' ')" = "$D/lost1.parquet $D/lost2.parquet " ]
}

# plant_s3 BUCKET: as plant_local, in an s3rver bucket (no young object:
# every object is new, and the runs look at it two days from now).
plant_s3() {
	make_bucket "$1"
	seed "$M" "$D/a.parquet" "$D/b.parquet" "$D/lost1.parquet" "$D/lost2.parquet"
	local p
	for p in a b orph1 orph2; do
		s3put "$1" "$D/$p.parquet"
	done
}

# s3keys BUCKET: the keys in the bucket, from s3rver directly.
s3keys() {
	s3curl "$AWS_ENDPOINT_URL/$1?list-type=2" | grep -o '<Key>[^<]*</Key>' |
	    sed 's/<\/*Key>//g'
}

@test "the driver's dry run with an etcd manifest and an S3 bucket reports the drift and changes nothing" {
	local b=dry$BATS_TEST_NUMBER later
	plant_s3 "$b"
	later=$(date -u -d '2 days' +%Y-%m-%dT%H:%M:%SZ)
	run --separate-stderr arc-reconcile --state-dir "$STATE" --now "$later" "s3://$b" "$M"
	expect 1
	[ "$(field .orphan_manifest_count)" -eq 2 ]
	[ "$(field .orphan_storage_count)" -eq 2 ]
	[ "$(field .manifest_deletes)" -eq 2 ]	# would-deletes in a dry run
	[ "$(field .storage_deletes)" -eq 2 ]
	run ekeys "$P"
	[ "${#lines[@]}" -eq 4 ]
	run s3keys "$b"
	[ "${#lines[@]}" -eq 4 ]
}

@test "the driver's act run with an etcd manifest and an S3 bucket removes the orphan entries and objects and nothing else" {
	local b=act$BATS_TEST_NUMBER later
	plant_s3 "$b"
	later=$(date -u -d '2 days' +%Y-%m-%dT%H:%M:%SZ)
	run --separate-stderr arc-reconcile --state-dir "$STATE" --act --max-orphan-ratio 1 \
	    --now "$later" "s3://$b" "$M"
	expect 0
	[ "$(field .manifest_deletes)" -eq 2 ]
	[ "$(field .storage_deletes)" -eq 2 ]
	run ekeys "$P"
	assert_output "$(printf '%s\n' "$P$D/a.parquet" "$P$D/b.parquet")"
	run s3keys "$b"
	assert_output "$(printf '%s\n' "$D/a.parquet" "$D/b.parquet")"
}

# ---- the lock ------------------------------------------------------------

@test "two drivers started at once with the same --lock: one runs, the other exits 75 and writes no run record" {
	local lock="etcd://$ETCD/t$BATS_TEST_NUMBER/locks/reconcile" p1 p2 r1=0 r2=0
	local loser winner lerr wrc
	old_files store "$D/a.parquet"
	# a manifest answer that takes a second keeps the winner busy
	echo 1 >"$ARCAPI_DIR/delay"
	arc-reconcile --state-dir s1 --lock "$lock" store "arc+http://127.0.0.1:$ARCAPI_PORT" \
	    >out1 2>err1 &
	p1=$!
	arc-reconcile --state-dir s2 --lock "$lock" store "arc+http://127.0.0.1:$ARCAPI_PORT" \
	    >out2 2>err2 &
	p2=$!
	KILL_PIDS="$p1 $p2"
	wait "$p1" || r1=$?
	wait "$p2" || r2=$?
	if [ "$r1" -eq 75 ]; then
		loser=s1 winner=s2 lerr=err1 wrc=$r2
	else
		loser=s2 winner=s1 lerr=err2 wrc=$r1
	fi
	[ "$r1" -eq 75 ] || [ "$r2" -eq 75 ] || { cat err1 err2; false; }
	[ "$wrc" -eq 0 ] || [ "$wrc" -eq 1 ] || { cat err1 err2; false; }
	run cat "$lerr"
	assert_output --partial "already running"
	assert_output --partial "/t$BATS_TEST_NUMBER/locks/reconcile"
	[ "$(find "$loser" -name '*.json' 2>/dev/null | wc -l)" -eq 0 ]
	the_record "$winner"
	# released at the end
	run ekeys "/t$BATS_TEST_NUMBER/locks/"
	assert_output ""
}

@test "a crashed holder's lock is held until its lease expires, then the next run takes it" {
	local lock="etcd://$ETCD/t$BATS_TEST_NUMBER/locks/reconcile" key lpid i
	key=/t$BATS_TEST_NUMBER/locks/reconcile
	plant_local
	arc-lock -t 3 "$lock" sh -c 'echo $$ >child.pid; exec sleep 60' 2>lock.err &
	lpid=$!
	KILL_PIDS=$lpid
	for i in $(seq 1 100); do
		[ -s child.pid ] && [ -n "$(ekeys "$key")" ] && break
		sleep 0.1
	done
	KILL_PIDS="$lpid $(cat child.pid)"
	kill -9 "$lpid"
	kill "$(cat child.pid)"
	# the lease outlives its holder: still held
	run --separate-stderr arc-reconcile --state-dir "$STATE" --lock "$lock" store "$M"
	expect 75
	[ ! -d "$STATE/runs" ] || [ -z "$(ls "$STATE/runs")" ]
	# until the TTL has passed
	for i in $(seq 1 100); do
		[ -z "$(ekeys "$key")" ] && break
		sleep 0.1
	done
	run --separate-stderr arc-reconcile --state-dir "$STATE" --lock "$lock" store "$M"
	expect 1	# the dry run's drift
	the_record
}

@test "a lease lost mid-run aborts the run with lease_lost and exit 2, and no file is deleted after the loss" {
	local main=$ETCD lk lease n i rc=0 at_loss left
	start_etcd lk
	lk=$ETCD
	ETCD=$main
	# a slow manifest (every answer takes 0.2 s): with --batch 1 each
	# storage delete waits for one live lookup
	fentry "$D/a.parquet" >"$ARCAPI_DIR/manifest.ndjson"
	old_files store "$D/a.parquet"
	n=120
	for i in $(seq -w 1 $n); do printf '%s\n' "$D/o$i.parquet"; done >orphans
	old_files store $(cat orphans)
	echo 0.2 >"$ARCAPI_DIR/delay"
	arc-reconcile --state-dir "$STATE" --act --batch 1 --max-orphan-ratio 1 \
	    --lock "etcd://$lk/locks/reconcile" store "arc+http://127.0.0.1:$ARCAPI_PORT" \
	    >out 2>err &
	pid=$!
	KILL_PIDS=$pid
	# the driver keeps the lost-lease mark in a private directory
	lease_mark() { ls "${TMPDIR:-/tmp}"/arc-lease.*/lost 2>/dev/null | head -n 1; }
	# once deleting has begun, etcd goes away
	for i in $(seq 1 600); do
		[ "$(find store -name 'o*.parquet' | wc -l)" -lt $n ] && break
		sleep 0.05
	done
	[ "$(find store -name 'o*.parquet' | wc -l)" -lt $n ]
	stop_etcd_member lk
	# the loss is noticed within the 15 s TTL
	at_loss=
	for i in $(seq 1 500); do
		if [ -n "$(lease_mark)" ]; then
			at_loss=$(find store -name 'o*.parquet' | wc -l)
			break
		fi
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	wait "$pid" || rc=$?
	[ -n "$at_loss" ] || { echo "the run ended before the loss was noticed"; cat err; false; }
	[ "$rc" -eq 2 ] || { cat err; false; }
	[ "$(field .aborted)" = true ]
	[ "$(field .abort_reason)" = lease_lost ]
	# at most the one batch in flight when the loss was seen
	left=$(find store -name 'o*.parquet' | wc -l)
	[ "$left" -ge $((at_loss - 1)) ]
	[ "$left" -gt 0 ]
	[ -f "store/$D/a.parquet" ]
}

# ---- a 3-member cluster --------------------------------------------------

# cluster_url: the cluster's endpoints, the leader's first, with $P.
cluster_url() {
	local l ep rest=
	l=$(etcd_leader) || return 1
	ep=127.0.0.1:$(cat "$BATS_FILE_TMPDIR/etcd-$l/port")
	for e in $ETCD_M1 $ETCD_M2 $ETCD_M3; do
		[ "$e" = "$ep" ] || rest="$rest,$e"
	done
	echo "etcd://$ep$rest$P"
}

@test "killing the etcd leader during a run does not fail it" {
	local url leader pid rc=0
	url=$(cluster_url)
	leader=$(etcd_leader)
	M=$url
	plant_local
	arc-reconcile --state-dir "$STATE" --act --max-orphan-ratio 1 store "$url" >out 2>err &
	pid=$!
	KILL_PIDS=$pid
	# the run has started: its first audit event is written
	for i in $(seq 1 200); do
		[ -s "$STATE/audit.log" ] && break
		sleep 0.02
	done
	kill -0 "$pid"
	stop_etcd_member "$leader" KILL
	wait "$pid" || rc=$?
	restart_etcd_member "$leader"
	[ "$rc" -eq 0 ] || { cat err; false; }
	[ "$(field .aborted)" = false ]
	[ "$(field .manifest_deletes)" -eq 2 ]
	[ "$(field .storage_deletes)" -eq 2 ]
	run ekeys "$P" "$ETCD_CLUSTER"
	assert_output "$(printf '%s\n' "$P$D/a.parquet" "$P$D/b.parquet")"
	etcd_wait "$(cat "$BATS_FILE_TMPDIR/etcd-$leader/port")"
}

@test "with two of three members down a run aborts and deletes no file; restarted, the members rejoin with the data intact" {
	local m
	M=etcd://$ETCD_CLUSTER$P
	export ARC_HTTP_TIMEOUT=2	# each try on the lone member times out
	plant_local
	find store -type f | sort >before
	wait_etcd_cluster
	stop_etcd_member m1 KILL
	stop_etcd_member m2 KILL
	run --separate-stderr arc-reconcile --state-dir "$STATE" --act --max-orphan-ratio 1 store "$M"
	restart_etcd_member m1
	restart_etcd_member m2
	[ "$status" -eq 2 ] || [ "$status" -eq 4 ] || { echo "$stderr"; false; }
	[ "$(field .aborted)" = true ]
	case $(field .abort_reason) in
	manifest_unreadable | raft_quorum_loss) ;;
	*) field .abort_reason; false ;;
	esac
	[ "$(field .storage_deletes)" -eq 0 ]
	diff before <(find store -type f | sort)
	# back in the cluster: each member serves a linearizable read of the
	# entries, none of them deleted
	wait_etcd_cluster
	for m in $ETCD_M1 $ETCD_M2 $ETCD_M3; do
		run ekeys "$P" "$m"
		[ "${#lines[@]}" -eq 4 ]
	done
}
