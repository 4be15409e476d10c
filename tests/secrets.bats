#!/usr/bin/env bats
# secrets.bats - a user name, password or signature in a STORE, MANIFEST,
# --lock or --inventory URL is refused before any state is written (exit
# 2, a message that shows the URL with *** in its place), by arc-reconcile
# and by every tool that opens such a URL, and never reaches stderr, the
# state directory, a plan or the metrics (arc(7), Credentials in URLs).
# No backend takes credentials in its URL; the remote ones point at
# 127.0.0.1:9, where nothing answers, so no server is needed.
load test_helper
bats_require_minimum_version 1.5.0

H=2026/04/11/14

setup() {
	STORE=$BATS_TEST_TMPDIR/store
	MANIFEST=$BATS_TEST_TMPDIR/m.ndjson
	STATE=$BATS_TEST_TMPDIR/state
	mkfile "$STORE/db/m/$H/a.parquet"
	mkfile "$STORE/db/m/$H/orph.parquet"
	entry "db/m/$H/a.parquet" >"$MANIFEST"
}

# unseen PW: PW is in none of the last run's stdout and stderr, the state
# directory, the plan and the metrics.
unseen() {
	refute_output --partial "$1"
	refute_stderr --partial "$1"
	if [ -d "$STATE" ]; then
		run grep -rl -- "$1" "$STATE"
		assert_output ""
	fi
	[ ! -e "$BATS_TEST_TMPDIR/p.plan" ] || ! grep -q -- "$1" "$BATS_TEST_TMPDIR/p.plan"
	[ ! -e "$BATS_TEST_TMPDIR/metrics" ] || ! grep -q -- "$1" "$BATS_TEST_TMPDIR/metrics"
}

# refused PW ARG...: arc-reconcile ARG... (a dry run, an act run and a
# plan) exits 2 before the state directory is made, nothing written, and
# shows PW nowhere.
refused() {
	local pw=$1
	shift
	run -2 --separate-stderr arc-reconcile --state-dir "$STATE" \
	    --metrics "$BATS_TEST_TMPDIR/metrics" "$@"
	assert_stderr --regexp "URL with a (user name or password|signature or token in its query): refused"
	assert_stderr --partial "***"
	unseen "$pw"
	[ ! -e "$STATE" ]
	[ ! -e "$BATS_TEST_TMPDIR/metrics" ]
	run -2 --separate-stderr arc-reconcile --state-dir "$STATE" --act "$@"
	unseen "$pw"
	[ ! -e "$STATE" ]
	run -2 --separate-stderr arc-reconcile plan -o "$BATS_TEST_TMPDIR/p.plan" \
	    --state-dir "$STATE" "$@"
	unseen "$pw"
	[ ! -e "$STATE" ]
	[ ! -e "$BATS_TEST_TMPDIR/p.plan" ]
}

# started ARG...: arc-reconcile ARG... gets past its checks: a run record
# is written, whatever the run found (the remote URLs answer nothing).
started() {
	run --separate-stderr timeout 120 arc-reconcile --state-dir "$STATE" \
	    --metrics "$BATS_TEST_TMPDIR/metrics" "$@"
	[ "$status" -le 2 ]
	refute_stderr --partial "refused"
	run ls "$STATE/runs"
	assert_output --partial ".json"
	rm -rf "$STATE" "$BATS_TEST_TMPDIR/metrics"
}

@test "a password in a store URL (s3, az, file) or a signed az query is refused before any state, shown nowhere; the same stores without it are used" {
	local u pw
	for u in "s3://u:S3PW-1@bucket/x" "az://u:AzPW-2@cont/x" \
	    "file://u:StorePW-3@$STORE" "az://cont/x?sv=2021-12-02&sp=rl&sig=SigPW-4"; do
		pw=$(printf '%s' "$u" | grep -o '[A-Za-z0-9]*PW-[0-9]')
		refused "$pw" "$u" "$MANIFEST"
	done
	# the controls: the same stores without credentials
	run -1 --separate-stderr arc-reconcile --state-dir "$STATE" \
	    "file://$STORE" "$MANIFEST"
	assert_equal "$(arc-reconcile status --json --state-dir "$STATE" |
	    jq .last_run.orphan_storage_count)" 1
	rm -rf "$STATE"
	started s3://bucket/x "$MANIFEST"
	started "az://cont/x?sv=2021-12-02&sp=rl" "$MANIFEST"
}

@test "a password in a manifest URL (etcd, etcds, arc+http, file) is refused before any state, shown nowhere; the same manifests without it are used" {
	local u pw
	for u in "etcd://alice:EtPW-1@127.0.0.1:9/arc/files/" \
	    "etcds://alice:EtsPW-2@127.0.0.1:9/arc/files/" \
	    "arc+http://u:ArcPW-3@127.0.0.1:9" "file://u:MfPW-4@$MANIFEST"; do
		pw=$(printf '%s' "$u" | grep -o '[A-Za-z0-9]*PW-[0-9]')
		refused "$pw" "$STORE" "$u"
	done
	run -1 --separate-stderr arc-reconcile --state-dir "$STATE" \
	    "$STORE" "file://$MANIFEST"
	assert_equal "$(arc-reconcile status --json --state-dir "$STATE" |
	    jq .last_run.orphan_storage_count)" 1
	rm -rf "$STATE"
	started "$STORE" etcd://127.0.0.1:9/arc/files/
	started "$STORE" arc+http://127.0.0.1:9
}

@test "a password in a --lock or --inventory URL is refused before any state and shown nowhere; the same runs without them work" {
	refused LkPW-1 --lock "etcd://u:LkPW-1@127.0.0.1:9/arc/lock" "$STORE" \
	    "$MANIFEST"
	refused InvPW-2 --inventory "s3://u:InvPW-2@bucket/inv/" "$STORE" \
	    "$MANIFEST"
	run -1 --separate-stderr arc-reconcile --state-dir "$STATE" \
	    "$STORE" "$MANIFEST"
	assert_stderr --partial "1 storage would-delete"
}

@test "every tool that opens a store or manifest URL refuses a password in it with exit 2 and never shows it" {
	local s=s3://u:ToolPW-1@bucket/x m=file://u:ToolPW-2@$MANIFEST
	run -2 --separate-stderr arc-list "$s"
	assert_stderr --partial "'s3://***@bucket/x': store URL with a user name or password: refused"
	unseen ToolPW-1
	run -2 --separate-stderr arc-manifest-dump "$m"
	assert_stderr --partial "'file://***@$MANIFEST': manifest URL with a user name or password: refused"
	unseen ToolPW-2
	run -2 --separate-stderr arc-recheck "$s" "$MANIFEST" </dev/null
	unseen ToolPW-1
	run -2 --separate-stderr arc-recheck "$STORE" "$m" </dev/null
	unseen ToolPW-2
	run -2 --separate-stderr arc-delete "$s" "$MANIFEST" </dev/null
	unseen ToolPW-1
	run -2 --separate-stderr arc-delete "$STORE" "$m" </dev/null
	unseen ToolPW-2
	run -2 --separate-stderr arc-manifest-load /dev/null "$m"
	unseen ToolPW-2
	# the controls: the same URLs without the password
	run -0 --separate-stderr arc-list "file://$STORE"
	assert_output --partial "db/m/$H/orph.parquet"
	run -0 --separate-stderr arc-manifest-dump "file://$MANIFEST"
	assert_output --partial "db/m/$H/a.parquet"
}
