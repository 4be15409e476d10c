#!/usr/bin/env bats
# race.bats - races: a writer that keeps creating and registering files
# while act runs of the driver repeat back to back (local store and S3),
# with a clock override far ahead so that the grace window protects
# nothing and only the live re-checks do; an entry registered between the
# dump and the delete; an entry deleted and registered again; a file
# rewritten after the listing (--if-unchanged); and storage clocks ahead
# of and behind the host's by more than the skew allowance.
load test_helper
load servers
load crashlib
bats_require_minimum_version 1.5.0

NOW=2099-01-01T00:00:00Z	# --now far ahead: every file is past its grace
OLD='2026-04-01 00:00:00'
H=2026/04/10/12

setup_file() {
	[ -d "$ARC_NODE_MODULES/s3rver" ] || {
		echo "the npm test servers are missing: sh tests/deps.sh build test" >&2
		return 1
	}
	start_s3rver_as s3	# waited for by the first S3 test
}

teardown_file() {
	stop_named s3
}

setup() {
	pause_init
	STORE=$BATS_TEST_TMPDIR/store
	MANIFEST=$BATS_TEST_TMPDIR/manifest.ndjson
	STATE=$BATS_TEST_TMPDIR/state
	LOGS=$BATS_TEST_TMPDIR/logs
	mkdir -p "$STORE" "$LOGS"
	: >"$MANIFEST"
	: >"$LOGS/written"
	: >"$LOGS/ghosts"
	: >"$LOGS/decoys"
	export TMPDIR=$BATS_TEST_TMPDIR/tmp
	mkdir -p "$TMPDIR"
}

teardown() {
	if [ -n "${WRITER:-}" ]; then
		kill "$WRITER" 2>/dev/null || true
		wait "$WRITER" 2>/dev/null || true
	fi
	cleanup_victims
}

# use_s3: wait for the s3rver of setup_file and point AWS_* at it; make
# bucket $1 and point STORE at it.
use_s3() {
	wait_named s3 || return 1
	S3_PORT=$(cat "$BATS_FILE_TMPDIR/s3.port")
	S3_DATA=$BATS_FILE_TMPDIR/s3-data
	export S3_PORT S3_DATA
	export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER
	export AWS_ENDPOINT_URL="http://127.0.0.1:$S3_PORT"
	unset AWS_ENDPOINT_URL_S3 AWS_S3_ADDRESSING_STYLE AWS_SESSION_TOKEN \
	    AWS_REGION AWS_DEFAULT_REGION AWS_CA_BUNDLE
	make_bucket "$1"
	BUCKET=$1
	STORE=s3://$1
}

# fentry PATH [LSN]: one FileEntry line.
fentry() {
	local db=${1%%/*} rest=${1#*/}
	printf '{"path":"%s","created_at":"2026-04-01T00:00:00Z","size_bytes":10,"database":"%s","measurement":"%s","origin_node_id":"node-1","lsn":%s}\n' \
	    "$1" "$db" "${rest%%/*}" "${2:-1}"
}

# register PATH [LSN]: append PATH's entry as a writer must, under an
# exclusive flock of MANIFEST.lock.
register() {
	flock "$MANIFEST.lock" sh -c 'cat >>"$1"' sh "$MANIFEST" <<<"$(fentry "$@")"
}

# put PATH [CONTENT]: a store file (local), dated $OLD.
put() {
	mkdir -p "$STORE/$(dirname "$1")"
	printf '%s\n' "${2:-data:$1}" >"$STORE/$1"
	touch -d "$OLD" "$STORE/$1"
}

# s3keys: every object key of $BUCKET, sorted (from s3rver's directory).
s3keys() {
	(cd "$S3_DATA/$BUCKET" && find . -type f -name '*._S3rver_object' -printf '%P\n' |
	    sed 's/\._S3rver_object$//' | sort)
}

# store_paths: every file of the store (local or $BUCKET), sorted.
store_paths() {
	case $STORE in
	s3://*) s3keys ;;
	*) (cd "$STORE" && find . -type f -printf '%P\n' | sort) ;;
	esac
}

# manifest_paths: the manifest's paths, sorted.
manifest_paths() {
	jq -r .path "$MANIFEST" | sort
}

# candidates [ARC-DIFF OPTION...]: dump, list, diff and re-check, as the
# driver does, into m.rec, s.rec, cand and ok.
candidates() {
	arc-manifest-dump "$MANIFEST" >m.rec
	arc-list "$STORE" >s.rec
	run --separate-stderr arc-diff "$@" m.rec s.rec
	[ "$status" -le 1 ]
	printf '%s\n' "$output" | sed '/^$/d' >cand
	arc-recheck "$@" "$STORE" "$MANIFEST" <cand >ok || [ $? -eq 1 ]
}

# ---- a writer racing repeated act runs ---------------------------------

# race_runs SECONDS [OPTION...]: act runs of the driver on $STORE and
# $MANIFEST back to back while $WRITER runs, at most SECONDS in all; each
# must complete (exit 0 or 1).  Sets RUNS (the runs made), OVERLAPPED (the
# runs during which the writer registered files), GHOSTS_FIXED and
# DECOYS_FIXED (the manifest and storage deletes of all the runs), and
# leaves in ghosts.seen and decoys.seen the ghosts and decoys that the
# writer had made when the last run started: that run must repair them.
race_runs() {
	local limit=$1 before after rc m s
	shift
	RUNS=0 OVERLAPPED=0 GHOSTS_FIXED=0 DECOYS_FIXED=0
	local end=$((SECONDS + limit))
	while kill -0 "$WRITER" 2>/dev/null && [ "$SECONDS" -lt "$end" ]; do
		cp "$LOGS/ghosts" "$LOGS/ghosts.seen"
		cp "$LOGS/decoys" "$LOGS/decoys.seen"
		nlines "$LOGS/written"
		before=$NL
		rc=0
		arc-reconcile --act --now "$NOW" --grace 1h --max-orphan-ratio 1 \
		    --state-dir "$STATE" "$@" "$STORE" "$MANIFEST" \
		    >"$LOGS/run.out" 2>"$LOGS/run.err" || rc=$?
		if [ "$rc" -gt 1 ]; then
			echo "run $((RUNS + 1)) exited $rc:"
			cat "$LOGS/run.err"
			return 1
		fi
		nlines "$LOGS/written"
		after=$NL
		RUNS=$((RUNS + 1))
		[ "$after" -gt "$before" ] && OVERLAPPED=$((OVERLAPPED + 1))
		read -r m s < <(sed -n 's/.* act: \([0-9]*\) manifest and \([0-9]*\) storage deletes.*/\1 \2/p' "$LOGS/run.err")
		GHOSTS_FIXED=$((GHOSTS_FIXED + ${m:-0}))
		DECOYS_FIXED=$((DECOYS_FIXED + ${s:-0}))
	done
	echo "$RUNS runs, $OVERLAPPED while the writer wrote; $GHOSTS_FIXED ghosts and $DECOYS_FIXED decoys repaired"
}

# race_verdict N: the writer wrote N files; every one of them is still in
# the store and in the manifest; the manifest is whole NDJSON with each
# path once; the runs raced the writer (at least 2 of them while it
# wrote), rewrote the manifest and deleted files under it; and the last
# run repaired every ghost and decoy made before it started.
race_verdict() {
	local written
	nlines "$LOGS/written"
	[ "$NL" -eq "$1" ] || fail "the writer wrote $NL files, not $1, in the time allowed"
	written=$(sort "$LOGS/written")
	run -0 comm -23 <(printf '%s\n' "$written") <(store_paths)
	[ -z "$output" ] || fail "${#lines[@]} registered files were deleted, first: ${lines[0]}"
	run -0 comm -23 <(printf '%s\n' "$written") <(manifest_paths)
	[ -z "$output" ] || fail "${#lines[@]} registered entries were lost, first: ${lines[0]}"
	run -0 jq -cR 'fromjson | .path' "$MANIFEST"
	run -0 sh -c 'jq -r .path "$1" | sort | uniq -d' sh "$MANIFEST"
	assert_output ''
	[ "$OVERLAPPED" -ge 2 ] || fail "only $OVERLAPPED runs raced the writer"
	[ "$GHOSTS_FIXED" -gt 0 ] && [ "$DECOYS_FIXED" -gt 0 ]
	[ -s "$LOGS/ghosts.seen" ] && [ -s "$LOGS/decoys.seen" ]
	run -0 comm -12 <(sort "$LOGS/ghosts.seen") <(manifest_paths)
	assert_output ''
	run -0 comm -12 <(sort "$LOGS/decoys.seen") <(store_paths)
	assert_output ''
}

@test "act runs repeated while a writer creates and registers 10,000 files never delete one of its files or lose one of its entries" {
	mkdir -p "$STORE/db/cpu/$H"
	for i in $(seq -w 1 20); do
		printf 'data\n' >"$STORE/db/cpu/$H/cpu_$i.parquet"
		fentry "db/cpu/$H/cpu_$i.parquet" >>"$MANIFEST"
	done
	# 10,000 writes at up to 500 a second, a ghost entry every 20th and a
	# decoy file every 25th: drift that every run repairs under the writer
	/usr/bin/python3 "$ARC_ROOT/tests/racewriter.py" "$STORE" "$MANIFEST" \
	    "$LOGS" 10000 500 20 25 3>&- &
	WRITER=$!
	race_runs 100 --batch 20
	wait "$WRITER" || fail "the writer failed"
	WRITER=
	race_verdict 10000
}

@test "on S3, act runs repeated while a writer uploads and registers objects never delete one of its objects or lose one of its entries" {
	use_s3 race
	# 800 uploads at up to 50 a second, a ghost every 10th, a decoy every
	# 15th; the manifest is a local file
	/usr/bin/python3 "$ARC_ROOT/tests/racewriter.py" "$STORE" "$MANIFEST" \
	    "$LOGS" 800 50 10 15 3>&- &
	WRITER=$!
	race_runs 60 --batch 10
	wait "$WRITER" || fail "the writer failed"
	WRITER=
	race_verdict 800
}

# ---- one race at a time --------------------------------------------------

# registered_between STORE-KIND: two old orphan files a and b in $STORE;
# after the dump, the diff and the re-check have confirmed both, a writer
# registers a; arc-delete must refuse a, as now in the manifest, and
# delete b.
registered_between() {
	candidates -t "$NOW"
	assert_equal "$(cut -f2 ok)" "$(printf 'db/m/%s/a.parquet\ndb/m/%s/b.parquet' "$H" "$H")"
	register "db/m/$H/a.parquet"
	# a new archive each time: arc-delete never replaces another run's
	rm -f a.tgz
	run --separate-stderr arc-delete --act -A a.tgz "$STORE" "$MANIFEST" <ok
	[ "$status" -eq 1 ]
	assert_output "$(printf 'refused\torphan-storage\tdb/m/%s/a.parquet\tRECHECK_REGISTERED\ndeleted\torphan-storage\tdb/m/%s/b.parquet\tDELETED' "$H" "$H")"
	assert_stderr --partial "'db/m/$H/a.parquet': refused: now in the manifest"
	assert_equal "$(store_paths)" "$(printf 'db/m/%s/a.parquet\ndb/m/%s/c.parquet' "$H" "$H")"
}

@test "a file or an object registered between the dump and the delete is refused as now in the manifest and kept, on a local store and on S3" {
	put "db/m/$H/a.parquet"
	put "db/m/$H/b.parquet"
	put "db/m/$H/c.parquet"
	fentry "db/m/$H/c.parquet" >"$MANIFEST"
	registered_between
	use_s3 between
	s3put between "db/m/$H/a.parquet"
	s3put between "db/m/$H/b.parquet"
	s3put between "db/m/$H/c.parquet"
	fentry "db/m/$H/c.parquet" >"$MANIFEST"
	registered_between
}

# past_dump: the driver $VICTIM has dumped the manifest and not yet
# repaired anything.
past_dump() {
	child_comm "$VICTIM"
	case $COMM in arc-list | arc-diff | arc-recheck) ;; *) return 1 ;; esac
	nevents "$STATE/audit.log" reconcile.manifest_batch_deleted
	[ "$NE" -eq 0 ]
}

@test "a file registered while a driver run is past its dump is kept: the live re-checks see the new entry" {
	mkdir -p "$STORE/db/cpu/$H"
	for i in $(seq -w 1 30); do
		put "db/cpu/$H/cpu_$i.parquet"
		fentry "db/cpu/$H/cpu_$i.parquet" >>"$MANIFEST"
	done
	put "db/new/$H/late.parquet"	# on disk, its entry not yet written
	put "db/new/$H/orphan.parquet"
	for i in 1 2 3; do
		fentry "db/gone/$H/ghost_$i.parquet" >>"$MANIFEST"
	done
	spawn /dev/null "$LOGS/out" "$LOGS/err" arc-reconcile --act --now "$NOW" \
	    --max-orphan-ratio 1 --state-dir "$STATE" "$STORE" "$MANIFEST"
	poll_until "$VICTIM" 90 past_dump || fail "the run never got past its dump"
	register "db/new/$H/late.parquet"
	reap "$VICTIM"
	[ "$VRC" -eq 0 ] || { cat "$LOGS/err"; false; }
	[ -f "$STORE/db/new/$H/late.parquet" ]
	[ ! -e "$STORE/db/new/$H/orphan.parquet" ]
	run -0 cat "$LOGS/out"
	refute_line --partial late.parquet
	assert_line "$(printf 'deleted\torphan-storage\tdb/new/%s/orphan.parquet\tDELETED' "$H")"
	# the diff saw it unregistered; a re-check saw it registered
	run -0 jq -c '[.orphan_storage_count, .storage_deletes, .skipped_recheck]' "$STATE"/runs/*.json
	assert_output '[2,1,1]'
	run -0 manifest_paths
	assert_line "db/new/$H/late.parquet"
}

@test "an entry deleted and registered again with a new rev after it became a candidate keeps its new entry and its file" {
	put "db/m/$H/keep.parquet"
	fentry "db/m/$H/keep.parquet" 1 >>"$MANIFEST"
	fentry "db/m/$H/again.parquet" 5 >>"$MANIFEST"	# its file is missing
	fentry "db/m/$H/lost.parquet" 7 >>"$MANIFEST"
	candidates -t "$NOW"
	assert_equal "$(cut -f2,6 ok)" "$(printf 'db/m/%s/again.parquet\t5\ndb/m/%s/lost.parquet\t7' "$H" "$H")"
	# the writer writes the file again, deletes the old entry and
	# registers the path again (rev 9), all under the lock
	put "db/m/$H/again.parquet" 'written again'
	flock "$MANIFEST.lock" sh -c '
		grep -v "\"path\":\"$2\"" "$1" >"$1.new"
		printf "%s\n" "$3" >>"$1.new"
		mv "$1.new" "$1"' sh "$MANIFEST" "db/m/$H/again.parquet" \
	    "$(fentry "db/m/$H/again.parquet" 9)"
	run --separate-stderr arc-delete --act -A a.tgz "$STORE" "$MANIFEST" <ok
	[ "$status" -eq 1 ]
	assert_output "$(printf 'changed\torphan-manifest\tdb/m/%s/again.parquet\tCHANGED_SINCE_LISTING\ndeleted\torphan-manifest\tdb/m/%s/lost.parquet\tDELETED' "$H" "$H")"
	run -0 jq -c 'select(.path | endswith("again.parquet")) | .lsn' "$MANIFEST"
	assert_output 9
	assert_equal "$(cat "$STORE/db/m/$H/again.parquet")" 'written again'
	# and the file and its new entry agree: no drift is left
	candidates -t "$NOW"
	assert_equal "$(cat cand)" ''
}

@test "with --if-unchanged a file or an object rewritten after the listing is left alone as changed, whether its size or only its mtime changed, on a local store and on S3" {
	put "db/m/$H/bigger.parquet"
	put "db/m/$H/touched.parquet"
	put "db/m/$H/same.parquet"
	candidates -t "$NOW"
	[ "$(wc -l <ok)" -eq 3 ]
	# rewritten after the listing: new content; the same size, a new mtime
	printf 'rewritten, and longer than before\n' >"$STORE/db/m/$H/bigger.parquet"
	touch -d '2026-04-02 00:00:00' "$STORE/db/m/$H/touched.parquet"
	run --separate-stderr arc-delete --act --if-unchanged -A a.tgz "$STORE" "$MANIFEST" <ok
	[ "$status" -eq 1 ]
	assert_output "$(printf 'changed\torphan-storage\tdb/m/%s/bigger.parquet\tCHANGED_SINCE_LISTING\ndeleted\torphan-storage\tdb/m/%s/same.parquet\tDELETED\nchanged\torphan-storage\tdb/m/%s/touched.parquet\tCHANGED_SINCE_LISTING' "$H" "$H" "$H")"
	assert_equal "$(cat "$STORE/db/m/$H/bigger.parquet")" 'rewritten, and longer than before'
	[ -f "$STORE/db/m/$H/touched.parquet" ]
	[ ! -e "$STORE/db/m/$H/same.parquet" ]
	# on S3, where the object's ETag also guards the delete
	use_s3 rewrite
	: >"$MANIFEST"
	s3put rewrite "db/m/$H/rewritten.parquet" first
	s3put rewrite "db/m/$H/same.parquet" first
	candidates -t "$NOW"
	[ "$(wc -l <ok)" -eq 2 ]
	sleep 1	# a new Last-Modified second, though the size is the same
	s3put rewrite "db/m/$H/rewritten.parquet" again
	run --separate-stderr arc-delete --act --if-unchanged -A b.tgz "$STORE" "$MANIFEST" <ok
	[ "$status" -eq 1 ]
	assert_output "$(printf 'changed\torphan-storage\tdb/m/%s/rewritten.parquet\tCHANGED_SINCE_LISTING\ndeleted\torphan-storage\tdb/m/%s/same.parquet\tDELETED' "$H" "$H")"
	assert_equal "$(s3keys)" "db/m/$H/rewritten.parquet"
	run -0 s3curl "$AWS_ENDPOINT_URL/rewrite/db/m/$H/rewritten.parquet"
	assert_output again
}

# ---- clock skew ------------------------------------------------------------

@test "storage clocks ahead of the host never make a candidate, and behind it only past the grace window plus the skew allowance" {
	put "db/cpu/$H/cpu.parquet"
	fentry "db/cpu/$H/cpu.parquet" >>"$MANIFEST"
	S=db/skew/$H
	put "$S/ahead_3d.parquet"; touch -d '+3 days' "$STORE/$S/ahead_3d.parquet"
	put "$S/ahead_10m.parquet"; touch -d '+10 minutes' "$STORE/$S/ahead_10m.parquet"
	put "$S/behind_23h.parquet"; touch -d '-23 hours' "$STORE/$S/behind_23h.parquet"
	# older than the 24h grace window, within it plus the 5m allowance
	put "$S/behind_24h2m.parquet"; touch -d '-24 hours -2 minutes' "$STORE/$S/behind_24h2m.parquet"
	put "$S/behind_24h8m.parquet"; touch -d '-24 hours -8 minutes' "$STORE/$S/behind_24h8m.parquet"
	# the host clock, Arc's defaults: 24h of grace and 5m of skew
	candidates
	run -0 cut -f1,2 cand
	assert_output "$(printf 'orphan-storage\t%s/behind_24h8m.parquet' "$S")"
	assert_equal "$(cut -f1,2 ok)" "$(printf 'orphan-storage\t%s/behind_24h8m.parquet' "$S")"
	arc-diff -S diff.json m.rec s.rec >/dev/null || [ $? -eq 1 ]
	run -0 jq -c '[.skipped_grace, .orphan_storage_count]' diff.json
	assert_output '[4,1]'
	# it is the skew allowance that keeps the 24h2m file: without it the
	# file is a candidate, and the future ones still are not
	run -1 arc-diff -k 0s m.rec s.rec
	assert_equal "$(cut -f1,2 <<<"$output")" "$(printf 'orphan-storage\t%s/behind_24h2m.parquet\norphan-storage\t%s/behind_24h8m.parquet' "$S" "$S")"
	# a candidate whose clock jumps ahead after the diff is young again
	# when it is re-checked, and survives
	touch -d '+10 minutes' "$STORE/$S/behind_24h8m.parquet"
	run -1 arc-recheck -R rejects "$STORE" "$MANIFEST" <cand
	assert_output ''
	assert_equal "$(cut -f1,3 rejects)" "$(printf 'young\t%s/behind_24h8m.parquet' "$S")"
}
