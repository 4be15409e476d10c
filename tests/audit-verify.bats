#!/usr/bin/env bats
# audit-verify.bats - the tamper-evident audit log: every line carries the
# SHA-256 of the line before it, and every run's last event the SHA-256 of
# its archive; `arc-reconcile audit-verify` finds a line edited, removed,
# reordered or inserted, and an archive swapped, and names the line, while
# an untouched log written by several runs and concurrent writers passes.
load test_helper
bats_require_minimum_version 1.5.0

D=db/cpu/2026/04/11/14

setup() {
	STORE=$BATS_TEST_TMPDIR/s
	MANIFEST=$BATS_TEST_TMPDIR/m.ndjson
	STATE=$BATS_TEST_TMPDIR/state
	LOG=$STATE/audit.log
	KILL_PIDS=
}

teardown() {
	stop_test_pids
}

plant() {
	plant_drift "$STORE" "$MANIFEST" "$D"
}

reconcile() {
	arc-reconcile --state-dir "$STATE" "$@" "$STORE" "$MANIFEST"
}

verify() {
	arc-reconcile audit-verify --state-dir "$STATE"
}

# runs: a dry run, then an act run, then a dry run with nothing left;
# the log then holds three runs, the act run's batches among them.
runs() {
	plant
	run -1 reconcile
	run -0 reconcile --act
	run -0 reconcile
}

# the line number of the first line whose event is $1
line_of() {
	jq -r .event "$LOG" | grep -n -m 1 -x -F "$1" | cut -d: -f1
}

@test "an untouched log of several runs verifies: exit 0, every line chained, the archives matching" {
	runs
	run -0 --separate-stderr verify
	n=$(wc -l <"$LOG")
	[ "$n" -ge 8 ]
	assert_output --partial "$n lines, the chain whole from line 1"
	assert_output --partial "3 archives match, 0 missing"
	assert_output --partial "last line SHA-256 $(tail -n 1 "$LOG" | sha256sum | cut -c1-64)"
	# the format: the first line chains to 64 zeros, each next to the one before
	run -0 jq -r .prev_sha256 "$LOG"
	assert_line --index 0 "$(printf '%064d' 0)"
	assert_line --index 1 "$(head -n 1 "$LOG" | sha256sum | cut -c1-64)"
	# Arc's names and detail keys are kept: prev_sha256 is in the envelope
	run -0 jq -c 'select(.event | endswith("_batch_deleted")) | .detail | keys' "$LOG"
	assert_line '["count","run_id","sample"]'
	run -0 jq -r 'select(.event == "reconcile.run_completed") | .detail.archive_sha256' "$LOG"
	assert_equal "${#lines[@]}" 3
	[[ ${lines[1]} =~ ^[0-9a-f]{64}$ ]]
}

@test "a log written by concurrent writers (two arc-delete, arc-run audit, runs, a run refused by the lock) is one whole chain" {
	local i w
	plant
	run -1 reconcile
	# candidates for two standalone arc-delete dry runs, one event a batch
	arc-manifest-dump "$MANIFEST" >m.rec
	arc-list "$STORE" >s.rec
	arc-diff m.rec s.rec >cand || true
	[ "$(wc -l <cand)" -eq 4 ]
	for w in a b; do
		( for i in $(seq 1 10); do
			arc-delete -a "$LOG" -r "run-$w$i" -b 1 "$STORE" "$MANIFEST" <cand >/dev/null
		done ) &
		KILL_PIDS="$KILL_PIDS $!"
	done
	( for i in $(seq 1 40); do
		arc-run audit "$STATE" 00ff reconcile.note n "$i" || exit 1
	done ) &
	KILL_PIDS="$KILL_PIDS $!"
	for i in 1 2 3; do
		run reconcile
		[ "$status" -eq 1 ] || [ "$status" -eq 75 ]
	done
	for p in $KILL_PIDS; do
		wait "$p"
	done
	KILL_PIDS=
	# every writer wrote: 40 notes, four batches of twenty arc-delete runs
	[ "$(grep -c '"reconcile.note"' "$LOG")" -eq 40 ]
	[ "$(jq -r .run_id "$LOG" | grep -c '^run-')" -eq 80 ]
	run -0 --separate-stderr verify
	assert_output --partial "the chain whole from line 1"
	# the positive control's negative: the same log with two lines swapped
	n=$(wc -l <"$LOG")
	awk -v k=20 'NR == k { hold = $0; next } { print } NR == k + 1 { print hold }' \
	    "$LOG" >swapped
	mv swapped "$LOG"
	run -1 --separate-stderr verify
	assert_stderr --partial "line 20 breaks the chain"
}

@test "an edited line breaks the chain at the line after it, named with the edited one" {
	runs
	run -0 verify
	k=$(line_of reconcile.storage_batch_deleted)
	sed -i "${k}s/\"count\":\"2\"/\"count\":\"1\"/" "$LOG"
	run -1 --separate-stderr verify
	assert_output ''
	assert_stderr --partial "line $((k + 1)) breaks the chain: prev_sha256 is not the SHA-256 of line $k: line $k was edited"
}

@test "a removed line, two lines reordered and an inserted line each break the chain, named by line" {
	runs
	cp "$LOG" orig
	k=$(line_of reconcile.manifest_batch_deleted)
	# removed
	sed -i "${k}d" "$LOG"
	run -1 --separate-stderr verify
	assert_stderr --partial "line $k breaks the chain"
	# reordered
	awk -v k="$k" 'NR == k { hold = $0; next } { print } NR == k + 1 { print hold }' orig >"$LOG"
	run -1 --separate-stderr verify
	assert_stderr --partial "line $k breaks the chain"
	# inserted: a copy of a later line, prev_sha256 and all
	{ head -n $((k - 1)) orig; tail -n 1 orig; tail -n +"$k" orig; } >"$LOG"
	run -1 --separate-stderr verify
	assert_stderr --partial "line $k breaks the chain"
	# inserted: a line of the old format, without prev_sha256
	awk -v k="$k" 'NR == k { print "{\"event\":\"reconcile.run_started\",\"detail\":{}}" } { print }' orig >"$LOG"
	run -1 --separate-stderr verify
	assert_stderr --partial "line $k breaks the chain: no prev_sha256"
	# the first line removed: the new first line does not chain to zeros
	tail -n +2 orig >"$LOG"
	run -1 --separate-stderr verify
	assert_stderr --partial "line 1 breaks the chain: prev_sha256 is not 64 zeros"
	# a last line cut short
	head -c -5 orig >"$LOG"
	run -1 --separate-stderr verify
	assert_stderr --partial "line $(wc -l <orig) breaks the chain: the last line is cut short"
	# the control: the original log
	cp orig "$LOG"
	run -0 verify
}

@test "an archive swapped for another run's breaks the chain at that run's last event; a missing one is said and does not" {
	runs
	run -0 verify
	a=$(ls "$STATE/archives" | sed -n 1p)
	b=$(ls "$STATE/archives" | sed -n 2p)
	id=${b%.tar.gz}
	k=$(jq -r '[.event, .run_id] | join(" ")' "$LOG" | grep -n -x -F "reconcile.run_completed $id" | cut -d: -f1)
	[ -n "$k" ]
	cp "$STATE/archives/$b" saved
	cp "$STATE/archives/$a" "$STATE/archives/$b"
	run -1 --separate-stderr verify
	assert_stderr --partial "line $k breaks the chain: the archive '$STATE/archives/$b' of run $id is not the one the run wrote"
	# put back: whole again
	cp saved "$STATE/archives/$b"
	run -0 verify
	# pruned: said on stderr, counted, not a break
	rm "$STATE/archives/$b"
	run -0 --separate-stderr verify
	assert_stderr --partial "line $k: the archive '$STATE/archives/$b' of run $id is missing (pruned?): not checked"
	assert_output --partial "2 archives match, 1 missing"
}

@test "a log begun before the chain is verified from its first chained line, which must chain to the line before it" {
	plant
	mkdir -p "$STATE"
	for i in 1 2 3; do
		printf '{"timestamp":"2026-01-0%sT00:00:00Z","event":"reconcile.run_started","run_id":"0%s","detail":{"run_id":"0%s"}}\n' "$i" "$i" "$i"
	done >"$LOG"
	run -1 reconcile
	run -0 --separate-stderr verify
	assert_output --partial "the chain whole from line 4 (3 before it written without one, not verified)"
	run -0 jq -r .prev_sha256 "$LOG"
	assert_line --index 3 "$(sed -n 3p "$LOG" | sha256sum | cut -c1-64)"
	cp "$LOG" orig
	# the line just before the chain is covered by it
	sed -i '3s/"03"/"04"/g' "$LOG"
	run -1 --separate-stderr verify
	assert_stderr --partial "line 4 breaks the chain"
	# lines further back are not: said so, exit 0
	cp orig "$LOG"
	sed -i '1s/"01"/"09"/g' "$LOG"
	run -0 verify
}

@test "audit-verify: a missing, linked or FIFO log is exit 2, never waited on; an empty one is 0; a usage error prints the usage" {
	mkdir -p "$STATE" other
	run -2 --separate-stderr verify
	assert_stderr --partial "cannot open audit log '$LOG'"
	printf '{}\n' >other/log
	ln -s ../other/log "$LOG"
	run -2 --separate-stderr verify
	assert_stderr --partial "cannot open audit log"
	rm "$LOG"
	mkfifo "$LOG"
	run -2 --separate-stderr timeout 20 arc-reconcile audit-verify --state-dir "$STATE"
	assert_stderr --partial "cannot open audit log '$LOG': a FIFO"
	rm "$LOG"
	: >"$LOG"
	run -0 verify
	assert_output --partial "0 lines, none with prev_sha256"
	run -2 --separate-stderr arc-reconcile audit-verify --bogus
	assert_stderr --partial "usage: arc-reconcile"
}

# the id of the run whose run_completed or run_aborted is the N-th in the log
run_id_n() {
	jq -r 'select(.event == "reconcile.run_completed" or .event == "reconcile.run_aborted") | .run_id' "$LOG" | sed -n "${1}p"
}

@test "every run keeps the anchor of its last event outside the log, beside its run record" {
	runs
	id=$(run_id_n 3)
	size=$(stat -c %s "$LOG")
	last=$(tail -n 1 "$LOG" | sha256sum | cut -c1-64)
	run -0 jq -r '[.run_id, .audit_end, .audit_sha256] | join(" ")' "$STATE/anchors/$id.json"
	assert_output "$id $size $last"
	# the first run's anchor is the end of its own last line, not the log's
	id1=$(run_id_n 1)
	k=$(jq -r '[.event, .run_id] | join(" ")' "$LOG" | grep -n -x -F "reconcile.run_completed $id1" | cut -d: -f1)
	[ -n "$k" ]
	run -0 jq -r '[.audit_end, .audit_sha256] | join(" ")' "$STATE/anchors/$id1.json"
	assert_output "$(head -n "$k" "$LOG" | wc -c) $(sed -n "${k}p" "$LOG" | sha256sum | cut -c1-64)"
	run -0 --separate-stderr verify
	assert_output --partial "3 runs of the state directory in the log, 3 anchors held"
}

@test "a log whose prev_sha256 fields were all stripped is refused by the anchors the run records keep" {
	runs
	run -0 verify
	cp "$LOG" orig
	jq -c 'del(.prev_sha256)' orig >"$LOG"
	# nothing chained is left: only the anchors kept outside can tell
	run -1 --separate-stderr verify
	assert_output ''
	assert_stderr --regexp "line [0-9]+ breaks the chain: '$STATE/anchors/$(run_id_n 1).json' keeps the end of a line at byte [0-9]+, inside this line: the log was edited before it"
	# the control: the untouched log
	cp orig "$LOG"
	run -0 verify
}

@test "a log cut short by whole runs is refused by the anchors, and without them by the run records, naming the first run missing" {
	runs
	cp "$LOG" orig
	id2=$(run_id_n 2)
	id3=$(run_id_n 3)
	# the last two runs cut off
	k=$(jq -r '[.event, .run_id] | join(" ")' orig | grep -n -x -F "reconcile.run_started $id2" | cut -d: -f1)
	head -n $((k - 1)) orig >"$LOG"
	run -1 --separate-stderr verify
	assert_stderr --partial "the log ends at byte $(stat -c %s "$LOG"), before the line that '$STATE/anchors/$id2.json' keeps"
	# records of an earlier version, without anchors:
	# the run records alone name the first run the log lacks
	rm "$STATE"/anchors/*.json
	run -1 --separate-stderr verify
	assert_stderr --partial "run $id2 has a run record in the state directory, but the log holds no reconcile.run_started for it: runs were cut from the log"
	# an archive whose run is not in the log, its record pruned
	rm "$STATE/runs/$id2.json" "$STATE/runs/$id3.json"
	run -1 --separate-stderr verify
	assert_stderr --partial "run $id2 has an archive in the state directory, but the log holds no reconcile.run_started"
	# the control: the whole log with the same state directory
	cp orig "$LOG"
	run -0 verify
}

@test "an empty log is refused when the state directory holds runs, and verifies in a state directory without any" {
	runs
	id1=$(run_id_n 1)
	: >"$LOG"
	run -1 --separate-stderr verify
	assert_stderr --partial "the log ends at byte 0, before the line that '$STATE/anchors/$id1.json' keeps"
	rm "$STATE"/anchors/*.json
	run -1 --separate-stderr verify
	assert_stderr --regexp "run [0-9a-f-]+ has a run record in the state directory, but the log holds no reconcile.run_started"
	# the control: a state directory whose runs and archives are gone
	rm "$STATE"/runs/*.json "$STATE"/archives/*
	run -0 --separate-stderr verify
	assert_output --partial "0 lines, none with prev_sha256"
}

@test "a chain recomputed after an edit is caught by the run records' anchors and by --anchor, and not by the chain alone" {
	runs
	run -0 --separate-stderr verify
	head=$(tail -n 1 "$LOG" | sha256sum | cut -c1-64)
	assert_output --partial "last line SHA-256 $head"
	# the control: the hash verify printed, given back
	run -0 arc-reconcile audit-verify --anchor "$head" --state-dir "$STATE"
	run -0 arc-reconcile audit-verify --anchor="$(head -n 1 "$LOG" | sha256sum | cut -c1-64)" --state-dir "$STATE"
	cp "$LOG" orig
	k=$(line_of reconcile.storage_batch_deleted)
	sed -i "${k}s/\"count\":\"2\"/\"count\":\"1\"/" "$LOG"
	"$BATS_TEST_DIRNAME/rechain.py" "$LOG"
	run -1 --separate-stderr verify
	assert_stderr --partial "keeps SHA-256"
	assert_stderr --partial "the log was edited or written anew"
	# with the records rewritten too, only --anchor is left
	rm "$STATE"/anchors/*.json
	run -0 verify
	run -1 --separate-stderr arc-reconcile audit-verify --anchor "$head" --state-dir "$STATE"
	assert_stderr --partial "no chained line has the SHA-256 $head given with --anchor"
	# an anchor is a SHA-256: anything else is a usage error
	run -2 --separate-stderr arc-reconcile audit-verify --anchor xyz --state-dir "$STATE"
	assert_stderr --partial "usage: arc-reconcile"
}
