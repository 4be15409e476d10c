#!/bin/bash
# local-run.sh - the write side and the driver on a local store (issue 3):
# a store of about N files and a manifest of about N entries (NDJSON), 1%
# drift each way (bench/gen's universe), then
#
#   1. a full arc-reconcile dry-run and an act run (--max-deletes and
#      --max-manifest raised; --max-orphan-ratio left at its default),
#      each with the wall time and peak RSS of every stage, taken by
#      wrappers around the tools in a copy of the driver's bin directory;
#   2. files deleted per second: arc-delete --act against `xargs rm` on
#      the same confirmed orphan-storage list (the files re-created
#      between runs), and arc-delete with an empty manifest, to show what
#      its last-word manifest look-ups cost.
#
# usage: local-run.sh [-r runs] [n]
#
# Default n 1000000 (about 1.01 million paths; 2.5 GB of disk for the
# manifest, the store's inodes and the archives).  A quick run:
# local-run.sh 20000.  -r applies to part 2 (part 1 changes the store).
PROG=local-run.sh
. "$(dirname "$0")/storecommon.sh"

usage() {
	echo "usage: $PROG [-r runs] [n]" >&2
	exit 2
}

parse_runs "$@"
set -- "${ARGS[@]}"
[ $# -le 1 ] || usage
count N "${1:-}" 1000000
setup
make -s -C "$BENCH" >/dev/null || die "cannot build bench/out/gen"
GEN=$BENCH/out/gen
NOW=2027-01-01T00:00:00Z	# every generated file is older than the grace

# ---- the data ------------------------------------------------------------
U=$((N + N / 100))
note "generating a universe of $U paths: manifest records, storage records, NDJSON manifest"
"$GEN" records "$N" "$OUT/m.rec" "$OUT/s.rec" || die "gen records failed"
"$GEN" ndjson "$N" "$OUT/manifest.ndjson" || die "gen ndjson failed"
note "creating the store: every path of the universe, then removing the manifest-only ones"
"$GEN" tree "$U" "$OUT/store" || die "gen tree failed"
cut -f1 "$OUT/m.rec" >"$OUT/m.path"
cut -f1 "$OUT/s.rec" >"$OUT/s.path"
comm -23 "$OUT/m.path" "$OUT/s.path" >"$OUT/manifest-only"
(cd "$OUT/store" && xargs -d '\n' rm -- <"$OUT/manifest-only") ||
    die "cannot remove the manifest-only files"
NM=$(wc -l <"$OUT/m.rec")
NS=$(wc -l <"$OUT/s.rec")
NMO=$(wc -l <"$OUT/manifest-only")
NSO=$(comm -13 "$OUT/m.path" "$OUT/s.path" | wc -l)
[ "$(find "$OUT/store" -type f | wc -l)" -eq "$NS" ] || die "the store is not as generated"
note "manifest: $NM entries ($(du -m "$OUT/manifest.ndjson" | cut -f1) MB NDJSON); store: $NS files"
note "drift: $NMO orphan-manifest ($((NMO * 10000 / NM)) per 10000), $NSO orphan-storage ($((NSO * 10000 / NS)) per 10000)"
rm -f "$OUT/m.path" "$OUT/s.path"

# ---- 1. the driver, stage by stage ---------------------------------------
# A copy of the driver in a directory of wrappers: the driver runs the
# tools from its own directory, so each stage goes through /usr/bin/time.
mkdir "$OUT/wbin"
cp "$ROOT/bin/arc-reconcile" "$OUT/wbin/"
for t in "$OUT"/bin/arc-*; do
	t=${t##*/}
	[ "$t" = arc-reconcile ] && continue
	printf '#!/bin/sh\nexec /usr/bin/time -a -o "$ARC_BENCH_TIMES" -f "%s %%e %%M %%x" "%s" "$@"\n' \
	    "$t" "$OUT/bin/$t" >"$OUT/wbin/$t"
	chmod +x "$OUT/wbin/$t"
done
MAXD=$((N * 2))
OPTS="--state-dir '$OUT/state' --now $NOW --max-deletes $MAXD --max-manifest $MAXD"
OPERANDS="'$OUT/store' '$OUT/manifest.ndjson'"

# drive MODE ARGS: one driver run, its stages' times in $OUT/times.MODE
drive() {
	local mode=$1 st
	shift
	export ARC_BENCH_TIMES="$OUT/times.$mode"
	: >"$ARC_BENCH_TIMES"
	note "arc-reconcile${*:+ $*}: the $mode run"
	/usr/bin/time -f '%e %M %x' -o "$OUT/time.$mode" sh -c "'$OUT/wbin/arc-reconcile' \
	    $* $OPTS $OPERANDS >'$OUT/driver.$mode.out' 2>'$OUT/driver.$mode.err'"
	st=$(tail -n 1 "$OUT/time.$mode" | cut -d' ' -f3)
	case $st in
	0|1) ;;
	*) cat "$OUT/driver.$mode.err" >&2; die "the $mode run failed (exit $st)" ;;
	esac
	note "exit $st; $(grep -c . "$OUT/driver.$mode.err") lines on stderr"
}
drive dry
drive act --act
RUN=$(ls -t "$OUT/state/runs/"*.json | head -n 1)
note "act run record: $(tr -d ' \n' <"$RUN" | grep -o '"manifest_deletes":[0-9]*,"storage_deletes":[0-9]*')"

# ---- 2. files deleted per second -------------------------------------------
"$OUT/bin/arc-diff" -t "$NOW" "$OUT/m.rec" "$OUT/s.rec" |
    grep '^orphan-storage' >"$OUT/c.del"
ND=$(wc -l <"$OUT/c.del")
cut -f2 "$OUT/c.del" >"$OUT/del.paths"
cut -f2- "$OUT/c.del" >"$OUT/del.rec"
: >"$OUT/empty.ndjson"
recreate() {
	"$PY" "$BENCH/seed.py" tree "$OUT/store" <"$OUT/del.rec" ||
	    die "cannot re-create the orphans"
}
gone() {
	local left
	left=$(cd "$OUT/store" && xargs -d '\n' ls -- <"$OUT/del.paths" 2>/dev/null | wc -l)
	[ "$left" -eq 0 ] || die "$1 left $left of $ND files"
}
note "deleting the $ND orphan-storage files, re-created before each run"
for i in $(seq 1 "$RUNS"); do
	recreate
	sync
	measure "xargs rm" "cd '$OUT/store' && xargs -d '\n' rm -- <'$OUT/del.paths'"
	gone "xargs rm"
	recreate
	sync
	# a new archive each run: arc-delete never replaces another run's
	rm -f "$OUT/a.tgz"
	measure "arc-delete --act" "arc-delete --act -n $MAXD -A '$OUT/a.tgz' \
	    '$OUT/store' '$OUT/manifest.ndjson' <'$OUT/c.del' >'$OUT/d.out'"
	[ "$(grep -c '^deleted' "$OUT/d.out")" -eq "$ND" ] || die "arc-delete did not delete them all"
	gone "arc-delete"
	recreate
	sync
	rm -f "$OUT/a.tgz"
	measure "arc-delete --act, empty manifest" "arc-delete --act -n $MAXD \
	    -A '$OUT/a.tgz' '$OUT/store' '$OUT/empty.ndjson' <'$OUT/c.del' >'$OUT/d.out'"
	gone "arc-delete (empty manifest)"
done
row "delete $ND files" "arc-delete --act" "xargs rm" "-"
row "delete $ND files" "arc-delete --act, empty manifest" "xargs rm" "-"

# ---- the tables ------------------------------------------------------------
echo
echo "## arc-reconcile on a local store: $NS files, $NM manifest entries (NDJSON), $NMO + $NSO drift"
echo "## per stage: wall seconds and peak RSS in KiB (GNU time); exit status"
awk '
FNR == 1 { f++ }
/^Command / { next }	# GNU time: "Command exited with non-zero status"
{
	k = $1; n[f, k]++; k = k "#" n[f, k]
	if (!(k in seen)) { seen[k] = 1; order[++no] = k }
	s[f, k] = $2; r[f, k] = $3; x[f, k] = $4
}
END {
	label["arc-recheck#1"] = "arc-recheck (orphan-manifest)"
	label["arc-delete#1"] = "arc-delete (orphan-manifest)"
	label["arc-recheck#2"] = "arc-recheck (orphan-storage)"
	label["arc-delete#2"] = "arc-delete (orphan-storage)"
	fmt = "%-32s %9s %9s %4s   %9s %9s %4s\n"
	printf fmt, "stage", "dry sec", "dry RSS", "exit", "act sec", "act RSS", "exit"
	for (i = 1; i <= no; i++) {
		k = order[i]; l = (k in label) ? label[k] : k
		sub(/#1$/, "", l)
		printf fmt, l, s[1, k], r[1, k], x[1, k], s[2, k], r[2, k], x[2, k]
	}
}' "$OUT/times.dry" "$OUT/times.act"
printf '%-32s %9s %9s %4s   %9s %9s %4s\n' "arc-reconcile (whole run)" \
    $(tail -n 1 "$OUT/time.dry") $(tail -n 1 "$OUT/time.act")

print_table "deleting files from a local store: arc-delete against xargs rm"
awk -F '\t' -v n="$ND" '{ printf "# %s: %.0f files/s   %s: %.0f files/s\n", $2, n / $3, $6, n / $7 }' "$OUT/table"
exit 0
