#!/usr/bin/env bats
# Reason codes (arc(7), REASON CODES) and arc-reconcile explain ID PATH:
# every path a run did not leave alone carries one code, in its reject
# records and result lines and in the run's archive, from which explain
# tells what the run decided about one path.
load test_helper
bats_require_minimum_version 1.5.0

NOW=2026-04-11T14:00:00Z
OLD='2026-04-01 00:00:00'
OLDREC=2026-04-01T00:00:00Z
D=db/m/2026/04/11/12	# a managed directory: files below it have 7 segments

# plant: in the store, an orphan file, a young one (13:30, inside the
# 24h grace), a 6-segment daily file, a text file and a file the
# manifest has too; in the manifest, that file and a lost entry.
plant() {
	mkfile "s/$D/orph.parquet" "$OLD"
	mkfile "s/$D/young.parquet" '2026-04-11 13:30:00'
	mkfile "s/db/m/2026/04/11/daily.parquet" "$OLD"
	mkfile "s/$D/notes.txt" "$OLD"
	mkfile "s/$D/keep.parquet" "$OLD"
	{ entry "$D/keep.parquet"; entry "$D/lost.parquet"; } >m.ndjson
}

# reconcile ARGS...: a run of the planted store; ID is its run id.
reconcile() {
	run --separate-stderr arc-reconcile --state-dir st --now "$NOW" "$@" s m.ndjson
	ID=$(jq -r .id "$(ls -t st/runs/*.json | head -n 1)")
}

# explain PATH: arc-reconcile explain of run ID, status in $status.
explain() {
	run --separate-stderr arc-reconcile explain --state-dir st "$ID" "$1"
}

# codes: the code and stage of each code line of the last explain.
codes() {
	grep '^[A-Z_]*	' <<<"$output" | cut -f1,2
}

@test "an act run's result lines and archive carry a reason code for every path it did not leave alone" {
	plant
	reconcile --act --max-orphan-ratio 1
	[ "$status" -eq 1 ]
	assert_output "$(printf '%s\t%s\t%s\t%s\n' \
	    deleted orphan-manifest "$D/lost.parquet" DELETED \
	    deleted orphan-storage "$D/orph.parquet" DELETED \
	    refused orphan-storage db/m/2026/04/11/daily.parquet LAYOUT_MISMATCH)"
	run -0 tar -tzf "st/archives/$ID.tar.gz"
	assert_line explain/manifest.rec
	assert_line explain/storage.rec
	assert_line explain/list.rej
	assert_line explain/diff.rej
	assert_line explain/delete2.res
	run -0 tar -xzOf "st/archives/$ID.tar.gz" explain/diff.rej
	assert_output "$(printf 'young\torphan-storage\t%s\t2026-04-11T13:30:00Z\t%s\tTOO_YOUNG\t2026-04-11T13:30:00Z' \
	    "$D/young.parquet" "$(stat -c %s "s/$D/young.parquet")")"
	run -0 tar -xzOf "st/archives/$ID.tar.gz" explain/list.rej
	assert_output "$(printf 'not-a-candidate\torphan-storage\t%s\t%s\t%s\tNOT_A_CANDIDATE\t-' \
	    "$D/notes.txt" "$OLDREC" "$(stat -c %s "s/$D/notes.txt")")"
}

@test "explain names a deleted path's codes, stage by stage, with what the manifest held" {
	plant
	reconcile --act --max-orphan-ratio 1
	explain "$D/lost.parquet"
	[ "$status" -eq 0 ]
	assert_line --index 0 "$(printf 'run\t%s\tact\tcompleted' "$ID")"
	assert_line "$(printf 'path\t%s' "$D/lost.parquet")"
	assert_line --regexp "^manifest	$D/lost.parquet	2026-04-11T14:00:00Z	10	node-1	1\$"
	assert_line "$(printf 'store\t-')"
	assert_equal "$(codes)" "$(printf 'ORPHAN_MANIFEST\tdiff\nDELETED\tdelete1')"
	explain "$D/orph.parquet"
	assert_equal "$(codes)" "$(printf 'ORPHAN_STORAGE\tdiff\nDELETED\tdelete2')"
}

@test "explain says where the age of a too-young path came from: the listing's mtime" {
	plant
	reconcile --act --max-orphan-ratio 1
	explain "$D/young.parquet"
	[ "$status" -eq 0 ]
	assert_equal "$(codes)" "$(printf 'TOO_YOUNG\tdiff')"
	assert_line --regexp '^TOO_YOUNG	diff	young: .*; age from the mtime 2026-04-11T13:30:00Z of the listing$'
	[ -f "s/$D/young.parquet" ]
}

@test "explain says a path in both the manifest and the store was left alone, exit 0" {
	plant
	reconcile --act --max-orphan-ratio 1
	explain "$D/keep.parquet"
	[ "$status" -eq 0 ]
	assert_line 'left alone: in both the manifest and the store'
	[ -z "$(codes)" ]
	# the positive control of the line: a path with codes has none
	explain "$D/orph.parquet"
	refute_line --partial 'left alone'
}

@test "explain says a path the run never saw was not seen, exit 1" {
	plant
	reconcile --act --max-orphan-ratio 1
	explain "$D/never.parquet"
	[ "$status" -eq 1 ]
	assert_line "$(printf 'manifest\t-')"
	assert_line "$(printf 'store\t-')"
	assert_line --regexp '^not seen: '
	explain "$D/notes.txt"
	[ "$status" -eq 0 ]
	assert_equal "$(codes)" "$(printf 'NOT_A_CANDIDATE\tlist')"
}

@test "explain of an unknown run id is an error, exit 2, and a known one succeeds" {
	plant
	reconcile --max-orphan-ratio 1
	run -2 --separate-stderr arc-reconcile explain --state-dir st 0123abcd "$D/orph.parquet"
	assert_output ''
	assert_stderr "arc-reconcile: '0123abcd': no such run in 'st/runs'"
	run -2 --separate-stderr arc-reconcile explain --state-dir st ../x "$D/orph.parquet"
	assert_output ''
	run -2 --separate-stderr arc-reconcile explain --state-dir st "$ID"
	assert_stderr --partial 'usage: arc-reconcile'
	explain "$D/orph.parquet"
	[ "$status" -eq 0 ]
	assert_line --index 0 "$(printf 'run\t%s\tdry-run\tcompleted' "$ID")"
	assert_equal "$(codes)" "$(printf 'ORPHAN_STORAGE\tdiff\nORPHAN_STORAGE\tdelete2')"
}

@test "a path beginning with '-' is explained after '--'" {
	mkfile "s/$D/-dash.parquet" "$OLD"
	: >m.ndjson
	reconcile --max-orphan-ratio 1
	run -0 arc-reconcile explain --state-dir st "$ID" -- "$D/-dash.parquet"
	run -0 arc-reconcile explain --state-dir st -- "$ID" "$D/-dash.parquet"
	assert_line --regexp '^ORPHAN_STORAGE	delete2	would-delete: '
}

@test "the cap leaves CAP_DEFERRED paths, which explain names" {
	plant
	mkfile "s/$D/orph2.parquet" "$OLD"
	reconcile --act --max-orphan-ratio 1 --max-deletes 2
	[ "$status" -eq 1 ]
	[ -f "s/$D/orph2.parquet" ]
	explain "$D/orph2.parquet"
	assert_equal "$(codes)" "$(printf 'ORPHAN_STORAGE\tdiff\nCAP_DEFERRED\tdelete2')"
	# the control: the path the cap let through was deleted
	explain "$D/orph.parquet"
	assert_equal "$(codes)" "$(printf 'ORPHAN_STORAGE\tdiff\nDELETED\tdelete2')"
}

@test "a run the circuit breaker stops gives every candidate BREAKER, and deletes nothing" {
	plant
	reconcile --act
	[ "$status" -eq 2 ]
	[ -f "s/$D/orph.parquet" ]
	assert_equal "$(jq -r .abort_reason "st/runs/$ID.json")" implausible_drift
	explain "$D/orph.parquet"
	[ "$status" -eq 0 ]
	assert_line --index 0 "$(printf 'run\t%s\tact\taborted (implausible_drift)' "$ID")"
	assert_equal "$(codes)" "$(printf 'ORPHAN_STORAGE\tdiff\nBREAKER\tbreaker')"
	# nothing was about to be deleted: the archive holds no phase
	run -0 tar -tzf "st/archives/$ID.tar.gz"
	refute_line --partial phase
}

@test "with --node an entry of another node is FOREIGN_ORIGIN and kept" {
	plant
	entry "$D/other.parquet" node-2 >>m.ndjson
	reconcile --act --max-orphan-ratio 1 --mode local --node node-1
	explain "$D/other.parquet"
	assert_equal "$(codes)" "$(printf 'FOREIGN_ORIGIN\tdiff')"
	grep -q "$D/other.parquet" m.ndjson
	explain "$D/lost.parquet"
	assert_equal "$(codes)" "$(printf 'ORPHAN_MANIFEST\tdiff\nDELETED\tdelete1')"
}

@test "arc-diff -R: an unknown mtime is UNKNOWN_MTIME, a young file TOO_YOUNG, an old one a candidate" {
	{
		printf '%s\t-\t5\n' "$D/a.parquet"
		printf '%s\t%s\t5\n' "$D/b.parquet" "$OLDREC"
		printf '%s\t2026-04-11T13:59:00Z\t5\n' "$D/c.parquet"
	} >s.rec
	: >m.rec
	run -1 --separate-stderr arc-diff -R rej -t "$NOW" m.rec s.rec
	assert_output "$(printf 'orphan-storage\t%s\t%s\t5' "$D/b.parquet" "$OLDREC")"
	assert_equal "$(cut -f1,6,7 rej)" "$(printf 'young\tUNKNOWN_MTIME\t-\nyoung\tTOO_YOUNG\t2026-04-11T13:59:00Z')"
}

@test "arc-recheck -R: each rejection carries its code, a young file the mtime the store gave" {
	mkfile "s/$D/present.parquet" "$OLD"
	mkfile "s/$D/young.parquet" '2026-04-11 13:59:00'
	mkfile "s/$D/registered.parquet" "$OLD"
	mkdir -p "s/$D/dir.parquet"
	entry "$D/registered.parquet" >m.ndjson
	{
		printf 'orphan-manifest\t%s\t-\t-\t-\t-\n' "$D/present.parquet"
		printf 'orphan-storage\t%s\t%s\t-\n' "$D/dir.parquet" "$OLDREC"
		printf 'orphan-storage\t%s\t%s\t-\n' "$D/gone.parquet" "$OLDREC"
		printf 'orphan-storage\t%s\t%s\t-\n' "$D/registered.parquet" "$OLDREC"
		printf 'orphan-storage\t%s\t%s\t-\n' "$D/young.parquet" "$OLDREC"
	} >c.rec
	run -1 --separate-stderr arc-recheck -t "$NOW" -R rej s m.ndjson <c.rec
	assert_output ''
	assert_equal "$(awk -F '\t' '{ print $1, $(NF - 1), $NF }' rej)" "$(printf '%s\n' \
	    'present RECHECK_PRESENT -' 'error RECHECK_ERROR -' 'gone GONE -' \
	    'in-manifest RECHECK_REGISTERED -' 'young TOO_YOUNG 2026-04-11T13:59:00Z')"
}

@test "arc-delete: a changed file is CHANGED_SINCE_LISTING, a failed delete DELETE_FAILED, a partial listing LISTING_PARTIAL" {
	mkfile "s/$D/changed.parquet" "$OLD"
	mkfile "s/$D/same.parquet" "$OLD"
	mkdir -p outside
	mkfile outside/t.parquet "$OLD"
	ln -s "$PWD/outside/t.parquet" "s/$D/link.parquet"
	{
		printf 'orphan-storage\t%s\t%s\t1\n' "$D/changed.parquet" "$OLDREC"
		printf 'orphan-storage\t%s\t%s\t-\n' "$D/same.parquet" "$OLDREC"
	} >c.rec
	: >m.ndjson
	run -1 --separate-stderr arc-delete --act --if-unchanged -A a.tgz s m.ndjson <c.rec
	assert_output "$(printf '%s\t%s\t%s\t%s\n' \
	    changed orphan-storage "$D/changed.parquet" CHANGED_SINCE_LISTING \
	    deleted orphan-storage "$D/same.parquet" DELETED)"
	printf 'orphan-storage\t%s\t%s\t-\n' "$D/link.parquet" "$OLDREC" >c.rec
	run -1 --separate-stderr arc-delete --act -A b.tgz s m.ndjson <c.rec
	assert_output "$(printf 'failed\torphan-storage\t%s\tDELETE_FAILED' "$D/link.parquet")"
	[ -f outside/t.parquet ]
	entry "$D/lost.parquet" >m.ndjson
	printf 'orphan-manifest\t%s\t-\t-\t-\t-\n' "$D/lost.parquet" >c.rec
	run -0 --separate-stderr arc-delete --listing-partial s m.ndjson <c.rec
	assert_output "$(printf 'would-delete\torphan-manifest\t%s\tLISTING_PARTIAL' "$D/lost.parquet")"
	run -0 --separate-stderr arc-delete s m.ndjson <c.rec
	assert_output "$(printf 'would-delete\torphan-manifest\t%s\tORPHAN_MANIFEST' "$D/lost.parquet")"
	run -2 --separate-stderr arc-delete --act --listing-partial -A c.tgz s m.ndjson <c.rec
	assert_stderr --partial 'excludes --act'
	grep -q lost.parquet m.ndjson
}

@test "explain refuses an archive member larger than 64 GiB before reading it, and a line longer than 256 KiB, exit 2; the run's own archive explains" {
	plant
	reconcile --max-orphan-ratio 1
	a=st/archives/$ID.tar.gz
	# the control: the archive as the run wrote it
	explain "$D/orph.parquet"
	[ "$status" -eq 0 ]
	cp "$a" saved
	# a member whose header says 65 GiB: refused before a byte is read
	"$BATS_TEST_DIRNAME/bigmember.py" "$a" explain/storage.rec $((65 << 30))
	explain "$D/orph.parquet"
	[ "$status" -eq 2 ]
	assert_output ''
	assert_stderr "arc-reconcile: '$a': member 'explain/storage.rec' not read: larger than the limit of 64 GiB a member is read to"
	# a line of 300 KiB: stopped at 256 KiB, never held whole
	"$BATS_TEST_DIRNAME/bigmember.py" "$a" explain/storage.rec 0 $((300 << 10))
	explain "$D/orph.parquet"
	[ "$status" -eq 2 ]
	assert_output ''
	assert_stderr "arc-reconcile: 'explain/storage.rec': line longer than 262144 bytes at line 1"
	cp saved "$a"
	explain "$D/orph.parquet"
	[ "$status" -eq 0 ]
}
