#!/usr/bin/env bats
# detailed-exit.bats - exit statuses a cron job can branch on: with
# --detailed-exit a cap hit (5), the circuit breaker (6) and a partial
# listing (7) each have their own status; without it, and for everything
# else, 0, 1, 2, 4 and 75 keep their meanings.
load test_helper
bats_require_minimum_version 1.5.0

D=db/cpu/2026/04/11/14

setup() {
	WORLD=$BATS_TEST_TMPDIR
	STORE=$WORLD/s
	MANIFEST=$WORLD/m.ndjson
	STATE=$WORLD/state
}

teardown() {
	if [ -n "${CLEAN:-}" ]; then
		chmod -R u+rwx "$CLEAN" 2>/dev/null || true
		rm -rf "$CLEAN"
	fi
}

plant() {
	plant_drift "$STORE" "$MANIFEST" "$D" "$@"
}

reconcile() {
	arc-reconcile --state-dir "$STATE" "$@" "$STORE" "$MANIFEST"
}

snapshot() {
	find "$STORE" -type f | sort
	cat "$MANIFEST"
}

@test "--detailed-exit leaves 0 and 1 as they are: a dry run with drift is 1, a run with nothing to do is 0" {
	plant
	run -1 --separate-stderr reconcile --detailed-exit
	assert_stderr --partial "drift remains"
	run -0 --separate-stderr reconcile --act --detailed-exit
	assert_stderr --partial "no drift remains"
	run -0 reconcile --detailed-exit
}

@test "a run stopped by --max-deletes exits 5 with --detailed-exit and 1 without; with room under the cap it exits 0" {
	plant
	cp -a "$STORE" s0
	cp "$MANIFEST" m0
	run -1 --separate-stderr reconcile --act --max-deletes 1
	assert_equal "$(arc-reconcile status --json --state-dir "$STATE" | jq .last_run.cap_hit)" true
	rm -rf "$STORE" "$STATE"
	cp -a s0 "$STORE"
	cp m0 "$MANIFEST"
	run -5 --separate-stderr reconcile --act --max-deletes 1 --detailed-exit
	assert_stderr --partial "drift remains"
	assert_equal "$(arc-reconcile status --json --state-dir "$STATE" | jq .last_run.cap_hit)" true
	# the control: the same run with room under the cap
	rm -rf "$STORE" "$STATE"
	cp -a s0 "$STORE"
	cp m0 "$MANIFEST"
	run -0 --separate-stderr reconcile --act --max-deletes 4 --detailed-exit
	assert_equal "$(arc-reconcile status --json --state-dir "$STATE" | jq .last_run.cap_hit)" false
	# a dry run that would stop at the cap says so too
	rm -rf "$STORE"
	cp -a s0 "$STORE"
	cp m0 "$MANIFEST"
	run -5 reconcile --max-deletes 1 --detailed-exit
	run -1 reconcile --max-deletes 1
}

@test "the circuit breaker exits 6 with --detailed-exit and 2 without, deleting nothing; with the breaker off the run repairs, exit 0" {
	plant 10
	before=$(snapshot)
	run -2 --separate-stderr reconcile --act
	assert_stderr --partial "aborted (implausible_drift)"
	run -6 --separate-stderr reconcile --act --detailed-exit
	assert_stderr --partial "aborted (implausible_drift)"
	assert_equal "$(snapshot)" "$before"
	assert_equal "$(arc-reconcile status --json --state-dir "$STATE" | jq -r .last_run.abort_reason)" implausible_drift
	# the control: the breaker off, the same drift is repaired
	run -0 --separate-stderr reconcile --act --detailed-exit --max-orphan-ratio 1
	refute_output --partial would-delete
}

@test "a partial listing exits 7 with --detailed-exit and 1 without; the same store readable exits 0" {
	need_unpriv
	# root reads any directory: run as nobody on a tree nobody owns,
	# outside the 0700 per-test directory
	WORLD=$(mktemp -d /tmp/arc-detailed-exit.XXXXXX)
	CLEAN=$WORLD
	chmod 755 "$WORLD"
	STORE=$WORLD/s MANIFEST=$WORLD/m.ndjson STATE=$WORLD/state
	mkdir -p "$WORLD/tmp"
	plant
	mkdir -p "$STORE/db/hid/$D"
	mkfile "$STORE/db/hid/$D/hidden.parquet"
	entry "db/hid/$D/hidden.parquet" >>"$MANIFEST"
	chown -R nobody:nogroup "$WORLD"
	chmod 000 "$STORE/db/hid"
	before=$(cat "$MANIFEST")
	run --separate-stderr unpriv env TMPDIR="$WORLD/tmp" arc-reconcile \
	    --state-dir "$STATE" --act "$STORE" "$MANIFEST"
	assert_equal "$status" 1
	run --separate-stderr unpriv env TMPDIR="$WORLD/tmp" arc-reconcile \
	    --state-dir "$STATE" --act --detailed-exit "$STORE" "$MANIFEST"
	assert_equal "$status" 7
	assert_stderr --partial "listing was partial"
	assert_equal "$(cat "$MANIFEST")" "$before"
	# the control: readable again, the same run repairs and exits 0
	chmod 755 "$STORE/db/hid"
	run --separate-stderr unpriv env TMPDIR="$WORLD/tmp" arc-reconcile \
	    --state-dir "$STATE" --act --detailed-exit "$STORE" "$MANIFEST"
	assert_equal "$status" 0
}

@test "with --detailed-exit an unreadable manifest is still 2 and a held lock still 75" {
	plant
	run -2 --separate-stderr arc-reconcile --state-dir "$STATE" --detailed-exit \
	    "$STORE" "$WORLD/no-such-manifest.ndjson"
	assert_stderr --partial "aborted (manifest_unreadable)"
	mkdir -p "$STATE"
	: >"$STATE/lock"
	flock "$STATE/lock" sh -c 'arc-reconcile --state-dir "$1" --detailed-exit "$2" "$3"; echo "exit $?"' \
	    sh "$STATE" "$STORE" "$MANIFEST" >out 2>&1 || true
	assert_equal "$(tail -n 1 out)" "exit 75"
	# the control: the lock free, the same run goes through
	run -1 reconcile --detailed-exit
}
