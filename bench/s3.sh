#!/bin/bash
# s3.sh - the S3 side (issue 4) against s3rver 3.7.1, side by side with
# the peers measured in the same run:
#
#   1. listing N objects: arc-list against `aws s3api list-objects-v2`
#      (Debian awscli) and `rclone lsf -R` (Debian rclone);
#   2. the same listing behind a 20 ms round-trip delay (delayproxy.py in
#      front of s3rver): arc-list -j 8 -M (and -j 2) against -j 1 -M; to
#      tell the client's share from the server's, -j 8 and -j 1 against
#      fakes3.py, a threaded in-memory S3 that answers after 20 ms and
#      costs no CPU;
#   3. HEAD re-check of the candidates with arc-recheck -j 16 against -j 1,
#      directly and behind the 20 ms delay;
#   4. deleting orphans (every other object of a bucket, so that they sit
#      among live objects): arc-delete (DeleteObjects, 1000 keys a request)
#      against per-key DELETE (one curl, one kept-alive connection, key
#      after key), against arc-delete --if-unchanged (a HEAD, then a DELETE
#      with If-Match per key, 8 in flight) and `rclone delete --files-from
#      --no-traverse`; and, with fewer objects, arc-delete against per-key
#      DELETE and --if-unchanged behind the 20 ms delay.
#
# usage: s3.sh [-r runs] [n-list [n-delete [n-head [n-head-delayed]]]]
#
# S3_PARTS (environment) picks parts, default "list delay fake head
# delete".  Defaults 100000 10000 10000 2000: the issue's sizes; n-head-delayed is
# the size of the HEAD re-check and of the deletes behind the 20 ms delay
# (key by key they take n x 20 ms, hence fewer).  A quick run:
# s3.sh 10000 1000 1000 200.  Objects are written straight into s3rver's
# data directory (seed.py).  Needs `apt-get install -y awscli rclone time`
# and the test servers (sh tests/deps.sh test).  Everything runs on
# 127.0.0.1; the servers and proxies started here are stopped by PID.
PROG=s3.sh
. "$(dirname "$0")/storecommon.sh"

usage() {
	echo "usage: $PROG [-r runs] [n-list [n-delete [n-head [n-head-delayed]]]]" >&2
	exit 2
}

parse_runs "$@"
set -- "${ARGS[@]}"
[ $# -le 4 ] || usage
count NLIST "${1:-}" 100000
count NDEL "${2:-}" 10000
count NHEAD "${3:-}" 10000
count NHEADD "${4:-}" 2000
[ "$NHEAD" -le "$NLIST" ] && [ "$NHEADD" -le "$NLIST" ] ||
    die "the HEAD counts must not exceed n-list"
DELAY=20
PARTS=" ${S3_PARTS:-list delay fake head delete} "
part() {
	case $PARTS in
	*" $1 "*) return 0 ;;
	esac
	return 1
}
AWS=/usr/bin/aws	# the Debian package, not some other aws on PATH
[ -f "$ROOT/.test-servers/node_modules/s3rver/bin/s3rver.js" ] ||
    die "s3rver is not installed: sh tests/deps.sh test"
setup "$AWS" rclone node curl

# ---- the server --------------------------------------------------------
export ARC_ROOT=$ROOT BATS_FILE_TMPDIR=$OUT/srv
mkdir -p "$BATS_FILE_TMPDIR"
. "$ROOT/tests/servers.bash"
at_exit stop_s3rver
start_s3rver || die "s3rver did not start"
SRV_PID=$(cat "$BATS_FILE_TMPDIR/s3rver.pid")
S3_EP=$AWS_ENDPOINT_URL
export AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1 AWS_PAGER=
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
# rclone: an S3 remote "bs3" for the same endpoint, from the environment
export RCLONE_CONFIG_BS3_TYPE=s3 RCLONE_CONFIG_BS3_PROVIDER=Other
export RCLONE_CONFIG_BS3_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID
export RCLONE_CONFIG_BS3_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY
export RCLONE_CONFIG_BS3_ENDPOINT=$S3_EP RCLONE_CONFIG_BS3_REGION=us-east-1
export RCLONE_CONFIG_BS3_FORCE_PATH_STYLE=true RCLONE_CONFIG=/dev/null
# rclone refuses a CA bundle for plain http (the endpoint is http)
RCLONE="env -u AWS_CA_BUNDLE rclone -q"
: >"$OUT/empty.ndjson"	# the manifest: none of the objects is in it

note "s3rver 3.7.1 (pid $SRV_PID) on $S3_EP; seeding $NLIST objects in bucket 'bench'"
make_bucket bench || die "cannot create the bucket"
"$PY" "$BENCH/seed.py" s3rver "$S3_DATA" bench "$NLIST" || die "cannot seed"

# ---- 1. listing ----------------------------------------------------------
OURS="arc-list s3://bench >'$OUT/l.ours'"
AWSL="$AWS s3api list-objects-v2 --bucket bench --endpoint-url '$S3_EP' --output json >'$OUT/l.aws'"
RCL="$RCLONE lsf -R --files-only bs3:bench >'$OUT/l.rclone'"
note "listing $NLIST objects (one untimed arc-list first)"
sh -c "$OURS" || die "arc-list failed"
[ "$(wc -l <"$OUT/l.ours")" -eq "$NLIST" ] || die "arc-list missed objects"
part list && for i in $(seq 1 "$RUNS"); do
	measure "arc-list" "$OURS"
	measure "aws s3api list-objects-v2" "$AWSL"
	measure "rclone lsf -R" "$RCL"
done
if part list; then
	n1=$(wc -l <"$OUT/l.ours")
	n2=$(grep -c '"Key"' "$OUT/l.aws")
	n3=$(wc -l <"$OUT/l.rclone")
	cut -f1 "$OUT/l.ours" | cmp -s - "$OUT/l.rclone" ||
	    die "arc-list and rclone list different keys"
	[ "$n1" -eq "$NLIST" ] && [ "$n2" -eq "$NLIST" ] ||
	    die "counts differ: arc-list $n1, aws $n2, rclone $n3, seeded $NLIST"
	note "all three listed the $NLIST keys"
	row "list $NLIST objects" "arc-list" "aws s3api list-objects-v2" "x > 1"
	row "list $NLIST objects" "arc-list" "rclone lsf -R" "x > 1"
fi

# the manifest records arc-reconcile would pass with -M: the same paths
awk -F '\t' -v OFS='\t' '{ print $1, $2, $3, "-", "-" }' "$OUT/l.ours" >"$OUT/m.rec"
note "-M: $(cut -d/ -f1-2 "$OUT/m.rec" | sort -u | wc -l) db/measurement prefixes"

# ---- 2. listing behind a 20 ms round trip --------------------------------
"$PY" "$BENCH/delayproxy.py" -f "$OUT/px.port" "$DELAY" 127.0.0.1 "$S3_PORT" \
    >"$OUT/px.log" 2>&1 3>&- &
PX_PID=$!
at_exit "stop_pid $PX_PID"
wait_file "$OUT/px.port"
PX_EP=http://127.0.0.1:$(cat "$OUT/px.port")
note "delayproxy.py (pid $PX_PID) adds $DELAY ms a round trip: $PX_EP"
J1="AWS_ENDPOINT_URL=$PX_EP arc-list -j 1 -M '$OUT/m.rec' s3://bench >'$OUT/l.j1'"
J8="AWS_ENDPOINT_URL=$PX_EP arc-list -j 8 -M '$OUT/m.rec' s3://bench >'$OUT/l.j8'"
J2="AWS_ENDPOINT_URL=$PX_EP arc-list -j 2 -M '$OUT/m.rec' s3://bench >'$OUT/l.j2'"
if part delay; then
	for i in $(seq 1 "$RUNS"); do
		measure "arc-list -j 8 -M (s3rver+${DELAY}ms)" "$J8"
		measure "arc-list -j 1 -M (s3rver+${DELAY}ms)" "$J1"
		measure "arc-list -j 2 -M (s3rver+${DELAY}ms)" "$J2"
	done
	cmp -s "$OUT/l.j1" "$OUT/l.ours" && cmp -s "$OUT/l.j8" "$OUT/l.ours" &&
	    cmp -s "$OUT/l.j2" "$OUT/l.ours" ||
	    die "the delayed listings differ from the direct one"
	row "list, +${DELAY} ms RTT, s3rver" "arc-list -j 8 -M (s3rver+${DELAY}ms)" \
	    "arc-list -j 1 -M (s3rver+${DELAY}ms)" "x >= 4"
	row "list, +${DELAY} ms RTT, s3rver" "arc-list -j 2 -M (s3rver+${DELAY}ms)" \
	    "arc-list -j 1 -M (s3rver+${DELAY}ms)" "-"
fi

if part fake; then
	"$PY" "$BENCH/fakes3.py" -f "$OUT/fk.port" -d "$DELAY" bench "$OUT/l.ours" \
	    >"$OUT/fk.log" 2>&1 3>&- &
	FK_PID=$!
	at_exit "stop_pid $FK_PID"
	wait_file "$OUT/fk.port"
	FK_EP=http://127.0.0.1:$(cat "$OUT/fk.port")
	note "fakes3.py (pid $FK_PID): an in-memory S3 answering after $DELAY ms: $FK_EP"
	J1="AWS_ENDPOINT_URL=$FK_EP arc-list -j 1 -M '$OUT/m.rec' s3://bench >'$OUT/l.j1'"
	J8="AWS_ENDPOINT_URL=$FK_EP arc-list -j 8 -M '$OUT/m.rec' s3://bench >'$OUT/l.j8'"
	sh -c "$J1" || die "arc-list against fakes3 failed"	# renders its pages
	SRV_PID_S3=$SRV_PID
	SRV_PID=$FK_PID
	# a few seconds a run: always the fastest of at least 3
	for i in $(seq 1 $((RUNS > 3 ? RUNS : 3))); do
		measure "arc-list -j 8 -M (fakes3 ${DELAY}ms)" "$J8"
		measure "arc-list -j 1 -M (fakes3 ${DELAY}ms)" "$J1"
	done
	SRV_PID=$SRV_PID_S3
	cmp -s "$OUT/l.j1" "$OUT/l.ours" && cmp -s "$OUT/l.j8" "$OUT/l.ours" ||
	    die "the listings from fakes3 differ from s3rver's"
	row "list, ${DELAY} ms server, fakes3" "arc-list -j 8 -M (fakes3 ${DELAY}ms)" \
	    "arc-list -j 1 -M (fakes3 ${DELAY}ms)" "x >= 4"
	stop_pid "$FK_PID"
fi

# ---- 3. HEAD re-check ------------------------------------------------------
if part head; then
	head -n "$NHEAD" "$OUT/l.ours" | sed 's/^/orphan-storage\t/' >"$OUT/c.head"
	head -n "$NHEADD" "$OUT/l.ours" | sed 's/^/orphan-storage\t/' >"$OUT/c.headd"
	RC="arc-recheck -R '$OUT/rej' s3://bench '$OUT/empty.ndjson'"
	note "HEAD re-check of $NHEAD candidates, then of $NHEADD behind the delay"
	for i in $(seq 1 "$RUNS"); do
		measure "arc-recheck -j 16" "$RC -j 16 <'$OUT/c.head' >'$OUT/r16'"
		measure "arc-recheck -j 1" "$RC -j 1 <'$OUT/c.head' >'$OUT/r1'"
		measure "arc-recheck -j 16 (+${DELAY}ms)" \
		    "AWS_ENDPOINT_URL=$PX_EP $RC -j 16 <'$OUT/c.headd' >'$OUT/rd16'"
		measure "arc-recheck -j 1 (+${DELAY}ms)" \
		    "AWS_ENDPOINT_URL=$PX_EP $RC -j 1 <'$OUT/c.headd' >'$OUT/rd1'"
	done
	cmp -s "$OUT/r16" "$OUT/c.head" && cmp -s "$OUT/r1" "$OUT/c.head" &&
	    cmp -s "$OUT/rd16" "$OUT/c.headd" && cmp -s "$OUT/rd1" "$OUT/c.headd" ||
	    die "arc-recheck did not confirm every candidate"
	row "HEAD re-check $NHEAD" "arc-recheck -j 16" "arc-recheck -j 1" "x > 1"
	row "HEAD re-check $NHEADD, +${DELAY}ms" "arc-recheck -j 16 (+${DELAY}ms)" \
	    "arc-recheck -j 1 (+${DELAY}ms)" "x > 1"
fi

# ---- 4. deleting orphans ---------------------------------------------------
# Every contender deletes the same NDEL orphans from a fresh bucket of
# 2 x NDEL objects: every other key is an orphan, so orphans sit among
# live objects as they do in a real store.  (Deleting whole directories
# makes s3rver 3.7.1 answer each DeleteObjects 500 InternalError once:
# its concurrent deletes race removing the emptied directories.  The keys
# are gone and the retry says so, but every batch costs a retry.)
nb=0
fresh_bucket() {	# N: seed 2N objects in bucket $B; orphans in c.del
	nb=$((nb + 1))
	B=del$nb
	"$PY" "$BENCH/seed.py" s3rver "$S3_DATA" "$B" $(($1 * 2)) ||
	    die "cannot seed bucket $B"
	arc-list "s3://$B" | awk 'NR % 2 == 1' | sed 's/^/orphan-storage\t/' >"$OUT/c.del"
	cut -f2 "$OUT/c.del" >"$OUT/del.keys"
	[ "$(wc -l <"$OUT/c.del")" -eq "$1" ] || die "cannot list the orphans"
}
# only_live N WHO: the bucket holds its N live objects and no orphan
only_live() {
	local left
	arc-list -a "s3://$B" | cut -f1 >"$OUT/left"
	left=$(comm -12 "$OUT/left" "$OUT/del.keys" | wc -l)
	[ "$left" -eq 0 ] || die "$2 left $left of the orphans in $B"
	[ "$(wc -l <"$OUT/left")" -eq "$1" ] || die "$2 deleted live objects in $B"
}
# curl_cfg ENDPOINT: a curl config deleting every orphan of $B
curl_cfg() {
	awk -v b="$1/$B/" '{ printf "url = \"%s%s\"\noutput = /dev/null\n", b, $0 }' \
	    "$OUT/del.keys" >"$OUT/curl.cfg"	# the keys need no escaping
}
CURLDEL="curl -s -X DELETE --aws-sigv4 aws:amz:us-east-1:s3 \
    --user '$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY' \
    -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' -w '%{http_code}\n' \
    -K '$OUT/curl.cfg' >'$OUT/codes'"
if part delete; then
	note "deleting $NDEL orphans among $NDEL live objects (a fresh bucket each time)"
	for i in $(seq 1 "$RUNS"); do
		fresh_bucket "$NDEL"
		measure "arc-delete (DeleteObjects)" "arc-delete --act -n $NDEL \
		    -A '$OUT/a$nb.tgz' s3://$B '$OUT/empty.ndjson' <'$OUT/c.del' >'$OUT/d.out'"
		[ "$(grep -c '^deleted' "$OUT/d.out")" -eq "$NDEL" ] ||
		    die "arc-delete did not delete every orphan"
		only_live "$NDEL" arc-delete

		fresh_bucket "$NDEL"
		curl_cfg "$S3_EP"
		measure "per-key DELETE (curl, 1 conn)" "$CURLDEL"
		[ "$(grep -c '^204$' "$OUT/codes")" -eq "$NDEL" ] ||
		    die "per-key DELETE did not answer 204 for every key"
		only_live "$NDEL" "per-key DELETE"

		fresh_bucket "$NDEL"
		measure "arc-delete --if-unchanged" "arc-delete --act --if-unchanged \
		    -n $NDEL -A '$OUT/a$nb.tgz' s3://$B '$OUT/empty.ndjson' \
		    <'$OUT/c.del' >'$OUT/d.out'"
		[ "$(grep -c '^deleted' "$OUT/d.out")" -eq "$NDEL" ] ||
		    die "arc-delete --if-unchanged did not delete every orphan"
		only_live "$NDEL" "arc-delete --if-unchanged"

		fresh_bucket "$NDEL"
		# --no-traverse: look each key up rather than walk the bucket (the
		# walk uses delimiter listings, which s3rver answers wrongly)
		measure "rclone delete --files-from" "$RCLONE delete --no-traverse \
		    --files-from '$OUT/del.keys' bs3:$B"
		only_live "$NDEL" "rclone delete"
	done

	# ---- 4b. the same behind the 20 ms round trip, fewer objects --------------
	note "deleting $NHEADD orphans among $NHEADD live objects behind the $DELAY ms round trip"
	for i in $(seq 1 "$RUNS"); do
		fresh_bucket "$NHEADD"
		measure "arc-delete (DeleteObjects) +${DELAY}ms" "AWS_ENDPOINT_URL=$PX_EP \
		    arc-delete --act -n $NHEADD -A '$OUT/a$nb.tgz' s3://$B \
		    '$OUT/empty.ndjson' <'$OUT/c.del' >'$OUT/d.out'"
		[ "$(grep -c '^deleted' "$OUT/d.out")" -eq "$NHEADD" ] ||
		    die "arc-delete did not delete every orphan"
		only_live "$NHEADD" arc-delete

		fresh_bucket "$NHEADD"
		curl_cfg "$PX_EP"
		measure "per-key DELETE (curl) +${DELAY}ms" "$CURLDEL"
		[ "$(grep -c '^204$' "$OUT/codes")" -eq "$NHEADD" ] ||
		    die "per-key DELETE did not answer 204 for every key"
		only_live "$NHEADD" "per-key DELETE"

		fresh_bucket "$NHEADD"
		measure "arc-delete --if-unchanged +${DELAY}ms" "AWS_ENDPOINT_URL=$PX_EP \
		    arc-delete --act --if-unchanged -n $NHEADD -A '$OUT/a$nb.tgz' s3://$B \
		    '$OUT/empty.ndjson' <'$OUT/c.del' >'$OUT/d.out'"
		[ "$(grep -c '^deleted' "$OUT/d.out")" -eq "$NHEADD" ] ||
		    die "arc-delete --if-unchanged did not delete every orphan"
		only_live "$NHEADD" "arc-delete --if-unchanged"
	done

	row "delete $NDEL orphans" "arc-delete (DeleteObjects)" \
	    "per-key DELETE (curl, 1 conn)" "x >= 10"
	row "delete $NDEL orphans" "arc-delete (DeleteObjects)" \
	    "arc-delete --if-unchanged" "-"
	row "delete $NDEL orphans" "arc-delete (DeleteObjects)" \
	    "rclone delete --files-from" "x > 1"
	row "delete $NHEADD, +${DELAY}ms" "arc-delete (DeleteObjects) +${DELAY}ms" \
	    "per-key DELETE (curl) +${DELAY}ms" "x >= 10"
	row "delete $NHEADD, +${DELAY}ms" "arc-delete (DeleteObjects) +${DELAY}ms" \
	    "arc-delete --if-unchanged +${DELAY}ms" "-"
fi

print_table "S3: s3rver 3.7.1 on 127.0.0.1"
grep -q 'MISSED' "$OUT/table" && exit 1
exit 0
