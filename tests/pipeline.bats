#!/usr/bin/env bats
# pipeline.bats - arc-reconcile end to end on a real directory and a real
# manifest file: every kind of drift planted, the exact outcome of dry-run
# and act runs, the state directory (lock, archives, audit log, run
# records), status and show, and a writer racing repeated act runs.
load test_helper
bats_require_minimum_version 1.5.0

# The planted drift (see plant): paths every test refers to.
H=2026/04/10/12
LOST1="db/zzz/$H/lost_1.parquet"
LOST2="db/zzz/$H/lost_2.parquet"
ORPH1="db/aaa/$H/orphan_1.parquet"
ORPH2="db/aaa/$H/orphan_2.parquet"
DAILY=db/aaa/2026/04/09/aaa_20260409_daily.parquet
YOUNG="db/aaa/$H/young.parquet"

# A driver run costs a few hundred process forks, so the read-only checks
# share runs made once for the file, each scenario on its own planted
# store and state directory:
#   main: a dry run (with --grace 30m, which a dry run accepts; the young
#         file is young either way), then an act run with --metrics;
#   cap:  an act run with --max-deletes 3;
#   cap1: an act run with --max-deletes 1.
# Every other test plants its own store in its own $BATS_TEST_TMPDIR.
setup_file() {
	use_shared main
	mkdir -p "$STORE"
	: >"$MANIFEST"
	plant
	snapshot >"$SH/before"
	store_paths >"$SH/files.before"
	manifest_paths >"$SH/entries.before"
	outside_sums >"$SH/outside.before"
	echo $(( $(stat -c %s "$STORE/$ORPH1") + $(stat -c %s "$STORE/$ORPH2") )) >"$SH/freed"
	shared_run dry --grace 30m
	snapshot >"$SH/after-dry"
	shared_run act --act --metrics "$SH/arc.prom"

	use_shared cap
	mkdir -p "$STORE"
	: >"$MANIFEST"
	plant
	shared_run act --act --max-deletes 3

	use_shared cap1
	mkdir -p "$STORE"
	: >"$MANIFEST"
	plant
	store_paths >"$SH/files.before"
	shared_run act --act --max-deletes 1
}

# use_shared NAME: point SH, STORE, MANIFEST, STATE and OUTSIDE at the
# shared scenario NAME.
use_shared() {
	SH=$BATS_FILE_TMPDIR/$1
	STORE=$SH/store MANIFEST=$SH/manifest.ndjson STATE=$SH/state
	OUTSIDE=$SH/outside
}

# shared_run RUN OPTION...: run the driver for the scenario in use and keep
# its exit status, stdout and stderr as RUN.rc, RUN.out and RUN.err.
shared_run() {
	local name=$1 rc=0
	shift
	reconcile "$@" >"$SH/$name.out" 2>"$SH/$name.err" || rc=$?
	echo "$rc" >"$SH/$name.rc"
}

# shared NAME RUN: load run RUN of scenario NAME as `run --separate-stderr`
# would ($status, $output, $lines, $stderr), with DRY and ACT set to the
# run ids.
shared() {
	use_shared "$1"
	status=$(cat "$SH/$2.rc")
	output=$(cat "$SH/$2.out")
	stderr=$(cat "$SH/$2.err")
	lines=()
	[ -z "$output" ] || mapfile -t lines <<<"$output"
	DRY=
	if [ -f "$SH/dry.err" ]; then
		DRY=$(run_id_of "$(cat "$SH/dry.err")")
	fi
	ACT=$(run_id_of "$(cat "$SH/act.err")")
	printf 'the shared %s %s run exited %s; its stderr:\n%s\n' "$1" "$2" "$status" "$stderr"
}

# expect N: fail unless the last run exited N, showing its stderr.
expect() {
	if [ "$status" -ne "$1" ]; then
		printf 'exit %s, expected %s; stderr:\n%s\n' "$status" "$1" "$stderr"
		return 1
	fi
}

setup() {
	STORE=$BATS_TEST_TMPDIR/store
	MANIFEST=$BATS_TEST_TMPDIR/manifest.ndjson
	STATE=$BATS_TEST_TMPDIR/state
	OUTSIDE=$BATS_TEST_TMPDIR/outside
	mkdir -p "$STORE"
	: >"$MANIFEST"
}

teardown() {
	local p
	for p in ${KILL_PIDS:-}; do
		kill_tree "$p"
	done
	remove_world
}

# kill_tree PID: end PID and its direct children, by their ids.
kill_tree() {
	local c
	for c in $(pgrep -P "$1" 2>/dev/null); do
		kill "$c" 2>/dev/null || true
	done
	kill "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

# reconcile [OPTION...]: the driver on $STORE and $MANIFEST with $STATE as
# its state directory.
reconcile() {
	arc-reconcile --state-dir "$STATE" "$@" "$STORE" "$MANIFEST"
}

# fentry PATH [ORIGIN]: one manifest line like test_helper's `entry`, but
# without a jq process (fixtures write dozens of them).
fentry() {
	local db=${1%%/*} rest=${1#*/}
	printf '{"path":"%s","created_at":"2026-04-11T14:00:00Z","size_bytes":10,"database":"%s","measurement":"%s","origin_node_id":"%s","lsn":1}\n' \
	    "$1" "$db" "${rest%%/*}" "${2-node-1}"
}

# put PATH...: create store files (parents must exist), two days old
# unless touched again.
put() {
	local p
	for p in "$@"; do
		printf 'data:%s\n' "$p" >"$STORE/$p"
	done
}

# plant: a store and manifest holding every kind of drift.
#   in sync:          db/cpu/H/cpu_01..36.parquet (file and entry)
#   orphan-manifest:  db/zzz/H/lost_1, lost_2 (entries, no file); they
#                     sort after every orphan-storage path, so manifest-first
#                     order is not path order
#   orphan-storage:   db/aaa/H/orphan_1, orphan_2 (old, managed shape)
#   refused:          db/aaa/2026/04/09/aaa_20260409_daily.parquet (6 segments)
#   young:            db/aaa/H/young.parquet (10 minutes old)
#   never candidates: non-parquet, hidden, .parquet.part, _compaction_state
#   symlinks:         db/ext -> $OUTSIDE (a directory with an old unlisted
#                     parquet file in Arc's layout), db/aaa/H/link.parquet ->
#                     a file in $OUTSIDE
# 38 entries, 40 listed files; 2 and 3 orphans stay under the 10% breaker.
plant() {
	local i
	mkdir -p "$STORE/db/cpu/$H" "$STORE/db/aaa/$H" "$STORE/db/aaa/2026/04/09" \
	    "$STORE/_compaction_state/hot/db/aaa/$H" "$OUTSIDE/$H"
	for i in $(seq -w 1 36); do
		put "db/cpu/$H/cpu_$i.parquet"
		fentry "db/cpu/$H/cpu_$i.parquet" >>"$MANIFEST"
	done
	fentry "db/zzz/$H/lost_1.parquet" >>"$MANIFEST"
	fentry "db/zzz/$H/lost_2.parquet" >>"$MANIFEST"
	put "db/aaa/$H/orphan_2.parquet" "db/aaa/$H/orphan_1.parquet" \
	    db/aaa/2026/04/09/aaa_20260409_daily.parquet \
	    "db/aaa/$H/young.parquet" "db/aaa/$H/notes.txt" \
	    "db/aaa/$H/upper.PARQUET" "db/aaa/$H/.hidden.parquet" \
	    "db/aaa/$H/.arc-123.tmp" "db/aaa/$H/orphan_3.parquet.part" \
	    "_compaction_state/hot/db/aaa/2026/04/10/job_1.json" \
	    "_compaction_state/hot/db/aaa/$H/compacted.parquet"
	printf 'outside\n' >"$OUTSIDE/$H/victim.parquet"
	printf 'outside\n' >"$OUTSIDE/target.parquet"
	find "$STORE" "$OUTSIDE" -type f -exec touch -d '2 days ago' {} +
	touch -d '10 minutes ago' "$STORE/db/aaa/$H/young.parquet"
	ln -s "$OUTSIDE" "$STORE/db/ext"
	ln -s "$OUTSIDE/target.parquet" "$STORE/db/aaa/$H/link.parquet"
}

# snapshot: every store entry (type, size, mtime, link target, content
# hash) and the manifest's bytes, for "nothing changed".
snapshot() {
	(cd "$STORE" && find . -printf '%p %y %s %T@ %l\n' | sort)
	find "$STORE" -type f -exec md5sum {} + | sort
	cat "$MANIFEST"
}

# manifest_paths: the manifest's paths, sorted.
manifest_paths() {
	jq -r .path "$MANIFEST" | sort
}

# outside_sums: the content of every file outside the store.
outside_sums() {
	(cd "$OUTSIDE" && find . -type f -exec md5sum {} + | sort)
}

# store_paths: every regular file and symlink in the store, sorted.
store_paths() {
	(cd "$STORE" && find . \( -type f -o -type l \) -printf '%P\n' | sort)
}

# run_id_of STDERR: the run id that the driver's summary line names.
run_id_of() {
	printf '%s\n' "$1" | sed -n 's/^arc-reconcile: run \([^ ]*\) .*/\1/p'
}

# the_record: the one run record in the state directory (fails otherwise).
the_record() {
	local n
	n=$(find "$STATE/runs" -name '*.json' | wc -l)
	[ "$n" -eq 1 ] || { echo "expected 1 run record, found $n" >&2; return 1; }
	find "$STATE/runs" -name '*.json'
}

# field JQ-EXPR [RECORD]: evaluate JQ-EXPR on RECORD (default: the one run
# record), compactly.
field() {
	jq -c "$1" "${2:-$(the_record)}"
}

# ---- the shared dry run and act run on the planted store ---------------

@test "a dry run prints every repair it would make, manifest first, and exits 1" {
	shared main dry
	expect 1
	assert_output "$(printf '%s\t%s\t%s\t%s\n' \
	    would-delete orphan-manifest "$LOST1" ORPHAN_MANIFEST \
	    would-delete orphan-manifest "$LOST2" ORPHAN_MANIFEST \
	    refused orphan-storage "$DAILY" LAYOUT_MISMATCH \
	    would-delete orphan-storage "$ORPH1" ORPHAN_STORAGE \
	    would-delete orphan-storage "$ORPH2" ORPHAN_STORAGE)"
	assert_stderr --partial "'$DAILY': refused: not a managed path"
	assert_stderr --partial "dry-run: 2 manifest and 2 storage would-deletes, drift remains"
}

@test "a dry run changes nothing in the store or the manifest" {
	shared main dry
	assert_equal "$(cat "$SH/after-dry")" "$(cat "$SH/before")"
	assert_equal "$(field '[.dry_run, .manifest_deletes, .storage_deletes]' "$STATE/runs/$DRY.json")" \
	    '[true,2,2]'
}

@test "an act run deletes exactly the old orphan entries and files, refuses the 6-segment daily file and exits 1" {
	shared main act
	expect 1
	assert_output "$(printf '%s\t%s\t%s\t%s\n' \
	    deleted orphan-manifest "$LOST1" DELETED \
	    deleted orphan-manifest "$LOST2" DELETED \
	    refused orphan-storage "$DAILY" LAYOUT_MISMATCH \
	    deleted orphan-storage "$ORPH1" DELETED \
	    deleted orphan-storage "$ORPH2" DELETED)"
	assert_equal "$(manifest_paths)" "$(grep -v '/lost_[12]\.parquet$' "$SH/entries.before")"
	assert_equal "$(store_paths)" "$(grep -v '/orphan_[12]\.parquet$' "$SH/files.before")"
	[ -f "$STORE/$DAILY" ]
}

@test "an act run leaves young, non-parquet, hidden, .parquet.part and _compaction_state files alone" {
	shared main act
	expect 1
	[ ! -e "$STORE/$ORPH1" ]	# the run did delete beside them
	for p in "$YOUNG" "db/aaa/$H/notes.txt" "db/aaa/$H/upper.PARQUET" \
	    "db/aaa/$H/.hidden.parquet" "db/aaa/$H/.arc-123.tmp" \
	    "db/aaa/$H/orphan_3.parquet.part" \
	    _compaction_state/hot/db/aaa/2026/04/10/job_1.json \
	    "_compaction_state/hot/db/aaa/$H/compacted.parquet"; do
		[ -f "$STORE/$p" ] || { echo "'$p' is gone"; false; }
	done
	# 40 listed: the 36 in sync, orphan_1, orphan_2, the daily file and
	# the young one (skipped by grace); nothing else reached the listing
	assert_equal "$(field '[.storage_file_count, .skipped_grace, .orphan_storage_count]' "$STATE/runs/$ACT.json")" \
	    '[40,1,3]'
}

@test "symlinks are never followed: a link to a directory outside the store and its target files survive an act run" {
	shared main act
	expect 1
	[ ! -e "$STORE/$ORPH1" ]	# the run did delete beside them
	[ -L "$STORE/db/ext" ]
	[ -L "$STORE/db/aaa/$H/link.parquet" ]
	assert_equal "$(outside_sums)" "$(cat "$SH/outside.before")"
	refute_output --partial ext/
	refute_output --partial link.parquet
}

@test "the audit log of an act run goes run_started, manifest batch, storage batch, run_completed, all with the run's id" {
	shared main act
	run -0 jq -r --arg id "$ACT" 'select(.run_id == $id) | .event' "$STATE/audit.log"
	assert_output "$(printf '%s\n' reconcile.run_started \
	    reconcile.manifest_batch_deleted reconcile.storage_batch_deleted \
	    reconcile.run_completed)"
	# the act run's lines are the log's last four, and every id matches
	run -0 sh -c 'tail -n 4 "$1" | jq -r ".run_id, .detail.run_id, (.path | ltrimstr(\"/reconciliation/\"))" | sort -u' sh "$STATE/audit.log"
	assert_output "$ACT"
	run -0 jq -c --arg id "$ACT" 'select(.run_id == $id and (.event | endswith("_batch_deleted"))) | .detail | del(.run_id)' "$STATE/audit.log"
	assert_output "$(printf '{"count":"2","sample":"%s\\n%s"}\n{"count":"2","sample":"%s\\n%s"}' \
	    "$LOST1" "$LOST2" "$ORPH1" "$ORPH2")"
	run -0 jq -c --arg id "$ACT" 'select(.run_id == $id and .event == "reconcile.run_completed") | .detail | [.manifest_deletes, .storage_deletes, .skipped_grace, .cap_hit, .walk_partial]' "$STATE/audit.log"
	assert_output '["2","2","1","false","false"]'
}

@test "a dry run's audit lines say dry_run and its batch events carry mode=dry_run" {
	shared main dry
	run -0 jq -r --arg id "$DRY" 'select(.run_id == $id) | [.event, .detail.dry_run // .detail.mode // "-"] | join(" ")' "$STATE/audit.log"
	assert_output "$(printf '%s\n' 'reconcile.run_started true' \
	    'reconcile.manifest_batch_deleted dry_run' \
	    'reconcile.storage_batch_deleted dry_run' 'reconcile.run_completed -')"
}

@test "the run's archive holds every candidate of both phases and each phase's confirmed list" {
	shared main act
	archive=$STATE/archives/$ACT.tar.gz
	assert_equal "$(field .archive "$STATE/runs/$ACT.json")" "\"$archive\""
	run -0 tar -tzf "$archive"
	assert_line candidates.tsv
	assert_line phase1/candidates.tsv
	assert_line phase1/run.json
	assert_line phase1/manifest-entries.ndjson
	assert_line phase2/candidates.tsv
	assert_line phase2/run.json
	run -0 sh -c 'tar -xzOf "$1" candidates.tsv | cut -f1,2 | sort' sh "$archive"
	assert_output "$(printf '%s\t%s\n' orphan-manifest "$LOST1" \
	    orphan-manifest "$LOST2" orphan-storage "$DAILY" \
	    orphan-storage "$ORPH1" orphan-storage "$ORPH2" | sort)"
	run -0 sh -c 'tar -xzOf "$1" phase1/candidates.tsv | cut -f1,2' sh "$archive"
	assert_output "$(printf '%s\t%s\n' orphan-manifest "$LOST1" orphan-manifest "$LOST2")"
	run -0 sh -c 'tar -xzOf "$1" phase2/candidates.tsv | cut -f1,2' sh "$archive"
	assert_output "$(printf '%s\t%s\n' orphan-storage "$DAILY" \
	    orphan-storage "$ORPH1" orphan-storage "$ORPH2")"
	# the removed entries are kept whole, so they can be put back
	run -0 sh -c 'tar -xzOf "$1" phase1/manifest-entries.ndjson | jq -r .path' sh "$archive"
	assert_output "$(printf '%s\n%s' "$LOST1" "$LOST2")"
}

@test "the run record has Arc's Run fields in order plus archive, bytes_freed, the verified and unverified deletes and the requests made, with the counts of the planted drift" {
	shared main act
	rec=$STATE/runs/$ACT.json
	[ -f "$rec" ]
	run -0 jq -r 'keys_unsorted | join(" ")' "$rec"
	assert_output "id started_at finished_at dry_run backend_kind role manifest_file_count storage_file_count orphan_manifest_count orphan_storage_count manifest_deletes storage_deletes skipped_grace skipped_recheck orphan_manifest_sample orphan_storage_sample errors aborted cap_hit walk_partial archive bytes_freed verified_deletes unverified_deletes requests"
	assert_equal "$(field .id "$rec")" "\"$ACT\""
	[[ $ACT =~ ^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$ ]]
	run -0 jq -r '[.started_at, .finished_at] | map(fromdateiso8601) | .[1] >= .[0]' "$rec"
	assert_output true
	assert_equal "$(field '[.dry_run, .backend_kind, .role, .aborted, (.abort_reason // ""), .cap_hit, .walk_partial]' "$rec")" \
	    '[false,"shared","",false,"",false,false]'
	assert_equal "$(field '[.manifest_file_count, .storage_file_count, .orphan_manifest_count, .orphan_storage_count, .manifest_deletes, .storage_deletes, .skipped_grace, .skipped_recheck]' "$rec")" \
	    '[38,40,2,3,2,2,1,0]'
	assert_equal "$(field .orphan_manifest_sample "$rec")" "[\"$LOST1\",\"$LOST2\"]"
	assert_equal "$(field .orphan_storage_sample "$rec")" "[\"$DAILY\",\"$ORPH1\",\"$ORPH2\"]"
	run -0 jq -r '.errors[]' "$rec"
	assert_output "arc-delete: '$DAILY': refused: not a managed path (fewer than 7 segments)"
	assert_equal "$(field .bytes_freed "$rec")" "$(cat "$SH/freed")"
	assert_equal "$(field '[.verified_deletes, .unverified_deletes]' "$rec")" '[4,0]'
}

@test "the run record keeps at most 32 errors" {
	mkdir -p "$STORE/db/day/2026/04/09"
	for i in $(seq -w 1 40); do
		put "db/day/2026/04/09/day_202604${i}_daily.parquet"
	done
	find "$STORE" -type f -exec touch -d '2 days ago' {} +
	run --separate-stderr reconcile
	expect 1
	assert_equal "$(printf '%s\n' "$output" | grep -c '^refused	orphan-storage	')" 40
	assert_equal "$(field '.errors | length')" 32
	assert_equal "$(field '.errors[0]')" \
	    "\"arc-delete: 'db/day/2026/04/09/day_20260401_daily.parquet': refused: not a managed path (fewer than 7 segments)\""
}

@test "--metrics writes the run's counters as a Prometheus text file" {
	shared main act
	prom=$SH/arc.prom
	# every sample is "name value" and is declared by a TYPE line before it
	run -0 awk '
	    /^# TYPE / { typed[$3] = 1; next }
	    /^#/ { next }
	    !/^[a-zA-Z_:][a-zA-Z0-9_:]* [-+0-9.eE]+$/ { print "bad line: " $0; next }
	    !($1 in typed) { print "untyped: " $1 }' "$prom"
	assert_output ''
	run -0 cat "$prom"
	assert_line 'arc_reconcile_last_run_manifest_deletes 2'
	assert_line 'arc_reconcile_last_run_storage_deletes 2'
	assert_line 'arc_reconcile_last_run_orphan_storage_count 3'
	assert_line 'arc_reconcile_last_run_skipped_grace 1'
	assert_line "arc_reconcile_last_run_bytes_freed $(cat "$SH/freed")"
	assert_line 'arc_reconcile_last_run_aborted 0'
	assert_line 'arc_reconcile_last_run_dry_run 0'
	assert_line 'arc_reconcile_last_run_cap_hit 0'
}

@test "status lists the runs newest first as a table" {
	shared main act
	run -0 arc-reconcile status --state-dir "$STATE"
	assert_equal "${#lines[@]}" 3
	assert_line --index 0 --regexp '^ID +STARTED +MODE +RESULT +MANIFEST +STORAGE +CAP +PARTIAL$'
	assert_line --index 1 --regexp "^$ACT +[-0-9T:Z]+ +act +completed +2 +2 +false +false$"
	assert_line --index 2 --regexp "^$DRY +[-0-9T:Z]+ +dry-run +completed +2 +2 +false +false$"
}

@test "status --json prints Arc's status shape with last_run and recent_runs newest first" {
	shared main act
	run -0 arc-reconcile status --json --state-dir "$STATE"
	assert_equal "$(printf '%s' "$output" | jq -c '[.enabled, .last_run.id, [.recent_runs[].id], [.recent_runs[].dry_run], .grace_window, .clock_skew_allowance, .max_deletes_per_run, .max_manifest_size, .in_flight]')" \
	    "[true,\"$ACT\",[\"$ACT\",\"$DRY\"],[false,true],\"24h0m0s\",\"5m0s\",10000,200000,false]"
	assert_equal "$(printf '%s' "$output" | jq -c .last_run)" "$(jq -c . "$STATE/runs/$ACT.json")"
}

@test "show ID prints that run's record, and an unknown id is an error, exit 2" {
	shared main act
	run -0 arc-reconcile show --state-dir "$STATE" "$DRY"
	assert_equal "$(printf '%s' "$output" | jq -c .)" "$(jq -c . "$STATE/runs/$DRY.json")"
	run -2 --separate-stderr arc-reconcile show --state-dir "$STATE" no-such-run
	assert_output ''
	assert_stderr --partial "'no-such-run': no such run"
}

# ---- more runs, each on its own planted store --------------------------

@test "with --delete-pre-manifest-orphans the 6-segment daily file is deleted too and the run exits 0 although a young file remains" {
	plant
	run --separate-stderr reconcile --act --delete-pre-manifest-orphans
	expect 0
	assert_output "$(printf '%s\t%s\t%s\t%s\n' \
	    deleted orphan-manifest "$LOST1" DELETED \
	    deleted orphan-manifest "$LOST2" DELETED \
	    deleted orphan-storage "$DAILY" DELETED \
	    deleted orphan-storage "$ORPH1" DELETED \
	    deleted orphan-storage "$ORPH2" DELETED)"
	assert_stderr --partial "no drift remains"
	[ ! -e "$STORE/$DAILY" ]
	[ -f "$STORE/$YOUNG" ]
	assert_equal "$(field '[.aborted, .skipped_grace, .storage_deletes]')" '[false,1,3]'
}

@test "--now two days ahead ages the young file past the grace window, so it is deleted" {
	plant
	run --separate-stderr reconcile --act --now "$(date -u -d '+2 days' +%Y-%m-%dT%H:%M:%SZ)"
	expect 1
	assert_output "$(printf '%s\t%s\t%s\t%s\n' \
	    deleted orphan-manifest "$LOST1" DELETED \
	    deleted orphan-manifest "$LOST2" DELETED \
	    refused orphan-storage "$DAILY" LAYOUT_MISMATCH \
	    deleted orphan-storage "$ORPH1" DELETED \
	    deleted orphan-storage "$ORPH2" DELETED \
	    deleted orphan-storage "$YOUNG" DELETED)"
	[ ! -e "$STORE/$YOUNG" ]
	assert_equal "$(field .skipped_grace)" 0
}

@test "--max-deletes caps manifest plus storage deletes, smallest paths first and manifest first, and sets cap_hit" {
	shared cap act
	expect 1
	# a refusal uses no slot; orphan_2 is left untouched and unreported
	assert_output "$(printf '%s\t%s\t%s\t%s\n' \
	    deleted orphan-manifest "$LOST1" DELETED \
	    deleted orphan-manifest "$LOST2" DELETED \
	    refused orphan-storage "$DAILY" LAYOUT_MISMATCH \
	    deleted orphan-storage "$ORPH1" DELETED)"
	[ -f "$STORE/$ORPH2" ]
	assert_equal "$(field '[.manifest_deletes, .storage_deletes, .cap_hit]')" '[2,1,true]'
}

@test "the cap_hit audit event counts the deletes of the whole run, manifest and storage" {
	shared cap act
	# Arc: deletes_so_far is manifest_deletes + storage_deletes (2 + 1)
	run -0 jq -r 'select(.event == "reconcile.cap_hit") | .detail.deletes_so_far' "$STATE/audit.log"
	assert_output 3
}

@test "a cap spent by the manifest phase deletes no file" {
	shared cap1 act
	expect 1
	assert_line --index 0 "$(printf 'deleted\torphan-manifest\t%s\tDELETED' "$LOST1")"
	refute_line --partial "$(printf 'deleted\torphan-storage')"
	assert_equal "$(store_paths)" "$(cat "$SH/files.before")"
	run -0 jq -r .path "$MANIFEST"
	assert_line "$LOST2"
}

@test "when the cap cuts the manifest phase short, cap_hit is audited before that manifest batch, as in Arc" {
	shared cap1 act
	run -0 jq -r .event "$STATE/audit.log"
	assert_line --index 0 reconcile.run_started
	assert_line --index 1 reconcile.cap_hit
	assert_line --index 2 reconcile.manifest_batch_deleted
}

@test "Arc's ARC_RECONCILIATION_* environment knobs set the cap, grace, skew, pre-manifest deletes, sample size and batch size" {
	plant
	run --separate-stderr env ARC_RECONCILIATION_MAX_DELETES_PER_RUN=4 \
	    ARC_RECONCILIATION_GRACE_WINDOW=60 \
	    ARC_RECONCILIATION_CLOCK_SKEW_ALLOWANCE=60 \
	    ARC_RECONCILIATION_DELETE_PRE_MANIFEST_ORPHANS=true \
	    ARC_RECONCILIATION_SAMPLE_PATHS_CAP=1 \
	    ARC_RECONCILIATION_BATCH_SIZE=1 \
	    arc-reconcile --state-dir "$STATE" "$STORE" "$MANIFEST"
	expect 1
	assert_output "$(printf '%s\t%s\t%s\t%s\n' \
	    would-delete orphan-manifest "$LOST1" ORPHAN_MANIFEST \
	    would-delete orphan-manifest "$LOST2" ORPHAN_MANIFEST \
	    would-delete orphan-storage "$DAILY" ORPHAN_STORAGE \
	    would-delete orphan-storage "$ORPH1" ORPHAN_STORAGE)"
	# 2 minutes of grace: the 10-minute-old file is an orphan too
	assert_equal "$(field '[.skipped_grace, .orphan_storage_count, .cap_hit]')" '[0,4,true]'
	assert_equal "$(field '[.orphan_manifest_sample, .orphan_storage_sample]')" \
	    "[[\"$LOST1\"],[\"$DAILY\"]]"
	# batch size 1: one batch event per path
	run -0 jq -r 'select(.event | endswith("_batch_deleted")) | .detail.count' "$STATE/audit.log"
	assert_output "$(printf '1\n1\n1\n1')"
}

@test "a flag beats the environment: --max-deletes and --grace override ARC_RECONCILIATION_*" {
	plant
	run --separate-stderr env ARC_RECONCILIATION_MAX_DELETES_PER_RUN=1 \
	    ARC_RECONCILIATION_GRACE_WINDOW=60 \
	    arc-reconcile --state-dir "$STATE" --max-deletes 3 --grace 24h \
	    "$STORE" "$MANIFEST"
	expect 1
	assert_output "$(printf '%s\t%s\t%s\t%s\n' \
	    would-delete orphan-manifest "$LOST1" ORPHAN_MANIFEST \
	    would-delete orphan-manifest "$LOST2" ORPHAN_MANIFEST \
	    refused orphan-storage "$DAILY" LAYOUT_MISMATCH \
	    would-delete orphan-storage "$ORPH1" ORPHAN_STORAGE)"
	assert_equal "$(field .skipped_grace)" 1
}

@test "in act mode a grace window under 1h is refused before anything is recorded, exit 2" {
	plant
	before=$(snapshot)
	run --separate-stderr reconcile --act --grace 59m
	expect 2
	assert_output ''
	assert_stderr --partial "grace window under 1h is refused in act mode"
	assert_equal "$(snapshot)" "$before"
	[ ! -e "$STATE/audit.log" ]
	[ -z "$(find "$BATS_TEST_TMPDIR" -path "$STATE/*" -name '*.json')" ]
}

@test "a dry run accepts a grace window under 1h" {
	shared main dry
	expect 1
	assert_equal "$(field '[.dry_run, .skipped_grace]' "$STATE/runs/$DRY.json")" '[true,1]'
}

@test "--mode local --node makes only this node's entries orphan-manifest candidates, never a peer's or an empty origin's" {
	mkdir -p "$STORE/db/cpu/$H"
	for i in $(seq -w 1 12); do
		put "db/cpu/$H/cpu_$i.parquet"
		fentry "db/cpu/$H/cpu_$i.parquet" >>"$MANIFEST"
	done
	put "db/cpu/$H/replicated.parquet"
	find "$STORE" -type f -exec touch -d '2 days ago' {} +
	{
		fentry "db/cpu/$H/mine.parquet" node-1
		fentry "db/cpu/$H/peer.parquet" node-2
		fentry "db/cpu/$H/no-origin.parquet" ''
		fentry "db/cpu/$H/replicated.parquet" node-2
	} >>"$MANIFEST"
	run --separate-stderr reconcile --act --mode local --node node-1
	expect 0
	assert_output "$(printf 'deleted\torphan-manifest\tdb/cpu/%s/mine.parquet\tDELETED' "$H")"
	run -0 jq -r .path "$MANIFEST"
	assert_line "db/cpu/$H/peer.parquet"
	assert_line "db/cpu/$H/no-origin.parquet"
	assert_line "db/cpu/$H/replicated.parquet"
	refute_line "db/cpu/$H/mine.parquet"
	[ -f "$STORE/db/cpu/$H/replicated.parquet" ]
	assert_equal "$(field '[.backend_kind, .manifest_file_count, .orphan_manifest_count, .orphan_storage_count]')" \
	    '["local",16,1,0]'
}

# ---- safety stops ----------------------------------------------------

@test "a partial listing (an unreadable directory) reports orphan-manifest candidates, deletes none and sets walk_partial" {
	need_unpriv
	# root reads any directory: run as nobody on a tree nobody owns, in a
	# directory outside the 0700 per-test one
	WORLD=$(mktemp -d /tmp/arc-pipeline-bats.XXXXXX)
	chmod 755 "$WORLD"
	STORE=$WORLD/store MANIFEST=$WORLD/manifest.ndjson STATE=$WORLD/state
	OUTSIDE=$WORLD/outside
	mkdir -p "$STORE" "$WORLD/tmp"
	: >"$MANIFEST"
	plant
	mkdir -p "$STORE/db/hid/$H"
	put "db/hid/$H/hidden_1.parquet"
	fentry "db/hid/$H/hidden_1.parquet" >>"$MANIFEST"
	chown -R nobody:nogroup "$WORLD"
	chmod 000 "$STORE/db/hid/$H"
	entries_before=$(cat "$MANIFEST")
	run --separate-stderr unpriv env TMPDIR="$WORLD/tmp" arc-reconcile \
	    --state-dir "$STATE" --act "$STORE" "$MANIFEST"
	expect 1
	assert_stderr --partial "cannot open directory 'db/hid/$H'"
	assert_stderr --partial "listing was partial"
	refute_line --partial "$(printf 'deleted\torphan-manifest')"
	assert_line "$(printf 'would-delete\torphan-manifest\t%s\tLISTING_PARTIAL' "$LOST1")"
	assert_line "$(printf 'would-delete\torphan-manifest\t%s\tLISTING_PARTIAL' "$LOST2")"
	assert_equal "$(cat "$MANIFEST")" "$entries_before"
	assert_equal "$(field '[.walk_partial, .manifest_deletes, .orphan_manifest_count]')" '[true,0,3]'
}

# plant_heavy: plant, plus ten more old orphan files: 13 orphan-storage
# candidates of 50 listed files, over the default ratio of 0.10.
plant_heavy() {
	plant
	for i in $(seq -w 1 10); do
		put "db/aaa/$H/extra_$i.parquet"
	done
	find "$STORE/db/aaa/$H" -name 'extra_*' -exec touch -d '2 days ago' {} +
}

@test "in act mode drift above --max-orphan-ratio aborts as implausible_drift with exit 2 and deletes nothing" {
	plant_heavy
	before=$(snapshot)
	run --separate-stderr reconcile --act
	expect 2
	assert_output ''
	assert_stderr --partial "aborted (implausible_drift)"
	assert_equal "$(snapshot)" "$before"
	assert_equal "$(field '[.aborted, .abort_reason, .manifest_deletes, .storage_deletes, .orphan_storage_count]')" \
	    '[true,"implausible_drift",0,0,13]'
	run -0 jq -r .event "$STATE/audit.log"
	assert_output "$(printf 'reconcile.run_started\nreconcile.run_aborted')"
}

@test "a wrong (empty) STORE makes every entry an orphan and trips the breaker; the manifest is untouched" {
	plant
	entries_before=$(cat "$MANIFEST")
	mkdir "$BATS_TEST_TMPDIR/empty"
	run --separate-stderr arc-reconcile --state-dir "$STATE" --act \
	    "$BATS_TEST_TMPDIR/empty" "$MANIFEST"
	expect 2
	assert_stderr --partial "aborted (implausible_drift)"
	assert_equal "$(cat "$MANIFEST")" "$entries_before"
}

@test "the breaker never stops a dry run, and --max-orphan-ratio 1 disables it in act mode" {
	plant_heavy
	run --separate-stderr reconcile
	expect 1
	assert_equal "$(printf '%s\n' "$output" | grep -c '^would-delete	orphan-storage	')" 12
	run --separate-stderr reconcile --act --max-orphan-ratio 1
	expect 1
	assert_equal "$(printf '%s\n' "$output" | grep -c '^deleted	orphan-storage	')" 12
	run -0 find "$STORE/db/aaa/$H" -name 'extra_*'
	assert_output ''
}

@test "a manifest over --max-manifest aborts as manifest_too_large with exit 2 and changes nothing" {
	plant
	before=$(snapshot)
	run --separate-stderr reconcile --act --max-manifest 37
	expect 2
	assert_output ''
	assert_stderr --partial "aborted (manifest_too_large)"
	assert_equal "$(snapshot)" "$before"
	assert_equal "$(field '[.aborted, .abort_reason, .manifest_file_count]')" \
	    '[true,"manifest_too_large",0]'
}

@test "a second run while the lock is held exits 75, says already running and records nothing" {
	plant
	mkdir -p "$STATE"
	flock "$STATE/lock" sleep 5 3>&- &
	holder=$!
	KILL_PIDS=$holder
	for i in $(seq 50); do
		flock -n "$STATE/lock" true || break
		sleep 0.1
	done
	before=$(snapshot)
	run --separate-stderr reconcile --act
	expect 75
	assert_output ''
	assert_stderr --partial "already running"
	assert_equal "$(snapshot)" "$before"
	[ ! -e "$STATE/audit.log" ]
	run -0 find "$STATE/runs" "$STATE/archives" -type f
	assert_output ''
	kill_tree "$holder"
	KILL_PIDS=
}

@test "--history N keeps only the newest N run records" {
	run --separate-stderr reconcile --history 1
	expect 0
	first=$(run_id_of "$stderr")
	run --separate-stderr reconcile --history 1
	expect 0
	second=$(run_id_of "$stderr")
	[ -n "$first" ] && [ "$first" != "$second" ]
	run -0 ls "$STATE/runs"
	assert_output "$second.json"
}

# ---- a writer racing act runs ----------------------------------------

# writer N MODE: create N files in Arc's layout under db/race/ and register
# each with one JSON line appended under `flock MANIFEST.lock`, logging a
# path to $BATS_TEST_TMPDIR/written once it is registered; stop early when
# $BATS_TEST_TMPDIR/stop exists.  MODE "after" creates the file and then
# registers it, as Arc's writer does: only the grace window covers the
# gap between the two.  MODE "locked" creates and registers it inside one
# hold of the lock, so that the live re-checks alone must keep it.  Every
# fourth time it also registers a ghost, an entry without a file (logged
# to $BATS_TEST_TMPDIR/ghosts), so that every run has manifest entries to
# delete and rewrites the manifest while the writer appends to it.
writer() {
	local n=$1 mode=$2 i p g hh
	# a pause without a process: read with a timeout from a silent FIFO,
	# so that the writer leaves the CPUs to the runs it races
	mkfifo "$BATS_TEST_TMPDIR/pause"
	exec 8<>"$BATS_TEST_TMPDIR/pause"
	for ((i = 1; i <= n; i++)); do
		[ -e "$BATS_TEST_TMPDIR/stop" ] && break
		read -r -t 0.05 -u 8 || true
		printf -v hh '%02d' $((i % 24))
		printf -v p 'db/race/2026/04/10/%s/race_20260410_%s0000_%09d.parquet' "$hh" "$hh" "$i"
		printf -v g 'db/ghost/2026/04/10/%s/ghost_20260410_%s0000_%09d.parquet' "$hh" "$hh" "$i"
		[ "$mode" = after ] && printf 'race %d\n' "$i" >"$STORE/$p"
		{
			flock 9
			[ "$mode" = locked ] && printf 'race %d\n' "$i" >"$STORE/$p"
			fentry "$p" >>"$MANIFEST"
			((i % 4)) || fentry "$g" >>"$MANIFEST"
		} 9>>"$MANIFEST.lock"
		printf '%s\n' "$p" >>"$BATS_TEST_TMPDIR/written"
		((i % 4)) || printf '%s\n' "$g" >>"$BATS_TEST_TMPDIR/ghosts"
	done
}

# race MODE RUNS OPTION...: plant drift, start the writer, make RUNS act
# runs back to back, stop the writer, and check that nothing it wrote is
# gone while the planted drift and the ghosts were repaired.
race() {
	# not "i": bats' run clobbers a global i (bats_version_lt)
	local mode=$1 runs=$2 round i
	shift 2
	mkdir -p "$STORE/db/cpu/$H" "$STORE/db/aaa/$H" \
	    "$STORE"/db/race/2026/04/10/{00..23}
	for i in $(seq -w 1 30); do
		put "db/cpu/$H/cpu_$i.parquet"
		fentry "db/cpu/$H/cpu_$i.parquet" >>"$MANIFEST"
	done
	fentry "$LOST1" >>"$MANIFEST"
	put "$ORPH1"
	find "$STORE" -type f -exec touch -d '2 days ago' {} +
	: >"$MANIFEST.lock"
	: >"$BATS_TEST_TMPDIR/written"
	: >"$BATS_TEST_TMPDIR/ghosts"
	writer 300 "$mode" 3>&- &
	KILL_PIDS=$!
	# let the writer get going: wait for its first ghost
	for ((round = 0; round < 100; round++)); do
		[ -s "$BATS_TEST_TMPDIR/ghosts" ] && break
		sleep 0.05
	done
	n0=$(wc -l <"$BATS_TEST_TMPDIR/written")
	for ((round = 1; round <= runs; round++)); do
		# the ghosts registered before the last run starts are its to delete
		sort "$BATS_TEST_TMPDIR/ghosts" >"$BATS_TEST_TMPDIR/ghosts.old"
		run --separate-stderr reconcile --act --max-orphan-ratio 1 "$@"
		[ "$status" -le 1 ] || expect 1
		# a store directory emptied by an earlier run is no partial listing
		[[ $stderr != *"listing was partial"* ]] || { echo "$stderr"; false; }
	done
	n1=$(wc -l <"$BATS_TEST_TMPDIR/written")
	touch "$BATS_TEST_TMPDIR/stop"
	wait "$KILL_PIDS"
	KILL_PIDS=
	written=$(sort "$BATS_TEST_TMPDIR/written")
	# the writer really wrote while the runs ran
	[ "$((n1 - n0))" -ge 3 ] || { echo "the writer wrote $((n1 - n0)) files during the runs"; false; }
	# every file it registered is still there ...
	run -0 comm -23 <(printf '%s\n' "$written") <(store_paths)
	assert_output ''
	# ... and so is every entry it wrote
	run -0 comm -23 <(printf '%s\n' "$written") <(manifest_paths)
	assert_output ''
	# while the planted drift was repaired, and the manifest was rewritten
	# under the writer: the last run deleted the ghosts it saw
	[ ! -e "$STORE/$ORPH1" ]
	[ -s "$BATS_TEST_TMPDIR/ghosts.old" ]
	run -0 comm -12 "$BATS_TEST_TMPDIR/ghosts.old" <(manifest_paths)
	assert_output ''
	run -0 jq -r .path "$MANIFEST"
	refute_line "$LOST1"
}

@test "act runs racing a writer that creates then registers files never delete its young files or lose its entries" {
	race after 2 --grace 1h --now "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
}

@test "with grace defeated by a far-future --now, the live re-checks alone keep a racing writer's files and entries" {
	race locked 3 --now 2099-01-01T00:00:00Z
}
