#!/usr/bin/env bats
# shards.bats - --shard i/n on arc-list, arc-diff and arc-reconcile: the
# paths of shard i of n, by the FNV-1a hash of a path's first two
# segments modulo n (arc(7), SHARDS), computed here a second time, in
# Python, as the oracle.  Against real servers on 127.0.0.1: one s3rver
# and one etcd for the file, and tests/proxy.py in front of the
# s3rver for every shard, whose request logs show what each shard asked.
#
# Each test uses buckets and etcd keys of its own (N its number).  Every
# server and proxy is stopped by its PID.
load test_helper
load servers
bats_require_minimum_version 1.5.0

D=2026/04/11/14		# below a measurement: its files have 7 segments

setup_file() {
	launch_etcd
	start_s3rver_as s3
	wait_named s3
	local k
	for k in 0 1 2 3; do
		start_proxy "p$k" "$(cat "$BATS_FILE_TMPDIR/s3.port")"
	done
	etcd_wait "$ETCD_PORT"
}

teardown_file() {
	local k
	for k in 0 1 2 3; do
		stop_named "p$k"
	done
	stop_named s3
	stop_etcd
}

setup() {
	export ARC_HTTP_ATTEMPTS=2 ARC_HTTP_TIMEOUT=5 ARC_HTTP_BACKOFF_MS=50
	export ETCDCTL_API=3
	export TMPDIR=$BATS_TEST_TMPDIR/tmp
	mkdir -p "$TMPDIR"
	S3_PORT=$(cat "$BATS_FILE_TMPDIR/s3.port")
	S3_DATA=$BATS_FILE_TMPDIR/s3-data
	export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER
	export AWS_ENDPOINT_URL="http://127.0.0.1:$S3_PORT"
	unset AWS_ENDPOINT_URL_S3 AWS_S3_ADDRESSING_STYLE AWS_SESSION_TOKEN
	N=$BATS_TEST_NUMBER
	KILL_PIDS=
}

teardown() {
	stop_test_pids
}

# proxy I: the endpoint of shard I's proxy; plog I: its request log,
# emptied by plog_reset I.
proxy() {
	echo "http://127.0.0.1:$(cat "$BATS_FILE_TMPDIR/p$1.port")"
}
plog() {
	echo "$BATS_FILE_TMPDIR/p$1.requests"
}
plog_reset() {
	: >"$(plog "$1")"
}

# The documented hash written again, in Python, independently of
# lib/shard.c: shard(PATH, N) of a decoded path, unquote(Q) of a record
# path quoted as in arc(7).
ORACLE='
import re, sys, urllib.parse
def shard(p, n):
    h = 0xcbf29ce484222325
    for c in b"/".join(p.split(b"/")[:2]):
        h = ((h ^ c) * 0x100000001b3) & 0xffffffffffffffff
    return h % n
esc = {b"t": b"\t", b"n": b"\n", b"r": b"\r", b"\\": b"\\"}
def unquote(q):
    return re.sub(rb"\\([0-7]{3}|.)", lambda m: bytes([int(m.group(1), 8)])
        if len(m.group(1)) == 3 else esc[m.group(1)], q)
'

# shard_of N: for each record path on standard input (quoted, one a
# line), "SHARD TAB path".
shard_of() {
	python3 -c "$ORACLE"'
n = int(sys.argv[1])
for line in sys.stdin.buffer:
    q = line.rstrip(b"\n")
    sys.stdout.buffer.write(b"%d\t%s\n" % (shard(unquote(q), n), q))
' "$1"
}

# misplaced N COLUMN FILE...: the record paths in field COLUMN of the
# lines of each FILE that are not of shard K of N, K the FILE's place
# among them (0 the first), as "FILE: path"; and "FILE: empty" for a
# FILE with no line.  Nothing when every path is its shard's.
misplaced() {
	python3 -c "$ORACLE"'
n, col = int(sys.argv[1]), int(sys.argv[2])
for k, f in enumerate(sys.argv[3:]):
    lines = [l.rstrip(b"\n") for l in open(f, "rb") if l.strip()]
    if not lines:
        print(f + ": empty")
    for l in lines:
        q = l.split(b"\t")[col - 1]
        if shard(unquote(q), n) != k:
            print(f + ": " + q.decode("utf-8", "replace"))
' "$@"
}

# outside I N LOG: the requests in a proxy LOG that shard I of N must
# not have made, one a line: a listing of a prefix at or below a
# measurement of another shard, a listing above the measurement level
# that is not one level deep (a delimiter listing), a second listing of
# a prefix from its start, or any request on an object key of another
# shard.  Prints "own K" last: K listings of its own measurement
# prefixes.
outside() {
	python3 -c "$ORACLE"'
i, n, log = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
own, starts = 0, set()
for line in open(log):
    method, target = line.split()[:2]
    path, _, query = target.partition("?")
    q = urllib.parse.parse_qs(query, keep_blank_values=True)
    key = urllib.parse.unquote_to_bytes(path).split(b"/", 2)[2:]
    if "list-type" in q:
        prefix = urllib.parse.unquote_to_bytes(q.get("prefix", [""])[0])
        if "continuation-token" not in q and "start-after" not in q:
            if prefix in starts:
                print("listed twice:", line.strip())
            starts.add(prefix)
        if prefix.count(b"/") < 2:
            if "delimiter" not in q:
                print("whole listing above the measurements:", line.strip())
        elif shard(prefix, n) != i:
            print("listing of another shard:", line.strip())
        else:
            own += 1
    elif key and key[0] and shard(key[0], n) != i:
        print("request on another shard'"'"'s object:", line.strip())
print("own", own)
' "$@"
}

# world SIDE: the paths of one side ("store" or "manifest") of a world
# of 3 databases with 6 measurements each: per measurement two files in
# the manifest and the store, one entry without its file (lost) and one
# file without its entry (orph).  The store also has a file at the root
# and one directly in each database and measurement directory: s3rver
# returns a common prefix only when a key sits right below it
# (test-servers.md, s3rver 6), and these make its delimiter listings
# whole.  They are too short to be repaired and are left by every run.
world() {
	local db m f
	for db in db0 db1 db2; do
		for m in cpu mem disk net io swap; do
			for f in a b; do
				echo "$db/$m/$D/$f.parquet"
			done
			if [ "$1" = store ]; then
				echo "$db/$m/$D/orph.parquet"
				echo "$db/$m/direct.parquet"
			else
				echo "$db/$m/$D/lost.parquet"
			fi
		done
		[ "$1" = store ] && echo "$db/shallow.parquet"
	done
	[ "$1" = store ] && echo top.parquet
	return 0
}

# fentry PATH: an NDJSON FileEntry, old, database and measurement from PATH.
fentry() {
	local db=${1%%/*} rest=${1#*/}
	printf '{"path":"%s","created_at":"2026-04-01T00:00:00Z","size_bytes":10,"database":"%s","measurement":"%s","origin_node_id":"node-1","lsn":1}\n' \
	    "$1" "$db" "${rest%%/*}"
}

# plant BUCKET PREFIX: the world in a new bucket and under an etcd prefix.
plant() {
	make_bucket "$1"
	world store | s3seed_many "$1"
	world manifest | while IFS= read -r p; do fentry "$p"; done >"$1.ndjson"
	arc-manifest-load "$1.ndjson" "etcd://$ETCD$2" 2>/dev/null
}

# s3keys BUCKET: the bucket's keys, from s3rver directly.
s3keys() {
	s3curl "$AWS_ENDPOINT_URL/$1?list-type=2" | grep -o '<Key>[^<]*</Key>' |
	    sed 's/<\/*Key>//g'
}

# ekeys PREFIX: the etcd keys under PREFIX with PREFIX removed.
ekeys() {
	etcdctl --endpoints "$ETCD" get --prefix "$1" --keys-only |
	    grep . | sed "s|^$1||"
}

# ---- the option ----------------------------------------------------------

@test "an invalid --shard is exit 2 with one line naming it, on arc-list, arc-diff and arc-reconcile; 0/1 is the whole store" {
	local v
	mkfile store/db/m/$D/f.parquet
	arc-list store >all.rec
	: >m.rec
	for v in 3/3 -1/4 1/0 x; do
		run -2 --separate-stderr arc-list --shard "$v" store
		assert_output ''
		assert_stderr "arc-list: '$v': shard must be i/n, with 0 <= i < n <= 1024"
		run -2 --separate-stderr arc-diff --shard "$v" m.rec all.rec
		assert_output ''
		assert_stderr "arc-diff: '$v': shard must be i/n, with 0 <= i < n <= 1024"
		run -2 --separate-stderr arc-reconcile --state-dir st --shard "$v" store m.rec
		assert_output ''
		assert_stderr "arc-reconcile: '$v': shard must be i/n, with 0 <= i < n <= 1024"
		[ ! -e st ]
	done
	# the positive control: one shard of one is everything
	run -0 --separate-stderr arc-list --shard 0/1 store
	assert_output "$(cat all.rec)"
	run -1 --separate-stderr arc-diff --shard 0/1 m.rec all.rec
	assert_output "orphan-storage	$(cat all.rec)"
	run -1 --separate-stderr arc-reconcile --state-dir st --shard 0/1 store m.rec
	assert_equal "$(jq -r .shard st/runs/*.json)" 0/1
}

@test "each of the four shards of an S3 listing has only its own paths, and together they are the unsharded listing byte for byte" {
	local b=list$N k
	make_bucket "$b"
	{ world store; world manifest; } | sort -u >keys
	s3seed_many "$b" <keys
	run -0 --separate-stderr arc-list -a "s3://$b"
	echo "$output" >all.rec
	cut -f1 all.rec | cmp - keys
	: >union
	for k in 0 1 2 3; do
		run -0 --separate-stderr arc-list -a --shard "$k/4" "s3://$b"
		assert_equal "$stderr" ''
		echo "$output" >"s$k.rec"
		cat "s$k.rec" >>union
	done
	# each path the shard's by the oracle, and no shard empty
	run misplaced 4 1 s0.rec s1.rec s2.rec s3.rec
	assert_output ''
	sort union | cmp - all.rec
	# each path in exactly one shard
	assert_equal "$(cut -f1 union | sort | uniq -d)" ''
	# one job at a time lists the same
	run -0 arc-list -a -j 1 --shard 2/4 "s3://$b"
	assert_output "$(cat s2.rec)"
}

@test "a shard lists the bucket's two upper levels one level at a time and then only its own measurement prefixes, never another shard's" {
	local b=nolist$N k
	make_bucket "$b"
	world store | s3seed_many "$b"
	for k in 0 1 2 3; do
		plog_reset "$k"
		AWS_ENDPOINT_URL=$(proxy "$k") run -0 --separate-stderr \
		    arc-list --shard "$k/4" "s3://$b"
		run outside "$k" 4 "$(plog "$k")"
		assert_equal "${#lines[@]}" 1
		assert_output --regexp '^own [1-9][0-9]*$'
	done
	# the positive control: an unsharded listing lists everything whole,
	# which the same check sees
	plog_reset 0
	AWS_ENDPOINT_URL=$(proxy 0) run -0 --separate-stderr arc-list "s3://$b"
	run outside 0 4 "$(plog 0)"
	assert_output --partial 'whole listing above the measurements'
}

@test "a store prefix is the root of the shard keys: the shards of s3://BUCKET/PREFIX together are its unsharded listing" {
	local b=pre$N k
	make_bucket "$b"
	world store | sed 's|^|pre/x/|' | s3seed_many "$b"
	run -0 arc-list -a "s3://$b/pre/x"
	echo "$output" >all.rec
	: >union
	for k in 0 1 2; do
		arc-list -a --shard "$k/3" "s3://$b/pre/x" >"s$k.rec"
		cat "s$k.rec" >>union
	done
	run misplaced 3 1 s0.rec s1.rec s2.rec
	assert_output ''
	sort union | cmp - all.rec
}

@test "a measurement the server's delimiter listing leaves out is still listed by its shard when the manifest names it, so its entries never look orphaned" {
	local b=hid$N own later p=hid/cpu/$D/x.parquet
	make_bucket "$b"
	# no key right below hid/ or hid/cpu/: s3rver's delimiter listings
	# leave both out (test-servers.md, s3rver 6)
	echo "$p" | s3seed_many "$b"
	own=$(echo hid/cpu | shard_of 4 | cut -f1)
	printf '%s\t2026-04-01T00:00:00Z\t10\tnode-1\t-\n' "$p" >m.rec
	# the control: without the manifest's prefixes the shard misses it
	run -0 --separate-stderr arc-list --shard "$own/4" "s3://$b"
	assert_output ''
	run -0 --separate-stderr arc-list -M m.rec --shard "$own/4" "s3://$b"
	assert_output --regexp "^$p	"
	# the driver always lists with the manifest's prefixes
	fentry "$p" >m.ndjson
	arc-manifest-load m.ndjson "etcd://$ETCD/t$N/m/" 2>/dev/null
	later=$(date -u -d '2 days' +%Y-%m-%dT%H:%M:%SZ)
	run -0 --separate-stderr arc-reconcile --state-dir st --shard "$own/4" \
	    --now "$later" "s3://$b" "etcd://$ETCD/t$N/m/"
	assert_equal "$(jq -r '.orphan_manifest_count, .storage_file_count' st/runs/*.json)" "$(printf '0\n1')"
}

@test "a local shard never opens another shard's measurement directory, and the shards together are the unsharded walk" {
	need_unpriv
	local k p own=
	world store | sed -n 's|^\(.*\)/[^/]*$|store/\1|p' | sort -u |
	    xargs mkdir -p store
	world store | sed 's|^|store/|' | xargs touch
	chmod -R a+rX store
	unpriv test -r "store/db0/cpu/$D/a.parquet" ||
	    skip "the unprivileged user cannot reach the store"
	unpriv arc-list store >all.rec
	: >union
	for k in 0 1 2 3; do
		unpriv arc-list --shard "$k/4" store >"s$k.rec"
		cat "s$k.rec" >>union
	done
	sort union | cmp - all.rec
	# an unreadable measurement directory is only its shard's concern
	own=$(echo db2/net | shard_of 4 | cut -f1)
	chmod 000 store/db2/net
	for k in 0 1 2 3; do
		run --separate-stderr unpriv arc-list --shard "$k/4" store
		if [ "$k" -eq "$own" ]; then
			assert_failure 1
			assert_stderr --partial "'db2/net'"
		else
			assert_success
			assert_equal "$stderr" ''
			assert_output "$(cat "s$k.rec")"
		fi
	done
	chmod 755 store/db2/net
}

@test "arc-diff of a whole manifest and a whole listing, shard by shard, gives the unsharded candidates split by the hash" {
	local k
	{
		world manifest
		printf '%s\n' 'db\\x/m/a.parquet' 'db9/m\tn/b.parquet'
	} | sort | while IFS= read -r p; do
		printf '%s\t2026-04-01T00:00:00Z\t10\tnode-1\t-\n' "$p"
	done >m.rec
	{
		world store
		printf '%s\n' 'db\\x/m/c.parquet' 'db9/m\tn/d.parquet'
	} | sort | while IFS= read -r p; do
		printf '%s\t2026-04-01T00:00:00Z\t10\n' "$p"
	done >s.rec
	run -1 --separate-stderr arc-diff -S all.json m.rec s.rec
	echo "$output" >all.cand
	: >union
	for k in 0 1 2 3; do
		run --separate-stderr arc-diff -S "s$k.json" --shard "$k/4" m.rec s.rec
		echo "$output" >"s$k.cand"
		grep . "s$k.cand" >>union || true
	done
	run misplaced 4 2 s0.cand s1.cand s2.cand s3.cand
	assert_output ''
	sort union | cmp - <(sort all.cand)
	for k in manifest_file_count storage_file_count orphan_manifest_count \
	    orphan_storage_count; do
		assert_equal "$(jq -s "map(.$k) | add" s?.json)" "$(jq ".$k" all.json)"
	done
}

# ---- the driver -------------------------------------------------------------

@test "four shards run at once against one bucket and one etcd manifest delete exactly what one unsharded run deletes in the same world, each path once" {
	local one=one$N sh=sh$N later k rc pids=()
	plant "$one" "/t$N/one/"
	plant "$sh" "/t$N/sh/"
	later=$(date -u -d '2 days' +%Y-%m-%dT%H:%M:%SZ)
	# exit 1: the two files above the measurements are left (too short)
	run -1 --separate-stderr arc-reconcile --state-dir st-one --act \
	    --max-orphan-ratio 1 --now "$later" "s3://$one" "etcd://$ETCD/t$N/one/"
	sort <<<"$output" >one.out
	[ "$(grep -c '^deleted	orphan-manifest	' one.out)" -eq 18 ]
	[ "$(grep -c '^deleted	orphan-storage	' one.out)" -eq 18 ]
	for k in 0 1 2 3; do
		plog_reset "$k"
		AWS_ENDPOINT_URL=$(proxy "$k") arc-reconcile --state-dir "st-$k" \
		    --shard "$k/4" --lock "etcd://$ETCD/t$N/lock" --act \
		    --max-orphan-ratio 1 --now "$later" "s3://$sh" \
		    "etcd://$ETCD/t$N/sh/" >"sh$k.out" 2>"sh$k.err" &
		pids+=($!)
	done
	KILL_PIDS="${pids[*]}"
	for k in 0 1 2 3; do
		rc=0
		wait "${pids[$k]}" || rc=$?
		[ "$rc" -le 1 ] || { cat "sh$k.err"; false; }
		assert_equal "$(jq -r .shard st-$k/runs/*.json)" "$k/4"
		# it asked nothing of another shard's
		run outside "$k" 4 "$(plog "$k")"
		assert_equal "${#lines[@]}" 1
	done
	# each shard's results are of its own paths
	run misplaced 4 3 sh0.out sh1.out sh2.out sh3.out
	assert_output ''
	cat sh?.out | sort >sh.out
	cmp sh.out one.out
	assert_equal "$(cut -f3 sh.out | uniq -d)" ''
	# the same world is left
	assert_equal "$(s3keys "$sh")" "$(s3keys "$one")"
	assert_equal "$(ekeys "/t$N/sh/")" "$(ekeys "/t$N/one/")"
	[ "$(s3keys "$sh" | wc -l)" -eq "$(world store | grep -vc orph)" ]
}

@test "a shard's circuit breaker weighs the drift of its own share, not of the whole manifest" {
	local own other m k
	own=$(echo db/lost | shard_of 4 | cut -f1)
	other=$(( (own + 1) % 4 ))
	# 3 entries without their files in db/lost, in shard $own; 40 whole
	# entries in measurements of other shards
	for k in 1 2 3; do
		fentry "db/lost/$D/f$k.parquet"
	done >m.ndjson
	seq -f 'db/m%g' 0 99 | shard_of 4 |
	    awk -v own="$own" '$1 != own { print $2 }' | head -n 40 >ms
	sed "s|^|store/|; s|\$|/$D|" ms | xargs mkdir -p
	sed "s|^|store/|; s|\$|/$D/f.parquet|" ms | xargs touch -d '2 days ago'
	while IFS= read -r m; do
		fentry "$m/$D/f.parquet"
	done <ms >>m.ndjson
	# 3 of the shard's 3 entries are orphans: over the 0.10 ratio
	run -2 --separate-stderr arc-reconcile --state-dir "st$own" \
	    --shard "$own/4" --act store m.ndjson
	assert_stderr --partial 'implausible_drift'
	assert_equal "$(jq -r .abort_reason st$own/runs/*.json)" implausible_drift
	[ "$(wc -l <m.ndjson)" -eq 43 ]
	# another shard has no drift, and the whole store 3 of 43: both pass
	run -0 --separate-stderr arc-reconcile --state-dir "st$other" \
	    --shard "$other/4" --act store m.ndjson
	run -0 --separate-stderr arc-reconcile --state-dir st --act store m.ndjson
	assert_equal "$(jq -r .manifest_deletes st/runs/*.json)" 3
}

@test "with --lock KEY a shard takes KEY/shard-i-of-n: shard 1's lock held stops shard 1 only" {
	local lock="etcd://$ETCD/t$N/lock" key=/t$N/lock/shard-1-of-4 k
	: >m.rec
	mkdir store
	arc-lock "$lock/shard-1-of-4" sh -c 'echo $$ >child.pid; exec sleep 60' 2>lock.err &
	KILL_PIDS=$!
	for k in $(seq 1 100); do
		[ -s child.pid ] && [ -n "$(etcdctl --endpoints "$ETCD" get "$key" --keys-only)" ] && break
		sleep 0.1
	done
	KILL_PIDS="$KILL_PIDS $(cat child.pid)"
	run -75 --separate-stderr arc-reconcile --state-dir st1 --shard 1/4 --lock "$lock" store m.rec
	assert_stderr --partial "already running"
	assert_stderr --partial "$key"
	[ ! -d st1/runs ] || [ -z "$(ls st1/runs)" ]
	# the positive control: shard 0 runs beside it, and so does shard 1
	# once the lock is free
	run -0 --separate-stderr arc-reconcile --state-dir st0 --shard 0/4 --lock "$lock" store m.rec
	assert_equal "$(jq -r .shard st0/runs/*.json)" 0/4
	kill "$(cat child.pid)"
	wait "${KILL_PIDS%% *}" || true
	run -0 --separate-stderr arc-reconcile --state-dir st1 --shard 1/4 --lock "$lock" store m.rec
	assert_equal "$(jq -r .shard st1/runs/*.json)" 1/4
}
