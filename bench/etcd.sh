#!/bin/sh
# etcd.sh - arc-manifest-dump on an etcd manifest of N keys (default
# 1,000,000) against etcdctl get --prefix -w json piped into jq, on the
# same data in the same run (issue 6, "Speed").
#
# usage: etcd.sh [-r runs] [n]
#
# Starts a single etcd member of its own on 127.0.0.1 (free client and
# peer ports, its data directory in the scratch directory under
# bench/out, --quota-backend-bytes 8 GiB so that a million keys fit),
# seeds N FileEntry values under /arc/files/ with arc-manifest-load
# (reporting its rate), then times, each once untimed and RUNS times
# alternating with the others, best run kept:
#
#   arc-manifest-dump etcd://127.0.0.1:PORT/arc/files/ >out
#   etcdctl get --prefix /arc/files/ -w json | jq -r ... >out
#	(base64 keys and values decoded in jq with @base64d; the same
#	records as arc-manifest-dump's, byte for byte: etcd answers a
#	range in key order, so they need no sort)
#   etcdctl get --prefix --keys-only /arc/files/ >out
#	(the keys alone: a floor for reading the prefix at all)
#
# Prints "what seconds peak_RSS_KiB keys/s" and the load average, which
# matters: the figures are wall times.  The member is stopped by its PID
# and its data directory removed on exit.  A quick run: etcd.sh 100000.
PROG=etcd.sh
DEFAULT_N=1000000
. "$(dirname "$0")/common.sh"
parse_args "$@"
[ "$N" -gt 0 ] || die "'$N': give at least one key"

for t in etcd etcdctl jq python3; do
	command -v $t >/dev/null 2>&1 || die "$t is missing"
done
command -v /usr/bin/time >/dev/null 2>&1 ||
    die "GNU time is missing: apt-get install -y time"
make -s -C "$ROOT" all >/dev/null || die "cannot build the tools"
mkdir -p "$BENCH/out" || exit 2
OUT=$(mktemp -d "$BENCH/out/$PROG.XXXXXX") || exit 2
ETCD_PID=

# stop the member we started (by its PID only), then remove everything
cleanup() {
	if [ -n "$ETCD_PID" ] && kill -0 "$ETCD_PID" 2>/dev/null; then
		kill -TERM "$ETCD_PID" 2>/dev/null
		i=0
		while kill -0 "$ETCD_PID" 2>/dev/null && [ $i -lt 100 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		kill -KILL "$ETCD_PID" 2>/dev/null
		wait "$ETCD_PID" 2>/dev/null
	fi
	rm -rf "$OUT"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
export TMPDIR="$OUT"	# sort(1)'s and arc-manifest-dump's temporary files

loadavg() {
	cut -d' ' -f1-3 /proc/loadavg
}
echo "# $(uname -srm), $(nproc) CPUs, $(etcd --version | head -n 1)," \
    "load average: $(loadavg)"

# Two ports nobody listens on now (the kernel's choice); etcd may still
# lose a race for one, so the start is tried a few times.
free_ports() {
	python3 -c '
import socket
s = [socket.socket() for _ in range(2)]
for x in s:
    x.bind(("127.0.0.1", 0))
print(*(x.getsockname()[1] for x in s))
'
}

start_etcd() {
	rm -rf "$OUT/etcd"
	set -- $(free_ports)
	CPORT=$1 PPORT=$2
	EP=http://127.0.0.1:$CPORT
	etcd --name bench --data-dir "$OUT/etcd" \
	    --listen-client-urls "$EP" --advertise-client-urls "$EP" \
	    --listen-peer-urls "http://127.0.0.1:$PPORT" \
	    --initial-advertise-peer-urls "http://127.0.0.1:$PPORT" \
	    --initial-cluster "bench=http://127.0.0.1:$PPORT" \
	    --initial-cluster-state new \
	    --quota-backend-bytes $((8 * 1024 * 1024 * 1024)) \
	    --logger zap --log-level warn >"$OUT/etcd.log" 2>&1 &
	ETCD_PID=$!
	i=0
	while [ $i -lt 100 ]; do
		kill -0 "$ETCD_PID" 2>/dev/null || break
		if etcdctl --endpoints="$EP" --command-timeout=2s \
		    endpoint health >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.2
		i=$((i + 1))
	done
	kill -TERM "$ETCD_PID" 2>/dev/null
	wait "$ETCD_PID" 2>/dev/null
	ETCD_PID=
	return 1
}

export ETCDCTL_API=3
tries=0
until start_etcd; do
	tries=$((tries + 1))
	[ $tries -lt 3 ] || die "etcd does not start: $(tail -n 5 "$OUT/etcd.log")"
done
PREFIX=/arc/files/
URL=etcd://127.0.0.1:$CPORT$PREFIX
ETCDCTL="etcdctl --endpoints=$EP --command-timeout=1h"
echo "# etcd pid $ETCD_PID on $EP (peer port $PPORT), data in $OUT/etcd"

# N NDJSON FileEntry lines in Arc's layout,
# metrics/MEAS/YYYY/MM/DD/HH/MEAS_YYYYMMDD_HHMMSS_NNNNNNNNN.parquet:
# four measurements, a file every 10 s each from 2026-01-01, created_at
# in Go's RFC3339Nano (its fraction never ends in 0, so that is the
# name's nanoseconds as they are).  The date is formatted once an hour.
gen_ndjson() {
	awk -v n="$1" '
	BEGIN {
		split("cpu disk mem net", meas, " ")
		base = 1767225600	# 2026-01-01T00:00:00Z
		for (i = 0; i < n; i++) {
			m = i % 4
			j = (i - m) / 4
			t = base + j * 10
			h = int(t / 3600)
			if (!(h in day)) {
				s = strftime("%Y %m %d %H", h * 3600, 1)
				split(s, d, " ")
				day[h] = d[1] d[2] d[3]
				dir[h] = d[1] "/" d[2] "/" d[3] "/" d[4] "/"
				hh[h] = d[4]
				pt[h] = d[1] "-" d[2] "-" d[3] "T" d[4] ":00:00Z"
			}
			r = t - h * 3600
			mi = sprintf("%02d", int(r / 60))
			se = sprintf("%02d", r % 60)
			ns = sprintf("%09d", (j * 7919 + m * 104729) % \
			    99999999 * 10 + 1 + m)
			me = meas[m + 1]
			p = "metrics/" me "/" dir[h] me "_" day[h] "_" hh[h] \
			    mi se "_" ns ".parquet"
			k = i * 2654435761
			sha = sprintf("%08x%08x%08x%08x%08x%08x%08x%08x",
			    k % 4294967291, (k + 1) % 4294967279,
			    (k + 2) % 4294967231, (k + 3) % 4294967197,
			    (k + 4) % 4294967189, (k + 5) % 4294967161,
			    (k + 6) % 4294967143, (k + 7) % 4294967111)
			printf "{\"path\":\"%s\",\"sha256\":\"%s\"," \
			    "\"size_bytes\":%d,\"database\":\"metrics\"," \
			    "\"measurement\":\"%s\",\"partition_time\":\"%s\"," \
			    "\"origin_node_id\":\"node-%d\",\"tier\":\"hot\"," \
			    "\"created_at\":\"%s-%s-%sT%s:%s:%s.%sZ\"," \
			    "\"lsn\":%d}\n",
			    p, sha, 1048576 + (i * 7907) % 8388608, me, pt[h],
			    j % 3 + 1, substr(day[h], 1, 4),
			    substr(day[h], 5, 2), substr(day[h], 7, 2), hh[h],
			    mi, se, ns, i + 1
		}
	}'
}

# time1 FILE COMMAND: run COMMAND once under GNU time; "seconds rss"
# into FILE
time1() {
	f=$1
	shift
	/usr/bin/time -f '%e %M' -o "$f" sh -c "$*" ||
	    die "'$*' failed: $(cat "$f")"
	tail -n 1 "$f"
}

echo "# generating $N NDJSON FileEntry lines"
gstart=$(date +%s.%N)
gen_ndjson "$N" >"$OUT/m.ndjson" || die "cannot generate the manifest"
gend=$(date +%s.%N)
[ "$(wc -l <"$OUT/m.ndjson")" -eq "$N" ] || die "the generator lost lines"
echo "# $N entries, $(($(wc -c <"$OUT/m.ndjson") / 1048576)) MiB," \
    "generated in $(awk "BEGIN { printf \"%.1f\", $gend - $gstart }") s"

echo "# loading them with arc-manifest-load (transactions of 128 puts)"
set -- $(time1 "$OUT/t.load" \
    "arc-manifest-load '$OUT/m.ndjson' '$URL' 2>'$OUT/load.err'")
LOAD_S=$1 LOAD_RSS=$2
cat "$OUT/load.err"
got=$($ETCDCTL get --prefix --limit=1 -w json "$PREFIX" | jq .count)
[ "$got" = "$N" ] || die "etcd holds $got keys under $PREFIX, not $N"
rm -f "$OUT/m.ndjson"

OURS="arc-manifest-dump '$URL' >'$OUT/ours'"
# etcdctl's JSON has numbers for numbers and base64 for bytes; the
# record is arc(7)'s: path created_at (to the second, UTC) size origin
# mod_revision, the path taken from the key (arc-manifest-dump checks
# that it is the value's)
JQ='.kvs[] | (.value | @base64d | fromjson) as $v |
    [(.key | @base64d | ltrimstr($p)), ($v.created_at[0:19] + "Z"),
    $v.size_bytes, $v.origin_node_id, .mod_revision] | @tsv'
PEER="$ETCDCTL get --prefix '$PREFIX' -w json |
    jq -r --arg p '$PREFIX' '$JQ' >'$OUT/peer'"
FLOOR="$ETCDCTL get --prefix --keys-only '$PREFIX' >'$OUT/keys'"
T_OURS=arc-manifest-dump
T_PEER="etcdctl -w json | jq"
T_FLOOR="etcdctl --keys-only"

echo "# timing: each once untimed, then best of $RUNS alternating;" \
    "load average: $(loadavg)"
warm "$OURS" "$PEER" "$FLOOR"
i=0
while [ $i -lt "$RUNS" ]; do
	measure "$T_OURS" "$OURS"
	measure "$T_PEER" "$PEER"
	measure "$T_FLOOR" "$FLOOR"
	i=$((i + 1))
done

[ "$(wc -l <"$OUT/ours")" -eq "$N" ] || die "arc-manifest-dump lost keys"
cmp -s "$OUT/ours" "$OUT/peer" ||
    die "arc-manifest-dump and etcdctl | jq differ: $(diff "$OUT/ours" \
    "$OUT/peer" | head -n 4)"
[ "$(grep -c . "$OUT/keys")" -eq "$N" ] || die "etcdctl --keys-only lost keys"
echo "# arc-manifest-dump's records and etcdctl | jq's are the same," \
    "byte for byte ($N lines)"

rate() {
	awk "BEGIN { printf \"%.0f\", $N / ($1 > 0 ? $1 : 0.01) }"
}
echo "# $N keys under $PREFIX; seconds: best of $RUNS runs" \
    "(arc-manifest-load: its one run); peak RSS of the largest process"
printf '%-24s %9s %13s %9s\n' what seconds peak_RSS_KiB keys/s
printf '%-24s %9s %13s %9s\n' arc-manifest-load "$LOAD_S" "$LOAD_RSS" \
    "$(rate "$LOAD_S")"
for t in "$T_OURS" "$T_PEER" "$T_FLOOR"; do
	printf '%-24s %9s %13s %9s\n' "$t" "$(seconds "$t")" "$(rss "$t")" \
	    "$(rate "$(seconds "$t")")"
done
x=$(ratio "$(seconds "$T_PEER")" "$(seconds "$T_OURS")")
echo "# arc-manifest-dump vs etcdctl -w json | jq: ${x}x" \
    "(peer time / ours); load average now: $(loadavg)"
