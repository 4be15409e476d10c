#!/usr/bin/env bats
# arc-reconcile.bats - the driver's state and arc-run: status, status
# --json and show stay valid and truthful whatever the state directory's
# name, the knobs or the paths hold; the metrics file; nothing removed that
# the run did not create (the lease-file hand-off with arc-lock, history
# pruning, the metrics path); a full or read-only state directory; the
# progress line and a stage's warnings on a terminal.
load test_helper
bats_require_minimum_version 1.5.0

D=db/cpu/2026/04/11/14

setup() {
	STORE=$BATS_TEST_TMPDIR/s
	MANIFEST=$BATS_TEST_TMPDIR/m.ndjson
	STATE=$BATS_TEST_TMPDIR/state
	MOUNTED=
	KILL_PIDS=
}

teardown() {
	local p
	stop_test_pids
	for p in $MOUNTED; do
		umount "$p" 2>/dev/null || umount -l "$p" 2>/dev/null || true
	done
}

# plant: in sync keep1..3; orphan-manifest lost (entry only);
# orphan-storage orphan (file only); all two days old.
plant() {
	local n
	for n in 1 2 3; do
		mkfile "$STORE/$D/keep$n.parquet"
		entry "$D/keep$n.parquet" >>"$MANIFEST"
	done
	entry "$D/lost.parquet" >>"$MANIFEST"
	mkfile "$STORE/$D/orphan.parquet"
}

reconcile() {
	arc-reconcile --state-dir "$STATE" "$@" "$STORE" "$MANIFEST"
}

# strict_json: standard input is one JSON document in valid UTF-8
# (json.load on bytes is strict about UTF-8).
strict_json() {
	python3 -c 'import json,sys; json.load(sys.stdin.buffer)'
}

run_id_of() {
	printf '%s\n' "$1" | sed -n 's/^arc-reconcile: run \([^ ]*\) .*/\1/p'
}

# need_root WHY: skip unless root (mount needs it).
need_root() {
	[ "$(id -u)" -eq 0 ] || skip "not root: cannot $1"
}

# small_tmpfs DIR: a 64 KiB tmpfs at DIR, unmounted in teardown.
small_tmpfs() {
	mkdir -p "$1"
	mount -t tmpfs -o size=64k,mode=700 tmpfs "$1" ||
	    skip "cannot mount a tmpfs here"
	MOUNTED="$1 $MOUNTED"
}

# fill DIR FREE: fill the file system of DIR so that FREE bytes are left.
fill() {
	dd if=/dev/zero of="$1/.fill" bs=4096 2>/dev/null || true
	truncate -s "-$2" "$1/.fill"
}

# state_whole: no empty or partial file behind a final name in $STATE:
# every run record and the status are strict JSON, every audit line is,
# every archive is a whole gzip'd tar.
state_whole() {
	local f
	for f in "$STATE"/runs/*.json; do
		[ -e "$f" ] || continue
		strict_json <"$f" || { echo "invalid record $f"; return 1; }
	done
	if [ -e "$STATE/audit.log" ]; then
		python3 -c 'import json,sys
for l in sys.stdin.buffer.read().split(b"\n")[:-1]: json.loads(l)
' <"$STATE/audit.log" || { echo "invalid audit log"; cat "$STATE/audit.log"; return 1; }
		[ ! -s "$STATE/audit.log" ] || [ "$(tail -c 1 "$STATE/audit.log" | od -An -c | tr -d ' ')" = '\n' ]
	fi
	for f in "$STATE"/archives/*.tar.gz; do
		[ -e "$f" ] || continue
		tar -tzf "$f" >/dev/null || { echo "broken archive $f"; return 1; }
	done
	run -0 find "$STATE" -type f -empty ! -name lock ! -name .fill ! -name audit.log
	assert_output ''
	run -0 arc-reconcile status --json --state-dir "$STATE"
	printf '%s' "$output" | strict_json
}

# ---- status, status --json and show ------------------------------------

@test "--help prints the usage to standard output and exits 0; --version prints the one version; an unknown option is exit 2" {
	local t
	for t in arc-reconcile arc-run; do
		run -0 --separate-stderr "$t" --help
		assert_line --index 0 --regexp "^usage: $t "
		assert_equal "$stderr" ''
		assert_version "$t"
		run -2 --separate-stderr "$t" --no-such-option
		assert_output ''
		[[ $stderr == *"usage: $t "* ]]
	done
}

@test "status, status --json and show work on a state directory whose name holds spaces" {
	plant
	STATE="$BATS_TEST_TMPDIR/st dir/with  spaces"
	run -1 --separate-stderr reconcile
	id=$(run_id_of "$stderr")
	[ -n "$id" ]
	run -0 arc-reconcile status --state-dir "$STATE"
	assert_line --index 1 --regexp "^$id +[-0-9T:Z]+ +dry-run +completed +1 +1 +false +false$"
	run -0 arc-reconcile status --json --state-dir "$STATE"
	printf '%s' "$output" | strict_json
	assert_equal "$(printf '%s' "$output" | jq -r '.last_run.id, .recent_runs[0].id')" "$id
$id"
	run -0 arc-reconcile show --state-dir "$STATE" "$id"
	assert_equal "$(printf '%s' "$output" | jq -r .id)" "$id"
}

@test "paths that are not UTF-8 keep the run record, status --json and show strict JSON, in arc(7)'s quoted form" {
	local bad=$'lost\xff.parquet' orph=$'orphan\xfe\n.parquet'
	plant
	jentry "$D/$bad" >>"$MANIFEST"
	mkfile "$STORE/$D/$orph"
	run -1 --separate-stderr reconcile
	id=$(run_id_of "$stderr")
	strict_json <"$STATE/runs/$id.json"
	run -0 jq -r '.orphan_manifest_sample[]' "$STATE/runs/$id.json"
	assert_line "$D/lost.parquet"
	assert_line "\"$D/lost\\377.parquet\""
	run -0 jq -r '.orphan_storage_sample[]' "$STATE/runs/$id.json"
	assert_line "\"$D/orphan\\376\\n.parquet\""
	run -0 arc-reconcile status --json --state-dir "$STATE"
	printf '%s' "$output" | strict_json
	run -0 arc-reconcile show --state-dir "$STATE" "$id"
	printf '%s' "$output" | strict_json
}

@test "status --json with a malformed knob exits 2 with one line naming the variable and prints nothing" {
	local k v
	plant
	run -1 reconcile
	# the positive control: the same state, sane knobs, strict JSON
	run -0 env ARC_RECONCILIATION_MAX_DELETES_PER_RUN=7 \
	    ARC_RECONCILIATION_GRACE_WINDOW_SECONDS=7200 \
	    arc-reconcile status --json --state-dir "$STATE"
	printf '%s' "$output" | strict_json
	assert_equal "$(printf '%s' "$output" | jq -c '[.max_deletes_per_run, .grace_window]')" '[7,"2h0m0s"]'
	for k in ARC_RECONCILIATION_MAX_DELETES_PER_RUN ARC_RECONCILIATION_MAX_MANIFEST_SIZE \
	    ARC_RECONCILIATION_GRACE_WINDOW ARC_RECONCILIATION_CLOCK_SKEW_ALLOWANCE_SECONDS \
	    ARC_RECONCILIATION_BATCH_SIZE; do
		for v in abc '1"}' $'\xff' '-1' '1 2' $'5\n6'; do
			run -2 --separate-stderr env "$k=$v" arc-reconcile status --json --state-dir "$STATE"
			assert_output ''
			assert_equal "${#stderr_lines[@]}" 1
			assert_stderr --regexp "^arc-reconcile: $k='.*': "
		done
	done
}

@test "a run with a malformed knob or flag exits 2 naming it, before anything is recorded" {
	plant
	run -2 --separate-stderr env ARC_RECONCILIATION_MAX_DELETES_PER_RUN=abc \
	    arc-reconcile --state-dir "$STATE" "$STORE" "$MANIFEST"
	assert_stderr "arc-reconcile: ARC_RECONCILIATION_MAX_DELETES_PER_RUN='abc': not a whole number"
	run -2 --separate-stderr reconcile --jobs 99
	assert_stderr "arc-reconcile: --jobs '99': jobs must be 1 to 64"
	run -2 --separate-stderr reconcile --grace $'1h\033[2J'
	assert_stderr "arc-reconcile: --grace '1h\\033[2J': invalid duration"
	[ ! -e "$STATE" ]
	# a flag beats a malformed variable
	run -1 env ARC_RECONCILIATION_MAX_DELETES_PER_RUN=abc \
	    arc-reconcile --state-dir "$STATE" --max-deletes 5 "$STORE" "$MANIFEST"
}

@test "a run record that is not valid is flagged unreadable by status, left out of status --json and refused by show" {
	plant
	run -1 --separate-stderr reconcile
	good=$(run_id_of "$stderr")
	bad=0123abcd-0000-4000-8000-000000000000
	printf '{"id": "%s", "dry_run": tru' "$bad" >"$STATE/runs/$bad.json"
	touch -d '+1 minute' "$STATE/runs/$bad.json"	# the newest
	run -0 --separate-stderr arc-reconcile status --state-dir "$STATE"
	assert_line --index 1 --regexp "^$bad +- +- +unreadable "
	assert_line --index 2 --regexp "^$good +.* completed "
	assert_stderr --partial "$bad.json': unreadable run record"
	run -0 --separate-stderr arc-reconcile status --json --state-dir "$STATE"
	printf '%s' "$output" | strict_json
	assert_equal "$(printf '%s' "$output" | jq -r '.last_run.id, (.recent_runs | length)')" "$good
1"
	run -2 --separate-stderr arc-reconcile show --state-dir "$STATE" "$bad"
	assert_output ''
	assert_stderr --partial 'unreadable run record'
	# invalid UTF-8 inside a string is refused too
	printf '{"id": "%s", "x": "\xff"}' "$bad" >"$STATE/runs/$bad.json"
	run -2 arc-reconcile show --state-dir "$STATE" "$bad"
	run -0 arc-reconcile show --state-dir "$STATE" "$good"
}

# ---- metrics -----------------------------------------------------------

@test "--metrics writes a 0644 file under umask 077, every metric with HELP and TYPE, no gauge named like a counter, that promtool accepts" {
	plant
	mkdir -p prom
	run -1 reconcile --metrics prom/arc.prom
	[ "$(stat -c %a prom/arc.prom)" = 644 ]
	run -0 awk '
	    /^# HELP / { help[$3] = 1; next }
	    /^# TYPE / { type[$3] = $4; next }
	    !($1 in help) || !($1 in type) { print "undeclared: " $1 }
	    type[$1] == "gauge" && $1 ~ /_(total|count|sum|bucket)$/ { print "counter-like gauge: " $1 }' prom/arc.prom
	assert_output ''
	run -0 grep -c '^arc_reconcile_last_run_' prom/arc.prom
	[ "$output" -ge 15 ]
	# inside the private state directory it stays private
	run -1 reconcile --metrics "$STATE/arc.prom"
	[ "$(stat -c %a "$STATE/arc.prom")" = 600 ]
	command -v promtool >/dev/null || skip "promtool (package prometheus) is not installed"
	run -0 promtool check metrics <prom/arc.prom
}

@test "a symlink planted at the --metrics path is refused, never followed: the file it points to is untouched" {
	plant
	echo precious >victim
	ln -s "$BATS_TEST_TMPDIR/victim" arc.prom
	# as every output file named by an option (arc(7), OUTPUT FILES)
	run -2 --separate-stderr reconcile --metrics arc.prom
	assert_stderr --partial "'arc.prom': a symbolic link is not followed"
	[ -L arc.prom ]
	assert_equal "$(cat victim)" precious
	# the control: a plain name gets the metrics
	run -1 reconcile --metrics plain.prom
	grep -q '^arc_reconcile_last_run_dry_run 1$' plain.prom
	# and no temporary file is left beside it
	run -0 find . -maxdepth 1 -name 'arc.prom.tmp*'
	assert_output ''
}

# ---- nothing removed that the run did not create -----------------------

@test "--history prunes only run records: a link named like one, its target, temporary and other files in runs/ survive" {
	plant
	mkdir -p "$STATE/runs"
	echo keep >outside.json
	ln -s "$BATS_TEST_TMPDIR/outside.json" "$STATE/runs/aaaaaaaa-0000-4000-8000-000000000000.json"
	echo x >"$STATE/runs/notes.txt"
	echo x >"$STATE/runs/0123.json.tmp.AbCdEf"
	mkdir "$STATE/runs/bbbbbbbb-0000-4000-8000-000000000000.json"
	touch -h -d '1 day ago' "$STATE/runs/"*
	run -1 --separate-stderr reconcile --history 1
	first=$(run_id_of "$stderr")
	run -1 --separate-stderr reconcile --history 1
	second=$(run_id_of "$stderr")
	[ -f "$STATE/runs/$second.json" ]
	[ ! -e "$STATE/runs/$first.json" ]	# it does prune
	[ -L "$STATE/runs/aaaaaaaa-0000-4000-8000-000000000000.json" ]
	[ -d "$STATE/runs/bbbbbbbb-0000-4000-8000-000000000000.json" ]
	[ -f "$STATE/runs/notes.txt" ] && [ -f "$STATE/runs/0123.json.tmp.AbCdEf" ]
	assert_equal "$(cat outside.json)" keep
	# status neither follows the link nor lists the directory
	run -0 arc-reconcile status --state-dir "$STATE"
	assert_equal "${#lines[@]}" 2
}

# snapshot_state: every path under $STATE with type and size.
snapshot_state() {
	find "$STATE" -printf '%p %y %s\n' | LC_ALL=C sort
}

@test "ARC_RECONCILE_LEASE_FILE naming a file in the state directory removes nothing, in a dry run or an act run" {
	plant
	run -1 reconcile
	mkdir -p "$STATE/archives/old"
	echo old >"$STATE/archives/old/keep.tar.gz"
	before=$(snapshot_state | grep -v '/runs/\|audit.log\|/archives/[0-9a-f-]*\.tar\.gz')
	for args in "" "--act --max-orphan-ratio 1"; do
		for lf in "$STATE/lost" "$STATE/archives/old/keep.tar.gz" "$STATE"; do
			run env ARC_RECONCILE_LEASE_FILE="$lf" ARC_LOCK_PID=$$ \
			    arc-reconcile --state-dir "$STATE" $args "$STORE" "$MANIFEST"
			[ "$status" -le 1 ] || { echo "exit $status: $output"; false; }
			[ -d "$STATE/archives" ] && [ -d "$STATE/runs" ]
			assert_equal "$(cat "$STATE/archives/old/keep.tar.gz")" old
		done
	done
	# nothing the runs did not create went away
	after=$(snapshot_state)
	while IFS= read -r l; do
		case $l in *" d "*) l=${l% *} ;; esac
		printf '%s\n' "$after" | grep -qF -- "${l}" || { echo "gone: $l"; false; }
	done <<<"$before"
	# the act runs did their work: the positive control
	[ ! -e "$STORE/$D/orphan.parquet" ]
}

@test "with --lock, a planted ARC_RECONCILE_LEASE_FILE does not skip the lock: the run still goes through arc-lock" {
	plant
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	run -2 --separate-stderr env ARC_RECONCILE_LEASE_FILE="$STATE/lost" \
	    ARC_LOCK_PID=1 ARC_HTTP_ATTEMPTS=1 ARC_HTTP_BACKOFF_MS=0 ARC_HTTP_TIMEOUT=2 \
	    arc-reconcile --state-dir "$STATE" --lock "etcd://127.0.0.1:$port/locks/x" \
	    "$STORE" "$MANIFEST"
	assert_stderr --partial "arc-lock: cannot grant a lease"
	[ ! -e "$STATE" ]
	[ -f "$STORE/$D/orphan.parquet" ]
}

@test "arc-lock -e makes a private directory for the lost-file, names it to the command, and removes only that" {
	export TMPDIR=$BATS_TEST_TMPDIR/tmp
	mkdir -p "$TMPDIR"
	# no etcd needed to see the directory made and refused: -e with -f is
	# a usage error, and a bad name is refused before anything is made
	run -2 arc-lock -e X -f y etcd://127.0.0.1:1/k true
	run -2 --separate-stderr arc-lock -e '1X' etcd://127.0.0.1:1/k true
	assert_stderr --partial "'1X': not a variable name"
	run -0 find "$TMPDIR" -mindepth 1
	assert_output ''
	# a lease that cannot be granted: the directory made for it is gone too
	run -2 env ARC_HTTP_ATTEMPTS=1 ARC_HTTP_TIMEOUT=2 \
	    arc-lock -e LOSTFILE etcd://127.0.0.1:1/k true
	run -0 find "$TMPDIR" -mindepth 1
	assert_output ''
}

# ---- a full or read-only state directory -------------------------------

@test "a full state directory (64 KiB tmpfs) at every fill level: exit 2 with a message or a whole run, never a partial file, status truthful" {
	need_root "mount a tmpfs"
	local free id
	plant
	small_tmpfs "$STATE"
	# the positive control: with room, the run completes on this tmpfs
	run -1 --separate-stderr reconcile
	id=$(run_id_of "$stderr")
	[ -f "$STATE/runs/$id.json" ]
	state_whole
	for free in 0 2048 4096 8192 12288 16384; do
		umount "$STATE"
		mount -t tmpfs -o size=64k,mode=700 tmpfs "$STATE"
		fill "$STATE" "$free"
		run --separate-stderr reconcile --metrics "$STATE/arc.prom"
		echo "free $free: exit $status: $stderr"
		if [ "$status" -eq 2 ]; then
			assert_stderr --regexp 'arc-reconcile: .*(could not be|cannot|write error|No space)'
			id=$(printf '%s\n' "$stderr" | sed -n 's/.*: run \([0-9a-f-]*\)[: ].*/\1/p' | head -n 1)
			[ -n "$id" ]
			# a run whose record could not be saved is never
			# reported as completed, by status or the audit log
			if [ ! -f "$STATE/runs/$id.json" ]; then
				run -0 arc-reconcile status --state-dir "$STATE"
				refute_output --partial "$id"
				run -0 jq -r --arg id "$id" 'select(.run_id == $id) | .event' "$STATE/audit.log"
				refute_output --partial run_completed
			fi
		else
			[ "$status" -eq 1 ]
		fi
		state_whole
		[ ! -e "$STATE/arc.prom" ] || grep -q '^# TYPE' "$STATE/arc.prom"
	done
}

@test "a read-only runs/ directory: the run exits 2 saying so, the audit log ends it as aborted (state_unwritable), status does not list it" {
	need_root "bind-mount read-only"
	plant
	run -1 --separate-stderr reconcile
	first=$(run_id_of "$stderr")
	mount --bind "$STATE/runs" "$STATE/runs" || skip "cannot bind-mount here"
	MOUNTED="$STATE/runs $MOUNTED"
	mount -o remount,bind,ro "$STATE/runs"
	run -2 --separate-stderr reconcile --metrics "$BATS_TEST_TMPDIR/arc.prom"
	assert_stderr --partial "could not be saved"
	assert_stderr --partial "arc-reconcile: run "
	refute_stderr --partial "no drift remains"
	run -0 jq -r '[.event, .detail.abort_reason // "-"] | join(" ")' "$STATE/audit.log"
	assert_equal "${lines[-1]}" "reconcile.run_aborted state_unwritable"
	grep -q '^arc_reconcile_last_run_aborted 1$' "$BATS_TEST_TMPDIR/arc.prom"
	run -0 arc-reconcile status --state-dir "$STATE"
	assert_equal "${#lines[@]}" 2
	assert_line --index 1 --regexp "^$first "
	state_whole
}

@test "a read-only state directory: the run exits 2 before it starts and status still answers" {
	need_root "remount a tmpfs read-only"
	plant
	small_tmpfs "$STATE"
	run -1 reconcile
	before=$(find "$STATE" -printf '%p %s %T@\n' | sort)
	mount -o remount,ro "$STATE"
	run -2 --separate-stderr reconcile
	assert_stderr --partial "arc-reconcile: cannot"
	assert_equal "$(find "$STATE" -printf '%p %s %T@\n' | sort)" "$before"
	run -0 arc-reconcile status --json --state-dir "$STATE"
	printf '%s' "$output" | strict_json
}

@test "as an unprivileged user, a state directory without write permission makes the run exit 2 and changes nothing" {
	need_unpriv
	plant
	chmod 755 "$BATS_TEST_TMPDIR"
	mkdir -p "$STATE/runs" "$STATE/archives" "$STATE/deferred"
	chown -R nobody "$STORE" "$MANIFEST" "$STATE" 2>/dev/null || skip "cannot chown"
	: >"$STATE/lock"
	chown nobody "$STATE/lock"
	chmod 555 "$STATE"
	before=$(find "$STATE" -printf '%p %s %T@\n' | sort)
	run -2 --separate-stderr unpriv env TMPDIR=/tmp arc-reconcile --state-dir "$STATE" "$STORE" "$MANIFEST"
	assert_stderr --partial "arc-reconcile: "
	assert_equal "$(find "$STATE" -printf '%p %s %T@\n' | sort)" "$before"
}

# ---- progress and warnings on a terminal -------------------------------

@test "arc-manifest-dump counts the entries it has read in ARC_PROGRESS_FILE before it writes any" {
	local i
	mkfifo slow.ndjson
	: >progress
	ARC_PROGRESS_FILE=$BATS_TEST_TMPDIR/progress arc-manifest-dump slow.ndjson >dump.out 2>dump.err &
	KILL_PIDS=$!
	exec 7>slow.ndjson
	for i in $(seq -w 1 500); do entry "$D/f$i.parquet"; done >&7
	# the input is not at its end: the tool waits, and has written nothing
	for i in $(seq 1 50); do
		[ "$(tr -cd 0-9 <progress)" -gt 0 ] && break
		sleep 0.1
	done
	n=$(tr -cd 0-9 <progress)
	[ "$n" -gt 100 ] && [ "$n" -le 500 ]
	[ ! -s dump.out ]
	exec 7>&-
	wait "$KILL_PIDS"
	KILL_PIDS=
	assert_equal "$(wc -l <dump.out)" 500
	assert_equal "$(tr -cd 0-9 <progress)" 500
	# a file that is not a small progress file is left alone: a large
	# one, one with other text, a link to a progress file
	plant
	seq 1 100 >big
	echo 'secret: 1' >text
	ln -s progress link
	for f in big text link; do
		cp -P "$f" "$f.before"
		ARC_PROGRESS_FILE=$BATS_TEST_TMPDIR/$f arc-manifest-dump "$MANIFEST" >/dev/null
		cmp "$f" "$f.before"
	done
	assert_equal "$(tr -cd 0-9 <progress)" 500
}

@test "on a terminal a stage's warning shows while the stage still runs, and the progress line counts the stage's own records" {
	command -v python3 >/dev/null || skip "python3 is needed for a pty"
	local fake=$BATS_TEST_TMPDIR/fake t
	plant
	mkdir -p "$fake"
	cp "$ARC_ROOT/bin/arc-reconcile" "$fake/"
	for t in arc-list arc-diff arc-recheck arc-delete arc-run arc-lock; do
		ln -s "$(command -v $t)" "$fake/$t"
	done
	# a slow dump that warns first and counts 4242 before it writes
	cat >"$fake/arc-manifest-dump" <<EOF
#!/bin/sh
echo 'arc-manifest-dump: early warning' >&2
printf '4242\n' >"\$ARC_PROGRESS_FILE"
sleep 3
echo 'arc-manifest-dump: late warning' >&2
exec "$(command -v arc-manifest-dump)" "\$@"
EOF
	chmod +x "$fake/arc-manifest-dump"
	run -0 timeout 60 python3 - "$fake/arc-reconcile" --state-dir "$STATE" "$STORE" "$MANIFEST" <<'EOF'
import os, pty, sys, time, select
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
t0 = time.time(); buf = b""; seen = {}
while True:
    r, _, _ = select.select([fd], [], [], 30)
    if not r: break
    try: d = os.read(fd, 4096)
    except OSError: break
    if not d: break
    buf += d
    for k in (b"early warning", b"4242 records", b"late warning", b"arc-reconcile: run "):
        if k in buf and k not in seen: seen[k] = time.time() - t0
os.waitpid(pid, 0)
for k, v in sorted(seen.items(), key=lambda x: x[1]):
    print("%s %.1f" % (k.decode(), v))
EOF
	echo "$output"
	early=$(printf '%s\n' "$output" | sed -n 's/^early warning //p')
	prog=$(printf '%s\n' "$output" | sed -n 's/^4242 records //p')
	late=$(printf '%s\n' "$output" | sed -n 's/^late warning //p')
	[ -n "$early" ] && [ -n "$prog" ] && [ -n "$late" ]
	# the early warning and the count came while the stage slept
	awk -v e="$early" -v p="$prog" -v l="$late" 'BEGIN { exit !(e < 2.5 && p < l && e < l) }'
}

# ---- arc-run -------------------------------------------------------------

@test "arc-run: a usage error prints the man page's synopsis, exit 2" {
	run -2 --separate-stderr arc-run
	assert_usage arc-run
	run -2 --separate-stderr arc-run frobnicate
	assert_usage arc-run
}

@test "arc-run get prints the counts and booleans of a statistics file, 0 for a missing file or key" {
	printf '{"a":3,"b":true,"c":false}\n' >s.json
	run -0 arc-run get s.json a b c missing
	assert_output "$(printf '3\ntrue\nfalse\n0')"
	run -0 arc-run get nothing.json a
	assert_output 0
	printf '{"a":3' >bad.json
	run -0 --separate-stderr arc-run get bad.json a
	assert_output 0
	assert_stderr --partial "'bad.json': not a statistics file"
}

@test "arc-run audit appends one strict-JSON line in the audit format, details as strings" {
	mkdir st
	run -0 arc-run audit st 1234 reconcile.run_started dry_run true msg $'bad \xff byte'
	run -0 arc-run audit st 1234 reconcile.run_completed
	[ "$(wc -l <st/audit.log)" -eq 2 ]
	head -n 1 st/audit.log | strict_json
	run -0 jq -c '[.event, .run_id, .actor, .method, .path, .status_code, .detail.dry_run]' st/audit.log
	assert_line --index 0 '["reconcile.run_started","1234","reconciler","INTERNAL","/reconciliation/1234",200,"true"]'
}

@test "an act run keeps the files manifest paths name as './', '//' or with a trailing '/', and deletes the one named by none" {
	mkdir -p "$STORE"
	local f
	for f in a b c d orphan; do
		mkfile "$STORE/$D/$f.parquet"
	done
	{
		entry "$D/./a.parquet"
		entry "$D//b.parquet"
		entry "$D/c.parquet/"
		entry "./$D/d.parquet"
	} >"$MANIFEST"
	run -1 --separate-stderr reconcile --act --max-orphan-ratio 1
	for f in a b c d; do
		[ -e "$STORE/$D/$f.parquet" ]
	done
	# the control: the file no spelling names is deleted
	[ ! -e "$STORE/$D/orphan.parquet" ]
	assert_output "$(printf 'deleted\torphan-storage\t%s\tDELETED' "$D/orphan.parquet")"
	# the entries are left for an operator: the re-check cannot check them
	assert_equal "$(jq -r .path "$MANIFEST" | wc -l)" 4
	assert_stderr --partial "'$D/./a.parquet': cannot check"
}
