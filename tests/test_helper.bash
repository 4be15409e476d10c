# test_helper.bash - loaded by every .bats file: the built tools first on
# PATH, byte-order collation, UTC, and a fresh directory per test.
load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

export LC_ALL=C TZ=UTC
# the network rule, as in tests/run: no Azure credential lookup may reach
# the instance metadata address; a test that wants one points it here
export AZURE_POD_IDENTITY_AUTHORITY_HOST=http://127.0.0.1:9
ARC_ROOT=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
export ARC_ROOT
# ARC_BIN: another build of the tools (tests/run uses the ASan one)
PATH="${ARC_BIN:-$ARC_ROOT/bin}:$PATH"
cd "$BATS_TEST_TMPDIR" || exit 1
# no proxy, TLS or etcd setting of the machine's may reach a test: a
# test that wants one sets it (tests/etcd-tls.bats, tests/arcapi.bats)
unset http_proxy HTTP_PROXY https_proxy HTTPS_PROXY all_proxy ALL_PROXY \
    no_proxy NO_PROXY SSL_CERT_FILE SSL_CERT_DIR ETCDCTL_ENDPOINTS \
    ETCDCTL_CACERT ETCDCTL_CERT ETCDCTL_KEY ETCDCTL_USER ETCDCTL_PASSWORD \
    ARC_API_TOKEN_FILE
# AWS credentials come only from what a test sets: never from the
# machine's ~/.aws, a container or an instance (no packet to
# the instance or container metadata addresses: awscred.bats points the instance
# metadata endpoint at a loopback stand-in when it enables it)
export AWS_EC2_METADATA_DISABLED=true
export AWS_SHARED_CREDENTIALS_FILE="$BATS_TEST_TMPDIR/no-aws-credentials"
export AWS_CONFIG_FILE="$BATS_TEST_TMPDIR/no-aws-config"
unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_WEB_IDENTITY_TOKEN_FILE \
    AWS_ROLE_ARN AWS_ROLE_SESSION_NAME AWS_CONTAINER_CREDENTIALS_RELATIVE_URI \
    AWS_CONTAINER_CREDENTIALS_FULL_URI AWS_CONTAINER_AUTHORIZATION_TOKEN \
    AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE AWS_EC2_METADATA_SERVICE_ENDPOINT \
    AWS_S3_NO_SIGN_REQUEST AWS_ENDPOINT_URL_STS

# mkfile PATH [DATE]: create PATH (and its parents) with mtime DATE
# (touch -d syntax; default: two days ago).
mkfile() {
	mkdir -p "$(dirname "$1")"
	printf 'data:%s\n' "$1" >"$1"
	touch -d "${2:-2 days ago}" "$1"
}

# old_files DIR PATH...: files DIR/PATH (and their parents), each
# holding "data:PATH", two days old: a local store's files past the
# grace window.
old_files() {
	local dir=$1 p
	shift
	for p in "$@"; do
		mkdir -p "$dir/$(dirname "$p")"
		printf 'data:%s\n' "$p" >"$dir/$p"
	done
	(cd "$dir" && touch -d '2 days ago' "$@")
}

# entry PATH [ORIGIN] [LSN]: one NDJSON FileEntry line.
entry() {
	jq -cn --arg p "$1" --arg o "${2:-node-1}" --argjson l "${3:-1}" \
	    '{path: $p, created_at: "2026-04-11T14:00:00Z", size_bytes: 10,
	      database: ($p | split("/")[0]), measurement: ($p | split("/")[1]),
	      origin_node_id: $o, lsn: $l}'
}

# mrec PATH [CREATED [SIZE [ORIGIN [REV]]]]: one manifest record line;
# PATH is written as given (already quoted), missing fields are "-".
mrec() {
	printf '%s\t%s\t%s\t%s\t%s\n' "$1" "${2:--}" "${3:--}" "${4:--}" \
	    "${5:--}"
}

# srec PATH [MTIME [SIZE]]: one storage record line, like mrec.
srec() {
	printf '%s\t%s\t%s\n' "$1" "${2:--}" "${3:--}"
}

# assert_stderr / refute_stderr: assert_output / refute_output on the
# $stderr of `run --separate-stderr` (bats-assert 2.1 has no such helper).
assert_stderr() {
	local output=$stderr
	assert_output "$@"
}
refute_stderr() {
	local output=$stderr
	refute_output "$@"
}

# unpriv CMD [ARG...]: run CMD as an unprivileged user, so that permission
# bits stop it even when the tests run as root (root ignores them).
unpriv() {
	if [ "$(id -u)" -ne 0 ]; then
		"$@"
	else
		setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$@"
	fi
}

# need_unpriv: skip the test when unpriv cannot drop root here.
need_unpriv() {
	[ "$(id -u)" -ne 0 ] && return 0
	command -v setpriv >/dev/null 2>&1 ||
	    skip "running as root and setpriv(1) is missing: cannot drop root"
	id nobody >/dev/null 2>&1 ||
	    skip "running as root and there is no user 'nobody' to drop to"
	setpriv --reuid=nobody --regid=nogroup --clear-groups -- true 2>/dev/null ||
	    skip "running as root and setpriv cannot switch to 'nobody'"
}

# jentry PATH [LSN [ORIGIN]]: one NDJSON FileEntry line built without jq,
# so that a PATH holding bytes that are not UTF-8 stays byte for byte
# (jq replaces them with U+FFFD).  Escapes '\', '"', TAB, LF, CR and
# \x01 as JSON does.
jentry() {
	local s=$1
	s=${s//\\/\\\\}
	s=${s//\"/\\\"}
	s=${s//$'\t'/\\t}
	s=${s//$'\n'/\\n}
	s=${s//$'\r'/\\r}
	s=${s//$'\x01'/\\u0001}
	printf '{"path":"%s","created_at":"2026-04-11T14:00:00Z","size_bytes":10,"database":"db","measurement":"m","origin_node_id":"%s","lsn":%s}\n' \
	    "$s" "${3:-node-1}" "${2:-1}"
}

# assert_usage TOOL: $stderr (of run --separate-stderr) ends with the
# usage message, and that message is "usage: " followed by the SYNOPSIS
# of TOOL's man page, rendered with groff or mandoc (whitespace squeezed,
# since a long synopsis wraps).
assert_usage() {
	local man="$ARC_ROOT/share/man/man1/$1.1" render want got
	if command -v groff >/dev/null 2>&1; then
		render='groff -mdoc -Tascii -P-cbou'
	elif command -v mandoc >/dev/null 2>&1; then
		render='mandoc -Tascii'
	else
		skip "neither groff nor mandoc is installed to render $1(1)"
	fi
	[ -f "$man" ] || fail "no man page $man to compare the usage line with"
	want=$($render "$man" 2>/dev/null | sed 's/.\x08//g' |
	    sed -n '/^SYNOPSIS/,/^[A-Z]/{/^[A-Z]/d;p;}' | tr -s ' \t\n' ' ' |
	    sed 's/^ //; s/ $//')
	got=$(printf '%s\n' "$stderr" | sed -n '/^usage: /,$p' |
	    tr -s ' \t\n' ' ' | sed 's/ $//')
	assert_equal "$got" "usage: $want"
}

# assert_help TOOL: `TOOL --help` prints the usage, its man page's
# SYNOPSIS as assert_usage checks it, as the whole of standard output,
# nothing on standard error, and exits 0.
assert_help() {
	run -0 --separate-stderr "$1" --help
	assert_line --index 0 --regexp "^usage: $1( |\$)"
	assert_equal "$stderr" ''
	local stderr=$output
	assert_usage "$1"
}

# arc_version: the one version of the tools, the Makefile's VERSION.
arc_version() {
	sed -n 's/^VERSION = *//p' "$ARC_ROOT/Makefile"
}

# assert_version TOOL: `TOOL --version` prints "TOOL VERSION" (the
# Makefile's) alone on standard output, nothing on standard error, and
# exits 0.
assert_version() {
	local v
	v=$(arc_version)
	[ -n "$v" ] || fail "no VERSION = line in $ARC_ROOT/Makefile"
	run -0 --separate-stderr "$1" --version
	assert_output "$1 $v"
	assert_equal "$stderr" ''
}

# plant_drift STORE MANIFEST DIR [EXTRA]: in DIR, forty files and entries
# in sync (keep1..40), two orphan entries (lost1, lost2), two orphan
# files (orph1, orph2) and EXTRA more orphan files (extra1..), all two
# days old: drift the driver repairs without tripping its breaker, or,
# with ten extra, drift that trips it.
plant_drift() {
	local n
	mkdir -p "$1"
	: >"$2"
	for n in $(seq 1 40); do
		mkfile "$1/$3/keep$n.parquet"
		entry "$3/keep$n.parquet" >>"$2"
	done
	for n in 1 2; do
		entry "$3/lost$n.parquet" >>"$2"
		mkfile "$1/$3/orph$n.parquet"
	done
	for n in $(seq 1 "${4:-0}"); do
		mkfile "$1/$3/extra$n.parquet"
	done
}

# res RESULT KIND PATH [CODE]: one expected arc-delete result line, KIND
# manifest or storage, CODE the reason code (by default the one RESULT
# has in a delete run; arc(7), REASON CODES).
res() {
	local code=${4:-}
	if [ -z "$code" ]; then
		case $1:$2 in
		would-delete:manifest) code=ORPHAN_MANIFEST ;;
		would-delete:storage) code=ORPHAN_STORAGE ;;
		deleted:*) code=DELETED ;;
		gone:*) code=GONE ;;
		changed:*) code=CHANGED_SINCE_LISTING ;;
		deferred:*) code=DEFERRED ;;
		refused:*) code=LAYOUT_MISMATCH ;;
		failed:*) code=DELETE_FAILED ;;
		restored:*) code=RESTORED ;;
		esac
	fi
	printf '%s\t%s\t%s\t%s\n' "$1" "orphan-$2" "$3" "$code"
}

# stop_test_pids: stop each process a test started and named in
# $KILL_PIDS (blank-separated), by its PID, and reap it; one already gone
# is no error.  A suite's teardown calls it.
stop_test_pids() {
	local p
	for p in ${KILL_PIDS:-}; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
}

# remove_world: remove $WORLD, a test's scratch tree (when it set one),
# its permission bits restored first so that a test that took them away
# leaves nothing behind.
remove_world() {
	if [ -n "${WORLD:-}" ]; then
		chmod -R u+rwx "$WORLD" 2>/dev/null || true
		rm -rf "$WORLD"
	fi
}
