#!/usr/bin/env bats
# listing-progress.bats - every listing loop makes progress or stops.
#
# Keys holding U+10FFFF (bytes F4 8F BF BF, the greatest code point) and,
# in etcd, 0xFF bytes, against real servers: s3rver 3.7.1 with -M range
# splits, Azurite, etcd with narrowed range windows.  Then servers that
# page wrongly, made from real ones by tests/proxy.py (ignore
# start-after, continuation token or marker; the same page forever;
# empty pages with new tokens) and tests/arcapi.py (a cursor that
# repeats or moves while the page does not; an etcd gateway that replays
# or ignores where a range starts).  Each tool runs under `timeout 60`,
# so a listing that never ends fails the test instead of hanging.
load test_helper
load servers
bats_require_minimum_version 1.5.0

H=2026/04/10/12
NOW=2026-04-11T14:00:00Z
OLD='2026-04-01 00:00:00'
MAX=$(printf '\364\217\277\277')	# U+10FFFF in UTF-8
FF=$(printf '\377')			# not UTF-8; etcd keys may hold it

setup_file() {
	[ -d "$ARC_NODE_MODULES/s3rver" ] || {
		echo "the npm test servers are missing: sh tests/deps.sh build test" >&2
		return 1
	}
	start_s3rver_as s3
	launch_etcd
	start_arcapi
	start_azurite 2>/dev/null ||
	    wait_http_for 60 "http://127.0.0.1:$AZ_PORT/"
	# Azure listings in pages of 2 (azproxy), a fault proxy in front
	start_azproxy 2
	start_proxy azfp "$AZP_PORT"
	wait_named s3
	start_proxy fp "$(cat "$BATS_FILE_TMPDIR/s3.port")"
	etcd_wait "$ETCD_PORT"
	S3_PORT=$(cat "$BATS_FILE_TMPDIR/s3.port")
	S3_DATA=$BATS_FILE_TMPDIR/s3-data
	FP_URL="http://127.0.0.1:$(cat "$BATS_FILE_TMPDIR/fp.port")"
	AZFP_ENDPOINT="http://127.0.0.1:$(cat "$BATS_FILE_TMPDIR/azfp.port")/$AZ_ACCOUNT"
	AZ_SAS=$(azsas)
	export S3_PORT S3_DATA FP_URL AZFP_ENDPOINT AZ_SAS
	export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER
	export AWS_ENDPOINT_URL="http://127.0.0.1:$S3_PORT"
	unset AWS_ENDPOINT_URL_S3 AWS_S3_ADDRESSING_STYLE AWS_SESSION_TOKEN \
	    AWS_REGION AWS_DEFAULT_REGION AWS_CA_BUNDLE
	# "plain": 1,001 keys under db/m1/ (the manifest splits the prefix
	# into ranges at its 900th path) and two more measurements;
	# "hostile": the same and keys holding U+10FFFF, under split points
	# and as split points
	{
		seq -w 1 1001 | sed "s|.*|db/m1/$H/f&.parquet|"
		echo "db/m2/$H/b.parquet"
		echo "db/m3/$H/c.parquet"
	} >"$BATS_FILE_TMPDIR/plain.keys"
	{
		cat "$BATS_FILE_TMPDIR/plain.keys"
		echo "db/m1/${MAX}x.parquet"
		echo "db/m1/$H/${MAX}.parquet"
		echo "db/m2/${MAX}.parquet"
		echo "db/${MAX}x/$H/a.parquet"
		echo "db/${MAX}x/${MAX}y.parquet"
		echo "${MAX}/m/$H/z.parquet"
	} >"$BATS_FILE_TMPDIR/hostile.keys"
	local b
	for b in plain hostile; do
		make_bucket "$b"
		s3seed_many "$b" <"$BATS_FILE_TMPDIR/$b.keys"
		find "$S3_DATA/$b" -name '*._S3rver_object' -exec touch -d "$OLD" {} +
	done
}

teardown_file() {
	stop_named fp
	stop_named azfp
	stop_azproxy
	stop_azurite
	stop_arcapi
	stop_etcd
	stop_named s3
}

setup() {
	export ARC_HTTP_BACKOFF_MS=1 ARC_HTTP_ATTEMPTS=2 ARC_HTTP_TIMEOUT=10
	export TMPDIR=$BATS_TEST_TMPDIR/tmp
	mkdir -p "$TMPDIR"
	FP_RULES=$BATS_FILE_TMPDIR/fp.rules
	FP_LOG=$BATS_FILE_TMPDIR/fp.requests
	AZFP_RULES=$BATS_FILE_TMPDIR/azfp.rules
	AZFP_LOG=$BATS_FILE_TMPDIR/azfp.requests
	: >"$FP_RULES"
	: >"$FP_LOG"
	: >"$AZFP_RULES"
	: >"$AZFP_LOG"
	STATE=$BATS_TEST_TMPDIR/state
	MANIFEST=$BATS_TEST_TMPDIR/manifest.ndjson
	P=/t$BATS_TEST_NUMBER/files/
	reset_arcapi
}

# fentry PATH: one manifest line, created long before $NOW (no jq: PATH
# holds no character JSON must escape).
fentry() {
	local db=${1%%/*} rest=${1#*/}
	printf '{"path":"%s","created_at":"2026-04-01T00:00:00Z","size_bytes":10,"database":"%s","measurement":"%s","origin_node_id":"node-1","lsn":1}\n' \
	    "$1" "$db" "${rest%%/*}"
}

# manifest_of KEYFILE: $MANIFEST with an entry for every key in KEYFILE
# and one entry whose file is gone; m.rec its records (arc-list -M).
manifest_of() {
	while IFS= read -r k; do fentry "$k"; done <"$1" >"$MANIFEST"
	fentry "db/m3/$H/lost.parquet" >>"$MANIFEST"
	arc-manifest-dump "$MANIFEST" >m.rec
}

# rules FILE LINE...: fault proxy rules, counters started over.
rules() {
	local f=$1
	shift
	{
		echo "# test $BATS_TEST_NUMBER $RANDOM"
		printf '%s\n' "$@"
	} >"$f"
}

# listed: the paths of the last run's output, one a line.
listed() {
	printf '%s\n' "$output" | cut -f1
}

# count_requests REGEX LOG: how many logged proxy requests match.
count_requests() {
	grep -cE -- "$1" "$2" || true
}

# s3keys BUCKET: the objects in s3rver's directory, sorted.
s3keys() {
	(cd "$S3_DATA/$1" && find . -name '*._S3rver_object' -printf '%P\n') |
	    sed 's/\._S3rver_object$//' | LC_ALL=C sort
}

# reconcile STORE MANIFEST [OPTION...]: an act run of the driver at $NOW
# under `timeout 60`.
reconcile() {
	local store=$1 manifest=$2
	shift 2
	timeout 60 arc-reconcile --state-dir "$STATE" --now "$NOW" --act \
	    --max-orphan-ratio 1 "$@" "$store" "$manifest"
}

# assert_lock_free: the driver's lock is not held any more.
assert_lock_free() {
	[ -e "$STATE/lock" ]
	flock -n "$STATE/lock" true
}

# ---- S3: keys holding U+10FFFF under -M range splits -------------------

@test "with -M range splits, a bucket without U+10FFFF keys lists exactly every object (control)" {
	manifest_of "$BATS_FILE_TMPDIR/plain.keys"
	for j in 8 1; do
		run -0 --separate-stderr timeout 60 arc-list -M m.rec -j "$j" s3://plain
		assert_stderr ''
		assert_equal "$(listed)" "$(LC_ALL=C sort "$BATS_FILE_TMPDIR/plain.keys")"
	done
}

@test "with -M range splits, keys starting with U+10FFFF under and as split points end the listing with exactly every object" {
	manifest_of "$BATS_FILE_TMPDIR/hostile.keys"
	for j in 8 1; do
		: >"$FP_LOG"
		run -0 --separate-stderr timeout 60 env AWS_ENDPOINT_URL="$FP_URL" \
		    arc-list -M m.rec -j "$j" s3://hostile
		assert_stderr ''
		assert_equal "$(listed)" "$(LC_ALL=C sort "$BATS_FILE_TMPDIR/hostile.keys")"
		# the ranges were listed apart, and few requests were needed
		[ "$(count_requests 'prefix=db%2Fm1%2F&start-after=db%2Fm1%2F' "$FP_LOG")" -ge 1 ]
		[ "$(count_requests '^GET ' "$FP_LOG")" -le 40 ]
	done
	# and without -M, U+10FFFF keys as top-level split points
	run -0 --separate-stderr timeout 60 arc-list s3://hostile
	assert_equal "$(listed)" "$(LC_ALL=C sort "$BATS_FILE_TMPDIR/hostile.keys")"
}

@test "the driver on a bucket with U+10FFFF keys ends, deletes only the gone entry, and releases its lock" {
	# a bucket of its own: the act run changes the manifest only
	manifest_of "$BATS_FILE_TMPDIR/hostile.keys"
	before=$(s3keys hostile)
	run -0 --separate-stderr reconcile s3://hostile "$MANIFEST"
	assert_output "$(printf 'deleted\torphan-manifest\tdb/m3/%s/lost.parquet\tDELETED' "$H")"
	assert_equal "$(s3keys hostile)" "$before"
	assert_equal "$(wc -l <"$MANIFEST")" "$(wc -l <"$BATS_FILE_TMPDIR/hostile.keys")"
	assert_lock_free
}

# ---- S3: servers that page wrongly -------------------------------------

@test "a server that ignores start-after: arc-list -M ends within a few requests, exit 1, naming the prefix" {
	manifest_of "$BATS_FILE_TMPDIR/plain.keys"
	rules "$FP_RULES" "GET start-after= strip:start-after"
	run -1 --separate-stderr timeout 60 env AWS_ENDPOINT_URL="$FP_URL" \
	    arc-list -M m.rec -j 4 s3://plain
	assert_stderr --partial "list 's3://plain/db/m1/': a key that does not advance"
	[ "$(count_requests '^GET ' "$FP_LOG")" -le 20 ]
	# what was listed is real: the objects of prefixes listed whole
	run -0 grep -c "^db/m2/$H/b.parquet	" <<<"$output"
}

@test "a server that ignores start-after: the driver deletes nothing, reports the listing partial and releases its lock" {
	manifest_of "$BATS_FILE_TMPDIR/plain.keys"
	mbefore=$(cat "$MANIFEST")
	kbefore=$(s3keys plain)
	rules "$FP_RULES" "GET start-after= strip:start-after"
	AWS_ENDPOINT_URL=$FP_URL run -1 --separate-stderr \
	    reconcile s3://plain "$MANIFEST"
	assert_stderr --partial "db/m1/': a key that does not advance"
	assert_stderr --partial "listing was partial"
	refute_output --partial deleted
	assert_equal "$(cat "$MANIFEST")" "$mbefore"
	assert_equal "$(s3keys plain)" "$kbefore"
	assert_equal "$(jq -c '[.walk_partial, .manifest_deletes, .storage_deletes]' "$STATE"/runs/*.json)" '[true,0,0]'
	assert_lock_free
}

@test "a server that ignores the continuation token: the second page goes back, exit 1 naming the prefix" {
	run -0 --separate-stderr timeout 60 env AWS_ENDPOINT_URL="$FP_URL" \
	    arc-list -p db/m1 s3://plain
	assert_equal "$(listed | wc -l)" 1001
	rules "$FP_RULES" "GET continuation-token= strip:continuation-token"
	: >"$FP_LOG"
	run -1 --separate-stderr timeout 60 env AWS_ENDPOINT_URL="$FP_URL" \
	    arc-list -p db/m1 s3://plain
	assert_equal "${#stderr_lines[@]}" 1
	assert_stderr --partial "list 's3://plain/db/m1/': a key that does not advance"
	assert_equal "$(count_requests '^GET ' "$FP_LOG")" 2
}

@test "a server that answers the same page forever: arc-list stops at the second, exit 1 naming the prefix" {
	rules "$FP_RULES" "GET prefix=db%2Fm1%2F replay"
	run -1 --separate-stderr timeout 60 env AWS_ENDPOINT_URL="$FP_URL" \
	    arc-list -p db/m1 -p db/m2 s3://plain
	assert_equal "${#stderr_lines[@]}" 1
	assert_stderr --partial "list 's3://plain/db/m1/':"
	assert_equal "$(count_requests 'prefix=db%2Fm1%2F' "$FP_LOG")" 2
	# the other prefix is listed whole
	run -0 grep -c "^db/m2/$H/b.parquet	" <<<"$output"
}

@test "a server that answers the same page forever to the rest listing's probes: arc-list -M stops, exit 1" {
	manifest_of "$BATS_FILE_TMPDIR/plain.keys"
	rules "$FP_RULES" "GET max-keys=1&prefix=&start-after= replay"
	run -1 --separate-stderr timeout 60 env AWS_ENDPOINT_URL="$FP_URL" \
	    arc-list -M m.rec -j 2 s3://plain
	assert_stderr --partial "list 's3://plain/': a key that does not advance"
	[ "$(count_requests 'max-keys=1&prefix=&start-after=' "$FP_LOG")" -le 2 ]
}

@test "pages with no keys and a new token each time stop the listing after a bounded number, exit 1 naming the prefix" {
	rules "$FP_RULES" "GET continuation-token= empty:s3"
	run -1 --separate-stderr timeout 60 env AWS_ENDPOINT_URL="$FP_URL" \
	    arc-list -p db/m1 s3://plain
	assert_stderr --partial "list 's3://plain/db/m1/': 64 pages in a row without a new key"
	assert_equal "$(count_requests '^GET ' "$FP_LOG")" 65
}

@test "ARC_LIST_MAX_PAGES caps the pages of one listing as a backstop: exit 1 past it, 0 within it" {
	ARC_LIST_MAX_PAGES=1 run -1 --separate-stderr timeout 60 \
	    arc-list -p db/m1 s3://plain
	assert_stderr --partial "list 's3://plain/db/m1/': more than 1 pages (ARC_LIST_MAX_PAGES)"
	ARC_LIST_MAX_PAGES=2 run -0 --separate-stderr timeout 60 \
	    arc-list -p db/m1 s3://plain
	assert_equal "$(listed | wc -l)" 1001
	ARC_LIST_MAX_PAGES=0 run -2 --separate-stderr arc-list -p db/m1 s3://plain
	assert_stderr --partial ARC_LIST_MAX_PAGES
}

# ---- Azure: U+10FFFF blob names; markers -------------------------------

# azenv ENDPOINT: the tools use a SAS for ENDPOINT from now on (the SAS
# does not cover the marker, which the fault proxy may strip).
azenv() {
	unset AZURE_STORAGE_CONNECTION_STRING AZURE_STORAGE_KEY
	export AZURE_STORAGE_ACCOUNT=$AZ_ACCOUNT AZURE_STORAGE_SAS_TOKEN=$AZ_SAS \
	    AZURE_STORAGE_BLOB_ENDPOINT=$1
}

# azplant CONTAINER NAME...: a container holding blobs NAME.
azplant() {
	local c=$1
	shift
	curl -s -o /dev/null -X PUT "$AZ_ENDPOINT/$c?restype=container&$AZ_SAS"
	azseed "$c" "$@"
}

@test "blobs holding U+10FFFF are listed exactly, with -j 8 and -j 1, in pages of 2" {
	names=("db/m1/$H/a.parquet" "db/m1/${MAX}x.parquet" "db/m1/$H/${MAX}.parquet"
	    "db/${MAX}x/$H/b.parquet" "db/${MAX}x/${MAX}y.parquet" "${MAX}/m/$H/z.parquet"
	    "db/m2/$H/c.parquet")
	azplant "c$BATS_TEST_NUMBER" "${names[@]}"
	azenv "$AZFP_ENDPOINT"
	for j in 8 1; do
		run -0 --separate-stderr timeout 60 \
		    arc-list -j "$j" "az://c$BATS_TEST_NUMBER"
		assert_stderr ''
		assert_equal "$(listed)" "$(printf '%s\n' "${names[@]}" | LC_ALL=C sort)"
	done
}

@test "an Azure server that ignores the marker: arc-list ends, exit 1 naming the prefix, and the driver deletes nothing" {
	c=c$BATS_TEST_NUMBER
	names=("db/m1/$H/a.parquet" "db/m1/$H/b.parquet" "db/m1/$H/c.parquet"
	    "db/m1/$H/${MAX}.parquet" "db/m2/$H/d.parquet")
	azplant "$c" "${names[@]}"
	azenv "$AZFP_ENDPOINT"
	run -0 --separate-stderr timeout 60 arc-list "az://$c"
	assert_equal "$(listed | wc -l)" 5
	rules "$AZFP_RULES" "GET marker= strip:marker"
	run -1 --separate-stderr timeout 60 arc-list "az://$c"
	assert_stderr --partial "list 'az://$c/db/':"
	[ "$(count_requests '^GET ' "$AZFP_LOG")" -le 20 ]
	printf '%s\n' "${names[@]}" >keys
	manifest_of keys
	mbefore=$(cat "$MANIFEST")
	run -1 --separate-stderr reconcile "az://$c" "$MANIFEST"
	assert_stderr --partial "listing was partial"
	refute_output --partial deleted
	assert_equal "$(cat "$MANIFEST")" "$mbefore"
	assert_lock_free
}

@test "an Azure server that answers empty pages with a new marker each time: arc-list stops after a bounded number, exit 1" {
	c=c$BATS_TEST_NUMBER
	azplant "$c" "db/m1/$H/a.parquet" "db/m1/$H/b.parquet" "db/m1/$H/c.parquet"
	azenv "$AZFP_ENDPOINT"
	rules "$AZFP_RULES" "GET marker= empty:az"
	run -1 --separate-stderr timeout 60 arc-list -j 1 "az://$c"
	assert_stderr --partial "list 'az://$c/': 64 pages in a row without a new key"
	assert_equal "$(count_requests '^GET ' "$AZFP_LOG")" 65
}

# ---- etcd: keys holding U+10FFFF and 0xFF; gateways that page wrongly --

# eput KEY VALUE: put a key (any bytes) into etcd through the gateway.
eput() {
	curl -sf -X POST "http://$ETCD/v3/kv/put" -d "$(jq -cn \
	    --arg k "$(printf '%s' "$1" | base64 -w0)" \
	    --arg v "$(printf '%s' "$2" | base64 -w0)" '{key: $k, value: $v}')" \
	    >/dev/null
}

# eplant: 120 entries under $P (narrowed windows at 3 keys a page) and
# keys holding U+10FFFF and 0xFF bytes, loaded straight into etcd;
# their paths, sorted, in paths.
eplant() {
	local p
	{
		seq -w 1 120 | sed "s|.*|db/m1/$H/f&.parquet|"
		echo "db/m1/${MAX}x.parquet"
		echo "db/${MAX}/${MAX}.parquet"
		echo "db/m1/$H/${FF}.parquet"
		echo "db/${FF}${FF}/$H/${FF}${FF}${FF}.parquet"
		echo "${FF}/m/$H/y.parquet"
		echo "${MAX}${FF}/m/$H/z.parquet"
	} | LC_ALL=C sort >paths
	while IFS= read -r p; do
		eput "$P$p" "$(fentry "$p")" || return 1
	done <paths
}

@test "etcd keys holding U+10FFFF and 0xFF bytes are dumped exactly, whole and in narrowed windows of 3 keys a page" {
	eplant
	run -0 --separate-stderr timeout 60 arc-manifest-dump "etcd://$ETCD$P"
	assert_stderr ''
	whole=$output
	assert_equal "$(printf '%s\n' "$whole" | wc -l)" "$(wc -l <paths)"
	echo "$ETCD" >"$ARCAPI_DIR/etcd_upstream"
	: >"$ARCAPI_DIR/requests.log"
	ARC_ETCD_PAGE_KEYS=3 run -0 --separate-stderr timeout 60 \
	    arc-manifest-dump "etcd://127.0.0.1:$ARCAPI_PORT$P"
	assert_equal "$output" "$whole"
	# narrower windows than the prefix were asked for, and not many
	[ "$(grep '"/v3/kv/range"' "$ARCAPI_DIR/requests.log" | jq -r .body |
	    jq -r .range_end | sort -u | wc -l)" -gt 1 ]
	[ "$(grep -c '"/v3/kv/range"' "$ARCAPI_DIR/requests.log")" -le 200 ]
}

@test "an etcd gateway that answers every range with the first page: the dump ends, exit 2 naming the prefix, nothing written" {
	eplant
	echo "$ETCD" >"$ARCAPI_DIR/etcd_upstream"
	echo replay >"$ARCAPI_DIR/etcd_mode"
	ARC_ETCD_PAGE_KEYS=3 run -2 --separate-stderr timeout 60 \
	    arc-manifest-dump "etcd://127.0.0.1:$ARCAPI_PORT$P"
	assert_output ''
	assert_stderr --partial "$P': a range answer that does not advance"
	[ "$(grep -c '"/v3/kv/range"' "$ARCAPI_DIR/requests.log")" -le 3 ]
}

@test "an etcd gateway that ignores where a range starts: the dump ends, exit 2, and the driver aborts, deleting nothing and releasing its lock" {
	eplant
	mkdir store
	(cd store && while IFS= read -r p; do mkdir -p "$(dirname "$p")"; echo x >"$p"; done <../paths)
	find store -type f -exec touch -d "$OLD" {} +
	echo "$ETCD" >"$ARCAPI_DIR/etcd_upstream"
	echo ignore_key >"$ARCAPI_DIR/etcd_mode"
	ARC_ETCD_PAGE_KEYS=3 run -2 --separate-stderr timeout 60 \
	    arc-manifest-dump "etcd://127.0.0.1:$ARCAPI_PORT$P"
	assert_output ''
	assert_stderr --partial "$P': a range answer that does not advance"
	before=$(find store -type f | LC_ALL=C sort)
	ARC_ETCD_PAGE_KEYS=3 run -2 --separate-stderr timeout 60 arc-reconcile \
	    --state-dir "$STATE" --now "$NOW" --act --max-orphan-ratio 1 store \
	    "etcd://127.0.0.1:$ARCAPI_PORT$P"
	assert_stderr --partial "manifest_unreadable"
	assert_equal "$(find store -type f | LC_ALL=C sort)" "$before"
	assert_equal "$(ectl_count)" "$(wc -l <paths)"
	assert_lock_free
}

# ectl_count: the keys under $P, counted through the gateway.
ectl_count() {
	curl -sf -X POST "http://$ETCD/v3/kv/range" -d "$(jq -cn \
	    --arg k "$(printf '%s' "$P" | base64 -w0)" \
	    --arg e "$(printf '%s' "${P%/}0" | base64 -w0)" \
	    '{key: $k, range_end: $e, count_only: true}')" | jq -r '.count // "0"'
}

# ---- Arc's cluster API: cursors ----------------------------------------

# aplant: 25 entries in the stand-in, 4 a page, U+10FFFF in some paths.
aplant() {
	{
		seq -w 1 23 | sed "s|.*|db/m1/$H/f&.parquet|"
		echo "db/m1/${MAX}x.parquet"
		echo "db/${MAX}/$H/${MAX}.parquet"
	} | LC_ALL=C sort >paths
	while IFS= read -r p; do fentry "$p"; done <paths >"$ARCAPI_DIR/manifest.ndjson"
	echo 4 >"$ARCAPI_DIR/page_size"
}

@test "Arc API pages with U+10FFFF paths are dumped exactly (control)" {
	aplant
	run -0 --separate-stderr timeout 60 arc-manifest-dump "arc+$ARCAPI"
	assert_stderr ''
	assert_equal "$(listed)" "$(cat paths)"
	assert_equal "$(grep -c cluster/files "$ARCAPI_DIR/requests.log")" 7
}

@test "an Arc API whose next_cursor moves while the page does not: the dump ends at the second page, exit 2, nothing written" {
	aplant
	echo advance >"$ARCAPI_DIR/cursor_mode"
	run -2 --separate-stderr timeout 60 arc-manifest-dump "arc+$ARCAPI"
	assert_output ''
	assert_stderr --partial "page 2': an entry that does not advance past the cursor"
	assert_equal "$(grep -c cluster/files "$ARCAPI_DIR/requests.log")" 2
}

@test "an Arc API that ignores or repeats the cursor: the dump ends, exit 2, and the driver aborts, deleting nothing and releasing its lock" {
	aplant
	mkdir store
	(cd store && while IFS= read -r p; do mkdir -p "$(dirname "$p")"; echo x >"$p"; done <../paths)
	find store -type f -exec touch -d "$OLD" {} +
	before=$(find store -type f | LC_ALL=C sort)
	for mode in ignore repeat; do
		echo "$mode" >"$ARCAPI_DIR/cursor_mode"
		: >"$ARCAPI_DIR/requests.log"
		run -2 --separate-stderr timeout 60 arc-manifest-dump "arc+$ARCAPI"
		assert_output ''
		assert_stderr --partial "arc+$ARCAPI page 2'"
		[ "$(grep -c cluster/files "$ARCAPI_DIR/requests.log")" -le 2 ]
		rm -rf "$STATE"
		run -2 --separate-stderr timeout 60 arc-reconcile --state-dir "$STATE" \
		    --now "$NOW" --act --max-orphan-ratio 1 store "arc+$ARCAPI"
		assert_stderr --partial manifest_unreadable
		assert_equal "$(find store -type f | LC_ALL=C sort)" "$before"
		assert_lock_free
	done
}
