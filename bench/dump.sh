#!/bin/sh
# dump.sh - arc-manifest-dump on a shuffled NDJSON manifest of N entries
# (default 10,000,000) against jq -c piped into sort(1) on the same file.
#
# usage: dump.sh [-r runs] [n]
#
# OLD=DIR (environment): also time DIR/arc-manifest-dump, an older
# build, in the same runs (before and after figures side by side).
#
# Reports entries per second and peak RSS; memory must stay bounded
# whatever N is (issue 2).  arc-manifest-dump's figure includes its sort
# (in the process, spilling sorted runs to \$TMPDIR past -S); it is the
# best of RUNS runs, jq's the only one.  Its output must equal the sorted manifest records the
# generator writes for the same N.
PROG=dump.sh
DEFAULT_N=10000000
. "$(dirname "$0")/common.sh"
parse_args "$@"
setup

echo "# generating a shuffled NDJSON manifest of $N entries"
"$GEN" ndjson "$N" "$OUT/m.ndjson" || die "cannot generate the manifest"
"$GEN" records "$N" "$OUT/m.want" "$OUT/s" || die "cannot generate records"
rm -f "$OUT/s"
ENTRIES=$(wc -l <"$OUT/m.ndjson")
echo "# $ENTRIES entries, $(($(wc -c <"$OUT/m.ndjson") / 1048576)) MiB"

# Both keep their temporary files in the scratch directory.
export TMPDIR="$OUT"
OURS="arc-manifest-dump '$OUT/m.ndjson' >'$OUT/ours'"
PEER="jq -c '[.path, .created_at, .size_bytes, .origin_node_id, .lsn]' \
    '$OUT/m.ndjson' | sort >'$OUT/peer'"
# The peer takes minutes at full size and has no target to meet: it runs
# once, after ours has warmed the page cache with the same file.
warm "$OURS"
i=0
while [ $i -lt "$RUNS" ]; do
	measure arc-manifest-dump "$OURS"
	[ -z "${OLD:-}" ] || measure "arc-manifest-dump (old)" \
	    "arc-manifest-dump.old '$OUT/m.ndjson' >'$OUT/old'"
	[ $i -gt 0 ] || measure "jq -c | sort" "$PEER"
	i=$((i + 1))
done

cmp -s "$OUT/ours" "$OUT/m.want" ||
    die "arc-manifest-dump's output differs from the generated records"
[ -z "${OLD:-}" ] || cmp -s "$OUT/old" "$OUT/m.want" ||
    die "the old arc-manifest-dump's output differs"
[ "$(wc -l <"$OUT/peer")" -eq "$ENTRIES" ] || die "jq | sort lost entries"
echo "# arc-manifest-dump's output is the generated manifest, byte for byte"

# rate NAME / cpurate NAME: entries per wall / CPU second
rate() {
	awk "BEGIN { printf \"%.0f\", $ENTRIES / $(seconds "$1") }"
}
cpurate() {
	awk "BEGIN { c = $(cpu "$1"); printf \"%.0f\", $ENTRIES / (c > 0 ? c : 0.01) }"
}

OLDNAME=
[ -z "${OLD:-}" ] || OLDNAME="arc-manifest-dump (old)"
table "$ENTRIES NDJSON entries, shuffled; jq runs once" arc-manifest-dump \
    ${OLDNAME:+"$OLDNAME"} "jq -c | sort"
for t in arc-manifest-dump ${OLDNAME:+"$OLDNAME"} "jq -c | sort"; do
	echo "# $t: $(rate "$t") entries/s, $(cpurate "$t") per CPU second"
done
verdict arc-manifest-dump "jq -c | sort" ">= 5x" \
    "$(ge "$(seconds "jq -c | sort")" "5 * $(seconds arc-manifest-dump)")"
check arc-manifest-dump ">= 500000 entries/CPU s" \
    "$(ge "$(cpurate arc-manifest-dump)" 500000)"
[ -z "$OLDNAME" ] || verdict arc-manifest-dump "$OLDNAME" "-" -
