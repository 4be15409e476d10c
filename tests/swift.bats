#!/usr/bin/env bats
# swift.bats - the S3 store against a second S3 implementation written by
# others: OpenStack Swift 2.30's S3 API (the s3api middleware, tempauth
# users) on one loopback storage node, started by start_swift.  Swift's
# S3 access key ids are "account:user": the key id holds a ':'.  Objects
# are seeded and checked through Swift's native API (an independent
# view), the tools under test speak S3 only: arc-list, arc-recheck,
# arc-delete and the arc-reconcile driver, and their credentials from the
# environment and from a shared credentials file.
load test_helper
load servers
bats_require_minimum_version 1.5.0

H=2026/04/10/12			# an hour directory: files in it have 7 segments
NOW=2026-04-11T14:00:00Z	# --now / -t for every time-dependent run
OLD=1775001600			# 2026-04-01T00:00:00Z, far outside the grace window
OLDREC=2026-04-01T00:00:00Z
YOUNGTS=1775914200		# 2026-04-11T13:30:00Z, 30 minutes before $NOW
SECRET=wrong-Secret-4f1d9c2e	# a wrong secret that must never be printed

setup_file() {
	command -v swift-ring-builder >/dev/null && command -v memcached >/dev/null || {
		echo "Swift is missing: sh tests/deps.sh test" >&2
		return 1
	}
	start_swift || return 1
	# "big": 950 keys in db/cpu (a manifest of them splits the prefix at
	# its 901st path), 60 in db/mem, two that are never candidates, and
	# keys that need percent-encoding: 1,021 keys, two pages of 1,000
	make_swbucket big
	{
		seq -w 1 950 | awk '{ printf "db/cpu/2026/04/10/%02d/f%s.parquet\n", $1 % 24, $1 }'
		seq -w 1 60 | awk '{ printf "db/mem/2026/04/10/%02d/m%s.parquet\n", $1 % 24, $1 }'
		echo "db/mem/2026/04/10/05/notes.txt"
		echo "db/mem/2026/04/10/05/.hidden.parquet"
	} >"$BATS_FILE_TMPDIR/big.keys"
	cat >"$BATS_FILE_TMPDIR/funny.keys" <<-EOF
	db/fun/$H/a b.parquet
	db/fun/$H/a+b.parquet
	db/fun/$H/a%20b.parquet
	db/fun/$H/100%.parquet
	db/fun/$H/c+d.parquet
	db/fun/$H/é日本.parquet
	db/fun/$H/a&b<c>'d".parquet
	db/fun/$H/back\\slash.parquet
	db/fun/$H/tab	here.parquet
	EOF
	mapfile -t k <"$BATS_FILE_TMPDIR/big.keys"
	mapfile -t f <"$BATS_FILE_TMPDIR/funny.keys"
	swseed big "$OLD" "${k[@]}" "${f[@]}"
}

teardown_file() {
	stop_swift
}

setup() {
	B=bkt$BATS_TEST_NUMBER
	make_swbucket "$B"
	MANIFEST=$BATS_TEST_TMPDIR/m.ndjson
	STATE=$BATS_TEST_TMPDIR/state
	: >"$MANIFEST"
	export AWS_ENDPOINT_URL=$SWIFT_URL AWS_ACCESS_KEY_ID=$SWIFT_S3_ID \
	    AWS_SECRET_ACCESS_KEY=$SWIFT_S3_SECRET ARC_HTTP_BACKOFF_MS=1
	unset AWS_ENDPOINT_URL_S3 AWS_S3_ADDRESSING_STYLE AWS_SESSION_TOKEN \
	    AWS_REGION AWS_DEFAULT_REGION AWS_CA_BUNDLE ARC_HTTP_TIMEOUT \
	    ARC_HTTP_ATTEMPTS
}

# ---- helpers: Swift's native API, not the tools under test ---------------

# make_swbucket NAME: a container, which s3api shows as a bucket.
make_swbucket() {
	curl -s -X PUT -H "X-Auth-Token: $SWIFT_TOKEN" -o /dev/null \
	    -w '%{http_code}' "$SWIFT_STORAGE/$1" | grep -qE '^20[12]$'
}

# swseed BUCKET TIME KEY...: objects KEY (unencoded), each holding "data:"
# and its encoded name, written with X-Timestamp TIME (epoch seconds:
# their LastModified); one curl process, 8 uploads at once.  Fails unless
# every upload answered 201.
swseed() {
	local b=$1 ts=$2 n cfg ok sep=
	shift 2
	cfg=$(mktemp "${BATS_TEST_TMPDIR:-$BATS_FILE_TMPDIR}/swseed.XXXXXX")
	for n in "$@"; do
		printf '%s' "$sep"
		sep=$'next\n'
		printf 'url = "%s/%s/%s"\nrequest = "PUT"\nheader = "X-Auth-Token: %s"\nheader = "X-Timestamp: %s"\ndata-binary = "data:%s"\noutput = "/dev/null"\nwrite-out = "%%{http_code}\\n"\n' \
		    "$SWIFT_STORAGE" "$b" "$(azenc "$n")" "$SWIFT_TOKEN" "$ts" \
		    "$(azenc "$n")"
	done >"$cfg"
	ok=$(curl -s -Z --parallel-max 8 -K "$cfg" 2>/dev/null | grep -c '^201$')
	rm -f "$cfg"
	[ "$ok" -eq $# ] || { echo "swseed: $ok of $# uploads succeeded" >&2; return 1; }
}

# swlisting BUCKET: the container's objects as storage records (path,
# LastModified to the second, size), escaped as arc(7) says, byte-sorted;
# only managed candidates (.parquet, no hidden file).
swlisting() {
	curl -sf -H "X-Auth-Token: $SWIFT_TOKEN" \
	    "$SWIFT_STORAGE/$1?format=json&limit=10000" |
	    jq -r '.[] | select(.name | test("\\.parquet$")) |
	    select(.name | test("(^|/)\\.") | not) |
	    [(.name | gsub("\\\\"; "\\\\") | gsub("\t"; "\\t") | gsub("\n"; "\\n")),
	     (.last_modified[0:19] + "Z"), (.bytes | tostring)] | join("\t")' |
	    LC_ALL=C sort
}

# keys BUCKET: every object name in the container, sorted (newline-free).
keys() {
	curl -sf -H "X-Auth-Token: $SWIFT_TOKEN" \
	    "$SWIFT_STORAGE/$1?format=json&limit=10000" | jq -r '.[].name' |
	    LC_ALL=C sort
}

# has BUCKET KEY / hasnt BUCKET KEY: Swift has the object, or answers 404.
swhead() {
	curl -s -I -H "X-Auth-Token: $SWIFT_TOKEN" -o /dev/null \
	    -w '%{http_code}' "$SWIFT_STORAGE/$1/$(azenc "$2")"
}
has() {
	[ "$(swhead "$1" "$2")" = 200 ]
}
hasnt() {
	[ "$(swhead "$1" "$2")" = 404 ]
}

# fentry PATH: one manifest line (created long before $NOW).
fentry() {
	local db=${1%%/*} rest=${1#*/}
	printf '{"path":"%s","created_at":"2026-04-01T00:00:00Z","size_bytes":10,"database":"%s","measurement":"%s","origin_node_id":"node-1","lsn":1}\n' \
	    "$1" "$db" "${rest%%/*}"
}

# ocand PATH / scand PATH: candidate records.
ocand() {
	printf 'orphan-manifest\t%s\t2026-04-01T00:00:00Z\t10\tnode-1\t1\n' "$1"
}
scand() {
	printf 'orphan-storage\t%s\t%s\t%s\n' "$1" "$OLDREC" 20
}

# ---- arc-list ------------------------------------------------------------

@test "arc-list lists every object of a 1,021-key Swift bucket (two pages, keys needing percent-encoding included) exactly as Swift's own listing has them" {
	want=$(swlisting big)
	assert_equal "$(printf '%s\n' "$want" | wc -l)" 1019
	run -0 --separate-stderr arc-list s3://big
	assert_stderr ''
	assert_output "$want"
	# the keys that need percent-encoding came back byte for byte
	assert_line --regexp "^db/fun/$H/a\\+b\\.parquet	"
	assert_line --regexp "^db/fun/$H/a b\\.parquet	"
	assert_line --regexp "^db/fun/$H/a%20b\\.parquet	"
	assert_line --regexp "^db/fun/$H/é日本\\.parquet	"
	assert_line --regexp "^db/fun/$H/back\\\\\\\\slash\\.parquet	"
	assert_line --regexp "^db/fun/$H/tab\\\\there\\.parquet	"
}

@test "-M with more than 900 entries a prefix splits it into ranges that, with -j 8 and -j 1, list exactly what Swift's own listing has" {
	# every db/cpu key but a few, so that objects fall inside the ranges
	# and on their edges, plus entries with no object
	grep '^db/cpu/' "$BATS_FILE_TMPDIR/big.keys" | awk 'NR % 300 != 0' >paths
	printf 'db/cpu/%s/zz%d.parquet\n' "$H" 1 "$H" 2 >>paths
	echo "db/mem/$H/m.parquet" >>paths
	while read -r p; do fentry "$p"; done <paths >"$MANIFEST"
	arc-manifest-dump "$MANIFEST" >m.rec
	want=$(swlisting big)
	for j in 8 1; do
		run -0 --separate-stderr arc-list -M m.rec -j "$j" s3://big
		assert_stderr ''
		assert_output "$want"
	done
	# the ranges really were listed on their own, from their bounds on
	run -0 grep -c 'start-after' "$BATS_FILE_TMPDIR/swift/proxy.log"
	[ "$output" -ge 2 ]
}

@test "a missing bucket is one clear error line naming it, exit 2, nothing listed; an empty bucket lists nothing, exit 0" {
	run -2 --separate-stderr arc-list s3://no-such-bucket
	assert_output ''
	assert_equal "${#stderr_lines[@]}" 1
	assert_stderr --partial NoSuchBucket
	assert_stderr --partial no-such-bucket
	run -0 --separate-stderr arc-list "s3://$B"
	assert_output ''
	assert_stderr ''
}

# ---- arc-recheck -----------------------------------------------------------

@test "arc-recheck confirms an orphan-manifest candidate only on Swift's 404 and rejects present keys as 'present', funny keys exactly" {
	{
		ocand "db/fun/$H/100%.parquet"
		ocand "db/fun/$H/a b.parquet"
		ocand "db/fun/$H/a%20b.parquet"
		ocand "db/fun/$H/a+b.parquet"
		ocand "db/fun/$H/c d.parquet"
		ocand "db/fun/$H/e+f.parquet"
		ocand "db/fun/$H/é日本.parquet"
		ocand "db/nosuch/$H/x.parquet"
	} >c.rec
	run -1 --separate-stderr arc-recheck -R rej -S st.json s3://big "$MANIFEST" <c.rec
	assert_stderr ''
	assert_output "$(ocand "db/fun/$H/c d.parquet"; ocand "db/fun/$H/e+f.parquet"
	    ocand "db/nosuch/$H/x.parquet")"
	assert_equal "$(cut -f1,3 rej)" "$(printf 'present\t%s\n' "db/fun/$H/100%.parquet" \
	    "db/fun/$H/a b.parquet" "db/fun/$H/a%20b.parquet" "db/fun/$H/a+b.parquet" \
	    "db/fun/$H/é日本.parquet")"
	assert_equal "$(jq -c '[.checked, .confirmed, .present, .error]' st.json)" '[8,3,5,0]'
}

@test "arc-recheck against a missing Swift bucket confirms nothing: its 404s are 'error' naming the bucket, never 'absent'" {
	{ ocand "db/cpu/$H/a.parquet"; ocand "db/cpu/$H/b.parquet"; } >c.rec
	run --separate-stderr arc-recheck -R rej s3://no-such-bucket "$MANIFEST" <c.rec
	[ "$status" -ne 0 ]
	assert_output ''
	assert_equal "$(cut -f1 rej)" "$(printf 'error\nerror')"
	assert_stderr --partial no-such-bucket
	# the positive control: the same candidates in an existing bucket
	run -0 --separate-stderr arc-recheck -R rej s3://"$B" "$MANIFEST" <c.rec
	assert_output "$(cat c.rec)"
}

# ---- arc-delete --------------------------------------------------------------

@test "arc-delete --act removes orphans with one DeleteObjects request through s3api, a result per key, funny keys included, and leaves the rest" {
	swseed "$B" "$OLD" "db/cpu/$H/a b+c%20é.parquet" "db/cpu/$H/a&b<c>.parquet" \
	    "db/cpu/$H/o1.parquet" "db/cpu/$H/keep.parquet" "db/cpu/$H/keep 2.parquet"
	{
		scand "db/cpu/$H/a b+c%20é.parquet"
		scand "db/cpu/$H/a&b<c>.parquet"
		scand "db/cpu/$H/o1.parquet"
	} >d.rec
	: >"$BATS_FILE_TMPDIR/swift/proxy.log"
	run -0 --separate-stderr arc-delete --act -A ar.tar.gz "s3://$B" "$MANIFEST" <d.rec
	assert_stderr ''
	assert_output "$(printf 'deleted\torphan-storage\t%s\tDELETED\n' \
	    "db/cpu/$H/a b+c%20é.parquet" "db/cpu/$H/a&b<c>.parquet" "db/cpu/$H/o1.parquet")"
	assert_equal "$(keys "$B")" "$(printf '%s\n' "db/cpu/$H/keep 2.parquet" "db/cpu/$H/keep.parquet")"
	# one S3 DeleteObjects, no per-key DELETE
	run -0 grep -c "POST /$B%3Fdelete" "$BATS_FILE_TMPDIR/swift/proxy.log"
	assert_output 1
	run -1 grep "DELETE /$B/" "$BATS_FILE_TMPDIR/swift/proxy.log"
}

# ---- arc-reconcile -----------------------------------------------------------

@test "arc-reconcile --act --grace 1h repairs drift planted in Swift with a file manifest: exactly the orphans go, the young and 6-segment objects and every manifest path stay" {
	local i
	set --
	for i in $(seq -w 1 30); do
		set -- "$@" "db/cpu/$H/cpu_$i.parquet"
	done
	for i in "$@"; do fentry "$i"; done >"$MANIFEST"
	lost1="db/zzz/$H/lost_1.parquet"
	lost2="db/zzz/$H/lost 2+.parquet"
	orph1="db/aaa/$H/orphan_1.parquet"
	orph2="db/aaa/$H/orphan 2%.parquet"
	daily=db/aaa/2026/04/09/aaa_20260409_daily.parquet
	young="db/aaa/$H/young.parquet"
	fentry "$lost1" >>"$MANIFEST"
	fentry "$lost2" >>"$MANIFEST"
	swseed "$B" "$OLD" "$@" "$orph1" "$orph2" "$daily" "db/aaa/$H/notes.txt"
	swseed "$B" "$YOUNGTS" "$young"
	kbefore=$(keys "$B")
	mbefore=$(jq -r .path "$MANIFEST" | LC_ALL=C sort)
	run -1 --separate-stderr arc-reconcile --state-dir "$STATE" --act \
	    --grace 1h --now "$NOW" "s3://$B" "$MANIFEST"
	assert_output "$(printf '%s\t%s\t%s\t%s\n' \
	    deleted orphan-manifest "$lost2" DELETED \
	    deleted orphan-manifest "$lost1" DELETED \
	    refused orphan-storage "$daily" LAYOUT_MISMATCH \
	    deleted orphan-storage "$orph2" DELETED \
	    deleted orphan-storage "$orph1" DELETED)"
	assert_equal "$(keys "$B")" "$(printf '%s\n' "$kbefore" | grep -v '/orphan')"
	assert_equal "$(jq -r .path "$MANIFEST" | LC_ALL=C sort)" \
	    "$(printf '%s\n' "$mbefore" | grep -v '/lost')"
	has "$B" "$young"
	has "$B" "$daily"
	assert_equal "$(jq -c '[.dry_run, .manifest_deletes, .storage_deletes, .walk_partial]' "$STATE"/runs/*.json)" \
	    '[false,2,2,false]'
}

# ---- credentials: an access key id holding ':' -------------------------------

@test "the key id 'test:tester' from AWS_ACCESS_KEY_ID lists the bucket; the same id with a wrong secret is exit 2 with SignatureDoesNotMatch, the secret never printed" {
	swseed "$B" "$OLD" "db/cpu/$H/a.parquet"
	run -0 --separate-stderr arc-list "s3://$B"
	assert_output "$(printf '%s\t%s\t%s' "db/cpu/$H/a.parquet" "$OLDREC" 35)"
	run -2 --separate-stderr env AWS_SECRET_ACCESS_KEY="$SECRET" arc-list "s3://$B"
	assert_output ''
	assert_equal "${#stderr_lines[@]}" 1
	assert_stderr --partial SignatureDoesNotMatch
	refute_stderr --partial "$SECRET"
	# an id Swift does not know: tempauth answers SignatureDoesNotMatch
	# (s3rver says InvalidAccessKeyId); either way a refusal, exit 2
	run -2 --separate-stderr env AWS_ACCESS_KEY_ID=test:nobody arc-list "s3://$B"
	assert_output ''
	assert_stderr --regexp 'SignatureDoesNotMatch|InvalidAccessKeyId'
	refute_stderr --partial "$SWIFT_S3_SECRET"
}

@test "the key id 'test:tester' from a profile in AWS_SHARED_CREDENTIALS_FILE lists the bucket; the profile with a wrong secret is exit 2 and deletes nothing" {
	swseed "$B" "$OLD" "db/cpu/$H/a.parquet" "db/cpu/$H/o.parquet"
	unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
	cat >creds <<-EOF
	[swift]
	aws_access_key_id = test:tester
	aws_secret_access_key = testing

	[wrong]
	aws_access_key_id = test:tester
	aws_secret_access_key = $SECRET
	EOF
	export AWS_SHARED_CREDENTIALS_FILE=$PWD/creds
	run -0 --separate-stderr env AWS_PROFILE=swift arc-list "s3://$B"
	assert_output "$(printf '%s\t%s\t%s\n' "db/cpu/$H/a.parquet" "$OLDREC" 35 \
	    "db/cpu/$H/o.parquet" "$OLDREC" 35)"
	run -2 --separate-stderr env AWS_PROFILE=wrong arc-list "s3://$B"
	assert_output ''
	assert_stderr --partial SignatureDoesNotMatch
	refute_stderr --partial "$SECRET"
	scand "db/cpu/$H/o.parquet" >d.rec
	run --separate-stderr env AWS_PROFILE=wrong arc-delete --act -A ar.tar.gz \
	    "s3://$B" "$MANIFEST" <d.rec
	[ "$status" -ne 0 ]
	refute_output --partial deleted
	refute_stderr --partial "$SECRET"
	has "$B" "db/cpu/$H/o.parquet"
	# the positive control: the right profile deletes it
	run -0 --separate-stderr env AWS_PROFILE=swift arc-delete --act -A ar2.tar.gz \
	    "s3://$B" "$MANIFEST" <d.rec
	assert_output "$(printf 'deleted\torphan-storage\t%s\tDELETED' "db/cpu/$H/o.parquet")"
	hasnt "$B" "db/cpu/$H/o.parquet"
	has "$B" "db/cpu/$H/a.parquet"
}
