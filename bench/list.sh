#!/bin/sh
# list.sh - arc-list on a local tree of N empty files (default 1,000,000)
# in Arc's layout against find -printf piped into sort(1).
#
# usage: list.sh [-r runs] [n]
#
# Target (issue 2): at least 1.5x faster, with bounded memory.  Caches
# cannot be dropped here, so each command runs once untimed before the
# timed runs, which alternate.
PROG=list.sh
DEFAULT_N=1000000
. "$(dirname "$0")/common.sh"
parse_args "$@"
setup

echo "# creating a tree of $N files"
"$GEN" tree "$N" "$OUT/tree" || die "cannot create the tree"
echo "# $(find "$OUT/tree" -type d | wc -l) directories"

OURS="arc-list '$OUT/tree' >'$OUT/ours'"
PEER="find '$OUT/tree' -type f -printf '%P\t%T@\t%s\n' | sort >'$OUT/peer'"
warm "$OURS" "$PEER"
i=0
while [ $i -lt "$RUNS" ]; do
	measure arc-list "$OURS"
	measure "find -printf | sort" "$PEER"
	i=$((i + 1))
done

cut -f1 "$OUT/ours" >"$OUT/ours.path"
cut -f1 "$OUT/peer" >"$OUT/peer.path"
[ "$(wc -l <"$OUT/ours")" -eq "$N" ] &&
    cmp -s "$OUT/ours.path" "$OUT/peer.path" ||
    die "arc-list and find list different paths"
echo "# $N records, the same paths in the same order from both"

table "a tree of $N files" arc-list "find -printf | sort"
verdict arc-list "find -printf | sort" ">= 1.5x" \
    "$(ge "$(seconds "find -printf | sort")" "1.5 * $(seconds arc-list)")"
# bounded: a listing holds one directory per level, never the tree
check arc-list "peak RSS < 16384 KiB" \
    "$(awk "BEGIN { print ($(rss arc-list) < 16384) }")"
