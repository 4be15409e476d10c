# storecommon.sh - sourced (by bash) by s3.sh, azure.sh and local-run.sh:
# the scratch directory, a snapshot of the tools, timing with GNU time,
# and the "what  ours  peer" table.
#
# Each timed command runs under /usr/bin/time (wall seconds, peak RSS in
# KiB of the largest process, and user + system CPU seconds of the command
# and its children, printed as "client CPU"); with -r RUNS the fastest run
# of each name is kept.  When SRV_PID is set, the CPU seconds that server
# process used during the run are kept too: a server busy for most of the
# wall time is the bottleneck, whatever the client does.

export LC_ALL=C TZ=UTC
BENCH=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$BENCH/.." && pwd)
PY=/usr/bin/python3
RUNS=${RUNS:-1}
TICK=$(getconf CLK_TCK)
SRV_PID=
CLEANUP=()

die() {
	echo "$PROG: $*" >&2
	exit 2
}

note() {
	echo "# $*"
}

# at_exit COMMAND: run COMMAND (a string) on exit, last registered first.
at_exit() {
	CLEANUP=("$1" "${CLEANUP[@]}")
}

run_cleanup() {
	local c
	for c in "${CLEANUP[@]}"; do
		eval "$c" >/dev/null 2>&1
	done
	CLEANUP=()
}

# setup: check the tools, build, snapshot bin/ into $OUT/bin (others may
# rebuild bin/ while we run), make the scratch directory $OUT.
setup() {
	local t
	for t in /usr/bin/time "$PY" "$@"; do
		command -v "$t" >/dev/null 2>&1 || die "'$t' is missing (see the usage comment)"
	done
	make -s -C "$ROOT" all >/dev/null || die "cannot build the tools"
	mkdir -p "$BENCH/out" || exit 2
	OUT=$(mktemp -d "$BENCH/out/$PROG.XXXXXX") || exit 2
	trap 'run_cleanup; rm -rf "$OUT"' EXIT
	trap 'exit 130' INT TERM
	mkdir "$OUT/bin" && cp "$ROOT"/bin/arc-* "$OUT/bin/" ||
	    die "cannot copy the tools"
	PATH="$OUT/bin:$PATH"
	note "$(uname -m), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg) at the start"
}

# parse_runs "$@": -r RUNS; leaves the operands in ARGS.
parse_runs() {
	local opt
	OPTIND=1
	while getopts r: opt; do
		case $opt in
		r)	RUNS=$OPTARG ;;
		*)	usage ;;
		esac
	done
	shift $((OPTIND - 1))
	case $RUNS in
	''|*[!0-9]*|0) die "'$RUNS': invalid number of runs" ;;
	esac
	ARGS=("$@")
}

# count VAR VALUE DEFAULT: a positive count
count() {
	local v=${2:-$3}
	case $v in
	''|*[!0-9]*|0) die "'$v': invalid count" ;;
	esac
	printf -v "$1" '%s' "$v"
}

srv_ticks() {
	[ -n "$SRV_PID" ] && [ -r "/proc/$SRV_PID/stat" ] || {
		echo -
		return
	}
	# utime + stime, over all threads; the name field has no spaces here
	awk '{ print $14 + $15 }' "/proc/$SRV_PID/stat"
}

# measure NAME COMMAND: run COMMAND (sh -c) timed; keep the fastest run of
# NAME.  An exit status above 1 is fatal unless OKSTATUS allows it.
measure() {
	local name=$1 cmd=$2 t0 t1 secs rss st best cpu ccpu
	t0=$(srv_ticks)
	/usr/bin/time -f '%e %M %x %U %S' -o "$OUT/time" sh -c "$cmd"
	t1=$(srv_ticks)
	st=$(tail -n 1 "$OUT/time" | cut -d' ' -f3)
	case " 0 1 ${OKSTATUS:-} " in
	*" $st "*) ;;
	*) die "'$name' failed (exit $st): $(cat "$OUT/time")" ;;
	esac
	set -- $(tail -n 1 "$OUT/time")
	secs=$1 rss=$2 ccpu=$(awk "BEGIN { printf \"%.2f\", $4 + $5 }")
	if [ "$t0" = - ] || [ "$t1" = - ]; then
		cpu=-
	else
		cpu=$(awk "BEGIN { printf \"%.1f\", ($t1 - $t0) / $TICK }")
	fi
	best=$(awk -F '\t' -v n="$name" '$1 == n { print $2 }' "$OUT/best" 2>/dev/null)
	if [ -z "$best" ] || awk "BEGIN { exit !($secs < $best) }"; then
		awk -F '\t' -v n="$name" '$1 != n' "$OUT/best" >"$OUT/best.new" 2>/dev/null
		printf '%s\t%s\t%s\t%s\n' "$name" "$secs" "$rss" "$cpu" >>"$OUT/best.new"
		mv "$OUT/best.new" "$OUT/best"
	fi
	printf '#   %-44s %8ss %8s KiB  client CPU %5ss  server CPU %ss\n' \
	    "$name" "$secs" "$rss" "$ccpu" "$cpu"
}

field() {
	awk -F '\t' -v n="$1" -v f="$2" '$1 == n { print $f }' "$OUT/best"
}
seconds() { field "$1" 2; }
rss() { field "$1" 3; }
srvcpu() { field "$1" 4; }

# row WHAT OURS PEER TARGET: one line of the final table, comparing the
# kept figures of OURS and PEER.  TARGET is an awk condition on the
# speedup x (peer seconds / ours seconds), e.g. "x >= 4", or "-" when the
# peer is only shown for comparison.
row() {
	local what=$1 ours=$2 peer=$3 target=$4 os ps x res
	os=$(seconds "$ours")
	ps=$(seconds "$peer")
	[ -n "$os" ] && [ -n "$ps" ] || return 0
	x=$(awk "BEGIN { printf \"%.2f\", $ps / ($os > 0 ? $os : 0.01) }")
	if [ "$target" = - ]; then
		res=-
	elif awk -v x="$x" "BEGIN { exit !($target) }"; then
		res=met
	else
		res=MISSED
	fi
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$what" \
	    "$ours" "$os" "$(rss "$ours")" "$(srvcpu "$ours")" "$peer" "$ps" \
	    "$(rss "$peer")" "$(srvcpu "$peer")" "${x}x" "$target" "$res" \
	    >>"$OUT/table"
}

# print_table TITLE: the rows so far.
print_table() {
	echo
	echo "## $1"
	echo "## fastest of $RUNS run(s): wall seconds, peak RSS in KiB, CPU seconds the server used meanwhile"
	awk -F '\t' '
	BEGIN {
		fmt = "%-28s %-32s %7s %7s %6s | %-32s %7s %7s %6s | %8s  %-9s %s\n"
		printf fmt, "what", "ours", "sec", "RSS", "srvCPU", "peer", "sec", \
		    "RSS", "srvCPU", "speedup", "target", "result"
	}
	{ printf fmt, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12 }
	' "$OUT/table"
	note "load average $(cut -d' ' -f1-3 /proc/loadavg) at the end"
}

# wait_file FILE: until FILE is non-empty, at most 20 s.
wait_file() {
	local i
	for i in $(seq 1 200); do
		[ -s "$1" ] && return 0
		sleep 0.1
	done
	die "'$1' did not appear"
}

# stop_pid PID: kill a process we started, and reap it.
stop_pid() {
	[ -n "${1:-}" ] || return 0
	kill "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 0
}
