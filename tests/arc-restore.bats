#!/usr/bin/env bats
# arc-restore ARCHIVE STORE MANIFEST: put back what a run of arc-delete
# removed, from its -A archive: the quarantined files into the store,
# never over one that exists, and the manifest entries into the manifest.
# One "result TAB orphan-storage TAB path" line a file.
load test_helper
bats_require_minimum_version 1.5.0

OLD='2026-04-01 00:00:00'
OLDREC=2026-04-01T00:00:00Z

D=db/m/2026/04/11/12	# a managed directory: files below it have 7 segments

# res RESULT PATH: one expected result line.
res() {
	local code
	case $1 in
	restored) code=RESTORED ;;
	refused) code=RESTORE_REFUSED ;;
	*) code=RESTORE_FAILED ;;
	esac
	printf '%s\torphan-storage\t%s\t%s\n' "$1" "$2" "$code"
}

# tree: every file below s with its size, mtime and checksum.
tree() {
	(cd s && find . -type f -o -type l | LC_ALL=C sort | while IFS= read -r f; do
		printf '%s %s %s\n' "$f" "$(stat -c '%s %Y' "$f")" \
		    "$(md5sum <"$f" | cut -d' ' -f1)"
	done)
}

# entries: the manifest's entries, each as sorted compact JSON, sorted.
entries() {
	jq -cS . m.ndjson | LC_ALL=C sort
}

# act_run: a real act run of arc-delete with --archive-files on a local
# store and a file manifest: two orphan-manifest entries (a, c) and two
# orphan-storage files (b, d) removed, keep left alone; a.tgz is its
# archive, before.tree and before.entries what was there before.
act_run() {
	mkfile "s/$D/b.parquet" "$OLD"
	printf 'binary \001\377 bytes\n' >"s/$D/d.parquet"
	touch -d "$OLD" "s/$D/d.parquet"
	mkfile "s/$D/keep.parquet" "$OLD"
	{
		entry "$D/a.parquet"
		entry "$D/c.parquet" node-2 7
		entry "$D/keep.parquet"
	} >m.ndjson
	{
		printf 'orphan-manifest\t%s\t2026-04-11T14:00:00Z\t10\tnode-1\t1\n' \
		    "$D/a.parquet"
		printf 'orphan-storage\t%s\t%s\t-\n' "$D/b.parquet" "$OLDREC"
		printf 'orphan-manifest\t%s\t2026-04-11T14:00:00Z\t10\tnode-2\t7\n' \
		    "$D/c.parquet"
		printf 'orphan-storage\t%s\t%s\t-\n' "$D/d.parquet" "$OLDREC"
	} >c.rec
	tree >before.tree
	entries >before.entries
	run -0 --separate-stderr arc-delete --act --archive-files -A a.tgz \
	    s m.ndjson <c.rec
	# the run did remove them
	assert_equal "$(jq -r .path m.ndjson)" "$D/keep.parquet"
	[ ! -e "s/$D/b.parquet" ] && [ ! -e "s/$D/d.parquet" ]
}

# --- usage and operands --------------------------------------------------

@test "without operands it prints the usage line, its man page's SYNOPSIS, and exits 2" {
	run -2 --separate-stderr arc-restore
	assert_output ''
	assert_usage arc-restore
}

@test "--help prints the usage, its man page's SYNOPSIS, to standard output and exits 0; --version prints the one version" {
	assert_help arc-restore
	assert_version arc-restore
}

@test "--help or --version to a full standard output is a write error, exit 2" {
	run -2 --separate-stderr sh -c 'arc-restore --help >/dev/full'
	assert_stderr "arc-restore: write error on 'stdout': No space left on device"
	run -2 --separate-stderr sh -c 'arc-restore --version >/dev/full'
	assert_stderr "arc-restore: write error on 'stdout': No space left on device"
	# the positive control: to a pipe both succeed
	run -0 sh -c 'arc-restore --version | cat'
	assert_output "arc-restore $(arc_version)"
}

@test "with two or four operands, or an unknown option, it prints the usage line and exits 2, restoring nothing" {
	act_run
	run -2 --separate-stderr arc-restore a.tgz s
	assert_output ''
	assert_usage arc-restore
	run -2 --separate-stderr arc-restore a.tgz s m.ndjson m.ndjson
	assert_output ''
	assert_stderr --partial 'usage: arc-restore '
	run -2 --separate-stderr arc-restore -x a.tgz s m.ndjson
	assert_output ''
	assert_stderr --partial 'usage: arc-restore '
	run -2 --separate-stderr arc-restore --act a.tgz s m.ndjson
	assert_output ''
	assert_stderr --partial 'usage: arc-restore '
	[ ! -e "s/$D/b.parquet" ]
	assert_equal "$(jq -r .path m.ndjson)" "$D/keep.parquet"
	# the positive control: the same operands restore
	run -0 --separate-stderr arc-restore a.tgz s m.ndjson
	[ -e "s/$D/b.parquet" ]
}

@test "a missing archive, store or manifest is an error naming it, exit 2, and nothing is restored" {
	act_run
	run -2 --separate-stderr arc-restore nosuch.tgz s m.ndjson
	assert_output ''
	assert_stderr --partial "'nosuch.tgz'"
	run -2 --separate-stderr arc-restore a.tgz nosuch m.ndjson
	assert_output ''
	assert_stderr "arc-restore: cannot open store 'nosuch': No such file or directory"
	run -2 --separate-stderr arc-restore a.tgz s nosuch.ndjson
	assert_output ''
	assert_stderr "arc-restore: cannot open manifest 'nosuch.ndjson': No such file or directory"
	[ ! -e "s/$D/b.parquet" ] && [ ! -e nosuch ] && [ ! -e nosuch.ndjson ]
	assert_equal "$(jq -r .path m.ndjson)" "$D/keep.parquet"
	# the positive control
	run -0 --separate-stderr arc-restore a.tgz s m.ndjson
	assert_output "$(res restored "$D/b.parquet"; res restored "$D/d.parquet")"
}

@test "a manifest of '-' is refused with exit 2" {
	act_run
	run -2 --separate-stderr arc-restore a.tgz s - <m.ndjson
	assert_output ''
	assert_stderr "arc-restore: the manifest cannot be '-'"
	[ ! -e "s/$D/b.parquet" ]
}

# --- restoring ---------------------------------------------------------------

@test "an act run's archive restores its files and manifest entries byte for byte, with their mtimes, exit 0" {
	act_run
	run -0 --separate-stderr arc-restore a.tgz s m.ndjson
	assert_output "$(res restored "$D/b.parquet"; res restored "$D/d.parquet")"
	assert_stderr "arc-restore: 2 manifest entries restored"
	assert_equal "$(tree)" "$(cat before.tree)"
	assert_equal "$(entries)" "$(cat before.entries)"
	cmp "s/$D/d.parquet" <(printf 'binary \001\377 bytes\n')
}

@test "a file written since the delete is never replaced and an entry registered again is not duplicated: failed, exit 1" {
	act_run
	printf 'new content\n' >"s/$D/b.parquet"
	entry "$D/a.parquet" node-9 5 >>m.ndjson
	run -1 --separate-stderr arc-restore a.tgz s m.ndjson
	assert_output "$(res failed "$D/b.parquet"; res restored "$D/d.parquet")"
	assert_stderr --partial "arc-restore: '$D/b.parquet': cannot restore: "
	assert_equal "$(cat "s/$D/b.parquet")" 'new content'
	assert_equal "$(jq -r "select(.path == \"$D/a.parquet\") | .lsn" m.ndjson)" 5
	assert_equal "$(jq -r .path m.ndjson | LC_ALL=C sort)" \
	    "$(printf '%s\n' "$D/a.parquet" "$D/c.parquet" "$D/keep.parquet")"
}

@test "a member that could write outside the store is refused by name, exit 1, and the act run's files are still restored" {
	act_run
	mkdir -p outside
	# the real archive with an escaping member and a symbolic link added
	python3 - a.tgz x.tgz <<-'EOF'
	import io, sys, tarfile
	with tarfile.open(sys.argv[1]) as i, \
	    tarfile.open(sys.argv[2], "w:gz", format=tarfile.PAX_FORMAT) as o:
	    for m in i.getmembers():
	        o.addfile(m, i.extractfile(m) if m.isfile() else None)
	    data = b"escaped"
	    ti = tarfile.TarInfo("quarantine/../../outside/x.parquet")
	    ti.size = len(data)
	    o.addfile(ti, io.BytesIO(data))
	    ti = tarfile.TarInfo("quarantine/db/m/2026/04/11/12/link.parquet")
	    ti.type, ti.linkname = tarfile.SYMTYPE, "/etc/passwd"
	    o.addfile(ti)
	EOF
	run -1 --separate-stderr arc-restore x.tgz s m.ndjson
	assert_output "$(res restored "$D/b.parquet"; res restored "$D/d.parquet"
	    res refused ../../outside/x.parquet; res refused "$D/link.parquet")"
	assert_stderr --partial "arc-restore: 'quarantine/../../outside/x.parquet': member refused: path has a '..' segment"
	assert_stderr --partial "arc-restore: 'quarantine/$D/link.parquet': member refused: a symbolic link"
	assert_equal "$(ls -A outside)" ''
	[ ! -e "s/$D/link.parquet" ] && [ ! -L "s/$D/link.parquet" ]
	assert_equal "$(tree)" "$(cat before.tree)"
	assert_equal "$(entries)" "$(cat before.entries)"
}

@test "arc-delete --restore is the same restore: the same lines, messages and exit status" {
	act_run
	cp -a s s2
	cp m.ndjson m2.ndjson
	printf 'new content\n' >"s/$D/b.parquet"
	printf 'new content\n' >"s2/$D/b.parquet"
	run -1 --separate-stderr arc-restore a.tgz s m.ndjson
	local out=$output err=$stderr
	run -1 --separate-stderr arc-delete --restore a.tgz s2 m2.ndjson
	assert_output "$out"
	assert_equal "${stderr//arc-delete:/arc-restore:}" "$err"
	cmp m.ndjson m2.ndjson
}

@test "a member larger than 64 GiB is refused by name before it is read, and a manifest-entries line longer than 256 KiB stops the restore, exit 2" {
	act_run
	# the real archive, then a member whose header says 65 GiB (its data
	# never follows: an archive made to be decompressed without end)
	python3 - a.tgz big.tgz <<-'EOF'
	import gzip, io, sys, tarfile
	buf = io.BytesIO()
	with tarfile.open(sys.argv[1]) as i:
	    o = tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT)
	    for m in i.getmembers():
	        o.addfile(m, i.extractfile(m) if m.isfile() else None)
	    ti = tarfile.TarInfo("quarantine/db/m/2026/04/11/12/big.parquet")
	    ti.size = 65 << 30
	    buf.write(ti.tobuf(format=tarfile.GNU_FORMAT) + b"\0" * 4096)
	with gzip.open(sys.argv[2], "wb") as f:
	    f.write(buf.getvalue())
	EOF
	# manifest entries with a line of 300 KiB: nothing of them restored
	python3 - a.tgz long.tgz <<-'EOF'
	import io, sys, tarfile
	with tarfile.open(sys.argv[1]) as i, \
	    tarfile.open(sys.argv[2], "w:gz", format=tarfile.PAX_FORMAT) as o:
	    for m in i.getmembers():
	        if m.name.endswith("manifest-entries.ndjson"):
	            data = b'{"path":"' + b"x" * (300 << 10) + b'"}\n'
	            m.size = len(data)
	            o.addfile(m, io.BytesIO(data))
	        else:
	            o.addfile(m, i.extractfile(m) if m.isfile() else None)
	EOF
	entries >mid.entries
	run -2 --separate-stderr arc-restore long.tgz s m.ndjson
	assert_stderr --partial "cannot read member 'manifest-entries.ndjson': a line longer than 262144 bytes"
	assert_equal "$(entries)" "$(cat mid.entries)"
	[ "$(wc -l <m.ndjson)" -eq 1 ]
	# the control: the run's own archive restores everything
	run -0 arc-restore a.tgz s m.ndjson
	assert_equal "$(entries)" "$(cat before.entries)"
	assert_equal "$(tree)" "$(cat before.tree)"
	# the big member refused by name; the others exist again: failed
	run -2 --separate-stderr arc-restore big.tgz s m.ndjson
	assert_line "$(res refused "$D/big.parquet")"
	assert_stderr --partial "arc-restore: 'quarantine/$D/big.parquet': member refused: larger than the limit of 64 GiB a member is read to"
	[ ! -e "s/$D/big.parquet" ]
}
