#!/usr/bin/env bats
# json-valid.bats - every JSON document the C tools write is valid for a
# strict parser (UTF-8 bytes, no encoded surrogates), whatever bytes the
# paths hold, and each path decodes from its JSON spelling (arc(7),
# "Paths in JSON") to exactly its bytes: the audit lines, the stats files
# of -S, the archive's run.json and manifest-entries.ndjson, and the
# deferred list.  tests/jsoncheck.py parses and decodes.
load test_helper
load servers
bats_require_minimum_version 1.5.0

D=db/m/2026/04/11/12	# a managed directory: its files have 7 segments

# NAMES: not UTF-8 (0xff 0xfe), an encoded lone surrogate (U+D800), an
# overlong '/', a stray continuation byte, a control byte, and valid
# UTF-8 (é, U+10FFFF), TAB, quote and backslash; plain is ASCII (the
# positive control: written verbatim).
NAMES=($'\xff\xfe' $'\xed\xa0\x80' $'\xc0\xaf' $'x\x80y' $'c\x01' \
    $'\xc3\xa9' $'\xf4\x8f\xbf\xbf' $'t\tq"b\\' plain)

check() {
	/usr/bin/python3 "$ARC_ROOT/tests/jsoncheck.py" "$@"
}

# want PREFIX: the hex of D/PREFIX-NAME.parquet for every name, sorted.
want() {
	local n a=()
	for n in "${NAMES[@]}"; do
		a+=("$D/$1-$n.parquet")
	done
	check hex "${a[@]}" | LC_ALL=C sort
}

# plant STORE MANIFEST: for every name an orphan file (orph-NAME) in
# STORE and an orphan entry (lost-NAME) in MANIFEST, plus files and
# entries that agree (keep-1..40, so the driver's breaker stays calm).
plant() {
	local n i
	for n in "${NAMES[@]}"; do
		mkfile "$1/$D/orph-$n.parquet"
		jentry "$D/lost-$n.parquet" >>"$2"
	done
	for i in $(seq 1 40); do
		mkfile "$1/$D/keep-$i.parquet"
		jentry "$D/keep-$i.parquet" >>"$2"
	done
}

setup() {
	mkdir s
	: >m.ndjson
}

teardown() {
	stop_test_pids
}

@test "the checker rejects bytes that are not UTF-8 and an encoded surrogate, and accepts plain JSON (control)" {
	printf '{"a":"\xff"}\n' >bad1
	printf '{"a":"\xed\xa0\x80"}\n' >bad2
	printf '{"a":"\xc3\xa9 \xf4\x8f\xbf\xbf"}\n' >good
	run ! check lines bad1
	run ! check lines bad2
	run -0 check lines good
}

@test "every stage run by hand with -S writes strict JSON stats, and arc-delete's audit lines and archive members decode to the exact path bytes" {
	plant s m.ndjson
	arc-manifest-dump m.ndjson >m.rec
	arc-list s >s.rec
	run -1 sh -c 'arc-diff -S diff.json m.rec s.rec >cand'
	run -0 sh -c 'arc-recheck -S rc.json -R rej s m.ndjson <cand >ok'
	run -0 --separate-stderr arc-delete --act -A a.tgz -a audit -r run-1 \
	    -S d.json s m.ndjson <ok
	# the three stats files: strict, one line, the keys and types as ever
	for f in diff.json rc.json d.json; do
		check doc "$f"
		[ "$(wc -l <"$f")" -eq 1 ]
	done
	assert_equal "$(jq -c '[.orphan_manifest_count, .orphan_storage_count]' diff.json)" '[9,9]'
	assert_equal "$(jq -c '[.checked, .confirmed]' rc.json)" '[18,18]'
	assert_equal "$(jq -c '[.manifest_deletes, .storage_deletes, .cap_hit]' d.json)" '[9,9,false]'
	grep -q '"cap_hit":false' d.json	# the driver's sed still finds it
	# audit: strict lines, samples decode to the bytes of every path
	check lines audit
	assert_equal "$(check samples audit reconcile.manifest_batch_deleted | LC_ALL=C sort)" "$(want lost)"
	assert_equal "$(check samples audit reconcile.storage_batch_deleted | LC_ALL=C sort)" "$(want orph)"
	# positive control: an ASCII path appears verbatim
	grep -qF "$D/orph-plain.parquet" audit
	# the archive's JSON members
	tar -xzOf a.tgz run.json >run.json
	check doc run.json
	assert_equal "$(jq -r .run_id run.json)" run-1
	tar -xzOf a.tgz manifest-entries.ndjson >entries
	check lines entries
	assert_equal "$(check entries entries | LC_ALL=C sort)" "$(want lost)"
	grep -qF "\"path\":\"$D/lost-plain.parquet\"" entries
}

@test "--restore puts archived entries back byte for byte, whatever their path bytes" {
	plant s m.ndjson
	cp m.ndjson m.orig
	arc-manifest-dump m.ndjson >m.rec
	arc-list s >s.rec
	arc-diff m.rec s.rec | grep '^orphan-manifest' >cand || true
	run -0 arc-delete --act -A a.tgz s m.ndjson <cand
	[ "$(wc -l <m.ndjson)" -eq 40 ]
	run -0 --separate-stderr arc-delete --restore a.tgz s m.ndjson
	# every path back, as the same bytes (jq cannot: it rewrites bytes)
	cut -d'"' -f4 m.orig | LC_ALL=C sort >want.paths
	cut -d'"' -f4 m.ndjson | LC_ALL=C sort >got.paths
	cmp want.paths got.paths
}

@test "the driver's act run (--grace 1h, --now) leaves strict audit lines of the C tools, and an archive whose JSON decodes to the path bytes" {
	plant s m.ndjson
	run --separate-stderr arc-reconcile --state-dir st --act --grace 1h \
	    --max-orphan-ratio 1 \
	    --now "$(date -u +%Y-%m-%dT%H:%M:%SZ)" s m.ndjson
	[ "$status" -le 1 ] || { echo "$stderr"; false; }
	[ ! -e "s/$D/orph-plain.parquet" ]
	[ -e "s/$D/keep-1.parquet" ]
	# the driver's own lines are its own; the tools' batch events here
	grep -a '_batch_deleted"' st/audit.log >tool-lines
	[ "$(wc -l <tool-lines)" -ge 2 ]
	check lines tool-lines
	assert_equal "$(check samples tool-lines reconcile.manifest_batch_deleted | LC_ALL=C sort)" "$(want lost)"
	assert_equal "$(check samples tool-lines reconcile.storage_batch_deleted | LC_ALL=C sort)" "$(want orph)"
	local arch
	arch=$(find st/archives -name '*.tar.gz')
	[ -n "$arch" ]
	tar -xzOf "$arch" phase1/run.json >r1.json
	tar -xzOf "$arch" phase2/run.json >r2.json
	check doc r1.json
	check doc r2.json
	tar -xzOf "$arch" phase1/manifest-entries.ndjson >entries
	check lines entries
	assert_equal "$(check entries entries | LC_ALL=C sort)" "$(want lost)"
	# the driver's run record and status are its own: shown, not asserted
	for f in st/runs/*.json; do
		check doc "$f" || echo "note: the driver's $f is not strict JSON"
	done
}

@test "the deferred list for Arc's read-only manifest is strict JSON, its payloads too, and decodes to the path bytes" {
	start_arcapi
	KILL_PIDS=$(cat "$BATS_FILE_TMPDIR/arcapi.pid")
	local n
	for n in "${NAMES[@]}"; do
		printf 'orphan-manifest\t%s\t2026-04-11T14:00:00Z\t10\tnode-1\t1\n' \
		    "$D/lost-$n.parquet"
	done | LC_ALL=C sort >cand
	# the candidate records quote the control byte and the TAB
	sed -i 's/c\x01/c\\001/; s/t\tq"b\\/t\\tq"b\\\\/' cand
	run --separate-stderr arc-delete --act -A a.tgz -b 4 \
	    --deferred def.ndjson s "arc+http://127.0.0.1:$ARCAPI_PORT" <cand
	[ "$status" -eq 1 ] || { echo "$stderr"; false; }
	[ "$(grep -c '^deferred' <<<"$output")" -eq 9 ]
	check lines def.ndjson
	[ "$(wc -l <def.ndjson)" -eq 3 ]	# whole lines, one a batch
	assert_equal "$(check deferred def.ndjson | LC_ALL=C sort)" "$(want lost)"
	stop_arcapi
	KILL_PIDS=
}
