#!/usr/bin/env bats
# crash.bats - crash consistency: arc-delete and the arc-reconcile driver
# killed with SIGKILL at many points (while the archive is written, after
# any number of batches, in the middle of a manifest rewrite, between the
# manifest phase and the storage phase), on a local store and on S3
# (s3rver); and SIGTERM and SIGINT, which end a run cleanly.
#
# Every kill is aimed by polling what the victim leaves behind (its audit
# log, its archive's temporary file, the manifest's temporary file) and is
# sent to the victim's own process group, by its id.  After every kill:
# the manifest is the old version byte for byte or whole NDJSON holding
# the old entries less whole batches of candidates, in path order; no file
# but an orphan-storage candidate is gone, and none before the manifest
# phase ended; no lock is held; and a following run ends in the same state
# as an uninterrupted run on a copy of the same world.
load test_helper
load servers
load crashlib
bats_require_minimum_version 1.5.0

# The local world (see plant_world): 12 orphan-manifest entries and 12
# orphan-storage files of 1 MiB (so that quarantining them into an archive
# takes a while), beside 500 files in sync whose padded entries make a
# 6.3 MB manifest (so that every rewrite takes a while, even though a
# rewrite copies the entries it keeps as their bytes).
NSYNC=500 NLOST=12 NORPH=12 PAD=12288 ORPHBYTES=1048576
# The S3 world: 4 orphan-manifest entries, 20 orphan objects, 100 in sync
# with padded entries (a 0.6 MB manifest, which arc-delete reads again
# before every storage batch).
S3SYNC=100 S3LOST=4 S3ORPH=20 S3PAD=6144

# derive DIR: what the checks need to know of a freshly planted world:
# its entries, its orphan-manifest paths (lost.paths) and orphan-storage
# paths (orph.paths) in path order, its files, and the confirmed
# candidates (cand) that the tools find in it.
derive() {
	local d=$1
	entries "$d/manifest.json" >"$d/entries"
	paths_of "$d" >"$d/files.paths"
	grep '^db/orph/' "$d/files.paths" >"$d/orph.paths"
	jq -r '.files[].path' "$d/manifest.json" | grep '^db/lost/' | sort >"$d/lost.paths"
	arc-manifest-dump "$d/manifest.json" >"$d/m.rec"
	arc-list "$(store_of "$d")" >"$d/s.rec"
	arc-diff "$d/m.rec" "$d/s.rec" >"$d/cand.all" || [ $? -eq 1 ]
	arc-recheck "$(store_of "$d")" "$d/manifest.json" <"$d/cand.all" >"$d/cand"
}

# store_of DIR: the store operand of world DIR.
store_of() {
	if [ -L "$1/store" ]; then
		echo "s3://$(basename "$(readlink "$1/store")")"
	else
		echo "$1/store"
	fi
}

setup_file() {
	[ -d "$ARC_NODE_MODULES/s3rver" ] || {
		echo "the npm test servers are missing: sh tests/deps.sh build test" >&2
		return 1
	}
	start_s3rver_as s3	# it boots while the local tests run
	local F=$BATS_FILE_TMPDIR rc
	# one date for the young file of every world, so that worlds planted
	# apart end in the same state
	YOUNG_MTIME=$(($(date +%s) - 600))
	export YOUNG_MTIME
	plant_world "$F/tpl" "$NSYNC" "$NLOST" "$NORPH" "$PAD" "$ORPHBYTES"
	derive "$F/tpl"
	# the end state of an uninterrupted arc-delete ...
	copy_world "$F/tpl" "$F/ref-delete"
	rc=0
	arc-delete --act -A "$F/ref-delete/a.tgz" "$F/ref-delete/store" \
	    "$F/ref-delete/manifest.json" <"$F/tpl/cand" >/dev/null 2>&1 || rc=$?
	[ "$rc" -eq 1 ] || { echo "the reference arc-delete exited $rc" >&2; return 1; }
	world_state "$F/ref-delete" >"$F/ref-delete.state"
	# ... and of an uninterrupted driver run
	copy_world "$F/tpl" "$F/ref-driver"
	rc=0
	arc-reconcile --act --max-orphan-ratio 1 --state-dir "$F/ref-driver/state" \
	    "$F/ref-driver/store" "$F/ref-driver/manifest.json" >/dev/null 2>&1 || rc=$?
	[ "$rc" -eq 1 ] || { echo "the reference driver run exited $rc" >&2; return 1; }
	world_state "$F/ref-driver" >"$F/ref-driver.state"
	cmp "$F/ref-delete.state" "$F/ref-driver.state" || {
		echo "an uninterrupted arc-delete and driver run differ" >&2
		return 1
	}
}

teardown_file() {
	stop_named s3
}

setup() {
	pause_init
	TPL=$BATS_FILE_TMPDIR/tpl
	W=$BATS_TEST_TMPDIR/w
	# the driver's temporary directories, which a SIGKILL leaves behind
	export TMPDIR=$BATS_TEST_TMPDIR/tmp
	mkdir -p "$TMPDIR"
}

teardown() {
	[ -z "${HOLD_FD:-}" ] || release_lock
	cleanup_victims
}

# s3_setup: once, in the first S3 test (so that s3rver boots while the
# local tests run): wait for s3rver, point AWS_* at it, plant the S3 world
# in bucket s3tpl and derive its candidates, and record in s3ref.state the
# end state of an uninterrupted arc-delete on a copy (bucket s3ref).  The
# local references show that a driver run ends in the same state.
s3_setup() {
	local F=$BATS_FILE_TMPDIR rc=0
	wait_named s3 || return 1
	S3_PORT=$(cat "$F/s3.port")
	S3_DATA=$F/s3-data
	export S3_PORT S3_DATA
	export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER
	export AWS_ENDPOINT_URL="http://127.0.0.1:$S3_PORT"
	unset AWS_ENDPOINT_URL_S3 AWS_S3_ADDRESSING_STYLE AWS_SESSION_TOKEN \
	    AWS_REGION AWS_DEFAULT_REGION AWS_CA_BUNDLE
	TPL=$F/s3tpl
	[ -f "$F/s3ref.state" ] && return 0
	rm -rf "$F/s3tpl" "$F/s3ref" "$S3_DATA/s3tpl" "$S3_DATA/s3ref"
	s3_world s3tpl
	derive "$F/s3tpl"
	s3_world s3ref
	arc-delete --act -A "$F/s3ref/a.tgz" s3://s3ref "$F/s3ref/manifest.json" \
	    <"$F/s3tpl/cand" >/dev/null 2>&1 || rc=$?
	[ "$rc" -eq 1 ] || { echo "the S3 reference arc-delete exited $rc" >&2; return 1; }
	world_state "$F/s3ref" >"$F/s3ref.state.new"
	mv "$F/s3ref.state.new" "$F/s3ref.state"
}

# s3_world BUCKET: a new bucket BUCKET planted with the S3 world, its
# manifest and the link to its data in $BATS_FILE_TMPDIR/BUCKET.
s3_world() {
	make_bucket "$1" || { echo "cannot create bucket $1" >&2; return 1; }
	plant_world "$BATS_FILE_TMPDIR/$1" "$S3SYNC" "$S3LOST" "$S3ORPH" "$S3PAD" 0 \
	    "$S3_DATA/$1"
}

# fresh: a new copy of the local world in $W.
fresh() {
	rm -rf "$W"
	copy_world "$TPL" "$W"
}

# delete_in DIR [OPTION...]: arc-delete --act on world DIR with the
# candidates of its template ($TPL), its archive DIR/a.tgz and its audit
# log DIR/audit, started as a victim.
delete_in() {
	local d=$1
	shift
	spawn "$TPL/cand" "$d/out" "$d/err" arc-delete --act -A "$d/a.tgz" \
	    -a "$d/audit" "$@" "$(store_of "$d")" "$d/manifest.json"
}

# driver_in DIR [OPTION...]: an act run of the driver on world DIR, with
# state directory DIR/state, started as a victim.
driver_in() {
	local d=$1
	shift
	spawn /dev/null "$d/out" "$d/err" arc-reconcile --act --batch 1 \
	    --max-orphan-ratio 1 --state-dir "$d/state" "$@" "$(store_of "$d")" \
	    "$d/manifest.json"
}

# rerun_delete DIR REF: arc-delete again on DIR with the same candidates, as
# a retry would; it must exit 1 (the 6-segment daily file is refused), fail
# nothing, and leave DIR as the uninterrupted run left REF.state.
rerun_delete() {
	run --separate-stderr arc-delete --act -A "$1/again.tgz" \
	    "$(store_of "$1")" "$1/manifest.json" <"$TPL/cand"
	[ "$status" -eq 1 ] || { echo "the rerun exited $status: $stderr"; return 1; }
	refute_output --partial failed
	assert_equal "$(world_state "$1")" "$(cat "$2")"
}

# rerun_driver DIR REF [OPTION...]: the next driver run on DIR (with the
# default batch size) takes the lock (no exit 75), completes, and leaves
# DIR as the uninterrupted run left REF.state.
rerun_driver() {
	run --separate-stderr arc-reconcile --act --max-orphan-ratio 1 \
	    --state-dir "$1/state" "${@:3}" "$(store_of "$1")" "$1/manifest.json"
	[ "$status" -eq 1 ] || { echo "the next run exited $status: $stderr"; return 1; }
	assert_stderr --partial "act: "
	assert_equal "$(world_state "$1")" "$(cat "$2")"
	# its record (the killed run left none) says it completed
	run -0 jq -r '.aborted' "$1"/state/runs/*.json
	assert_output false
}

# after_kill DIR REF BATCH: the checks after any kill: a whole manifest,
# no wrong file gone, no lock left held.
after_kill() {
	check_manifest_whole "$1" "$2" "$3"
	check_files_safe "$1" "$2"
	lock_free "$1/manifest.json.lock"
	if [ -d "$1/state" ]; then
		lock_free "$1/state/lock"
	fi
}

# ---- arc-delete, local store --------------------------------------------

# conditions for poll_until
archive_tmp() { exists_glob "$W/a.tgz.tmp.*"; }
audit_at_least() { nlines "$W/audit"; [ "$NL" -ge "$KILL_AT" ]; }
manifest_tmp() { exists_glob "$W/manifest.json.tmp.*"; }
manifest_tmp_after() { audit_at_least && manifest_tmp; }

@test "arc-delete killed with SIGKILL while it writes its archive has deleted nothing and left no archive, and a rerun converges" {
	fresh
	delete_in "$W" -b 1 --archive-files
	poll_until "$VICTIM" 60 archive_tmp || fail "the archive's temporary file never appeared"
	kill_group "$VICTIM"
	[ "$VRC" -eq 137 ]
	# killed mid-archive: the temporary file is there, the archive is not
	exists_glob "$W/a.tgz.tmp.*"
	[ ! -e "$W/a.tgz" ]
	cmp "$W/manifest.json" "$TPL/manifest.json"
	assert_equal "$(files_of "$W/store")" "$(files_of "$TPL/store")"
	after_kill "$W" "$TPL" 1
	rerun_delete "$W" "$BATS_FILE_TMPDIR/ref-delete.state"
}

@test "arc-delete killed with SIGKILL after any number of batches leaves the old manifest or whole batches removed, only candidates deleted, manifest first, and a rerun converges" {
	local hits=() mid_manifest=0 mid_storage=0 n
	# audit lines: 12 manifest batches (in two rewrites), then 12 storage
	# batches: 13 is the first storage batch, leaving 11 to kill in.  An
	# unchanged manifest is not read again, so the storage batches can
	# all end between two polls: a victim that ended first is said and
	# the kill tried again on a fresh world, a bounded number of times.
	for n in 5 5 5 13 13 13; do
		[ "$n" -eq 5 ] && [ "$mid_manifest" -eq 1 ] && continue
		[ "$n" -eq 13 ] && [ "$mid_storage" -eq 1 ] && continue
		fresh
		KILL_AT=$n
		delete_in "$W" -b 1
		poll_until "$VICTIM" 60 audit_at_least || fail "kill $n: no ${n}th batch"
		kill_group "$VICTIM"
		if [ "$VRC" -ne 137 ]; then
			echo "kill $n: arc-delete ended before the kill ($VRC)"
			continue
		fi
		after_kill "$W" "$TPL" 1
		# one file a batch: the files gone are the first ones
		head -n "$FREMOVED" "$TPL/orph.paths" | cmp - "$W/files.gone"
		hits+=("$n:$MREMOVED/$FREMOVED")
		[ "$MREMOVED" -gt 0 ] && [ "$MREMOVED" -lt "$NLOST" ] && mid_manifest=1
		[ "$FREMOVED" -gt 0 ] && [ "$FREMOVED" -lt "$NORPH" ] && mid_storage=1
		rerun_delete "$W" "$BATS_FILE_TMPDIR/ref-delete.state"
	done
	echo "kills (audit lines:entries/files removed): ${hits[*]}"
	# a kill landed inside the manifest phase; the storage phase's
	# one-file batches may all end between two polls (the S3 test below
	# kills between two storage batches for certain), so a kill there is
	# said, not required
	[ "$mid_manifest" -eq 1 ]
	[ "$mid_storage" -eq 1 ] || echo "no kill landed inside the storage phase"
}

@test "arc-delete killed with SIGKILL at any moment of a manifest rewrite leaves the manifest whole, old or new, and a rerun converges" {
	local at delay hits=0 kill
	# a file manifest's phase is two rewrites (arc(7)): kill in the first
	# (no batch event yet) and in the second (after the first group's
	# events), at once and 60 ms after the temporary file appears: while
	# the old manifest is read and the new one written, flushed and
	# renamed.  A victim that ended before a late kill is said, not
	# counted; at least one kill must land inside a rewrite.
	for kill in 0:0 2:0 2:0.06; do
		at=${kill%%:*} delay=${kill#*:}
		fresh
		KILL_AT=$at
		delete_in "$W" -b 1
		poll_until "$VICTIM" 60 manifest_tmp_after || fail "no rewrite seen"
		pause "$delay"
		kill_group "$VICTIM"
		if [ "$VRC" -ne 137 ]; then
			echo "kill $kill: arc-delete ended first ($VRC)"
			continue
		fi
		after_kill "$W" "$TPL" 1
		[ "$FREMOVED" -eq 0 ]
		# a temporary file left behind: the kill came between its
		# creation and the rename
		if exists_glob "$W/manifest.json.tmp.*"; then
			hits=$((hits + 1))
		fi
	done
	echo "$hits of 3 kills landed inside a rewrite"
	[ "$hits" -ge 1 ]
	rerun_delete "$W" "$BATS_FILE_TMPDIR/ref-delete.state"
}

# ---- the driver, local store -------------------------------------------

# conditions for poll_until on a driver run in $W
d_manifest_tmp() {
	nevents "$W/state/audit.log" reconcile.manifest_batch_deleted
	[ "$NE" -ge "$KILL_AT" ] && exists_glob "$W/manifest.json.tmp.*"
}
d_phase2_archive() {
	nevents "$W/state/audit.log" reconcile.manifest_batch_deleted
	[ "$NE" -ge 1 ] && exists_glob "$W/state/archives/*.tmp.*"
}
d_manifest_at_least() {
	nevents "$W/state/audit.log" reconcile.manifest_batch_deleted
	[ "$NE" -ge "$KILL_AT" ]
}
d_before_batches() {
	child_comm "$VICTIM"
	case $COMM in arc-list | arc-diff | arc-recheck) ;; *) return 1 ;; esac
	nevents "$W/state/audit.log" reconcile.manifest_batch_deleted
	[ "$NE" -eq 0 ]
}

# killed_run_unfinished DIR: the killed run recorded its start and nothing
# else: no end event, no run record.
killed_run_unfinished() {
	run -0 jq -r .event "$1/state/audit.log"
	assert_line --index 0 reconcile.run_started
	refute_line reconcile.run_completed
	refute_line reconcile.run_aborted
	run -0 find "$1/state/runs" -type f
	assert_output ''
}

@test "the driver killed with SIGKILL in the middle of a phase-1 manifest rewrite leaves a whole manifest and no lock held, and the next run converges" {
	local try
	# the phase rewrites the manifest twice, and the second rewrite (the
	# one after at least three batches) can be over between two polls on
	# a busy machine: a try that sees none runs again on a fresh world
	KILL_AT=3
	for try in 1 2 3 4 5 6; do
		fresh
		driver_in "$W"
		if ! poll_until "$VICTIM" 90 d_manifest_tmp; then
			kill_group "$VICTIM"
			continue
		fi
		kill_group "$VICTIM"
		exists_glob "$W/manifest.json.tmp.*" && break
	done
	echo "killed inside a rewrite after $try tries"
	exists_glob "$W/manifest.json.tmp.*" || fail "no rewrite seen in $try tries"
	after_kill "$W" "$TPL" 1
	[ "$MREMOVED" -ge 3 ] && [ "$MREMOVED" -lt "$NLOST" ]
	[ "$FREMOVED" -eq 0 ]
	killed_run_unfinished "$W"
	rerun_driver "$W" "$BATS_FILE_TMPDIR/ref-driver.state"
}

@test "the driver killed with SIGKILL between phase 1 and phase 2, while phase 2 archives the files it will delete, has deleted no file, and the next run converges" {
	fresh
	driver_in "$W" --archive-files --batch 1000
	poll_until "$VICTIM" 90 d_phase2_archive || fail "phase 2's archive was never being written"
	kill_group "$VICTIM"
	after_kill "$W" "$TPL" 1
	[ "$MREMOVED" -eq "$NLOST" ]
	[ "$FREMOVED" -eq 0 ]
	# phase 1's archive is whole; phase 2 never replaced it
	run -0 tar -tzf "$(ls "$W"/state/archives/*.tar.gz)"
	assert_line phase1/candidates.tsv
	assert_line phase1/manifest-entries.ndjson
	refute_line --partial phase2/
	killed_run_unfinished "$W"
	rerun_driver "$W" "$BATS_FILE_TMPDIR/ref-driver.state"
}

@test "the driver alone killed with SIGKILL leaves its running arc-delete to finish phase 1 under the lock and starts no phase 2; then the next run takes the lock and converges" {
	fresh
	KILL_AT=1
	driver_in "$W" --batch 2
	poll_until "$VICTIM" 90 d_manifest_at_least || fail "no manifest batch"
	kill -KILL "$VICTIM"
	reap "$VICTIM"	# the rest of its group, the orphaned stage, ends too
	[ "$VRC" -eq 137 ]
	after_kill "$W" "$TPL" 1
	# the stage finished its phase, and nothing started after it
	[ "$MREMOVED" -eq "$NLOST" ]
	[ "$FREMOVED" -eq 0 ]
	killed_run_unfinished "$W"
	rerun_driver "$W" "$BATS_FILE_TMPDIR/ref-driver.state"
}

# ---- SIGTERM and SIGINT to the driver ------------------------------------

# aborted_by_signal DIR: the run exited 2, said why, and recorded itself as
# aborted with reason ctx_canceled, with the deletes it made.
aborted_by_signal() {
	[ "$VRC" -eq 2 ] || { echo "exit $VRC; stderr:"; cat "$1/err"; return 1; }
	grep -q 'aborted (ctx_canceled)' "$1/err"
	rec=$(ls "$1"/state/runs/*.json)
	run -0 jq -c '[.aborted, .abort_reason]' "$rec"
	assert_output '[true,"ctx_canceled"]'
	run -0 jq -r 'select(.event == "reconcile.run_aborted") | .detail.abort_reason' "$1/state/audit.log"
	assert_output ctx_canceled
	run -0 jq -r '.event' "$1/state/audit.log"
	assert_line --index 0 reconcile.run_started
	assert_equal "${lines[-1]}" reconcile.run_aborted
	lock_free "$1/state/lock"
}

# Each signal below is sent while the test holds the manifest's lock (as
# a reader reading the manifest would in phase 1, a shared lock, which
# stops rewrites; as a writer appending to it would in phase 2, an
# exclusive one, which stops look-ups), with the run's arc-delete past its
# archive and so inside a batch, waiting for the lock: the signal finds a
# batch under way however slow or loaded the machine is; that batch must
# finish once the lock is released, and no other start.

# d_phase1_delete: phase 1's arc-delete is running (no batch done yet).
d_phase1_delete() {
	child_comm "$VICTIM"
	[ "$COMM" = arc-delete ] || return 1
	nevents "$W/state/audit.log" reconcile.manifest_batch_deleted
	[ "$NE" -eq 0 ]
}

# d_phase1_running: phase 1's arc-delete has written its archive and has
# batches left; sets P1 to its process id.
d_phase1_running() {
	child_comm "$VICTIM"
	[ "$COMM" = arc-delete ] && archive_written || return 1
	P1=$CPID
	nevents "$W/state/audit.log" reconcile.manifest_batch_deleted
	[ "$NE" -lt "$KILL_AT" ]
}

# d_phase2_delete: phase 2's arc-delete (not phase 1's, $P1) is running.
d_phase2_delete() {
	child_comm "$VICTIM"
	[ "$COMM" = arc-delete ] && [ "$CPID" != "$P1" ]
}

# archive_written: the run's archive is there and, when $W/archive.before
# is a hard link to an earlier version, has been replaced since.
archive_written() {
	local a
	for a in "$W"/state/archives/*.tar.gz; do
		[ -f "$a" ] || return 1
		[ -e "$W/archive.before" ] || return 0
		[ ! "$a" -ef "$W/archive.before" ]
		return
	done
}

@test "SIGTERM to the driver during phase 1 lets the current manifest batch finish, deletes no file, and ends the run aborted with ctx_canceled and exit 2" {
	fresh
	spawn /dev/null "$W/out" "$W/err" arc-reconcile --act --batch 2 \
	    --max-orphan-ratio 1 --state-dir "$W/state" "$W/store" "$W/manifest.json"
	poll_until "$VICTIM" 90 d_phase1_delete || fail "phase 1 never started"
	hold_lock "$W/manifest.json.lock" -s
	poll_until "$VICTIM" 60 archive_written || fail "phase 1 wrote no archive"
	kill -TERM "$VICTIM"
	pause 0.3
	release_lock
	reap "$VICTIM"
	aborted_by_signal "$W"
	after_kill "$W" "$TPL" 2
	echo "stopped after $MREMOVED entries removed"
	# whole batches of 2, and phase 1 stopped early
	[ "$MREMOVED" -ge 2 ] && [ "$MREMOVED" -lt "$NLOST" ]
	[ "$FREMOVED" -eq 0 ]
	nevents "$W/state/audit.log" reconcile.manifest_batch_deleted
	[ $((NE * 2)) -eq "$MREMOVED" ]
	run -0 jq -c '[.manifest_deletes, .storage_deletes]' "$rec"
	assert_output "[$MREMOVED,0]"
	# the record names the archive written before the first delete
	run -0 tar -tzf "$(jq -r .archive "$rec")"
	assert_line phase1/manifest-entries.ndjson
	grep -q 'interrupted' "$W/err"
	assert_equal "$(grep -c '^deleted	orphan-manifest	' "$W/out")" "$MREMOVED"
}

@test "SIGINT to the driver during phase 2 lets the current storage batch finish and ends the run aborted with ctx_canceled and exit 2" {
	fresh
	KILL_AT=$((NLOST / 2))
	spawn /dev/null "$W/out" "$W/err" arc-reconcile --act --batch 2 \
	    --max-orphan-ratio 1 --state-dir "$W/state" "$W/store" "$W/manifest.json"
	# phase 1's archive, which phase 2 replaces with its own
	poll_until "$VICTIM" 90 d_phase1_running || fail "phase 1 wrote no archive"
	ln "$W"/state/archives/*.tar.gz "$W/archive.before"
	poll_until "$VICTIM" 90 d_phase2_delete || fail "phase 2 never started"
	hold_lock "$W/manifest.json.lock"
	poll_until "$VICTIM" 60 archive_written || fail "phase 2 wrote no archive"
	kill -INT "$VICTIM"
	pause 0.3
	release_lock
	reap "$VICTIM"
	aborted_by_signal "$W"
	after_kill "$W" "$TPL" 2
	echo "stopped after $FREMOVED files deleted"
	[ "$MREMOVED" -eq "$NLOST" ]
	# whole batches of 2, and phase 2 stopped early
	[ "$FREMOVED" -ge 2 ] && [ "$FREMOVED" -lt "$NORPH" ]
	[ $((FREMOVED % 2)) -eq 0 ]
	nevents "$W/state/audit.log" reconcile.storage_batch_deleted
	[ $((NE * 2)) -eq "$FREMOVED" ]
	run -0 jq -c '[.manifest_deletes, .storage_deletes]' "$rec"
	assert_output "[$NLOST,$FREMOVED]"
	assert_equal "$(grep -c '^deleted	orphan-storage	' "$W/out")" "$FREMOVED"
}

@test "SIGTERM to the driver before its first batch changes nothing and ends the run aborted with ctx_canceled and exit 2" {
	fresh
	spawn /dev/null "$W/out" "$W/err" arc-reconcile --act --batch 1 \
	    --max-orphan-ratio 1 --state-dir "$W/state" "$W/store" "$W/manifest.json"
	poll_until "$VICTIM" 90 d_before_batches || fail "the run never listed the store"
	kill -TERM "$VICTIM"
	reap "$VICTIM"
	aborted_by_signal "$W"
	cmp "$W/manifest.json" "$TPL/manifest.json"
	assert_equal "$(files_of "$W/store")" "$(files_of "$TPL/store")"
	run -0 jq -c '[.manifest_deletes, .storage_deletes]' "$rec"
	assert_output '[0,0]'
	# its archive holds only the run's explanation: nothing was planned
	run -0 tar -tzf "$(jq -r .archive "$rec")"
	refute_line --partial phase
}

# ---- S3 -------------------------------------------------------------------

@test "on S3, arc-delete killed with SIGKILL while it copies objects into its archive has deleted nothing, killed between two storage batches has deleted only orphans, and a rerun converges" {
	s3_setup
	# killed while it archives the objects it will delete
	s3_world "crash$BATS_TEST_NUMBER-a"
	W=$BATS_FILE_TMPDIR/crash$BATS_TEST_NUMBER-a
	delete_in "$W" -b 1 --archive-files
	poll_until "$VICTIM" 60 archive_tmp || fail "the archive's temporary file never appeared"
	kill_group "$VICTIM"
	[ "$VRC" -eq 137 ]
	[ ! -e "$W/a.tgz" ]
	cmp "$W/manifest.json" "$TPL/manifest.json"
	assert_equal "$(paths_of "$W")" "$(cat "$TPL/files.paths")"
	after_kill "$W" "$TPL" 1
	rerun_delete "$W" "$BATS_FILE_TMPDIR/s3ref.state"
	# killed after 3 of its 20 storage batches (and its 4 manifest ones)
	s3_world "crash$BATS_TEST_NUMBER-b"
	W=$BATS_FILE_TMPDIR/crash$BATS_TEST_NUMBER-b
	KILL_AT=$((S3LOST + 3))
	delete_in "$W" -b 1
	poll_until "$VICTIM" 60 audit_at_least || fail "no 3rd storage batch"
	kill_group "$VICTIM"
	[ "$VRC" -eq 137 ] || fail "arc-delete ended before the kill ($VRC)"
	after_kill "$W" "$TPL" 1
	[ "$MREMOVED" -eq "$S3LOST" ]
	[ "$FREMOVED" -ge 3 ] && [ "$FREMOVED" -lt "$S3ORPH" ]
	# one object a batch: the objects gone are the first ones
	head -n "$FREMOVED" "$TPL/orph.paths" | cmp - "$W/files.gone"
	rerun_delete "$W" "$BATS_FILE_TMPDIR/s3ref.state"
}

# d_between_phases: phase 1 has ended and phase 2 is re-checking its
# candidates: no storage batch yet.
d_between_phases() {
	nevents "$W/state/audit.log" reconcile.manifest_batch_deleted
	[ "$NE" -ge 1 ] || return 1
	child_comm "$VICTIM"
	[ "$COMM" = arc-recheck ] || return 1
	nevents "$W/state/audit.log" reconcile.storage_batch_deleted
	[ "$NE" -eq 0 ]
}

@test "on S3, the driver killed with SIGKILL between phase 1 and phase 2 has deleted no object, and the next run converges" {
	s3_setup
	s3_world "crash$BATS_TEST_NUMBER"
	W=$BATS_FILE_TMPDIR/crash$BATS_TEST_NUMBER
	driver_in "$W" --batch 1000
	poll_until "$VICTIM" 90 d_between_phases || fail "phase 2 never re-checked its candidates"
	kill_group "$VICTIM"
	after_kill "$W" "$TPL" 1
	[ "$MREMOVED" -eq "$S3LOST" ]
	[ "$FREMOVED" -eq 0 ]
	killed_run_unfinished "$W"
	rerun_driver "$W" "$BATS_FILE_TMPDIR/s3ref.state"
}
