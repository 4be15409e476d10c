#!/usr/bin/env bats
# arc-list STORE: one storage record (path TAB mtime TAB size) per
# candidate file, sorted in byte order of the quoted path.
load test_helper
bats_require_minimum_version 1.5.0


# A store outside the per-test temp dir (that one lies under a 0700
# directory), so that an unprivileged user can reach it; removed by
# teardown.  Sets WORLD and STORE.
world_store() {
	WORLD=$(mktemp -d /tmp/arc-list-bats.XXXXXX)
	chmod 755 "$WORLD"
	STORE=$WORLD/store
	mkdir "$STORE"
}

teardown() {
	remove_world
}

# paths: the path field of every line of $output.
paths() {
	printf '%s\n' "$output" | cut -f1
}

# --- usage and operands --------------------------------------------------

@test "without a store operand it prints the usage line, its man page's SYNOPSIS, and exits 2" {
	run -2 --separate-stderr arc-list
	assert_output ''
	assert_usage arc-list
}

@test "--help prints the usage, its man page's SYNOPSIS, to standard output and exits 0; --version prints the one version" {
	assert_help arc-list
	assert_version arc-list
}

@test "with two store operands it prints the usage line and exits 2" {
	mkdir s t
	run -2 --separate-stderr arc-list s t
	assert_output ''
	assert_stderr --partial 'usage: arc-list '
}

@test "an unknown option prints the usage line and exits 2" {
	mkdir s
	run -2 --separate-stderr arc-list -x s
	assert_output ''
	assert_stderr --partial 'usage: arc-list '
}

@test "-p without its argument prints the usage line and exits 2" {
	mkdir s
	run -2 --separate-stderr arc-list s -p
	assert_output ''
	assert_stderr --partial 'usage: arc-list '
}

@test "a missing store is an error naming it, exit 2" {
	run -2 --separate-stderr arc-list nosuch
	assert_output ''
	assert_stderr "arc-list: cannot open store 'nosuch': No such file or directory"
}

@test "a store that is a regular file is refused with exit 2" {
	echo data >notadir
	run -2 --separate-stderr arc-list notadir
	assert_output ''
	assert_stderr --partial "'notadir'"
}

@test "a store that is a symbolic link is refused with exit 2 and nothing listed" {
	mkfile real/db/m/x.parquet
	ln -s real link
	run -2 --separate-stderr arc-list link
	assert_output ''
	assert_stderr --partial "'link'"
	assert_stderr --partial "symbolic link"
}

@test "an empty store lists nothing and exits 0" {
	mkdir -p s/db/empty/dir
	run -0 --separate-stderr arc-list s
	assert_output ''
	assert_stderr ''
}

@test "a store whose name starts with '-' is taken as a store after --" {
	mkdir -p ./-store/db/m
	printf 'abc' >./-store/db/m/x.parquet
	touch -d '2026-04-11 14:00:00' ./-store/db/m/x.parquet
	run -0 --separate-stderr arc-list -- -store
	assert_output "$(printf 'db/m/x.parquet\t2026-04-11T14:00:00Z\t3')"
}

@test "options may follow the store operand" {
	mkfile s/db/m/x.parquet
	mkfile s/db/m/notes.txt
	run -0 arc-list s -a
	assert_equal "$(paths)" "$(printf '%s\n' db/m/notes.txt db/m/x.parquet)"
}

# --- the record ------------------------------------------------------------

@test "each candidate is one record: path, mtime in RFC 3339 UTC, size in bytes" {
	mkdir -p s/db/cpu/2026/04/11/14
	printf 'hello' >s/db/cpu/2026/04/11/14/a.parquet
	touch -d '2026-04-11 14:00:00' s/db/cpu/2026/04/11/14/a.parquet
	: >s/db/cpu/2026/04/11/14/empty.parquet
	touch -d '2001-02-03 04:05:06' s/db/cpu/2026/04/11/14/empty.parquet
	run -0 --separate-stderr arc-list s
	assert_output "$(printf '%s\t%s\t%s\n' \
	    db/cpu/2026/04/11/14/a.parquet 2026-04-11T14:00:00Z 5 \
	    db/cpu/2026/04/11/14/empty.parquet 2001-02-03T04:05:06Z 0)"
	assert_stderr ''
}

@test "an mtime with a fraction of a second is rounded up to the next second" {
	mkfile s/half.parquet '2026-04-11 14:00:00.5'
	mkfile s/nano.parquet '2026-04-11 23:59:59.000000001'
	mkfile s/whole.parquet '2026-04-11 14:00:00'
	run -0 arc-list s
	assert_equal "$(cut -f1,2 <<<"$output")" "$(printf '%s\t%s\n' \
	    half.parquet 2026-04-11T14:00:01Z \
	    nano.parquet 2026-04-12T00:00:00Z \
	    whole.parquet 2026-04-11T14:00:00Z)"
}

@test "the mtime is the file's own, not the time of listing" {
	mkfile s/old.parquet '1999-12-31 23:59:59'
	run -0 arc-list s
	assert_equal "$(cut -f2 <<<"$output")" 1999-12-31T23:59:59Z
}

# --- which files are candidates ---------------------------------------------

@test "only paths ending in .parquet are candidates, case-sensitively" {
	mkfile s/db/m/a.parquet
	mkfile s/db/m/b.PARQUET
	mkfile s/db/m/c.Parquet
	mkfile s/db/m/d.parquet.part
	mkfile s/db/m/e.parquetx
	mkfile s/db/m/parquet
	mkfile s/db/m/readme.txt
	mkfile s/db/m/f.json
	run -0 arc-list s
	assert_equal "$(paths)" db/m/a.parquet
}

@test "a hidden basename is never a candidate" {
	mkfile s/db/m/.hidden.parquet
	mkfile s/db/m/.arc-123.tmp
	mkfile s/db/m/.parquet
	mkfile s/db/m/seen.parquet
	run -0 arc-list s
	assert_equal "$(paths)" db/m/seen.parquet
}

@test "only the basename counts as hidden: a file under a hidden directory is a candidate" {
	mkfile s/db/.snap/x.parquet
	run -0 arc-list s
	assert_equal "$(paths)" db/.snap/x.parquet
}

@test "nothing under a _compaction_state segment is a candidate, at any depth" {
	mkfile s/_compaction_state/hourly/db/job_1.parquet
	mkfile s/db/_compaction_state/x.parquet
	mkfile s/db/m/2026/_compaction_state/deep/y.parquet
	mkfile s/db/m/keep.parquet
	run -0 --separate-stderr arc-list s
	assert_equal "$(paths)" db/m/keep.parquet
	assert_stderr ''
}

@test "a segment merely containing _compaction_state is still a candidate" {
	mkfile s/db/m_compaction_state_logs/a.parquet
	mkfile s/db/_compaction_state_legacy/b.parquet
	mkfile s/db/x_compaction_state/c.parquet
	mkfile s/db/m/_compaction_state.parquet
	run -0 arc-list s
	assert_equal "$(paths)" "$(printf '%s\n' \
	    db/_compaction_state_legacy/b.parquet \
	    db/m/_compaction_state.parquet \
	    db/m_compaction_state_logs/a.parquet \
	    db/x_compaction_state/c.parquet)"
}

@test "-a lists every regular file, candidate or not" {
	mkfile s/_compaction_state/hourly/job.json
	mkfile s/db/m/.arc-1.tmp
	mkfile s/db/m/a.parquet
	mkfile s/db/m/a.parquet.part
	mkfile s/db/m/b.PARQUET
	mkfile s/db/m/notes.txt
	run -0 --separate-stderr arc-list -a s
	assert_equal "$(paths)" "$(printf '%s\n' \
	    _compaction_state/hourly/job.json \
	    db/m/.arc-1.tmp db/m/a.parquet db/m/a.parquet.part \
	    db/m/b.PARQUET db/m/notes.txt)"
	assert_stderr ''
}

# --- links and special files ------------------------------------------------

@test "a symbolic link to a file is never listed, even with -a" {
	mkfile s/db/m/real.parquet
	mkfile outside/secret.parquet
	ln -s real.parquet s/db/m/link.parquet
	ln -s "$PWD/outside/secret.parquet" s/db/m/out.parquet
	ln -s nowhere.parquet s/db/m/dangling.parquet
	run -0 arc-list s
	assert_equal "$(paths)" db/m/real.parquet
	run -0 arc-list -a s
	assert_equal "$(paths)" db/m/real.parquet
}

@test "a symbolic link to a directory is never followed, even with -a" {
	mkfile s/db/m/real.parquet
	mkfile outside/db/secret.parquet
	ln -s m s/db/inside
	ln -s "$PWD/outside" s/db/out
	ln -s ../.. s/db/up
	run -0 --separate-stderr arc-list s
	assert_equal "$(paths)" db/m/real.parquet
	assert_stderr ''
	run -0 arc-list -a s
	assert_equal "$(paths)" db/m/real.parquet
}

@test "a -p prefix through a symbolic link lists nothing from the link target" {
	mkfile outside/secret.parquet
	mkdir s
	ln -s "$PWD/outside" s/db
	run --separate-stderr arc-list -p db s
	assert_output ''
	[ "$status" -ne 0 ]
	assert_stderr --partial "'db/'"
}

@test "a named pipe is never listed and never blocks the walk" {
	mkfile s/db/a.parquet
	mkfifo s/db/pipe.parquet
	run -0 timeout 10 arc-list -a s
	assert_equal "$(paths)" db/a.parquet
}

# --- order ------------------------------------------------------------------

@test "a directory sorts as if its name ended in '/', giving global byte order" {
	mkfile 's/db/a b.parquet'
	mkfile 's/db/a b/x.parquet'
	mkfile 's/db/a-.parquet'
	mkfile 's/db/a.parquet'
	mkfile 's/db/a/x.parquet'
	mkfile 's/db/a0/x.parquet'
	mkfile 's/db/a!/x.parquet'
	mkfile 's/db/B.parquet'
	run -0 arc-list s
	assert_equal "$(paths)" "$(printf '%s\n' \
	    db/B.parquet 'db/a b.parquet' 'db/a b/x.parquet' 'db/a!/x.parquet' \
	    db/a-.parquet db/a.parquet db/a/x.parquet db/a0/x.parquet)"
}

@test "the output equals LC_ALL=C sort of itself, funny names included" {
	local n
	for n in 'a b' a a- a0 'a"' -a A $'a\tb' $'a\nb' $'a\rb' $'a\x01' \
	    $'a\x7f' 'a\' $'a\xff' $'a\xc3\xa9' a.parquet.d; do
		mkfile "s/$n/x.parquet"
		mkfile "s/$n.parquet"
	done
	arc-list -a s >out
	[ "$(wc -l <out)" -eq 32 ]
	LC_ALL=C sort out | cmp - out
	arc-list s >out2
	LC_ALL=C sort out2 | cmp - out2
}

# --- funny paths -------------------------------------------------------------

@test "funny names are C-escaped (backslash, TAB, newline, CR, control, DEL) and otherwise raw" {
	local n
	for n in 'sp ace' $'t\tab' $'new\nline' $'cr\rx' 'q"uote' 'back\slash' \
	    -lead $'\xff' $'\xc3\xa9' $'ctl\x01' $'del\x7f'; do
		mkfile "s/db/$n.parquet" '2026-04-11 14:00:00'
	done
	run -0 --separate-stderr arc-list s
	assert_stderr ''
	assert_equal "$(paths)" "$(printf '%s\n' \
	    'db/-lead.parquet' \
	    'db/back\\slash.parquet' \
	    'db/cr\rx.parquet' \
	    'db/ctl\001.parquet' \
	    'db/del\177.parquet' \
	    'db/new\nline.parquet' \
	    'db/q"uote.parquet' \
	    'db/sp ace.parquet' \
	    'db/t\tab.parquet' \
	    $'db/\xc3\xa9.parquet' \
	    $'db/\xff.parquet')"
	# every record still has exactly three fields
	[ "$(printf '%s\n' "$output" | awk -F '\t' 'NF != 3' | wc -l)" -eq 0 ]
	[ "${#lines[@]}" -eq 11 ]
}

@test "funny directory names are escaped in every path below them" {
	mkfile $'s/d\tb/m\nx/f.parquet'
	mkfile 's/d\b/f.parquet'
	run -0 arc-list s
	assert_equal "$(paths)" "$(printf '%s\n' 'd\\b/f.parquet' \
	    'd\tb/m\nx/f.parquet')"
}

# --- -p ----------------------------------------------------------------------

@test "-p restricts the listing to that subtree" {
	mkfile s/db1/cpu/a.parquet
	mkfile s/db1/mem/b.parquet
	mkfile s/db2/cpu/c.parquet
	mkfile s/top.parquet
	run -0 --separate-stderr arc-list -p db1/cpu s
	assert_equal "$(paths)" db1/cpu/a.parquet
	assert_stderr ''
}

@test "-p prefixes are repeatable and the output stays globally sorted" {
	mkfile s/db1/cpu/a.parquet
	mkfile s/db1/mem/b.parquet
	mkfile s/db2/cpu/c.parquet
	mkfile s/db3/x/d.parquet
	run -0 arc-list -p db3 -p db1/cpu -p db2/cpu s
	assert_equal "$(paths)" "$(printf '%s\n' db1/cpu/a.parquet \
	    db2/cpu/c.parquet db3/x/d.parquet)"
}

@test "-p 'db/a' and -p 'db/a b' list 'db/a b/...' before 'db/a/...'" {
	mkfile 's/db/a/x.parquet'
	mkfile 's/db/a b/y.parquet'
	mkfile 's/db/a-c/z.parquet'
	run -0 arc-list -p db/a -p 'db/a b' s
	assert_equal "$(paths)" "$(printf '%s\n' 'db/a b/y.parquet' db/a/x.parquet)"
	run -0 arc-list -p 'db/a b' -p db/a s
	assert_equal "$(paths)" "$(printf '%s\n' 'db/a b/y.parquet' db/a/x.parquet)"
}

@test "-p prefixes with funny characters are sorted by their escaped form" {
	mkfile $'s/db/a\tb/x.parquet'
	mkfile 's/db/a/x.parquet'
	mkfile 's/db/a\/x.parquet'
	run -0 arc-list -p $'db/a\tb' -p 'db/a\' -p db/a s
	assert_equal "$(paths)" "$(printf '%s\n' db/a/x.parquet \
	    'db/a\\/x.parquet' 'db/a\tb/x.parquet')"
	arc-list -p $'db/a\tb' -p 'db/a\' -p db/a s >out
	LC_ALL=C sort out | cmp - out
}

@test "overlapping and repeated prefixes list each file once" {
	mkfile s/db/a/x.parquet
	mkfile s/db/b/y.parquet
	run -0 arc-list -p db/a -p db -p db/ -p db/a -p db/b s
	assert_equal "$(paths)" "$(printf '%s\n' db/a/x.parquet db/b/y.parquet)"
}

@test "a prefix that does not exist lists nothing and succeeds" {
	mkfile s/db/a/x.parquet
	run -0 --separate-stderr arc-list -p nosuch s
	assert_output ''
	assert_stderr ''
	run -0 --separate-stderr arc-list -p nosuch -p db/a s
	assert_equal "$(paths)" db/a/x.parquet
	assert_stderr ''
}

@test "-p applies the candidate rules and -a alike" {
	mkfile s/db/a/x.parquet
	mkfile s/db/a/notes.txt
	mkfile s/db/a/_compaction_state/y.parquet
	run -0 arc-list -p db/a s
	assert_equal "$(paths)" db/a/x.parquet
	run -0 arc-list -a -p db/a s
	assert_equal "$(paths)" "$(printf '%s\n' db/a/_compaction_state/y.parquet \
	    db/a/notes.txt db/a/x.parquet)"
}

@test "a prefix reaching outside the store is refused with exit 2" {
	mkfile s/db/a/x.parquet
	mkfile outside/y.parquet
	local p
	for p in ../outside /etc db/../../outside; do
		run -2 --separate-stderr arc-list -p "$p" s
		assert_output ''
		assert_stderr --partial "'$p'"
	done
}

# --- -j and -M (they tune object-store listings) ----------------------------

@test "-j and -M do not change the listing of a local store" {
	mkfile s/db/a/x.parquet '2026-04-11 14:00:00'
	mkfile s/db/b/y.parquet '2026-04-11 14:00:00'
	mkfile s/other/z.parquet '2026-04-11 14:00:00'
	run -0 arc-list s
	local want=$output
	mrec db/a/x.parquet >m.rec
	run -0 --separate-stderr arc-list -j 1 s
	assert_output "$want"
	run -0 --separate-stderr arc-list -j 64 -M m.rec s
	assert_output "$want"
	assert_stderr ''
}

@test "-j outside 1 to 64 is refused with exit 2" {
	mkfile s/db/a/x.parquet
	local j
	for j in 0 65 -1 x ''; do
		run -2 --separate-stderr arc-list -j "$j" s
		assert_output ''
		assert_stderr --partial "'$j'"
	done
}

@test "-M with a missing or unsorted manifest record file is refused with exit 2" {
	mkfile s/db/a/x.parquet
	run -2 --separate-stderr arc-list -M nosuch.rec s
	assert_output ''
	assert_stderr --partial "'nosuch.rec'"
	{ mrec db/b/y.parquet; mrec db/a/x.parquet; } >m.rec
	run -2 --separate-stderr arc-list -M m.rec s
	assert_output ''
	assert_stderr "arc-list: 'm.rec': not sorted at line 2"
}

# --- partial listings and permissions ----------------------------------------

@test "an unreadable subdirectory gives one warning, exit 1, and the rest is listed" {
	need_unpriv
	world_store
	mkfile "$STORE/db/a/x.parquet"
	mkfile "$STORE/db/b/secret.parquet"
	mkfile "$STORE/db/c/y.parquet"
	chmod -R a+rX "$WORLD"
	chmod 000 "$STORE/db/b"
	unpriv test -r "$STORE/db/a/x.parquet" ||
	    skip "the unprivileged user cannot reach $STORE"
	run -1 --separate-stderr unpriv arc-list "$STORE"
	assert_equal "$(paths)" "$(printf '%s\n' db/a/x.parquet db/c/y.parquet)"
	[ "${#stderr_lines[@]}" -eq 1 ]
	assert_stderr --partial "'db/b'"
}

@test "an unreadable subdirectory inside a -p prefix is also a partial listing" {
	need_unpriv
	world_store
	mkfile "$STORE/db/a/x.parquet"
	mkfile "$STORE/db/a/locked/secret.parquet"
	mkfile "$STORE/db/a/z.parquet"
	chmod -R a+rX "$WORLD"
	chmod 000 "$STORE/db/a/locked"
	unpriv test -r "$STORE/db/a/x.parquet" ||
	    skip "the unprivileged user cannot reach $STORE"
	run -1 --separate-stderr unpriv arc-list -p db/a "$STORE"
	assert_equal "$(paths)" "$(printf '%s\n' db/a/x.parquet db/a/z.parquet)"
	[ "${#stderr_lines[@]}" -eq 1 ]
	assert_stderr --partial "'db/a/locked'"
}

@test "a store the user cannot read is an error, exit 2" {
	need_unpriv
	world_store
	mkfile "$STORE/db/a/x.parquet"
	chmod -R a+rX "$WORLD"
	chmod 000 "$STORE"
	unpriv test -x "$WORLD" || skip "the unprivileged user cannot reach $WORLD"
	run -2 --separate-stderr unpriv arc-list "$STORE"
	assert_output ''
	assert_stderr --partial "'$STORE'"
}

@test "files in a directory that can be read but not searched are each said, exit 1, and the rest is listed" {
	local i
	need_unpriv
	world_store
	mkfile "$STORE/db/a/x.parquet"
	for i in $(seq 1 20); do
		mkfile "$STORE/db/b/f$i.parquet"
	done
	mkfile "$STORE/db/c/y.parquet"
	chmod -R a+rX "$WORLD"
	unpriv test -r "$STORE/db/a/x.parquet" ||
	    skip "the unprivileged user cannot reach $STORE"
	# searchable: every file is listed
	run -0 --separate-stderr unpriv arc-list "$STORE"
	[ "${#lines[@]}" -eq 22 ]
	assert_stderr ''
	# names readable, files not reachable: no file of db/b looks absent
	chmod a-x "$STORE/db/b"
	run -1 --separate-stderr unpriv arc-list "$STORE"
	assert_equal "$(paths)" "$(printf '%s\n' db/a/x.parquet db/c/y.parquet)"
	[ "${#stderr_lines[@]}" -eq 20 ]
	assert_stderr --partial "cannot stat 'db/b/f7.parquet': Permission denied"
	assert_stderr --partial "cannot stat 'db/b/f20.parquet': Permission denied"
}

# --- large directories and long names ----------------------------------------

@test "a directory of more files than one batch of stats lists every file with its own size and mtime" {
	local i g t r want=()
	mkdir -p s/db/m
	# 1300 files, sizes 1 to 1300, mtimes a minute apart in groups of 100
	for g in $(seq 0 12); do
		t=$((1775916000 + g * 60))
		r=$(date -u -d "@$t" +%Y-%m-%dT%H:%M:%SZ)
		for ((i = g * 100 + 1; i <= g * 100 + 100; i++)); do
			printf '%*s' "$i" '' >"s/db/m/f$i.parquet"
			want+=("db/m/f$i.parquet"$'\t'"$r"$'\t'"$i")
		done
		(cd s/db/m && touch -d "@$t" $(seq -f 'f%g.parquet' \
		    $((g * 100 + 1)) $((g * 100 + 100))))
	done
	run -0 --separate-stderr arc-list s
	assert_stderr ''
	[ "${#lines[@]}" -eq 1300 ]
	assert_equal "$output" "$(printf '%s\n' "${want[@]}" | LC_ALL=C sort)"
}

@test "a file whose name is 255 bytes long is listed with its size and mtime" {
	local n
	n=$(printf 'x%.0s' $(seq 1 247)).parquet
	[ "${#n}" -eq 255 ]
	mkdir -p s/db/m
	printf 'hello' >"s/db/m/$n"
	touch -d '2026-04-11 14:00:00' "s/db/m/$n"
	run -0 --separate-stderr arc-list s
	assert_output "$(printf 'db/m/%s\t2026-04-11T14:00:00Z\t5' "$n")"
	assert_stderr ''
}

# --- the ways of stat'ing a local listing (ARC_LIST_STATS) -------------------

# stats_tree: under a world_store, db/m with 600 files (more than one
# batch of 512) of sizes 1 to 600 and each its own mtime, a file of a
# 255-byte name, a link to a file, a link to a directory and a named
# pipe; db/locked that cannot be read; db/noexec whose 20 files can be
# named but not reached.  Sets WANT (the records of what can be listed),
# WANT_M (those of db/m alone) and NOEXEC (the unreachable paths).
stats_tree() {
	local i t r n want=()
	command -v python3 >/dev/null 2>&1 || skip "python3 is not installed"
	world_store
	mkdir -p "$STORE/db/m" "$STORE/db/locked" "$STORE/db/noexec"
	for ((i = 1; i <= 600; i++)); do
		printf '%*s' "$i" '' >"$STORE/db/m/f$i.parquet"
		t=$((1775916000 + i * 61))
		TZ=UTC printf -v r '%(%Y-%m-%dT%H:%M:%SZ)T' "$t"
		want+=("db/m/f$i.parquet"$'\t'"$r"$'\t'"$i")
	done
	# each its own mtime, 61 s apart (one process, not 600)
	python3 -c 'import os, sys
for i in range(1, 601):
	t = 1775916000 + i * 61
	os.utime("%s/f%d.parquet" % (sys.argv[1], i), (t, t))' "$STORE/db/m"
	n=$(printf 'x%.0s' $(seq 1 247)).parquet
	printf 'hello' >"$STORE/db/m/$n"
	touch -d '@1775000000' "$STORE/db/m/$n"
	want+=("db/m/$n"$'\t'"$(date -u -d @1775000000 +%Y-%m-%dT%H:%M:%SZ)"$'\t'5)
	ln -s f1.parquet "$STORE/db/m/link.parquet"
	ln -s ../locked "$STORE/db/m/dirlink"
	mkfifo "$STORE/db/m/pipe.parquet"
	mkfile "$STORE/db/locked/secret.parquet"
	NOEXEC=()
	for ((i = 1; i <= 20; i++)); do
		mkfile "$STORE/db/noexec/g$i.parquet"
		NOEXEC+=("db/noexec/g$i.parquet")
	done
	chmod -R a+rX "$WORLD"
	chmod 000 "$STORE/db/locked"
	chmod a-x "$STORE/db/noexec"
	WANT_M=$(printf '%s\n' "${want[@]}" | LC_ALL=C sort)
	WANT=$WANT_M
}

@test "each way of stat'ing a local listing (ARC_LIST_STATS ring, threads, plain) lists the same records, warnings and exit status, those the tree holds" {
	local mode first_err= p
	need_unpriv
	stats_tree
	unpriv test -r "$STORE/db/m/f1.parquet" ||
	    skip "the unprivileged user cannot reach $STORE"
	for mode in ring threads plain; do
		export ARC_LIST_STATS=$mode
		# positive control: the readable directory alone, whole
		run -0 --separate-stderr unpriv arc-list -p db/m "$STORE"
		assert_stderr ''
		[ "${#lines[@]}" -eq 601 ]
		assert_equal "$output" "$WANT_M"
		# the whole store: partial, every unreachable path said
		run -1 --separate-stderr unpriv arc-list "$STORE"
		assert_equal "$output" "$WANT"
		[ "${#stderr_lines[@]}" -eq 21 ]
		assert_stderr --partial "'db/locked'"
		for p in "${NOEXEC[@]}"; do
			assert_stderr --partial "cannot stat '$p': Permission denied"
		done
		# and byte for byte what the other ways said
		[ -n "$first_err" ] || first_err=$stderr
		assert_equal "$stderr" "$first_err"
	done
}

@test "an invalid ARC_LIST_STATS is one line naming it, exit 2, and nothing listed" {
	mkfile s/db/m/a.parquet '2026-04-11 14:00:00'
	# positive control: a valid value, and the empty one (the default)
	run -0 --separate-stderr env ARC_LIST_STATS=plain arc-list s
	assert_output "$(srec db/m/a.parquet 2026-04-11T14:00:00Z 22)"
	run -0 --separate-stderr env ARC_LIST_STATS= arc-list s
	assert_output "$(srec db/m/a.parquet 2026-04-11T14:00:00Z 22)"
	run -2 --separate-stderr env ARC_LIST_STATS=uring arc-list s
	assert_output ''
	[ "${#stderr_lines[@]}" -eq 1 ]
	assert_stderr --partial "'uring': invalid ARC_LIST_STATS"
}

# syscalls NAME FILE: how many calls of NAME strace -c counted in FILE.
syscalls() {
	awk -v n="$1" '$NF == n && $4 ~ /^[0-9]+$/ { c += $4 } END { print c + 0 }' "$2"
}

@test "each ARC_LIST_STATS way is the one taken: io_uring for ring, helper threads for threads, one statx at a time for plain" {
	local mode
	command -v strace >/dev/null 2>&1 || skip "strace(1) is not installed"
	strace -f -c -o probe.st true 2>/dev/null ||
	    skip "strace cannot trace here (ptrace refused)"
	mkdir -p s/db/m
	for ((i = 1; i <= 600; i++)); do
		printf '%*s' "$i" '' >"s/db/m/f$i.parquet"
	done
	for mode in ring threads plain; do
		run -0 --separate-stderr env ARC_LIST_STATS=$mode \
		    strace -f -c -o "$mode.st" arc-list s
		[ "${#lines[@]}" -eq 600 ]
	done
	# plain: every file one statx, no thread, no ring
	[ "$(syscalls statx plain.st)" -ge 600 ]
	[ "$(syscalls clone3 plain.st)" -eq 0 ]
	[ "$(syscalls clone plain.st)" -eq 0 ]
	[ "$(syscalls io_uring_setup plain.st)" -eq 0 ]
	# threads: helpers started, every file one statx, no ring
	[ "$(syscalls statx threads.st)" -ge 600 ]
	[ $(($(syscalls clone3 threads.st) + $(syscalls clone threads.st))) -ge 1 ]
	[ "$(syscalls io_uring_setup threads.st)" -eq 0 ]
	# ring: the stats went through io_uring_enter, not a statx each
	[ "$(syscalls io_uring_enter ring.st)" -ge 1 ] ||
	    skip "the kernel refuses io_uring here: only the fallbacks ran"
	[ "$(syscalls statx ring.st)" -lt 600 ]
	[ $(($(syscalls clone3 ring.st) + $(syscalls clone ring.st))) -eq 0 ]
}

# --- URLs ----------------------------------------------------------------------

@test "a file:///abs URL lists the same records as the plain path" {
	mkfile 's/db/a b/x.parquet' '2026-04-11 14:00:00'
	mkfile s/db/c/y.parquet '2026-04-11 15:00:00'
	run -0 arc-list s
	local want=$output
	run -0 --separate-stderr arc-list "file://$PWD/s"
	assert_output "$want"
	assert_stderr ''
	run -0 arc-list -p db/c "file://$PWD/s"
	assert_equal "$(paths)" db/c/y.parquet
}

@test "a file URL whose path is not absolute is refused with exit 2" {
	mkfile s/db/x.parquet
	run -2 --separate-stderr arc-list file://s
	assert_output ''
	assert_stderr --partial "'file://s'"
}

@test "an unknown URL scheme is refused with exit 2" {
	run -2 --separate-stderr arc-list bogus://bucket/dir
	assert_output ''
	assert_stderr --partial "'bogus://bucket/dir'"
}

@test "a file URL to a missing directory is an error, exit 2" {
	run -2 --separate-stderr arc-list "file://$PWD/nosuch"
	assert_output ''
	assert_stderr --partial nosuch
}

# --- output errors -------------------------------------------------------------

@test "a write error on standard output (>/dev/full) is an error, exit 2" {
	mkfile s/db/a/x.parquet
	run -2 --separate-stderr sh -c 'arc-list s >/dev/full'
	assert_stderr --partial 'write error'
}

@test "a write error on a long listing (>/dev/full) is an error, exit 2" {
	local i
	mkdir -p s/db
	for i in $(seq 1 2000); do : >"s/db/file-with-a-long-name-$i.parquet"; done
	run -2 --separate-stderr sh -c 'arc-list s >/dev/full'
	assert_stderr --partial 'write error'
}
