#!/usr/bin/env bats
# state-writes.bats - the tools' own files are whole or absent, and never
# another's: a full disk (a small tmpfs, as root) or a read-only directory
# at the archive, the audit log, a stats file or the reject file is one
# message naming the file, exit 2, no partial file and nothing deleted;
# and a symbolic link planted at an output's name is never followed.
load test_helper
load servers
bats_require_minimum_version 1.5.0

D=db/m/2026/04/11/12	# a managed directory: its files have 7 segments

# plant: two orphan files (b, d), two orphan entries (a, c), one of each
# that agree (keep), and c.rec with the four candidates.
plant() {
	local p
	for p in b d keep; do
		mkfile "s/$D/$p.parquet" '2026-04-01 00:00:00'
	done
	{ jentry "$D/a.parquet"; jentry "$D/c.parquet"; jentry "$D/keep.parquet"; } >m.ndjson
	{
		printf 'orphan-manifest\t%s\t2026-04-11T14:00:00Z\t10\tnode-1\t1\n' "$D/a.parquet"
		printf 'orphan-storage\t%s\t2026-04-01T00:00:00Z\t-\n' "$D/b.parquet"
		printf 'orphan-manifest\t%s\t2026-04-11T14:00:00Z\t10\tnode-1\t1\n' "$D/c.parquet"
		printf 'orphan-storage\t%s\t2026-04-01T00:00:00Z\t-\n' "$D/d.parquet"
	} >c.rec
	cp m.ndjson m.orig
}

# unchanged: every file of the store still there, the manifest as it was.
unchanged() {
	[ -e "s/$D/b.parquet" ] && [ -e "s/$D/d.parquet" ] &&
	    [ -e "s/$D/keep.parquet" ] && cmp m.ndjson m.orig
}

# full: a 48 KiB tmpfs at DIR, filled up (skips unless root can mount).
full() {
	[ "$(id -u)" -eq 0 ] || skip "not root: cannot mount a small tmpfs"
	mkdir -p "$1"
	mount -t tmpfs -o size=48k tmpfs "$1" 2>/dev/null ||
	    skip "mount -t tmpfs failed here (no CAP_SYS_ADMIN?)"
	MOUNTED="${MOUNTED:-} $PWD/$1"
	dd if=/dev/zero of="$1/filler" bs=4k 2>/dev/null || true
}

setup() {
	mkdir s
	plant
}

teardown() {
	local m
	[ -z "${ARCAPI_PORT:-}" ] || stop_arcapi
	for m in ${MOUNTED:-}; do
		umount "$m" 2>/dev/null || true
	done
	remove_world
}

# ---- a full disk -----------------------------------------------------------

@test "a full disk under the archive: exit 2 naming it, no archive left, nothing deleted" {
	full fs
	run -2 --separate-stderr arc-delete --act -A fs/a.tgz s m.ndjson <c.rec
	assert_stderr --partial "'fs/a.tgz'"
	assert_output ''
	[ -z "$(ls fs | grep -v '^filler$')" ]
	unchanged
	# control: the same run with room
	run -0 arc-delete --act -A a.tgz s m.ndjson <c.rec
	[ ! -e "s/$D/b.parquet" ]
}

@test "a full disk under the audit log: exit 2 naming it, no partial line, nothing deleted" {
	full fs
	run -2 --separate-stderr arc-delete --act -A a.tgz -a fs/audit s m.ndjson <c.rec
	assert_stderr --partial "'fs/audit'"
	unchanged
	[ ! -s fs/audit ]
	# control: with room the batches are deleted and audited
	rm fs/filler
	run -0 arc-delete --act -A b.tgz -a fs/audit s m.ndjson <c.rec
	[ ! -e "s/$D/b.parquet" ]
	[ "$(jq -r .event fs/audit | sort -u | wc -l)" -eq 2 ]
}

@test "a full disk under a stats file: exit 2 naming it, no empty or partial stats file" {
	full fs
	arc-manifest-dump m.ndjson >m.rec
	arc-list s >s.rec
	run -2 --separate-stderr sh -c 'arc-diff -S fs/st.json m.rec s.rec >/dev/null'
	assert_stderr --partial "'fs/st.json'"
	[ ! -e fs/st.json ] && [ -z "$(ls fs | grep -v '^filler$')" ]
	run -2 --separate-stderr sh -c 'arc-recheck -S fs/st.json s m.ndjson <c.rec >/dev/null'
	assert_stderr --partial "'fs/st.json'"
	[ ! -e fs/st.json ]
	# arc-delete: the stats come after the deletes; still no partial file
	run -2 --separate-stderr arc-delete -A a.tgz -S fs/st.json s m.ndjson <c.rec
	assert_stderr --partial "'fs/st.json'"
	[ ! -e fs/st.json ] && [ -z "$(ls fs | grep -v '^filler$')" ]
	# control
	rm fs/filler
	run -1 sh -c 'arc-diff -S fs/st.json m.rec s.rec >/dev/null'
	jq -e .orphan_storage_count fs/st.json
}

@test "a full disk under the reject file: exit 2 naming it, no partial reject file" {
	full fs
	# many rejections: the files are present, so every orphan-manifest is
	local i
	for i in $(seq -w 1 400); do
		mkfile "s/$D/r$i.parquet"
		printf 'orphan-manifest\t%s\t2026-04-11T14:00:00Z\t10\tnode-1\t1\n' "$D/r$i.parquet"
	done >many.rec
	run -2 --separate-stderr sh -c 'arc-recheck -R fs/rej s m.ndjson <many.rec >/dev/null'
	assert_stderr --partial "'fs/rej'"
	[ ! -e fs/rej ] && [ -z "$(ls fs | grep -v '^filler$')" ]
	rm fs/filler
	run -1 sh -c 'arc-recheck -R fs/rej s m.ndjson <many.rec >/dev/null'
	[ "$(wc -l <fs/rej)" -eq 400 ]
}

# ---- a read-only directory ---------------------------------------------

# world: a world-writable copy of the test directory for `unpriv`, with
# a read-only directory ro in it.
world() {
	need_unpriv
	WORLD=$(mktemp -d /tmp/state-writes-bats.XXXXXX)
	cp -a s m.ndjson m.orig c.rec "$WORLD/"
	mkdir "$WORLD/ro"
	chmod -R a+rwX "$WORLD"
	chmod 555 "$WORLD/ro"
	# the manifest belongs to the user who rewrites it (arc(7): a rewrite
	# keeps the owner, and only root can give a file to another user)
	chown nobody:nogroup "$WORLD/m.ndjson"
}

@test "a read-only directory for the archive, audit log, stats or reject file: exit 2 naming it, nothing deleted" {
	world
	local o
	for o in "-A ro/a.tgz" "-A a.tgz -a ro/audit" "-A a.tgz -S ro/st.json"; do
		run -2 --separate-stderr unpriv sh -c \
		    'cd "$1" && shift && arc-delete --act "$@" s m.ndjson <c.rec' sh "$WORLD" $o
		assert_stderr --partial "'ro/"
		(cd "$WORLD" && unchanged) || { echo "changed by $o"; false; }
		rm -f "$WORLD/a.tgz"
	done
	run -2 --separate-stderr unpriv sh -c \
	    'cd "$1" && arc-recheck -R ro/rej -S st.json s m.ndjson <c.rec' sh "$WORLD"
	assert_stderr --partial "'ro/rej'"
	[ -z "$(ls "$WORLD/ro")" ]
	# control: a writable directory works
	run -0 unpriv sh -c 'cd "$1" && arc-delete --act -A a.tgz -a audit -S st.json s m.ndjson <c.rec' sh "$WORLD"
	[ ! -e "$WORLD/s/$D/b.parquet" ]
}

# ---- planted links and files ------------------------------------------------

@test "a symbolic link planted at -S, -R, -A or -a is never followed: the decoy is unchanged" {
	printf 'decoy\n' >decoy
	cp decoy decoy.orig
	ln -s decoy st.json
	ln -s decoy rej
	ln -s decoy a.tgz
	ln -s decoy audit
	arc-manifest-dump m.ndjson >m.rec
	arc-list s >s.rec
	run -2 --separate-stderr sh -c 'arc-diff -S st.json m.rec s.rec >/dev/null'
	assert_stderr --partial "'st.json'"
	run -2 --separate-stderr sh -c 'arc-recheck -S st.json s m.ndjson <c.rec >/dev/null'
	run -2 --separate-stderr sh -c 'arc-recheck -R rej s m.ndjson <c.rec >/dev/null'
	assert_stderr --partial "'rej'"
	run -2 --separate-stderr arc-delete --act -A a.tgz s m.ndjson <c.rec
	assert_stderr --partial "'a.tgz'"
	unchanged
	run -2 --separate-stderr arc-delete --act -A x.tgz -a audit s m.ndjson <c.rec
	assert_stderr --partial "'audit'"
	unchanged
	run -2 --separate-stderr arc-delete -A y.tgz -S st.json s m.ndjson <c.rec
	assert_stderr --partial "'st.json'"
	cmp decoy decoy.orig
	[ -L st.json ] && [ -L rej ] && [ -L a.tgz ] && [ -L audit ]
	# control: the same runs with plain names work
	run -1 sh -c 'arc-diff -S st2.json m.rec s.rec >/dev/null'
	jq -e . st2.json
	run -0 arc-delete --act -A z.tgz -a audit2 -S st3.json s m.ndjson <c.rec
	jq -e .storage_deletes st3.json
}

@test "an archive or deferred list already at the name is refused and kept; a stats file is replaced whole" {
	printf 'not mine\n' >a.tgz
	run -2 --separate-stderr arc-delete --act -A a.tgz s m.ndjson <c.rec
	assert_stderr --partial "'a.tgz'"
	assert_equal "$(cat a.tgz)" 'not mine'
	unchanged
	# another run's archive is not this run's either
	run -0 arc-delete -A b.tgz -r run-1 s m.ndjson <c.rec
	cp b.tgz b.orig
	run -2 --separate-stderr arc-delete --act -A b.tgz -r run-2 s m.ndjson <c.rec
	cmp b.tgz b.orig
	unchanged
	# a stats file from before is replaced, not truncated in place
	printf 'old\n' >st.json
	ln st.json st.hardlink
	run -0 arc-delete -A c.tgz -S st.json s m.ndjson <c.rec
	jq -e .would_delete_storage st.json
	assert_equal "$(cat st.hardlink)" old
}

@test "a link or a file planted at --deferred is refused and kept: no manifest delete is written, no file deleted" {
	start_arcapi
	printf 'decoy\n' >decoy
	ln -s decoy def.ndjson
	printf 'earlier\n' >old.ndjson
	local a="arc+http://127.0.0.1:$ARCAPI_PORT"
	grep '^orphan-manifest' c.rec >om.rec
	run -4 --separate-stderr arc-delete --act -A a.tgz --deferred def.ndjson s "$a" <om.rec
	assert_stderr --partial "'def.ndjson'"
	assert_equal "$(cat decoy)" decoy
	[ -L def.ndjson ]
	run -4 --separate-stderr arc-delete --act -A b.tgz --deferred old.ndjson s "$a" <c.rec
	assert_stderr --partial "'old.ndjson'"
	assert_equal "$(cat old.ndjson)" earlier
	unchanged	# no storage delete after a failed manifest batch
	# control: a fresh name is made, one whole line a batch
	run -1 arc-delete --act -A c.tgz -b 1 --deferred new.ndjson s "$a" <om.rec
	[ "$(jq -c '.ops | length' new.ndjson | tr '\n' ' ')" = '1 1 ' ]
}
