#!/usr/bin/env bats
# s3.bats - the S3 store (s3://BUCKET[/PREFIX]) end to end against real
# servers on 127.0.0.1: s3rver 3.7.1 for function and paging, the
# signature-checking @20minutes/s3rver 4.0.4 for signing, and
# tests/proxy.py in front of them to count requests and to answer
# 500/503/403, drop connections and delay answers.  arc-list, arc-recheck,
# arc-delete and the arc-reconcile driver.
load test_helper
load servers
bats_require_minimum_version 1.5.0

H=2026/04/10/12			# an hour directory: files in it have 7 segments
NOW=2026-04-11T14:00:00Z	# --now / -t for every time-dependent run
OLD='2026-04-01 00:00:00'	# far outside the grace window at $NOW
OLDREC=2026-04-01T00:00:00Z
SECRET=wrong-Secret-4f1d9c2e	# a wrong secret that must never be printed

setup_file() {
	[ -d "$ARC_NODE_MODULES/s3rver" ] &&
	[ -d "$ARC_NODE_MODULES/@20minutes/s3rver" ] || {
		echo "the npm test servers are missing: sh tests/deps.sh build test" >&2
		return 1
	}
	# both servers start at once; a proxy in front of each
	start_s3rver_as s3
	start_s3rver_as v4 v4
	start_proxy fp "$(cat "$BATS_FILE_TMPDIR/s3.port")"
	start_proxy v4p "$(cat "$BATS_FILE_TMPDIR/v4.port")"
	wait_named s3
	wait_named v4
	S3_PORT=$(cat "$BATS_FILE_TMPDIR/s3.port")
	S3_DATA=$BATS_FILE_TMPDIR/s3-data
	V4_URL="http://127.0.0.1:$(cat "$BATS_FILE_TMPDIR/v4.port")"
	V4_DATA=$BATS_FILE_TMPDIR/v4-data
	FP_URL="http://127.0.0.1:$(cat "$BATS_FILE_TMPDIR/fp.port")"
	V4P_URL="http://127.0.0.1:$(cat "$BATS_FILE_TMPDIR/v4p.port")"
	export S3_PORT S3_DATA V4_URL V4_DATA FP_URL V4P_URL
	export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER
	export AWS_ENDPOINT_URL="http://127.0.0.1:$S3_PORT"
	unset AWS_ENDPOINT_URL_S3 AWS_S3_ADDRESSING_STYLE AWS_SESSION_TOKEN \
	    AWS_REGION AWS_DEFAULT_REGION AWS_CA_BUNDLE
	# "big": 3,500 candidates over three measurements (4 pages of 1000)
	# and three keys that are never candidates; all of them old.
	make_bucket big
	{
		seq -w 1 1200 | awk '{ printf "db/cpu/2026/04/10/%02d/f%s.parquet\n", $1 % 24, $1 }'
		seq -w 1 1100 | awk '{ printf "db/disk/2026/04/10/%02d/f%s.parquet\n", $1 % 24, $1 }'
		seq -w 1 1200 | awk '{ printf "db/mem/2026/04/10/%02d/f%s.parquet\n", $1 % 24, $1 }'
		echo "db/mem/2026/04/10/05/notes.txt"
		echo "db/mem/2026/04/10/05/.hidden.parquet"
		echo "_compaction_state/db/cpu/2026/04/10/05/f.parquet"
	} >"$BATS_FILE_TMPDIR/big.keys"
	s3seed_many big <"$BATS_FILE_TMPDIR/big.keys"
	find "$S3_DATA/big" -name '*._S3rver_object' -exec touch -d "$OLD" {} +
	# "funny": keys that need percent-encoding, uploaded over HTTP (at
	# once); "c d", "e%20f" and "e+f" are absent on purpose
	make_bucket funny
	local pids=() p
	while IFS= read -r k; do
		s3put funny "db/cpu/$H/$k" "content of $k" 3>&- &
		pids+=($!)
	done <<-'EOF'
	a b.parquet
	a+b.parquet
	a%20b.parquet
	100%.parquet
	c+d.parquet
	e f.parquet
	é日本.parquet
	a&b<c>'d".parquet
	back\slash.parquet
	EOF
	s3put funny "db/cpu/$H/tab"$'\t'"here.parquet" "content of tab" 3>&- &
	pids+=($!)
	s3put funny "db/cpu/$H/new"$'\n'"line.parquet" "content of new" 3>&- &
	pids+=($!)
	for p in "${pids[@]}"; do
		wait "$p" || return 1
	done
}

teardown_file() {
	stop_named v4p
	stop_named fp
	stop_named v4
	stop_named s3
}

setup() {
	B=bkt$BATS_TEST_NUMBER
	make_bucket "$B"
	MANIFEST=$BATS_TEST_TMPDIR/m.ndjson
	STATE=$BATS_TEST_TMPDIR/state
	FP_RULES=$BATS_FILE_TMPDIR/fp.rules
	FP_LOG=$BATS_FILE_TMPDIR/fp.requests
	V4P_LOG=$BATS_FILE_TMPDIR/v4p.requests
	: >"$MANIFEST"
	: >"$FP_RULES"
	: >"$FP_LOG"
	: >"$V4P_LOG"
	export ARC_HTTP_BACKOFF_MS=1
	unset ARC_HTTP_TIMEOUT ARC_HTTP_ATTEMPTS
}

# ---- helpers -------------------------------------------------------------

# age BUCKET KEY DATE: set an object's LastModified (touch -d syntax).
age() {
	touch -d "$3" "$S3_DATA/$1/$2._S3rver_object"
}

# keys BUCKET [DATA]: every object key in the bucket, sorted, read from
# the server's directory (not through the tools under test).
keys() {
	(cd "${2:-$S3_DATA}/$1" && find . -name '*._S3rver_object' -printf '%P\n') |
	    sed 's/\._S3rver_object$//' | LC_ALL=C sort
}

# has BUCKET KEY / hasnt BUCKET KEY: the object exists on the server,
# or does not (a command, unlike "! has", fails the test when false).
has() {
	[ -f "$S3_DATA/$1/$2._S3rver_object" ]
}
hasnt() {
	[ ! -e "$S3_DATA/$1/$2._S3rver_object" ]
}

# fentry PATH: one manifest line (created long before $NOW).
fentry() {
	local db=${1%%/*} rest=${1#*/}
	printf '{"path":"%s","created_at":"2026-04-01T00:00:00Z","size_bytes":10,"database":"%s","measurement":"%s","origin_node_id":"node-1","lsn":1}\n' \
	    "$1" "$db" "${rest%%/*}"
}

# ocand PATH / scand PATH [MTIME [SIZE]]: candidate records.
ocand() {
	printf 'orphan-manifest\t%s\t2026-04-01T00:00:00Z\t10\tnode-1\t1\n' "$1"
}
scand() {
	printf 'orphan-storage\t%s\t%s\t%s\n' "$1" "${2:-$OLDREC}" "${3:-20}"
}

# count_requests REGEX [LOG]: how many logged proxy requests match.
count_requests() {
	grep -cE -- "$1" "${2:-$FP_LOG}" || true
}

# expected_big: the records arc-list must print for the "big" bucket.
expected_big() {
	grep '\.parquet$' "$BATS_FILE_TMPDIR/big.keys" |
	    grep -v -e '/\.hidden' -e '^_compaction_state/' | LC_ALL=C sort |
	    awk '{ printf "%s\t2026-04-01T00:00:00Z\t%d\n", $0, length($0) + 6 }'
}

# the planted drift, as in pipeline.bats, in bucket $B and $MANIFEST:
#   in sync:          db/cpu/H/cpu_01..36 (object and entry)
#   orphan-manifest:  db/zzz/H/lost_1, lost_2 (entries only)
#   orphan-storage:   db/aaa/H/orphan_1, orphan_2 (old objects)
#   refused:          db/aaa/2026/04/09/aaa_20260409_daily.parquet (6 segments)
#   young:            db/aaa/H/young.parquet (30 minutes before $NOW)
#   never candidates: db/aaa/H/notes.txt
LOST1="db/zzz/$H/lost_1.parquet"
LOST2="db/zzz/$H/lost_2.parquet"
ORPH1="db/aaa/$H/orphan_1.parquet"
ORPH2="db/aaa/$H/orphan_2.parquet"
DAILY=db/aaa/2026/04/09/aaa_20260409_daily.parquet
YOUNG="db/aaa/$H/young.parquet"
plant() {
	local i k
	set --
	for i in $(seq -w 1 36); do
		set -- "$@" "db/cpu/$H/cpu_$i.parquet"
	done
	for k in "$@"; do
		fentry "$k"
	done >"$MANIFEST"
	fentry "$LOST1" >>"$MANIFEST"
	fentry "$LOST2" >>"$MANIFEST"
	s3seed_old "$B" "$@" "$ORPH1" "$ORPH2" "$DAILY" "$YOUNG" "db/aaa/$H/notes.txt"
	age "$B" "$YOUNG" '2026-04-11 13:30:00'
}

# reconcile [OPTION...]: the driver on bucket $B and $MANIFEST at $NOW.
reconcile() {
	arc-reconcile --state-dir "$STATE" --now "$NOW" "$@" "s3://$B" "$MANIFEST"
}

# field JQ: evaluate JQ on the one run record, compactly.
field() {
	jq -c "$1" "$STATE"/runs/*.json
}

# manifest_paths: the manifest's paths, sorted.
manifest_paths() {
	jq -r .path "$MANIFEST" | LC_ALL=C sort
}

# assert_manifest_objects_kept BUCKET: every object whose path is in
# $MANIFEST still exists.
assert_manifest_objects_kept() {
	local missing
	missing=$(LC_ALL=C comm -12 <(manifest_paths) <(cat "$BATS_TEST_TMPDIR/keys.before") |
	    while IFS= read -r p; do has "$1" "$p" || echo "$p"; done)
	assert_equal "$missing" ''
}

# ---- arc-list ------------------------------------------------------------

@test "arc-list pages through a 3,500-key bucket (4 pages): every candidate once, byte-sorted, with LastModified and Size" {
	run -0 --separate-stderr proxied arc-list s3://big
	assert_stderr ''
	assert_output "$(expected_big)"
	printf '%s\n' "$output" | LC_ALL=C sort -c
	assert_equal "$(printf '%s\n' "$output" | cut -f1 | uniq -d)" ''
	# the listing really took more than 3 pages of ListObjectsV2
	[ "$(count_requests '^GET /big\?continuation-token=')" -ge 3 ]
}

@test "-M manifest-derived prefixes with -j 1 and -j 8 list exactly what a plain listing lists" {
	for p in "db/cpu/$H/a.parquet" "db/mem/$H/b.parquet" "db/none/$H/c.parquet"; do
		fentry "$p"
	done >"$MANIFEST"
	arc-manifest-dump "$MANIFEST" >m.rec
	run -0 --separate-stderr arc-list -M m.rec -j 8 s3://big
	assert_stderr ''
	assert_output "$(expected_big)"
	run -0 --separate-stderr proxied arc-list -M m.rec -j 1 s3://big
	assert_output "$(expected_big)"
	# the manifest's prefixes were listed on their own
	[ "$(count_requests 'prefix=db%2Fcpu%2F')" -ge 2 ]
	[ "$(count_requests 'prefix=db%2Fmem%2F')" -ge 2 ]
}

@test "-M with more than 900 entries a prefix splits it into ranges that together list exactly what a plain listing lists" {
	# every big key but a few (storage-only keys fall inside ranges and on
	# their edges), plus entries with no object
	grep '\.parquet$' "$BATS_FILE_TMPDIR/big.keys" | grep -v '^_' |
	    awk 'NR % 450 != 0' >paths
	printf 'db/cpu/%s/zz%d.parquet\n' "$H" 1 "$H" 2 >>paths
	while read -r p; do fentry "$p"; done <paths >"$MANIFEST"
	arc-manifest-dump "$MANIFEST" >m.rec
	for j in 8 1; do
		run -0 --separate-stderr proxied arc-list -M m.rec -j "$j" s3://big
		assert_stderr ''
		assert_output "$(expected_big)"
	done
	# the ranges were listed on their own: each from a bound on
	[ "$(count_requests 'prefix=db%2Fcpu%2F&start-after=db%2Fcpu%2F')" -ge 2 ]
	[ "$(count_requests 'prefix=db%2Fmem%2F&start-after=db%2Fmem%2F')" -ge 2 ]
}

@test "with -M and -j 1 the rest listing's one-key probe is asked first, not after every split point's pages" {
	fentry "db/cpu/$H/a.parquet" >"$MANIFEST"
	fentry "db/mem/$H/b.parquet" >>"$MANIFEST"
	arc-manifest-dump "$MANIFEST" >m.rec
	run -0 --separate-stderr proxied arc-list -M m.rec -j 1 s3://big
	assert_output "$(expected_big)"
	run -0 grep -m1 '^GET /big?' "$FP_LOG"
	assert_output --partial 'max-keys=1&prefix= '
}

@test "with -M the one-key probe past the last split point goes out with the first pages, not after the listing of every gap before it" {
	# split points cpu and mem: gaps before cpu (_compaction_state),
	# between them (disk, no entry in the manifest) and after mem.  One
	# lister for the whole rest would reach the probe past mem only after
	# about six requests of its own (cpu's probe, disk's two pages, ...)
	fentry "db/cpu/$H/a.parquet" >"$MANIFEST"
	fentry "db/mem/$H/b.parquet" >>"$MANIFEST"
	arc-manifest-dump "$MANIFEST" >m.rec
	: >"$FP_LOG"
	run -0 --separate-stderr proxied arc-list -M m.rec -j 8 s3://big
	assert_stderr ''
	assert_output "$(expected_big)"
	# the first round: three gap probes and the two prefixes' first pages
	run -0 grep -m6 '^GET /big?' "$FP_LOG"
	assert_output --partial 'max-keys=1&prefix=&start-after=db%2Fmem%2F%F4%8F%BF%BF'
	assert_output --partial 'max-keys=1&prefix=&start-after=db%2Fcpu%2F%F4%8F%BF%BF'
	# positive control: the disk keys, in the middle gap, were all listed
	# (above) by that gap's lister, from its probe on
	[ "$(count_requests 'start-after=db%2Fcpu%2F%F4%8F%BF%BF')" -eq 1 ]
	[ "$(count_requests 'prefix=db%2Fdisk%2F')" -eq 0 ]
}

@test "keys needing percent-encoding (space, '+', '%', unicode, XML specials, backslash, TAB, newline) are listed byte for byte" {
	run -0 --separate-stderr arc-list s3://funny/db/cpu
	assert_stderr ''
	assert_equal "$(printf '%s\n' "$output" | cut -f1)" "$(LC_ALL=C sort <<-EOF
	$H/a b.parquet
	$H/a+b.parquet
	$H/a%20b.parquet
	$H/100%.parquet
	$H/c+d.parquet
	$H/e f.parquet
	$H/é日本.parquet
	$H/a&b<c>'d".parquet
	$H/back\\\\slash.parquet
	$H/tab\\there.parquet
	$H/new\\nline.parquet
	EOF
	)"
	# sizes are the uploaded contents' ("content of " + name)
	assert_line --regexp "^$H/a\\+b\\.parquet	[0-9TZ:-]+	22\$"
}

@test "s3://b/x and s3://b/x/ both list the keys under x/, relative to it, and never a key under x1/ or x.parquet" {
	s3seed_old "$B" "x/db/cpu/$H/a.parquet" "x1/db/cpu/$H/b.parquet" x.parquet \
	    "xy/db/cpu/$H/c.parquet" "x/db/cpu/$H/d.parquet" "x y/db/cpu/$H/e.parquet"
	# sizes: s3seed's content is "data:" KEY "\n"
	want=$(printf '%s\t%s\t%s\n' "db/cpu/$H/a.parquet" "$OLDREC" 38 \
	    "db/cpu/$H/d.parquet" "$OLDREC" 38)
	run -0 --separate-stderr arc-list "s3://$B/x"
	assert_output "$want"
	run -0 --separate-stderr arc-list "s3://$B/x/"
	assert_output "$want"
	run -0 --separate-stderr arc-list "s3://$B/x1"
	assert_output "$(printf '%s\t%s\t%s' "db/cpu/$H/b.parquet" "$OLDREC" 39)"
	run -0 --separate-stderr arc-list "s3://$B/x y/"
	assert_output "$(printf '%s\t%s\t%s' "db/cpu/$H/e.parquet" "$OLDREC" 40)"
}

@test "an empty bucket lists nothing and exits 0" {
	run -0 --separate-stderr arc-list "s3://$B"
	assert_output ''
	assert_stderr ''
}

@test "a missing bucket is one clear error line naming the bucket, exit 2, nothing listed" {
	run -2 --separate-stderr arc-list s3://no-such-bucket
	assert_output ''
	assert_equal "${#stderr_lines[@]}" 1
	assert_stderr --partial NoSuchBucket
	assert_stderr --partial no-such-bucket
}

@test "an unknown access key id is refused: exit 2 with InvalidAccessKeyId, nothing listed" {
	run -2 --separate-stderr env AWS_ACCESS_KEY_ID=NOSUCHKEY arc-list s3://big
	assert_output ''
	assert_stderr --partial InvalidAccessKeyId
}

# ---- signing: the signature-checking server --------------------------------

@test "correctly signed, arc-list (2 pages), arc-recheck and DeleteObjects all work on the signature-checking server, a key with a space included" {
	export AWS_ENDPOINT_URL=$V4_URL
	make_bucket sig
	s3put sig "db/cpu/$H/a b.parquet" hello
	seq -w 1 1100 | sed "s|.*|db/cpu/$H/f&.parquet|" | S3_DATA=$V4_DATA s3seed_many sig
	run -0 --separate-stderr env AWS_ENDPOINT_URL="$V4P_URL" arc-list s3://sig
	assert_stderr ''
	assert_equal "${#lines[@]}" 1101
	assert_line --index 0 --regexp "^db/cpu/$H/a b\.parquet	[0-9TZ:-]+	5\$"
	[ "$(count_requests '^GET /sig\?continuation-token=.* pass 200$' "$V4P_LOG")" -ge 1 ]

	{ ocand "db/cpu/$H/a b.parquet"; ocand "db/cpu/$H/gone.parquet"; } >c.rec
	run -1 --separate-stderr env AWS_ENDPOINT_URL="$V4P_URL" \
	    arc-recheck -R rej s3://sig "$MANIFEST" <c.rec
	assert_output "$(ocand "db/cpu/$H/gone.parquet")"
	assert_equal "$(cut -f1 rej)" present

	{ scand "db/cpu/$H/a b.parquet"; scand "db/cpu/$H/f0001.parquet"; } >d.rec
	run -0 --separate-stderr env AWS_ENDPOINT_URL="$V4P_URL" \
	    arc-delete --act -A ar.tar.gz s3://sig "$MANIFEST" <d.rec
	assert_output "$(printf 'deleted\torphan-storage\t%s\tDELETED\n' \
	    "db/cpu/$H/a b.parquet" "db/cpu/$H/f0001.parquet")"
	# one signed DeleteObjects, accepted; no per-key DELETE fallback
	assert_equal "$(count_requests '^POST /sig\?delete= .*pass 200$' "$V4P_LOG")" 1
	assert_equal "$(count_requests '^DELETE ' "$V4P_LOG")" 0
	assert_equal "$(keys sig "$V4_DATA" | wc -l)" 1099
	run -0 keys sig "$V4_DATA"
	refute_line "db/cpu/$H/a b.parquet"
	refute_line "db/cpu/$H/f0001.parquet"
}

@test "a wrong secret on the signature-checking server: arc-list exits 2 with SignatureDoesNotMatch and prints neither the secret nor the session token" {
	export AWS_ENDPOINT_URL=$V4_URL
	make_bucket sigw
	seq -w 1 3 | sed "s|.*|db/cpu/$H/f&.parquet|" | S3_DATA=$V4_DATA s3seed_many sigw
	run -2 --separate-stderr env AWS_SECRET_ACCESS_KEY="$SECRET" \
	    AWS_SESSION_TOKEN=session-Token-77aa1 arc-list s3://sigw
	assert_output ''
	assert_equal "${#stderr_lines[@]}" 1
	assert_stderr --partial SignatureDoesNotMatch
	assert_stderr --partial sigw
	refute_stderr --partial "$SECRET"
	refute_stderr --partial session-Token-77aa1
}

@test "with a wrong secret, arc-recheck confirms nothing and arc-delete deletes nothing, and neither prints the secret" {
	export AWS_ENDPOINT_URL=$V4_URL
	make_bucket sigx
	seq -w 1 3 | sed "s|.*|db/cpu/$H/f&.parquet|" | S3_DATA=$V4_DATA s3seed_many sigx
	before=$(keys sigx "$V4_DATA")
	ocand "db/cpu/$H/gone.parquet" >c.rec
	run -1 --separate-stderr env AWS_SECRET_ACCESS_KEY="$SECRET" \
	    arc-recheck -R rej s3://sigx "$MANIFEST" <c.rec
	assert_output ''
	assert_equal "$(cut -f1 rej)" error
	assert_stderr --partial "HTTP 403"	# a HEAD answer has no body
	refute_stderr --partial "$SECRET"
	{ scand "db/cpu/$H/f1.parquet"; scand "db/cpu/$H/f2.parquet"; } >d.rec
	run -1 --separate-stderr env AWS_SECRET_ACCESS_KEY="$SECRET" \
	    arc-delete --act -A ar.tar.gz s3://sigx "$MANIFEST" <d.rec
	refute_output --partial deleted
	assert_stderr --regexp 'SignatureDoesNotMatch|HTTP 403'
	refute_stderr --partial "$SECRET"
	assert_equal "$(keys sigx "$V4_DATA")" "$before"
}

@test "arc-reconcile --act with a wrong secret aborts with exit 2, deletes nothing, and the secret is in no output, record or log" {
	export AWS_ENDPOINT_URL=$V4_URL
	make_bucket sigy
	seq -w 1 5 | sed "s|.*|db/cpu/$H/f&.parquet|" | S3_DATA=$V4_DATA s3seed_many sigy
	fentry "db/cpu/$H/f1.parquet" >"$MANIFEST"
	fentry "db/cpu/$H/lost.parquet" >>"$MANIFEST"
	before=$(keys sigy "$V4_DATA")
	mbefore=$(cat "$MANIFEST")
	run -2 --separate-stderr env AWS_SECRET_ACCESS_KEY="$SECRET" \
	    arc-reconcile --state-dir "$STATE" --act --max-orphan-ratio 1 \
	    s3://sigy "$MANIFEST"
	assert_output ''
	assert_stderr --partial SignatureDoesNotMatch
	refute_stderr --partial "$SECRET"
	assert_equal "$(keys sigy "$V4_DATA")" "$before"
	assert_equal "$(cat "$MANIFEST")" "$mbefore"
	assert_equal "$(field '[.aborted, .abort_reason, .manifest_deletes, .storage_deletes]')" \
	    '[true,"storage_unreadable",0,0]'
	run grep -rlF -- "$SECRET" "$STATE"
	assert_output ''
}

# ---- arc-recheck -----------------------------------------------------------

@test "arc-recheck against a missing bucket confirms nothing: a 404 there is an 'error' naming the bucket, never 'absent'" {
	{ ocand "db/cpu/$H/a.parquet"; ocand "db/cpu/$H/b.parquet"; } >c.rec
	run --separate-stderr arc-recheck -R rej s3://no-such-bucket "$MANIFEST" <c.rec
	[ "$status" -ne 0 ]
	assert_output ''
	assert_equal "$(cut -f1 rej)" "$(printf 'error\nerror')"
	assert_stderr --partial no-such-bucket
}

@test "arc-recheck confirms an orphan-manifest candidate only on 404 and rejects a present key as 'present', funny keys exactly" {
	# "c d", "e%20f" and "e+f" are absent, though a sloppy encoding of
	# them would name "c+d" or "e f", which exist
	{
		ocand "db/cpu/$H/100%.parquet"
		ocand "db/cpu/$H/a b.parquet"
		ocand "db/cpu/$H/a%20b.parquet"
		ocand "db/cpu/$H/a+b.parquet"
		ocand "db/cpu/$H/c d.parquet"
		ocand "db/cpu/$H/e%20f.parquet"
		ocand "db/cpu/$H/e+f.parquet"
		ocand "db/cpu/$H/é日本.parquet"
		ocand "db/nosuch/$H/x.parquet"
	} >c.rec
	run -1 --separate-stderr arc-recheck -R rej -S st.json s3://funny "$MANIFEST" <c.rec
	assert_stderr ''
	assert_output "$(ocand "db/cpu/$H/c d.parquet"; ocand "db/cpu/$H/e%20f.parquet"
	    ocand "db/cpu/$H/e+f.parquet"; ocand "db/nosuch/$H/x.parquet")"
	assert_equal "$(cut -f1,3 rej)" "$(printf 'present\t%s\n' "db/cpu/$H/100%.parquet" \
	    "db/cpu/$H/a b.parquet" "db/cpu/$H/a%20b.parquet" "db/cpu/$H/a+b.parquet" \
	    "db/cpu/$H/é日本.parquet")"
	assert_equal "$(jq -c '[.checked, .confirmed, .present, .error]' st.json)" '[9,4,5,0]'
}

@test "a HEAD answered 403, or 500 on every attempt, rejects the candidate as 'error' and never confirms it" {
	faults "HEAD /k403\\.parquet 403" "HEAD /k500\\.parquet 500"
	{ ocand "db/cpu/$H/k403.parquet"; ocand "db/cpu/$H/k500.parquet"; } >c.rec
	run -1 --separate-stderr proxied arc-recheck -R rej -S st.json "s3://$B" "$MANIFEST" <c.rec
	assert_output ''
	assert_equal "$(cut -f1 rej)" "$(printf 'error\nerror')"
	assert_stderr --partial "'db/cpu/$H/k403.parquet': cannot check"
	assert_stderr --partial "HTTP 403"
	assert_stderr --partial "'db/cpu/$H/k500.parquet': cannot check"
	assert_stderr --partial "HTTP 500"
	assert_equal "$(jq -c '[.confirmed, .error]' st.json)" '[0,2]'
	# the 500s were retried, the 403 was not
	[ "$(count_requests 'k500\.parquet 500$')" -ge 3 ]
	assert_equal "$(count_requests 'k403\.parquet 403$')" 1
}

@test "HEADs answered 500 or 503 a few times, or dropped once, succeed on retry and are decided on the real answer" {
	s3seed_old "$B" "db/cpu/$H/here.parquet"
	faults "HEAD /gone1\\.parquet 503 2" "HEAD /gone2\\.parquet 500 2" \
	    "HEAD /gone3\\.parquet drop 1" "HEAD /here\\.parquet 503 2"
	{
		ocand "db/cpu/$H/gone1.parquet"
		ocand "db/cpu/$H/gone2.parquet"
		ocand "db/cpu/$H/gone3.parquet"
		ocand "db/cpu/$H/here.parquet"
	} >c.rec
	run -1 --separate-stderr proxied arc-recheck -R rej "s3://$B" "$MANIFEST" <c.rec
	assert_stderr ''
	assert_output "$(head -n 3 c.rec)"
	assert_equal "$(cat rej)" "$(printf 'present\t%s\tRECHECK_PRESENT\t-' "$(tail -n 1 c.rec)")"
	assert_equal "$(count_requests ' (500|503|drop)$')" 7
}

@test "a HEAD delayed past ARC_HTTP_TIMEOUT once is retried; delayed on every attempt, or always dropped, it is 'error'" {
	export ARC_HTTP_TIMEOUT=1 ARC_HTTP_ATTEMPTS=3
	faults "HEAD /slow1\\.parquet delay:2.5 1" "HEAD /slow2\\.parquet delay:2.5" \
	    "HEAD /dropped\\.parquet drop"
	{
		ocand "db/cpu/$H/dropped.parquet"
		ocand "db/cpu/$H/slow1.parquet"
		ocand "db/cpu/$H/slow2.parquet"
	} >c.rec
	run -1 --separate-stderr proxied arc-recheck -R rej "s3://$B" "$MANIFEST" <c.rec
	assert_output "$(ocand "db/cpu/$H/slow1.parquet")"
	assert_equal "$(cat rej)" "$(printf 'error\t%s\tRECHECK_ERROR\t-\n' "$(ocand "db/cpu/$H/dropped.parquet")" "$(ocand "db/cpu/$H/slow2.parquet")")"
	assert_stderr --partial "'db/cpu/$H/slow2.parquet': cannot check"
	assert_stderr --regexp "[Tt]imeout|timed out"
}

@test "an orphan-storage candidate is rejected 'young' by its live LastModified and 'in-manifest' when the manifest has it" {
	s3seed_old "$B" "db/cpu/$H/young.parquet" "db/cpu/$H/listed.parquet" "db/cpu/$H/old.parquet"
	age "$B" "db/cpu/$H/young.parquet" '2026-04-11 13:30:00'
	fentry "db/cpu/$H/listed.parquet" >"$MANIFEST"
	{
		scand "db/cpu/$H/listed.parquet"
		scand "db/cpu/$H/old.parquet"
		scand "db/cpu/$H/young.parquet"
	} >c.rec
	run -1 --separate-stderr arc-recheck -t "$NOW" -R rej "s3://$B" "$MANIFEST" <c.rec
	assert_output "$(scand "db/cpu/$H/old.parquet")"
	assert_equal "$(cut -f1 rej)" "$(printf 'in-manifest\nyoung')"
}

# ---- arc-delete --------------------------------------------------------------

@test "arc-delete --act removes orphan objects with one DeleteObjects request, funny keys included, and leaves the rest" {
	s3put "$B" "db/cpu/$H/a b+c%20é.parquet" x
	s3put "$B" "db/cpu/$H/a&b<c>.parquet" x
	s3seed_old "$B" "db/cpu/$H/o1.parquet" "db/cpu/$H/keep.parquet"
	{
		scand "db/cpu/$H/a b+c%20é.parquet"
		scand "db/cpu/$H/a&b<c>.parquet"
		scand "db/cpu/$H/o1.parquet"
	} >d.rec
	run -0 --separate-stderr proxied arc-delete --act -A ar.tar.gz "s3://$B" "$MANIFEST" <d.rec
	assert_stderr ''
	assert_output "$(printf 'deleted\torphan-storage\t%s\tDELETED\n' \
	    "db/cpu/$H/a b+c%20é.parquet" "db/cpu/$H/a&b<c>.parquet" "db/cpu/$H/o1.parquet")"
	assert_equal "$(keys "$B")" "db/cpu/$H/keep.parquet"
	assert_equal "$(count_requests "^POST /$B\\?delete= ")" 1
	assert_equal "$(count_requests '^DELETE ')" 0
}

@test "a dry run of arc-delete on S3 reports would-delete and sends no delete request" {
	s3seed_old "$B" "db/cpu/$H/o1.parquet" "db/cpu/$H/o2.parquet"
	{ scand "db/cpu/$H/o1.parquet"; scand "db/cpu/$H/o2.parquet"; } >d.rec
	run -0 --separate-stderr proxied arc-delete "s3://$B" "$MANIFEST" <d.rec
	assert_output "$(printf 'would-delete\torphan-storage\t%s\tORPHAN_STORAGE\n' \
	    "db/cpu/$H/o1.parquet" "db/cpu/$H/o2.parquet")"
	assert_equal "$(keys "$B" | wc -l)" 2
	assert_equal "$(count_requests '^(POST|DELETE) ')" 0
}

@test "arc-delete refuses paths with fewer than 7 segments and unsafe paths on S3 and never sends them a delete" {
	s3seed_old "$B" "db/cpu/2026/04/10/daily.parquet" "db/cpu/$H/o1.parquet"
	{
		scand "../db/cpu/$H/up.parquet"
		scand "db/cpu/$H/../../../../../x.parquet"
		scand "db/cpu/$H/o1.parquet"
		scand "db/cpu/2026/04/10/daily.parquet"
	} | LC_ALL=C sort >d.rec
	run -1 --separate-stderr proxied arc-delete --act -A ar.tar.gz "s3://$B" "$MANIFEST" <d.rec
	assert_line "$(printf 'refused\torphan-storage\t%s\tLAYOUT_MISMATCH' "db/cpu/2026/04/10/daily.parquet")"
	assert_line "$(printf 'refused\torphan-storage\t%s\tLAYOUT_MISMATCH' "../db/cpu/$H/up.parquet")"
	assert_line "$(printf 'refused\torphan-storage\t%s\tLAYOUT_MISMATCH' "db/cpu/$H/../../../../../x.parquet")"
	assert_line "$(printf 'deleted\torphan-storage\t%s\tDELETED' "db/cpu/$H/o1.parquet")"
	assert_stderr --partial "fewer than 7 segments"
	assert_equal "$(keys "$B")" "db/cpu/2026/04/10/daily.parquet"
	run grep -E 'daily|up\.parquet|x\.parquet' "$FP_LOG"
	assert_output ''
}

@test "--archive-files keeps the objects' bytes in the archive and --restore puts them back byte for byte, never over an existing object" {
	s3put "$B" "db/cpu/$H/a b.parquet" "first object's bytes"
	s3put "$B" "db/cpu/$H/c+d.parquet" "second"
	{ scand "db/cpu/$H/a b.parquet"; scand "db/cpu/$H/c+d.parquet"; } >d.rec
	run -0 --separate-stderr arc-delete --act --archive-files -A ar.tar.gz \
	    "s3://$B" "$MANIFEST" <d.rec
	assert_equal "$(keys "$B")" ''
	run -0 tar -xOzf ar.tar.gz "quarantine/db/cpu/$H/a b.parquet"
	assert_output "first object's bytes"
	run -0 --separate-stderr arc-delete --restore ar.tar.gz "s3://$B" "$MANIFEST"
	assert_line "$(printf 'restored\torphan-storage\t%s\tRESTORED' "db/cpu/$H/a b.parquet")"
	assert_line "$(printf 'restored\torphan-storage\t%s\tRESTORED' "db/cpu/$H/c+d.parquet")"
	run -0 s3curl "$AWS_ENDPOINT_URL/$B/db/cpu/$H/a%20b.parquet"
	assert_output "first object's bytes"
	run -0 s3curl "$AWS_ENDPOINT_URL/$B/db/cpu/$H/c%2Bd.parquet"
	assert_output "second"
	# a second restore finds the objects there and overwrites nothing
	s3put "$B" "db/cpu/$H/c+d.parquet" "newer"
	run -1 --separate-stderr arc-delete --restore ar.tar.gz "s3://$B" "$MANIFEST"
	assert_line "$(printf 'failed\torphan-storage\t%s\tRESTORE_FAILED' "db/cpu/$H/c+d.parquet")"
	assert_stderr --partial "an object exists there"
	run -0 s3curl "$AWS_ENDPOINT_URL/$B/db/cpu/$H/c%2Bd.parquet"
	assert_output "newer"
}

@test "a DeleteObjects that keeps failing with 500 falls back to per-key DELETE and every object is still deleted" {
	s3seed_old "$B" "db/cpu/$H/o1.parquet" "db/cpu/$H/o2.parquet" "db/cpu/$H/keep.parquet"
	faults "POST \\?delete= 500"
	{ scand "db/cpu/$H/o1.parquet"; scand "db/cpu/$H/o2.parquet"; } >d.rec
	run -0 --separate-stderr proxied arc-delete --act -A ar.tar.gz "s3://$B" "$MANIFEST" <d.rec
	assert_output "$(printf 'deleted\torphan-storage\t%s\tDELETED\n' \
	    "db/cpu/$H/o1.parquet" "db/cpu/$H/o2.parquet")"
	assert_equal "$(keys "$B")" "db/cpu/$H/keep.parquet"
	assert_equal "$(count_requests '^DELETE .* pass 204$')" 2
}

# ---- arc-reconcile on S3 ---------------------------------------------------

@test "a dry run against a bucket with planted drift prints every repair it would make, manifest first, and changes nothing" {
	plant
	kbefore=$(keys "$B")
	mbefore=$(cat "$MANIFEST")
	run -1 --separate-stderr reconcile
	assert_output "$(printf '%s\t%s\t%s\t%s\n' \
	    would-delete orphan-manifest "$LOST1" ORPHAN_MANIFEST \
	    would-delete orphan-manifest "$LOST2" ORPHAN_MANIFEST \
	    refused orphan-storage "$DAILY" LAYOUT_MISMATCH \
	    would-delete orphan-storage "$ORPH1" ORPHAN_STORAGE \
	    would-delete orphan-storage "$ORPH2" ORPHAN_STORAGE)"
	assert_stderr --partial "'$DAILY': refused: not a managed path"
	assert_equal "$(keys "$B")" "$kbefore"
	assert_equal "$(cat "$MANIFEST")" "$mbefore"
	assert_equal "$(field '[.dry_run, .manifest_deletes, .storage_deletes, .skipped_grace, .storage_file_count, .walk_partial]')" \
	    '[true,2,2,1,40,false]'
}

@test "an act run deletes exactly the orphans; the young object, the 6-segment object and every manifest path stay" {
	plant
	kbefore=$(keys "$B")
	mbefore=$(manifest_paths)
	run -1 --separate-stderr reconcile --act
	assert_output "$(printf '%s\t%s\t%s\t%s\n' \
	    deleted orphan-manifest "$LOST1" DELETED \
	    deleted orphan-manifest "$LOST2" DELETED \
	    refused orphan-storage "$DAILY" LAYOUT_MISMATCH \
	    deleted orphan-storage "$ORPH1" DELETED \
	    deleted orphan-storage "$ORPH2" DELETED)"
	assert_equal "$(keys "$B")" "$(printf '%s\n' "$kbefore" | grep -v '/orphan_[12]\.parquet$')"
	assert_equal "$(manifest_paths)" "$(printf '%s\n' "$mbefore" | grep -v '/lost_[12]\.parquet$')"
	has "$B" "$YOUNG"
	has "$B" "$DAILY"
	assert_equal "$(field '[.dry_run, .manifest_deletes, .storage_deletes, .walk_partial, .archive != null]')" \
	    '[false,2,2,false,true]'
}

@test "explain tells from an S3 run's archive why each path was deleted, kept or left alone" {
	plant
	run -1 --separate-stderr reconcile --act
	local id
	id=$(jq -r .id "$STATE"/runs/*.json)
	run -0 arc-reconcile explain --state-dir "$STATE" "$id" "$ORPH1"
	assert_equal "$(cut -f1,2 <<<"$output" | grep '^[A-Z_]*	')" \
	    "$(printf 'ORPHAN_STORAGE\tdiff\nDELETED\tdelete2')"
	run -0 arc-reconcile explain --state-dir "$STATE" "$id" "$LOST1"
	assert_line --regexp '^DELETED	delete1	'
	run -0 arc-reconcile explain --state-dir "$STATE" "$id" "$YOUNG"
	assert_line --regexp "^TOO_YOUNG	diff	young: .*age from the mtime 2026-04-11T13:30:00Z of the listing\$"
	run -0 arc-reconcile explain --state-dir "$STATE" "$id" "$DAILY"
	assert_line --regexp '^LAYOUT_MISMATCH	delete2	refused: '
	run -0 arc-reconcile explain --state-dir "$STATE" "$id" "db/aaa/$H/notes.txt"
	assert_line --regexp '^NOT_A_CANDIDATE	list	'
	run -0 arc-reconcile explain --state-dir "$STATE" "$id" "db/cpu/$H/cpu_01.parquet"
	assert_line 'left alone: in both the manifest and the store'
	run -1 arc-reconcile explain --state-dir "$STATE" "$id" "db/cpu/$H/never.parquet"
	assert_line --regexp '^not seen: '
}

# ---- fault injection through the whole run ---------------------------------

@test "listing pages answered 500/503 or dropped are retried: the listing is complete, exit 0, and says nothing" {
	faults "GET ^/big\\?encoding-type=url&list-type=2 503 2" "GET ^/big\\?continuation-token= 500 2" \
	    "GET ^/big\\?continuation-token= drop 1"
	run -0 --separate-stderr proxied arc-list s3://big
	assert_stderr ''
	assert_output "$(expected_big)"
	assert_equal "$(count_requests ' (50[03]|drop)$')" 5
}

@test "a prefix that keeps failing makes arc-list exit 1 naming that prefix, and every other prefix is listed" {
	for p in "db/cpu/$H/a.parquet" "db/mem/$H/b.parquet"; do
		fentry "$p"
	done >"$MANIFEST"
	arc-manifest-dump "$MANIFEST" >m.rec
	faults "GET prefix=db%2Fmem%2F 500"
	run -1 --separate-stderr proxied arc-list -M m.rec -j 4 s3://big
	assert_equal "${#stderr_lines[@]}" 1
	assert_stderr --partial "db/mem/'"
	assert_stderr --partial "HTTP 500"
	assert_output "$(expected_big | grep -v '^db/mem/')"
}

@test "a listing page delayed past ARC_HTTP_TIMEOUT once is retried; a prefix delayed on every attempt makes arc-list exit 1 naming it" {
	export ARC_HTTP_TIMEOUT=2 ARC_HTTP_ATTEMPTS=2
	s3seed_old "$B" "db/a/$H/a1.parquet" "db/b/$H/b1.parquet" "db/c/$H/c1.parquet"
	for p in "db/a/$H/x.parquet" "db/b/$H/x.parquet"; do
		fentry "$p"
	done >"$MANIFEST"
	arc-manifest-dump "$MANIFEST" >m.rec
	faults "GET prefix=db%2Fa%2F delay:3.5 1" "GET prefix=db%2Fb%2F delay:3.5"
	run -1 --separate-stderr proxied arc-list -M m.rec "s3://$B"
	assert_output "$(printf '%s\t%s\t%s\n' "db/a/$H/a1.parquet" "$OLDREC" 35 \
	    "db/c/$H/c1.parquet" "$OLDREC" 35)"
	assert_equal "${#stderr_lines[@]}" 1
	assert_stderr --partial "db/b/'"
	assert_stderr --regexp "[Tt]imeout|timed out"
}

@test "a listing that fails after its first range: the act run deletes no manifest entry, reports them, and records walk_partial" {
	# 1,100 objects in sync: the manifest splits their prefix into two
	# ranges at its 901st path, and the second range's listing fails
	seq -w 1 1100 | sed "s|.*|db/cpu/$H/c&.parquet|" >sync.keys
	s3seed_many "$B" <sync.keys
	while IFS= read -r k; do fentry "$k"; done <sync.keys >"$MANIFEST"
	fentry "$LOST1" >>"$MANIFEST"
	fentry "$LOST2" >>"$MANIFEST"
	find "$S3_DATA/$B" -name '*._S3rver_object' -exec touch -d "$OLD" {} +
	mbefore=$(cat "$MANIFEST")
	kbefore=$(keys "$B")
	faults "GET prefix=db%2Fcpu%2F&start-after= 500"
	run -1 --separate-stderr proxied reconcile --act --max-orphan-ratio 1
	assert_stderr --partial "listing was partial"
	refute_output --partial "deleted	orphan-manifest"
	assert_line "$(printf 'would-delete\torphan-manifest\t%s\tLISTING_PARTIAL' "$LOST1")"
	assert_line "$(printf 'would-delete\torphan-manifest\t%s\tLISTING_PARTIAL' "$LOST2")"
	assert_equal "$(cat "$MANIFEST")" "$mbefore"
	assert_equal "$(keys "$B")" "$kbefore"
	assert_equal "$(field '[.walk_partial, .manifest_deletes, .storage_deletes, .aborted]')" '[true,0,0,false]'
	# the 199 entries past the first range were re-checked and found present
	assert_equal "$(field '[.orphan_manifest_count, .skipped_recheck]')" '[201,199]'
}

@test "with 503s on listing, 500/403 on some HEADs and a dropped DeleteObjects, an act run deletes only what it confirmed and nothing in the manifest" {
	plant
	keys "$B" >"$BATS_TEST_TMPDIR/keys.before"
	faults "GET ^/$B\\?encoding-type=url&list-type=2 503 2" \
	    "HEAD /lost_1\\.parquet 500" \
	    "HEAD /orphan_2\\.parquet 403" \
	    "POST \\?delete= drop 1"
	run -1 --separate-stderr proxied reconcile --act
	assert_output "$(printf '%s\t%s\t%s\t%s\n' \
	    deleted orphan-manifest "$LOST2" DELETED \
	    refused orphan-storage "$DAILY" LAYOUT_MISMATCH \
	    deleted orphan-storage "$ORPH1" DELETED)"
	assert_stderr --partial "'$LOST1': cannot check"
	assert_stderr --partial "'$ORPH2': cannot check"
	assert_stderr --partial "drift remains"
	# lost_1 could not be checked: its entry stays; orphan_2 neither: it stays
	run -0 jq -r .path "$MANIFEST"
	assert_line "$LOST1"
	refute_line "$LOST2"
	has "$B" "$ORPH2"
	hasnt "$B" "$ORPH1"
	assert_manifest_objects_kept "$B"
	assert_equal "$(field '[.walk_partial, .manifest_deletes, .storage_deletes]')" '[false,1,1]'
	assert_equal "$(count_requests ' (503|drop)$')" 3
}
