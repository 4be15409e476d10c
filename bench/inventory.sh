#!/bin/sh
# inventory.sh - arc-list --inventory on an N-object S3 Inventory report
# (8 gzip-compressed CSV data files, written by tests/invgen.py; default
# N 1,000,000) against the floor of any reader of it: the data files
# decompressed by zcat and sorted by sort(1).  Ours also decodes the keys,
# checks each file's size and MD5, and writes storage records.
#
# usage: inventory.sh [-r runs] [n]
#
# No target: the figure to watch is ours beside the floor, and a peak
# RSS that does not grow with N.
PROG=inventory.sh
DEFAULT_N=1000000
. "$(dirname "$0")/common.sh"
parse_args "$@"
setup

# the report is read from a directory: the store is only named
export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench \
    AWS_ENDPOINT_URL=http://127.0.0.1:9 AWS_EC2_METADATA_DISABLED=true

echo "# writing a report of $N objects"
awk -v n="$N" 'BEGIN {
	for (i = 0; i < n; i++)
		printf "base/metrics/m%03d/2026/04/11/%02d/f %d+%d.parquet\t" \
		    "2026-04-11T14:00:00Z\t%d\n", i % 100, i % 24, i, i, i
}' | python3 "$ROOT/tests/invgen.py" s3 --bucket src --out "$OUT/rep" \
    --flat --files 8 --age 60 >/dev/null || die "cannot write the report"

OURS="arc-list --inventory '$OUT/rep' s3://src/base >'$OUT/ours'"
PEER="zcat '$OUT/rep/'*.csv.gz | sort >'$OUT/peer'"
warm "$OURS" "$PEER"
i=0
while [ $i -lt "$RUNS" ]; do
	measure "arc-list --inventory" "$OURS"
	measure "zcat | sort" "$PEER"
	i=$((i + 1))
done

[ "$(wc -l <"$OUT/ours")" -eq "$N" ] && [ "$(wc -l <"$OUT/peer")" -eq "$N" ] ||
    die "the report and the listing differ in size"
echo "# $N records from $N rows"

table "an S3 Inventory report of $N objects" "arc-list --inventory" \
    "zcat | sort"
verdict "arc-list --inventory" "zcat | sort" "-" "-"
