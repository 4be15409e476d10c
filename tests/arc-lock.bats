#!/usr/bin/env bats
# arc-lock [-f lost-file] [-t ttl] ETCD-URL COMMAND [ARG...]: run COMMAND
# while holding a lease-backed lock key in etcd, against a real
# single-member etcd on 127.0.0.1 started once for the file and stopped
# by its PID.  Each test uses a key of its own under /tN/.
load test_helper
load servers
bats_require_minimum_version 1.5.0

setup_file() {
	start_etcd
}

teardown_file() {
	stop_etcd
}

setup() {
	export ARC_HTTP_ATTEMPTS=2 ARC_HTTP_TIMEOUT=3 ARC_HTTP_BACKOFF_MS=50
	export ETCDCTL_API=3
	K=/t$BATS_TEST_NUMBER/locks/run
	L=etcd://$ETCD$K
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
	run -2 --separate-stderr arc-lock
	assert_output ''
	assert_usage arc-lock
}

@test "--help prints the usage, its man page's SYNOPSIS, to standard output and exits 0; --version prints the one version" {
	assert_help arc-lock
	assert_version arc-lock
}

@test "without a command or with an unknown option it prints the usage line, with an invalid ttl it names it; exit 2 and no lock taken" {
	run -2 --separate-stderr arc-lock "$L"
	assert_output ''
	assert_stderr --partial 'usage: arc-lock '
	run -2 --separate-stderr arc-lock -x "$L" echo ran
	assert_output ''
	assert_stderr --partial 'usage: arc-lock '
	run -2 --separate-stderr arc-lock -t "$L" echo ran
	assert_output ''
	assert_stderr --partial "arc-lock: '$L': ttl must be 2 to 3600 seconds"
	assert_equal "$(ekeys "/t$BATS_TEST_NUMBER/")" ''
	# the positive control: the same lock runs the command
	run -0 --separate-stderr arc-lock "$L" echo ran
	assert_output 'ran'
}

@test "options end at the etcd URL: --help and --version after it are the command's" {
	run -0 --separate-stderr arc-lock "$L" echo --help --version -t 5
	assert_output -- '--help --version -t 5'
	assert_equal "$stderr" ''
}

@test "a command that cannot be found is exit 127 naming it, and the lock is released" {
	run -127 --separate-stderr arc-lock "$L" ./nosuch-command
	assert_output ''
	assert_stderr --partial "arc-lock: cannot run './nosuch-command': No such file or directory"
	assert_equal "$(ekeys "$K")" ''
	# the positive control
	printf '#!/bin/sh\necho found\n' >nosuch-command
	chmod +x nosuch-command
	run -0 --separate-stderr arc-lock "$L" ./nosuch-command
	assert_output 'found'
}

@test "an etcd URL without a key, or with no etcd behind it, is exit 2 and the command never runs" {
	run -2 --separate-stderr arc-lock "etcd://$ETCD" touch ran
	assert_stderr --partial "'etcd://$ETCD'"
	local port
	port=$(free_port)
	run -2 --separate-stderr arc-lock "etcd://127.0.0.1:$port$K" touch ran
	assert_stderr --partial 'arc-lock: cannot grant a lease: '
	[ ! -e ran ]
	# the positive control
	run -0 --separate-stderr arc-lock "$L" touch ran
	[ -e ran ]
}

# --- the lock ----------------------------------------------------------------

@test "the command runs while the key exists with a lease, the key is gone afterwards, and its exit status is arc-lock's" {
	run -3 --separate-stderr arc-lock "$L" sh -c '
	    etcdctl --endpoints "$1" get "$2" -w json |
	        jq -r ".kvs[0] | (.key | @base64d), (.lease != null)"
	    exit 3' sh "$ETCD" "$K"
	assert_output "$(printf '%s\ntrue' "$K")"
	assert_equal "$(ekeys "$K")" ''
}

@test "a lock another process holds is exit 75 and the command never runs; released, the next run takes it" {
	run -75 --separate-stderr arc-lock "$L" arc-lock "$L" touch ran
	assert_output ''
	assert_stderr --partial "arc-lock: already running: '$K' is held by "
	[ ! -e ran ]
	assert_equal "$(ekeys "$K")" ''
	run -0 --separate-stderr arc-lock "$L" touch ran
	[ -e ran ]
}

@test "a command ended by a signal is exit 128 plus its number" {
	run -143 --separate-stderr arc-lock "$L" sh -c 'kill -TERM $$'
	assert_equal "$(ekeys "$K")" ''
}
