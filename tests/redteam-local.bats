#!/usr/bin/env bats
# redteam-local.bats - the local store, the file manifest and the driver's
# state directory under a hostile environment, planted files and a full
# disk: nothing the tools did not create is removed, written or waited on.

load test_helper
bats_require_minimum_version 1.5.0

# a store of twelve registered files and one old orphan, and its manifest
setup_store() {
	local i
	mkdir -p store
	: >manifest.ndjson
	for i in 01 02 03 04 05 06 07 08 09 10 11 12; do
		mkfile "store/db/m/2026/04/11/14/f$i.parquet" '3 days ago'
		entry "db/m/2026/04/11/14/f$i.parquet" node-1 "${i#0}" >>manifest.ndjson
	done
	mkfile store/db/m/2026/04/11/14/orphan.parquet '3 days ago'
}

@test "an ARC_RECONCILE_LEASE_FILE in the environment without --lock removes nothing" {
	setup_store
	mkdir -p keep
	echo precious >keep/data.txt
	ARC_RECONCILE_LEASE_FILE="$PWD/keep/lost" run timeout 60 \
	    arc-reconcile --state-dir state store manifest.ndjson
	assert_equal "$status" 1
	[ -f keep/data.txt ]
	assert_equal "$(cat keep/data.txt)" precious
}

@test "an ARC_RECONCILE_LEASE_FILE in the environment never disables --lock" {
	setup_store
	mkdir -p keep
	# etcd on a port nobody listens on: the lock must be tried, and fail
	ARC_RECONCILE_LEASE_FILE="$PWD/keep/lost" ARC_HTTP_ATTEMPTS=1 \
	    ARC_HTTP_TIMEOUT=2 run timeout 60 arc-reconcile --lock \
	    etcd://127.0.0.1:9/arc/lock --state-dir state store manifest.ndjson
	[ "$status" -ne 0 ] && [ "$status" -ne 1 ]
	[ ! -d state/runs ] || [ -z "$(ls state/runs)" ]
	[ -d keep ]
}

@test "a symbolic link at the state directory's audit.log is refused and its target is left as it was" {
	setup_store
	mkdir -p state other
	echo precious >other/file
	ln -s ../other/file state/audit.log
	run timeout 60 arc-reconcile --state-dir state store manifest.ndjson
	assert_equal "$status" 2
	assert_equal "$(cat other/file)" precious
}

@test "a symbolic link as the state directory's runs is refused: nothing it points to is chmod'ed or pruned" {
	setup_store
	mkdir -p state other
	chmod 755 other
	for i in 1 2 3 4 5 6 7 8 9 10 11 12; do
		echo '{}' >"other/r$i.json"
		touch -d "$i days ago" "other/r$i.json"
	done
	ln -s ../other state/runs
	run timeout 60 arc-reconcile --state-dir state store manifest.ndjson
	assert_equal "$status" 2
	assert_equal "$(ls other | wc -l)" 12
	assert_equal "$(stat -c %a other)" 755
}

@test "pruning the run history removes run records only, never another .json in runs" {
	setup_store
	mkdir -p state/runs
	echo '{}' >state/runs/notes.json
	touch -d '30 days ago' state/runs/notes.json
	run timeout 60 arc-reconcile --history 1 --state-dir state store manifest.ndjson
	assert_equal "$status" 1
	[ -f state/runs/notes.json ]
	run timeout 60 arc-reconcile --history 1 --state-dir state store manifest.ndjson
	assert_equal "$status" 1
	[ -f state/runs/notes.json ]
	assert_equal "$(ls state/runs | wc -l)" 2
}

@test "a FIFO at the state directory's lock is refused, never waited on" {
	setup_store
	mkdir -p state
	mkfifo state/lock
	run timeout 20 arc-reconcile --state-dir state store manifest.ndjson
	assert_equal "$status" 2
	run timeout 20 arc-reconcile status --json --state-dir state
	[ "$status" -ne 124 ]
}

@test "a symbolic link at the state directory's lock is refused and nothing is created where it points" {
	setup_store
	mkdir -p state other
	ln -s ../other/newfile state/lock
	run timeout 60 arc-reconcile --state-dir state store manifest.ndjson
	assert_equal "$status" 2
	[ ! -e other/newfile ]
}

@test "a link planted at the metrics file's temporary name is never written through" {
	setup_store
	mkdir -p state m
	echo precious >target
	# the old temporary name was METRICS.tmp.PID, the driver's PID
	run timeout 60 sh -c 'ln -s "$1/target" "$1/m/metrics.prom.tmp.$$";
	    exec arc-reconcile --metrics "$1/m/metrics.prom" --state-dir "$1/state" \
	    "$1/store" "$1/manifest.ndjson"' sh "$PWD"
	assert_equal "$status" 1
	assert_equal "$(cat target)" precious
	[ -f m/metrics.prom ] && [ ! -L m/metrics.prom ]
	grep -q '^arc_reconcile_last_run_storage_file_count 13$' m/metrics.prom
}

@test "on a full disk the run record is whole or absent, never an empty file" {
	[ "$(id -u)" -eq 0 ] || skip "needs root to mount a small tmpfs"
	setup_store
	fs=$(mktemp -d /tmp/rt-local-fs.XXXXXX)
	mount -t tmpfs -o size=64k tmpfs "$fs" || skip "cannot mount a tmpfs"
	mkdir "$fs/state"
	timeout 60 arc-reconcile --state-dir "$fs/state" store manifest.ndjson || true
	head -c 100000 /dev/zero >"$fs/fill" 2>/dev/null || true
	run timeout 60 arc-reconcile --state-dir "$fs/state" store manifest.ndjson
	bad=
	for f in "$fs/state/runs/"*; do
		python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$f" ||
		    bad="$bad $f"
	done
	umount "$fs"
	rmdir "$fs"
	assert_equal "$status" 2
	assert_equal "$bad" ""
}

# bindmount DIR MOUNTPOINT: bind-mount DIR there (root only), undone by
# teardown even when the test fails first.
MOUNTS=
bindmount() {
	mount --bind "$1" "$2" || skip "cannot bind-mount"
	MOUNTS="$2 $MOUNTS"
}

teardown() {
	local m
	for m in $MOUNTS; do
		umount "$m" || true
	done
}

# outside: a directory outside the store holding an old file whose path,
# seen from inside the store at db/n/mnt, is a managed candidate
setup_outside() {
	mkdir -p outside store/db/n/mnt
	mkfile outside/y/2026/04/11/14/important.parquet '3 days ago'
}

@test "a bind mount inside the local store is not crossed: nothing outside the store is deleted" {
	[ "$(id -u)" -eq 0 ] || skip "needs root to bind-mount"
	setup_store
	setup_outside
	bindmount outside store/db/n/mnt
	run --separate-stderr timeout 60 arc-reconcile --act \
	    --max-orphan-ratio 1 --state-dir state store manifest.ndjson
	[ -f outside/y/2026/04/11/14/important.parquet ]
	assert_stderr --partial "'db/n/mnt/': a mount point inside the store; not crossed"
	refute_output --partial important
	# the store's own orphan, outside the mount, is still repaired
	[ ! -e store/db/m/2026/04/11/14/orphan.parquet ]
}

@test "a local store with a plain directory where the mount was reconciles normally: its orphans there are deleted" {
	setup_store
	setup_outside
	mkfile store/db/n/mnt/y/2026/04/11/14/important.parquet '3 days ago'
	run timeout 60 arc-reconcile --act --max-orphan-ratio 1 \
	    --state-dir state store manifest.ndjson
	assert_equal "$status" 0
	[ ! -e store/db/n/mnt/y/2026/04/11/14/important.parquet ]
	[ ! -e store/db/m/2026/04/11/14/orphan.parquet ]
	[ -f outside/y/2026/04/11/14/important.parquet ]
}

@test "arc-list skips a mount point inside the local store with a warning naming it and exits 1, also for a prefix beneath it" {
	[ "$(id -u)" -eq 0 ] || skip "needs root to bind-mount"
	setup_store
	setup_outside
	run --separate-stderr arc-list store
	assert_equal "$status" 0
	assert_equal "$(printf '%s\n' "$output" | grep -c important)" 0
	assert_equal "$(printf '%s\n' "$output" | wc -l)" 13
	bindmount outside store/db/n/mnt
	run --separate-stderr arc-list store
	assert_equal "$status" 1
	assert_stderr "arc-list: 'db/n/mnt/': a mount point inside the store; not crossed"
	assert_equal "$(printf '%s\n' "$output" | wc -l)" 13
	refute_output --partial important
	run --separate-stderr arc-list -p db/n/mnt/y store
	assert_equal "$status" 1
	assert_output ''
	assert_stderr --partial "'db/n/mnt/y/': on or beneath a mount point inside the store; not crossed"
	run --separate-stderr arc-list -p db/m store
	assert_equal "$status" 0
	assert_equal "$(printf '%s\n' "$output" | wc -l)" 13
}

@test "arc-recheck and arc-delete refuse a candidate beneath a mount point inside the local store: error and failed, nothing outside removed" {
	[ "$(id -u)" -eq 0 ] || skip "needs root to bind-mount"
	local t
	setup_store
	setup_outside
	t=$(date -u -d "@$(stat -c %Y store/db/m/2026/04/11/14/orphan.parquet)" +%Y-%m-%dT%H:%M:%SZ)
	{
		printf 'orphan-storage\t%s\t%s\t-\n' \
		    db/m/2026/04/11/14/orphan.parquet "$t"
		printf 'orphan-storage\t%s\t%s\t-\n' \
		    db/n/mnt/y/2026/04/11/14/important.parquet "$t"
	} >c.rec
	bindmount outside store/db/n/mnt
	run --separate-stderr arc-recheck -R rej store manifest.ndjson <c.rec
	assert_equal "$status" 1
	# the positive control: the store's own orphan is confirmed
	assert_output "$(head -n 1 c.rec)"
	assert_equal "$(cut -f1-3 rej)" "$(printf 'error\torphan-storage\tdb/n/mnt/y/2026/04/11/14/important.parquet')"
	assert_stderr --partial "mount point inside the store"
	run --separate-stderr arc-delete --act -A arch store manifest.ndjson <c.rec
	assert_equal "$status" 1
	assert_output "$(printf 'deleted\torphan-storage\tdb/m/2026/04/11/14/orphan.parquet\tDELETED\nfailed\torphan-storage\tdb/n/mnt/y/2026/04/11/14/important.parquet\tDELETE_FAILED')"
	assert_stderr --partial "mount point inside the store"
	[ -f outside/y/2026/04/11/14/important.parquet ]
	[ ! -e store/db/m/2026/04/11/14/orphan.parquet ]
}

@test "a file bind-mounted onto a local store path is neither listed nor removed" {
	[ "$(id -u)" -eq 0 ] || skip "needs root to bind-mount"
	setup_store
	mkfile outside/keep.parquet '3 days ago'
	mkfile store/db/m/2026/04/11/14/over.parquet '3 days ago'
	run --separate-stderr arc-list store
	assert_equal "$status" 0
	assert_output --partial over.parquet
	bindmount outside/keep.parquet store/db/m/2026/04/11/14/over.parquet
	run --separate-stderr arc-list store
	assert_equal "$status" 1
	refute_output --partial over.parquet
	assert_stderr "arc-list: 'db/m/2026/04/11/14/over.parquet': a mount point inside the store; not crossed"
	printf 'orphan-storage\tdb/m/2026/04/11/14/over.parquet\t%s\t-\n' \
	    "$(date -u -d '3 days ago' +%Y-%m-%dT%H:%M:%SZ)" >c.rec
	run --separate-stderr arc-delete --act -A arch store manifest.ndjson <c.rec
	assert_equal "$status" 1
	assert_output "$(printf 'failed\torphan-storage\tdb/m/2026/04/11/14/over.parquet\tDELETE_FAILED')"
	[ -f outside/keep.parquet ]
}

@test "arc-delete --restore on a full disk appends whole entries or none: the manifest stays readable" {
	[ "$(id -u)" -eq 0 ] || skip "needs root to mount a small tmpfs"
	local i pad
	pad=$(head -c 1500 /dev/zero | tr '\0' a)
	mkdir -p store
	: >m.ndjson
	for i in $(seq 1 40); do
		printf '{"path":"db/m/2026/04/11/14/f%s.parquet","size_bytes":2,"created_at":"2026-04-11T14:00:00Z","lsn":%s,"pad":"%s"}\n' \
		    "$i" "$i" "$pad" >>m.ndjson
		[ "$i" -le 4 ] || mkfile "store/db/m/2026/04/11/14/f$i.parquet" '3 days ago'
	done
	run timeout 60 arc-reconcile --act --max-orphan-ratio 1 --state-dir state \
	    store m.ndjson
	assert_equal "$status" 0
	archive=$(ls state/archives/*)
	fs=$(mktemp -d /tmp/rt-local-fs.XXXXXX)
	mount -t tmpfs -o size=64k tmpfs "$fs" || skip "cannot mount a tmpfs"
	cp m.ndjson "$fs/m.ndjson"
	head -c 100000 /dev/zero >"$fs/fill" 2>/dev/null || true
	run timeout 60 arc-delete --restore "$archive" store "$fs/m.ndjson"
	rstatus=$status
	dump=0
	timeout 60 arc-manifest-dump "$fs/m.ndjson" >m.rec || dump=$?
	cmp -s m.ndjson "$fs/m.ndjson" && same=1 || same=0
	umount "$fs"
	rmdir "$fs"
	assert_equal "$rstatus" 2
	assert_equal "$dump" 0
	assert_equal "$same" 1
}

@test "status lists the runs of a state directory whose name holds a space, and --json stays valid JSON" {
	setup_store
	run timeout 60 arc-reconcile --state-dir "sp ace/st" store manifest.ndjson
	assert_equal "$status" 1
	run timeout 60 arc-reconcile status --state-dir "sp ace/st"
	assert_equal "$status" 0
	assert_equal "$(printf '%s\n' "$output" | grep -c 'dry-run')" 1
	run timeout 60 arc-reconcile status --json --state-dir "sp ace/st"
	assert_equal "$status" 0
	printf '%s\n' "$output" | python3 -c 'import json,sys
d = json.load(sys.stdin); assert len(d["recent_runs"]) == 1'
}
