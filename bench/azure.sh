#!/bin/bash
# azure.sh - the Azure side (issue 5) against Azurite 3.35.0, side by side
# with the peers measured in the same run:
#
#   1. listing N blobs: arc-list against `rclone lsf -R` (Debian rclone,
#      an azureblob remote for the same endpoint, by SAS URL);
#   2. deleting D blobs: arc-delete (Blob Batch, 256 deletes a request)
#      against single Delete Blob requests (one curl, one kept-alive
#      connection, blob after blob, authorized by an account SAS) and
#      against arc-delete --if-unchanged (a HEAD, then a Delete Blob with
#      If-Match per blob, 8 in flight).
#
# usage: azure.sh [-r runs] [n-list [n-delete]]
#
# Defaults 5000 2000, the issue's sizes; Azurite slows down beyond a few
# thousand blobs (shared/reference/test-servers.md section 2), so the
# listing container is deleted before the delete runs, and each delete
# contender gets a fresh container.  Blobs are uploaded with curl (8 at a
# time); a quick run: azure.sh 500 200.  Needs `apt-get install -y rclone
# time` and the test servers (sh tests/deps.sh test).  Azurite runs on
# 127.0.0.1 and is stopped by its PID.
PROG=azure.sh
. "$(dirname "$0")/storecommon.sh"

usage() {
	echo "usage: $PROG [-r runs] [n-list [n-delete]]" >&2
	exit 2
}

parse_runs "$@"
set -- "${ARGS[@]}"
[ $# -le 2 ] || usage
count NLIST "${1:-}" 5000
count NDEL "${2:-}" 2000
[ -x "$ROOT/.test-servers/node_modules/.bin/azurite-blob" ] ||
    die "Azurite is not installed: sh tests/deps.sh test"
setup rclone node curl

export ARC_ROOT=$ROOT BATS_FILE_TMPDIR=$OUT/srv
mkdir -p "$BATS_FILE_TMPDIR"
. "$ROOT/tests/servers.bash"
at_exit stop_azurite
start_azurite || die "Azurite did not start"
SRV_PID=$(cat "$BATS_FILE_TMPDIR/azurite.pid")
SAS=$("$PY" "$BENCH/seed.py" sas) || die "cannot make a SAS token"
# rclone 1.60 takes no endpoint URL for azureblob (only a DNS suffix, or
# the emulator on port 10000): a SAS URL names the endpoint instead
export RCLONE_CONFIG=/dev/null RCLONE_CONFIG_BAZ_TYPE=azureblob
export RCLONE_CONFIG_BAZ_SAS_URL="$AZ_ENDPOINT/lst?$SAS"
RCLONE="rclone -q"
: >"$OUT/empty.ndjson"	# the manifest: none of the blobs is in it

# seed CONTAINER N: create it and upload N blobs of the universe
seed() {
	make_container "$1" || die "cannot create container $1"
	"$PY" "$BENCH/seed.py" keys "$2" |
	    awk -v u="$AZ_ENDPOINT/$1/" -v q="$SAS" \
	    '{ printf "url = \"%s%s?%s\"\noutput = /dev/null\n", u, $0, q }' \
	    >"$OUT/put.cfg"
	curl -s -Z --parallel-max 8 -X PUT -H "x-ms-blob-type: BlockBlob" \
	    -d x -w '%{http_code}\n' -K "$OUT/put.cfg" 2>/dev/null >"$OUT/put.codes"
	[ "$(grep -c '^201$' "$OUT/put.codes")" -eq "$2" ] ||
	    die "could not upload $2 blobs to $1"
}

note "Azurite 3.35.0 (pid $SRV_PID) on $AZ_ENDPOINT; uploading $NLIST blobs"
seed lst "$NLIST"

# ---- 1. listing ----------------------------------------------------------
OURS="arc-list az://lst >'$OUT/l.ours'"
RCL="$RCLONE lsf -R --files-only baz:lst >'$OUT/l.rclone'"
sh -c "$OURS" || die "arc-list failed"
for i in $(seq 1 "$RUNS"); do
	measure "arc-list" "$OURS"
	measure "rclone lsf -R" "$RCL"
done
[ "$(wc -l <"$OUT/l.ours")" -eq "$NLIST" ] &&
    cut -f1 "$OUT/l.ours" | cmp -s - "$OUT/l.rclone" ||
    die "arc-list and rclone list different blobs"
note "both listed the $NLIST blobs"
row "list $NLIST blobs" "arc-list" "rclone lsf -R" "x > 1"
azcurl DELETE /lst "restype=container" -o /dev/null

# ---- 2. deleting ---------------------------------------------------------
nc=0
fresh() {
	nc=$((nc + 1))
	C=del$nc
	seed "$C" "$NDEL"
}
ensure_empty() {
	local left
	left=$(arc-list -a "az://$C" | wc -l)
	[ "$left" -eq 0 ] || die "$1 left $left of $NDEL blobs in $C"
}
fresh
arc-list "az://$C" | sed 's/^/orphan-storage\t/' >"$OUT/c.del"
[ "$(wc -l <"$OUT/c.del")" -eq "$NDEL" ] || die "cannot list the orphans"
note "deleting $NDEL blobs (each contender from a fresh container)"
for i in $(seq 1 "$RUNS"); do
	[ "$i" -eq 1 ] || fresh
	arc-list "az://$C" | sed 's/^/orphan-storage\t/' >"$OUT/c.del"
	measure "arc-delete (Blob Batch)" "arc-delete --act -n $NDEL \
	    -A '$OUT/a$nc.tgz' az://$C '$OUT/empty.ndjson' <'$OUT/c.del' >'$OUT/d.out'"
	[ "$(grep -c '^deleted' "$OUT/d.out")" -eq "$NDEL" ] ||
	    die "arc-delete did not delete every blob"
	ensure_empty arc-delete
	azcurl DELETE "/$C" "restype=container" -o /dev/null

	fresh
	cut -f2 "$OUT/c.del" | awk -v u="$AZ_ENDPOINT/$C/" -v q="$SAS" \
	    '{ printf "url = \"%s%s?%s\"\noutput = /dev/null\n", u, $0, q }' \
	    >"$OUT/del.cfg"
	measure "single deletes (curl, 1 conn)" "curl -s -X DELETE \
	    -w '%{http_code}\n' -K '$OUT/del.cfg' >'$OUT/codes'"
	[ "$(grep -c '^202$' "$OUT/codes")" -eq "$NDEL" ] ||
	    die "Delete Blob did not answer 202 for every blob"
	ensure_empty "single deletes"
	azcurl DELETE "/$C" "restype=container" -o /dev/null

	fresh
	# the candidates as listed: --if-unchanged compares Last-Modified
	arc-list "az://$C" | sed 's/^/orphan-storage\t/' >"$OUT/c.del"
	measure "arc-delete --if-unchanged" "arc-delete --act --if-unchanged \
	    -n $NDEL -A '$OUT/a$nc.tgz' az://$C '$OUT/empty.ndjson' \
	    <'$OUT/c.del' >'$OUT/d.out'"
	[ "$(grep -c '^deleted' "$OUT/d.out")" -eq "$NDEL" ] ||
	    die "arc-delete --if-unchanged did not delete every blob"
	ensure_empty "arc-delete --if-unchanged"
	azcurl DELETE "/$C" "restype=container" -o /dev/null
done
row "delete $NDEL blobs" "arc-delete (Blob Batch)" \
    "single deletes (curl, 1 conn)" "x > 1"
row "delete $NDEL blobs" "arc-delete (Blob Batch)" \
    "arc-delete --if-unchanged" "-"

print_table "Azure: Azurite 3.35.0 on 127.0.0.1"
grep -q 'MISSED' "$OUT/table" && exit 1
exit 0
