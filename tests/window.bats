#!/usr/bin/env bats
# window.bats - runs that fit a window (arc-reconcile(1), Time-boxed
# runs): --max-duration lists the key range after a cursor kept in the
# state directory, diffs and repairs only that range, and the next run
# continues after it, wrapping at the end.  A local store with
# --max-duration 1ms lists one file a run (the deadline has passed once
# one file is taken), which makes every range known in advance; an S3
# store behind tests/proxy.py, whose listing pages are slowed, is cut at
# page boundaries; an Azure store (Azurite), which has no start-after, is
# read from the start and passed over up to the cursor.  Servers: s3rver
# 3.7.1 and the proxy, Azurite 3.35.0 for its one test, each stopped by
# its PID.
load test_helper
load servers
bats_require_minimum_version 1.5.0

H=2026/04/11/14			# an hour directory: files in it have 7 segments
NOW=2026-04-11T14:00:00Z
OLD='2026-04-01 00:00:00'	# far outside the grace window at $NOW

setup_file() {
	[ -d "$ARC_NODE_MODULES/s3rver" ] || {
		echo "the npm test servers are missing: sh tests/deps.sh build test" >&2
		return 1
	}
	start_s3_proxied
	wait_s3_proxied
}

teardown_file() {
	stop_named fp
	stop_named s3
}

teardown() {
	if [ -n "${AZ_STARTED:-}" ]; then
		stop_azurite
	fi
}

setup() {
	STORE=$BATS_TEST_TMPDIR/s
	MANIFEST=$BATS_TEST_TMPDIR/m.ndjson
	STATE=$BATS_TEST_TMPDIR/state
}

# ---- helpers -------------------------------------------------------------

# plant: in $STORE and $MANIFEST, a file in the manifest for each of
# db/m1 .. db/m6, an orphan file under db/m2 and db/m5, and a manifest
# entry without a file under db/m4 (after db/m4's file in key order).
plant() {
	local n
	mkdir -p "$STORE"
	: >"$MANIFEST"
	for n in 1 2 3 4 5 6; do
		mkfile "$STORE/db/m$n/$H/a.parquet"
		entry "db/m$n/$H/a.parquet" >>"$MANIFEST"
	done
	mkfile "$STORE/db/m2/$H/orph.parquet"
	mkfile "$STORE/db/m5/$H/orph.parquet"
	entry "db/m4/$H/lost.parquet" >>"$MANIFEST"
}

# boxed ARGS...: one time-boxed run of $STORE and $MANIFEST.
boxed() {
	arc-reconcile --state-dir "$STATE" --max-orphan-ratio 1 "$@" \
	    "$STORE" "$MANIFEST"
}

# last KEY: a field of the last run's record (jq path after .last_run).
last() {
	arc-reconcile status --json --state-dir "$STATE" | jq -c ".last_run$1"
}

# boxes_until_wrap LIMIT NOW DURATION STORE MANIFEST: time-boxed act runs
# (--max-duration DURATION, state in st-box) until the cursor wraps, at
# most LIMIT runs, each exiting 0 or 1; sets got (the deleted lines of
# all), wrapped (the last run's window.wrapped) and cuts (the runs cut
# short).
boxes_until_wrap() {
	local n=0 rec
	got= wrapped=false cuts=0
	while [ "$wrapped" != true ] && [ "$n" -lt "$1" ]; do
		run --separate-stderr arc-reconcile --state-dir st-box --act \
		    --now "$2" --max-orphan-ratio 1 --max-duration "$3" "$4" "$5"
		[ "$status" -le 1 ] || fail "run $n: exit $status: $stderr"
		got+=$(grep '^deleted' <<<"$output" || true)$'\n'
		rec=$(arc-reconcile status --json --state-dir st-box |
		    jq -c .last_run.window)
		wrapped=$(jq -r .wrapped <<<"$rec")
		[ "$(jq -r .cut_short <<<"$rec")" = true ] && cuts=$((cuts + 1))
		n=$((n + 1))
	done
}

# cursor_after: the path the cursor says the next run lists after.
cursor_after() {
	jq -r .after "$STATE"/cursors/*.json
}

# alternate M1 M2 FROM...: one boxed act run with each manifest in turn
# per FROM; each run must start after FROM (null: at the beginning) and
# drop no cursor.
alternate() {
	local m1=$1 m2=$2 from m
	shift 2
	for from in "$@"; do
		for m in "$m1" "$m2"; do
			MANIFEST=$m run --separate-stderr boxed --act \
			    --max-duration 1ms
			refute_stderr --partial dropped
			assert_equal "$(last .window.from)" "$from"
		done
	done
}

# ---- arc-list and arc-delete ----------------------------------------------

@test "arc-list --after lists only the paths after the cursor, in order, and -S says the range was listed to the end" {
	plant
	run -0 --separate-stderr arc-list --after "db/m4/$H/a.parquet" \
	    -S st.json "$STORE"
	assert_equal "$(cut -f1 <<<"$output")" "db/m5/$H/a.parquet
db/m5/$H/orph.parquet
db/m6/$H/a.parquet"
	assert_equal "$(jq -c . st.json)" \
	    "{\"range_after\":\"db/m4/$H/a.parquet\",\"range_end\":null,\"listing_cut\":false,\"listed_in_range\":3}"
	# the control: from the start, every file
	run -0 arc-list --after '' "$STORE"
	assert_equal "${#lines[@]}" 8
}

@test "arc-list --deadline in the past takes one file and says the range ends there" {
	plant
	run -0 --separate-stderr arc-list --after "db/m1/$H/a.parquet" \
	    --deadline 1 -S st.json "$STORE"
	assert_equal "$(cut -f1 <<<"$output")" "db/m2/$H/a.parquet"
	assert_equal "$(jq -r .range_end st.json)" "db/m2/$H/a.parquet"
	assert_equal "$(jq -r .listing_cut st.json)" true
	run -2 --separate-stderr arc-list --deadline 1 "$STORE"
	assert_stderr --partial "--deadline needs --after"
}

@test "arc-delete --deadline in the past ends after one batch, leaves the rest for a later run and exits 1" {
	plant
	printf 'orphan-storage\tdb/m%s/%s/orph.parquet\t2026-04-01T00:00:00Z\t20\n' 2 "$H" 5 "$H" >c.rec
	run -1 --separate-stderr arc-delete --act -A a.tar.gz -b 1 --deadline 1 \
	    -S st.json "$STORE" "$MANIFEST" <c.rec
	assert_output "$(res deleted storage "db/m2/$H/orph.parquet")"
	assert_stderr --partial "the deadline passed: 1 candidates left for a later run"
	assert [ -f "$STORE/db/m5/$H/orph.parquet" ]
	assert_equal "$(jq -c '[.deadline_hit, .left_by_deadline]' st.json)" '[true,1]'
	# the control: no deadline, both go
	run -0 arc-delete --act -A b.tar.gz -b 1 -S st.json "$STORE" "$MANIFEST" <c.rec
	assert [ ! -e "$STORE/db/m5/$H/orph.parquet" ]
}

# ---- local store -----------------------------------------------------------

@test "a manifest entry outside the range listed is not an orphan even though its file is absent; the run whose range holds it deletes it" {
	plant
	cp -a "$STORE" s2
	cp "$MANIFEST" m2.ndjson
	# the control: an unbounded run sees the entry as an orphan
	run -1 --separate-stderr arc-reconcile --state-dir st2 \
	    --max-orphan-ratio 1 s2 m2.ndjson
	assert_line "would-delete	orphan-manifest	db/m4/$H/lost.parquet	ORPHAN_MANIFEST"
	# one file a run: the entry sorts after db/m4's file, run 6's range
	for n in 1 2 3 4 5; do
		run --separate-stderr boxed --act --max-duration 1ms
		refute_output --partial lost.parquet
		assert grep -q lost.parquet "$MANIFEST"
	done
	assert_equal "$(last .window.to)" "\"db/m4/$H/a.parquet\""
	run --separate-stderr boxed --act --max-duration 1ms
	assert_output "$(res deleted manifest "db/m4/$H/lost.parquet")"
	assert_equal "$(last .window)" \
	    "{\"from\":\"db/m4/$H/a.parquet\",\"to\":\"db/m5/$H/a.parquet\",\"wrapped\":false,\"cut_short\":true,\"cursor_dropped\":null,\"cursor_moved\":true}"
	refute grep -q lost.parquet "$MANIFEST"
}

@test "a phase stopped at the deadline with candidates left keeps the cursor, and the next run lists the same range and repairs the rest" {
	mkdir -p "$STORE"
	: >"$MANIFEST"
	for f in a b c z; do
		entry "db/m1/$H/$f.parquet" >>"$MANIFEST"
	done
	mkfile "$STORE/db/m1/$H/a.parquet"
	mkfile "$STORE/db/m1/$H/z.parquet"
	run --separate-stderr boxed --act --max-duration 1ms --batch 1
	assert_equal "$(cursor_after)" "db/m1/$H/a.parquet"
	# the range (a, z] holds two orphan entries: one batch, then the deadline
	run -1 --separate-stderr boxed --act --max-duration 1ms --batch 1
	assert_output "$(res deleted manifest "db/m1/$H/b.parquet")"
	assert_stderr --partial "1 candidates left for a later run"
	assert_equal "$(last .window.cut_short)" true
	assert_equal "$(last .window.cursor_moved)" false
	assert_equal "$(cursor_after)" "db/m1/$H/a.parquet"
	# the same range again, to the end of the key space: not cut short
	run -0 --separate-stderr boxed --act --max-duration 1ms --batch 1 --detailed-exit
	assert_output "$(res deleted manifest "db/m1/$H/c.parquet")"
	assert_equal "$(last .window.from)" "\"db/m1/$H/a.parquet\""
	assert_equal "$(last .window.wrapped)" true
	assert_equal "$(cursor_after)" ""
	assert_equal "$(jq -r .path "$MANIFEST")" "db/m1/$H/a.parquet
db/m1/$H/z.parquet"
}

@test "a cursor kept for a store directory put in place of the store is dropped with a line on stderr and in the record; another manifest starts at the beginning with a cursor of its own" {
	plant
	run --separate-stderr boxed --act --max-duration 1ms
	run --separate-stderr boxed --act --max-duration 1ms
	assert_equal "$(cursor_after)" "db/m2/$H/a.parquet"
	# the control: the same store and manifest continue after it
	run --separate-stderr boxed --act --max-duration 1ms
	refute_stderr --partial dropped
	assert_equal "$(last .window.from)" "\"db/m2/$H/a.parquet\""
	# another manifest: its own cursor, from the start, the first one kept
	cp "$MANIFEST" other.ndjson
	MANIFEST=$BATS_TEST_TMPDIR/other.ndjson
	run --separate-stderr boxed --act --max-duration 1ms
	refute_stderr --partial dropped
	assert_equal "$(last .window.cursor_dropped)" null
	assert_equal "$(last .window.from)" null
	assert_equal "$(ls "$STATE"/cursors | wc -l)" 2
	# another directory in the store's place
	mv "$STORE" s.old
	cp -a s.old "$STORE"
	run --separate-stderr boxed --act --max-duration 1ms
	assert_stderr --partial "dropped: the store directory was replaced"
	assert_equal "$(last .window.from)" null
	run --separate-stderr boxed --act --max-duration 1ms
	refute_stderr --partial dropped
	assert_equal "$(last .window.from)" "\"db/m1/$H/a.parquet\""
}

@test "runs of one store against two manifests, alternating, each continue after their own cursor" {
	plant
	cp "$MANIFEST" "$BATS_TEST_TMPDIR/m2.ndjson"
	alternate "$MANIFEST" "$BATS_TEST_TMPDIR/m2.ndjson" null \
	    "\"db/m1/$H/a.parquet\"" "\"db/m2/$H/a.parquet\""
	assert_equal "$(ls "$STATE"/cursors | wc -l)" 2
	# the control: one manifest alone moves on the same way
	rm -rf "$STATE"
	run --separate-stderr boxed --act --max-duration 1ms
	run --separate-stderr boxed --act --max-duration 1ms
	assert_equal "$(last .window.from)" "\"db/m1/$H/a.parquet\""
}

@test "a link in place of the cursor file is refused: exit 2, nothing deleted, the link's target untouched" {
	plant
	run --separate-stderr boxed --act --max-duration 1ms
	f=$(ls "$STATE"/cursors/*.json)
	echo precious >target
	rm "$f"
	ln -s "$BATS_TEST_TMPDIR/target" "$f"
	before=$(find "$STORE" -type f | sort; cat "$MANIFEST")
	run -2 --separate-stderr boxed --act --max-duration 1h
	assert_stderr --partial "a link or not a regular file; refused"
	assert_stderr --partial "aborted (cursor_refused)"
	assert_equal "$(last .abort_reason)" '"cursor_refused"'
	assert_equal "$(find "$STORE" -type f | sort; cat "$MANIFEST")" "$before"
	assert_equal "$(cat target)" precious
	# the control: the link removed, the same run repairs everything
	rm "$f"
	run -0 --separate-stderr boxed --act --max-duration 1h
	refute [ -e "$STORE/db/m2/$H/orph.parquet" ]
	assert_equal "$(cat target)" precious
}

@test "a run cut short by --max-duration exits 8 with --detailed-exit and 1 or 0 without; a run that reaches the end exits 0" {
	plant
	# the first file's range holds no drift: 0, or 8
	run -0 --separate-stderr boxed --max-duration 1ms
	assert_stderr --partial "cut short by --max-duration"
	run -8 --separate-stderr boxed --max-duration 1ms --detailed-exit
	assert_equal "$(last .window.cut_short)" true
	# a dry run does not move the cursor: drift after it is found by
	# an act run, whose second range (db/m2/.../a.parquet) holds none
	assert_equal "$(last .window.cursor_moved)" false
	run -0 --separate-stderr boxed --act --max-duration 1ms
	run -0 --separate-stderr boxed --act --max-duration 1ms
	# the third range holds db/m2's orphan: a dry run would delete it
	run -1 --separate-stderr boxed --max-duration 1ms
	assert_output --partial "would-delete	orphan-storage	db/m2/$H/orph.parquet"
	run -8 --separate-stderr boxed --max-duration 1ms --detailed-exit
	# the control: a window that holds the whole store is not cut short
	run -1 --separate-stderr boxed --max-duration 1h
	assert_equal "$(last .window.cut_short)" false
	run -0 --separate-stderr boxed --act --max-duration 1h --detailed-exit
	assert_equal "$(last .window.wrapped)" true
}

# ---- S3, slowed ------------------------------------------------------------

# s3plant BUCKET MANIFEST: in BUCKET, 12 files in the manifest across
# four measurements, an orphan file in two of them, and two entries with
# no file; all old.
s3plant() {
	local m keys=()
	: >"$2"
	for m in a b c d; do
		for n in 1 2 3; do
			keys+=("db/$m/$H/f$n.parquet")
			entry "db/$m/$H/f$n.parquet" >>"$2"
		done
	done
	keys+=("db/a/$H/o.parquet" "db/d/$H/o.parquet")
	for m in b c; do
		entry "db/$m/$H/lost.parquet" >>"$2"
	done
	make_bucket "$1"
	s3seed_old "$1" "${keys[@]}"
}

@test "on a slowed S3 store, successive time-boxed runs together delete exactly what one unbounded run deletes, each path once, and the cursor wraps" {
	export ARC_HTTP_BACKOFF_MS=1 ARC_HTTP_ATTEMPTS=2 ARC_HTTP_TIMEOUT=10
	s3plant ctl ctl.ndjson
	s3plant box box.ndjson
	# the positive control: one unbounded run of the same setup
	run -0 --separate-stderr arc-reconcile --state-dir st-ctl --act \
	    --now "$NOW" --max-orphan-ratio 1 s3://ctl ctl.ndjson
	want=$(grep '^deleted' <<<"$output" | sort)
	assert_equal "$(wc -l <<<"$want")" 4
	# every listing page 0.4s late, four keys a page: a 1s window lists
	# a page or two of the 14 keys a run
	printf '# window %s\nGET list-type=2 delay:0.4\n' "$RANDOM" \
	    >"$BATS_FILE_TMPDIR/fp.rules"
	export ARC_LIST_PAGE_KEYS=4
	export AWS_ENDPOINT_URL=$FP_URL
	boxes_until_wrap 30 "$NOW" 1s s3://box box.ndjson
	assert_equal "$wrapped" true
	# more than one run: the window did cut the listing
	assert [ "$cuts" -ge 1 ]
	assert_equal "$(grep . <<<"$got" | sort)" "$want"
	assert_equal "$(grep . <<<"$got" | sort | uniq -d)" ""
	assert_equal "$(jq -r .after st-box/cursors/*.json)" ""
	assert_equal "$(cat box.ndjson)" "$(cat ctl.ndjson)"
	assert_equal "$(cd "$S3_DATA/box" && find . -name '*._S3rver_object' | sort)" \
	    "$(cd "$S3_DATA/ctl" && find . -name '*._S3rver_object' | sort)"
	# the listing asked for pages after the cursor, never from the start again
	assert grep -q 'start-after=' "$BATS_FILE_TMPDIR/fp.requests"
}

# ---- Azure ---------------------------------------------------------------

@test "on an Azure store, time-boxed runs pass over the paths up to the cursor and together delete what one unbounded run deletes, each path once" {
	start_azurite 2>/dev/null ||
	    wait_http_for 60 "http://127.0.0.1:$AZ_PORT/"
	AZ_STARTED=1
	local m keys=()
	for m in a b; do
		for n in 1 2; do
			keys+=("db/$m/$H/f$n.parquet")
			entry "db/$m/$H/f$n.parquet" >>az.ndjson
		done
	done
	keys+=("db/a/$H/o.parquet" "db/b/$H/o.parquet")
	entry "db/a/$H/lost.parquet" >>az.ndjson
	cp az.ndjson ctl.ndjson
	make_container box
	make_container ctl
	azseed box "${keys[@]}"
	azseed ctl "${keys[@]}"
	# every blob a week old at the run's time
	now=$(date -u -d '+7 days' +%Y-%m-%dT%H:%M:%SZ)
	run -0 --separate-stderr arc-reconcile --state-dir st-ctl --act \
	    --now "$now" --max-orphan-ratio 1 az://ctl ctl.ndjson
	want=$(grep '^deleted' <<<"$output" | sort)
	assert_equal "$(wc -l <<<"$want")" 3
	# two blobs a page, the deadline already past: a run reads pages from
	# the start until one brings a blob after the cursor, then stops
	export ARC_LIST_PAGE_KEYS=2
	boxes_until_wrap 20 "$now" 1ms az://box az.ndjson
	assert_equal "$wrapped" true
	assert [ "$cuts" -ge 2 ]
	assert_equal "$(grep . <<<"$got" | sort)" "$want"
	assert_equal "$(grep . <<<"$got" | sort | uniq -d)" ""
	assert_equal "$(cat az.ndjson)" "$(cat ctl.ndjson)"
	assert_equal "$(arc-list az://box | cut -f1)" "$(arc-list az://ctl | cut -f1)"
}
