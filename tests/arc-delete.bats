#!/usr/bin/env bats
# arc-delete STORE MANIFEST: repair confirmed candidates, orphan-manifest
# first, within caps, after writing the archive; dry-run unless --act.
# One "result TAB kind TAB path TAB code" line per processed candidate.
load test_helper
bats_require_minimum_version 1.5.0

USAGE='usage: arc-delete [--act] [--archive-files] [--delete-pre-manifest-orphans]'

OLD='2026-04-01 00:00:00'
OLDREC=2026-04-01T00:00:00Z

D=db/m/2026/04/11/12	# a managed directory: files below it have 7 segments

# ocand PATH [REV]: an orphan-manifest candidate for the entry that
# `entry PATH node-1 REV` writes (PATH as quoted).
ocand() {
	printf 'orphan-manifest\t%s\t2026-04-11T14:00:00Z\t10\tnode-1\t%s\n' \
	    "$1" "${2:-1}"
}

# scand PATH [MTIME [SIZE]]: an orphan-storage candidate record.
scand() {
	printf 'orphan-storage\t%s\t%s\t%s\n' "$1" "${2:-$OLDREC}" "${3:--}"
}

# tree: every file below s with its content, and the manifest, as text.
tree() {
	(cd s && find . -type f -o -type l | LC_ALL=C sort | while IFS= read -r f; do
		printf '%s %s\n' "$f" "$(stat -c '%s %Y' "$f")"
	done)
	cat m.ndjson
}

# events [NAME]: the audit lines (of event NAME) as compact JSON.
events() {
	if [ $# -eq 0 ]; then
		jq -c . audit
	else
		jq -c --arg e "$1" 'select(.event == $e)' audit
	fi
}

# stat_json KEY: one value from the -S file st.json.
stat_json() {
	jq -r ".$1" st.json
}

# member NAME [ARCHIVE]: the content of one archive member.
member() {
	tar -xzOf "${2:-a.tgz}" "$1"
}

# plant: a store and manifest with two orphan-manifest entries (a, c),
# two orphan-storage files (b, d), and a file and entry that agree
# (keep); c.rec holds the four candidates interleaved, as arc-diff
# writes them.
plant() {
	mkfile "s/$D/b.parquet" "$OLD"
	mkfile "s/$D/d.parquet" "$OLD"
	mkfile "s/$D/keep.parquet" "$OLD"
	{
		entry "$D/a.parquet"
		entry "$D/c.parquet"
		entry "$D/keep.parquet"
	} >m.ndjson
	{
		ocand "$D/a.parquet"
		scand "$D/b.parquet"
		ocand "$D/c.parquet"
		scand "$D/d.parquet"
	} >c.rec
}

# paths_in_manifest: the manifest's paths, sorted.
paths_in_manifest() {
	jq -r .path m.ndjson | LC_ALL=C sort
}

setup() {
	mkdir s
	: >m.ndjson
}

teardown() {
	remove_world
}

# --- usage and operands --------------------------------------------------

@test "without operands it prints the usage and exits 2" {
	run -2 --separate-stderr arc-delete </dev/null
	assert_output ''
	assert_equal "${stderr_lines[0]}" "$USAGE"
}

@test "--help prints the usage, its man page's SYNOPSIS, to standard output and exits 0; --version prints the one version" {
	assert_help arc-delete
	assert_version arc-delete
}

@test "with one or three operands it prints the usage and exits 2" {
	run -2 --separate-stderr arc-delete s </dev/null
	assert_output ''
	assert_stderr --partial 'usage: arc-delete'
	run -2 --separate-stderr arc-delete s m.ndjson m.ndjson </dev/null
	assert_output ''
	assert_stderr --partial 'usage: arc-delete'
}

@test "an unknown option or an option missing its argument prints the usage and exits 2" {
	plant
	run -2 --separate-stderr arc-delete --bogus s m.ndjson <c.rec
	assert_output ''
	assert_stderr --partial 'usage: arc-delete'
	local o
	for o in -A -a -b -I -n -P -r -S -s --restore; do
		run -2 --separate-stderr arc-delete s m.ndjson "$o" <c.rec
		assert_output ''
		assert_stderr --partial 'usage: arc-delete'
	done
}

@test "invalid -b, -n, -s and -I values are refused with exit 2 and nothing is deleted" {
	plant
	local before
	before=$(tree)
	local args
	while IFS= read -r args; do
		# shellcheck disable=SC2086
		run -2 --separate-stderr arc-delete --act -A a.tgz $args s m.ndjson <c.rec
		assert_output ''
		[ -n "$stderr" ]
	done <<-'EOF'
	-b 0
	-b x
	-b -1
	-n -1
	-n lots
	-s -1
	-s x
	-I noequals
	-I =file
	EOF
	assert_equal "$(tree)" "$before"
	[ ! -e a.tgz ]
}

@test "a manifest operand '-' is refused with exit 2" {
	plant
	run -2 --separate-stderr arc-delete s - <c.rec
	assert_output ''
	assert_stderr --partial "cannot be '-'"
}

@test "a missing store is an error naming it, exit 2" {
	plant
	run -2 --separate-stderr arc-delete --act -A a.tgz nosuch m.ndjson <c.rec
	assert_output ''
	assert_stderr --partial "'nosuch'"
	assert_equal "$(paths_in_manifest | wc -l)" 3
}

@test "--act without -A is refused with exit 2 and nothing is deleted" {
	plant
	local before
	before=$(tree)
	run -2 --separate-stderr arc-delete --act s m.ndjson <c.rec
	assert_output ''
	assert_stderr --partial 'archive'
	assert_equal "$(tree)" "$before"
}

# --- dry-run and act -------------------------------------------------------

@test "dry-run (the default) changes nothing and prints would-delete lines" {
	plant
	local before
	before=$(tree)
	run -0 --separate-stderr arc-delete s m.ndjson <c.rec
	assert_output "$(res would-delete manifest "$D/a.parquet"
	    res would-delete manifest "$D/c.parquet"
	    res would-delete storage "$D/b.parquet"
	    res would-delete storage "$D/d.parquet")"
	assert_equal "$(tree)" "$before"
}

@test "--act removes the manifest entries and the files, and nothing else" {
	plant
	run -0 --separate-stderr arc-delete --act -A a.tgz s m.ndjson <c.rec
	assert_output "$(res deleted manifest "$D/a.parquet"
	    res deleted manifest "$D/c.parquet"
	    res deleted storage "$D/b.parquet"
	    res deleted storage "$D/d.parquet")"
	assert_equal "$(paths_in_manifest)" "$D/keep.parquet"
	assert_equal "$(cd s && find . -type f)" "./$D/keep.parquet"
}

@test "orphan-manifest lines all come before orphan-storage lines, each kind in path order" {
	mkdir -p "s/$D"
	local p
	for p in a c e g; do
		entry "$D/$p.parquet"
		mkfile "s/$D/$p$p.parquet" "$OLD"
	done >m.ndjson
	{
		scand "$D/aa.parquet"
		ocand "$D/a.parquet"
		ocand "$D/c.parquet"
		scand "$D/cc.parquet"
		scand "$D/ee.parquet"
		ocand "$D/e.parquet"
		ocand "$D/g.parquet"
		scand "$D/gg.parquet"
	} >c.rec
	run -0 --separate-stderr arc-delete --act -A a.tgz -b 3 s m.ndjson <c.rec
	assert_output "$(for p in a c e g; do res deleted manifest "$D/$p.parquet"; done
	    for p in a c e g; do res deleted storage "$D/$p$p.parquet"; done)"
}

@test "empty input does nothing, exits 0, and still writes the archive" {
	plant
	local before
	before=$(tree)
	run -0 --separate-stderr arc-delete --act -A a.tgz -a audit s m.ndjson </dev/null
	assert_output ''
	assert_equal "$(tree)" "$before"
	assert_equal "$(member run.json | jq -c .counts.input)" 0
	[ ! -s audit ]
}

# --- malformed input: nothing is deleted ---------------------------------------

@test "unsorted input exits 2 and deletes nothing, not even the sorted part" {
	plant
	ocand "$D/0.parquet" >>c.rec	# orphan-manifest paths now descend
	local before
	before=$(tree)
	run -2 --separate-stderr arc-delete --act -A a.tgz s m.ndjson <c.rec
	assert_output ''
	assert_stderr --partial 'not sorted at line 5'
	assert_equal "$(tree)" "$before"
	[ ! -e a.tgz ]
}

@test "a duplicate path exits 2 and deletes nothing" {
	plant
	scand "$D/d.parquet" >>c.rec
	local before
	before=$(tree)
	run -2 --separate-stderr arc-delete --act -A a.tgz s m.ndjson <c.rec
	assert_output ''
	assert_stderr --partial 'duplicate path at line 5'
	assert_equal "$(tree)" "$before"
}

@test "a malformed record exits 2 naming the line and deletes nothing" {
	plant
	local before bad
	before=$(tree)
	for bad in 'orphan-storage\tdb/z\t-' 'orphan-manifest\tdb/z\t-\t-\t-' \
	    'orphan-x\tdb/z\t-\t-' 'orphan-storage\tdb/z\\q\t-\t-' \
	    'present\torphan-storage\tdb/z\t-\t-'; do
		{ cat c.rec; printf '%b\n' "$bad"; } >bad.rec
		run -2 --separate-stderr arc-delete --act -A a.tgz s m.ndjson <bad.rec
		assert_output ''
		assert_stderr --partial 'at line 5'
	done
	assert_equal "$(tree)" "$before"
}

# --- caps ------------------------------------------------------------------

# five: five old orphan-storage files f1..f5 and their candidates.
five() {
	local i
	for i in 1 2 3 4 5; do
		mkfile "s/$D/f$i.parquet" "$OLD"
		scand "$D/f$i.parquet"
	done >c.rec
}

@test "-n caps the deletes: the smallest paths go first, the rest is untouched, exit 1" {
	five
	run -1 --separate-stderr arc-delete --act -A a.tgz -n 3 -S st.json s m.ndjson <c.rec
	assert_output "$(res deleted storage "$D/f1.parquet"
	    res deleted storage "$D/f2.parquet"
	    res deleted storage "$D/f3.parquet")"
	assert_equal "$(cd "s/$D" && ls)" "$(printf 'f4.parquet\nf5.parquet')"
	assert_equal "$(stat_json cap_hit)" true
	assert_equal "$(stat_json left_over_by_cap)" 2
	assert_equal "$(stat_json storage_deletes)" 3
}

@test "the cap is deterministic: two dry-runs and an act run choose the same paths" {
	five
	run -1 arc-delete -n 2 s m.ndjson <c.rec
	local first=$output
	run -1 arc-delete -n 2 s m.ndjson <c.rec
	assert_output "$first"
	run -1 arc-delete --act -A a.tgz -n 2 s m.ndjson <c.rec
	first=${first//would-delete/deleted}
	first=${first//ORPHAN_MANIFEST/DELETED}
	assert_output "${first//ORPHAN_STORAGE/DELETED}"
}

@test "the cap counts manifest and storage deletes together, manifest first" {
	plant
	run -1 --separate-stderr arc-delete --act -A a.tgz -n 3 -S st.json s m.ndjson <c.rec
	assert_output "$(res deleted manifest "$D/a.parquet"
	    res deleted manifest "$D/c.parquet"
	    res deleted storage "$D/b.parquet")"
	[ -e "s/$D/d.parquet" ]
	assert_equal "$(stat_json cap_hit)" true
}

@test "a cap reached by the manifest deletes leaves every file in place" {
	plant
	run -1 --separate-stderr arc-delete --act -A a.tgz -n 2 s m.ndjson <c.rec
	assert_output "$(res deleted manifest "$D/a.parquet"
	    res deleted manifest "$D/c.parquet")"
	[ -e "s/$D/b.parquet" ]
	[ -e "s/$D/d.parquet" ]
}

@test "the cap bounds would-delete lines in dry-run too" {
	five
	run -1 --separate-stderr arc-delete -n 2 -S st.json s m.ndjson <c.rec
	assert_output "$(res would-delete storage "$D/f1.parquet"
	    res would-delete storage "$D/f2.parquet")"
	assert_equal "$(stat_json cap_hit)" true
	assert_equal "$(stat_json would_delete_storage)" 2
}

@test "deletes that exactly reach the cap are no cap_hit: exit 0" {
	five
	run -0 --separate-stderr arc-delete --act -A a.tgz -a audit -n 5 -S st.json s m.ndjson <c.rec
	assert_equal "${#lines[@]}" 5
	assert_equal "$(stat_json cap_hit)" false
	assert_equal "$(events reconcile.cap_hit)" ''
}

@test "-n 0 deletes nothing and reports the cap" {
	five
	local before
	before=$(tree)
	run -1 --separate-stderr arc-delete --act -A a.tgz -n 0 -S st.json s m.ndjson <c.rec
	assert_output ''
	assert_equal "$(tree)" "$before"
	assert_equal "$(stat_json cap_hit)" true
	assert_equal "$(stat_json left_over_by_cap)" 5
}

@test "hitting the cap writes a reconcile.cap_hit audit event with deletes_so_far" {
	five
	run -1 arc-delete --act -A a.tgz -a audit -r run-7 -n 3 s m.ndjson <c.rec
	run -0 events reconcile.cap_hit
	assert_equal "${#lines[@]}" 1
	jq -e '.timestamp | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T")' <<<"$output"
	assert_equal "$(jq -r '[.run_id, .detail.run_id, .detail.deletes_so_far] | join(" ")' <<<"$output")" \
	    "run-7 run-7 3"
}

@test "refusals are still reported after the cap is reached" {
	five
	mkfile s/db/m/2026/04/11/x_daily.parquet "$OLD"
	scand db/m/2026/04/11/x_daily.parquet >>c.rec
	run -1 --separate-stderr arc-delete --act -A a.tgz -n 1 s m.ndjson <c.rec
	assert_equal "$(LC_ALL=C sort <<<"$output")" "$(res deleted storage "$D/f1.parquet"
	    res refused storage db/m/2026/04/11/x_daily.parquet)"
	[ -e s/db/m/2026/04/11/x_daily.parquet ]
}

@test "a cap hit in the manifest phase is audited before that batch, as Arc does (deletes_so_far excludes it)" {
	plant
	run -1 arc-delete --act -A a.tgz -a audit -n 1 s m.ndjson <c.rec
	assert_equal "$(events reconcile.cap_hit | jq -r .detail.deletes_so_far)" 0
	assert_equal "$(jq -r .event audit | grep -E 'cap_hit|manifest_batch' | tr '\n' ' ')" \
	    "reconcile.cap_hit reconcile.manifest_batch_deleted "
	[ -e "s/$D/b.parquet" ]
}

# --- batches and audit ----------------------------------------------------------

# batches: five orphan-manifest entries m1..m5 and three old files s1..s3.
batches() {
	local i
	for i in 1 2 3 4 5; do
		entry "$D/m$i.parquet"
	done >m.ndjson
	for i in 1 2 3; do
		mkfile "s/$D/s$i.parquet" "$OLD"
	done
	{
		for i in 1 2 3 4 5; do ocand "$D/m$i.parquet"; done
		for i in 1 2 3; do scand "$D/s$i.parquet"; done
	} | LC_ALL=C sort -t "$(printf '\t')" -k2,2 >c.rec
}

@test "-b sets the batch size: one audit event per batch, with the batch's count" {
	batches
	run -0 arc-delete --act -A a.tgz -a audit -b 2 s m.ndjson <c.rec
	assert_equal "$(events reconcile.manifest_batch_deleted | jq -r .detail.count | paste -sd' ')" "2 2 1"
	assert_equal "$(events reconcile.storage_batch_deleted | jq -r .detail.count | paste -sd' ')" "2 1"
}

@test "the audit events come in order: every manifest batch before the first storage batch" {
	batches
	run -0 arc-delete --act -A a.tgz -a audit -b 1 s m.ndjson <c.rec
	assert_equal "$(jq -r .event audit | uniq -c | awk '{print $1, $2}')" \
	    "$(printf '5 reconcile.manifest_batch_deleted\n3 reconcile.storage_batch_deleted')"
}

@test "the default batch is large: eight candidates make one event per kind" {
	batches
	run -0 arc-delete --act -A a.tgz -a audit s m.ndjson <c.rec
	assert_equal "$(jq -r .event audit)" \
	    "$(printf 'reconcile.manifest_batch_deleted\nreconcile.storage_batch_deleted')"
}

@test "audit events carry a timestamp, the -r run id, the count and a sample of the batch's paths" {
	batches
	run -0 arc-delete --act -A a.tgz -a audit -r 'run 42' s m.ndjson <c.rec
	run -0 events reconcile.manifest_batch_deleted
	assert_equal "${#lines[@]}" 1
	jq -e '.timestamp | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}")' <<<"$output"
	jq -e '.timestamp | sub("\\.[0-9]+"; "") | fromdateiso8601 | (now - .) | fabs < 600' <<<"$output"
	assert_equal "$(jq -r '.run_id' <<<"$output")" 'run 42'
	assert_equal "$(jq -r '.detail.run_id' <<<"$output")" 'run 42'
	assert_equal "$(jq -r '.detail.count' <<<"$output")" 5
	assert_equal "$(jq -r '.detail.sample' <<<"$output")" \
	    "$(for i in 1 2 3 4 5; do echo "$D/m$i.parquet"; done)"
	run -0 events reconcile.storage_batch_deleted
	assert_equal "$(jq -r '.detail.sample' <<<"$output")" \
	    "$(for i in 1 2 3; do echo "$D/s$i.parquet"; done)"
}

@test "in act mode the batch events have no detail.mode" {
	batches
	run -0 arc-delete --act -A a.tgz -a audit s m.ndjson <c.rec
	assert_equal "$(jq -c '.detail | has("mode")' audit | sort -u)" false
}

@test "in dry-run the batch events have detail.mode dry_run and count would-be deletes" {
	batches
	run -0 arc-delete -a audit -b 4 s m.ndjson <c.rec
	assert_equal "$(jq -r '.detail.mode' audit | sort -u)" dry_run
	assert_equal "$(jq -r '[.event, .detail.count] | join(" ")' audit)" \
	    "$(printf '%s\n' 'reconcile.manifest_batch_deleted 4' \
	    'reconcile.manifest_batch_deleted 1' 'reconcile.storage_batch_deleted 3')"
}

@test "the sample holds at most -s paths (10 by default), the first ones of the batch" {
	local i
	mkdir -p "s/$D"
	for i in $(seq -w 1 12); do
		mkfile "s/$D/f$i.parquet" "$OLD"
		scand "$D/f$i.parquet"
	done >c.rec
	run -0 arc-delete -a audit s m.ndjson <c.rec
	assert_equal "$(jq -r .detail.sample audit)" \
	    "$(for i in $(seq -w 1 10); do echo "$D/f$i.parquet"; done)"
	assert_equal "$(jq -r .detail.count audit)" 12
	rm audit
	run -0 arc-delete -a audit -s 3 s m.ndjson <c.rec
	assert_equal "$(jq -r .detail.sample audit)" \
	    "$(for i in 01 02 03; do echo "$D/f$i.parquet"; done)"
	rm audit
	run -0 arc-delete -a audit -s 0 s m.ndjson <c.rec
	assert_equal "$(jq -r .detail.sample audit)" ''
}

@test "the audit log is appended to, never truncated" {
	plant
	echo '{"event":"earlier"}' >audit
	run -0 arc-delete -a audit s m.ndjson <c.rec
	assert_equal "$(head -1 audit)" '{"event":"earlier"}'
	assert_equal "$(wc -l <audit)" 3
}

@test "without -r a run id is made up, the same in every event and in run.json" {
	batches
	run -0 arc-delete -A a.tgz -a audit -b 2 s m.ndjson <c.rec
	local ids
	ids=$(jq -r '.run_id, .detail.run_id' audit | sort -u)
	assert_equal "$(wc -l <<<"$ids")" 1
	[[ $ids =~ ^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$ ]]
	assert_equal "$(member run.json | jq -r .run_id)" "$ids"
}

@test "an audit log that cannot be opened is exit 2 before anything is deleted" {
	plant
	local before
	before=$(tree)
	run -2 --separate-stderr arc-delete --act -A a.tgz -a nodir/audit s m.ndjson <c.rec
	assert_output ''
	assert_stderr --partial "'nodir/audit'"
	assert_equal "$(tree)" "$before"
}

# --- the archive --------------------------------------------------------------

@test "the archive is a .tar.gz holding candidates.tsv, run.json and manifest-entries.ndjson" {
	plant
	run -0 arc-delete --act -A a.tgz s m.ndjson <c.rec
	assert_equal "$(tar -tzf a.tgz | LC_ALL=C sort)" \
	    "$(printf 'candidates.tsv\nmanifest-entries.ndjson\nrun.json')"
}

@test "candidates.tsv in the archive is byte-identical to the input" {
	plant
	run -0 arc-delete --act -A a.tgz s m.ndjson <c.rec
	member candidates.tsv | cmp - c.rec
}

@test "run.json holds the run id, dry_run and the counts" {
	plant
	ocand "$D/e.parquet" >>c.rec
	run -0 arc-delete --act -A a.tgz -r R-1 s m.ndjson <c.rec
	member run.json >rj.json
	assert_equal "$(jq -r .run_id rj.json)" R-1
	assert_equal "$(jq -r .dry_run rj.json)" false
	assert_equal "$(jq -c '.counts | [.input, .orphan_manifest, .orphan_storage]' rj.json)" \
	    '[5,3,2]'
	run -0 arc-delete -A b.tgz -r R-2 s m.ndjson <c.rec
	assert_equal "$(member run.json b.tgz | jq -c '[.run_id, .dry_run]')" '["R-2",true]'
}

@test "manifest-entries.ndjson holds the full original entries of the removed paths" {
	mkdir -p "s/$D"
	{
		printf '%s\n' '{"tier":"cold","path":"db\/m\/2026\/04\/11\/12\/a.parquet","sha256":"ab12","size_bytes":77,"database":"db","measurement":"m","partition_time":"2026-04-11T12:00:00Z","origin_node_id":"n\u00e9","created_at":"2026-04-11T12:00:01.5Z","lsn":18446744073709551615}'
		entry "$D/b.parquet"
		entry "$D/keep.parquet"
	} >m.ndjson
	{ ocand "$D/a.parquet" 18446744073709551615; ocand "$D/b.parquet"; } >c.rec
	jq -cS 'select(.path != "'"$D/keep.parquet"'")' m.ndjson >expect
	run -0 arc-delete --act -A a.tgz s m.ndjson <c.rec
	member manifest-entries.ndjson >got
	jq -cS . got | cmp - expect
	grep -q '"lsn":18446744073709551615' got	# jq would round it
}

@test "the archive is written in dry-run too" {
	plant
	local before
	before=$(tree)
	run -0 arc-delete -A a.tgz s m.ndjson <c.rec
	assert_equal "$(tree)" "$before"
	member candidates.tsv | cmp - c.rec
	assert_equal "$(member run.json | jq -r .dry_run)" true
	assert_equal "$(member manifest-entries.ndjson | jq -r .path)" \
	    "$(printf '%s\n' "$D/a.parquet" "$D/c.parquet")"
}

@test "the archive is readable by its owner only (mode 0600)" {
	plant
	run -0 arc-delete -A a.tgz s m.ndjson <c.rec
	assert_equal "$(stat -c %a a.tgz)" 600
}

@test "an archive that cannot be written (missing directory) is exit 2 and nothing is deleted" {
	plant
	local before
	before=$(tree)
	run -2 --separate-stderr arc-delete --act -A nodir/a.tgz -a audit s m.ndjson <c.rec
	assert_output ''
	assert_stderr --partial 'nodir/a.tgz'
	assert_equal "$(tree)" "$before"
	[ ! -s audit ]
}

@test "an archive that cannot be written (/proc) is exit 2 and nothing is deleted" {
	plant
	local before
	before=$(tree)
	run -2 --separate-stderr arc-delete --act -A /proc/arc-delete-test.tgz s m.ndjson <c.rec
	assert_output ''
	assert_equal "$(tree)" "$before"
}

@test "an archive in an unwritable directory is exit 2 and nothing is deleted" {
	need_unpriv
	WORLD=$(mktemp -d /tmp/arc-delete-bats.XXXXXX)
	chmod 755 "$WORLD"
	plant
	cp -a s m.ndjson c.rec "$WORLD/"
	mkdir "$WORLD/ro"
	chown -R nobody "$WORLD/s" "$WORLD/m.ndjson" 2>/dev/null || true
	chmod -R a+rwX "$WORLD/s"
	chmod a+rw "$WORLD/m.ndjson"
	chmod 777 "$WORLD"
	chmod 555 "$WORLD/ro"
	run -2 --separate-stderr unpriv sh -c \
	    'cd "$1" && arc-delete --act -A ro/a.tgz s m.ndjson <c.rec' sh "$WORLD"
	assert_output ''
	assert_stderr --partial "'ro/a.tgz'"
	[ -e "$WORLD/s/$D/b.parquet" ]
	assert_equal "$(jq -r .path "$WORLD/m.ndjson" | wc -l)" 3
}

@test "an -I file that cannot be read is exit 2 and nothing is deleted" {
	plant
	local before
	before=$(tree)
	run -2 --separate-stderr arc-delete --act -A a.tgz -I notes=nosuch s m.ndjson <c.rec
	assert_output ''
	assert_stderr --partial "'nosuch'"
	assert_equal "$(tree)" "$before"
	[ ! -e a.tgz ]
}

@test "-P prefixes every member name" {
	plant
	run -0 arc-delete --act --archive-files -A a.tgz -P 'run-1/' s m.ndjson <c.rec
	assert_equal "$(tar -tzf a.tgz | LC_ALL=C sort)" "$(printf '%s\n' \
	    run-1/candidates.tsv run-1/manifest-entries.ndjson \
	    "run-1/quarantine/$D/b.parquet" "run-1/quarantine/$D/d.parquet" \
	    run-1/run.json)"
}

@test "-I name=file adds that file as a member" {
	plant
	printf 'confirmed list\n' >notes.txt
	run -0 arc-delete -A a.tgz -I extra/notes.txt=notes.txt -I second=c.rec s m.ndjson <c.rec
	member extra/notes.txt | cmp - notes.txt
	member second | cmp - c.rec
}

@test "an archive written again by the same run keeps its earlier members" {
	plant
	run -0 arc-delete -A a.tgz -r run-1 -P one/ -I keep.me=c.rec s m.ndjson <c.rec
	run -0 arc-delete --act -A a.tgz -r run-1 -P two/ s m.ndjson <c.rec
	assert_equal "$(tar -tzf a.tgz | LC_ALL=C sort)" "$(printf '%s\n' \
	    keep.me one/candidates.tsv one/manifest-entries.ndjson one/run.json \
	    two/candidates.tsv two/manifest-entries.ndjson two/run.json)"
	member keep.me | cmp - c.rec
	assert_equal "$(member one/run.json | jq -r .dry_run)" true
	assert_equal "$(member two/run.json | jq -r .dry_run)" false
}

@test "--archive-files stores each deleted file's content under quarantine/" {
	plant
	cp "s/$D/b.parquet" b.orig
	cp "s/$D/d.parquet" d.orig
	run -0 arc-delete --act --archive-files -A a.tgz s m.ndjson <c.rec
	[ ! -e "s/$D/b.parquet" ]
	member "quarantine/$D/b.parquet" | cmp - b.orig
	member "quarantine/$D/d.parquet" | cmp - d.orig
	# with the file's mtime
	assert_equal "$(tar -tvzf a.tgz "quarantine/$D/b.parquet" | awk '{print $4, $5}')" \
	    '2026-04-01 00:00'
}

@test "without --archive-files no file content is archived" {
	plant
	run -0 arc-delete --act -A a.tgz s m.ndjson <c.rec
	run -1 grep -c quarantine <(tar -tzf a.tgz)
}

@test "--restore puts the quarantined files, with their mtime, and the manifest entries back" {
	plant
	local before
	before=$(tree)
	jq -cS . m.ndjson | LC_ALL=C sort >entries.before
	run -0 arc-delete --act --archive-files -A a.tgz s m.ndjson <c.rec
	assert_equal "$(paths_in_manifest)" "$D/keep.parquet"
	run -0 --separate-stderr arc-delete --restore a.tgz s m.ndjson
	assert_output "$(res restored storage "$D/b.parquet"; res restored storage "$D/d.parquet")"
	jq -cS . m.ndjson | LC_ALL=C sort | cmp - entries.before
	# the files are back byte for byte with their mtime
	assert_equal "$(tree | grep -v '^{')" "$(grep -v '^{' <<<"$before")"
}

@test "--restore never replaces an existing file, nor duplicates an entry" {
	plant
	run -0 arc-delete --act --archive-files -A a.tgz s m.ndjson <c.rec
	printf 'new content\n' >"s/$D/b.parquet"
	entry "$D/a.parquet" node-9 5 >>m.ndjson
	run -1 --separate-stderr arc-delete --restore a.tgz s m.ndjson
	assert_output "$(res failed storage "$D/b.parquet" RESTORE_FAILED; res restored storage "$D/d.parquet")"
	assert_equal "$(cat "s/$D/b.parquet")" 'new content'
	assert_equal "$(jq -r 'select(.path == "'"$D/a.parquet"'") | .lsn' m.ndjson)" 5
	assert_equal "$(paths_in_manifest)" "$(printf '%s\n' "$D/a.parquet" \
	    "$D/c.parquet" "$D/keep.parquet")"
}

@test "--restore of a missing archive is exit 2" {
	run -2 --separate-stderr arc-delete --restore nosuch.tgz s m.ndjson
	assert_stderr --partial 'nosuch.tgz'
}

# --- refusals ------------------------------------------------------------------

@test "orphan-storage paths with fewer than 7 segments are refused and kept, exit 1" {
	mkfile "s/db/m/2026/04/11/m_20260411_daily.parquet" "$OLD"
	mkfile "s/db/m/x.parquet" "$OLD"
	mkfile "s/$D/ok.parquet" "$OLD"
	{
		scand "$D/ok.parquet"
		scand db/m/2026/04/11/m_20260411_daily.parquet
		scand db/m/x.parquet
	} >c.rec
	run -1 --separate-stderr arc-delete --act -A a.tgz -S st.json s m.ndjson <c.rec
	assert_equal "$(LC_ALL=C sort <<<"$output")" "$(res deleted storage "$D/ok.parquet"
	    res refused storage db/m/2026/04/11/m_20260411_daily.parquet
	    res refused storage db/m/x.parquet)"
	assert_stderr --partial '7 segments'
	[ -e s/db/m/2026/04/11/m_20260411_daily.parquet ]
	[ -e s/db/m/x.parquet ]
	assert_equal "$(stat_json refused)" 2
}

@test "dry-run reports the same refusals" {
	mkfile "s/db/m/2026/04/11/m_20260411_daily.parquet" "$OLD"
	scand db/m/2026/04/11/m_20260411_daily.parquet >c.rec
	run -1 --separate-stderr arc-delete s m.ndjson <c.rec
	assert_output "$(res refused storage db/m/2026/04/11/m_20260411_daily.parquet)"
}

@test "--delete-pre-manifest-orphans deletes paths with fewer than 7 segments" {
	mkfile "s/db/m/2026/04/11/m_20260411_daily.parquet" "$OLD"
	mkfile "s/top.parquet" "$OLD"
	{ scand db/m/2026/04/11/m_20260411_daily.parquet; scand top.parquet; } >c.rec
	run -0 --separate-stderr arc-delete --act --delete-pre-manifest-orphans -A a.tgz s m.ndjson <c.rec
	assert_output "$(res deleted storage db/m/2026/04/11/m_20260411_daily.parquet
	    res deleted storage top.parquet)"
	[ ! -e s/top.parquet ]
}

@test "unsafe orphan-storage paths are refused even with --delete-pre-manifest-orphans; the files outside survive" {
	mkfile victim.parquet "$OLD"
	mkfile "s/$D/v.parquet" "$OLD"
	local p
	for p in "$PWD/victim.parquet" ../victim.parquet \
	    "$D/../../../../../../../victim.parquet" "db//m/2026/04/11/12/v.parquet" \
	    "$D/./v.parquet" "$D/v.parquet/"; do
		scand "$p"
	done | LC_ALL=C sort >c.rec
	run -1 --separate-stderr arc-delete --act --delete-pre-manifest-orphans -A a.tgz s m.ndjson <c.rec
	assert_equal "$(cut -f1 <<<"$output" | sort -u)" refused
	assert_equal "${#lines[@]}" 6
	[ -e victim.parquet ]
	[ -e "s/$D/v.parquet" ]
}

@test "unsafe orphan-manifest paths are refused and their entries kept" {
	mkdir -p "s/$D"
	local p
	for p in "/abs/$D/a.parquet" "db/../$D/a.parquet" "db//m/a.parquet" "db/./a.parquet"; do
		jentry "$p"
	done >m.ndjson
	cp m.ndjson m.before
	for p in "/abs/$D/a.parquet" "db/../$D/a.parquet" "db//m/a.parquet" "db/./a.parquet"; do
		ocand "$p"
	done | LC_ALL=C sort >c.rec
	run -1 --separate-stderr arc-delete --act -A a.tgz s m.ndjson <c.rec
	assert_equal "$(cut -f1,2 <<<"$output" | sort -u)" "$(printf 'refused\torphan-manifest')"
	assert_equal "${#lines[@]}" 4
	cmp m.ndjson m.before
}

@test "a symlinked file is never followed: the link fails, its target outside survives" {
	mkfile outside/victim.parquet "$OLD"
	mkfile "s/$D/a.parquet" "$OLD"
	mkfile "s/$D/c.parquet" "$OLD"
	ln -s "$PWD/outside/victim.parquet" "s/$D/b.parquet"
	{ scand "$D/a.parquet"; scand "$D/b.parquet"; scand "$D/c.parquet"; } >c.rec
	run -1 --separate-stderr arc-delete --act -A a.tgz s m.ndjson <c.rec
	assert_output "$(res deleted storage "$D/a.parquet"
	    res failed storage "$D/b.parquet"
	    res deleted storage "$D/c.parquet")"
	[ -e outside/victim.parquet ]
	[ -L "s/$D/b.parquet" ]
}

@test "a symlinked directory component is never followed: the file outside survives" {
	mkfile "outside/dir/victim.parquet" "$OLD"
	mkdir -p s/db/m/2026/04/11
	ln -s "$PWD/outside/dir" "s/$D"
	mkfile "s/db/m/2026/04/11/13/ok.parquet" "$OLD"
	{ scand "$D/victim.parquet"; scand db/m/2026/04/11/13/ok.parquet; } >c.rec
	run -1 --separate-stderr arc-delete --act -A a.tgz s m.ndjson <c.rec
	assert_output "$(res failed storage "$D/victim.parquet"
	    res deleted storage db/m/2026/04/11/13/ok.parquet)"
	[ -e outside/dir/victim.parquet ]
}

@test "with --archive-files a symlinked file's target is never read into the archive nor deleted" {
	printf 'secret\n' >outside.parquet
	mkdir -p "s/$D"
	ln -s "$PWD/outside.parquet" "s/$D/b.parquet"
	scand "$D/b.parquet" >c.rec
	run arc-delete --act --archive-files -A a.tgz s m.ndjson <c.rec
	[ "$status" -ne 0 ]
	[ -e outside.parquet ]
	[ -L "s/$D/b.parquet" ]
	if [ -e a.tgz ]; then
		run -1 grep -c secret <(tar -xzOf a.tgz)
	fi
}

# --- the manifest rewrite ---------------------------------------------------------

@test "the rewrite keeps every other entry, equal as JSON, unknown fields included" {
	mkdir -p "s/$D"
	{
		printf '%s\n' '{"tier":"cold","path":"db\/m\/2026\/04\/11\/12\/k1.parquet","sha256":"ab12","size_bytes":77,"database":"db","measurement":"m","partition_time":"2026-04-11T12:00:00Z","origin_node_id":"n\u00e9","created_at":"2026-04-11T12:00:01.5Z","lsn":18446744073709551615}'
		entry "$D/a.parquet"
		printf '%s\n' '{"path":"db/m/2026/04/11/12/k2.parquet","created_at":"2026-04-11T14:00:00+02:00","lsn":3,"extra":{"nested":[1,2.5,null,true,"x\"y"]}}'
		entry "$D/c.parquet"
		jentry "$D/k3 "$'\t\xff'".parquet"
	} >m.ndjson
	jq -cS 'select(.path | test("/[ac]\\.parquet$") | not)' m.ndjson >expect
	{ ocand "$D/a.parquet"; ocand "$D/c.parquet"; } >c.rec
	run -0 arc-delete --act -A a.tgz s m.ndjson <c.rec
	jq -cS . m.ndjson | cmp - expect
	grep -q '"lsn":18446744073709551615' m.ndjson
	grep -qF "$(printf 'k3 \\t\xff.parquet')" m.ndjson
}

@test "the rewrite keeps the manifest's file mode" {
	plant
	chmod 640 m.ndjson
	run -0 arc-delete --act -A a.tgz s m.ndjson <c.rec
	assert_equal "$(stat -c %a m.ndjson)" 640
}

@test "the rewrite leaves MANIFEST.lock in place, the same file, and no temporary file" {
	plant
	mkdir man
	mv m.ndjson man/
	: >man/m.ndjson.lock
	local ino
	ino=$(stat -c %i man/m.ndjson.lock)
	run -0 arc-delete --act -A a.tgz s man/m.ndjson <c.rec
	assert_equal "$(stat -c %i man/m.ndjson.lock)" "$ino"
	assert_equal "$(ls -A man)" "$(printf 'm.ndjson\nm.ndjson.lock')"
}

@test "a missing MANIFEST.lock is created and left in place" {
	plant
	run -0 arc-delete --act -A a.tgz s m.ndjson <c.rec
	[ -f m.ndjson.lock ]
}

@test "the rewrite is atomic: a reader holding the old manifest still reads it whole" {
	plant
	cp m.ndjson m.before
	exec 7<m.ndjson
	run -0 arc-delete --act -A a.tgz s m.ndjson <c.rec
	cat <&7 >seen
	exec 7<&-
	cmp seen m.before
	assert_equal "$(paths_in_manifest)" "$D/keep.parquet"
}

@test "the rewrite waits for a writer holding MANIFEST.lock, and keeps what it appended" {
	plant
	: >m.ndjson.lock
	# the writer opens the manifest under the lock and appends 2s later:
	# a rewrite that did not wait would replace the file in between
	flock m.ndjson.lock sh -c "exec 4>>m.ndjson; sleep 2
	    printf '%s\n' '$(entry "$D/late.parquet")' >&4" 3>&- &
	local pid=$!
	sleep 0.5
	run -0 arc-delete --act -A a.tgz s m.ndjson <c.rec
	wait "$pid"
	assert_equal "$(paths_in_manifest)" "$(printf '%s\n' "$D/keep.parquet" "$D/late.parquet")"
}

@test "a manifest that is an Arc response body is rewritten keeping the other entries" {
	plant
	jq -s '{files: ., total: length}' m.ndjson >m.json
	run -0 arc-delete --act -A a.tgz s m.json <c.rec
	assert_equal "$(jq -r '.files[]?.path // .path' m.json)" "$D/keep.parquet"
}

@test "an entry whose rev (lsn) changed since the dump is kept and reported 'changed'" {
	plant
	{ entry "$D/a.parquet" node-1 2; entry "$D/c.parquet"; entry "$D/keep.parquet"; } >m.ndjson
	run -1 --separate-stderr arc-delete --act -A a.tgz -S st.json s m.ndjson <c.rec
	assert_equal "${lines[0]}" "$(res changed manifest "$D/a.parquet")"
	assert_equal "${lines[1]}" "$(res deleted manifest "$D/c.parquet")"
	assert_equal "$(jq -r 'select(.path == "'"$D/a.parquet"'") | .lsn' m.ndjson)" 2
	assert_equal "$(stat_json changed)" 1
}

# nolsn PATH [JQ]: the entry `entry PATH` writes without its lsn (then
# changed by the jq filter JQ), as a writer without LSNs registers it.
nolsn() {
	entry "$1" | jq -c "del(.lsn) | ${2:-.}"
}

@test "a candidate without a rev removes only the entry it saw: one that has an lsn now, another created_at or another size is kept and 'changed'; the same entry is removed" {
	{
		entry "$D/a.parquet" node-1 99
		nolsn "$D/c.parquet" '.size_bytes = 11'
		nolsn "$D/e.parquet" '.created_at = "2026-04-11T15:00:00Z"'
		nolsn "$D/g.parquet"
		entry "$D/keep.parquet"
	} >m.ndjson
	for p in a c e g; do ocand "$D/$p.parquet" -; done >c.rec
	run -1 --separate-stderr arc-delete --act -A a.tgz -S st.json s m.ndjson <c.rec
	assert_output "$(res changed manifest "$D/a.parquet"
	    res changed manifest "$D/c.parquet"
	    res changed manifest "$D/e.parquet"
	    res deleted manifest "$D/g.parquet")"
	assert_equal "$(paths_in_manifest)" "$(printf '%s\n' "$D/a.parquet" "$D/c.parquet" "$D/e.parquet" "$D/keep.parquet")"
	assert_equal "$(stat_json changed) $(stat_json verified_deletes)" "3 1"
}

@test "a record naming the path alone (time, size and rev '-') removes its path's one entry, and keeps both entries when the path has two" {
	{ entry "$D/a.parquet"; entry "$D/c.parquet"; entry "$D/c.parquet" node-1 2; entry "$D/keep.parquet"; } >m.ndjson
	printf 'orphan-manifest\t%s\t-\t-\t-\t-\n' "$D/a.parquet" "$D/c.parquet" >c.rec
	run -1 --separate-stderr arc-delete --act -A a.tgz s m.ndjson <c.rec
	assert_output "$(res deleted manifest "$D/a.parquet"
	    res changed manifest "$D/c.parquet")"
	assert_equal "$(paths_in_manifest)" "$(printf '%s\n' "$D/c.parquet" "$D/c.parquet" "$D/keep.parquet")"
}

@test "a path registered again since the dump (a second entry, with an lsn or the same without) keeps both entries and is 'changed' when its candidate has no rev, in either rewrite of the phase; a path with one entry is removed and verified" {
	local p
	for p in m1 m2 m3 m4; do nolsn "$D/$p.parquet"; done >m.ndjson
	entry "$D/keep.parquet" >>m.ndjson
	for p in m1 m2 m3 m4; do ocand "$D/$p.parquet" -; done >c.rec
	# after the dump: m2 (first rewrite) and m4 (second) registered again
	entry "$D/m2.parquet" node-1 5 >>m.ndjson
	nolsn "$D/m4.parquet" >>m.ndjson
	run -1 --separate-stderr arc-delete --act -b 1 -A a.tgz -S st.json s m.ndjson <c.rec
	assert_output "$(res deleted manifest "$D/m1.parquet"
	    res changed manifest "$D/m2.parquet"
	    res deleted manifest "$D/m3.parquet"
	    res changed manifest "$D/m4.parquet")"
	assert_equal "$(paths_in_manifest)" "$(printf '%s\n' "$D/keep.parquet" "$D/m2.parquet" "$D/m2.parquet" "$D/m4.parquet" "$D/m4.parquet")"
	assert_equal "$(stat_json manifest_rewrites) $(stat_json verified_deletes) $(stat_json unverified_deletes)" "2 2 0"
	# positive control: nothing registered again, all four removed
	for p in m1 m2 m3 m4; do nolsn "$D/$p.parquet"; done >m.ndjson
	entry "$D/keep.parquet" >>m.ndjson
	run -0 --separate-stderr arc-delete --act -b 1 -A b.tgz -S st.json s m.ndjson <c.rec
	[ "$(grep -c '^deleted' <<<"$output")" -eq 4 ]
	assert_equal "$(paths_in_manifest)" "$D/keep.parquet"
	assert_equal "$(stat_json verified_deletes)" 4
}

@test "a manifest path already absent is 'gone', which counts as success" {
	plant
	entry "$D/keep.parquet" >m.ndjson
	run -0 --separate-stderr arc-delete --act -A a.tgz -S st.json s m.ndjson <c.rec
	assert_equal "${lines[0]}" "$(res gone manifest "$D/a.parquet")"
	assert_equal "${lines[1]}" "$(res gone manifest "$D/c.parquet")"
	assert_equal "$(stat_json gone)" 2
}

@test "a storage file already removed is 'gone', which counts as success" {
	plant
	rm "s/$D/b.parquet"
	run -0 --separate-stderr arc-delete --act -A a.tgz s m.ndjson <c.rec
	assert_equal "${lines[2]}" "$(res gone storage "$D/b.parquet")"
	assert_equal "${lines[3]}" "$(res deleted storage "$D/d.parquet")"
}

@test "a storage candidate registered in the manifest after the re-check is refused and kept" {
	plant
	entry "$D/b.parquet" node-2 3 >>m.ndjson
	run -1 --separate-stderr arc-delete --act -A a.tgz s m.ndjson <c.rec
	assert_equal "${lines[2]}" "$(res refused storage "$D/b.parquet" RECHECK_REGISTERED)"
	assert_equal "${lines[3]}" "$(res deleted storage "$D/d.parquet")"
	[ -e "s/$D/b.parquet" ]
	assert_stderr --partial 'now in the manifest'
}

@test "a storage candidate registered after the re-check under another spelling ('./', '//', a trailing '/') is refused and kept" {
	local sp
	for sp in "$D/./b.parquet" "$D//b.parquet" "$D/b.parquet/" "./$D/b.parquet"; do
		plant
		rm -f a.tgz
		entry "$sp" node-2 3 >>m.ndjson
		run -1 --separate-stderr arc-delete --act -A a.tgz s m.ndjson <c.rec
		assert_equal "${lines[2]}" "$(res refused storage "$D/b.parquet" RECHECK_REGISTERED)"
		# the control: d, registered under no spelling, is deleted
		assert_equal "${lines[3]}" "$(res deleted storage "$D/d.parquet")"
		[ -e "s/$D/b.parquet" ]
		[ ! -e "s/$D/d.parquet" ]
		assert_stderr --partial 'now in the manifest'
	done
}

@test "a path registered after the re-check is refused in dry-run too" {
	plant
	entry "$D/b.parquet" >>m.ndjson
	run -1 --separate-stderr arc-delete s m.ndjson <c.rec
	assert_equal "${lines[2]}" "$(res refused storage "$D/b.parquet" RECHECK_REGISTERED)"
}

@test "--if-unchanged refuses a file whose size or mtime differ from the record ('changed')" {
	mkfile "s/$D/a.parquet" "$OLD"
	mkfile "s/$D/b.parquet" "$OLD"
	mkfile "s/$D/c.parquet" "$OLD"
	{
		scand "$D/a.parquet" "$OLDREC" "$(stat -c %s "s/$D/a.parquet")"
		scand "$D/b.parquet" "$OLDREC" "$(stat -c %s "s/$D/b.parquet")"
		scand "$D/c.parquet" "$OLDREC" "$(stat -c %s "s/$D/c.parquet")"
	} >c.rec
	printf 'grown\n' >>"s/$D/b.parquet"
	touch -d "$OLD" "s/$D/b.parquet"
	touch -d '2026-04-02 00:00:00' "s/$D/c.parquet"
	run -1 --separate-stderr arc-delete --act --if-unchanged -A a.tgz -S st.json s m.ndjson <c.rec
	assert_equal "$(LC_ALL=C sort <<<"$output")" "$(res changed storage "$D/b.parquet"
	    res changed storage "$D/c.parquet"
	    res deleted storage "$D/a.parquet")"
	[ -e "s/$D/b.parquet" ]
	[ -e "s/$D/c.parquet" ]
	assert_equal "$(stat_json changed)" 2
}

@test "result lines keep path order within a batch, refused and changed ones included" {
	mkfile "s/$D/a.parquet" "$OLD"
	mkfile "s/$D/b.parquet" "$OLD"
	mkfile "s/$D/c.parquet" "$OLD"
	mkfile "s/$D/d.parquet" "$OLD"
	mkfile "s/db/m/2026/04/11/e_daily.parquet" "$OLD"
	{
		scand "$D/a.parquet" "$OLDREC" 1	# size differs: changed
		scand "$D/b.parquet" "$OLDREC" "$(stat -c %s "s/$D/b.parquet")"
		scand "$D/c.parquet" "$OLDREC" "$(stat -c %s "s/$D/c.parquet")"
		scand "$D/d.parquet" "$OLDREC" "$(stat -c %s "s/$D/d.parquet")"
		scand db/m/2026/04/11/e_daily.parquet	# 6 segments: refused
	} >c.rec
	entry "$D/c.parquet" >m.ndjson	# registered since: refused
	run -1 --separate-stderr arc-delete --act --if-unchanged -A a.tgz s m.ndjson <c.rec
	assert_output "$(res changed storage "$D/a.parquet"
	    res deleted storage "$D/b.parquet"
	    res refused storage "$D/c.parquet" RECHECK_REGISTERED
	    res deleted storage "$D/d.parquet"
	    res refused storage db/m/2026/04/11/e_daily.parquet)"
}

@test "without --if-unchanged a changed file is deleted all the same" {
	mkfile "s/$D/a.parquet" "$OLD"
	scand "$D/a.parquet" "$OLDREC" 1 >c.rec
	run -0 arc-delete --act -A a.tgz s m.ndjson <c.rec
	assert_output "$(res deleted storage "$D/a.parquet")"
}

# long_manifest: the manifest moved to a name of 250 bytes, so that its
# lock (name + ".lock", 255 bytes) can be made but the rewrite's
# temporary file (name + ".tmp.XXXXXX", 261 bytes) cannot: every
# manifest batch fails.  Sets M.
long_manifest() {
	mkdir man
	M=man/$(printf 'm%.0s' $(seq 250))
	mv m.ndjson "$M"
}

@test "a failed manifest batch exits 4 and no storage delete happens after it" {
	plant
	long_manifest
	cp "$M" m.before
	run -4 --separate-stderr arc-delete --act -A a.tgz -a audit s "$M" <c.rec
	assert_output "$(res failed manifest "$D/a.parquet"; res failed manifest "$D/c.parquet")"
	assert_stderr --partial 'nothing further is deleted'
	[ -e "s/$D/b.parquet" ]
	[ -e "s/$D/d.parquet" ]
	cmp "$M" m.before
	assert_equal "$(events reconcile.storage_batch_deleted)" ''
}

@test "after a failed manifest batch no later batch is tried" {
	plant
	long_manifest
	run -4 --separate-stderr arc-delete --act -A a.tgz -b 1 -S st.json s "$M" <c.rec
	assert_output "$(res failed manifest "$D/a.parquet")"
	assert_equal "$(stat_json failed)" 1
}

@test "a manifest that fails to rewrite does not matter in dry-run" {
	plant
	long_manifest
	run -0 --separate-stderr arc-delete -A a.tgz s "$M" <c.rec
	assert_equal "${#lines[@]}" 4
}

# --- counts, signals, output errors ----------------------------------------------

@test "-S writes the counts as JSON" {
	plant
	mkfile "s/db/m/x.parquet" "$OLD"
	{ cat c.rec; scand db/m/x.parquet; ocand "$D/e.parquet"; } |
	    LC_ALL=C sort -t "$(printf '\t')" -k2,2 >c2.rec
	run -1 arc-delete -S st.json s m.ndjson <c2.rec
	assert_equal "$(jq -c '[.input, .manifest_deletes, .storage_deletes,
	    .would_delete_manifest, .would_delete_storage, .refused]' st.json)" \
	    '[6,0,0,3,2,1]'
	rm "s/$D/d.parquet"
	run -1 arc-delete --act -A a.tgz -S st.json s m.ndjson <c2.rec
	assert_equal "$(jq -c '[.input, .manifest_deletes, .storage_deletes,
	    .would_delete_manifest, .would_delete_storage, .gone, .refused,
	    .failed, .changed, .left_over_by_cap, .cap_hit, .bytes_freed,
	    .interrupted]' st.json)" \
	    '[6,2,1,0,0,2,1,0,0,0,false,0,false]'
}

@test "every delete of a local store and a manifest file is checked after its batch and counted verified" {
	plant
	run -0 --separate-stderr arc-delete --act -A a.tgz -b 1 -S st.json s m.ndjson <c.rec
	assert_output "$(res deleted manifest "$D/a.parquet"; res deleted manifest "$D/c.parquet"
	    res deleted storage "$D/b.parquet"; res deleted storage "$D/d.parquet")"
	assert_equal "$(jq -c '[.manifest_deletes, .storage_deletes, .verified_deletes, .unverified_deletes]' st.json)" \
	    "[2,2,$(grep -c '^deleted' <<<"$output"),0]"
	[ ! -e "s/$D/b.parquet" ]
	assert_equal "$(jq -r .path m.ndjson)" "$D/keep.parquet"
}

@test "SIGTERM stops the run between batches with exit 2; what it reports deleted is exactly what is gone" {
	mkdir -p "s/$D"
	seq -w 0 999 | awk -v d="$D" '{ print "s/" d "/f" $1 ".parquet" }' |
	    xargs touch -d "$OLD"
	seq -w 0 999 | awk -v d="$D" -v t="$OLDREC" \
	    '{ printf "orphan-storage\t%s/f%s.parquet\t%s\t0\n", d, $1, t }' >c.rec
	arc-delete --act -A a.tgz -a audit -b 1 -S st.json s m.ndjson \
	    <c.rec >out 2>err 3>&- &
	local pid=$! i st=0
	for i in $(seq 400); do
		[ -s audit ] && break
		sleep 0.05
	done
	kill -TERM "$pid"
	wait "$pid" || st=$?
	local left
	left=$(find s -type f | wc -l)
	[ "$left" -gt 0 ] || skip "the run ended before the signal arrived"
	assert_equal "$st" 2
	grep -q interrupted err
	assert_equal "$(grep -c '^deleted' out)" $((1000 - left))
	assert_equal "$(wc -l <audit)" $((1000 - left))
	assert_equal "$(jq -r .interrupted st.json)" true
	# it stopped: the files left are the largest paths, none skipped
	assert_equal "$(cd "s/$D" && ls | head -1)" \
	    "$(printf 'f%03d.parquet' $((1000 - left)))"
}

@test "a write error on standard output (>/dev/full) is an error, exit 2" {
	plant
	run -2 --separate-stderr sh -c 'arc-delete s m.ndjson <c.rec >/dev/full'
	assert_stderr --partial 'write error'
}

# --- funny paths -------------------------------------------------------------------

@test "funny paths of both kinds are deleted by their decoded names and reported quoted" {
	local p
	for p in 'sp ace' $'t\tab' $'new\nline' $'cr\rx' 'back\slash' 'q"uote' \
	    -lead $'ctl\x01' $'\xc3\xa9' $'\xff'; do
		mkfile "s/$D/s-$p.parquet" "$OLD"
		mkfile "s/$D/k-$p.parquet" "$OLD"
		jentry "$D/k-$p.parquet"
		jentry "$D/m-$p.parquet"
	done >m.ndjson
	mkfile "s/db/m/2026/04/11/-d"$'\t'"ir/f.parquet" "$OLD"
	arc-manifest-dump m.ndjson >m.rec
	arc-list s >s.rec
	arc-diff -g 1h m.rec s.rec >c.rec || [ $? -eq 1 ]
	assert_equal "$(wc -l <c.rec)" 21
	run -0 --separate-stderr arc-delete --act -A a.tgz s m.ndjson <c.rec
	assert_stderr ''
	# every candidate reported deleted under its quoted path
	assert_equal "$(cut -f2,3 <<<"$output" | LC_ALL=C sort)" \
	    "$(cut -f1,2 c.rec | LC_ALL=C sort)"
	assert_equal "$(cut -f1 <<<"$output" | sort -u)" deleted
	# only the k- files and entries are left
	assert_equal "$(find s -type f ! -name 'k-*' -printf x | wc -c)" 0
	assert_equal "$(find s -type f -printf x | wc -c)" 10
	arc-manifest-dump m.ndjson | cmp - <(grep "^$D/k-" m.rec)
	# the archive keeps the candidates byte for byte
	member candidates.tsv | cmp - c.rec
}
