#!/usr/bin/env bats
# plan.bats - arc-reconcile plan -o PLAN writes a sealed plan of what a
# dry run would delete; arc-reconcile apply PLAN deletes exactly that,
# and refuses (exit 2, nothing deleted) a plan edited, too old, dated
# ahead, from a partial listing or an aborted run, or whose manifest
# moved other than by appends.  Local stores and NDJSON manifests, and
# one test each on etcd and on S3 (s3rver), both on 127.0.0.1.
load test_helper
load servers
bats_require_minimum_version 1.5.0

D=db/cpu/2026/04/11/14

setup_file() {
	SERVERS=
	if command -v etcd >/dev/null &&
	    [ -d "$ARC_NODE_MODULES/s3rver" ]; then
		launch_etcd
		start_s3rver
		etcd_wait "$ETCD_PORT"
		SERVERS=1
	fi
	export SERVERS
}

teardown_file() {
	if [ -n "$SERVERS" ]; then
		stop_s3rver
		stop_etcd
	fi
}

setup() {
	WORLD=$BATS_TEST_TMPDIR
	STORE=$WORLD/s
	MANIFEST=$WORLD/m.ndjson
	STATE=$WORLD/state
	export ARC_HTTP_ATTEMPTS=2 ARC_HTTP_TIMEOUT=3 ARC_HTTP_BACKOFF_MS=50
}

teardown() {
	if [ -n "${CLEAN:-}" ]; then
		chmod -R u+rwx "$CLEAN" 2>/dev/null || true
		rm -rf "$CLEAN"
	fi
}

# fentry PATH: an NDJSON FileEntry without a jq process
fentry() {
	printf '{"path":"%s","created_at":"2026-04-11T14:00:00Z","size_bytes":10,"database":"db","measurement":"cpu","origin_node_id":"node-1","lsn":1}\n' "$1"
}

# plant: in $D, four files and entries in sync (keep1..4), two orphan
# entries (lost1, lost2) and two orphan files (orph1, orph2), all two
# days old; the plans below allow that much drift (--max-orphan-ratio 1).
plant() {
	local n
	mkdir -p "$STORE/$D"
	: >"$MANIFEST"
	for n in 1 2 3 4; do
		echo "data:$n" >"$STORE/$D/keep$n.parquet"
		fentry "$D/keep$n.parquet" >>"$MANIFEST"
	done
	for n in 1 2; do
		fentry "$D/lost$n.parquet" >>"$MANIFEST"
		echo "orphan:$n" >"$STORE/$D/orph$n.parquet"
	done
	touch -d '2 days ago' "$STORE/$D"/*
}

plan() {
	arc-reconcile plan -o "${PLAN:-p.plan}" --state-dir "$STATE" \
	    --max-orphan-ratio 1 "$@" "$STORE" "$MANIFEST"
}

apply() {
	arc-reconcile apply --state-dir "$STATE" "$@"
}

snapshot() {
	find "$STORE" -type f | sort
	cat "$MANIFEST"
}

# the run record of the last run
last_record() {
	arc-reconcile status --json --state-dir "$STATE" | jq -c .last_run
}

# reseal PLAN: the plan's seal and last line made again for its body, as
# a writer of a forged plan would (sha256sum: an independent hash)
reseal() {
	local body
	body=$(head -n -2 "$1"; echo x)
	body=${body%x}
	{
		printf '%s' "$body"
		printf 'seal %s\n' "$(printf '%s' "$body" | sha256sum | cut -c1-64)"
		echo '# apply with: arc-reconcile apply PLAN'
	} >"$1.new"
	mv "$1.new" "$1"
}

@test "plan writes every candidate with its code, sealed, and apply deletes exactly those" {
	plant
	run -1 --separate-stderr plan
	assert_stderr --partial "plan 'p.plan': 4 candidates"
	assert_equal "$(stat -c %a p.plan)" 600
	assert_equal "$(grep '^candidate ' p.plan)" "$(printf '%s\n' \
	    "candidate orphan-manifest ORPHAN_MANIFEST $D/lost1.parquet" \
	    "candidate orphan-manifest ORPHAN_MANIFEST $D/lost2.parquet" \
	    "candidate orphan-storage ORPHAN_STORAGE $D/orph1.parquet" \
	    "candidate orphan-storage ORPHAN_STORAGE $D/orph2.parquet")"
	assert_equal "$(tail -n 1 p.plan)" "# apply with: arc-reconcile apply PLAN"
	assert_equal "$(grep '^seal ' p.plan | cut -d' ' -f2)" \
	    "$(head -n -2 p.plan | sha256sum | cut -c1-64)"
	assert_equal "$(grep '^store ' p.plan)" "store $STORE"
	assert_equal "$(grep '^manifest_size ' p.plan)" \
	    "manifest_size $(stat -c %s "$MANIFEST")"
	grep -qx 'option --grace 24h' p.plan
	grep -qx 'listing complete' p.plan
	grep -qx 'aborted no' p.plan
	# the dry run changed nothing
	assert [ -f "$STORE/$D/orph1.parquet" ]
	# apply, from another directory: the plan names absolute operands
	mkdir elsewhere
	cd elsewhere
	run -0 --separate-stderr apply ../p.plan
	assert_output "$(res deleted manifest "$D/lost1.parquet"
	    res deleted manifest "$D/lost2.parquet"
	    res deleted storage "$D/orph1.parquet"
	    res deleted storage "$D/orph2.parquet")"
	assert_equal "$(find "$STORE" -name 'orph*' | wc -l)" 0
	assert_equal "$(grep -c lost "$MANIFEST")" 0
	assert_equal "$(find "$STORE" -name 'keep*' | wc -l)" 4
	assert_equal "$(grep -c keep "$MANIFEST")" 4
}

@test "a file orphaned after the plan is not deleted by apply, which counts it and says drift remains" {
	plant
	run -1 plan
	mkfile "$STORE/$D/later.parquet"
	run -1 --separate-stderr apply p.plan
	assert_stderr --partial "drift remains"
	assert [ -f "$STORE/$D/later.parquet" ]
	refute_output --partial later
	assert_equal "$(find "$STORE" -name 'orph*' | wc -l)" 0
	assert_equal "$(last_record | jq -c '[.not_in_plan, .plan_skipped, .storage_deletes]')" "[1,0,2]"
	# the control: a run without a plan deletes it
	run -0 --separate-stderr arc-reconcile --act --state-dir "$STATE" \
	    --max-orphan-ratio 1 "$STORE" "$MANIFEST"
	assert_output "$(res deleted storage "$D/later.parquet")"
}

@test "a plan candidate registered again (an append) before apply is kept, and the rest of the plan is applied" {
	plant
	run -1 plan
	fentry "$D/orph1.parquet" >>"$MANIFEST"
	run -0 --separate-stderr apply p.plan
	assert [ -f "$STORE/$D/orph1.parquet" ]
	assert [ ! -e "$STORE/$D/orph2.parquet" ]
	grep -q orph1 "$MANIFEST"
	assert_equal "$(last_record | jq -c '[.not_in_plan, .plan_skipped, .storage_deletes]')" "[0,1,1]"
}

@test "a plan with any byte changed is refused with exit 2 and deletes nothing; the unchanged plan applies" {
	plant
	run -1 plan
	size=$(stat -c %s p.plan)
	before=$(snapshot)
	runs=$(ls "$STATE/runs")
	# a byte of the header, of a candidate, of the seal, of the last line
	for off in 2 $((size / 2)) $((size - 50)) $((size - 3)); do
		cp p.plan edited.plan
		printf 'Z' | dd of=edited.plan bs=1 seek="$off" conv=notrunc status=none
		run -2 --separate-stderr apply edited.plan
		assert_equal "$(echo "$stderr" | wc -l)" 1
		assert_stderr --regexp "plan 'edited.plan'"
		assert_equal "$(snapshot)" "$before"
	done
	# a byte added at the end, and a candidate line removed
	cp p.plan edited.plan
	echo >>edited.plan
	run -2 apply edited.plan
	grep -v orph2 p.plan >edited.plan
	run -2 --separate-stderr apply edited.plan
	assert_stderr --partial "was changed since it was written"
	assert_equal "$(snapshot)" "$before"
	# refused before it began: no run record either
	assert_equal "$(ls "$STATE/runs")" "$runs"
	# the control
	run -0 apply p.plan
	assert [ ! -e "$STORE/$D/orph2.parquet" ]
}

@test "apply refuses a plan older than --max-plan-age and applies it within the age" {
	plant
	run -1 plan
	sleep 2
	before=$(snapshot)
	run -2 --separate-stderr apply --max-plan-age 1s p.plan
	assert_stderr --partial "longer ago than --max-plan-age 1s"
	assert_equal "$(snapshot)" "$before"
	run -0 apply --max-plan-age 1h p.plan
	assert [ ! -e "$STORE/$D/orph1.parquet" ]
}

@test "apply refuses a plan dated in the future beyond the clock skew allowance" {
	plant
	run -1 plan
	cp p.plan control.plan
	reseal control.plan
	cmp p.plan control.plan
	ms=$(sed -n 's/^created_ms //p' p.plan)
	sed -i "s/^created_ms .*/created_ms $((ms + 3600000))/" p.plan
	reseal p.plan
	before=$(snapshot)
	run -2 --separate-stderr apply p.plan
	assert_stderr --partial "in the future"
	assert_equal "$(snapshot)" "$before"
	run -0 apply control.plan
}

@test "a plan from a partial listing is written, and apply refuses it; from a readable store it applies" {
	need_unpriv
	WORLD=$(mktemp -d /tmp/arc-plan.XXXXXX)
	CLEAN=$WORLD
	chmod 755 "$WORLD"
	STORE=$WORLD/s MANIFEST=$WORLD/m.ndjson STATE=$WORLD/state
	mkdir -p "$WORLD/tmp"
	plant
	mkdir -p "$STORE/db/hid/$D"
	mkfile "$STORE/db/hid/$D/hidden.parquet"
	fentry "db/hid/$D/hidden.parquet" >>"$MANIFEST"
	chown -R nobody:nogroup "$WORLD"
	chmod 000 "$STORE/db/hid"
	run -1 --separate-stderr unpriv env TMPDIR="$WORLD/tmp" arc-reconcile \
	    plan -o "$WORLD/p.plan" --state-dir "$STATE" --max-orphan-ratio 1 \
	    "$STORE" "$MANIFEST"
	grep -qx 'listing partial' "$WORLD/p.plan"
	before=$(snapshot)
	run -2 --separate-stderr unpriv env TMPDIR="$WORLD/tmp" arc-reconcile \
	    apply --state-dir "$STATE" "$WORLD/p.plan"
	assert_stderr --partial "came from a partial listing"
	assert_equal "$(snapshot)" "$before"
	# the control: readable again, a new plan applies
	chmod 755 "$STORE/db/hid"
	run -1 unpriv env TMPDIR="$WORLD/tmp" arc-reconcile \
	    plan -o "$WORLD/p.plan" --state-dir "$STATE" --max-orphan-ratio 1 \
	    "$STORE" "$MANIFEST"
	run -0 --separate-stderr unpriv env TMPDIR="$WORLD/tmp" arc-reconcile \
	    apply --state-dir "$STATE" "$WORLD/p.plan"
	grep -q hidden "$MANIFEST"
	assert [ ! -e "$STORE/$D/orph1.parquet" ]
}

@test "a plan from an aborted run is written, and apply refuses it" {
	plant
	mv "$MANIFEST" elsewhere.ndjson
	run -2 --separate-stderr plan
	grep -qx 'aborted manifest_unreadable' p.plan
	mv elsewhere.ndjson "$MANIFEST"
	before=$(snapshot)
	run -2 --separate-stderr apply p.plan
	assert_stderr --partial "came from a run that aborted (manifest_unreadable)"
	assert_equal "$(snapshot)" "$before"
}

@test "a manifest rewritten since the plan is refused with exit 2; one only appended to is applied" {
	plant
	run -1 plan
	cp "$MANIFEST" m.orig
	before=$(snapshot)
	# the same bytes in another file
	cp "$MANIFEST" m.new
	mv m.new "$MANIFEST"
	run -2 --separate-stderr apply p.plan
	assert_stderr --partial "was replaced since the plan"
	# a new plan, then the manifest rewritten in place: one byte changed
	run -1 plan
	sed '1s/"lsn":1}/"lsn":2}/' m.orig | dd of="$MANIFEST" conv=notrunc status=none
	run -2 --separate-stderr apply p.plan
	assert_stderr --partial "first $(stat -c %s m.orig) bytes changed"
	# shorter
	truncate -s "$(head -n 5 m.orig | wc -c)" "$MANIFEST"
	run -2 --separate-stderr apply p.plan
	assert_stderr --partial "is shorter than when the plan was made"
	assert_equal "$(find "$STORE" -name 'orph*' | wc -l)" 2
	# the control: restored, then appended to
	cat m.orig | dd of="$MANIFEST" conv=notrunc status=none
	fentry "db/cpu/2026/04/11/15/new.parquet" >>"$MANIFEST"
	mkfile "$STORE/db/cpu/2026/04/11/15/new.parquet"
	run -0 apply p.plan
	assert_equal "$(find "$STORE" -name 'orph*' | wc -l)" 0
	grep -q new.parquet "$MANIFEST"
}

@test "the run record and the run_started audit event of apply name the plan's id and SHA-256" {
	plant
	run -1 plan
	id=$(sed -n 's/^id //p' p.plan)
	seal=$(sed -n 's/^seal //p' p.plan)
	run -0 apply p.plan
	assert_equal "$(last_record | jq -r '.plan_id + " " + .plan_sha256')" "$id $seal"
	assert_equal "$(last_record | jq -c '[.plan_candidates, .not_in_plan, .plan_skipped]')" "[4,0,0]"
	assert_equal "$(grep '"reconcile.run_started"' "$STATE/audit.log" |
	    tail -n 1 | jq -r '.detail.plan_id + " " + .detail.plan_sha256')" "$id $seal"
	run -0 arc-reconcile audit-verify --state-dir "$STATE"
	# a run without a plan names none
	run -0 arc-reconcile --state-dir "$STATE" "$STORE" "$MANIFEST"
	assert_equal "$(last_record | jq -c 'has("plan_id")')" false
}

@test "plan never writes through a symbolic link at PLAN; an earlier plan there is replaced" {
	plant
	echo precious >target
	ln -s target p.plan
	run -2 --separate-stderr plan
	assert_stderr --partial "a symbolic link is not followed"
	assert_equal "$(cat target)" precious
	assert [ -L p.plan ]
	# the control
	rm p.plan
	run -1 plan
	old=$(grep '^id ' p.plan)
	run -1 plan
	grep -q '^seal ' p.plan
	assert [ "$(grep '^id ' p.plan)" != "$old" ]
	# and apply does not read a plan through a link
	mv p.plan real.plan
	ln -s real.plan p.plan
	run -2 apply p.plan
	assert [ -f "$STORE/$D/orph1.parquet" ]
	run -0 apply real.plan
}

@test "apply takes its options from the plan and refuses others; plan refuses --act" {
	plant
	run -1 plan --max-deletes 3
	grep -qx 'option --max-deletes 3' p.plan
	run -2 --separate-stderr apply --max-deletes 100 p.plan
	assert_stderr --partial "apply takes the plan's options"
	run -2 --separate-stderr plan --act
	assert_stderr --partial "a plan is a dry run"
	run -2 arc-reconcile plan --state-dir "$STATE" "$STORE" "$MANIFEST"
	# the environment's knobs do not change a plan's caps
	ARC_RECONCILIATION_MAX_DELETES_PER_RUN=1 run -1 apply p.plan
	assert_equal "$(last_record | jq -c '[.plan_candidates, .manifest_deletes + .storage_deletes, .not_in_plan]')" "[3,3,1]"
}

@test "etcd: a candidate's key written after the plan is refused with exit 2; an unrelated key written is not" {
	[ -n "$SERVERS" ] || skip "etcd or s3rver is not installed"
	P=/plan$BATS_TEST_NUMBER/files/
	M=etcd://$ETCD$P
	mkdir -p "$STORE"
	: >seed.ndjson
	for n in 1 2 3; do
		mkfile "$STORE/$D/keep$n.parquet"
		entry "$D/keep$n.parquet" >>seed.ndjson
	done
	entry "$D/lost1.parquet" >>seed.ndjson
	mkfile "$STORE/$D/orph1.parquet"
	arc-manifest-load seed.ndjson "$M" 2>/dev/null
	run -1 arc-reconcile plan -o p.plan --state-dir "$STATE" \
	    --max-orphan-ratio 1 "$STORE" "$M"
	grep -q '^manifest_revision [0-9]' p.plan
	# a candidate's key written again
	entry "$D/lost1.parquet" | jq -c '.lsn = 7' >again.ndjson
	arc-manifest-load again.ndjson "$M" 2>/dev/null
	run -2 --separate-stderr apply p.plan
	assert_stderr --partial "after the plan's revision"
	assert [ -f "$STORE/$D/orph1.parquet" ]
	# the control: a new plan, then a key that is no candidate written
	run -1 arc-reconcile plan -o p.plan --state-dir "$STATE" \
	    --max-orphan-ratio 1 "$STORE" "$M"
	entry "$D/keep1.parquet" | jq -c '.lsn = 8' >other.ndjson
	arc-manifest-load other.ndjson "$M" 2>/dev/null
	run -0 --separate-stderr apply p.plan
	assert [ ! -e "$STORE/$D/orph1.parquet" ]
	refute_output --partial keep
}

@test "S3: apply deletes the plan's objects and not an object orphaned since" {
	[ -n "$SERVERS" ] || skip "etcd or s3rver is not installed"
	make_bucket plan
	: >"$MANIFEST"
	for n in 1 2; do
		entry "$D/keep$n.parquet" >>"$MANIFEST"
	done
	entry "$D/lost1.parquet" >>"$MANIFEST"
	s3seed plan "$D/keep1.parquet"
	s3seed plan "$D/keep2.parquet"
	s3seed plan "$D/orph1.parquet"
	touch -d '2 days ago' "$S3_DATA"/plan/$D/*._S3rver_object
	run -1 arc-reconcile plan -o p.plan --state-dir "$STATE" \
	    --max-orphan-ratio 1 s3://plan "$MANIFEST"
	s3seed plan "$D/later.parquet"
	touch -d '2 days ago' "$S3_DATA/plan/$D/later.parquet._S3rver_object"
	run -1 --separate-stderr apply p.plan
	assert_output "$(res deleted manifest "$D/lost1.parquet"
	    res deleted storage "$D/orph1.parquet")"
	assert [ -f "$S3_DATA/plan/$D/later.parquet._S3rver_object" ]
	assert [ ! -e "$S3_DATA/plan/$D/orph1.parquet._S3rver_object" ]
	assert_equal "$(last_record | jq .not_in_plan)" 1
}

@test "paths with a space, a backslash, a TAB, a newline and a leading dash are planned quoted and applied exactly" {
	plant
	tricky1="$D/a b\\c"$'\t'"x.parquet"
	tricky2="$D/-lead"$'\n'"nl.parquet"
	printf x >"$STORE/$tricky1"
	printf y >"$STORE/$tricky2"
	# a name that differs from the first only where it is quoted: kept
	printf z >"$STORE/$D/a b\\c x.parquet"
	touch -d '2 days ago' "$STORE/$tricky1" "$STORE/$tricky2" \
	    "$STORE/$D/a b\\c x.parquet"
	run -1 plan
	grep -qxF "candidate orphan-storage ORPHAN_STORAGE $D/a b\\\\c\\tx.parquet" p.plan
	grep -qxF "candidate orphan-storage ORPHAN_STORAGE $D/-lead\\nnl.parquet" p.plan
	# the control name is a candidate too; the plan without its line,
	# sealed again, leaves it
	grep -vF 'a b\\c x.parquet' p.plan >q.plan
	n=$(sed -n 's/^candidates //p' q.plan)
	sed -i "s/^candidates $n\$/candidates $((n - 1))/" q.plan
	reseal q.plan
	run -1 --separate-stderr apply q.plan
	assert [ ! -e "$STORE/$tricky1" ]
	assert [ ! -e "$STORE/$tricky2" ]
	assert [ -f "$STORE/$D/a b\\c x.parquet" ]
	assert_equal "$(last_record | jq -c '[.storage_deletes, .not_in_plan]')" "[4,1]"
}

@test "a plan with no candidates applies and deletes nothing, even orphans that appeared since" {
	plant
	rm "$STORE/$D"/orph*
	grep -v lost "$MANIFEST" >m.tmp
	cat m.tmp >"$MANIFEST"
	run -0 --separate-stderr plan
	assert_stderr --partial "plan 'p.plan': 0 candidates"
	grep -qx 'candidates 0' p.plan
	mkfile "$STORE/$D/later.parquet"
	run -1 --separate-stderr apply p.plan
	assert [ -f "$STORE/$D/later.parquet" ]
	assert_equal "$(last_record | jq -c '[.plan_candidates, .not_in_plan, .storage_deletes]')" "[0,1,0]"
}

# refused_out PATH: plan -o PATH exits 2 with one line naming PATH,
# before the run starts (no run record), PATH as it was (or still absent)
refused_out() {
	local runs keep=
	runs=$(ls "$STATE/runs")
	if [ -e "$1" ] || [ -L "$1" ]; then
		keep=$BATS_TEST_TMPDIR/keep.$RANDOM
		cp -P "$1" "$keep" 2>/dev/null || keep=
	fi
	PLAN=$1 run -2 --separate-stderr plan
	assert_equal "$(echo "$stderr" | wc -l)" 1
	assert_stderr --partial "plan '$1' not written"
	assert_equal "$(ls "$STATE/runs")" "$runs"
	if [ -n "$keep" ]; then
		cmp "$keep" "$1"
	elif [ ! -d "$1" ]; then
		assert [ ! -e "$1" ]
	fi
}

@test "plan -o refuses the manifest, its target, their lock files, a path in the store or the state directory and any file that is not a plan, before the run, leaving it untouched; a new path and an earlier plan are written" {
	plant
	mv "$MANIFEST" m.real
	ln -s m.real "$MANIFEST"
	: >"$MANIFEST.lock"
	: >m.real.lock
	run -1 plan
	echo notes >notes.txt
	mkdir adir
	ln -s "$STORE" store.link
	ln -s "$STATE" state.link
	before=$(snapshot)
	for out in "$MANIFEST" m.real "$MANIFEST.lock" m.real.lock \
	    "$STORE/$D/orph1.parquet" "$STORE/$D/new.plan" \
	    store.link/new.plan "$STATE/audit.log" "$STATE/new.plan" \
	    state.link/lock.plan ./state.link/../s/x.plan notes.txt adir \
	    "$STORE"; do
		refused_out "$out"
	done
	assert_equal "$(snapshot)" "$before"
	grep -q '"path"' m.real
	# the controls: a new path, and the earlier plan replaced
	old=$(grep '^id ' p.plan)
	PLAN=new.plan run -1 plan
	grep -q '^seal ' new.plan
	run -1 plan
	assert [ "$(grep '^id ' p.plan)" != "$old" ]
	run -0 apply p.plan
}

# forge LINE: p.plan with LINE before its listing line, resealed, as e.plan
forge() {
	awk -v l="$1" '/^listing /{print l} {print}' p.plan >e.plan
	reseal e.plan
}

@test "apply refuses a resealed plan with an option line a plan is not written with, or one given twice, and deletes nothing; the plan as written applies" {
	plant
	run -1 plan --now "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	grep -q '^option --now ' p.plan
	# a file too fresh to delete, which a later --now would make old
	echo fresh >"$STORE/$D/fresh.parquet"
	before=$(snapshot)
	n=$(grep -n '^listing ' p.plan | cut -d: -f1)
	for line in 'option --now=2030-01-01T00:00:00Z' \
	    'option --now 2030-01-01T00:00:00Z' 'option --grace=2h' \
	    'option --grace 2h' "option --state-dir $PWD/other" \
	    "option --state-dir=$PWD/other" "option --metrics $PWD/m.prom" \
	    'option --detailed-exit' 'option --act' 'option --bogus 1' \
	    'option --archive-files yes' 'option --mode' 'option --mode ' \
	    'option --max-orphan-ratio 1'; do
		forge "$line"
		run -2 --separate-stderr apply e.plan
		assert_equal "$(echo "$stderr" | wc -l)" 1
		assert_stderr --partial "plan 'e.plan': line $n ("
		assert_equal "$(snapshot)" "$before"
	done
	assert [ ! -e other ]
	assert [ ! -e m.prom ]
	# a line of a key a plan has not, or a key given twice
	for line in 'colour blue' "$(grep '^manifest_ino ' p.plan)" \
	    "$(grep '^cutoff ' p.plan)"; do
		forge "$line"
		run -2 --separate-stderr apply e.plan
		assert_stderr --partial "plan 'e.plan': line $n is not a plan line"
	done
	# the controls: a line a plan is written with, resealed, applies
	forge 'option --archive-files'
	run -0 apply e.plan
	assert [ -f "$STORE/$D/fresh.parquet" ]
	assert [ ! -e "$STORE/$D/orph1.parquet" ]
}

@test "a relative --inventory is written into the plan as an absolute path, a URL as given" {
	plant
	mkdir inv
	run -2 --separate-stderr plan --inventory inv
	grep -qx "option --inventory $PWD/inv" p.plan
	run -2 --separate-stderr plan --inventory s3://inv/x/
	grep -qx 'option --inventory s3://inv/x/' p.plan
}
