#!/bin/bash
# scale.sh - the whole run at scale (issue 13): an N-entry NDJSON manifest
# and a matching N-object store with about 1% drift each way (bench/gen's
# universe), then
#
#   1. arc-reconcile end to end, a dry run and an act run (default cap),
#      every stage through bench/stage: wall seconds, peak RSS, bytes read
#      and written (rchar/wchar and what reached the disk, /proc/PID/io),
#      the peak of its temporary files, and its reads in manifest sizes;
#   2. deleting the confirmed orphan-storage files: arc-delete --act
#      (default batch, the whole manifest looked up before every batch)
#      beside `xargs rm` on the same list, the files re-created between
#      runs; arc-delete's -S counts say how often it read the manifest.
#
# The storage side: a real tree of every stored file (bench/gen store),
# listed live.  An S3 Inventory report (bench/gen inventory) cannot stand
# in for it here: `arc-list --inventory` lists an s3:// or az:// store
# only, and re-checks and deletes go to that store, which this script
# does not serve yet: ARC_BENCH_INVENTORY=1 selects the report anyway,
# and the run stops at arc-list.  The tree needs N inodes: N is refused
# when the file system has fewer free.
#
# ARC_BENCH_STORE=orphans: the store holds only the ~1% orphan-storage
# files (bench/gen orphans), the listing is the storage records bench/gen
# writes, and the stages run one by one as the driver runs them (dump,
# diff, then per phase re-check and delete) instead of through the
# driver: arc-list is not measured.  For sizes whose tree would take
# longer to make than the run (10M files on a loaded machine).
#
# usage: scale.sh [-r runs] [n]
#
# Default n 1000000.  ARC_BENCH_BEFORE=dir runs everything a second time,
# on the same data (the manifest put back, the orphans re-created), with
# the tools of dir (an older build), and ends with the two side by side.
# Disk: about 350 bytes a manifest entry, times three (the manifest, its
# rewrite, the archives), plus the tree's inodes.
PROG=scale.sh
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
SETS="after:$OUT/bin"
if [ -n "${ARC_BENCH_BEFORE:-}" ]; then
	mkdir "$OUT/before" && cp "$ARC_BENCH_BEFORE"/arc-* "$OUT/before/" ||
	    die "cannot copy the tools of '$ARC_BENCH_BEFORE'"
	SETS="before:$OUT/before $SETS"
fi
make -s -C "$BENCH" >/dev/null || die "cannot build bench/out/gen and bench/out/stage"
GEN=$BENCH/out/gen
STAGE=$BENCH/out/stage
export TMPDIR=$OUT/tmp
mkdir "$TMPDIR"

ORPHANS=0
if [ "${ARC_BENCH_INVENTORY:-0}" = 1 ]; then
	INV=1
elif [ "${ARC_BENCH_STORE:-tree}" = orphans ]; then
	INV=0
	ORPHANS=1
else
	INV=0
	[ "$(df --output=iavail "$OUT" | tail -n 1)" -gt $((N + N / 10)) ] ||
	    die "the store is a real tree of N files: not enough free inodes"
fi

# ---- the data ------------------------------------------------------------
case $INV$ORPHANS in
1*) WHAT='S3 inventory and the orphan files' ;;
01) WHAT='a store of the orphan files, the listing generated' ;;
*) WHAT='a tree of every stored file' ;;
esac
note "generating: records, NDJSON manifest, $WHAT"
/usr/bin/time -f '%e' -o "$OUT/gen.time" sh -c "
	'$GEN' records $N '$OUT/m.rec' '$OUT/s.rec' &&
	'$GEN' ndjson $N '$OUT/manifest.ndjson'" || die "gen failed"
if [ $ORPHANS -eq 1 ]; then
	"$GEN" orphans "$N" "$OUT/store" || die "gen orphans failed"
	STORE_OPT=
elif [ $INV -eq 1 ]; then
	"$GEN" inventory "$N" "$OUT/inv" bench || die "gen inventory failed"
	"$GEN" orphans "$N" "$OUT/store" || die "gen orphans failed"
	STORE_OPT="--inventory '$OUT/inv'"
else
	"$GEN" store "$N" "$OUT/store" || die "gen store failed"
	STORE_OPT=
fi
NM=$(wc -l <"$OUT/m.rec")
NS=$(wc -l <"$OUT/s.rec")
MSIZE=$(stat -c %s "$OUT/manifest.ndjson")
note "manifest: $NM entries, $((MSIZE / 1048576)) MiB NDJSON; storage: $NS objects ($WHAT); generated in $(cat "$OUT/gen.time") s"

cp "$OUT/manifest.ndjson" "$OUT/manifest.pristine"
"$OUT/bin/arc-diff" "$OUT/m.rec" "$OUT/s.rec" | grep '^orphan-storage' >"$OUT/c.del"
ND=$(wc -l <"$OUT/c.del")
cut -f2 "$OUT/c.del" >"$OUT/del.paths"
cut -f2- "$OUT/c.del" >"$OUT/del.rec"
MAXM=$((N * 2))

recreate() {
	"$PY" "$BENCH/seed.py" tree "$OUT/store" <"$OUT/del.rec" ||
	    die "cannot re-create the orphans"
}
gone() {
	local left
	left=$(cd "$OUT/store" && xargs -d '\n' ls -- <"$OUT/del.paths" 2>/dev/null | wc -l)
	[ "$left" -eq 0 ] || die "$1 left $left of $ND files"
}

# wrappers DIR: $OUT/wbin, the driver among wrappers that run DIR's tools
# through bench/stage (the driver runs the tools of its own directory).
wrappers() {
	local t
	rm -rf "$OUT/wbin"
	mkdir "$OUT/wbin"
	cp "$1/arc-reconcile" "$OUT/wbin/"
	for t in "$1"/arc-*; do
		t=${t##*/}
		[ "$t" = arc-reconcile ] && continue
		printf '#!/bin/sh\nexec "%s" "$ARC_BENCH_TIMES" %s "%s" "$@"\n' \
		    "$STAGE" "$t" "$1/$t" >"$OUT/wbin/$t"
		chmod +x "$OUT/wbin/$t"
	done
}

# drive SET MODE ARGS: one driver run, its stages in $OUT/times.SET.MODE
drive() {
	local set=$1 mode=$2 st
	shift 2
	export ARC_BENCH_TIMES="$OUT/times.$set.$mode"
	: >"$ARC_BENCH_TIMES"
	note "$set: arc-reconcile${*:+ $*}: the $mode run"
	"$STAGE" "$OUT/time.$set.$mode" arc-reconcile sh -c "'$OUT/wbin/arc-reconcile' \
	    $* $STORE_OPT --state-dir '$OUT/state' --max-manifest $MAXM \
	    '$OUT/store' '$OUT/manifest.ndjson' >'$OUT/driver.$mode.out' \
	    2>'$OUT/driver.$mode.err'"
	st=$?
	case $st in
	0|1) ;;
	*) cat "$OUT/driver.$mode.err" >&2; die "the $set $mode run failed (exit $st)" ;;
	esac
}

# by_hand SET MODE DIR [--act]: the driver's stages run one by one with
# DIR's tools, the generated storage records as the listing; the stages
# in $OUT/times.SET.MODE, the whole in $OUT/time.SET.MODE.
by_hand() {
	local set=$1 mode=$2 dir=$3 act=${4:-} T
	T=$OUT/times.$set.$mode
	: >"$T"
	note "$set: the stages by hand: the $mode run"
	cat >"$OUT/byhand.sh" <<-EOS
	S() { "$STAGE" "$T" "\$@"; }
	cd "$OUT" || exit 2
	S arc-manifest-dump "$dir/arc-manifest-dump" manifest.ndjson >h.m.rec || exit 2
	S arc-diff "$dir/arc-diff" h.m.rec s.rec >h.cand
	grep '^orphan-manifest' h.cand >h.cand.m
	grep '^orphan-storage' h.cand >h.cand.s
	S arc-recheck "$dir/arc-recheck" store manifest.ndjson <h.cand.m >h.conf.m
	S arc-delete "$dir/arc-delete" $act -A h1.tgz store manifest.ndjson <h.conf.m >h.out.m
	S arc-recheck "$dir/arc-recheck" store manifest.ndjson <h.cand.s >h.conf.s
	S arc-delete "$dir/arc-delete" $act -A h2.tgz store manifest.ndjson <h.conf.s >h.out.s
	exit 0
	EOS
	"$STAGE" "$OUT/time.$set.$mode" arc-reconcile bash "$OUT/byhand.sh" ||
	    die "the $set $mode stages failed"
	rm -f "$OUT"/h*.tgz
}

# stages SET: the table of SET's two runs.
stages() {
	echo
	echo "## $1: arc-reconcile, $NM manifest entries ($((MSIZE / 1048576)) MiB), $NS objects, $([ $INV -eq 1 ] && echo 'S3 inventory' || { [ $ORPHANS -eq 1 ] && echo 'generated listing, orphan files only, stages by hand'; } || echo 'local tree')"
	echo "## per stage: wall s, peak RSS KiB, MiB read and written (rchar/wchar; disk: read_bytes/write_bytes), peak temporary MiB, reads in manifest sizes (rchar / manifest), exit"
	awk -v msize="$MSIZE" '
	FNR == 1 { f++ }
	$1 == "arc-run" {	# bookkeeping of the driver, many short calls: summed
		k = "arc-run#1"
		if (!(k in seen)) { seen[k] = 1; order[++no] = k }
		if (!((f, k) in line)) line[f, k] = $1 " 0 0 0 0 0 0 0 0"
		split(line[f, k], v, " ")
		v[2] += $2; v[3] = v[3] > $3 ? v[3] : $3
		for (j = 4; j <= 8; j++) v[j] += $j
		v[9] = v[9] > $9 ? v[9] : $9
		line[f, k] = sprintf("%s %.2f %.0f %.0f %.0f %.0f %.0f %.0f %.0f", \
		    $1, v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9])
		next
	}
	{
		k = $1; n[f, k]++; k = k "#" n[f, k]
		if (!(k in seen)) { seen[k] = 1; order[++no] = k }
		line[f, k] = $0
	}
	function mib(b) { return sprintf("%.0f", b / 1048576) }
	END {
		label["arc-recheck#1"] = "arc-recheck (orphan-manifest)"
		label["arc-delete#1"] = "arc-delete (orphan-manifest)"
		label["arc-recheck#2"] = "arc-recheck (orphan-storage)"
		label["arc-delete#2"] = "arc-delete (orphan-storage)"
		label["arc-run#1"] = "arc-run (every call)"
		fmt = "%-5s %-30s %8s %8s %7s %7s %7s %7s %6s %6s %4s\n"
		printf fmt, "run", "stage", "sec", "RSS", "rd MiB", "wr MiB", \
		    "disk rd", "disk wr", "tmp", "xM", "exit"
		for (r = 1; r <= 2; r++)
			for (i = 1; i <= no; i++) {
				k = order[i]
				if (!((r, k) in line))
					continue
				split(line[r, k], v, " ")
				l = (k in label) ? label[k] : k
				sub(/#[0-9]+$/, "", l)
				printf fmt, r == 1 ? "dry" : "act", l, v[2], v[3], \
				    mib(v[4]), mib(v[5]), mib(v[6]), mib(v[7]), \
				    mib(v[8]), sprintf("%.1f", v[4] / msize), v[9]
			}
	}' "$OUT/times.$1.dry" "$OUT/times.$1.act"
	local sname=$1 m
	for m in dry act; do
		set -- $(cat "$OUT/time.$sname.$m")
		printf '%-5s %-30s %8s %8s\n' "$m" "arc-reconcile (whole run)" "$2" "$3"
	done
}

for set in $SETS; do
	name=${set%%:*}
	dir=${set#*:}
	# the same start for every set: the manifest as generated, every
	# orphan file there, no state
	cp "$OUT/manifest.pristine" "$OUT/manifest.ndjson"
	recreate
	rm -rf "$OUT/state"
	sync
	# ---- 1. the driver, stage by stage
	if [ $ORPHANS -eq 1 ]; then
		by_hand "$name" dry "$dir"
		by_hand "$name" act "$dir" --act
		note "$name: act run: $(grep -c '^deleted' "$OUT/h.out.m") entries and $(grep -c '^deleted' "$OUT/h.out.s") files deleted"
	else
		wrappers "$dir"
		drive "$name" dry
		drive "$name" act --act
		RUN=$(ls -t "$OUT/state/runs/"*.json | head -n 1)
		note "$name: act run record: $(tr -d ' \n' <"$RUN" | grep -o '"manifest_deletes":[0-9]*,"storage_deletes":[0-9]*'); state directory $(du -sm "$OUT/state" | cut -f1) MiB"
	fi
	# ---- 2. files deleted per second, the same manifest as generated
	cp "$OUT/manifest.pristine" "$OUT/manifest.ndjson"
	note "$name: deleting the $ND orphan-storage files ($(( (ND + 999) / 1000 )) batches), re-created before each run"
	for i in $(seq 1 "$RUNS"); do
		recreate
		sync
		measure "xargs rm ($name)" "cd '$OUT/store' && xargs -d '\n' rm -- <'$OUT/del.paths'"
		gone "xargs rm"
		recreate
		rm -f "$OUT/a.tgz"
		sync
		measure "arc-delete --act ($name)" "'$dir/arc-delete' --act -n $MAXM \
		    -A '$OUT/a.tgz' -S '$OUT/d.stats' '$OUT/store' \
		    '$OUT/manifest.ndjson' <'$OUT/c.del' >'$OUT/d.out'"
		[ "$(grep -c '^deleted' "$OUT/d.out")" -eq "$ND" ] ||
		    die "arc-delete did not delete them all"
		gone "arc-delete"
	done
	row "delete $ND files" "arc-delete --act ($name)" "xargs rm ($name)" "-"
	if grep -q manifest_passes "$OUT/d.stats"; then
		note "$name: arc-delete's manifest reads: $(grep -o '"manifest_passes[^}]*' "$OUT/d.stats")"
	else
		note "$name: arc-delete's manifest reads: not counted by this build"
	fi
done

for set in $SETS; do
	stages "${set%%:*}"
done
note "load average $(cut -d' ' -f1-3 /proc/loadavg) at the end"
print_table "deleting the orphan-storage files: arc-delete against xargs rm"
awk -F '\t' -v n="$ND" '{ printf "# %s: %.0f files/s   %s: %.0f files/s\n", $2, n / $3, $6, n / $7 }' "$OUT/table"
exit 0
