#!/usr/bin/env bats
# arc-manifest-dump MANIFEST: Arc manifest bodies, concatenated pages or
# NDJSON in; manifest records (path created_at size origin rev) out,
# sorted by path; all or nothing.
load test_helper
bats_require_minimum_version 1.5.0

T=2026-04-11T14:00:00Z

# rec PATH [ORIGIN] [LSN]: the record that `entry PATH ORIGIN LSN` becomes.
rec() {
	printf '%s\t%s\t10\t%s\t%s\n' "$1" "$T" "${2:-node-1}" "${3:-1}"
}

# body FILE: wrap the NDJSON entries in FILE into one Arc response body.
body() {
	jq -s '{files: ., total: length}' "$1"
}

# --- usage and operands --------------------------------------------------

@test "without a manifest operand it prints the usage line, its man page's SYNOPSIS, and exits 2" {
	run -2 --separate-stderr arc-manifest-dump
	assert_output ''
	assert_usage arc-manifest-dump
}

@test "--help prints the usage, its man page's SYNOPSIS, to standard output and exits 0; --version prints the one version" {
	assert_help arc-manifest-dump
	assert_version arc-manifest-dump
}

@test "with two manifest operands it prints the usage line and exits 2" {
	: >a.json
	: >b.json
	run -2 --separate-stderr arc-manifest-dump a.json b.json
	assert_output ''
	assert_stderr --partial 'usage: arc-manifest-dump '
}

@test "an unknown option prints the usage line and exits 2" {
	: >m.json
	run -2 --separate-stderr arc-manifest-dump -x m.json
	assert_output ''
	assert_stderr --partial 'usage: arc-manifest-dump '
}

@test "-n without its argument prints the usage line and exits 2" {
	: >m.json
	run -2 --separate-stderr arc-manifest-dump m.json -n
	assert_output ''
	assert_stderr --partial 'usage: arc-manifest-dump '
}

@test "a missing manifest file is an error naming it, exit 2" {
	run -2 --separate-stderr arc-manifest-dump nosuch.json
	assert_output ''
	assert_stderr "arc-manifest-dump: cannot open manifest 'nosuch.json': No such file or directory"
}

@test "a manifest that is a directory is an error, exit 2" {
	mkdir dir.json
	run -2 --separate-stderr arc-manifest-dump dir.json
	assert_output ''
	assert_stderr --partial "'dir.json'"
}

@test "an empty manifest gives no records and exits 0" {
	: >empty.json
	run -0 --separate-stderr arc-manifest-dump empty.json
	assert_output ''
	assert_stderr ''
	printf ' \n\r\n\t\n' >blank.json
	run -0 --separate-stderr arc-manifest-dump blank.json
	assert_output ''
	assert_stderr ''
}

@test "a manifest file whose name starts with '-' is read after --" {
	entry db/m/a.parquet >./-m.json
	run -0 arc-manifest-dump -- -m.json
	assert_output "$(rec db/m/a.parquet)"
}

@test "'-' reads the manifest from standard input" {
	{ entry b; entry a; } >m.json
	run -0 --separate-stderr arc-manifest-dump - <m.json
	assert_output "$(rec a; rec b)"
	assert_stderr ''
}

@test "a file:///abs URL reads the same manifest as the plain path" {
	{ entry b; entry a; } >m.json
	run -0 arc-manifest-dump "file://$PWD/m.json"
	assert_output "$(rec a; rec b)"
}

@test "a file URL whose path is not absolute is refused with exit 2" {
	entry a >m.json
	run -2 --separate-stderr arc-manifest-dump file://m.json
	assert_output ''
	assert_stderr --partial "'file://m.json'"
}

# --- the three source shapes ------------------------------------------------

@test "an Arc response body becomes one record per entry with every field mapped" {
	cat >m.json <<-'EOF'
	{"files":[
	  {"path":"db/cpu/2026/04/11/14/cpu_1.parquet","sha256":"ab12",
	   "size_bytes":12345,"database":"db","measurement":"cpu",
	   "partition_time":"2026-04-11T14:00:00Z","origin_node_id":"writer-2",
	   "tier":"hot","created_at":"2026-04-11T14:03:07Z","lsn":42}
	],"total":1}
	EOF
	run -0 --separate-stderr arc-manifest-dump m.json
	assert_output "$(printf '%s\t%s\t%s\t%s\t%s' \
	    db/cpu/2026/04/11/14/cpu_1.parquet 2026-04-11T14:03:07Z 12345 \
	    writer-2 42)"
	assert_stderr ''
}

@test "an NDJSON manifest gives one record per line" {
	{ entry db/m/1.parquet n1 5; entry db/m/2.parquet n2 6; } >m.ndjson
	run -0 arc-manifest-dump m.ndjson
	assert_output "$(rec db/m/1.parquet n1 5; rec db/m/2.parquet n2 6)"
}

@test "concatenated pages of a paged export are read as one manifest" {
	{ entry c; entry a; } | jq -sc '{files: ., total: 2, next_cursor: "c"}' >m.json
	{ entry d; entry b; } | jq -s '{files: ., total: 2, next_cursor: ""}' >>m.json
	run -0 arc-manifest-dump m.json
	assert_output "$(rec a; rec b; rec c; rec d)"
}

@test "pages may follow each other without any separator" {
	printf '%s%s' '{"files":[{"path":"b"}],"total":1}' \
	    '{"files":[{"path":"a"}],"total":1}' >m.json
	run -0 arc-manifest-dump m.json
	assert_output "$(printf 'a\t-\t-\t-\t-\nb\t-\t-\t-\t-')"
}

@test "a page with files:null contributes nothing" {
	{ entry a; } | jq -c '{files: [.], total: 1, next_cursor: "a"}' >m.json
	echo '{"files":null,"total":0,"next_cursor":""}' >>m.json
	run -0 arc-manifest-dump m.json
	assert_output "$(rec a)"
	echo '{"files":null,"total":0}' >only-null.json
	run -0 --separate-stderr arc-manifest-dump only-null.json
	assert_output ''
	assert_stderr ''
}

@test "null entries in files are skipped" {
	printf '{"files":[null,%s,null,%s],"total":4}\n' "$(entry b)" \
	    "$(entry a)" >m.json
	run -0 arc-manifest-dump m.json
	assert_output "$(rec a; rec b)"
}

@test "a page whose total disagrees with its entries is refused" {
	printf '{"files":[%s],"total":2}\n' "$(entry a)" >m.json
	run -2 --separate-stderr arc-manifest-dump m.json
	assert_output ''
	assert_stderr --partial "'m.json'"
	assert_stderr --partial 'line 1'
}

# --- order --------------------------------------------------------------------

@test "records come out sorted by path whatever the source order" {
	local p
	for p in db/m/2026/04/11/15/z.parquet 'db/m b/x.parquet' db/m/x.parquet \
	    db/m-x/y.parquet db/M/a.parquet db/m/2026/04/11/14/a.parquet; do
		entry "$p"
	done >m.ndjson
	run -0 arc-manifest-dump m.ndjson
	assert_output "$(rec db/M/a.parquet; rec 'db/m b/x.parquet'
	    rec db/m-x/y.parquet; rec db/m/2026/04/11/14/a.parquet
	    rec db/m/2026/04/11/15/z.parquet; rec db/m/x.parquet)"
	body m.ndjson >m.json
	run -0 arc-manifest-dump m.json
	assert_output "$(arc-manifest-dump m.ndjson)"
}

@test "the output equals LC_ALL=C sort of itself, funny paths included" {
	local p
	for p in 'a b' a a- a0 'a"' -a A $'a\tb' $'a\nb' $'a\x01' 'a\' \
	    $'a\xc3\xa9' a/b 'a b/c' $'a\x7f'; do
		entry "$p"
	done | shuf >m.ndjson
	arc-manifest-dump m.ndjson >out
	[ "$(wc -l <out)" -eq 15 ]
	LC_ALL=C sort out | cmp - out
}

@test "a small -S sort buffer still sorts a large manifest completely" {
	seq 1 5000 | shuf |
	    awk '{ printf "{\"path\":\"db/m/%05d.parquet\",\"lsn\":%d}\n", $1, $1 }' \
	    >m.ndjson
	run -0 --separate-stderr arc-manifest-dump -S 64K m.ndjson
	assert_stderr ''
	[ "${#lines[@]}" -eq 5000 ]
	assert_equal "$(cut -f1 <<<"$output")" \
	    "$(seq 1 5000 | awk '{ printf "db/m/%05d.parquet\n", $1 }')"
	assert_equal "$(cut -f5 <<<"$output" | head -3)" "$(printf '1\n2\n3')"
}

@test "an invalid -S size is an error, exit 2, with nothing on stdout" {
	entry a >small.ndjson
	run -2 --separate-stderr arc-manifest-dump -S bogus small.ndjson
	assert_output ''
	assert_stderr
}

@test "an invalid -S size on a manifest larger than a pipe buffer is still exit 2" {
	seq 1 5000 | awk '{ printf "{\"path\":\"db/m/%05d.parquet\"}\n", $1 }' \
	    >m.ndjson
	run --separate-stderr arc-manifest-dump -S bogus m.ndjson
	assert_output ''
	assert_equal "$status" 2
}

# --- duplicates ----------------------------------------------------------------

@test "a duplicate path fails with exit 2 naming both lines, nothing on stdout" {
	{ entry b; entry a; entry c; entry a n2 9; entry d; } >m.ndjson
	run -2 --separate-stderr arc-manifest-dump m.ndjson
	assert_output ''
	assert_stderr "arc-manifest-dump: 'm.ndjson': duplicate path 'a' at lines 2 and 4"
}

@test "a duplicate path across two pages names the lines of both entries" {
	printf '{"files":[\n%s,\n%s\n],"total":2}\n' "$(entry b)" "$(entry a)" >m.json
	printf '{"files":[\n%s,\n%s\n],"total":2}\n' "$(entry c)" "$(entry b)" >>m.json
	run -2 --separate-stderr arc-manifest-dump m.json
	assert_output ''
	assert_stderr "arc-manifest-dump: 'm.json': duplicate path 'b' at lines 2 and 7"
}

@test "a duplicate funny path is named in its escaped form" {
	{ entry $'t\tab'; entry x; entry $'t\tab'; } >m.ndjson
	run -2 --separate-stderr arc-manifest-dump m.ndjson
	assert_output ''
	assert_stderr --partial "duplicate path 't\\tab' at lines 1 and 3"
}

@test "paths differing only after a common prefix are not duplicates" {
	{ entry 'a b'; entry a; entry $'a\tb'; entry 'a/b'; } >m.ndjson
	run -0 arc-manifest-dump m.ndjson
	assert_output "$(rec a; rec 'a b'; rec 'a/b'; rec 'a\tb')"
}

# --- -n MAX --------------------------------------------------------------------

@test "-n MAX: more entries than MAX exits 3 with the exact message and no output" {
	{ entry c; entry a; entry b; } >m.ndjson
	run -3 --separate-stderr arc-manifest-dump -n 2 m.ndjson
	assert_output ''
	assert_stderr 'arc-manifest-dump: manifest has 3 entries, more than 2'
	run -3 --separate-stderr arc-manifest-dump -n 0 m.ndjson
	assert_output ''
	assert_stderr 'arc-manifest-dump: manifest has 3 entries, more than 0'
}

@test "-n MAX: exactly MAX entries is not too many" {
	{ entry c; entry a; entry b; } >m.ndjson
	run -0 arc-manifest-dump -n 3 m.ndjson
	assert_output "$(rec a; rec b; rec c)"
	: >empty.json
	run -0 arc-manifest-dump -n 0 empty.json
	assert_output ''
}

@test "-n MAX counts entries across pages and ignores null entries" {
	printf '{"files":[%s,null],"total":2}{"files":[%s],"total":1}\n' \
	    "$(entry a)" "$(entry b)" >m.json
	run -0 arc-manifest-dump -n 2 m.json
	assert_output "$(rec a; rec b)"
	run -3 --separate-stderr arc-manifest-dump -n 1 m.json
	assert_output ''
	assert_stderr 'arc-manifest-dump: manifest has 2 entries, more than 1'
}

@test "-n with a value that is not a count is an error, exit 2" {
	entry a >m.ndjson
	local v
	for v in x -1 '' 2x 1.5; do
		run -2 --separate-stderr arc-manifest-dump -n "$v" m.ndjson
		assert_output ''
		assert_stderr
	done
}

# --- invalid paths -------------------------------------------------------------

@test "an absolute path fails the whole dump with exit 2 naming the line" {
	{ entry a; entry /etc/passwd; entry b; } >m.ndjson
	run -2 --separate-stderr arc-manifest-dump m.ndjson
	assert_output ''
	assert_stderr --partial "'m.ndjson'"
	assert_stderr --partial 'absolute'
	assert_stderr --partial 'line 2'
}

@test "a path with a '..' segment fails the whole dump with exit 2" {
	local p
	for p in ../x.parquet db/../x.parquet db/m/.. 'db\..\x.parquet'; do
		{ entry a; entry z; entry "$p"; } >m.ndjson
		run -2 --separate-stderr arc-manifest-dump m.ndjson
		assert_output ''
		assert_stderr --partial "'..'"
		assert_stderr --partial 'line 3'
	done
}

@test "a path containing ':' fails the whole dump with exit 2" {
	local p
	for p in c:/x.parquet db/m:x.parquet s3://bucket/x.parquet; do
		{ entry "$p"; entry a; } >m.ndjson
		run -2 --separate-stderr arc-manifest-dump m.ndjson
		assert_output ''
		assert_stderr --partial "':'"
		assert_stderr --partial 'line 1'
	done
}

@test "empty, NUL-bearing, backslash-absolute and over-long paths fail with exit 2" {
	local long
	long=$(head -c 4097 /dev/zero | tr '\0' a)
	printf '%s\n' '{"path":""}' '{"path":"a\u0000b"}' '{"path":"\\abs"}' \
	    "{\"path\":\"$long\"}" >bad.ndjson
	local i
	for i in 1 2 3 4; do
		{ entry ok; sed -n "${i}p" bad.ndjson; } >m.ndjson
		run -2 --separate-stderr arc-manifest-dump m.ndjson
		assert_output ''
		assert_stderr --partial 'line 2'
	done
}

@test "a path of exactly 4096 bytes and a '..' inside a name are accepted" {
	local long
	long=$(head -c 4096 /dev/zero | tr '\0' a)
	{ entry "$long"; entry a..b/..c/c..; } >m.ndjson
	run -0 arc-manifest-dump m.ndjson
	assert_output "$(rec a..b/..c/c..; rec "$long")"
}

@test "an invalid path at the very end still leaves stdout empty" {
	seq 1 3000 | awk '{ printf "{\"path\":\"db/m/%05d.parquet\"}\n", $1 }' \
	    >m.ndjson
	echo '{"path":"/abs.parquet"}' >>m.ndjson
	run -2 --separate-stderr arc-manifest-dump m.ndjson
	assert_output ''
	assert_stderr --partial 'line 3001'
}

# --- malformed sources ---------------------------------------------------------

@test "the standalone answer {\"enabled\":false,...} is refused with its reason" {
	echo '{"enabled":false,"mode":"standalone","reason":"Clustering not enabled in configuration (cluster.enabled=false)"}' >m.json
	run -2 --separate-stderr arc-manifest-dump m.json
	assert_output ''
	assert_stderr --partial 'Clustering not enabled in configuration (cluster.enabled=false)'
	assert_stderr --partial "'m.json'"
}

@test "an error body from the source is refused with its message" {
	echo '{"success":false,"error":"Authentication required"}' >m.json
	run -2 --separate-stderr arc-manifest-dump m.json
	assert_output ''
	assert_stderr --partial 'Authentication required'
}

@test "truncated JSON fails with exit 2 and nothing on stdout" {
	{ entry a; entry b; } >full.ndjson
	head -c -10 full.ndjson >m.ndjson
	run -2 --separate-stderr arc-manifest-dump m.ndjson
	assert_output ''
	assert_stderr --partial 'line 2'
	body full.ndjson >full.json
	head -c 60 full.json >m.json
	run -2 --separate-stderr arc-manifest-dump m.json
	assert_output ''
	assert_stderr
	printf '{"files":[%s' "$(entry a)" >m.json
	run -2 --separate-stderr arc-manifest-dump m.json
	assert_output ''
	assert_stderr
}

@test "malformed JSON fails with exit 2 naming the line" {
	local bad
	for bad in '{"path":"c",}' '{"path":"c" "x":1}' '{path:"c"}' \
	    '["c"]' 'garbage' '{"files":[{"path":"c"},]}' \
	    '{"files":[{"path":"c"} {"path":"d"}]}' '{"files":[1]}' \
	    '{"files":{}}' '{"path":"c"}}'; do
		{ entry a; entry b; printf '%s\n' "$bad"; } >m.ndjson
		run -2 --separate-stderr arc-manifest-dump m.ndjson
		assert_output ''
		assert_stderr --partial 'line 3'
	done
}

@test "an entry without a path fails with exit 2" {
	{ entry a; echo '{"size_bytes":3,"lsn":1}'; } >m.ndjson
	run -2 --separate-stderr arc-manifest-dump m.ndjson
	assert_output ''
	assert_stderr --partial 'line 2'
	printf '{"files":[%s,{"size_bytes":3}],"total":2}\n' "$(entry a)" >m.json
	run -2 --separate-stderr arc-manifest-dump m.json
	assert_output ''
	assert_stderr --partial 'path'
}

@test "an entry that repeats a key is refused rather than silently collapsed" {
	echo '{"path":"a","path":"b"}' >m.ndjson
	run -2 --separate-stderr arc-manifest-dump m.ndjson
	assert_output ''
	echo '{"files":[{"path":"a","path":"b"}],"total":1}' >m.json
	run -2 --separate-stderr arc-manifest-dump m.json
	assert_output ''
}

@test "numbers given as strings are refused" {
	echo '{"path":"a","size_bytes":"10"}' >m.ndjson
	run -2 --separate-stderr arc-manifest-dump m.ndjson
	assert_output ''
	assert_stderr --partial size_bytes
	echo '{"path":"a","lsn":"7"}' >m.ndjson
	run -2 --separate-stderr arc-manifest-dump m.ndjson
	assert_output ''
	assert_stderr --partial lsn
	echo '{"files":[{"path":"a"}],"total":"1"}' >m.json
	run -2 --separate-stderr arc-manifest-dump m.json
	assert_output ''
	assert_stderr --partial total
}

@test "a negative or fractional size or lsn is refused" {
	local bad
	for bad in '"size_bytes":-1' '"size_bytes":1.5' '"lsn":-3' '"lsn":2.0'; do
		echo "{\"path\":\"a\",$bad}" >m.ndjson
		run -2 --separate-stderr arc-manifest-dump m.ndjson
		assert_output ''
		assert_stderr
	done
}

# --- field conversion ----------------------------------------------------------

@test "created_at is normalised to UTC with second precision" {
	local line
	{
		echo '{"path":"a","created_at":"2026-04-11T14:00:00Z"}'
		echo '{"path":"b","created_at":"2026-04-11T14:00:01.5Z"}'
		echo '{"path":"c","created_at":"2026-04-11T14:00:01.999999999Z"}'
		echo '{"path":"d","created_at":"2026-04-11T16:30:00+02:30"}'
		echo '{"path":"e","created_at":"2026-04-11T23:30:00-01:00"}'
		echo '{"path":"f","created_at":"2026-01-01T00:30:00.25+01:00"}'
		echo '{"path":"g","created_at":"0001-01-01T00:00:00Z"}'
		echo '{"path":"h","created_at":"2024-02-29T12:00:00Z"}'
	} >m.ndjson
	run -0 arc-manifest-dump m.ndjson
	assert_equal "$(cut -f1,2 <<<"$output")" "$(printf '%s\t%s\n' \
	    a 2026-04-11T14:00:00Z b 2026-04-11T14:00:01Z \
	    c 2026-04-11T14:00:01Z d 2026-04-11T14:00:00Z \
	    e 2026-04-12T00:30:00Z f 2025-12-31T23:30:00Z \
	    g 0001-01-01T00:00:00Z h 2024-02-29T12:00:00Z)"
}

@test "a created_at that is not RFC 3339 fails the dump with exit 2" {
	local bad
	for bad in '2026-04-11 14:00:00Z' '2026-04-11T14:00:00' \
	    '2026-04-11T14:00:00.1234567890Z' '2026-02-30T00:00:00Z' \
	    '2026-04-11T24:00:00Z' '2026-04-11T14:00:00+0200' 'yesterday' \
	    '2026-04-11T14:00:00z'; do
		{ entry a; echo "{\"path\":\"b\",\"created_at\":\"$bad\"}"; } >m.ndjson
		run -2 --separate-stderr arc-manifest-dump m.ndjson
		assert_output ''
		assert_stderr --partial created_at
		assert_stderr --partial 'line 2'
	done
	echo '{"path":"b","created_at":1712844000}' >m.ndjson
	run -2 --separate-stderr arc-manifest-dump m.ndjson
	assert_output ''
}

@test "missing or null fields are written as '-'" {
	{
		echo '{"path":"a"}'
		echo '{"path":"b","created_at":null,"size_bytes":null,"origin_node_id":null,"lsn":null}'
	} >m.ndjson
	run -0 arc-manifest-dump m.ndjson
	assert_output "$(printf 'a\t-\t-\t-\t-\nb\t-\t-\t-\t-')"
}

@test "an empty origin_node_id becomes '-' and any other origin is kept" {
	{
		echo '{"path":"a","origin_node_id":""}'
		entry b node-7 2
		entry c 'odd node' 3
		entry d $'t\tx' 4
	} >m.ndjson
	run -0 arc-manifest-dump m.ndjson
	assert_equal "$(cut -f1,4 <<<"$output")" "$(printf '%s\t%s\n' \
	    a - b node-7 c 'odd node' d 't\tx')"
}

@test "lsn becomes the rev field, as an unsigned 64-bit number" {
	# printf, not jq: jq 1.6 rounds integers past 2^53
	printf '{"path":"%s","lsn":%s}\n' a 0 b 7 c 9223372036854775808 \
	    d 18446744073709551615 >m.ndjson
	run -0 arc-manifest-dump m.ndjson
	assert_equal "$(cut -f1,5 <<<"$output")" "$(printf '%s\t%s\n' \
	    a 0 b 7 c 9223372036854775808 d 18446744073709551615)"
}

@test "an lsn past 64 bits or a size past int64 is refused, never clamped" {
	local bad
	for bad in '"lsn":18446744073709551616' '"lsn":99999999999999999999' \
	    '"size_bytes":9223372036854775808' '"size_bytes":18446744073709551615'; do
		{ entry a; echo "{\"path\":\"b\",$bad}"; } >m.ndjson
		run -2 --separate-stderr arc-manifest-dump m.ndjson
		assert_output ''
		assert_stderr --partial 'line 2'
	done
	printf '{"path":"b","size_bytes":9223372036854775807}\n' >m.ndjson
	run -0 arc-manifest-dump m.ndjson
	assert_output "$(printf 'b\t-\t9223372036854775807\t-\t-')"
}

@test "size_bytes becomes the size field" {
	printf '%s\n' '{"path":"a","size_bytes":0}' \
	    '{"path":"b","size_bytes":9007199254740993}' >m.ndjson
	run -0 arc-manifest-dump m.ndjson
	assert_equal "$(cut -f1,3 <<<"$output")" "$(printf '%s\t%s\n' \
	    a 0 b 9007199254740993)"
}

# --- funny paths ---------------------------------------------------------------

@test "funny paths are C-escaped (backslash, TAB, newline, CR, control, DEL) and otherwise raw" {
	local p
	for p in 'sp ace' $'t\tab' $'new\nline' $'cr\rx' 'q"uote' 'back\slash' \
	    -lead $'\xc3\xa9' $'ctl\x01' $'del\x7f' 'br}]{[ace'; do
		entry "db/$p.parquet"
	done >m.ndjson
	run -0 --separate-stderr arc-manifest-dump m.ndjson
	assert_stderr ''
	assert_equal "$(cut -f1 <<<"$output")" "$(printf '%s\n' \
	    'db/-lead.parquet' 'db/back\\slash.parquet' 'db/br}]{[ace.parquet' \
	    'db/cr\rx.parquet' 'db/ctl\001.parquet' 'db/del\177.parquet' \
	    'db/new\nline.parquet' 'db/q"uote.parquet' 'db/sp ace.parquet' \
	    'db/t\tab.parquet' $'db/\xc3\xa9.parquet')"
	[ "$(printf '%s\n' "$output" | awk -F '\t' 'NF != 5' | wc -l)" -eq 0 ]
}

@test "a non-UTF-8 byte in a path is written raw" {
	printf '{"path":"db/\xff\xfe.parquet","lsn":3}\n{"path":"db/a.parquet"}\n' >m.ndjson
	run -0 arc-manifest-dump m.ndjson
	assert_output "$(printf 'db/a.parquet\t-\t-\t-\t-\ndb/\xff\xfe.parquet\t-\t-\t-\t3')"
}

# --- output errors -------------------------------------------------------------

@test "a write error on standard output (>/dev/full) is an error, exit 2" {
	{ entry b; entry a; } >m.ndjson
	run -2 --separate-stderr sh -c 'arc-manifest-dump m.ndjson >/dev/full'
	assert_stderr --partial 'write error'
}

@test "a write error on a long dump (>/dev/full) is an error, exit 2" {
	seq 1 3000 | awk '{ printf "{\"path\":\"db/m/%05d.parquet\"}\n", $1 }' \
	    >m.ndjson
	run -2 --separate-stderr sh -c 'arc-manifest-dump m.ndjson >/dev/full'
	assert_stderr --partial 'write error'
}

# --- sorting more than one run in memory ----------------------------------------

# big: 6,000 shuffled entries over seven directories, every fifth path
# also with a longer path it is a prefix of; about 300 KB of records,
# many runs at ARC_SORT_RUN_BYTES=32K.
big() {
	seq 1 6000 | shuf | awk '{
	    printf "{\"path\":\"db/m%d/%05d.parquet\",\"size_bytes\":%d,\"lsn\":%d}\n", $1 % 7, $1, $1 * 3, $1
	    if ($1 % 5 == 0)
		printf "{\"path\":\"db/m%d/%05d.parquet.x\",\"lsn\":%d}\n", $1 % 7, $1, $1
	}' >m.ndjson
	mkdir -p tmp
}

@test "a manifest larger than one run in memory comes out as LC_ALL=C sort orders it, the same as sorted in memory" {
	big
	run -0 --separate-stderr env TMPDIR="$PWD/tmp" ARC_SORT_RUN_BYTES=32K \
	    arc-manifest-dump m.ndjson
	assert_stderr ''
	printf '%s\n' "$output" >runs
	arc-manifest-dump m.ndjson >whole
	cmp runs whole
	LC_ALL=C sort runs | cmp - runs
	[ "$(wc -l <runs)" -eq 7200 ]
	assert_equal "$(grep -c $'\t' runs)" 7200
	run -0 find tmp -mindepth 1
	assert_output ''
}

@test "a dump of thousands of runs merges them in stages, in memory that does not grow with them" {
	# an ASan build reserves far more than the limit for itself
	[ -z "${ARC_BIN:-}" ] || skip "memory limit under a sanitizer build"
	seq 1 200000 | shuf | awk '{
	    printf "{\"path\":\"db/m%d/%06d.parquet\",\"size_bytes\":%d,\"lsn\":%d}\n", $1 % 7, $1, $1 * 3, $1
	}' >m.ndjson
	mkdir -p tmp
	arc-manifest-dump m.ndjson >whole
	# about 3,000 runs of 4 KiB: a read buffer for each at once would
	# need over 90 MB; the stages stay within a few
	run -0 --separate-stderr sh -c 'ulimit -d 40000 &&
	    TMPDIR=$PWD/tmp ARC_SORT_RUN_BYTES=4096b exec arc-manifest-dump m.ndjson'
	assert_stderr ''
	printf '%s\n' "$output" >runs
	cmp runs whole
	LC_ALL=C sort runs | cmp - runs
	[ "$(wc -l <runs)" -eq 200000 ]
	run -0 find tmp -mindepth 1
	assert_output ''
}

@test "a dump that spills runs to TMPDIR leaves no temporary file after success, a duplicate path or malformed JSON" {
	big
	env TMPDIR="$PWD/tmp" ARC_SORT_RUN_BYTES=32K arc-manifest-dump m.ndjson >out
	[ "$(wc -l <out)" -eq 7200 ]
	run -0 find tmp -mindepth 1
	assert_output ''
	{ cat m.ndjson; head -n 1 m.ndjson; } >dup.ndjson
	run -2 --separate-stderr env TMPDIR="$PWD/tmp" ARC_SORT_RUN_BYTES=32K \
	    arc-manifest-dump dup.ndjson
	assert_output ''
	assert_stderr --partial "duplicate path '$(head -n 1 m.ndjson | jq -r .path)' at lines 1 and 7201"
	run -0 find tmp -mindepth 1
	assert_output ''
	{ cat m.ndjson; echo '{"path":'; } >bad.ndjson
	run -2 --separate-stderr env TMPDIR="$PWD/tmp" ARC_SORT_RUN_BYTES=32K \
	    arc-manifest-dump bad.ndjson
	assert_output ''
	assert_stderr --partial "'bad.ndjson': truncated JSON"
	run -0 find tmp -mindepth 1
	assert_output ''
}

@test "a dump killed after spilling runs leaves no temporary file: it holds them unlinked" {
	local pid i
	big
	mkfifo fifo
	env TMPDIR="$PWD/tmp" ARC_SORT_RUN_BYTES=32K arc-manifest-dump - \
	    <fifo >out 2>err 3>&- &
	pid=$!
	exec 5>fifo
	cat m.ndjson >&5
	for i in $(seq 1 100); do
		ls -l "/proc/$pid/fd" 2>/dev/null | grep -q "$PWD/tmp/arc-sort" &&
		    break
		sleep 0.1
	done
	ls -l "/proc/$pid/fd" | grep -q "$PWD/tmp/arc-sort.* (deleted)"
	run -0 find tmp -mindepth 1
	assert_output ''
	kill -9 "$pid"
	exec 5>&-
	wait "$pid" || true
	run -0 find tmp -mindepth 1
	assert_output ''
	[ ! -s out ]
}

@test "a TMPDIR that cannot hold a file fails a dump larger than one run with one line and exit 2; one that fits in memory never needs it" {
	big
	run -2 --separate-stderr env TMPDIR="$PWD/missing" \
	    ARC_SORT_RUN_BYTES=32K arc-manifest-dump m.ndjson
	assert_output ''
	assert_stderr "arc-manifest-dump: cannot create temporary file in '$PWD/missing': No such file or directory"
	# the same manifest in one run does not touch TMPDIR
	run -0 --separate-stderr env TMPDIR="$PWD/missing" arc-manifest-dump m.ndjson
	assert_stderr ''
	[ "${#lines[@]}" -eq 7200 ]
	# and with a TMPDIR that exists, the small runs succeed
	run -0 --separate-stderr env TMPDIR="$PWD/tmp" ARC_SORT_RUN_BYTES=32K \
	    arc-manifest-dump m.ndjson
	[ "${#lines[@]}" -eq 7200 ]
}

@test "a full TMPDIR (a write of a run refused) fails the dump with one line and exit 2, nothing on stdout" {
	big
	# a file size limit makes the run's write fail as a full disk would
	run -2 --separate-stderr bash -c 'trap "" XFSZ; ulimit -f 16
	    TMPDIR=$PWD/tmp ARC_SORT_RUN_BYTES=64K exec arc-manifest-dump m.ndjson'
	assert_output ''
	assert_stderr "arc-manifest-dump: cannot write temporary file in '$PWD/tmp': File too large"
	run -0 find tmp -mindepth 1
	assert_output ''
	# positive control: the same runs with room for them
	run -0 --separate-stderr bash -c 'trap "" XFSZ; ulimit -f 4096
	    TMPDIR=$PWD/tmp ARC_SORT_RUN_BYTES=64K exec arc-manifest-dump m.ndjson'
	assert_stderr ''
	[ "${#lines[@]}" -eq 7200 ]
}

@test "an invalid ARC_SORT_RUN_BYTES is an error, exit 2, with nothing on stdout" {
	entry a >small.ndjson
	run -2 --separate-stderr env ARC_SORT_RUN_BYTES=lots arc-manifest-dump small.ndjson
	assert_output ''
	assert_stderr "arc-manifest-dump: 'lots': invalid ARC_SORT_RUN_BYTES"
	run -0 env ARC_SORT_RUN_BYTES=1M arc-manifest-dump small.ndjson
	assert_output "$(rec a)"
}
