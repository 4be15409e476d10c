#!/bin/sh
# diff.sh - arc-diff on N x N sorted records (default 10,000,000) against
# join(1) on the same files and comm(1) on their path columns.
#
# usage: diff.sh [-r runs] [n]
#
# OLD=DIR (environment): also time DIR/arc-diff, an older build, in the
# same runs (before and after figures side by side, CPU seconds too).
#
# Targets (issue 2): at least 2x faster than join -v1 -v2, no slower than
# comm -3, peak RSS under 16 MiB.  The path columns comm reads are cut
# out beforehand, untimed.
PROG=diff.sh
DEFAULT_N=10000000
. "$(dirname "$0")/common.sh"
parse_args "$@"
setup

echo "# generating $N manifest and storage records"
"$GEN" records "$N" "$OUT/m" "$OUT/s" || die "cannot generate records"
cut -f1 "$OUT/m" >"$OUT/m.path" && cut -f1 "$OUT/s" >"$OUT/s.path" ||
    die "cannot cut the path columns"
echo "# $(wc -l <"$OUT/m") manifest records, $(wc -l <"$OUT/s") storage records"

# A fixed now, so every storage-only file is old enough to be a candidate.
OURS="arc-diff -t 2027-01-01T00:00:00Z '$OUT/m' '$OUT/s' >'$OUT/d.out'"
JOIN="join -t '$TAB' -v1 -v2 '$OUT/m' '$OUT/s' >'$OUT/j.out'"
COMM="comm -3 '$OUT/m.path' '$OUT/s.path' >'$OUT/c.out'"
warm "$OURS" "$JOIN" "$COMM"
i=0
while [ $i -lt "$RUNS" ]; do
	measure arc-diff "$OURS"
	[ -z "${OLD:-}" ] || measure "arc-diff (old)" \
	    "arc-diff.old -t 2027-01-01T00:00:00Z '$OUT/m' '$OUT/s' >'$OUT/d.old'"
	measure "join -v1 -v2" "$JOIN"
	measure "comm -3 (paths only)" "$COMM"
	i=$((i + 1))
done

# The three must agree on which paths differ.
cut -f2 "$OUT/d.out" >"$OUT/d.path"
cut -f1 "$OUT/j.out" >"$OUT/j.path"
tr -d "$TAB" <"$OUT/c.out" >"$OUT/c.path"
cmp -s "$OUT/d.path" "$OUT/j.path" && cmp -s "$OUT/d.path" "$OUT/c.path" ||
    die "arc-diff, join and comm disagree"
echo "# $(wc -l <"$OUT/d.out") candidates, the same paths from all three"
[ -z "${OLD:-}" ] || cmp -s "$OUT/d.out" "$OUT/d.old" ||
    die "the old arc-diff's output differs"

OLDNAME=
[ -z "${OLD:-}" ] || OLDNAME="arc-diff (old)"
table "$N x $N records" arc-diff ${OLDNAME:+"$OLDNAME"} "join -v1 -v2" \
    "comm -3 (paths only)"
for t in arc-diff ${OLDNAME:+"$OLDNAME"}; do
	echo "# $t: $(seconds "$t") s wall, $(cpu "$t") s CPU"
done
verdict arc-diff "join -v1 -v2" ">= 2x" \
    "$(ge "$(seconds "join -v1 -v2")" "2 * $(seconds arc-diff)")"
verdict arc-diff "comm -3 (paths only)" ">= 1x" \
    "$(ge "$(seconds "comm -3 (paths only)")" "$(seconds arc-diff)")"
check arc-diff "peak RSS < 16384 KiB" \
    "$(awk "BEGIN { print ($(rss arc-diff) < 16384) }")"
