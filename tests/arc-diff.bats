#!/usr/bin/env bats
# arc-diff MANIFEST_RECORDS STORAGE_RECORDS: a two-cursor merge writing
# orphan-manifest and orphan-storage candidate records in path order.
load test_helper
bats_require_minimum_version 1.5.0

NOW=2026-04-11T14:00:00Z
OLD=2026-04-01T00:00:00Z	# far outside the default grace window

# ts SECONDS-BEFORE-NOW: the RFC 3339 time that many seconds before $NOW
# (negative: after it).
ts() {
	date -u -d "@$(($(date -u -d "$NOW" +%s) - $1))" +%Y-%m-%dT%H:%M:%SZ
}

# counts FILE: the -S counts as "manifest storage om os skipped".
counts() {
	jq -r '[.manifest_file_count, .storage_file_count,
	    .orphan_manifest_count, .orphan_storage_count, .skipped_grace]
	    | map(tostring) | join(" ")' "$1"
}

# --- usage and operands --------------------------------------------------

@test "without operands it prints the usage line, its man page's SYNOPSIS, and exits 2" {
	run -2 --separate-stderr arc-diff
	assert_output ''
	assert_usage arc-diff
}

@test "--help prints the usage, its man page's SYNOPSIS, to standard output and exits 0; --version prints the one version" {
	assert_help arc-diff
	assert_version arc-diff
}

@test "with one or three operands it prints the usage line and exits 2" {
	: >m.rec
	: >s.rec
	run -2 --separate-stderr arc-diff m.rec
	assert_output ''
	assert_stderr --partial 'usage: arc-diff '
	run -2 --separate-stderr arc-diff m.rec s.rec s.rec
	assert_output ''
	assert_stderr --partial 'usage: arc-diff '
}

@test "an unknown option prints the usage line and exits 2" {
	: >m.rec
	: >s.rec
	run -2 --separate-stderr arc-diff -x m.rec s.rec
	assert_output ''
	assert_stderr --partial 'usage: arc-diff '
}

@test "an option missing its argument prints the usage line and exits 2" {
	: >m.rec
	: >s.rec
	local o
	for o in -g -k -o -S -t; do
		run -2 --separate-stderr arc-diff m.rec s.rec "$o"
		assert_output ''
		assert_stderr --partial 'usage: arc-diff '
	done
}

@test "a missing operand file is an error naming it, exit 2" {
	: >s.rec
	run -2 --separate-stderr arc-diff nosuch.rec s.rec
	assert_output ''
	assert_stderr "arc-diff: cannot open 'nosuch.rec': No such file or directory"
	: >m.rec
	run -2 --separate-stderr arc-diff m.rec nosuch.rec
	assert_output ''
	assert_stderr --partial "'nosuch.rec'"
}

@test "an operand that is a directory is an error, exit 2" {
	: >m.rec
	mkdir dir.rec
	run -2 --separate-stderr arc-diff m.rec dir.rec
	assert_output ''
	assert_stderr --partial "'dir.rec'"
}

@test "both operands '-' are refused with exit 2" {
	run -2 --separate-stderr arc-diff - - </dev/null
	assert_output ''
	assert_stderr --partial "'-'"
}

@test "'-' reads the manifest records from standard input" {
	mrec a >m.rec
	mrec b >>m.rec
	srec b "$OLD" 1 >s.rec
	srec c "$OLD" 1 >>s.rec
	run -1 arc-diff - s.rec <m.rec
	assert_output "$(printf 'orphan-manifest\t'; mrec a; printf 'orphan-storage\t'; srec c "$OLD" 1)"
}

@test "'-' reads the storage records from standard input" {
	mrec a >m.rec
	mrec b >>m.rec
	srec b "$OLD" 1 >s.rec
	srec c "$OLD" 1 >>s.rec
	run -1 arc-diff m.rec - <s.rec
	assert_output "$(printf 'orphan-manifest\t'; mrec a; printf 'orphan-storage\t'; srec c "$OLD" 1)"
}

@test "operands whose names start with '-' are read after --" {
	mrec a >./-m.rec
	: >./-s.rec
	run -1 arc-diff -- -m.rec -s.rec
	assert_output "$(printf 'orphan-manifest\t'; mrec a)"
}

# --- the two kinds ---------------------------------------------------------

@test "empty inputs give no candidates, exit 0 and zero counts" {
	: >m.rec
	: >s.rec
	run -0 --separate-stderr arc-diff -S st.json m.rec s.rec
	assert_output ''
	assert_stderr ''
	assert_equal "$(counts st.json)" '0 0 0 0 0'
}

@test "a manifest and storage that agree give no candidates and exit 0" {
	{ mrec a "$NOW" 1 n1 1; mrec b "$NOW" 2 n1 2; } >m.rec
	{ srec a "$OLD" 1; srec b "$OLD" 2; } >s.rec
	run -0 --separate-stderr arc-diff -t "$NOW" -S st.json m.rec s.rec
	assert_output ''
	assert_stderr ''
	assert_equal "$(counts st.json)" '2 2 0 0 0'
}

@test "a manifest entry with no stored file is an orphan-manifest candidate, its record kept whole" {
	{ mrec a 2026-04-11T13:00:00Z 10 node-1 5; mrec b "$NOW" 20 node-2 6; } >m.rec
	srec b "$OLD" 20 >s.rec
	run -1 --separate-stderr arc-diff -t "$NOW" m.rec s.rec
	assert_output "$(printf 'orphan-manifest\ta\t2026-04-11T13:00:00Z\t10\tnode-1\t5')"
	assert_stderr ''
}

@test "no grace applies to the manifest side: an entry created this second is a candidate" {
	mrec a "$NOW" 1 n1 1 >m.rec
	: >s.rec
	run -1 arc-diff -t "$NOW" m.rec s.rec
	assert_output "$(printf 'orphan-manifest\t'; mrec a "$NOW" 1 n1 1)"
	mrec a "$(ts -3600)" 1 n1 1 >m.rec
	run -1 arc-diff -t "$NOW" m.rec s.rec
	assert_output "$(printf 'orphan-manifest\t'; mrec a "$(ts -3600)" 1 n1 1)"
}

@test "with -i, an entry registered after the report's start less the skew, or of unknown age, is counted, not a candidate" {
	{
		mrec a "$(ts 301)" 1 n1 1	# before the report, skew and all
		mrec b "$(ts 299)" 1 n1 2	# within the skew: left alone
		mrec c "$(ts -60)" 1 n1 3	# after the report began
		mrec d - 1 n1 4		# unknown: left alone
		mrec e "$OLD" 1 n1 5	# in the report
	} >m.rec
	{ srec e "$OLD" 1; srec f "$(ts 86700)" 1; srec g "$(ts 86699)" 1; } >s.rec
	run -1 arc-diff -i "$NOW" -S st.json m.rec s.rec
	# the report's start is now for the grace window too: f is 24h5m old
	assert_output "$(printf 'orphan-manifest\t'; mrec a "$(ts 301)" 1 n1 1
	    printf 'orphan-storage\t'; srec f "$(ts 86700)" 1)"
	run -0 jq -r '[.orphan_manifest_count, .skipped_after_inventory,
	    .skipped_grace] | @tsv' st.json
	assert_output "$(printf '1\t3\t1')"
	# the positive control: without -i every lost entry is a candidate
	run -1 arc-diff -t "$NOW" -S st.json m.rec s.rec
	run -0 jq -r '[.orphan_manifest_count, has("skipped_after_inventory")]
	    | @tsv' st.json
	assert_output "$(printf '4\tfalse')"
	run -2 --separate-stderr arc-diff -i "$NOW" -t "$NOW" m.rec s.rec
	assert_stderr "arc-diff: -i and -t exclude each other"
	run -2 --separate-stderr arc-diff -i yesterday m.rec s.rec
	assert_stderr "arc-diff: 'yesterday': invalid time"
}

@test "an old stored file with no manifest entry is an orphan-storage candidate" {
	mrec a >m.rec
	{ srec a "$OLD" 1; srec b "$OLD" 42; } >s.rec
	run -1 --separate-stderr arc-diff -t "$NOW" m.rec s.rec
	assert_output "$(printf 'orphan-storage\tb\t%s\t42' "$OLD")"
	assert_stderr ''
}

@test "a stored file a manifest path names with './', '//' or a trailing '/' is registered, no orphan-storage candidate" {
	# each spelling sorts elsewhere than the file: "c.parquet/" after
	# "c.parquet.bak.parquet", "./-d" after "-e"
	{
		mrec 'x/-e.parquet'
		mrec 'x/./-d.parquet'
		mrec 'x//b.parquet'
		mrec 'x/./a.parquet'
		mrec 'x/c.parquet.bak.parquet'
		mrec 'x/c.parquet/'
	} | LC_ALL=C sort >m.rec
	{
		srec 'x/-d.parquet' "$OLD" 1
		srec 'x/-e.parquet' "$OLD" 1
		srec 'x/a.parquet' "$OLD" 1
		srec 'x/b.parquet' "$OLD" 1
		srec 'x/c.parquet' "$OLD" 1
		srec 'x/c.parquet.bak.parquet' "$OLD" 1
		srec 'x/f.parquet' "$OLD" 1
	} >s.rec
	run -1 --separate-stderr arc-diff -s -t "$NOW" m.rec s.rec
	# the control: f, named by no spelling, is a candidate
	assert_output "$(printf 'orphan-storage\t'; srec 'x/f.parquet' "$OLD" 1)"
	# the same from standard input, a file or a pipe (read through a copy)
	run -1 --separate-stderr arc-diff -s -t "$NOW" - s.rec <m.rec
	assert_output "$(printf 'orphan-storage\t'; srec 'x/f.parquet' "$OLD" 1)"
	run -1 --separate-stderr arc-diff -s -t "$NOW" - s.rec < <(cat m.rec)
	assert_output "$(printf 'orphan-storage\t'; srec 'x/f.parquet' "$OLD" 1)"
}

# odd_world: in m.rec (sorted, its last line without its LF) a manifest
# record for every spelling of arc(7) PATH SPELLINGS and a few more
# (leading "./" and '/', a "." segment inside and at the end, '//', a
# trailing '/', quoted paths), each beside plain records; in plain.rec
# the plain records alone; in s.rec a stored file for each record and
# one no record names (x/zz.parquet).
odd_world() {
	local p
	{
		for p in x/a0 x/b0 x/c0 x/d0 x/e0 x/g0 x/h0 x/i0 x/j0 x/k0; do
			mrec "$p.parquet" "$OLD" 1 n 1
		done
	} >plain.rec
	{
		cat plain.rec
		mrec './x/a1.parquet'
		mrec '/x/b1.parquet'
		mrec 'x/./c1.parquet'
		mrec 'x//d1.parquet'
		mrec 'x/e1.parquet/'
		mrec 'x/g1.parquet/.'
		mrec 'x/./q\tq.parquet'	# quoted: a TAB in the name
		mrec 'x/\001//h1.parquet'	# quoted: the byte 0x01
		mrec 'x/\\/./i1.parquet'	# quoted: a backslash
		mrec 'x/j1/.//k1.parquet'
		mrec 'x/zy.parquet//'	# the last line, its LF taken off
	} | LC_ALL=C sort >m.lf
	printf '%s' "$(cat m.lf)" >m.rec
	[ "$(tail -n 1 m.rec | cut -f 1)" = 'x/zy.parquet//' ]
	[ -n "$(tail -c 1 m.rec)" ]	# no LF at the end
	{
		for p in x/a0 x/b0 x/c0 x/d0 x/e0 x/g0 x/h0 x/i0 x/j0 x/k0 \
		    x/a1 x/b1 x/c1 x/d1 x/e1 x/g1 'x/q\tq' 'x/\001/h1' \
		    'x/\\/i1' x/j1/k1 x/zy x/zz; do
			srec "$p.parquet" "$OLD" 1
		done
	} | LC_ALL=C sort >s.rec
}

@test "a manifest path spelled otherwise registers its file wherever the first pass's blocks split its line" {
	odd_world
	want=$(printf 'orphan-storage\t'; srec 'x/zz.parquet' "$OLD" 1)
	# the default block, then every block size from one byte to past
	# a line and a half, so that each line straddles a boundary
	run -1 --separate-stderr arc-diff -s -t "$NOW" m.rec s.rec
	assert_output "$want"
	# (one run each, not through bats's run: a hundred of these are slow)
	for b in $(seq 1 64) 4096; do
		got=$(ARC_DIFF_BLOCK=$b arc-diff -s -t "$NOW" m.rec s.rec 2>&1) &&
		    fail "block $b: exit 0, want 1"
		assert_equal "block $b: $got" "block $b: $want"
	done
	# from a pipe (read through a copy), in small blocks too
	for b in 1 7 64; do
		run -1 --separate-stderr env ARC_DIFF_BLOCK=$b \
		    arc-diff -s -t "$NOW" - s.rec < <(cat m.rec)
		assert_output "$want"
	done
	# the control: without the records spelled otherwise, each of their
	# files is a candidate, so the run above found every one
	run -1 --separate-stderr env ARC_DIFF_BLOCK=7 \
	    arc-diff -s -t "$NOW" plain.rec s.rec
	assert_equal "$(wc -l <<<"$output")" 12
	refute_line --partial 'x/a0.parquet'
	assert_line --partial 'x/j1/k1.parquet'
}

@test "an ARC_DIFF_BLOCK that is no byte count is refused with exit 2, naming it" {
	odd_world
	for b in 0 x 1073741825; do
		run -2 --separate-stderr env ARC_DIFF_BLOCK=$b \
		    arc-diff -t "$NOW" m.rec s.rec
		assert_output ''
		assert_stderr "arc-diff: '$b': invalid ARC_DIFF_BLOCK (1 to 1073741824)"
	done
	run -1 --separate-stderr env ARC_DIFF_BLOCK=1073741824 \
	    arc-diff -t "$NOW" m.rec s.rec
	assert_line --partial 'x/zz.parquet'
}

@test "candidates of both kinds come out interleaved in path order" {
	{ mrec a; mrec c; mrec e; mrec f; } >m.rec
	{ srec b "$OLD" 1; srec c "$OLD" 1; srec d "$OLD" 1; srec g "$OLD" 1; } >s.rec
	run -1 arc-diff -t "$NOW" m.rec s.rec
	assert_equal "$(cut -f1,2 <<<"$output")" "$(printf '%s\t%s\n' \
	    orphan-manifest a orphan-storage b orphan-storage d \
	    orphan-manifest e orphan-manifest f orphan-storage g)"
}

@test "a manifest entry matched by a file of another size or time is no candidate" {
	mrec a 2026-01-01T00:00:00Z 10 n 1 >m.rec
	srec a "$(ts 0)" 99 >s.rec
	run -0 arc-diff -t "$NOW" m.rec s.rec
	assert_output ''
}

# --- the grace window --------------------------------------------------------

@test "a file exactly grace+skew old (24h5m by default) is a candidate" {
	: >m.rec
	srec a "$(ts $((24*3600 + 5*60)))" 1 >s.rec
	run -1 arc-diff -t "$NOW" m.rec s.rec
	assert_output "$(printf 'orphan-storage\ta\t2026-04-10T13:55:00Z\t1')"
}

@test "a file one second younger than grace+skew is never a candidate" {
	: >m.rec
	srec a "$(ts $((24*3600 + 5*60 - 1)))" 1 >s.rec
	run -0 arc-diff -t "$NOW" -S st.json m.rec s.rec
	assert_output ''
	assert_equal "$(counts st.json)" '0 1 0 0 1'
}

@test "-g and -k set grace and skew with Go-style durations" {
	: >m.rec
	{
		srec a "$(ts $((90*60 + 90)))" 1
		srec b "$(ts $((90*60 + 89)))" 1
	} >s.rec
	run -1 arc-diff -t "$NOW" -g 1h30m -k 90s m.rec s.rec
	assert_output "$(printf 'orphan-storage\t'; srec a "$(ts $((90*60 + 90)))" 1)"
	run -1 arc-diff -t "$NOW" -g 1.5h -k 1m30s m.rec s.rec
	assert_output "$(printf 'orphan-storage\t'; srec a "$(ts $((90*60 + 90)))" 1)"
	run -1 arc-diff -t "$NOW" -g 5400s -k 89s m.rec s.rec
	assert_equal "${#lines[@]}" 2
}

@test "-k alone widens the default 24h grace" {
	: >m.rec
	srec a "$(ts $((24*3600 + 60)))" 1 >s.rec
	run -1 arc-diff -t "$NOW" -k 1m m.rec s.rec
	assert_output "$(printf 'orphan-storage\t'; srec a "$(ts $((24*3600 + 60)))" 1)"
	run -0 arc-diff -t "$NOW" -k 61s m.rec s.rec
	assert_output ''
}

@test "with zero grace and skew a file of this very second is a candidate" {
	: >m.rec
	srec a "$NOW" 1 >s.rec
	run -1 arc-diff -t "$NOW" -g 0 -k 0 m.rec s.rec
	assert_output "$(printf 'orphan-storage\t'; srec a "$NOW" 1)"
}

@test "a fractional grace is rounded up: the file must be a whole second older" {
	: >m.rec
	{ srec a "$(ts 2)" 1; srec b "$(ts 1)" 1; } >s.rec
	run -1 arc-diff -t "$NOW" -g 1500ms -k 0 m.rec s.rec
	assert_output "$(printf 'orphan-storage\t'; srec a "$(ts 2)" 1)"
}

@test "an unknown mtime is never a candidate and counts as skipped_grace" {
	: >m.rec
	srec a - 1 >s.rec
	run -0 arc-diff -t "$NOW" -g 0 -k 0 -S st.json m.rec s.rec
	assert_output ''
	assert_equal "$(counts st.json)" '0 1 0 0 1'
}

@test "a future mtime is never a candidate and counts as skipped_grace" {
	: >m.rec
	{ srec a "$(ts -1)" 1; srec b 2099-01-01T00:00:00Z 1; } >s.rec
	run -0 arc-diff -t "$NOW" -g 0 -k 0 -S st.json m.rec s.rec
	assert_output ''
	assert_equal "$(counts st.json)" '0 2 0 0 2'
}

@test "without -t the current time is used" {
	: >m.rec
	{
		srec old 2001-01-01T00:00:00Z 1
		srec young "$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)" 1
	} >s.rec
	run -1 arc-diff -S st.json m.rec s.rec
	assert_output "$(printf 'orphan-storage\told\t2001-01-01T00:00:00Z\t1')"
	assert_equal "$(counts st.json)" '0 2 0 1 1'
}

@test "-t accepts an RFC 3339 time with an offset and means the same instant" {
	: >m.rec
	srec a 2026-04-10T13:55:00Z 1 >s.rec
	run -1 arc-diff -t 2026-04-11T16:00:00+02:00 m.rec s.rec
	assert_output "$(printf 'orphan-storage\t'; srec a 2026-04-10T13:55:00Z 1)"
	run -0 arc-diff -t 2026-04-11T13:59:59-00:00 m.rec s.rec
	assert_output ''
}

@test "an invalid duration or time is an error, exit 2" {
	: >m.rec
	: >s.rec
	local v
	for v in '' x 24 1d -5m 1h-5m h 2562048h 9223372037s; do
		run -2 --separate-stderr arc-diff -g "$v" m.rec s.rec
		assert_output ''
		assert_stderr --partial "'$v'"
		run -2 --separate-stderr arc-diff -k "$v" m.rec s.rec
		assert_output ''
		assert_stderr --partial "'$v'"
	done
	for v in '' yesterday 2026-04-11 '2026-04-11 14:00:00Z' 2026-13-01T00:00:00Z; do
		run -2 --separate-stderr arc-diff -t "$v" m.rec s.rec
		assert_output ''
		assert_stderr --partial "'$v'"
	done
	run -2 --separate-stderr arc-diff -g 2562047h -k 2562047h m.rec s.rec
	assert_output ''
	assert_stderr
}

# --- -m and -s -----------------------------------------------------------------

@test "-m emits only orphan-manifest candidates" {
	{ mrec a; mrec c; } >m.rec
	{ srec b "$OLD" 1; srec c "$OLD" 1; } >s.rec
	run -1 arc-diff -t "$NOW" -m m.rec s.rec
	assert_output "$(printf 'orphan-manifest\t'; mrec a)"
}

@test "-s emits only orphan-storage candidates" {
	{ mrec a; mrec c; } >m.rec
	{ srec b "$OLD" 1; srec c "$OLD" 1; } >s.rec
	run -1 arc-diff -t "$NOW" -s m.rec s.rec
	assert_output "$(printf 'orphan-storage\t'; srec b "$OLD" 1)"
}

@test "with -m or -s, candidates only of the other kind exit 0" {
	mrec a >m.rec
	srec b "$OLD" 1 >s.rec
	: >none.rec
	run -0 arc-diff -t "$NOW" -m none.rec s.rec
	assert_output ''
	run -0 arc-diff -t "$NOW" -s m.rec none.rec
	assert_output ''
}

@test "-m and -s together are refused with exit 2" {
	: >m.rec
	: >s.rec
	run -2 --separate-stderr arc-diff -m -s m.rec s.rec
	assert_output ''
	assert_stderr
	run -2 arc-diff -ms m.rec s.rec
}

# --- -o local mode ---------------------------------------------------------------

@test "-o NODE: only entries whose origin is NODE can be orphan-manifest candidates" {
	{
		mrec a "$NOW" 1 node-1 1
		mrec b "$NOW" 1 node-2 2
		mrec c "$NOW" 1 node-10 3
		mrec d "$NOW" 1 Node-1 4
	} >m.rec
	: >s.rec
	run -1 arc-diff -t "$NOW" -o node-1 m.rec s.rec
	assert_output "$(printf 'orphan-manifest\t'; mrec a "$NOW" 1 node-1 1)"
}

@test "-o NODE: an entry with an unknown origin '-' is never a candidate" {
	{ mrec a "$NOW" 1 - 1; mrec b "$NOW" 1 node-1 2; } >m.rec
	: >s.rec
	run -1 arc-diff -t "$NOW" -o node-1 -S st.json m.rec s.rec
	assert_output "$(printf 'orphan-manifest\t'; mrec b "$NOW" 1 node-1 2)"
	assert_equal "$(counts st.json)" '2 0 1 0 0'
}

@test "-o NODE: a stored file matched by another node's entry is never an orphan-storage candidate" {
	{ mrec a "$NOW" 1 node-2 1; mrec b "$NOW" 1 - 2; } >m.rec
	{ srec a "$OLD" 1; srec b "$OLD" 1; srec c "$OLD" 1; } >s.rec
	run -1 arc-diff -t "$NOW" -o node-1 -S st.json m.rec s.rec
	assert_output "$(printf 'orphan-storage\t'; srec c "$OLD" 1)"
	assert_equal "$(counts st.json)" '2 3 0 1 0'
}

@test "-o NODE matches an origin with funny characters in its escaped form" {
	{ mrec a "$NOW" 1 'n\t1' 1; mrec b "$NOW" 1 'n 1' 2; } >m.rec
	: >s.rec
	run -1 arc-diff -t "$NOW" -o $'n\t1' m.rec s.rec
	assert_output "$(printf 'orphan-manifest\t'; mrec a "$NOW" 1 'n\t1' 1)"
}

@test "-o with an empty node id or '-' is refused with exit 2" {
	mrec a "$NOW" 1 - 1 >m.rec
	: >s.rec
	run -2 --separate-stderr arc-diff -o '' m.rec s.rec
	assert_output ''
	run -2 --separate-stderr arc-diff -o - m.rec s.rec
	assert_output ''
	assert_stderr --partial "'-'"
}

# --- -S counts ---------------------------------------------------------------------

@test "-S writes the counts as JSON" {
	{
		mrec a "$NOW" 1 n 1
		mrec b "$NOW" 1 n 2
		mrec c "$NOW" 1 n 3
	} >m.rec
	{
		srec b "$OLD" 1
		srec d "$OLD" 1
		srec e "$(ts 60)" 1
		srec f - 1
		srec g "$OLD" 1
	} >s.rec
	run -1 arc-diff -t "$NOW" -S st.json m.rec s.rec
	assert_equal "${#lines[@]}" 4
	run -0 jq -e 'keys == ["manifest_file_count", "orphan_manifest_count",
	    "orphan_storage_count", "skipped_grace", "storage_file_count"]' st.json
	assert_equal "$(counts st.json)" '3 5 2 2 2'
}

@test "-S with an uncreatable file is an error, exit 2" {
	: >m.rec
	: >s.rec
	run -2 --separate-stderr arc-diff -S nosuch/st.json m.rec s.rec
	assert_stderr --partial "'nosuch/st.json'"
}

# --- sorting and malformed input -------------------------------------------------

@test "an unsorted manifest operand is exit 2 naming it and the line" {
	{ mrec a; mrec c; mrec b; } >m.rec
	: >s.rec
	run -2 --separate-stderr arc-diff m.rec s.rec
	assert_stderr "arc-diff: 'm.rec': not sorted at line 3"
}

@test "an unsorted storage operand is exit 2 naming it and the line" {
	: >m.rec
	{ srec a "$OLD" 1; srec a0 "$OLD" 1; srec b "$OLD" 1; srec "a b" "$OLD" 1; } >s.rec
	run -2 --separate-stderr arc-diff m.rec s.rec
	assert_stderr "arc-diff: 's.rec': not sorted at line 4"
}

@test "order is byte order of the escaped path, not locale order" {
	{ mrec B; mrec a; mrec 'a\\b'; mrec $'\xc3\xa9'; } >m.rec
	: >s.rec
	run -1 --separate-stderr arc-diff m.rec s.rec
	assert_stderr ''
	{ mrec a; mrec B; } >m.rec
	run -2 --separate-stderr arc-diff m.rec s.rec
	assert_stderr "arc-diff: 'm.rec': not sorted at line 2"
	{ mrec 'a\tb'; mrec 'a b'; } >m.rec
	run -2 --separate-stderr arc-diff m.rec s.rec
	assert_stderr "arc-diff: 'm.rec': not sorted at line 2"
}

@test "a duplicate path is exit 2 naming the operand and line" {
	{ mrec a; mrec b; mrec b; } >m.rec
	: >s.rec
	run -2 --separate-stderr arc-diff m.rec s.rec
	assert_stderr "arc-diff: 'm.rec': duplicate path at line 3"
	: >m.rec
	{ srec a "$OLD" 1; srec a "$OLD" 2; } >s.rec
	run -2 --separate-stderr arc-diff m.rec s.rec
	assert_stderr "arc-diff: 's.rec': duplicate path at line 2"
}

@test "a duplicate path on stdin is named as '-'" {
	: >m.rec
	run -2 --separate-stderr arc-diff m.rec - < <(srec a - 1; srec a - 1)
	assert_stderr "arc-diff: '-': duplicate path at line 2"
}

@test "malformed manifest records are exit 2 naming the operand and line" {
	local bad
	: >s.rec
	for bad in $'c\t-\t-\t-' $'c\t-\t-\t-\t-\t-' $'c\tyesterday\t-\t-\t-' \
	    $'c\t2026-04-11T14:00:00.5Z\t-\t-\t-' $'c\t-\tten\t-\t-' \
	    $'c\t-\t-1\t-\t-' $'c\t-\t-\t\t-' $'c\t-\t-\t-\t' $'\t-\t-\t-\t-' \
	    $'c\\q\t-\t-\t-\t-' $'c\\011\t-\t-\t-\t-' $'c\\377\t-\t-\t-\t-' \
	    $'c\x01\t-\t-\t-\t-' $'c\\\t-\t-\t-\t-' 'c'; do
		{ mrec a; mrec b; printf '%s\n' "$bad"; } >m.rec
		run -2 --separate-stderr arc-diff m.rec s.rec
		assert_stderr --regexp "^arc-diff: 'm\.rec': .* at line 3$"
	done
}

@test "malformed storage records are exit 2 naming the operand and line" {
	local bad
	: >m.rec
	for bad in $'c\t-' $'c\t-\t1\t-' $'c\t2026-04-11\t1' $'c\t-\t1.5' \
	    $'c\t-\t' $'\t-\t1' $'c\\x\t-\t1' $'c\x7f\t-\t1' $'c\r\t-\t1' \
	    $'c\t-\t007' $'c\t-\t9223372036854775808'; do
		{ srec a - 1; printf '%s\n' "$bad"; } >s.rec
		run -2 --separate-stderr arc-diff m.rec s.rec
		assert_stderr --regexp "^arc-diff: 's\.rec': .* at line 2$"
	done
	{ srec a - 1; printf 'c\0d\t-\t1\n'; } >s.rec
	run -2 --separate-stderr arc-diff m.rec s.rec
	assert_stderr --regexp "^arc-diff: 's\.rec': .* at line 2$"
}

@test "a manifest record in the storage operand is malformed, and vice versa" {
	mrec a >m.rec
	srec a "$OLD" 1 >s.rec
	run -2 --separate-stderr arc-diff s.rec s.rec
	assert_stderr --regexp "^arc-diff: 's\.rec': .* at line 1$"
	run -2 --separate-stderr arc-diff m.rec m.rec
	assert_stderr --regexp "^arc-diff: 'm\.rec': .* at line 1$"
}

@test "a last record without its newline is still a record" {
	printf 'a\t-\t-\t-\t-' >m.rec
	printf 'b\t%s\t1' "$OLD" >s.rec
	run -1 arc-diff -t "$NOW" m.rec s.rec
	assert_output "$(printf 'orphan-manifest\t'; mrec a; printf 'orphan-storage\t'; srec b "$OLD" 1)"
}

# --- funny paths -------------------------------------------------------------------

@test "funny paths pass through with their escapes untouched" {
	local p
	for p in '-lead' 'back\\slash' 'cr\rx' 'ctl\001' 'del\177' 'new\nline' \
	    'q"uote' 'sp ace' 't\tab' $'\xc3\xa9' $'\xff'; do
		mrec "db/$p.parquet"
	done >m.rec
	: >s.rec
	run -1 --separate-stderr arc-diff m.rec s.rec
	assert_stderr ''
	assert_equal "$(cut -f2 <<<"$output")" "$(cut -f1 m.rec)"
	cut -f1 m.rec | sed 's/$/\t2001-01-01T00:00:00Z\t1/' >s.rec
	run -1 arc-diff /dev/null s.rec
	assert_equal "$(cut -f2 <<<"$output")" "$(cut -f1 m.rec)"
	run -0 arc-diff m.rec s.rec
	assert_output ''
}

@test "files with funny names match their manifest entries through arc-list and arc-manifest-dump" {
	local p
	for p in 'sp ace' $'t\tab' $'new\nline' 'q"uote' 'back\slash' -lead \
	    $'\xc3\xa9' $'ctl\x01' 'a b/x' a/x a0/x a-/x; do
		mkfile "s/db/$p.parquet" '2026-01-01 00:00:00'
		entry "db/$p.parquet"
	done | shuf >m.ndjson
	mkfile s/db/stray.parquet '2026-01-01 00:00:00'
	printf '{"path":"db/\xff.parquet"}\n' >>m.ndjson
	mkfile $'s/db/\xfe.parquet' '2026-01-01 00:00:00'
	arc-manifest-dump m.ndjson >m.rec
	arc-list s >s.rec
	run -1 --separate-stderr arc-diff -t "$NOW" m.rec s.rec
	assert_stderr ''
	assert_output "$(printf '%s\n' \
	    "$(printf 'orphan-storage\tdb/stray.parquet\t2026-01-01T00:00:00Z\t')$(stat -c %s s/db/stray.parquet)" \
	    "$(printf 'orphan-storage\tdb/\xfe.parquet\t2026-01-01T00:00:00Z\t')$(stat -c %s $'s/db/\xfe.parquet')" \
	    "$(printf 'orphan-manifest\tdb/\xff.parquet\t-\t-\t-\t-')")"
}

@test "the candidate output equals LC_ALL=C sort of itself" {
	local p
	for p in a 'a b' a- a0 'a\tb' 'a\\' B $'\xff' 'a/b' 'a"'; do
		mrec "m/$p"
	done | LC_ALL=C sort >m.rec
	for p in a 'a b' a- a0 'a\tb' 'a\\' B $'\xff' 'a/b' 'a"'; do
		srec "s/$p" "$OLD" 1
	done | LC_ALL=C sort >s.rec
	arc-diff -t "$NOW" m.rec s.rec >out || [ $? -eq 1 ]
	[ "$(wc -l <out)" -eq 20 ]
	cut -f2- out | LC_ALL=C sort | cmp - <(cut -f2- out)
}

# --- output errors -------------------------------------------------------------------

@test "a write error on standard output (>/dev/full) is an error, exit 2" {
	mrec a >m.rec
	: >s.rec
	run -2 --separate-stderr sh -c 'arc-diff m.rec s.rec >/dev/full'
	assert_stderr --partial 'write error'
}

@test "a write error on a long candidate list (>/dev/full) is an error, exit 2" {
	seq 1 5000 | awk '{ printf "db/m/%05d.parquet\t-\t-\t-\t-\n", $1 }' >m.rec
	: >s.rec
	run -2 --separate-stderr sh -c 'arc-diff m.rec s.rec >/dev/full'
	assert_stderr --partial 'write error'
}
