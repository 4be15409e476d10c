# common.sh - sourced by the benchmark scripts: options, the scratch
# directory, the input generator, and timing with GNU time.
#
# Each tool runs once untimed (so both find the page cache equally warm),
# then RUNS more times alternating with its peers; the fastest run of
# each is reported, with its peak RSS.  A pipeline's peak RSS is that of
# its largest process (GNU time reports the maximum over the children
# waited for), not the sum.

export LC_ALL=C TZ=UTC
TAB=$(printf '\t')

BENCH=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$BENCH/.." && pwd)
PATH="$ROOT/bin:$PATH"
RUNS=${RUNS:-3}

die() {
	echo "$PROG: $*" >&2
	exit 2
}

usage() {
	echo "usage: $PROG [-r runs] [n]" >&2
	exit 2
}

# parse_args "$@": sets RUNS and N (DEFAULT_N when not given).
parse_args() {
	while getopts r: opt; do
		case $opt in
		r)	RUNS=$OPTARG ;;
		*)	usage ;;
		esac
	done
	shift $((OPTIND - 1))
	[ $# -le 1 ] || usage
	N=${1:-$DEFAULT_N}
	case $N in
	''|*[!0-9]*) die "'$N': invalid count" ;;
	esac
	case $RUNS in
	''|*[!0-9]*|0) die "'$RUNS': invalid number of runs" ;;
	esac
}

# setup: build the tools and the generator, make the scratch directory
# (removed on exit) in $OUT, and run the tools from a copy there, so a
# rebuild during a long run cannot change them half-way.
setup() {
	command -v /usr/bin/time >/dev/null 2>&1 ||
	    die "GNU time is missing: apt-get install -y time"
	make -s -C "$ROOT" all >/dev/null || die "cannot build the tools"
	make -s -C "$BENCH" >/dev/null || die "cannot build the generator"
	GEN=$BENCH/out/gen
	mkdir -p "$BENCH/out" || exit 2
	OUT=$(mktemp -d "$BENCH/out/$PROG.XXXXXX") || exit 2
	trap 'rm -rf "$OUT"' EXIT
	trap 'exit 130' INT TERM
	mkdir "$OUT/bin" && cp "$ROOT/bin/arc-diff" "$ROOT/bin/arc-list" \
	    "$ROOT/bin/arc-manifest-dump" "$OUT/bin/" ||
	    die "cannot copy the tools"
	# OLD=DIR: an older build's tools too, as arc-*.old, timed beside
	if [ -n "${OLD:-}" ]; then
		for t in arc-diff arc-list arc-manifest-dump; do
			cp "$OLD/$t" "$OUT/bin/$t.old" ||
			    die "cannot copy '$OLD/$t'"
		done
	fi
	PATH="$OUT/bin:$PATH"
}

# measure NAME COMMAND: run COMMAND with sh -c under GNU time, keep the
# fastest wall time of NAME and the peak RSS of that run.  A non-zero
# exit status other than 1 (diff-style "found something") is fatal.
measure() {
	# GNU time puts "Command exited with non-zero status" first
	/usr/bin/time -f '%e %M %x %U %S' -o "$OUT/time" sh -c "$2" ||
	    [ "$(tail -n 1 "$OUT/time" | cut -d' ' -f3)" = 1 ] ||
	    die "'$1' failed: $(cat "$OUT/time")"
	set -- "$1" $(tail -n 1 "$OUT/time" | cut -d' ' -f1,2,4,5)
	echo "#   $1: $2 s wall, $(awk "BEGIN { print $4 + $5 }") s CPU"
	best=$(grep -F "$1$TAB" "$OUT/best" 2>/dev/null | cut -f2)
	if [ -z "$best" ] || awk "BEGIN { exit !($2 < $best) }"; then
		grep -vF "$1$TAB" "$OUT/best" >"$OUT/best.new" 2>/dev/null
		printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" \
		    "$(awk "BEGIN { print $4 + $5 }")" >>"$OUT/best.new"
		mv "$OUT/best.new" "$OUT/best"
	fi
}

# warm COMMAND...: run each command once, untimed, output discarded.
warm() {
	for c; do
		sh -c "$c" >/dev/null 2>&1
	done
}

# seconds NAME / rss NAME / cpu NAME: the kept figures (cpu: user +
# system seconds of that fastest run, its children included)
seconds() {
	grep -F "$1$TAB" "$OUT/best" | cut -f2
}
cpu() {
	grep -F "$1$TAB" "$OUT/best" | cut -f4
}
rss() {
	grep -F "$1$TAB" "$OUT/best" | cut -f3
}

# table TITLE NAME...: the figures side by side
table() {
	echo "# $1 (best of $RUNS runs)"
	printf '%-32s %9s %13s\n' tool seconds peak_RSS_KiB
	shift
	for t; do
		printf '%-32s %9s %13s\n' "$t" "$(seconds "$t")" "$(rss "$t")"
	done
}

# verdict OURS PEER TARGET OK: print whether a target is met, and add a
# row for run.sh's summary to $SUMMARY when set.  TARGET says what OK
# means ("-" for a peer that is only shown for comparison).
verdict() {
	case $4 in
	1)	res=met ;;
	0)	res=MISSED ;;
	*)	res=- ;;
	esac
	x=$(ratio "$(seconds "$2")" "$(seconds "$1")")
	echo "# $1 vs $2: speedup ${x}x (peer time / ours); target $3: $res"
	[ -z "${SUMMARY:-}" ] ||
	    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" \
	    "$(seconds "$1")" "$(rss "$1")" "$2" "$(seconds "$2")" \
	    "$(rss "$2")" "${x}x" "$3" "$res" >>"$SUMMARY"
}

# ratio A B: A / B to two decimals
ratio() {
	awk "BEGIN { printf \"%.2f\", ($1) / ($2 > 0 ? $2 : 0.01) }"
}

# ge A B: 1 when A >= B
ge() {
	awk "BEGIN { print (($1) >= ($2)) ? 1 : 0 }"
}

# check OURS TARGET OK: a target on OURS alone (memory), printed and
# added to $SUMMARY like verdict's.
check() {
	[ "$3" = 1 ] && res=met || res=MISSED
	echo "# $1: target $2: $res"
	[ -z "${SUMMARY:-}" ] ||
	    printf '%s\t%s\t%s\t-\t-\t-\t-\t%s\t%s\n' "$1" "$(seconds "$1")" \
	    "$(rss "$1")" "$2" "$res" >>"$SUMMARY"
}
