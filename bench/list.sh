#!/bin/sh
# list.sh - arc-list on a local tree of N empty files (default 1,000,000)
# in Arc's layout against find -printf piped into sort(1).
#
# usage: list.sh [-r runs] [n]
#
# OLD=DIR (environment): also time DIR/arc-list, an older build.
#
# Target (issue 13; issue 2 asked 1.5x): at least 2x faster, with bounded
# memory.  Caches
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
	[ -z "${OLD:-}" ] || measure "arc-list (old)" \
	    "arc-list.old '$OUT/tree' >'$OUT/old'"
	measure "find -printf | sort" "$PEER"
	i=$((i + 1))
done

cut -f1 "$OUT/ours" >"$OUT/ours.path"
cut -f1 "$OUT/peer" >"$OUT/peer.path"
[ "$(wc -l <"$OUT/ours")" -eq "$N" ] &&
    cmp -s "$OUT/ours.path" "$OUT/peer.path" ||
    die "arc-list and find list different paths"
echo "# $N records, the same paths in the same order from both"

[ -z "${OLD:-}" ] || cmp -s "$OUT/old" "$OUT/ours" ||
    die "the old arc-list's output differs"
OLDNAME=
[ -z "${OLD:-}" ] || OLDNAME="arc-list (old)"
table "a tree of $N files" arc-list ${OLDNAME:+"$OLDNAME"} "find -printf | sort"
verdict arc-list "find -printf | sort" ">= 2x" \
    "$(ge "$(seconds "find -printf | sort")" "2 * $(seconds arc-list)")"
[ -z "$OLDNAME" ] || verdict arc-list "$OLDNAME" "-" -
# bounded: a listing holds one directory per level, never the tree
check arc-list "peak RSS < 16384 KiB" \
    "$(awk "BEGIN { print ($(rss arc-list) < 16384) }")"
