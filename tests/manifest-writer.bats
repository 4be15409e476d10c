#!/usr/bin/env bats
# manifest-writer.bats - the manifest belongs to its writer: a MANIFEST
# that is a symbolic link to a versioned file stays a link and its target
# is what act runs rewrite; a rewrite keeps the target's owner, group and
# mode under the driver's umask 077; the lock files the tools create are
# 0644; a link re-pointed (or a target replaced) during a run stops the
# run with exit 2 before anything more changes; and the manifest's own
# writer, as the manifest's owner, keeps appending under flock after any
# number of root act runs, none of its files ever deleted.
load test_helper
bats_require_minimum_version 1.5.0

H=2026/04/10/12
NOW=2099-01-01T00:00:00Z	# every file past its grace: only the manifest protects
LOST="db/zzz/$H/lost.parquet"
ORPH="db/aaa/$H/orphan.parquet"

# Everything a test makes is in WORLD, a 0755 directory outside the 0700
# per-test one, so that the unprivileged writer can reach it.
setup() {
	WORLD=$(mktemp -d /tmp/arc-manifest-writer-bats.XXXXXX)
	chmod 755 "$WORLD"
	STORE=$WORLD/store
	V=$WORLD/versions
	MANIFEST=$WORLD/manifest.ndjson
	STATE=$BATS_TEST_TMPDIR/state
	mkdir -p "$STORE" "$V"
	KILL_PIDS=
}

teardown() {
	stop_test_pids
	rm -rf "$WORLD"
}

# fentry PATH: one manifest line, as test_helper's `entry` without jq.
fentry() {
	local db=${1%%/*} rest=${1#*/}
	printf '{"path":"%s","created_at":"2026-04-11T14:00:00Z","size_bytes":10,"database":"%s","measurement":"%s","origin_node_id":"node-1","lsn":1}\n' \
	    "$1" "$db" "${rest%%/*}"
}

# put PATH...: store files, two days old.
put() {
	local p
	for p in "$@"; do
		mkdir -p "$STORE/$(dirname "$p")"
		printf 'data:%s\n' "$p" >"$STORE/$p"
		touch -d '2 days ago' "$STORE/$p"
	done
}

# plant: versions/v1.ndjson with ten entries in sync with the store, one
# entry without its file ($LOST), one file without an entry ($ORPH);
# MANIFEST a relative symbolic link to it, as an operator makes one.
plant() {
	local i
	for i in $(seq -w 1 10); do
		put "db/cpu/$H/cpu_$i.parquet"
		fentry "db/cpu/$H/cpu_$i.parquet" >>"$V/v1.ndjson"
	done
	fentry "$LOST" >>"$V/v1.ndjson"
	put "$ORPH"
	ln -s versions/v1.ndjson "$MANIFEST"
}

# reconcile [OPTION...]: an act run of the driver (umask 077 is its own).
reconcile() {
	arc-reconcile --state-dir "$STATE" --act --max-orphan-ratio 1 \
	    --grace 1h --now "$NOW" "$@" "$STORE" "$MANIFEST"
}

# paths FILE: the manifest paths in FILE, sorted.
paths() {
	jq -r .path "$1" | sort
}

# store_paths: every file in the store, sorted.
store_paths() {
	(cd "$STORE" && find . -type f -printf '%P\n' | sort)
}

# snapshot: the store's files with their content, the link and every
# file in versions/ with its bytes, for "nothing changed".
snapshot() {
	(cd "$STORE" && find . -type f -exec md5sum {} + | sort)
	readlink "$MANIFEST"
	(cd "$V" && find . -type f ! -name '*.lock' -exec md5sum {} + | sort)
	(cd "$V" && find . ! -name '*.lock' -printf '%P %i\n' | sort)
}

# expect N: fail unless the last run exited N, showing its stderr.
expect() {
	if [ "$status" -ne "$1" ]; then
		printf 'exit %s, expected %s; stderr:\n%s\n' "$status" "$1" "$stderr"
		return 1
	fi
}

# need_root: skip unless root (chown to another user needs it).
need_root() {
	[ "$(id -u)" -eq 0 ] || skip "not root: cannot give files to another user"
}

# hook_driver: a copy of the driver in $BATS_TEST_TMPDIR/hook, whose
# arc-list (the stage after the dump) first runs $BATS_TEST_TMPDIR/hook.sh.
hook_driver() {
	local bin=${ARC_BIN:-$ARC_ROOT/bin} t
	HOOK=$BATS_TEST_TMPDIR/hook
	mkdir -p "$HOOK"
	cp "$ARC_ROOT/bin/arc-reconcile" "$HOOK/"
	for t in "$bin"/arc-*; do
		case ${t##*/} in
		arc-reconcile | arc-list) ;;
		*) ln -s "$t" "$HOOK/" ;;
		esac
	done
	printf '#!/bin/sh\nsh %s/hook.sh || exit 2\nexec %s/arc-list "$@"\n' \
	    "$BATS_TEST_TMPDIR" "$bin" >"$HOOK/arc-list"
	chmod +x "$HOOK/arc-list"
}

# ---- the link stays a link ---------------------------------------------

@test "act runs on a symlinked manifest rewrite the file it names and leave the link a link" {
	plant
	run --separate-stderr reconcile
	expect 0
	run --separate-stderr reconcile
	expect 0
	[ -L "$MANIFEST" ]
	assert_equal "$(readlink "$MANIFEST")" versions/v1.ndjson
	# the target was rewritten: the orphan entry is gone from it ...
	assert_equal "$(paths "$V/v1.ndjson")" "$(printf 'db/cpu/%s/cpu_%02d.parquet\n' $(for i in $(seq 1 10); do echo "$H" "$i"; done))"
	# ... the orphan file is gone, every registered file is kept
	[ ! -e "$STORE/$ORPH" ]
	assert_equal "$(store_paths)" "$(paths "$V/v1.ndjson")"
	# and no temporary file is left beside the link or the target
	assert_equal "$(ls -A "$V")" "$(printf 'v1.ndjson\nv1.ndjson.lock')"
	assert_equal "$(cd "$WORLD" && ls -A)" "$(printf 'manifest.ndjson\nmanifest.ndjson.lock\nstore\nversions')"
}

@test "a manifest reached through a symlinked directory is rewritten in the real directory, the link left alone" {
	plant
	rm "$MANIFEST"
	ln -s versions "$WORLD/current"
	MANIFEST=$WORLD/current/v1.ndjson
	run --separate-stderr reconcile
	expect 0
	[ -L "$WORLD/current" ]
	[ -f "$V/v1.ndjson" ] && [ ! -L "$V/v1.ndjson" ]
	run -0 paths "$V/v1.ndjson"
	refute_line "$LOST"
	[ ! -e "$STORE/$ORPH" ]
}

@test "arc-delete --restore appends to the link's target, and the link stays a link" {
	plant
	run --separate-stderr reconcile
	expect 0
	run -0 paths "$V/v1.ndjson"
	refute_line "$LOST"
	run --separate-stderr arc-delete --restore "$STATE"/archives/*.tar.gz "$STORE" "$MANIFEST"
	expect 0
	[ -L "$MANIFEST" ]
	run -0 paths "$V/v1.ndjson"
	assert_line "$LOST"
}

# ---- owner, group, mode, lock -------------------------------------------

@test "a rewrite keeps the manifest's owner, group and mode under the driver's umask 077 (nobody:nogroup 0640 and 0664, linked and not)" {
	need_root
	local mode how
	for how in link plain; do
		for mode in 640 664; do
			rm -rf "$STORE" "$V" "$MANIFEST" "$WORLD"/*.lock "$STATE"
			mkdir -p "$STORE" "$V"
			plant
			if [ "$how" = plain ]; then
				rm "$MANIFEST"
				mv "$V/v1.ndjson" "$MANIFEST"
				T=$MANIFEST
			else
				T=$V/v1.ndjson
			fi
			chown nobody:nogroup "$T"
			chmod "$mode" "$T"
			run --separate-stderr reconcile
			expect 0
			# rewritten (the orphan entry gone), owner and mode kept
			run -0 paths "$T"
			refute_line "$LOST"
			assert_equal "$how $(stat -c '%U:%G %a' "$T")" "$how nobody:nogroup $mode"
			[ "$how" = plain ] || [ -L "$MANIFEST" ]
		done
	done
}

@test "a rewrite that cannot give the manifest its owner fails and changes nothing" {
	need_unpriv
	need_root
	plant
	# nobody may rewrite the directory, but cannot chown a file to root
	chown nobody:nogroup "$V" "$WORLD"
	chmod 644 "$V/v1.ndjson"
	printf '%s\t%s\t-\t-\t-\t-\n' orphan-manifest "$LOST" >c.rec
	chmod 644 c.rec
	cp "$V/v1.ndjson" before
	run -4 --separate-stderr unpriv arc-delete --act -A "$WORLD/a.tgz" "$STORE" "$MANIFEST" <c.rec
	assert_stderr --partial "cannot give '$V/v1.ndjson.tmp."
	assert_stderr --partial "the manifest's owner and group 0:0"
	cmp before "$V/v1.ndjson"
	assert_equal "$(stat -c '%U %a' "$V/v1.ndjson")" 'root 644'
	assert_equal "$(ls -A "$V")" "$(printf 'v1.ndjson\nv1.ndjson.lock')"
	# positive control: the manifest nobody owns is rewritten by nobody
	chown nobody:nogroup "$V/v1.ndjson"
	run -0 --separate-stderr unpriv arc-delete --act -A "$WORLD/b.tgz" "$STORE" "$MANIFEST" <c.rec
	run -0 paths "$V/v1.ndjson"
	refute_line "$LOST"
	assert_equal "$(stat -c '%U %a' "$V/v1.ndjson")" 'nobody 644'
}

@test "the lock files the tools create are 0644 under umask 077, beside the link and beside its target" {
	plant
	[ ! -e "$MANIFEST.lock" ] && [ ! -e "$V/v1.ndjson.lock" ]
	run -0 --separate-stderr sh -c 'umask 077; arc-manifest-dump "$1" >/dev/null' sh "$MANIFEST"
	assert_equal "$(stat -c %a "$MANIFEST.lock" "$V/v1.ndjson.lock")" "$(printf '644\n644')"
	rm "$MANIFEST.lock" "$V/v1.ndjson.lock"
	run --separate-stderr reconcile
	expect 0
	assert_equal "$(stat -c %a "$MANIFEST.lock" "$V/v1.ndjson.lock")" "$(printf '644\n644')"
	# an existing lock file is the operator's: its mode is left alone
	chmod 664 "$MANIFEST.lock"
	run --separate-stderr reconcile
	expect 0
	assert_equal "$(stat -c %a "$MANIFEST.lock")" 664
}

@test "a rewrite waits for a writer locking and appending by the target's own name, and keeps what it appended" {
	plant
	printf '%s\t%s\t-\t-\t-\t-\n' orphan-manifest "$LOST" >c.rec
	: >"$V/v1.ndjson.lock"
	# the writer opens the target under its lock and appends 2s later: a
	# rewrite that did not wait would replace the file in between
	flock "$V/v1.ndjson.lock" sh -c "exec 4>>'$V/v1.ndjson'; sleep 2
	    printf '%s\n' '$(fentry "db/new/$H/late.parquet")' >&4" 3>&- &
	local pid=$!
	sleep 0.5
	run -0 --separate-stderr arc-delete --act -A a.tgz "$STORE" "$MANIFEST" <c.rec
	wait "$pid"
	run -0 paths "$V/v1.ndjson"
	assert_line "db/new/$H/late.parquet"
	refute_line "$LOST"
}

# ---- the manifest's writer, as its owner --------------------------------

@test "after root act runs the manifest's owner still appends under flock, and every file it registers is kept by the next run" {
	need_unpriv
	need_root
	plant
	# the writer owns the store, the versions and the manifest; the
	# directory of the link is root's, so the lock beside the link is
	# the one a root run creates under umask 077
	chown -R nobody:nogroup "$STORE" "$V"
	chmod 644 "$V/v1.ndjson"
	run --separate-stderr reconcile
	expect 0
	[ ! -e "$STORE/$ORPH" ]
	local round p
	: >written
	for round in 1 2 3 4; do
		# the writer, as nobody: a file, then its entry, by the link's
		# name with the link's lock (rounds 1-3) or by the target's own
		# name with its lock (round 4), as arc(7) says
		p="db/w/$H/w_$round.parquet"
		run -0 --separate-stderr unpriv sh -c 'mkdir -p "$(dirname "$1")" &&
		    echo data >"$1" && touch -d "2 days ago" "$1"' sh "$STORE/$p"
		if [ "$round" -lt 4 ]; then
			run -0 --separate-stderr unpriv flock "$MANIFEST.lock" \
			    sh -c 'printf "%s\n" "$2" >>"$1"' sh "$MANIFEST" "$(fentry "$p")"
		else
			run -0 --separate-stderr unpriv flock "$V/v1.ndjson.lock" \
			    sh -c 'printf "%s\n" "$2" >>"$1"' sh "$V/v1.ndjson" "$(fentry "$p")"
		fi
		echo "$p" >>written
		# positive control: an unregistered file beside it is deleted
		put "db/w/$H/ghost_$round.parquet"
		run --separate-stderr reconcile
		expect 0
		[ ! -e "$STORE/db/w/$H/ghost_$round.parquet" ]
		[ -L "$MANIFEST" ]
		assert_equal "$(stat -c '%U:%G %a' "$V/v1.ndjson")" 'nobody:nogroup 644'
	done
	# every file the writer registered is there, with its entry
	run -0 comm -23 <(sort written) <(store_paths)
	assert_output ''
	run -0 comm -23 <(sort written) <(paths "$V/v1.ndjson")
	assert_output ''
	[ ! -e "$STORE/$ORPH" ]
	run -0 paths "$V/v1.ndjson"
	refute_line "$LOST"
}

# ---- the manifest names another file during the run ---------------------

@test "a link re-pointed between the dump and the deletes stops the run with exit 2: nothing deleted, neither file rewritten" {
	plant
	cp "$V/v1.ndjson" "$V/v2.ndjson"
	hook_driver
	printf 'ln -sfn versions/v2.ndjson %s\n' "$MANIFEST" >"$BATS_TEST_TMPDIR/hook.sh"
	before=$(snapshot | sed 's|versions/v1.ndjson|versions/v2.ndjson|')
	run --separate-stderr "$HOOK/arc-reconcile" --state-dir "$STATE" --act \
	    --max-orphan-ratio 1 --grace 1h --now "$NOW" "$STORE" "$MANIFEST"
	expect 2
	assert_stderr --partial "manifest '$MANIFEST' changed during the run: it names '$V/v2.ndjson' now, '$V/v1.ndjson' before"
	assert_equal "$(snapshot)" "$before"
	[ -f "$STORE/$ORPH" ]
	assert_equal "$(jq -c '[.aborted, .manifest_deletes, .storage_deletes]' "$STATE"/runs/*.json)" '[true,0,0]'
}

@test "a link made again to the same file between the dump and the deletes is no change: the run repairs the drift" {
	plant
	hook_driver
	printf 'ln -sfn versions/v1.ndjson %s.new && mv %s.new %s\n' \
	    "$MANIFEST" "$MANIFEST" "$MANIFEST" >"$BATS_TEST_TMPDIR/hook.sh"
	ino=$(stat -c %i "$MANIFEST")
	run --separate-stderr "$HOOK/arc-reconcile" --state-dir "$STATE" --act \
	    --max-orphan-ratio 1 --grace 1h --now "$NOW" "$STORE" "$MANIFEST"
	expect 0
	[ "$(stat -c %i "$MANIFEST")" != "$ino" ]	# the hook did run
	[ ! -e "$STORE/$ORPH" ]
	run -0 paths "$V/v1.ndjson"
	refute_line "$LOST"
}

@test "every tool refuses with exit 2 a manifest that names another file than the one the run started with" {
	plant
	cp "$V/v1.ndjson" "$V/v2.ndjson"
	printf '%s\t%s\t-\t-\n' orphan-storage "$ORPH" >c.rec
	printf '%s\t%s\t-\t-\t-\t-\n' orphan-manifest "$LOST" >>c.rec
	ln -sfn versions/v2.ndjson "$MANIFEST"
	before=$(snapshot)
	export ARC_MANIFEST_TARGET=$V/v1.ndjson
	run -2 --separate-stderr arc-manifest-dump "$MANIFEST"
	assert_stderr "arc-manifest-dump: manifest '$MANIFEST' changed during the run: it names '$V/v2.ndjson' now, '$V/v1.ndjson' before; nothing changed"
	run -2 --separate-stderr arc-recheck -t "$NOW" "$STORE" "$MANIFEST" <c.rec
	assert_stderr --partial "changed during the run"
	run -2 --separate-stderr arc-delete --act -A a.tgz "$STORE" "$MANIFEST" <c.rec
	assert_stderr --partial "changed during the run"
	assert_equal "$(snapshot)" "$before"
	[ ! -e a.tgz ]
	# positive control: pinned to the file it names, the same delete runs
	export ARC_MANIFEST_TARGET=$V/v2.ndjson
	run -0 --separate-stderr arc-delete --act -A a.tgz "$STORE" "$MANIFEST" <c.rec
	[ ! -e "$STORE/$ORPH" ]
	run -0 paths "$V/v2.ndjson"
	refute_line "$LOST"
	assert_equal "$(paths "$V/v1.ndjson" | grep -c lost)" 1
}

# plant_blocked: plant, plus an entry whose file is gone (cpu_01) and a
# second orphan file that is no candidate; c.rec: one orphan-storage and
# two orphan-manifest candidates, in path order as arc-diff writes them.
plant_blocked() {
	plant
	put "db/aaa/$H/orphan_2.parquet"
	rm "$STORE/db/cpu/$H/cpu_01.parquet"
	{
		printf '%s\t%s\t-\t-\n' orphan-storage "$ORPH"
		printf '%s\t%s\t-\t-\t-\t-\n' orphan-manifest "db/cpu/$H/cpu_01.parquet"
		printf '%s\t%s\t-\t-\t-\t-\n' orphan-manifest "$LOST"
	} >c.rec
}

# blocked_delete CHANGE: hold MANIFEST.lock, start arc-delete -b 1 on
# c.rec and wait until it waits for the lock; eval CHANGE; release the
# lock and wait for arc-delete.  Sets status and stderr.
blocked_delete() {
	local i pid
	rm -f "$BATS_TEST_TMPDIR/release"
	mkfifo "$BATS_TEST_TMPDIR/release"
	: >"$MANIFEST.lock"
	flock "$MANIFEST.lock" sh -c 'read -r x <"$1"' sh "$BATS_TEST_TMPDIR/release" 3>&- &
	KILL_PIDS=$!
	for ((i = 0; i < 100; i++)); do
		flock -n "$MANIFEST.lock" true || break
		sleep 0.05
	done
	arc-delete --act -b 1 -A a.tgz "$STORE" "$MANIFEST" <c.rec >out 2>err 3>&- &
	pid=$!
	# arc-delete has resolved the manifest once it holds the lock file open
	for ((i = 0; i < 200; i++)); do
		ls -l "/proc/$pid/fd" 2>/dev/null | grep -q 'manifest.ndjson.lock' && break
		sleep 0.05
	done
	eval "$1"
	echo go >"$BATS_TEST_TMPDIR/release"
	status=0
	wait "$pid" || status=$?
	stderr=$(cat err)
}

@test "a link re-pointed while arc-delete waits for the manifest lock stops it with exit 2: nothing deleted, neither file rewritten" {
	plant_blocked
	cp "$V/v1.ndjson" "$V/v2.ndjson"
	before=$(snapshot | sed 's|versions/v1.ndjson|versions/v2.ndjson|')
	blocked_delete 'ln -sfn versions/v2.ndjson "$MANIFEST"'
	expect 2
	assert_stderr --partial "manifest '$MANIFEST' changed during the run: it names '$V/v2.ndjson' now"
	assert_stderr --partial "nothing more is changed"
	assert_equal "$(snapshot)" "$before"
	[ ! -s out ]
}

@test "a target replaced by another program's rename while arc-delete waits for the lock stops it with exit 2; left alone, the same run repairs the drift" {
	plant_blocked
	blocked_delete 'cp "$V/v1.ndjson" "$V/new" && mv "$V/new" "$V/v1.ndjson"; before=$(snapshot)'
	expect 2
	assert_stderr --partial "'$V/v1.ndjson' was replaced by another file"
	assert_equal "$(snapshot)" "$before"
	# positive control: the same run, nothing changed under it, and two
	# rewrites in one process (-b 1) are not taken for a replacement
	rm -f a.tgz
	blocked_delete 'true'
	expect 0
	[ ! -e "$STORE/$ORPH" ]
	[ -e "$STORE/db/aaa/$H/orphan_2.parquet" ]	# not a candidate
	run -0 paths "$V/v1.ndjson"
	refute_line "$LOST"
	refute_line "db/cpu/$H/cpu_01.parquet"
	[ -L "$MANIFEST" ]
}

# ---- between batches: what changed since the last pass -------------------
#
# A phase reads a manifest file whole once; a later batch reads only what
# was appended since, and anything else makes it read the file whole
# again (arc(7), MANIFEST FILE PASSES).  These tests change the manifest
# between two batches of one arc-delete: its results go into a pipe that
# is already full, so it stops when it prints the first batch's results,
# before the second batch's look-up or rewrite.

# plant_batches: MANIFEST a plain file of forty entries in sync with the
# store (more than the 4 KiB before the old end that are compared); three
# orphan files orp_01..03, whose paths are as long as the entries'; three
# entries lost_01..03 (rev 1) without a file.  s.rec: the three
# orphan-storage candidates; m.rec: the three orphan-manifest ones.
plant_batches() {
	local i
	rm -f "$MANIFEST"
	for i in $(seq -w 1 40); do
		put "db/cpu/$H/cpu_$i.parquet"
		fentry "db/cpu/$H/cpu_$i.parquet" >>"$MANIFEST"
	done
	for i in 01 02 03; do
		put "db/cpu/$H/orp_$i.parquet"
		fentry "db/cpu/$H/los_$i.parquet" >>"$MANIFEST"
		printf 'orphan-storage\t%s\t-\t-\n' "db/cpu/$H/orp_$i.parquet" >>s.rec
		printf 'orphan-manifest\t%s\t-\t-\t-\t1\n' "db/cpu/$H/los_$i.parquet" >>m.rec
	done
}

# append_locked LINE: append one manifest line as a writer does, under flock.
append_locked() {
	flock "$MANIFEST.lock" sh -c 'printf "%s\n" "$1" >>"$2"' sh "$1" "$MANIFEST"
}

# edit_in_place FROM TO: replace FROM by TO (as long) in the manifest's
# bytes, the same inode and size, its mtime kept: only its ctime tells.
edit_in_place() {
	touch -r "$MANIFEST" "$BATS_TEST_TMPDIR/mtime"
	/usr/bin/python3 -c '
import sys
a, b = sys.argv[2].encode(), sys.argv[3].encode()
assert len(a) == len(b)
with open(sys.argv[1], "r+b") as f:
    d = f.read()
    assert a in d
    f.seek(0)
    f.write(d.replace(a, b))' "$MANIFEST" "$1" "$2"
	touch -m -r "$BATS_TEST_TMPDIR/mtime" "$MANIFEST"
}

# between_batches KIND CHANGE INPUT: arc-delete --act -b 1 on INPUT (-S
# st.json, -a audit); once the first reconcile.KIND_batch_deleted event
# is written, eval CHANGE, then let it go on.  Sets status, stderr and
# out (the result lines).
between_batches() {
	local kind=$1 change=$2 input=$3 fifo=$BATS_TEST_TMPDIR/results i pid rd fd
	rm -f "$fifo" audit st.json a.tgz
	mkfifo "$fifo"
	exec {fd}<>"$fifo"
	/usr/bin/python3 -c '
import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_NONBLOCK)
for n in (4096, 1):
    try:
        while True:
            os.write(fd, b"\n" * n)
    except BlockingIOError:
        pass' "$fifo"
	arc-delete --act -b 1 -A a.tgz -a audit -S st.json "$STORE" "$MANIFEST" \
	    <"$input" >"$fifo" 2>err {fd}>&- 3>&- &
	pid=$!
	for ((i = 0; i < 600; i++)); do
		[ -s audit ] && grep -q "reconcile.${kind}_batch_deleted" audit && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	grep -q "reconcile.${kind}_batch_deleted" audit || {
		exec {fd}>&-
		wait "$pid"
		echo "no first $kind batch" >&2
		return 1
	}
	eval "$change"
	# a second reader, then ours closed: the pipe ends when arc-delete does
	exec {rd}<"$fifo"
	exec {fd}>&-
	cat <&"$rd" >out.raw
	exec {rd}<&-
	status=0
	wait "$pid" || status=$?
	out=$(grep . out.raw || true)
	stderr=$(cat err)
}

# counts: manifest_passes and manifest_tails of st.json.
counts() {
	jq -r '"\(.manifest_passes) \(.manifest_tails)"' st.json
}

@test "an entry appended between two storage batches for a path about to be deleted is found in the appended bytes alone and the file is not deleted; without it the same run deletes it" {
	plant_batches
	between_batches storage "append_locked '$(fentry "db/cpu/$H/orp_02.parquet")'" s.rec
	expect 1
	assert_equal "$out" "$(printf 'deleted\torphan-storage\t%s\tDELETED\n' "db/cpu/$H/orp_01.parquet"
	    printf 'refused\torphan-storage\t%s\tRECHECK_REGISTERED\n' "db/cpu/$H/orp_02.parquet"
	    printf 'deleted\torphan-storage\t%s\tDELETED' "db/cpu/$H/orp_03.parquet")"
	assert_stderr --partial "orp_02.parquet': refused: now in the manifest"
	[ -e "$STORE/db/cpu/$H/orp_02.parquet" ]
	# one whole pass, then the appended line read alone
	run -0 counts
	assert_output "1 1"
	# positive control: nothing appended, nothing read after the first pass
	rm -f s.rec m.rec
	plant_batches
	between_batches storage true s.rec
	expect 0
	[ ! -e "$STORE/db/cpu/$H/orp_02.parquet" ]
	[ "$(grep -c '^deleted' <<<"$out")" -eq 3 ]
	run -0 counts
	assert_output "1 0"
}

@test "the manifest edited in place between two storage batches, the same inode, size and mtime, is read whole again and the path it names now is refused" {
	plant_batches
	between_batches storage "edit_in_place cpu_40.parquet orp_02.parquet" s.rec
	expect 1
	assert_stderr --partial "orp_02.parquet': refused: now in the manifest"
	[ -e "$STORE/db/cpu/$H/orp_02.parquet" ]
	[ ! -e "$STORE/db/cpu/$H/orp_03.parquet" ]
	run -0 counts
	assert_output "2 0"
}

@test "the manifest edited in place early on and appended to between two storage batches is read whole again and the path the edit names is refused" {
	local i
	plant_batches
	# registered entries first, so that the edit lies more than 4 KiB
	# before the old end, and the append moves the end: neither the
	# file's times nor a window of its last bytes show the edit
	{
		for i in $(seq -w 1 80); do
			fentry "db/cpu/$H/pad_$i.parquet"
		done
		cat "$MANIFEST"
	} >new && cat new >"$MANIFEST"
	[ "$(grep -b -m1 pad_01.parquet "$MANIFEST" | cut -d: -f1)" -lt \
	    "$(($(wc -c <"$MANIFEST") - 4096))" ]
	between_batches storage "edit_in_place pad_01.parquet orp_02.parquet &&
	    append_locked '$(fentry "db/cpu/$H/new_01.parquet")'" s.rec
	expect 1
	assert_stderr --partial "orp_02.parquet': refused: now in the manifest"
	[ -e "$STORE/db/cpu/$H/orp_02.parquet" ]
	[ ! -e "$STORE/db/cpu/$H/orp_03.parquet" ]
	run -0 counts
	assert_output "2 0"
}

@test "the manifest rewritten in place between two storage batches with an entry put first (the same inode, larger) is read whole again and that path is refused" {
	plant_batches
	between_batches storage '{ fentry "db/cpu/$H/orp_02.parquet"; cat "$MANIFEST"; } >new &&
	    cat new >"$MANIFEST"' s.rec
	expect 1
	assert_stderr --partial "orp_02.parquet': refused: now in the manifest"
	[ -e "$STORE/db/cpu/$H/orp_02.parquet" ]
	[ ! -e "$STORE/db/cpu/$H/orp_03.parquet" ]
	run -0 counts
	assert_output "2 0"
}

@test "the manifest replaced by another program's rename between two storage batches stops arc-delete with exit 2 before the second batch" {
	plant_batches
	between_batches storage 'cp "$MANIFEST" new && mv new "$MANIFEST"' s.rec
	expect 2
	assert_stderr --partial "was replaced by another file"
	[ ! -e "$STORE/db/cpu/$H/orp_01.parquet" ]
	[ -e "$STORE/db/cpu/$H/orp_02.parquet" ]
	[ -e "$STORE/db/cpu/$H/orp_03.parquet" ]
}

@test "between two manifest batches, an appended entry is kept and a later batch's path registered again with a new rev keeps its new entry; the rewrite reads only the appended bytes" {
	plant_batches
	between_batches manifest "append_locked '$(fentry "db/cpu/$H/new.parquet")' &&
	    append_locked '$(fentry "db/cpu/$H/los_02.parquet" | sed 's/"lsn":1/"lsn":2/')'" m.rec
	expect 1
	assert_equal "$out" "$(printf 'deleted\torphan-manifest\t%s\tDELETED\n' "db/cpu/$H/los_01.parquet"
	    printf 'changed\torphan-manifest\t%s\tCHANGED_SINCE_LISTING\n' "db/cpu/$H/los_02.parquet"
	    printf 'deleted\torphan-manifest\t%s\tDELETED' "db/cpu/$H/los_03.parquet")"
	run -0 jq -c 'select(.path | test("los_|new")) | [.path, .lsn]' "$MANIFEST"
	assert_output "$(printf '["db/cpu/%s/new.parquet",1]\n["db/cpu/%s/los_02.parquet",2]' "$H" "$H")"
	[ "$(jq -r .path "$MANIFEST" | grep -c cpu_)" -eq 40 ]
	# the fetch for the archive and the first rewrite; then the tail
	run -0 counts
	assert_output "2 1"
	[ "$(jq .manifest_bytes_copied st.json)" -gt 0 ]
	# positive control: nothing appended, every lost entry removed
	rm -f s.rec m.rec
	plant_batches
	between_batches manifest true m.rec
	expect 0
	run -0 jq -r .path "$MANIFEST"
	refute_line --partial los_
	[ "${#lines[@]}" -eq 40 ]
	run -0 counts
	assert_output "2 0"
}

# drop_lsn: the lost entries (los_*) of plant_batches without their lsn,
# and their candidates without a rev, as a writer without LSNs and the
# dump of its manifest give them.
drop_lsn() {
	jq -c 'if (.path | test("los_")) then del(.lsn) else . end' "$MANIFEST" >new
	cat new >"$MANIFEST"
	awk -F '\t' -v OFS='\t' '{ $3 = "2026-04-11T14:00:00Z"; $4 = 10;
	    $5 = "node-1"; $6 = "-"; print }' m.rec >new
	cat new >m.rec
}

@test "between a phase's two manifest rewrites, a path of the second registered again without lsn keeps both entries and is 'changed', never reported deleted; an unrelated append keeps every delete verified" {
	plant_batches
	drop_lsn
	between_batches manifest "append_locked '$(fentry "db/cpu/$H/los_02.parquet" | jq -c 'del(.lsn)')' &&
	    append_locked '$(fentry "db/cpu/$H/los_01.parquet" | jq -c 'del(.lsn)')'" m.rec
	expect 1
	run -0 printf '%s\n' "$out"
	assert_line "$(printf 'changed\torphan-manifest\t%s\tCHANGED_SINCE_LISTING' "db/cpu/$H/los_02.parquet")"
	assert_line "$(printf 'deleted\torphan-manifest\t%s\tDELETED' "db/cpu/$H/los_03.parquet")"
	refute_line --partial "deleted	orphan-manifest	db/cpu/$H/los_02"
	run -0 jq -r 'select(.path | test("los_")) | .path' "$MANIFEST"
	assert_output "$(printf 'db/cpu/%s/los_02.parquet\ndb/cpu/%s/los_02.parquet\ndb/cpu/%s/los_01.parquet' "$H" "$H" "$H")"
	# los_01 went in the first rewrite: its new entry is not removed
	[ "$(jq '.changed' st.json)" -eq 1 ]
	# positive control: an unrelated append, every lost entry removed
	rm -f s.rec m.rec
	plant_batches
	drop_lsn
	between_batches manifest "append_locked '$(fentry "db/cpu/$H/new.parquet")'" m.rec
	expect 0
	[ "$(grep -c '^deleted' <<<"$out")" -eq 3 ]
	run -0 jq -r .path "$MANIFEST"
	refute_line --partial los_
	[ "$(jq .verified_deletes st.json)" -eq 3 ]
}

@test "an entry of a later manifest batch edited in place between batches (a new rev, the same size) is read whole again and kept" {
	plant_batches
	between_batches manifest "edit_in_place 'los_03.parquet\",\"created_at\":\"2026-04-11T14:00:00Z\",\"size_bytes\":10,\"database\":\"db\",\"measurement\":\"cpu\",\"origin_node_id\":\"node-1\",\"lsn\":1' 'los_03.parquet\",\"created_at\":\"2026-04-11T14:00:00Z\",\"size_bytes\":10,\"database\":\"db\",\"measurement\":\"cpu\",\"origin_node_id\":\"node-1\",\"lsn\":7'" m.rec
	expect 1
	run -0 printf '%s\n' "$out"
	assert_line "$(printf 'changed\torphan-manifest\t%s\tCHANGED_SINCE_LISTING' "db/cpu/$H/los_03.parquet")"
	run -0 jq -c 'select(.path | test("los_")) | [.path, .lsn]' "$MANIFEST"
	assert_output "[\"db/cpu/$H/los_03.parquet\",7]"
	run -0 counts
	assert_output "3 0"
}

@test "arc-delete reads a manifest file whole as often with one candidate a batch as with one batch, and leaves the same manifest and store" {
	local b
	for b in 1 1000; do
		rm -rf "$STORE" s.rec m.rec
		mkdir -p "$STORE"
		plant_batches
		cat m.rec s.rec >c.rec
		run -0 arc-delete -b "$b" -S st.json "$STORE" "$MANIFEST" <c.rec
		echo "dry -b $b: $(counts)" >>passes
		run -0 arc-delete --act -b "$b" -A "a$b.tgz" -S st.json "$STORE" "$MANIFEST" <c.rec
		echo "act -b $b: $(counts | cut -d' ' -f1)" >>passes
		cp "$MANIFEST" "m.$b"
		store_paths >"s.$b"
	done
	cat passes
	# whole passes: the storage look-ups' one (dry); the fetch, the first
	# rewrite and the storage look-ups' one (act), whatever -b
	run -0 sed 's/ -b [0-9]*//' passes
	assert_equal "$(sed -n 1p <<<"$output")" "$(sed -n 3p <<<"$output")"
	assert_equal "$(sed -n 2p <<<"$output")" "$(sed -n 4p <<<"$output")"
	assert_equal "$(sed -n 2p <<<"$output")" "act: 3"
	cmp m.1 m.1000
	cmp s.1 s.1000
	run -0 jq -r .path m.1
	refute_line --partial los_
}

# plant_many N: plant_batches with N orphan files orx_NN and N entries
# lxs_NN (rev 1) without a file besides, so that -b 1 makes many batches;
# c.rec: every candidate, orphan-manifest first.
plant_many() {
	local i
	plant_batches
	for i in $(seq -w 1 "$1"); do
		put "db/cpu/$H/orx_$i.parquet"
		fentry "db/cpu/$H/lxs_$i.parquet" >>"$MANIFEST"
		printf 'orphan-storage\t%s\t-\t-\n' "db/cpu/$H/orx_$i.parquet" >>s.rec
		printf 'orphan-manifest\t%s\t-\t-\t-\t1\n' "db/cpu/$H/lxs_$i.parquet" >>m.rec
	done
	cat m.rec s.rec >c.rec
}

# io: rewrites, bytes written, and bytes read (parsed, hashed or copied)
# of st.json.
io() {
	jq -r '"\(.manifest_rewrites) \(.manifest_bytes_written) \(.manifest_bytes_read + .manifest_bytes_copied)"' st.json
}

@test "arc-delete rewrites a manifest file at most twice and reads it at most four times in an act run, and an unchanged one once in a dry run, with one candidate a batch or all in one batch" {
	local b size rw wr rd
	for b in 1 1000; do
		rm -rf "$STORE" s.rec m.rec c.rec
		mkdir -p "$STORE"
		plant_many 17
		size=$(stat -c %s "$MANIFEST")
		run -0 arc-delete -b "$b" -S st.json "$STORE" "$MANIFEST" <c.rec
		read -r rw wr rd < <(io)
		echo "dry -b $b: $rw rewrites, $wr bytes written, $rd read of a $size-byte manifest"
		# nothing rewritten; one whole pass for the storage look-ups, the
		# file unchanged after it: not read again
		[ "$rw" -eq 0 ] && [ "$wr" -eq 0 ]
		[ "$rd" -eq "$size" ]
		run -0 arc-delete --act -b "$b" -A "a$b.tgz" -S st.json "$STORE" "$MANIFEST" <c.rec
		read -r rw wr rd < <(io)
		echo "act -b $b: $rw rewrites, $wr bytes written, $rd read of a $size-byte manifest"
		# the fetch, the first rewrite, the second one's copy, and the
		# storage look-ups' pass; with one batch, one rewrite
		if [ "$b" -eq 1 ]; then
			[ "$rw" -eq 2 ]
		else
			[ "$rw" -eq 1 ]
		fi
		[ "$wr" -le $((2 * size)) ]
		[ "$rd" -le $((4 * size)) ]
		cp "$MANIFEST" "m.$b"
		store_paths >"s.$b"
	done
	# the same end whatever the batch size: every lost entry and orphan gone
	cmp m.1 m.1000
	cmp s.1 s.1000
	run -0 jq -r .path m.1
	refute_line --partial los_
	refute_line --partial lxs_
	[ "${#lines[@]}" -eq 40 ]
	run -0 cat s.1
	refute_line --partial orx_
	refute_line --partial orp_
}

# ---- the reason a stage stops ---------------------------------------------

# hooked RUN-HOOK: an act run of the driver with RUN-HOOK run in the
# listing stage; the run record's [aborted, abort_reason] in $rec.
hooked() {
	[ -n "${HOOK:-}" ] || hook_driver
	printf '%s\n' "$1" >"$BATS_TEST_TMPDIR/hook.sh"
	run --separate-stderr "$HOOK/arc-reconcile" --state-dir "$STATE" --act \
	    --max-orphan-ratio 1 --grace 1h --now "$NOW" "$STORE" "$MANIFEST"
	rec=$(jq -c '[.aborted, .abort_reason]' "$STATE"/runs/*.json)
}

@test "a run stopped by a manifest re-pointed mid-run is recorded as aborted (manifest_replaced), in its record and the audit log" {
	plant
	cp "$V/v1.ndjson" "$V/v2.ndjson"
	hooked "ln -sfn versions/v2.ndjson $MANIFEST"
	expect 2
	assert_stderr --partial "arc-reconcile: aborted (manifest_replaced): "
	assert_equal "$rec" '[true,"manifest_replaced"]'
	run -0 jq -r 'select(.event == "reconcile.run_aborted") | .detail.abort_reason' "$STATE/audit.log"
	assert_output manifest_replaced
	[ -f "$STORE/$ORPH" ]
	# the positive control: the same run with the link left alone repairs
	rm -rf "$STATE"
	ln -sfn versions/v1.ndjson "$MANIFEST"
	hooked true
	expect 0
	assert_equal "$rec" '[false,null]'
	[ ! -f "$STORE/$ORPH" ]
}

@test "a run whose archive cannot be written is aborted (archive_unwritable), and one whose audit log cannot be written (audit_unwritable), not (unknown)" {
	plant
	# archives/ turned into a file after the run began
	hooked "mv '$STATE/archives' '$STATE/archives.x' && : >'$STATE/archives'"
	expect 2
	assert_stderr --partial "arc-reconcile: aborted (archive_unwritable): phase 1 delete: "
	assert_equal "$rec" '[true,"archive_unwritable"]'
	[ -f "$STORE/$ORPH" ]
	run -0 jq -r 'select(.event == "reconcile.run_aborted") | .detail.abort_reason' "$STATE/audit.log"
	assert_output archive_unwritable
	# the audit log turned into a directory after the run began
	rm -rf "$STATE"
	hooked "mv '$STATE/audit.log' '$STATE/audit.x' && mkdir '$STATE/audit.log'"
	expect 2
	assert_stderr --partial "arc-reconcile: aborted (audit_unwritable): phase 1 delete: "
	assert_equal "$rec" '[true,"audit_unwritable"]'
	[ -f "$STORE/$ORPH" ]
	# the positive control: the same hooked run with the state left alone
	rm -rf "$STATE"
	hooked true
	expect 0
	assert_equal "$rec" '[false,null]'
	[ ! -f "$STORE/$ORPH" ]
}
