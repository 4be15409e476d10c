#!/usr/bin/env bats
# inventory.bats - arc-list --inventory and arc-reconcile --inventory:
# S3 Inventory and Azure Blob Inventory reports written by tests/invgen.py
# in the documented formats (quoted CSV fields, URL-encoded keys with
# spaces, '+', '%' and non-ASCII, several data files), read from a
# directory, from s3rver and from Azurite, give exactly the records a
# live listing of the same objects gives; a truncated or missing data
# file, a checksum mismatch, a schema without the key, a report for
# another bucket and a stale report are refused with exit 2; entries
# newer than the report are never orphan-manifest candidates, and the
# live re-check keeps objects created or deleted after the report.
load test_helper
load servers
bats_require_minimum_version 1.5.0

B=base
D=db/cpu/2026/04/11/14
# the objects of the source bucket or container: under base/ (the store)
# and beside it; names with a space, '+', '%', non-ASCII, a comma and a
# quote, a file that is not a candidate and a hidden one
KEYS=("$B/$D/plain.parquet" "$B/$D/a b.parquet" "$B/$D/c+d.parquet"
	"$B/$D/e%20f.parquet" "$B/$D/caf$(printf '\303\251') ü.parquet"
	"$B/$D/x,y\"z.parquet" "$B/$D/notes.txt" "$B/$D/.hidden.parquet"
	"${B}2/$D/beside.parquet" "other/$D/out.parquet")

setup_file() {
	start_s3rver
	start_azurite 2>/dev/null || wait_http_for 60 "http://127.0.0.1:$AZ_PORT/"
	AZ_SAS=$(azsas)
	export AZ_SAS
	make_bucket src && make_bucket inv
	mkc src && mkc inv
	local k i=0
	for k in "${KEYS[@]}"; do
		i=$((i + 1))
		s3put src "$k" "object $i $k"
	done
	azseed src "${KEYS[@]}"
	# the reports' objects: every object of the bucket's root
	arc-list -a s3://src >"$BATS_FILE_TMPDIR/s3.objects"
	arc-list -a az://src >"$BATS_FILE_TMPDIR/az.objects"
}

teardown_file() {
	stop_azurite
	stop_s3rver
}

setup() {
	OBJ=$BATS_FILE_TMPDIR
	GEN=$ARC_ROOT/tests/invgen.py
}

# mkc NAME: create a container (account SAS).
mkc() {
	curl -s -o /dev/null -w '%{http_code}' -X PUT \
	    "$AZ_ENDPOINT/$1?restype=container&$AZ_SAS" | grep -q 201
}

# upload s3|az BUCKET DIR: every file under DIR to BUCKET at its path.
upload() {
	local f rel enc code
	while IFS= read -r f; do
		rel=${f#"$3"/}
		enc=$(azenc "$rel")
		if [ "$1" = s3 ]; then
			code=$(s3curl -X PUT -T "$f" -o /dev/null -w '%{http_code}' \
			    "$AWS_ENDPOINT_URL/$2/$enc")
			[ "$code" = 200 ] || return 1
		else
			code=$(curl -s -X PUT -H "x-ms-blob-type: BlockBlob" \
			    --data-binary "@$f" -o /dev/null -w '%{http_code}' \
			    "$AZ_ENDPOINT/$2/$enc?$AZ_SAS")
			[ "$code" = 201 ] || return 1
		fi
	done < <(find "$3" -type f)
}

# gen s3|azure OUT [invgen options]: a report of the bucket's objects;
# prints the manifest's path relative to OUT.
gen() {
	local kind=$1 out=$2 objs=$OBJ/s3.objects
	shift 2
	[ "$kind" = azure ] && objs=$OBJ/az.objects
	python3 "$GEN" "$kind" --bucket src --out "$out" "$@" <"$objs"
}

@test "an S3 inventory from a directory, from s3rver by manifest or by folder, gives the records of a live listing, with -a too" {
	arc-list s3://src/$B >live
	arc-list -a s3://src/$B >live-a
	# the positive control is not empty, and holds the funny names
	grep -q 'a b.parquet' live && grep -q 'c+d.parquet' live &&
	    grep -q 'e%20f.parquet' live && grep -q "caf" live
	grep -q notes.txt live-a && ! grep -q notes.txt live
	m=$(gen s3 dir --flat --files 3 --ghost "$B/$D/gone.parquet")
	[ "$(ls dir/*.csv.gz | wc -l)" -eq 3 ]
	run -0 arc-list --inventory "dir/$m" s3://src/$B
	assert_output "$(cat live)"
	run -0 arc-list --inventory dir s3://src/$B/
	assert_output "$(cat live)"
	run -0 arc-list -a --inventory dir s3://src/$B
	assert_output "$(cat live-a)"
	# -p names directories, as in a live listing
	run -0 arc-list -p db/cpu/2026/ -p other --inventory dir s3://src/$B
	assert_output "$(cat live)"
	run -0 arc-list -p db/cp --inventory dir s3://src/$B
	assert_output ""
	run -2 --separate-stderr arc-list -p ../x --inventory dir s3://src/$B
	assert_stderr "arc-list: '../x': invalid prefix"
	# more data files than rows: some hold no row at all
	m=$(gen s3 many --flat --files 16)
	run -0 arc-list --inventory many s3://src/$B
	assert_output "$(cat live)"
	m=$(gen s3 tree --files 2 --ghost "$B/$D/gone.parquet")
	upload s3 inv tree
	run -0 arc-list --inventory "s3://inv/$m" s3://src/$B
	assert_output "$(cat live)"
	run -0 arc-list -a --inventory "s3://inv/${m%/manifest.json}/" s3://src/$B
	assert_output "$(cat live-a)"
	# -S names the report, when it began and its age
	run -0 arc-list -S s.json --inventory "s3://inv/$m" s3://src/$B
	run -0 jq -r '"\(.inventory) \(.inventory_age_seconds >= 3600)"' s.json
	assert_output "s3://inv/$m true"
}

@test "an Azure blob inventory from a directory and from Azurite gives the records of a live listing, with -a too" {
	arc-list az://src/$B >live
	arc-list -a az://src/$B >live-a
	grep -q 'a b.parquet' live && grep -q 'x,y"z.parquet' live
	m=$(gen azure dir --flat --files 2 --ghost "$B/$D/gone.parquet")
	run -0 arc-list --inventory "dir/$m" az://src/$B
	assert_output "$(cat live)"
	m=$(gen azure tree --files 3 --ghost "$B/$D/gone.parquet" \
	    --prefix-match src/base)
	upload az inv tree
	run -0 arc-list --inventory "az://inv/$m" az://src/$B
	assert_output "$(cat live)"
	run -0 arc-list -a --inventory "az://inv/$m" az://src/$B
	assert_output "$(cat live-a)"
}

@test "a truncated or a missing data file is refused with exit 2, one line and no records" {
	m=$(gen s3 dir --flat --files 3)
	run -0 arc-list --inventory dir s3://src/$B
	[ "${#lines[@]}" -ge 5 ]
	cp -r dir whole
	f=$(ls dir/*.csv.gz | head -n 1)
	truncate -s 30 "$f"
	run -2 --separate-stderr arc-list --inventory dir s3://src/$B
	assert_output ""
	[ "${#stderr_lines[@]}" -eq 1 ]
	assert_stderr --partial "${f##*/}"
	rm -r dir && cp -r whole dir && rm "$f"
	run -2 --separate-stderr arc-list --inventory dir s3://src/$B
	assert_output ""
	assert_stderr --regexp "^arc-list: inventory 'dir': data file '.*' is missing$"
	# the same from the bucket
	m=$(gen s3 tree --dest-prefix trunc)
	upload s3 inv tree
	run -0 arc-list --inventory "s3://inv/$m" s3://src/$B
	f=$(cd tree && find . -name '*.csv.gz' | head -n 1)
	printf 'short' >"tree/$f"
	upload s3 inv tree
	run -2 --separate-stderr arc-list --inventory "s3://inv/$m" s3://src/$B
	assert_output ""
	assert_stderr --partial "truncated"
}

@test "a data file or a manifest that fails its checksum is refused with exit 2" {
	gen s3 good --flat >/dev/null
	run -0 arc-list --inventory good s3://src/$B
	gen s3 bad --flat --wrong-md5 >/dev/null
	run -2 --separate-stderr arc-list --inventory bad s3://src/$B
	assert_output ""
	assert_stderr --partial "MD5"
	# the manifest changed after its checksum was written
	cp -r good edited
	sed -i 's/"version": "2016-11-30"/"version": "2016-11-31"/' edited/manifest.json
	run -2 --separate-stderr arc-list --inventory edited s3://src/$B
	assert_stderr --partial "manifest.checksum"
	# without a checksum file the manifest is read as it is
	gen s3 nock --flat --no-checksum >/dev/null
	run -0 arc-list --inventory nock s3://src/$B
}

@test "a report older than --max-inventory-age is refused with exit 2 and accepted with a larger one" {
	gen s3 old --flat --age $((49 * 3600)) >/dev/null
	run -2 --separate-stderr arc-list --inventory old s3://src/$B
	assert_output ""
	assert_stderr --partial "max-inventory-age"
	run -0 arc-list --max-inventory-age 50h --inventory old s3://src/$B
	assert_output "$(arc-list s3://src/$B)"
	gen s3 fresh --flat --age $((47 * 3600)) >/dev/null
	run -0 arc-list --inventory fresh s3://src/$B
	run -2 --separate-stderr arc-list --max-inventory-age 1h --inventory fresh s3://src/$B
	run -2 --separate-stderr arc-list --max-inventory-age soon --inventory fresh s3://src/$B
	assert_stderr "arc-list: 'soon': invalid duration"
}

@test "a schema without Key, a report for another bucket or of the other service, an unfinished Azure run are refused with exit 2" {
	gen s3 ok --flat >/dev/null
	run -0 arc-list --inventory ok s3://src/$B
	gen s3 nokey --flat --drop Key >/dev/null
	run -2 --separate-stderr arc-list --inventory nokey s3://src/$B
	assert_stderr --partial "no Key column"
	gen s3 other --flat --source-bucket elsewhere >/dev/null
	run -2 --separate-stderr arc-list --inventory other s3://src/$B
	assert_stderr --partial "a report for bucket 'elsewhere', not 'src'"
	run -2 --separate-stderr arc-list --inventory ok az://src/$B
	assert_stderr --partial "S3 Inventory report cannot list"
	m=$(gen azure az --flat)
	run -0 arc-list --inventory "az/$m" az://src/$B
	m=$(gen azure pending --flat --status Pending)
	run -2 --separate-stderr arc-list --inventory "pending/$m" az://src/$B
	assert_stderr --partial "Pending"
	m=$(gen azure narrow --flat --prefix-match src/base/db/mem)
	run -2 --separate-stderr arc-list --inventory "narrow/$m" az://src/$B
	assert_stderr --partial "prefixMatch"
	m=$(gen azure noname --flat --drop Name)
	run -2 --separate-stderr arc-list --inventory "noname/$m" az://src/$B
	assert_stderr --partial "no Name column"
	run -2 --separate-stderr arc-list -S s.json s3://src/$B
	assert_stderr "arc-list: -S needs --inventory or --after"
}

# reconcile DIR MANIFEST [arc-reconcile options]: a run against s3://src/base
reconcile() {
	local dir=$1 man=$2
	shift 2
	arc-reconcile --state-dir state --inventory "$dir" "$@" \
	    s3://src/$B "$man"
}

@test "arc-reconcile --inventory: an entry newer than the report is counted, not a candidate; the run record names the report and its age" {
	# the store's objects are all in the manifest, plus two lost entries:
	# one registered long before the report, one after it began
	arc-list s3://src/$B | cut -f1 | while IFS= read -r p; do
		entry "$p"
	done >m.ndjson
	entry "$D/lost-old.parquet" >>m.ndjson
	jq -cn --arg p "$D/lost-new.parquet" --arg t "$(date -u -d '-10 min' +%Y-%m-%dT%H:%M:%SZ)" \
	    '{path: $p, created_at: $t, size_bytes: 10, database: "db",
	      measurement: "cpu", origin_node_id: "node-1", lsn: 1}' >>m.ndjson
	gen s3 rep --flat --age 3600 >/dev/null
	run -1 reconcile rep m.ndjson
	rec=$(ls state/runs/*.json)
	run -0 jq -r '[.orphan_manifest_count, .skipped_after_inventory,
	    .inventory, (.inventory_age_seconds >= 3600),
	    .orphan_manifest_sample[0]] | @tsv' "$rec"
	assert_output "$(printf '1\t1\trep\ttrue\t%s' "$D/lost-old.parquet")"
	# the positive control: a live listing makes both candidates
	rm -r state
	run -1 arc-reconcile --state-dir state s3://src/$B m.ndjson
	run -0 jq -r '.orphan_manifest_count' state/runs/*.json
	assert_output 2
	# stale: refused before anything, and accepted with a larger age
	rm -r state
	gen s3 stale --flat --age $((72 * 3600)) >/dev/null
	run -2 --separate-stderr reconcile stale m.ndjson
	assert_stderr --partial "max-inventory-age"
	run -1 reconcile stale m.ndjson --max-inventory-age 80h
}

@test "arc-reconcile --inventory --act: objects deleted or created after the report are never wrongly removed" {
	k="$D/late.parquet"
	s3put src "$B/$D/deleted-later.parquet" x
	s3put src "$B/$D/orphan.parquet" y
	# the report sees both objects, as written two days before it began
	old=$(date -u -d '-2 days' +%Y-%m-%dT%H:%M:%SZ)
	arc-list -a s3://src | awk -F '\t' -v OFS='\t' -v t="$old" '{ $2 = t } 1' >objs
	python3 "$GEN" s3 --bucket src --out rep --flat --age 60 <objs >/dev/null
	# after the report: deleted-later goes away, late appears; the manifest
	# knows late (registered before the report) but not orphan
	s3curl -X DELETE -o /dev/null "$AWS_ENDPOINT_URL/src/$B/$D/deleted-later.parquet"
	s3put src "$B/$k" z
	arc-list s3://src/$B | cut -f1 | grep -v -e orphan -e deleted-later |
	    while IFS= read -r p; do entry "$p"; done >m.ndjson
	grep -q late.parquet m.ndjson
	# the live re-check sees the new objects two hours old
	run reconcile rep m.ndjson --act --grace 1h --max-orphan-ratio 1 \
	    --now "$(date -u -d '+2 hours' +%Y-%m-%dT%H:%M:%SZ)"
	[ "$status" -le 1 ]
	# late is in storage: its entry stays; deleted-later was an
	# orphan-storage candidate but is gone: nothing to delete; orphan is
	# one, and the only object deleted
	grep -q late.parquet m.ndjson
	run -0 arc-list -a s3://src/$B
	refute_output --partial orphan.parquet
	assert_output --partial late.parquet
	run -0 jq -r '[.storage_deletes, .manifest_deletes] | @tsv' state/runs/*.json
	assert_output "$(printf '1\t0')"
}

# unsafe OBJECTS: the objects with four keys of the store's prefix that
# are no safe path below it ('//', '/./', '/../', a doubled slash inside)
unsafe() {
	cat "$1"
	local t
	t=$(head -n 1 "$1" | cut -f 2-)
	printf '%s\t%s\n' "$B//$D/abs.parquet" "$t" "$B/./$D/dot.parquet" "$t" \
	    "$B/../$D/up.parquet" "$t" "$B/$D//dbl.parquet" "$t"
}

@test "inventory keys that are no safe path ('/x', './x', '../x', 'a//b') are left out, said, rejected with -R and make the listing partial, in S3 and Azure reports" {
	local kind store objs
	for kind in s3 azure; do
		store=s3://src/$B objs=$OBJ/s3.objects
		[ "$kind" = azure ] && store=az://src/$B objs=$OBJ/az.objects
		# the positive control: the report of the same objects without them
		m=$(python3 "$GEN" "$kind" --bucket src --out ok --flat <"$objs")
		run -0 --separate-stderr arc-list -R ok.rej --inventory "ok/$m" "$store"
		[ "${#lines[@]}" -ge 5 ]
		assert_stderr ''
		printf '%s\n' "$output" >live
		! grep -q unsafe-path ok.rej
		unsafe "$objs" >bad.objects
		m=$(python3 "$GEN" "$kind" --bucket src --out bad --flat <bad.objects)
		run -1 --separate-stderr arc-list -R bad.rej --inventory "bad/$m" "$store"
		assert_output "$(cat live)"
		assert_stderr --partial "arc-list: '/$D/abs.parquet': left out: absolute path; the listing is partial"
		assert_stderr --partial "arc-list: './$D/dot.parquet': left out: path has a '.' segment; the listing is partial"
		assert_stderr --partial "arc-list: '../$D/up.parquet': left out: path has a '..' segment; the listing is partial"
		assert_stderr --partial "arc-list: '$D//dbl.parquet': left out: path has an empty segment; the listing is partial"
		run -0 grep -c '^unsafe-path	orphan-storage	.*	LAYOUT_MISMATCH	-$' bad.rej
		assert_output 4
		# -a lists every file, but never these
		run -1 --separate-stderr arc-list -a --inventory "bad/$m" "$store"
		refute_output --partial abs.parquet
		refute_output --partial dot.parquet
		refute_output --partial up.parquet
		refute_output --partial dbl.parquet
		rm -rf ok bad ok.rej bad.rej
	done
}

@test "arc-reconcile --inventory --act with an unsafe key in the report: the listing is partial and no manifest entry is deleted" {
	local objs=$OBJ/s3.objects
	# the manifest: a live file, and an entry without a file
	{ entry "$D/plain.parquet"; entry "$D/lost.parquet"; } >m.ndjson
	unsafe "$objs" >bad.objects
	python3 "$GEN" s3 --bucket src --out bad --flat <bad.objects >/dev/null
	# young orphan files, no breaker, at most the one delete
	set -- --act --max-orphan-ratio 1 --grace 1000h --max-deletes 1
	run --separate-stderr arc-reconcile "$@" --state-dir st --inventory bad s3://src/$B m.ndjson
	assert_stderr --partial "left out: absolute path; the listing is partial"
	run -0 jq -r '"\(.walk_partial) \(.manifest_deletes) \(.storage_deletes)"' st/runs/*.json
	assert_output "true 0 0"
	grep -q lost.parquet m.ndjson
	# the positive control: the same report without the unsafe keys
	python3 "$GEN" s3 --bucket src --out ok --flat <"$objs" >/dev/null
	run arc-reconcile "$@" --state-dir st2 --inventory ok s3://src/$B m.ndjson
	run -0 jq -r '"\(.walk_partial) \(.manifest_deletes) \(.storage_deletes)"' st2/runs/*.json
	assert_output "false 1 0"
	! grep -q lost.parquet m.ndjson
}
