#!/bin/bash
# client.sh - listing at the client's limit (issue 13): arc-list against
# fakes3.py, an in-memory S3 that renders each ListObjectsV2 page once and
# then only sends it again, so that the server's cost is taken away:
#
#   1. no delay: N objects, arc-list -j 1 and -j 8; the figure is objects
#      listed per second of arc-list's own CPU (user + system, children
#      included), that is per client core, whatever the server and the
#      rest of the machine do meanwhile;
#   2. 50 ms added to every answer: N-DELAYED objects listed with -M (the
#      ranges that keep many listers busy) at -j 1, 8, 32 and 64; the
#      figure is the wall-time speedup over -j 1, beside the ideal one
#      (pages in flight are the limit, not the client, while the client's
#      CPU time stays below the wall time).
#
# usage: client.sh [-r runs] [n [n-delayed]]
#
# Defaults 1000000 and 200000; a quick run: client.sh 100000 50000.
# OLD=DIR (environment) also times DIR/arc-list, an older build, in the
# same runs, e.g. OLD=/tmp/speed-before/bin after
# `git worktree add /tmp/speed-before COMMIT && make -C /tmp/speed-before`.
# Every run's listing is compared with the records the server was given.
# Loopback only; the servers started here are stopped by PID.  Needs
# /usr/bin/time and python3.
PROG=client.sh
. "$(dirname "$0")/storecommon.sh"

usage() {
	echo "usage: $PROG [-r runs] [n [n-delayed]]" >&2
	exit 2
}

RUNS=3
parse_runs "$@"
set -- "${ARGS[@]}"
[ $# -le 2 ] || usage
count N "${1:-}" 1000000
count ND "${2:-}" 200000
DELAY=50
setup
make -s -C "$BENCH" >/dev/null || die "cannot build the generator"
if [ -n "${OLD:-}" ]; then
	[ -x "$OLD/arc-list" ] || die "'$OLD/arc-list' is not there"
	cp "$OLD/arc-list" "$OUT/bin/arc-list.old" || die "cannot copy '$OLD'"
fi

# Signed requests without any credential look-up beyond the environment:
# nothing may ask an instance metadata service from here.
export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench-secret
export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
export AWS_EC2_METADATA_DISABLED=true
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_CA_BUNDLE
export TMPDIR=$OUT

# records NAME COUNT: the storage records of COUNT objects (the sorted
# listing the server serves), and -M manifest records for the same paths
records() {
	"$BENCH/out/gen" records "$2" "$OUT/$1.m" "$OUT/$1.s" ||
	    die "cannot generate records"
	awk -F '\t' -v OFS='\t' '{ print $1, $2, $3, "-", "-" }' \
	    "$OUT/$1.s" >"$OUT/$1.rec"
	rm -f "$OUT/$1.m"
}

# server NAME RECORDS DELAY: start fakes3.py, which logs every request
# to $OUT/NAME.req; sets PID_NAME and EP_NAME
server() {
	local i
	"$PY" "$BENCH/fakes3.py" -f "$OUT/$1.port" -d "$3" -l "$OUT/$1.req" \
	    bench "$2" >"$OUT/$1.log" 2>&1 3>&- &
	at_exit "stop_pid $!"
	printf -v "PID_$1" '%s' "$!"
	# reading a million records takes it a while on a busy machine
	for i in $(seq 1 600); do
		[ -s "$OUT/$1.port" ] && break
		kill -0 "$!" 2>/dev/null || die "fakes3.py: $(cat "$OUT/$1.log")"
		sleep 0.2
	done
	[ -s "$OUT/$1.port" ] || die "fakes3.py did not start"
	printf -v "EP_$1" 'http://127.0.0.1:%s' "$(cat "$OUT/$1.port")"
}

# run NAME WANT COMMAND: time COMMAND (sh -c, output to $OUT/out); keep
# the fastest wall time and, apart, the least CPU of NAME
run() {
	local name=$1 want=$2 cmd=$3
	/usr/bin/time -f '%e %U %S %M %x' -o "$OUT/time" sh -c "$cmd" \
	    >"$OUT/out" 2>"$OUT/err" ||
	    die "'$name' failed: $(tail -n 3 "$OUT/err") $(cat "$OUT/time")"
	cmp -s "$OUT/out" "$want" || die "'$name' listed something else"
	set -- $(tail -n 1 "$OUT/time")
	printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$1" "$2" "$3" "$4" >>"$OUT/runs"
	printf '#   %-36s %7ss wall %6ss user %6ss sys %8s KiB\n' \
	    "$name" "$1" "$2" "$3" "$4"
}

# best NAME: "wall cpu rss", the least wall and the least user+sys
best() {
	awk -F '\t' -v n="$1" '$1 == n {
		c = $3 + $4
		if (w == "" || $2 < w) w = $2
		if (cpu == "" || c < cpu) cpu = c
		if ($5 > rss) rss = $5
	} END { printf "%s %.2f %s\n", w, cpu, rss }' "$OUT/runs"
}

# ---- 1. no delay ---------------------------------------------------------
note "generating $N objects"
records z "$N"
server z "$OUT/z.s" 0
note "fakes3.py (pid $PID_z), no delay: $EP_z"
TOOLS="arc-list"
[ -n "${OLD:-}" ] && TOOLS="arc-list arc-list.old"
for t in $TOOLS; do	# renders every page once, untimed
	AWS_ENDPOINT_URL=$EP_z $t -j 8 s3://bench >/dev/null ||
	    die "$t against fakes3.py failed"
done
for i in $(seq 1 "$RUNS"); do
	for t in $TOOLS; do
		for j in 1 8; do
			run "$t -j $j" "$OUT/z.s" \
			    "AWS_ENDPOINT_URL=$EP_z $t -j $j s3://bench"
		done
	done
done
stop_pid "$PID_z"

# ---- 2. 50 ms a page -----------------------------------------------------
note "generating $ND objects"
records d "$ND"
server d "$OUT/d.s" "$DELAY"
note "fakes3.py (pid $PID_d), $DELAY ms an answer: $EP_d"
: >"$OUT/d.req"
LINES=$(AWS_ENDPOINT_URL=$EP_d arc-list -j 64 -M "$OUT/d.rec" s3://bench |
    wc -l)	# renders the pages, untimed
[ "$LINES" -eq "$(wc -l <"$OUT/d.s")" ] || die "the warm-up listing is short"
REQS=$(wc -l <"$OUT/d.req")	# the pages one listing asks for
for i in $(seq 1 "$RUNS"); do
	for j in 1 8 32 64; do
		run "arc-list -j $j -M ($DELAY ms)" "$OUT/d.s" \
		    "AWS_ENDPOINT_URL=$EP_d arc-list -j $j -M '$OUT/d.rec' s3://bench"
	done
	[ -n "${OLD:-}" ] && run "arc-list.old -j 64 -M ($DELAY ms)" "$OUT/d.s" \
	    "AWS_ENDPOINT_URL=$EP_d arc-list.old -j 64 -M '$OUT/d.rec' s3://bench"
done

echo
echo "## 1. no delay: $N objects, fastest wall and least CPU of $RUNS runs"
printf '%-22s %8s %8s %9s %16s\n' tool wall_s cpu_s RSS_KiB objects/s/core
for t in $TOOLS; do
	for j in 1 8; do
		set -- $(best "$t -j $j")
		printf '%-22s %8s %8s %9s %16s\n' "$t -j $j" "$1" "$2" "$3" \
		    "$(awk "BEGIN { printf \"%.0f\", $N / ($2 > 0 ? $2 : 0.01) }")"
	done
done
echo
echo "## 2. $DELAY ms an answer: $ND objects, -M ranges ($REQS requests of up to 1000 keys)"
set -- $(best "arc-list -j 1 -M ($DELAY ms)")
W1=$1
printf '%-30s %8s %8s %9s %9s %s\n' tool wall_s cpu_s speedup ideal client-bound
for j in 1 8 32 64; do
	set -- $(best "arc-list -j $j -M ($DELAY ms)")
	# ideal: every round of j pages costs DELAY ms, nothing else
	awk -v w1="$W1" -v w="$1" -v c="$2" -v j="$j" -v r="$REQS" \
	    -v d="$DELAY" -v t="arc-list -j $j -M" 'BEGIN {
		ideal = (r * d / 1000) / (int((r + j - 1) / j) * d / 1000)
		printf "%-30s %8s %8s %8.2fx %8.2fx %s\n", t, w, c, w1 / w, \
		    ideal, (c >= 0.8 * w) ? "yes" : "no"
	}'
done
if [ -n "${OLD:-}" ]; then
	set -- $(best "arc-list.old -j 64 -M ($DELAY ms)")
	printf '%-30s %8s %8s %8.2fx\n' "arc-list.old -j 64 -M" "$1" "$2" \
	    "$(awk "BEGIN { print $W1 / $1 }")"
fi
note "client-bound: the client's CPU time is at least 80% of the wall time"
note "load average $(cut -d' ' -f1-3 /proc/loadavg) at the end"
