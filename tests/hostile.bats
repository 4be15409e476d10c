#!/usr/bin/env bats
# hostile.bats - hostile and broken input, one row per @test (issue 7).
#
# Every error row checks the same three things: one line on stderr that
# starts with the program's name and names the culprit (operand and line,
# path or field), a non-zero exit, and, where a row reaches arc-delete or
# arc-reconcile --act, that nothing was deleted: the store, the files
# outside it and the manifest are the same afterwards.  A few rows are
# inputs that must be accepted (invalid UTF-8, times in manifest JSON,
# files:null, paths Arc's rules allow); they check the exact output.
#
# The object-store and etcd rows talk to tests/fakeserver.py, which
# serves canned answers by URL path; it is started once for the file.
load test_helper
load servers
bats_require_minimum_version 1.5.0

D=db/m/2026/04/11/12	# a managed directory: files below it have 7 segments
OLD='2026-04-01 00:00:00'
OLDREC=2026-04-01T00:00:00Z
NOW=2026-04-20T00:00:00Z
S3NS=http://s3.amazonaws.com/doc/2006-03-01/

setup_file() {
	local d=$BATS_FILE_TMPDIR i
	mkdir -p "$d/fake"
	/usr/bin/python3 "$ARC_ROOT/tests/fakeserver.py" "$d/fake" "$d/fake.port" \
	    >"$d/fake.log" 2>&1 3>&- &
	echo $! >"$d/fake.pid"
	for i in $(seq 1 300); do
		[ -s "$d/fake.port" ] && break
		kill -0 "$(cat "$d/fake.pid")" 2>/dev/null || break
		sleep 0.1
	done
	[ -s "$d/fake.port" ] || { echo "fakeserver did not start:" >&2; cat "$d/fake.log" >&2; return 1; }
}

teardown_file() {
	local f="$BATS_FILE_TMPDIR/fake.pid"
	[ -f "$f" ] || return 0
	kill "$(cat "$f")" 2>/dev/null
	wait "$(cat "$f")" 2>/dev/null || true
}

setup() {
	FAKE=$BATS_FILE_TMPDIR/fake
	FAKE_URL="http://127.0.0.1:$(<"$BATS_FILE_TMPDIR/fake.port")"
	# any credentials: the fake server checks none; one attempt, no wait
	export AWS_ACCESS_KEY_ID=AKIDHOSTILE AWS_SECRET_ACCESS_KEY=hostile-secret
	export AWS_ENDPOINT_URL=$FAKE_URL AWS_REGION=us-east-1
	unset AWS_ENDPOINT_URL_S3 AWS_S3_ADDRESSING_STYLE AWS_SESSION_TOKEN AWS_CA_BUNDLE
	export AZURE_STORAGE_CONNECTION_STRING="DefaultEndpointsProtocol=http;AccountName=$AZ_ACCOUNT;AccountKey=$AZ_KEY;BlobEndpoint=$FAKE_URL/$AZ_ACCOUNT;"
	unset AZURE_STORAGE_ACCOUNT AZURE_STORAGE_KEY AZURE_STORAGE_SAS_TOKEN AZURE_STORAGE_BLOB_ENDPOINT
	export ARC_HTTP_ATTEMPTS=1 ARC_HTTP_BACKOFF_MS=0 ARC_HTTP_TIMEOUT=10
	mkdir -p s out
	: >m.ndjson
}

teardown() {
	rm -f "$BATS_TEST_TMPDIR/big.ndjson"
}

# ---- helpers ---------------------------------------------------------------

# mk PATH...: files of 2 bytes ("x\n") with mtime $OLD, and their
# directories (few processes: a loaded machine makes each one count).
mk() {
	local p
	mkdir -p "${@%/*}"
	for p in "$@"; do
		printf 'x\n' >"$p"
	done
	touch -d "$OLD" "$@"
}

# snapshot: every file and link in the store s and beside it in out (path,
# type, size, mtime, link target), and the manifest, byte for byte.
snapshot() {
	find s out \( -type f -o -type l -o -type d \) \
	    -printf '%p %y %s %T@ %l\n' | LC_ALL=C sort
	echo '-- manifest'
	od -An -c m.ndjson
}

# assert_unchanged BEFORE: nothing was deleted or changed since BEFORE.
assert_unchanged() {
	assert_equal "$(snapshot)" "$1"
}

# assert_error PROG CULPRIT...: $stderr is exactly one line, starting
# with "PROG: ", and names every CULPRIT (fixed strings).
assert_error() {
	local prog=$1 c
	shift
	[ -n "$stderr" ] || fail "no message on stderr"
	[[ $stderr != *$'\n'* ]] ||
	    fail "the error is not one line:"$'\n'"$stderr"
	[[ $stderr == "$prog: "* ]] ||
	    fail "the error does not start with '$prog: ': $stderr"
	for c in "$@"; do
		[[ $stderr == *"$c"* ]] ||
		    fail "the error does not name '$c': $stderr"
	done
}

# assert_line_in_stderr PROG CULPRIT...: one line of $stderr starts with
# "PROG: " and names every CULPRIT (the driver adds its own lines).
assert_line_in_stderr() {
	local prog=$1 line c ok
	shift
	while IFS= read -r line; do
		[[ $line == "$prog: "* ]] || continue
		ok=1
		for c in "$@"; do
			[[ $line == *"$c"* ]] || ok=
		done
		[ -n "$ok" ] && return 0
	done <<<"$stderr"
	fail "no line of stderr starts with '$prog: ' and names: $*"$'\n'"$stderr"
}

# assert_exit_1_or_2: a partial listing (1) or an error (2), not a hang.
assert_exit_1_or_2() {
	[ "$status" -eq 1 ] || [ "$status" -eq 2 ] ||
	    fail "exit $status, expected 1 or 2 (124: still running after the timeout)"
}

# lines_to FILE LINE...: FILE holds each LINE, a newline after each, with
# the escapes of printf %b (\t for a TAB) expanded.
lines_to() {
	local f=$1
	shift
	printf '%b\n' "$@" >"$f"
}

# delete_act [OPTION...]: arc-delete --act on s and m.ndjson, candidates
# from c.rec, archive a.tgz.
delete_act() {
	run --separate-stderr arc-delete --act -A a.tgz "$@" s m.ndjson <c.rec
}

# can NAME BODY [STATUS]: the fake server answers every request on the
# path NAME (see fakeserver.py) with STATUS (200) and BODY.
can() {
	printf '%s\nContent-Type: application/xml\n\n%s' "${3:-200}" "$2" \
	    >"$FAKE/$1"
}

# s3page KEYS-XML TRUNCATED [TOKEN] [NS]: a ListObjectsV2 page.
s3page() {
	printf '<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="%s"><Name>b</Name><Prefix></Prefix><KeyCount>1</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>%s</IsTruncated>%s%s</ListBucketResult>' \
	    "${4:-$S3NS}" "$2" "${3:+<NextContinuationToken>$3</NextContinuationToken>}" "$1"
}
S3KEY="<Contents><Key>$D/a.parquet</Key><LastModified>2026-04-01T00:00:00.000Z</LastModified><ETag>\"x\"</ETag><Size>2</Size><StorageClass>STANDARD</StorageClass></Contents>"
AZBLOB="<Blob><Name>$D/a.parquet</Name><Properties><Last-Modified>Wed, 01 Apr 2026 00:00:00 GMT</Last-Modified><Content-Length>2</Content-Length><BlobType>BlockBlob</BlobType></Properties></Blob>"

# etcd_kv PATH: one kv of a range answer for key /arc/files/PATH.
etcd_kv() {
	printf '{"key":"%s","value":"%s","create_revision":"5","mod_revision":"5","version":"1"}' \
	    "$(printf '/arc/files/%s' "$1" | base64 -w0)" \
	    "$(jentry "$1" | tr -d '\n' | base64 -w0)"
}

# ---- records: order, fields, length, bytes, escapes ----------------------

@test "arc-diff: manifest records out of order exit 2 naming the operand and the line" {
	lines_to m.rec "$D/b.parquet\t-\t-\t-\t-" "$D/a.parquet\t-\t-\t-\t-"
	: >s.rec
	run -2 --separate-stderr arc-diff m.rec s.rec
	assert_error arc-diff "'m.rec'" "not sorted at line 2"
}

@test "arc-diff: a storage path listed twice exits 2 naming the duplicate's line" {
	: >m.rec
	lines_to s.rec "$D/a.parquet\t$OLDREC\t2" "$D/b.parquet\t$OLDREC\t2" "$D/b.parquet\t$OLDREC\t2"
	run -2 --separate-stderr arc-diff m.rec s.rec
	assert_error arc-diff "'s.rec'" "duplicate path at line 3"
}

@test "arc-delete --act: candidates out of order exit 2 and nothing is deleted" {
	mk "s/$D/a.parquet"
	mk "s/$D/b.parquet"
	lines_to c.rec "orphan-storage\t$D/b.parquet\t$OLDREC\t2" "orphan-storage\t$D/a.parquet\t$OLDREC\t2"
	local before
	before=$(snapshot)
	delete_act
	[ "$status" -eq 2 ]
	assert_output ''
	assert_error arc-delete "not sorted at line 2"
	assert_unchanged "$before"
}

@test "arc-delete --act: a candidate listed twice exits 2 and nothing is deleted" {
	mk "s/$D/a.parquet"
	lines_to c.rec "orphan-storage\t$D/a.parquet\t$OLDREC\t2" "orphan-storage\t$D/a.parquet\t$OLDREC\t2"
	local before
	before=$(snapshot)
	delete_act
	[ "$status" -eq 2 ]
	assert_error arc-delete "duplicate path at line 2"
	assert_unchanged "$before"
}

@test "arc-diff: a storage record with two fields (too few) exits 2 naming the line" {
	: >m.rec
	lines_to s.rec "$D/a.parquet\t$OLDREC\t2" "$D/b.parquet\t$OLDREC"
	run -2 --separate-stderr arc-diff m.rec s.rec
	assert_error arc-diff "'s.rec'" "too few fields at line 2"
}

@test "arc-diff: a manifest record with six fields (too many) exits 2 naming the line" {
	lines_to m.rec "$D/a.parquet\t-\t2\tnode-1\t7\textra"
	: >s.rec
	run -2 --separate-stderr arc-diff m.rec s.rec
	assert_error arc-diff "'m.rec'" "too many fields at line 1"
}

@test "arc-delete --act: an orphan-storage candidate without its size field exits 2 and nothing is deleted" {
	mk "s/$D/a.parquet"
	lines_to c.rec "orphan-storage\t$D/a.parquet\t$OLDREC"
	local before
	before=$(snapshot)
	delete_act
	[ "$status" -eq 2 ]
	assert_error arc-delete "too few fields at line 1"
	assert_unchanged "$before"
}

@test "arc-diff: a storage record with a 1 MiB path exits 2 naming the overlong line" {
	: >m.rec
	{
		printf '%s\t%s\t2\n' "$D/a.parquet" "$OLDREC"
		printf '%s/' "$D"
		head -c 1048576 /dev/zero | tr '\0' p
		printf '.parquet\t%s\t2\n' "$OLDREC"
	} >s.rec
	run -2 --separate-stderr arc-diff m.rec s.rec
	assert_error arc-diff "'s.rec'" "line longer than 262144 bytes at line 2"
}

@test "arc-delete --act: a candidate with a 1 MiB path exits 2 and nothing is deleted" {
	mk "s/$D/a.parquet"
	{
		printf 'orphan-storage\t%s\t%s\t2\n' "$D/a.parquet" "$OLDREC"
		printf 'orphan-storage\t%s/' "$D"
		head -c 1048576 /dev/zero | tr '\0' p
		printf '.parquet\t%s\t2\n' "$OLDREC"
	} >c.rec
	local before
	before=$(snapshot)
	delete_act
	[ "$status" -eq 2 ]
	assert_output ''
	assert_error arc-delete "line longer than 262144 bytes at line 2"
	assert_unchanged "$before"
}

@test "arc-diff: a raw NUL byte in a storage record exits 2 naming the line" {
	: >m.rec
	printf '%s\t%s\t2\n%s/b\0.parquet\t%s\t2\n' "$D/a.parquet" "$OLDREC" "$D" "$OLDREC" >s.rec
	run -2 --separate-stderr arc-diff m.rec s.rec
	assert_error arc-diff "'s.rec'" "NUL byte at line 2"
}

@test "arc-delete --act: a raw NUL byte in a candidate's path exits 2 and nothing is deleted" {
	mk "s/$D/a.parquet"
	printf 'orphan-storage\t%s/a.parquet\0/../../../out/v.parquet\t%s\t2\n' "$D" "$OLDREC" >c.rec
	mk out/v.parquet
	local before
	before=$(snapshot)
	delete_act
	[ "$status" -eq 2 ]
	assert_error arc-delete "NUL byte at line 1"
	assert_unchanged "$before"
}

@test "arc-diff: the invalid escape '\\q' in a path exits 2 naming the line" {
	: >m.rec
	printf '%s\\q.parquet\t%s\t2\n' "$D/" "$OLDREC" >s.rec
	run -2 --separate-stderr arc-diff m.rec s.rec
	assert_error arc-diff "'s.rec'" "invalid escape at line 1"
}

@test "arc-diff: the non-canonical escapes '\\011' (for TAB) and '\\101' (for A) are refused" {
	: >m.rec
	local e
	for e in '\011' '\101' '\400' '\1' '\x41'; do
		printf '%s%s.parquet\t%s\t2\n' "$D/a" "$e" "$OLDREC" >s.rec
		run -2 --separate-stderr arc-diff m.rec s.rec
		assert_error arc-diff "'s.rec'" "invalid escape at line 1"
	done
}

@test "arc-delete --act: a lone backslash in a candidate's path ('..\\..\\v') is an invalid escape, exit 2, nothing deleted" {
	mkdir -p s/db
	mk out/v.parquet
	printf 'orphan-storage\t..\\..\\out\\v.parquet\t%s\t2\n' "$OLDREC" >c.rec
	local before
	before=$(snapshot)
	delete_act --delete-pre-manifest-orphans
	[ "$status" -eq 2 ]
	assert_error arc-delete "invalid escape at line 1"
	assert_unchanged "$before"
}

@test "invalid UTF-8 in paths round-trips through arc-list, arc-manifest-dump and arc-diff byte for byte" {
	local p names=(caf$'\xc3'.parquet $'\xc0\xaf'.parquet $'\xed\xa0\x80'.parquet $'\xff\xfe'.parquet)
	mk "${names[@]/#/s/$D/}"
	for p in "${names[@]}"; do
		jentry "$D/$p" >>m.ndjson
	done
	for p in "${names[@]}"; do
		printf '%s/%s\t%s\t2\n' "$D" "$p" "$OLDREC"
	done | LC_ALL=C sort >want.s
	arc-list s >got.s
	cmp got.s want.s
	arc-manifest-dump m.ndjson >got.m
	cmp <(cut -f1 got.m) <(cut -f1 want.s)
	run -0 --separate-stderr arc-diff -t "$NOW" got.m got.s
	assert_output ''
	assert_stderr ''
}

@test "arc-diff: an orphan-storage file whose path is invalid UTF-8 is passed on byte for byte" {
	local p=$'\xff\xfe\xc3'
	mk "s/$D/$p.parquet" "s/$D/ok.parquet"
	jentry "$D/ok.parquet" >m.ndjson
	arc-list s >s.rec
	arc-manifest-dump m.ndjson >m.rec
	run -1 --separate-stderr arc-diff -t "$NOW" m.rec s.rec
	assert_stderr ''
	printf 'orphan-storage\t%s/%s.parquet\t%s\t2\n' "$D" "$p" "$OLDREC" >want
	arc-diff -t "$NOW" m.rec s.rec >got || true
	cmp got want
}

# ---- records: times and sizes ---------------------------------------------

@test "arc-diff: a record time with a numeric offset (+02:00, -05:30, +00:00) exits 2 naming the line" {
	: >m.rec
	local t
	for t in 2026-04-01T02:00:00+02:00 2026-03-31T18:30:00-05:30 2026-04-01T00:00:00+00:00 2026-04-01T00:00:00z; do
		lines_to s.rec "$D/a.parquet\t$t\t2"
		run -2 --separate-stderr arc-diff m.rec s.rec
		assert_error arc-diff "'s.rec'" "invalid time at line 1"
	done
}

@test "arc-diff: record times with 1 to 9 fractional digits each exit 2 naming the line" {
	: >m.rec
	local n frac
	for n in 1 2 3 4 5 6 7 8 9; do
		frac=$(printf '%0*d' "$n" 0)
		lines_to s.rec "$D/a.parquet\t2026-04-01T00:00:00.${frac}Z\t2"
		run -2 --separate-stderr arc-diff m.rec s.rec
		assert_error arc-diff "'s.rec'" "invalid time at line 1"
	done
}

@test "arc-manifest-dump: created_at with 0 to 9 fractional digits is accepted and written to the second" {
	local n frac
	for n in 0 1 2 3 4 5 6 7 8 9; do
		frac=
		[ "$n" -eq 0 ] || frac=.$(printf '%0*d' "$n" 9 | tr 0 9)
		printf '{"path":"%s/f%d.parquet","created_at":"2026-04-11T14:00:00%sZ","size_bytes":1}\n' \
		    "$D" "$n" "$frac"
	done >m.ndjson
	run -0 --separate-stderr arc-manifest-dump m.ndjson
	assert_stderr ''
	assert_output "$(for n in 0 1 2 3 4 5 6 7 8 9; do
		printf '%s/f%d.parquet\t2026-04-11T14:00:00Z\t1\t-\t-\n' "$D" "$n"; done)"
}

@test "arc-manifest-dump: created_at in other offsets (+02:00, -05:30, +00:00) is converted to UTC" {
	{
		printf '{"path":"%s/a.parquet","created_at":"2026-04-11T14:00:00+02:00"}\n' "$D"
		printf '{"path":"%s/b.parquet","created_at":"2026-04-11T14:00:00.5-05:30"}\n' "$D"
		printf '{"path":"%s/c.parquet","created_at":"2026-04-11T00:30:00+00:00"}\n' "$D"
		printf '{"path":"%s/d.parquet","created_at":"2026-01-01T00:30:00+01:00"}\n' "$D"
	} >m.ndjson
	run -0 --separate-stderr arc-manifest-dump m.ndjson
	assert_stderr ''
	assert_output "$(printf '%s\t%s\t-\t-\t-\n' \
	    "$D/a.parquet" 2026-04-11T12:00:00Z "$D/b.parquet" 2026-04-11T19:30:00Z \
	    "$D/c.parquet" 2026-04-11T00:30:00Z "$D/d.parquet" 2025-12-31T23:30:00Z)"
}

@test "arc-diff: out-of-range record times (month 13, 30 February, 24:00, minute 60, second 60, year 10000) exit 2" {
	: >m.rec
	local t
	for t in 2026-13-01T00:00:00Z 2026-02-30T00:00:00Z 2026-04-01T24:00:00Z \
	    2026-04-01T00:60:00Z 2026-04-01T00:00:60Z 10000-01-01T00:00:00Z \
	    2026-00-10T00:00:00Z 2026-04-00T00:00:00Z; do
		lines_to s.rec "$D/a.parquet\t$t\t2"
		run -2 --separate-stderr arc-diff m.rec s.rec
		assert_error arc-diff "'s.rec'" "invalid time at line 1"
	done
}

@test "arc-manifest-dump: a created_at of 30 February exits 2 naming the field and the line" {
	jentry "$D/a.parquet" >m.ndjson
	printf '{"path":"%s/b.parquet","created_at":"2026-02-30T00:00:00Z"}\n' "$D" >>m.ndjson
	run -2 --separate-stderr arc-manifest-dump m.ndjson
	assert_output ''
	assert_error arc-manifest-dump "'m.ndjson'" "'created_at'" "at line 2"
}

@test "arc-diff: negative and non-numeric sizes (-5, 12a, +5, 1e3, 007, 2^63) exit 2 naming the line" {
	: >m.rec
	local z
	for z in -5 12a +5 1e3 007 9223372036854775808 ' 5' ''; do
		printf '%s\t%s\t%s\n' "$D/a.parquet" "$OLDREC" "$z" >s.rec
		run -2 --separate-stderr arc-diff m.rec s.rec
		assert_error arc-diff "'s.rec'" "at line 1"
	done
}

@test "arc-delete --act: an orphan-storage candidate with a negative size exits 2 and nothing is deleted" {
	mk "s/$D/a.parquet"
	lines_to c.rec "orphan-storage\t$D/a.parquet\t$OLDREC\t-2"
	local before
	before=$(snapshot)
	delete_act
	[ "$status" -eq 2 ]
	assert_error arc-delete "invalid size at line 1"
	assert_unchanged "$before"
}

@test "arc-manifest-dump: a negative size_bytes exits 2 naming the field and the line" {
	printf '{"path":"%s/a.parquet","size_bytes":-1}\n' "$D" >m.ndjson
	run -2 --separate-stderr arc-manifest-dump m.ndjson
	assert_output ''
	assert_error arc-manifest-dump "'m.ndjson'" "'size_bytes'" "at line 1"
}

# ---- manifest JSON --------------------------------------------------------

@test "arc-manifest-dump: JSON truncated inside an entry exits 2 naming the line and writes nothing" {
	{
		printf '{"files":[\n'
		jentry "$D/a.parquet" | tr -d '\n'
		printf ',\n{"path":"%s/b.parq' "$D"
	} >m.json
	run -2 --separate-stderr arc-manifest-dump m.json
	assert_output ''
	assert_error arc-manifest-dump "'m.json'" "truncated JSON at line 3"
}

@test "arc-reconcile --act: a truncated manifest aborts as manifest_unreadable and deletes nothing, breaker off" {
	local i
	mk "s/$D/f"{1..5}.parquet
	for i in 1 2 3 4 5; do
		jentry "$D/f$i.parquet" >>m.ndjson
	done
	# the fifth entry is cut: read as four, f5 would be an orphan
	truncate -s -20 m.ndjson
	local before
	before=$(snapshot)
	run -2 --separate-stderr arc-reconcile --act --max-orphan-ratio 1 \
	    --state-dir st --now "$NOW" s m.ndjson
	assert_output ''
	assert_line_in_stderr arc-reconcile "aborted (manifest_unreadable)" "'m.ndjson'" "truncated JSON"
	assert_equal "$(jq -r .abort_reason st/runs/*.json)" manifest_unreadable
	assert_unchanged "$before"
}

@test "arc-manifest-dump: 'files' that is an object, not an array, exits 2 naming the line" {
	printf '{"files":{"path":"%s/a.parquet"},"total":1}\n' "$D" >m.json
	run -2 --separate-stderr arc-manifest-dump m.json
	assert_output ''
	assert_error arc-manifest-dump "'m.json'" "'files' is not an array at line 1"
}

@test "arc-manifest-dump: a bare top-level array of entries exits 2 naming the line" {
	printf '[{"path":"%s/a.parquet"}]\n' "$D" >m.json
	run -2 --separate-stderr arc-manifest-dump m.json
	assert_output ''
	assert_error arc-manifest-dump "'m.json'" "expected '{' at line 1"
}

@test "arc-manifest-dump: entries wrapped in an extra array inside 'files' exit 2 naming the line" {
	printf '{"files":[\n[{"path":"%s/a.parquet"}]]}\n' "$D" >m.json
	run -2 --separate-stderr arc-manifest-dump m.json
	assert_output ''
	assert_error arc-manifest-dump "'m.json'" "element of 'files' is not an object at line 2"
}

@test "arc-manifest-dump: an entry nested under another key exits 2 naming the line" {
	printf '{"entry":{"path":"%s/a.parquet"}}\n' "$D" >m.json
	run -2 --separate-stderr arc-manifest-dump m.json
	assert_output ''
	assert_error arc-manifest-dump "'m.json'" "neither 'files' nor 'path'" "at line 1"
}

@test "arc-manifest-dump: files:null is accepted as an empty manifest, with or without total 0" {
	printf '{"files":null}\n' >m.json
	run -0 --separate-stderr arc-manifest-dump m.json
	assert_output ''
	assert_stderr ''
	printf '{"files":null,"total":0,"next_cursor":""}\n{"files":null}\n' >m.json
	run -0 --separate-stderr arc-manifest-dump m.json
	assert_output ''
	assert_stderr ''
	# and it counts as no entries: -n 0 is not exceeded
	run -0 arc-manifest-dump -n 0 m.json
}

@test "arc-reconcile --act: a files:null manifest against a full store trips the circuit breaker and deletes nothing" {
	local i
	mk "s/$D/f"{1..5}.parquet
	printf '{"files":null}\n' >m.ndjson
	local before
	before=$(snapshot)
	run -2 --separate-stderr arc-reconcile --act --state-dir st --now "$NOW" s m.ndjson
	assert_output ''
	assert_line_in_stderr arc-reconcile "aborted (implausible_drift)" "orphan-storage 5 of 5 files"
	assert_equal "$(jq -c '[.abort_reason, .manifest_file_count, .archive != null]' st/runs/*.json)" \
	    '["implausible_drift",0,true]'
	assert_unchanged "$before"
}

@test "arc-manifest-dump: numbers given as strings (size_bytes \"10\", lsn \"7\", total \"1\") exit 2 naming the field and the line" {
	jentry "$D/a.parquet" >m.ndjson
	printf '{"path":"%s/b.parquet","size_bytes":"10"}\n' "$D" >>m.ndjson
	run -2 --separate-stderr arc-manifest-dump m.ndjson
	assert_output ''
	assert_error arc-manifest-dump "'m.ndjson'" "'size_bytes' is not a non-negative integer at line 2"
	printf '{"path":"%s/a.parquet","lsn":"7"}\n' "$D" >m.ndjson
	run -2 --separate-stderr arc-manifest-dump m.ndjson
	assert_output ''
	assert_error arc-manifest-dump "'m.ndjson'" "'lsn' is not an unsigned integer at line 1"
	printf '{"files":[{"path":"%s/a.parquet"}],"total":"1"}\n' "$D" >m.json
	run -2 --separate-stderr arc-manifest-dump m.json
	assert_output ''
	assert_error arc-manifest-dump "'m.json'" "'total' is not a count at line 1"
}

@test "arc-manifest-dump: a 100 MB single entry exits 2 at 1 MiB naming the line, in bounded time" {
	local big=$BATS_TEST_TMPDIR/big.ndjson
	jentry "$D/a.parquet" >"$big"
	{
		printf '{"path":"%s/' "$D"
		head -c 100000000 /dev/zero | tr '\0' b
		printf '.parquet","size_bytes":1}\n'
	} >>"$big"
	[ "$(stat -c %s "$big")" -gt 100000000 ]
	run -2 --separate-stderr timeout 30 arc-manifest-dump "$big"
	rm -f "$big"
	assert_output ''
	assert_error arc-manifest-dump "big.ndjson'" "larger than 1 MiB at line 2"
}

@test "arc-manifest-dump: duplicate keys (in an NDJSON entry, in an element of 'files', 'files' twice) exit 2 naming the line" {
	printf '{"path":"%s/a.parquet","path":"%s/b.parquet"}\n' "$D" "$D" >m.ndjson
	run -2 --separate-stderr arc-manifest-dump m.ndjson
	assert_output ''
	assert_error arc-manifest-dump "'m.ndjson'" "duplicate key in object at line 1"
	printf '{"files":[\n{"path":"%s/a.parquet","lsn":1},\n{"path":"%s/b.parquet","lsn":1,"lsn":2}]}\n' "$D" "$D" >m.json
	run -2 --separate-stderr arc-manifest-dump m.json
	assert_output ''
	assert_error arc-manifest-dump "'m.json'" "duplicate key in entry at line 3"
	printf '{"files":[{"path":"%s/a.parquet"}],"files":[]}\n' "$D" >m.json
	run -2 --separate-stderr arc-manifest-dump m.json
	assert_output ''
	assert_error arc-manifest-dump "'m.json'" "duplicate key in object at line 1"
}

@test "arc-manifest-dump: the same path in two entries exits 2 naming the path and both lines" {
	{ jentry "$D/a.parquet"; jentry "$D/b.parquet"; jentry "$D/a.parquet" 9; } >m.ndjson
	run -2 --separate-stderr arc-manifest-dump m.ndjson
	assert_output ''
	assert_error arc-manifest-dump "'m.ndjson'" "duplicate path '$D/a.parquet' at lines 1 and 3"
}

# ---- manifest paths, Arc's rules ----------------------------------------

@test "arc-manifest-dump: an absolute path '/db/...' exits 2 naming the path and the line" {
	jentry "/$D/a.parquet" >m.ndjson
	run -2 --separate-stderr arc-manifest-dump m.ndjson
	assert_output ''
	assert_error arc-manifest-dump "'/$D/a.parquet'" "absolute path at line 1"
}

@test "arc-manifest-dump: a path with a '..' segment exits 2 naming the path and the line" {
	{ jentry "$D/a.parquet"; jentry "db/m/../../../out/v.parquet"; } >m.ndjson
	run -2 --separate-stderr arc-manifest-dump m.ndjson
	assert_output ''
	assert_error arc-manifest-dump "'db/m/../../../out/v.parquet'" "'..' segment at line 2"
}

@test "arc-manifest-dump: a path starting with a backslash is absolute by Arc's rules and exits 2" {
	jentry '\db\m\a.parquet' >m.ndjson
	run -2 --separate-stderr arc-manifest-dump m.ndjson
	assert_output ''
	# the culprit is quoted as in records: each backslash doubled
	assert_error arc-manifest-dump "'\\\\db\\\\m\\\\a.parquet'" "absolute path at line 1"
}

@test "arc-manifest-dump: a '..' segment between backslashes exits 2 (both separate segments)" {
	jentry 'db\..\..\out\v.parquet' >m.ndjson
	run -2 --separate-stderr arc-manifest-dump m.ndjson
	assert_output ''
	assert_error arc-manifest-dump "'..' segment at line 1"
}

@test "arc-manifest-dump: a path with ':' exits 2 naming the path and the line" {
	jentry "C:/$D/a.parquet" >m.ndjson
	run -2 --separate-stderr arc-manifest-dump m.ndjson
	assert_output ''
	assert_error arc-manifest-dump "'C:/$D/a.parquet'" "contains ':' at line 1"
}

@test "arc-manifest-dump: '//' and a trailing '/' are allowed by Arc's rules and kept byte for byte" {
	{ jentry "db//m/a.parquet"; jentry "db/m/"; jentry 'db/a\b.parquet'; } >m.ndjson
	run -0 --separate-stderr arc-manifest-dump m.ndjson
	assert_stderr ''
	assert_output "$(printf '%s\t2026-04-11T14:00:00Z\t10\tnode-1\t1\n' 'db//m/a.parquet' 'db/a\\b.parquet' 'db/m/' | LC_ALL=C sort)"
}

# ---- candidate paths fed to arc-delete --act ------------------------------

@test "arc-delete --act: an absolute orphan-storage path is refused, named, and the file outside survives" {
	mk out/v.parquet
	lines_to c.rec "orphan-storage\t$BATS_TEST_TMPDIR/out/v.parquet\t$OLDREC\t2"
	local before
	before=$(snapshot)
	delete_act --delete-pre-manifest-orphans
	[ "$status" -eq 1 ]
	assert_output "$(printf 'refused\torphan-storage\t%s\tLAYOUT_MISMATCH' "$BATS_TEST_TMPDIR/out/v.parquet")"
	assert_error arc-delete "'$BATS_TEST_TMPDIR/out/v.parquet'" "refused: absolute path"
	assert_unchanged "$before"
}

@test "arc-delete --act: an orphan-storage path with '..' segments is refused and the file outside survives" {
	mk out/v.parquet
	mkdir -p "s/$D"
	lines_to c.rec "orphan-storage\t$D/../../../../../../../out/v.parquet\t$OLDREC\t2"
	local before
	before=$(snapshot)
	delete_act --delete-pre-manifest-orphans
	[ "$status" -eq 1 ]
	assert_error arc-delete "'$D/../../../../../../../out/v.parquet'" "refused: path has a '..' segment"
	assert_unchanged "$before"
}

@test "arc-delete --act: an orphan-storage path with '//' is refused though it resolves to a real file" {
	mk "s/$D/a.parquet"
	lines_to c.rec "orphan-storage\tdb//m/2026/04/11/12/a.parquet\t$OLDREC\t2"
	local before
	before=$(snapshot)
	delete_act
	[ "$status" -eq 1 ]
	assert_output "$(printf 'refused\torphan-storage\tdb//m/2026/04/11/12/a.parquet\tLAYOUT_MISMATCH')"
	assert_error arc-delete "'db//m/2026/04/11/12/a.parquet'" "refused: path has an empty segment"
	assert_unchanged "$before"
}

@test "arc-delete --act: an orphan-storage path with a trailing '/' is refused and the directory survives" {
	mk "s/$D/sub/a.parquet"
	lines_to c.rec "orphan-storage\t$D/sub/\t$OLDREC\t2"
	local before
	before=$(snapshot)
	delete_act
	[ "$status" -eq 1 ]
	assert_error arc-delete "'$D/sub/'" "refused: path has an empty segment"
	assert_unchanged "$before"
}

@test "arc-delete --act: an orphan-storage path of backslashes ('..\\..\\out\\v.parquet') is refused and nothing outside is touched" {
	mkdir -p s/db
	mk out/v.parquet
	printf 'orphan-storage\t..\\\\..\\\\out\\\\v.parquet\t%s\t2\n' "$OLDREC" >c.rec
	local before
	before=$(snapshot)
	delete_act
	[ "$status" -eq 1 ]
	assert_output "$(printf 'refused\torphan-storage\t%s\tLAYOUT_MISMATCH' '..\\..\\out\\v.parquet')"
	assert_error arc-delete "refused: not a managed path"
	assert_unchanged "$before"
}

@test "arc-delete --act: an orphan-storage path with ':' ('C:/out/v.parquet') is refused and nothing is touched" {
	mk out/v.parquet
	mk "s/C:/out/v.parquet"
	lines_to c.rec "orphan-storage\tC:/out/v.parquet\t$OLDREC\t2"
	local before
	before=$(snapshot)
	delete_act
	[ "$status" -eq 1 ]
	assert_error arc-delete "'C:/out/v.parquet'" "refused: not a managed path"
	assert_unchanged "$before"
}

@test "arc-delete --act: an orphan-manifest candidate with '..' segments is refused and the manifest is unchanged" {
	jentry "$D/a.parquet" >m.ndjson
	lines_to c.rec "orphan-manifest\tdb/x/../../$D/a.parquet\t-\t-\t-\t-"
	local before
	before=$(snapshot)
	delete_act
	[ "$status" -eq 1 ]
	assert_output "$(printf 'refused\torphan-manifest\tdb/x/../../%s/a.parquet\tLAYOUT_MISMATCH' "$D")"
	assert_error arc-delete "'db/x/../../$D/a.parquet'" "refused: path has a '..' segment"
	assert_unchanged "$before"
}

@test "arc-delete --act: a refused path holding a newline ('..\\n') is reported on one line, quoted" {
	mk out/v.parquet
	printf 'orphan-storage\t../out/v\\n.parquet\t%s\t2\n' "$OLDREC" >c.rec
	local before
	before=$(snapshot)
	delete_act --delete-pre-manifest-orphans
	[ "$status" -eq 1 ]
	assert_output "$(printf 'refused\torphan-storage\t../out/v\\n.parquet\tLAYOUT_MISMATCH')"
	assert_error arc-delete "'../out/v\\n.parquet'" "refused: path has a '..' segment"
	assert_unchanged "$before"
}

@test "arc-delete --act: a refused path holding an escaped NUL ('\\000') is named in full" {
	mk "s/$D/a.parquet"
	printf 'orphan-storage\t%s/a\\000/../../b.parquet\t%s\t2\n' "$D" "$OLDREC" >c.rec
	local before
	before=$(snapshot)
	delete_act
	[ "$status" -eq 1 ]
	assert_error arc-delete "'$D/a\\000/../../b.parquet'" "refused"
	assert_unchanged "$before"
}

@test "arc-recheck: a candidate path holding a newline that cannot be checked is named on one line, quoted" {
	printf 'orphan-storage\t../out/v\\n.parquet\t%s\t2\n' "$OLDREC" >c.rec
	run -1 --separate-stderr arc-recheck -R rej s m.ndjson <c.rec
	assert_output ''
	assert_error arc-recheck "'../out/v\\n.parquet'" "cannot check"
}

# ---- the STORE ------------------------------------------------------------

@test "arc-list: a STORE that is a symbolic link exits 2 naming it" {
	mk "s/$D/a.parquet"
	ln -s s link
	run -2 --separate-stderr arc-list link
	assert_output ''
	assert_error arc-list "'link'" "store is a symbolic link"
}

@test "arc-delete --act: a STORE that is a symbolic link exits 2 and nothing is deleted" {
	mk "s/$D/a.parquet"
	ln -s s out/link
	lines_to c.rec "orphan-storage\t$D/a.parquet\t$OLDREC\t2"
	local before
	before=$(snapshot)
	run --separate-stderr arc-delete --act -A a.tgz out/link m.ndjson <c.rec
	[ "$status" -eq 2 ]
	assert_output ''
	assert_error arc-delete "'out/link'" "store is a symbolic link"
	assert_unchanged "$before"
}

@test "arc-reconcile --act: symlinks from the store out of its root are never followed and their targets survive" {
	local i
	mk "s/$D/f"{01..12}.parquet out/v.parquet out/dir/v2.parquet out/dir/w.parquet
	for i in {01..12}; do
		jentry "$D/f$i.parquet" >>m.ndjson
	done
	ln -s ../../../../../../../out/v.parquet "s/$D/link.parquet"
	ln -s ../../../../../../out/dir s/db/m/2026/04/11/13
	# an entry for a file reachable only through the linked directory
	jentry db/m/2026/04/11/13/v2.parquet >>m.ndjson
	local before
	before=$(snapshot)
	run -1 --separate-stderr arc-reconcile --act --state-dir st --now "$NOW" s m.ndjson
	assert_output ''
	assert_line_in_stderr arc-recheck "'db/m/2026/04/11/13/v2.parquet'" "cannot check"
	assert_equal "$(jq -c '[.storage_file_count, .manifest_deletes, .storage_deletes]' st/runs/*.json)" \
	    '[12,0,0]'
	assert_unchanged "$before"
}

@test "arc-delete --act: a candidate through a symlinked directory or at a symlink fails and the targets survive" {
	mk out/v.parquet
	mk out/dir/v2.parquet
	mkdir -p "s/$D"
	ln -s ../../../../../../../out/v.parquet "s/$D/link.parquet"
	ln -s ../../../../../../out/dir s/db/m/2026/04/11/13
	lines_to c.rec "orphan-storage\t$D/link.parquet\t$OLDREC\t2"
	local before
	before=$(snapshot)
	delete_act -r run-1	# one run: the second call adds to its archive
	[ "$status" -eq 1 ]
	assert_output "$(printf 'failed\torphan-storage\t%s/link.parquet\tDELETE_FAILED' "$D")"
	assert_error arc-delete "'$D/link.parquet'" "not a regular file"
	lines_to c.rec "orphan-storage\tdb/m/2026/04/11/13/v2.parquet\t$OLDREC\t2"
	delete_act -r run-1
	[ "$status" -eq 1 ]
	assert_output "$(printf 'failed\torphan-storage\tdb/m/2026/04/11/13/v2.parquet\tDELETE_FAILED')"
	assert_error arc-delete "'db/m/2026/04/11/13/v2.parquet'" "cannot delete"
	assert_unchanged "$before"
}

@test "arc-list: a STORE that is a regular file exits 2 naming it" {
	printf 'x\n' >notadir
	run -2 --separate-stderr arc-list notadir
	assert_output ''
	assert_error arc-list "'notadir'" "Not a directory"
}

@test "arc-delete --act: a STORE that is a regular file exits 2 and the manifest is unchanged" {
	printf 'x\n' >out/notadir
	jentry "$D/a.parquet" >m.ndjson
	lines_to c.rec "orphan-manifest\t$D/a.parquet\t2026-04-11T14:00:00Z\t10\tnode-1\t1"
	local before
	before=$(snapshot)
	run --separate-stderr arc-delete --act -A a.tgz out/notadir m.ndjson <c.rec
	[ "$status" -eq 2 ]
	assert_output ''
	assert_error arc-delete "'out/notadir'" "Not a directory"
	assert_unchanged "$before"
}

@test "arc-recheck: a file where a directory is expected does not confirm an orphan-manifest candidate" {
	mk s/db/m/2026/04/11
	jentry "$D/a.parquet" >m.ndjson
	lines_to c.rec "orphan-manifest\t$D/a.parquet\t2026-04-11T14:00:00Z\t10\tnode-1\t1"
	run -1 --separate-stderr arc-recheck -R rej s m.ndjson <c.rec
	assert_output ''
	assert_error arc-recheck "'$D/a.parquet'" "cannot check: Not a directory"
	assert_equal "$(cut -f1 rej)" error
}

# ---- S3 answers (ListObjectsV2) ---------------------------------------------

@test "S3: a truncated ListObjectsV2 page exits 1 or 2 naming invalid XML, with no records" {
	local page
	page=$(s3page "$S3KEY" false)
	can s3trunc "${page:0:${#page}-40}"
	run --separate-stderr timeout 20 arc-list s3://s3trunc
	assert_exit_1_or_2
	assert_output ''
	assert_error arc-list "'s3://s3trunc/'" "invalid XML"
}

@test "S3: a ListObjectsV2 page in an unknown XML namespace exits 1 or 2 naming the namespace, with no records" {
	can s3ns "$(s3page "$S3KEY" false '' http://example.com/not-s3/)"
	run --separate-stderr timeout 20 arc-list s3://s3ns
	assert_exit_1_or_2
	assert_output ''
	assert_error arc-list "'s3://s3ns/'" "unexpected XML namespace http://example.com/not-s3/"
}

@test "S3: IsTruncated true without a continuation token exits 1 or 2 naming the lie, with no records" {
	can s3lie "$(s3page "$S3KEY" true)"
	run --separate-stderr timeout 20 arc-list s3://s3lie
	assert_exit_1_or_2
	assert_output ''
	assert_error arc-list "'s3://s3lie/'" "truncated page without a continuation token"
}

@test "S3: IsTruncated true with a continuation token that never changes ends with an error, not a loop" {
	can s3loop "$(s3page "$S3KEY" true T1)"
	: >"$FAKE/requests.log"
	run --separate-stderr timeout 6 arc-list s3://s3loop
	assert_exit_1_or_2
	assert_line_in_stderr arc-list "'s3://s3loop/'" "continuation token repeats"
	[ "$(wc -l <"$FAKE/requests.log")" -lt 100 ] ||
	    fail "$(wc -l <"$FAKE/requests.log") listing requests for one repeating page"
}

@test "S3: an HTML page answered with 200 exits 1 or 2 as not a ListObjectsV2 answer" {
	can s3html '<html><body><h1>Sign in to the guest network</h1></body></html>'
	run --separate-stderr timeout 20 arc-list s3://s3html
	assert_exit_1_or_2
	assert_output ''
	assert_error arc-list "'s3://s3html/'" "not a ListObjectsV2 answer"
}

# s3obj KEY-XML SIZE-XML TIME-XML: one <Contents> of a page, as written.
s3obj() {
	printf '<Contents><Key>%s</Key><LastModified>%s</LastModified><ETag>&quot;x&quot;</ETag><Size>%s</Size><StorageClass>STANDARD</StorageClass></Contents>' \
	    "$1" "${3:-2026-04-01T00:00:00.000Z}" "${2:-2}"
}

@test "S3: keys spelled with XML entities and character references are listed as the keys they spell" {
	# the keys: "a&b", "c<d>e", "AB" and "\xc3\xa9" (U+00E9), "x y"
	can s3ent "$(s3page "$(s3obj "$D/a&amp;b.parquet")$(s3obj "$D/c&lt;d&gt;e.parquet")$(s3obj "$D/&#x41;&#66;.parquet")$(s3obj "$D/&#xe9;.parquet")$(s3obj "$D/x y.parquet")" false)"
	run --separate-stderr timeout 20 arc-list s3://s3ent
	assert_success
	printf '%s\t%s\t2\n' "$D/a&b.parquet" "$OLDREC" "$D/c<d>e.parquet" "$OLDREC" \
	    "$D/AB.parquet" "$OLDREC" "$D/x y.parquet" "$OLDREC" \
	    "$D/$(printf '\303\251').parquet" "$OLDREC" >want
	LC_ALL=C sort want >want.sorted
	# a record quotes a path only when it must (arc(7)): these need not
	printf '%s\n' "$output" >got
	diff want.sorted got
}

@test "S3: the same keys written as UTF-8, with a comment and CDATA, are listed alike" {
	can s3ent2 "$(s3page "<!-- a comment -->$(s3obj "$D/a&amp;b.parquet")$(s3obj "$D/<![CDATA[c<d>e]]>.parquet")$(s3obj "$D/AB.parquet")$(s3obj "$D/$(printf '\303\251').parquet")$(s3obj "$D/x y.parquet")" false)"
	can s3ent "$(s3page "$(s3obj "$D/a&amp;b.parquet")$(s3obj "$D/c&lt;d&gt;e.parquet")$(s3obj "$D/&#x41;&#66;.parquet")$(s3obj "$D/&#xe9;.parquet")$(s3obj "$D/x y.parquet")" false)"
	run --separate-stderr timeout 20 arc-list s3://s3ent
	assert_success
	local want=$output
	[ "$(printf '%s\n' "$want" | wc -l)" -eq 5 ] || fail "not five records: $want"
	run --separate-stderr timeout 20 arc-list s3://s3ent2
	assert_success
	assert_output "$want"
}

@test "S3: a key with an entity XML does not define exits 1 or 2 naming invalid XML, with no records" {
	# positive control: the same page with &amp; lists
	can s3undef "$(s3page "$(s3obj "$D/a&amp;b.parquet")" false)"
	run --separate-stderr timeout 20 arc-list s3://s3undef
	assert_success
	assert_output "$(printf '%s\t%s\t2' "$D/a&b.parquet" "$OLDREC")"
	can s3undef "$(s3page "$(s3obj "$D/a&nbsp;b.parquet")" false)"
	run --separate-stderr timeout 20 arc-list s3://s3undef
	assert_exit_1_or_2
	assert_output ''
	assert_error arc-list "'s3://s3undef/'" "invalid XML" "undefined entity"
}

@test "S3: a character reference to a byte XML cannot carry (&#0;, &#x1;) exits 1 or 2 naming invalid XML, with no records" {
	local ref
	can s3cref "$(s3page "$(s3obj "$D/a&#x41;.parquet")" false)"
	run --separate-stderr timeout 20 arc-list s3://s3cref
	assert_success
	assert_output "$(printf '%s\t%s\t2' "$D/aA.parquet" "$OLDREC")"
	for ref in '&#0;' '&#x1;' '&#xD800;'; do
		can s3cref "$(s3page "$(s3obj "$D/a$ref.parquet")" false)"
		run --separate-stderr timeout 20 arc-list s3://s3cref
		assert_exit_1_or_2
		assert_output ''
		assert_error arc-list "'s3://s3cref/'" "invalid XML"
	done
}

@test "S3: a Size or LastModified that is not one is written unknown ('-'), never as another number or time" {
	can s3bad "$(s3page "$(s3obj "$D/a.parquet" 12)$(s3obj "$D/b.parquet" 1x2)$(s3obj "$D/c.parquet" 3 2026-13-01T00:00:00.000Z)$(s3obj "$D/d.parquet" '&#x31;2' '2026-04-01T00:00:00.500Z')" false)"
	run --separate-stderr timeout 20 arc-list s3://s3bad
	assert_success
	assert_output "$(printf '%s\t%s\t%s\n' "$D/a.parquet" "$OLDREC" 12 \
	    "$D/b.parquet" "$OLDREC" - "$D/c.parquet" - 3 \
	    "$D/d.parquet" 2026-04-01T00:00:01Z 12)"
}

# ---- Azure answers (List Blobs) --------------------------------------------

@test "Azure: a truncated List Blobs answer exits 1 or 2 naming invalid XML, with no records" {
	can "${AZ_ACCOUNT}__aztrunc" "<?xml version=\"1.0\" encoding=\"utf-8\"?><EnumerationResults ServiceEndpoint=\"$FAKE_URL/\" ContainerName=\"aztrunc\"><Blobs>$AZBLOB<Blob><Name>$D/b.parq"
	run --separate-stderr timeout 20 arc-list az://aztrunc
	assert_exit_1_or_2
	assert_output ''
	assert_error arc-list "'az://aztrunc/'" "invalid XML"
}

@test "Azure: a List Blobs answer in an unknown XML namespace exits 1 or 2 naming it, with no records" {
	can "${AZ_ACCOUNT}__azns" "<?xml version=\"1.0\" encoding=\"utf-8\"?><EnumerationResults xmlns=\"http://example.com/evil\" ContainerName=\"azns\"><Blobs>$AZBLOB</Blobs><NextMarker/></EnumerationResults>"
	run --separate-stderr timeout 20 arc-list az://azns
	assert_exit_1_or_2
	assert_output ''
	assert_error arc-list "'az://azns/'" "unexpected XML namespace http://example.com/evil"
}

@test "Azure: a NextMarker that never changes (a listing that lies about its end) ends with an error" {
	can "${AZ_ACCOUNT}__azloop" "<?xml version=\"1.0\" encoding=\"utf-8\"?><EnumerationResults ContainerName=\"azloop\"><Blobs>$AZBLOB</Blobs><NextMarker>M1</NextMarker></EnumerationResults>"
	run --separate-stderr timeout 10 arc-list az://azloop
	[ "$status" -eq 1 ]
	assert_error arc-list "'az://azloop/'" "the marker repeats"
}

@test "Azure: a blob without a Name exits 1 or 2 as not a List Blobs answer, with no records" {
	can "${AZ_ACCOUNT}__aznoname" "<?xml version=\"1.0\" encoding=\"utf-8\"?><EnumerationResults ContainerName=\"aznoname\"><Blobs><Blob><Properties><Content-Length>2</Content-Length></Properties></Blob>$AZBLOB</Blobs><NextMarker/></EnumerationResults>"
	run --separate-stderr timeout 20 arc-list az://aznoname
	assert_exit_1_or_2
	assert_output ''
	assert_error arc-list "'az://aznoname/'" "not a List Blobs answer"
}

# ---- etcd answers (/v3/kv/range) -------------------------------------------

@test "etcd: a range answer without header.revision (or without header) exits 2 naming it, with no records" {
	can v3__kv__range "{\"header\":{\"cluster_id\":\"1\",\"member_id\":\"2\",\"raft_term\":\"3\"},\"kvs\":[$(etcd_kv "$D/a.parquet")],\"count\":\"1\"}"
	run -2 --separate-stderr timeout 20 arc-manifest-dump "etcd://127.0.0.1:${FAKE_URL##*:}/arc/files/"
	assert_output ''
	assert_error arc-manifest-dump "'etcd://127.0.0.1:${FAKE_URL##*:}/arc/files/'" "without a revision"
	can v3__kv__range "{\"kvs\":[$(etcd_kv "$D/a.parquet")],\"count\":\"1\"}"
	run -2 --separate-stderr timeout 20 arc-manifest-dump "etcd://127.0.0.1:${FAKE_URL##*:}/arc/files/"
	assert_output ''
	assert_error arc-manifest-dump "without a revision"
}

@test "etcd: a kv without its key exits 2 naming it, with no records" {
	local kv
	kv=$(etcd_kv "$D/a.parquet" | jq -c 'del(.key)')
	can v3__kv__range "{\"header\":{\"revision\":\"9\"},\"kvs\":[$(etcd_kv "$D/0.parquet"),$kv],\"count\":\"2\"}"
	run -2 --separate-stderr timeout 20 arc-manifest-dump "etcd://127.0.0.1:${FAKE_URL##*:}/arc/files/"
	assert_output ''
	assert_error arc-manifest-dump "a key without key, value or mod_revision"
}

@test "etcd: 'more' true with a page that does not advance ends with an error, not a loop" {
	can v3__kv__range "{\"header\":{\"revision\":\"9\"},\"kvs\":[$(etcd_kv "$D/a.parquet")],\"more\":true,\"count\":\"2\"}"
	run --separate-stderr timeout 6 arc-manifest-dump "etcd://127.0.0.1:${FAKE_URL##*:}/arc/files/"
	[ "$status" -eq 2 ] || fail "exit $status, expected 2 (124: still running after 6 s)"
	assert_output ''
	assert_error arc-manifest-dump "etcd://127.0.0.1:${FAKE_URL##*:}/arc/files/"
}

# ---- a manifest and a store that do not belong together -------------------

@test "arc-reconcile --act against an unrelated manifest trips the circuit breaker: implausible_drift, nothing deleted" {
	local i
	mk "s/$D/f"{01..20}.parquet
	for i in {01..20}; do
		jentry "other/table/2026/04/11/12/g$i.parquet" >>m.ndjson
	done
	local before
	before=$(snapshot)
	run -2 --separate-stderr arc-reconcile --act --state-dir st --now "$NOW" s m.ndjson
	assert_output ''
	assert_line_in_stderr arc-reconcile "aborted (implausible_drift)" \
	    "orphan-manifest 20 of 20 entries" "orphan-storage 20 of 20 files"
	assert_equal "$(jq -c '[.aborted, .abort_reason, .manifest_deletes, .storage_deletes]' st/runs/*.json)" \
	    '[true,"implausible_drift",0,0]'
	# the archive holds only the run's explanation: nothing was planned
	[ -z "$(tar -tzf st/archives/*.tar.gz | grep -v '^explain/')" ]
	assert_unchanged "$before"
}
