#!/usr/bin/env bats
# arc-manifest-load MANIFEST ETCD-URL: put each entry of a manifest into
# etcd at PREFIX + path with the entry's JSON as the value, against a
# real single-member etcd on 127.0.0.1 started once for the file and
# stopped by its PID.  Each test uses keys of its own under /tN/.
load test_helper
load servers
bats_require_minimum_version 1.5.0

D=db/m/2026/04/11/12

setup_file() {
	start_etcd
}

teardown_file() {
	stop_etcd
}

setup() {
	export ARC_HTTP_ATTEMPTS=2 ARC_HTTP_TIMEOUT=3 ARC_HTTP_BACKOFF_MS=50
	export ETCDCTL_API=3
	P=/t$BATS_TEST_NUMBER/files/
	M=etcd://$ETCD$P
}

# ectl ARG...: etcdctl on the test etcd.
ectl() {
	etcdctl --endpoints "$ETCD" --dial-timeout 3s --command-timeout 10s "$@"
}

# ekeys PREFIX: the keys under PREFIX, one a line, in order.
ekeys() {
	ectl get --prefix "$1" -w json | jq -r '.kvs // [] | .[].key | @base64d'
}

# --- usage and operands --------------------------------------------------

@test "without operands it prints the usage line, its man page's SYNOPSIS, and exits 2" {
	run -2 --separate-stderr arc-manifest-load
	assert_output ''
	assert_usage arc-manifest-load
}

@test "--help prints the usage, its man page's SYNOPSIS, to standard output and exits 0; --version prints the one version" {
	assert_help arc-manifest-load
	assert_version arc-manifest-load
}

@test "with one or three operands, or an unknown option, it prints the usage line, exits 2 and puts nothing" {
	entry "$D/a.parquet" >m.ndjson
	run -2 --separate-stderr arc-manifest-load m.ndjson
	assert_output ''
	assert_stderr --partial 'usage: arc-manifest-load '
	run -2 --separate-stderr arc-manifest-load m.ndjson "$M" "$M"
	assert_output ''
	assert_stderr --partial 'usage: arc-manifest-load '
	run -2 --separate-stderr arc-manifest-load -x m.ndjson "$M"
	assert_output ''
	assert_stderr --partial 'usage: arc-manifest-load '
	run -2 --separate-stderr arc-manifest-load --help=x m.ndjson "$M"
	assert_stderr --partial 'usage: arc-manifest-load '
	assert_equal "$(ekeys "$P")" ''
	# the positive control: the same operands load
	run -0 --separate-stderr arc-manifest-load m.ndjson "$M"
	assert_equal "$(ekeys "$P")" "$P$D/a.parquet"
}

@test "a missing manifest file is an error naming it, exit 2, and nothing is put" {
	run -2 --separate-stderr arc-manifest-load nosuch.ndjson "$M"
	assert_output ''
	assert_stderr --partial "'nosuch.ndjson'"
	assert_equal "$(ekeys "$P")" ''
	# the positive control
	entry "$D/a.parquet" >m.ndjson
	run -0 --separate-stderr arc-manifest-load m.ndjson "$M"
	assert_stderr 'arc-manifest-load: 1 of 1 entries put'
}

@test "an etcd URL without a prefix, or with no etcd behind it, is exit 2" {
	entry "$D/a.parquet" >m.ndjson
	run -2 --separate-stderr arc-manifest-load m.ndjson "etcd://$ETCD"
	assert_stderr --partial "'etcd://$ETCD'"
	local port
	port=$(free_port)
	run -2 --separate-stderr arc-manifest-load m.ndjson "etcd://127.0.0.1:$port$P"
	assert_stderr --partial 'arc-manifest-load: '
	assert_stderr --partial '0 of 1 entries put'
	# the positive control
	run -0 --separate-stderr arc-manifest-load m.ndjson "$M"
	assert_equal "$(ekeys "$P")" "$P$D/a.parquet"
}

# --- loading -----------------------------------------------------------------

@test "each entry is put at PREFIX plus its path, its JSON the value, and arc-manifest-dump reads back the file's records" {
	{
		entry "$D/c.parquet" node-2 3
		jentry "$D/a b\"x.parquet"
		entry "$D/b.parquet"
	} >m.ndjson
	run -0 --separate-stderr arc-manifest-load m.ndjson "$M"
	assert_output ''
	assert_stderr 'arc-manifest-load: 3 of 3 entries put'
	assert_equal "$(ekeys "$P")" "$(printf '%s\n' "$P$D/a b\"x.parquet" \
	    "$P$D/b.parquet" "$P$D/c.parquet")"
	run -0 ectl get --print-value-only "$P$D/c.parquet"
	assert_equal "$(jq -cS . <<<"$output")" \
	    "$(jq -cS "select(.path == \"$D/c.parquet\")" m.ndjson)"
	# the same records as from the file, but for each key's revision
	arc-manifest-dump m.ndjson | cut -f1-4 >file.rec
	arc-manifest-dump "$M" | cut -f1-4 >etcd.rec
	cmp file.rec etcd.rec
	assert_equal "$(wc -l <etcd.rec)" 3
}

@test "-c keeps a key that exists and says how many it put" {
	entry "$D/a.parquet" node-9 9 >first.ndjson
	run -0 --separate-stderr arc-manifest-load first.ndjson "$M"
	{ entry "$D/a.parquet" node-1 1; entry "$D/b.parquet"; } >m.ndjson
	run -0 --separate-stderr arc-manifest-load -c m.ndjson "$M"
	assert_stderr 'arc-manifest-load: 1 of 2 entries put (existing keys kept)'
	run -0 ectl get --print-value-only "$P$D/a.parquet"
	assert_equal "$(jq -r .origin_node_id <<<"$output")" node-9
	# without -c the key is replaced
	run -0 --separate-stderr arc-manifest-load m.ndjson "$M"
	assert_stderr 'arc-manifest-load: 2 of 2 entries put'
	run -0 ectl get --print-value-only "$P$D/a.parquet"
	assert_equal "$(jq -r .origin_node_id <<<"$output")" node-1
}
