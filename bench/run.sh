#!/bin/sh
# run.sh - run every read-side benchmark and print a summary table.
#
# usage: run.sh [-r runs] [n [list-n]]
#
# n records for diff.sh and n entries for dump.sh (default 10,000,000);
# list-n files for list.sh (default n / 10, so 1,000,000).  A quick run:
# run.sh 100000 (a check that everything works: the targets are for the
# full size, where process start-up and sort(1)'s fixed costs vanish).
# Exits 1 when a target is missed.
PROG=run.sh
export LC_ALL=C TZ=UTC
BENCH=$(cd "$(dirname "$0")" && pwd)
RUNS=3

usage() {
	echo "usage: $PROG [-r runs] [n [list-n]]" >&2
	exit 2
}

while getopts r: opt; do
	case $opt in
	r)	RUNS=$OPTARG ;;
	*)	usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -le 2 ] || usage
N=${1:-10000000}
case $N in
''|*[!0-9]*) usage ;;
esac
LN=${2:-$((N / 10))}
case $LN in
''|*[!0-9]*) usage ;;
esac
[ "$LN" -gt 0 ] || LN=1

SUMMARY=$(mktemp) || exit 2
trap 'rm -f "$SUMMARY"' EXIT
trap 'exit 130' INT TERM
export SUMMARY

echo "# $(uname -srm), $(nproc) CPUs, load average: $(cut -d' ' -f1-3 /proc/loadavg)"
status=0
for b in "diff.sh $N" "dump.sh $N" "list.sh $LN"; do
	set -- $b
	echo "## $*"
	RUNS=$RUNS sh "$BENCH/$1" "$2" || status=1
	echo
done

echo "## summary: seconds (best of $RUNS runs) and peak RSS in KiB; load average now: $(cut -d' ' -f1-3 /proc/loadavg)"
awk -F '\t' '
BEGIN {
	fmt = "%-18s %8s %9s   %-21s %8s %9s  %8s  %-32s %s\n"
	printf fmt, "ours", "seconds", "RSS_KiB", "peer", "seconds", \
	    "RSS_KiB", "speedup", "target", "result"
}
{ printf fmt, $1, $2, $3, $4, $5, $6, $7, $8, $9 }
' "$SUMMARY"
grep -q 'MISSED' "$SUMMARY" && status=1
exit $status
