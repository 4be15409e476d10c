#!/bin/sh
# demo.sh - build a small store and manifest with planted drift under a
# temporary directory and run arc-reconcile on it: a dry-run, an act run,
# then the run history.  Run by `make demo`.
set -u
export LC_ALL=C TZ=UTC
top=$(CDPATH= cd -- "$(dirname -- "$0")/.." && pwd)
PATH="$top/bin:$PATH"
d=$(mktemp -d "${TMPDIR:-/tmp}/arc-demo.XXXXXX") || exit 2
store=$d/store
manifest=$d/manifest.ndjson
state=$d/state

# put PATH AGE: a file in the store, AGE as for touch -d
put() {
	mkdir -p "$store/$(dirname "$1")"
	printf 'parquet bytes of %s\n' "$1" >"$store/$1"
	touch -d "$2" "$store/$1"
}
# register PATH: a manifest entry
register() {
	db=${1%%/*}
	rest=${1#*/}
	printf '{"path":"%s","size_bytes":32,"database":"%s","measurement":"%s","origin_node_id":"node-1","created_at":"2026-11-01T00:00:00Z","lsn":%d}\n' \
	    "$1" "$db" "${rest%%/*}" "$(wc -l <"$manifest" 2>/dev/null || echo 0)" >>"$manifest"
}

: >"$manifest"
for h in 10 11 12 13 14 15 16 17 18 19 20 21; do
	for n in 1 2 3 4 5 6 7 8 9; do
		p=metrics/cpu/2026/11/01/$h/cpu_20261101_${h}0000_00000000$n.parquet
		put "$p" "3 days ago"
		register "$p"
	done
done
# planted drift
register metrics/cpu/2026/11/01/09/cpu_20261101_090000_000000001.parquet   # file lost
put metrics/mem/2026/11/01/10/mem_20261101_100000_000000001.parquet "3 days ago"  # never registered
put metrics/mem/2026/11/01/10/mem_20261101_100000_000000002.parquet "10 minutes ago" # young: protected
put metrics/cpu/2026/11/01/cpu_20261101_daily.parquet "3 days ago"          # 6 segments: refused
put metrics/cpu/2026/11/01/10/.arc-0001.tmp "3 days ago"                    # hidden: ignored
put _compaction_state/hot/metrics/job_1.json "3 days ago"                  # not data: ignored

echo "== store: $store"
echo "== manifest: $manifest ($(wc -l <"$manifest") entries)"
echo
echo "== arc-reconcile (dry-run)"
arc-reconcile --state-dir "$state" "$store" "$manifest"
echo "exit status $?"
echo
echo "== arc-reconcile --act"
arc-reconcile --act --archive-files --state-dir "$state" "$store" "$manifest"
echo "exit status $?"
echo
echo "== arc-reconcile status"
arc-reconcile status --state-dir "$state"
echo
echo "== the archive of the act run"
tar tzf "$(ls -t "$state"/archives/*.tar.gz | head -n 1)"
echo
echo "everything is under $d (remove it with: rm -rf '$d')"
