#!/usr/bin/env bats
# store-objects.bats - no open of a store object blocks or follows a
# link, and no write reaches outside the store.
#
# Local store: between arc-recheck and arc-delete a confirmed file is
# replaced by a FIFO, a socket, a device, a directory, a symbolic link,
# or its directory by a symbolic link; arc-delete (with and without
# --archive-files) and --restore must end, leave that object and
# everything outside the store alone, name the path, and still handle
# the other candidates.  Every tool run is under timeout(1): a hang
# fails the test.
#
# Every store: archives crafted with "..", absolute, "." and empty-segment
# member names, and link and device members, are refused member by member
# by --restore on a local directory, S3 (s3rver) and Azure (Azurite), and
# a second bucket or container stays empty.
load test_helper
load servers
bats_require_minimum_version 1.5.0

OLD='2026-04-01 00:00:00'
D=db/m/2026/04/11/12	# files a and b
P=db/m/2026/04/11/13	# file c: the directory swapped for a link
T=30			# seconds before a tool is taken to hang

setup_file() {
	[ -d "$ARC_NODE_MODULES/s3rver" ] || {
		echo "the npm test servers are missing: sh tests/deps.sh build test" >&2
		return 1
	}
	start_s3rver
	# on a loaded machine Azurite takes longer than wait_http's 10 s
	start_azurite 2>/dev/null ||
	    wait_http_for 60 "http://127.0.0.1:$AZ_PORT/"
	AZ_SAS=$(azsas)
	export AZ_SAS
}

teardown_file() {
	stop_azurite
	stop_s3rver
}

# res RESULT PATH: one expected orphan-storage result line.
res() {
	local code=${3:-}
	if [ -z "$code" ]; then
		case $1 in
		deleted) code=DELETED ;;
		gone) code=GONE ;;
		changed) code=CHANGED_SINCE_LISTING ;;
		refused) code=LAYOUT_MISMATCH ;;
		failed) code=DELETE_FAILED ;;
		restored) code=RESTORED ;;
		esac
	fi
	printf '%s\torphan-storage\t%s\t%s\n' "$1" "$2" "$code"
}

# plant: three old orphan files a, b (in $D) and c (in $P), a file and
# entry that agree (keep), and outside/ with a victim file and a
# directory holding its own c.parquet.
plant() {
	mkfile "s/$D/a.parquet" "$OLD"
	mkfile "s/$D/b.parquet" "$OLD"
	mkfile "s/$P/c.parquet" "$OLD"
	mkfile "s/$D/keep.parquet" "$OLD"
	entry "$D/keep.parquet" >m.ndjson
	mkfile outside/victim.parquet "$OLD"
	mkfile outside/dir/c.parquet "$OLD"
	mkdir -p outside/empty
}

# confirm: the stages before arc-delete, run by hand; ok.rec holds the
# three confirmed candidates.
confirm() {
	timeout "$T" arc-manifest-dump m.ndjson >m.rec
	timeout "$T" arc-list s >s.rec
	timeout "$T" arc-diff -g 1h m.rec s.rec >c.rec || [ $? -eq 1 ]
	timeout "$T" arc-recheck -g 1h s m.ndjson <c.rec >ok.rec
	assert_equal "$(cut -f2 ok.rec)" "$(printf '%s\n' "$D/a.parquet" \
	    "$D/b.parquet" "$P/c.parquet")"
}

# outside: everything outside the store, with sizes, times and content,
# and what /dev/null is.
outside() {
	find outside -printf '%p %y %s %T@ %l\n' | LC_ALL=C sort
	find outside -type f -exec cat {} + | md5sum
	stat -c '%F %t %T' /dev/null
}

# swap KIND: replace $D/a.parquet by an object of KIND, or (parent) the
# directory $P by a symbolic link to outside/dir.
swap() {
	local f="s/$D/a.parquet"
	if [ "$1" = parent ]; then
		rm -r "s/$P"
		ln -s "$PWD/outside/dir" "s/$P"
		return
	fi
	rm "$f"
	case $1 in
	fifo)		mkfifo "$f" ;;
	socket)		python3 -c 'import socket, sys
socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$f" ;;
	directory)	mkdir "$f"; mkfile "$f/inner.parquet" "$OLD" ;;
	symlink)	ln -s "$PWD/outside/victim.parquet" "$f" ;;
	devlink)	ln -s /dev/null "$f" ;;
	device)		mknod "$f" c 1 3 ;;
	esac
}

# still KIND: the object swapped in is there, as it was put.
still() {
	local f="s/$D/a.parquet"
	case $1 in
	fifo)		[ -p "$f" ] ;;
	socket)		[ -S "$f" ] ;;
	directory)	[ -d "$f" ] && [ -f "$f/inner.parquet" ] ;;
	symlink)	[ "$(readlink "$f")" = "$PWD/outside/victim.parquet" ] ;;
	devlink)	[ "$(readlink "$f")" = /dev/null ] ;;
	device)		[ -c "$f" ] ;;
	parent)		[ "$(readlink "s/$P")" = "$PWD/outside/dir" ] ;;
	esac
}

# need_root_for KIND: mknod needs root.
need_root_for() {
	if [ "$1" = device ] && [ "$(id -u)" -ne 0 ]; then
		skip "mknod of a device needs root"
	fi
}

# swap_then_delete KIND [OPTION]: confirm, swap KIND in, arc-delete --act
# (with OPTION); the swapped path fails naming it, the others are deleted,
# the swapped object and everything outside are as they were.
swap_then_delete() {
	local kind=$1 bad=$D/a.parquet before
	shift
	need_root_for "$kind"
	plant
	confirm
	swap "$kind"
	[ "$kind" = parent ] && bad=$P/c.parquet
	before=$(outside)
	run --separate-stderr timeout "$T" arc-delete --act "$@" -A a.tgz s \
	    m.ndjson <ok.rec
	[ "$status" -ne 124 ] || fail "arc-delete hung on a $kind"
	[ "$status" -eq 1 ] || fail "exit $status: $stderr"
	local p r want=
	for p in "$D/a.parquet" "$D/b.parquet" "$P/c.parquet"; do
		r=deleted
		[ "$p" = "$bad" ] && r=failed
		want+=$(res "$r" "$p")$'\n'
	done
	assert_output "${want%$'\n'}"
	assert_stderr --partial "'$bad': "
	[[ $stderr == *"not a regular file"* || $stderr == *"Not a directory"* ]] ||
	    fail "no reason given: $stderr"
	if [ "$kind" != parent ]; then
		assert_stderr --partial "($(case $kind in
		    fifo) echo 'a FIFO' ;; socket) echo 'a socket' ;;
		    directory) echo 'a directory' ;; device) echo 'a character device' ;;
		    *) echo 'a symbolic link' ;; esac))"
	fi
	# the positive control: the other candidates are gone
	for p in "$D/a.parquet" "$D/b.parquet" "$P/c.parquet"; do
		[ "$p" = "$bad" ] && continue
		[ ! -e "s/$p" ] || fail "'$p' was not deleted"
	done
	still "$kind" || fail "the $kind swapped in was changed"
	assert_equal "$(outside)" "$before"
	[ -f "s/$D/keep.parquet" ]
	# what was not archived is not deleted; the rest is in the archive
	if [ "$1" = --archive-files ]; then
		assert_stderr --partial "'$bad': cannot archive: "
		assert_equal "$(tar -tzf a.tgz | grep quarantine/ | LC_ALL=C sort)" \
		    "$(for p in "$D/a.parquet" "$D/b.parquet" "$P/c.parquet"; do
			[ "$p" = "$bad" ] || echo "quarantine/$p"; done)"
	fi
}

@test "a FIFO swapped in after the re-check is neither opened nor removed, and the other files are deleted" {
	swap_then_delete fifo
}

@test "with --archive-files a FIFO swapped in after the re-check does not hang the run: it fails, the others are archived and deleted" {
	swap_then_delete fifo --archive-files
}

@test "a socket swapped in after the re-check is not removed, and the other files are deleted" {
	swap_then_delete socket
}

@test "with --archive-files a socket swapped in after the re-check fails alone" {
	swap_then_delete socket --archive-files
}

@test "a directory swapped in after the re-check is not removed, nor anything in it" {
	swap_then_delete directory
}

@test "with --archive-files a directory swapped in after the re-check fails alone" {
	swap_then_delete directory --archive-files
}

@test "a symlink to a file outside swapped in after the re-check is not followed: link and target survive" {
	swap_then_delete symlink
}

@test "with --archive-files a symlink swapped in is not read: its target outside is not archived" {
	swap_then_delete symlink --archive-files
	run -1 grep -c 'data:outside' <(tar -xzOf a.tgz)
}

@test "a symlinked directory swapped in after the re-check is not followed: the file of that name outside survives" {
	swap_then_delete parent
}

@test "with --archive-files a symlinked directory swapped in is not followed: nothing outside is archived or deleted" {
	swap_then_delete parent --archive-files
	run -1 grep -c 'data:outside' <(tar -xzOf a.tgz)
}

@test "a symlink to /dev/null swapped in after the re-check is neither followed nor removed" {
	swap_then_delete devlink
}

@test "with --archive-files a symlink to /dev/null swapped in is not read" {
	swap_then_delete devlink --archive-files
}

@test "a character device swapped in after the re-check is neither opened nor removed" {
	swap_then_delete device
}

@test "with --archive-files a character device swapped in is not opened: it fails alone" {
	swap_then_delete device --archive-files
}

@test "--if-unchanged finds each swapped-in object changed and removes none of them" {
	local k
	for k in fifo socket directory symlink; do
		rm -rf s outside a.tgz
		plant
		confirm
		swap "$k"
		run --separate-stderr timeout "$T" arc-delete --act --if-unchanged \
		    -A a.tgz s m.ndjson <ok.rec
		[ "$status" -eq 1 ] || fail "$k: exit $status: $stderr"
		assert_output "$(res changed "$D/a.parquet"; res deleted "$D/b.parquet"
		    res deleted "$P/c.parquet")"
		still "$k" || fail "the $k swapped in was changed"
	done
}

@test "arc-recheck rejects a FIFO, socket, device or link at a candidate's path as 'error' without blocking, and confirms the others" {
	local k
	for k in fifo socket directory symlink devlink device; do
		[ "$k" = device ] && [ "$(id -u)" -ne 0 ] && continue
		rm -rf s outside
		plant
		timeout "$T" arc-manifest-dump m.ndjson >m.rec
		timeout "$T" arc-list s >s.rec
		timeout "$T" arc-diff -g 1h m.rec s.rec >c.rec || [ $? -eq 1 ]
		swap "$k"
		run --separate-stderr timeout "$T" arc-recheck -g 1h -R rej s m.ndjson <c.rec
		[ "$status" -eq 1 ] || fail "$k: exit $status: $stderr"
		assert_equal "$(cut -f2 <<<"$output")" "$(printf '%s\n' \
		    "$D/b.parquet" "$P/c.parquet")"
		assert_equal "$(cut -f1,3 rej)" "$(printf 'error\t%s' "$D/a.parquet")"
		assert_stderr --partial "'$D/a.parquet': cannot check: not a regular file"
		still "$k" || fail "the $k swapped in was changed"
	done
}

# --- restoring onto a swapped path ----------------------------------------------

# deleted_with_archive: plant, confirm and delete all three with
# --archive-files into a.tgz.
deleted_with_archive() {
	plant
	confirm
	run -0 --separate-stderr timeout "$T" arc-delete --act --archive-files \
	    -A a.tgz s m.ndjson <ok.rec
	[ ! -e "s/$D/a.parquet" ] && [ ! -e "s/$D/b.parquet" ] &&
	    [ ! -e "s/$P/c.parquet" ]
}

@test "--restore onto a FIFO or a symlink does not block or follow: those fail naming the path, the other file is restored" {
	deleted_with_archive
	mkfifo "s/$D/a.parquet"
	ln -s "$PWD/outside/victim.parquet" "s/$D/b.parquet"
	local before
	before=$(outside)
	run --separate-stderr timeout "$T" arc-delete --restore a.tgz s m.ndjson
	[ "$status" -eq 1 ] || fail "exit $status: $stderr"
	assert_output "$(res failed "$D/a.parquet" RESTORE_FAILED; res failed "$D/b.parquet" RESTORE_FAILED
	    res restored "$P/c.parquet")"
	assert_stderr --partial "'$D/a.parquet': cannot restore: a FIFO exists there"
	assert_stderr --partial "'$D/b.parquet': cannot restore: a symbolic link exists there"
	[ -p "s/$D/a.parquet" ]
	[ "$(readlink "s/$D/b.parquet")" = "$PWD/outside/victim.parquet" ]
	assert_equal "$(outside)" "$before"
	assert_equal "$(cat "s/$P/c.parquet")" "data:s/$P/c.parquet"
	# no temporary file is left beside them
	assert_equal "$(find s -name '.arc-restore*')" ''
}

@test "--restore under a directory swapped for a symlink writes nothing outside the store" {
	deleted_with_archive
	rm -r "s/$P"
	ln -s "$PWD/outside/empty" "s/$P"
	local before
	before=$(outside)
	run --separate-stderr timeout "$T" arc-delete --restore a.tgz s m.ndjson
	[ "$status" -eq 1 ] || fail "exit $status: $stderr"
	assert_output "$(res restored "$D/a.parquet"; res restored "$D/b.parquet"
	    res failed "$P/c.parquet" RESTORE_FAILED)"
	assert_stderr --partial "'$P/c.parquet': cannot restore: Not a directory"
	assert_equal "$(outside)" "$before"
	assert_equal "$(ls -A outside/empty)" ''
	assert_equal "$(cat "s/$D/a.parquet")" "data:s/$D/a.parquet"
}

# --- crafted archives -------------------------------------------------------------

# mkar OUT SPEC...: write the .tar.gz OUT with one member per SPEC, TAB
# separated: "f NAME CONTENT" a file, "l NAME TARGET" a symbolic link,
# "h NAME TARGET" a hard link, "c NAME" a character device (1,3),
# "p NAME" a FIFO, "d NAME" a directory.
mkar() {
	python3 - "$@" <<-'EOF'
	import io, sys, tarfile
	with tarfile.open(sys.argv[1], "w:gz", format=tarfile.PAX_FORMAT) as t:
	    for spec in sys.argv[2:]:
	        kind, name, arg = (spec.split("\t") + ["", ""])[:3]
	        ti = tarfile.TarInfo(name)
	        ti.mtime = 1775001600
	        ti.mode = 0o644
	        data = None
	        if kind == "f":
	            data = arg.encode()
	            ti.size = len(data)
	        elif kind == "l":
	            ti.type, ti.linkname = tarfile.SYMTYPE, arg
	        elif kind == "h":
	            ti.type, ti.linkname = tarfile.LNKTYPE, arg
	        elif kind == "c":
	            ti.type, ti.devmajor, ti.devminor = tarfile.CHRTYPE, 1, 3
	        elif kind == "p":
	            ti.type = tarfile.FIFOTYPE
	        elif kind == "d":
	            ti.type = tarfile.DIRTYPE
	        t.addfile(ti, io.BytesIO(data) if data is not None else None)
	EOF
}

# craft OUT STORE_ESCAPE: a tampered archive: a good member first (the
# positive control), then members that must each be refused; ESCAPE is
# the member that, its ".." segments resolved, names something outside
# the store (another bucket or container, or outside/ locally).
craft() {
	mkar "$1" \
	    "f	quarantine/$D/good.parquet	good bytes" \
	    "f	$2	escaped" \
	    "f	quarantine/../up.parquet	escaped" \
	    "f	/quarantine/$D/abs.parquet	absolute" \
	    "f	quarantine/$D//empty.parquet	empty segment" \
	    "f	quarantine/$D/./dot.parquet	dot segment" \
	    "l	quarantine/$D/link.parquet	/etc/passwd" \
	    "h	quarantine/$D/hard.parquet	quarantine/$D/good.parquet" \
	    "c	quarantine/$D/dev.parquet" \
	    "p	quarantine/$D/fifo.parquet" \
	    "d	quarantine/$D/" \
	    "f	../manifest-entries.ndjson	$(entry "$D/evil.parquet")"
}

# assert_crafted_refused ESCAPE: the output and messages of --restore of
# craft's archive: good restored, every other member refused by name.
assert_crafted_refused() {
	assert_output "$(res restored "$D/good.parquet"
	    res refused "${1#quarantine/}" RESTORE_REFUSED
	    res refused ../up.parquet RESTORE_REFUSED
	    res refused "$D/abs.parquet" RESTORE_REFUSED
	    res refused "$D//empty.parquet" RESTORE_REFUSED
	    res refused "$D/./dot.parquet" RESTORE_REFUSED
	    res refused "$D/link.parquet" RESTORE_REFUSED
	    res refused "$D/hard.parquet" RESTORE_REFUSED
	    res refused "$D/dev.parquet" RESTORE_REFUSED
	    res refused "$D/fifo.parquet" RESTORE_REFUSED)"
	assert_stderr --partial "arc-delete: '$1': member refused: path has a '..' segment"
	assert_stderr --partial "'quarantine/../up.parquet': member refused: path has a '..' segment"
	assert_stderr --partial "'/quarantine/$D/abs.parquet': member refused: absolute path"
	assert_stderr --partial "'quarantine/$D//empty.parquet': member refused: path has an empty segment"
	assert_stderr --partial "'quarantine/$D/./dot.parquet': member refused: path has a '.' segment"
	assert_stderr --partial "'quarantine/$D/link.parquet': member refused: a symbolic link"
	assert_stderr --partial "'quarantine/$D/hard.parquet': member refused: a hard link"
	assert_stderr --partial "'quarantine/$D/dev.parquet': member refused: a character device"
	assert_stderr --partial "'quarantine/$D/fifo.parquet': member refused: a FIFO"
	assert_stderr --partial "'../manifest-entries.ndjson': member refused: path has a '..' segment"
	refute_stderr --partial "member refused: a directory"
}

@test "a crafted archive restored into a local store: each unsafe member is refused by name, nothing is written outside, the good member is restored" {
	mkdir -p s/store outside/empty
	: >m.ndjson
	craft x.tgz "quarantine/../../outside/empty/x.parquet"
	run --separate-stderr timeout "$T" arc-delete --restore x.tgz s/store m.ndjson
	[ "$status" -eq 1 ] || fail "exit $status: $stderr"
	assert_crafted_refused "quarantine/../../outside/empty/x.parquet"
	assert_equal "$(cd s && find . ! -type d | LC_ALL=C sort)" "./store/$D/good.parquet"
	assert_equal "$(cat "s/store/$D/good.parquet")" 'good bytes'
	assert_equal "$(ls -A outside/empty)" ''
	[ ! -e s/up.parquet ] && [ ! -e up.parquet ] && [ ! -e /quarantine ]
	assert_equal "$(cat m.ndjson)" ''
}

@test "a clean archive from a real act run restores into a local store (the positive control)" {
	deleted_with_archive
	run -0 --separate-stderr timeout "$T" arc-delete --restore a.tgz s m.ndjson
	assert_output "$(res restored "$D/a.parquet"; res restored "$D/b.parquet"
	    res restored "$P/c.parquet")"
	assert_equal "$(cat "s/$P/c.parquet")" "data:s/$P/c.parquet"
}

# --- S3 ---------------------------------------------------------------------------

# s3keys BUCKET: every key in the bucket, from s3rver's directory.
s3keys() {
	[ -d "$S3_DATA/$1" ] || return 0
	(cd "$S3_DATA/$1" && find . -name '*._S3rver_object' -printf '%P\n') |
	    sed 's/\._S3rver_object$//' | LC_ALL=C sort
}

@test "a crafted archive restored onto S3: no member reaches another bucket or leaves the prefix, each is refused by name, the good one is put" {
	local b=st$BATS_TEST_NUMBER o=ot$BATS_TEST_NUMBER
	make_bucket "$b"
	make_bucket "$o"
	: >m.ndjson
	# /b/pre/db/../../../o/x.parquet is /o/x.parquet once dot segments go
	craft x.tgz "quarantine/db/../../../$o/x.parquet"
	run --separate-stderr timeout "$T" arc-delete --restore x.tgz "s3://$b/pre" m.ndjson
	[ "$status" -eq 1 ] || fail "exit $status: $stderr"
	assert_crafted_refused "quarantine/db/../../../$o/x.parquet"
	assert_equal "$(s3keys "$o")" ''
	assert_equal "$(s3keys "$b")" "pre/$D/good.parquet"
	run -0 s3curl "$AWS_ENDPOINT_URL/$b/pre/$D/good.parquet"
	assert_output 'good bytes'
}

@test "arc-recheck never sends a '..' path to S3: the candidate is an 'error' naming it, the other is confirmed" {
	local b=st$BATS_TEST_NUMBER o=ot$BATS_TEST_NUMBER
	make_bucket "$b"
	make_bucket "$o"
	s3put "$o" x.parquet
	s3put "$b" "$D/ok.parquet"
	touch -d "$OLD" "$S3_DATA/$o/x.parquet._S3rver_object" \
	    "$S3_DATA/$b/$D/ok.parquet._S3rver_object"
	: >m.ndjson
	printf 'orphan-storage\t%s\t2026-04-01T00:00:00Z\t-\n' \
	    "db/../../$o/x.parquet" "$D/ok.parquet" >c.rec
	run --separate-stderr timeout "$T" arc-recheck -g 1h -R rej "s3://$b" m.ndjson <c.rec
	[ "$status" -eq 1 ] || fail "exit $status: $stderr"
	assert_output "$(tail -1 c.rec)"
	assert_equal "$(cut -f1 rej)" error
	assert_stderr --partial "'db/../../$o/x.parquet': cannot check: path has a '..' segment"
}

@test "a clean archive from a real act run restores onto S3 (the positive control)" {
	local b=st$BATS_TEST_NUMBER
	make_bucket "$b"
	s3put "$b" "$D/a.parquet" 'bytes of a'
	touch -d "$OLD" "$S3_DATA/$b/$D/a.parquet._S3rver_object"
	: >m.ndjson
	printf 'orphan-storage\t%s\t2026-04-01T00:00:00Z\t-\n' "$D/a.parquet" >c.rec
	run -0 --separate-stderr timeout "$T" arc-delete --act --archive-files \
	    -A a.tgz "s3://$b" m.ndjson <c.rec
	assert_equal "$(s3keys "$b")" ''
	run -0 --separate-stderr timeout "$T" arc-delete --restore a.tgz "s3://$b" m.ndjson
	assert_output "$(res restored "$D/a.parquet")"
	run -0 s3curl "$AWS_ENDPOINT_URL/$b/$D/a.parquet"
	assert_output 'bytes of a'
}

# --- Azure ------------------------------------------------------------------------

# azblobs CONTAINER: every blob name in the container, from Azurite.
azblobs() {
	curl -s "$AZ_ENDPOINT/$1?restype=container&comp=list&maxresults=5000&$AZ_SAS" |
	    grep -o '<Name>[^<]*</Name>' | sed -e 's/<\/*Name>//g' | LC_ALL=C sort
}

@test "a crafted archive restored onto Azure: no member reaches another container or leaves the prefix, each is refused by name, the good one is put" {
	local c=st$BATS_TEST_NUMBER o=ot$BATS_TEST_NUMBER
	make_container "$c"
	make_container "$o"
	: >m.ndjson
	craft x.tgz "quarantine/db/../../../$o/x.parquet"
	run --separate-stderr timeout "$T" arc-delete --restore x.tgz "az://$c/pre" m.ndjson
	[ "$status" -eq 1 ] || fail "exit $status: $stderr"
	assert_crafted_refused "quarantine/db/../../../$o/x.parquet"
	assert_equal "$(azblobs "$o")" ''
	assert_equal "$(azblobs "$c")" "pre/$D/good.parquet"
	run -0 azget "$c" "pre/$D/good.parquet"
	assert_output 'good bytes'
}

@test "arc-recheck never sends a '..' path to Azure: the candidate is an 'error' naming it, the other is confirmed" {
	local c=st$BATS_TEST_NUMBER o=ot$BATS_TEST_NUMBER
	make_container "$c"
	make_container "$o"
	azput "$o" x.parquet
	azput "$c" "$D/ok.parquet"
	: >m.ndjson
	printf 'orphan-storage\t%s\t2026-04-01T00:00:00Z\t-\n' \
	    "db/../../$o/x.parquet" "$D/ok.parquet" >c.rec
	# the blobs are seconds old: checked as if years later
	run --separate-stderr timeout "$T" arc-recheck -t 2030-01-01T00:00:00Z \
	    -R rej "az://$c" m.ndjson <c.rec
	[ "$status" -eq 1 ] || fail "exit $status: $stderr"
	assert_output "$(tail -1 c.rec)"
	assert_equal "$(cut -f1 rej)" error
	assert_stderr --partial "'db/../../$o/x.parquet': cannot check: path has a '..' segment"
}

@test "a clean archive from a real act run restores onto Azure (the positive control)" {
	local c=st$BATS_TEST_NUMBER
	make_container "$c"
	azput "$c" "$D/a.parquet" 'bytes of a'
	: >m.ndjson
	printf 'orphan-storage\t%s\t2026-04-01T00:00:00Z\t-\n' "$D/a.parquet" >c.rec
	run -0 --separate-stderr timeout "$T" arc-delete --act --archive-files \
	    -A a.tgz "az://$c" m.ndjson <c.rec
	assert_equal "$(azblobs "$c")" ''
	run -0 --separate-stderr timeout "$T" arc-delete --restore a.tgz "az://$c" m.ndjson
	assert_output "$(res restored "$D/a.parquet")"
	run -0 azget "$c" "$D/a.parquet"
	assert_output 'bytes of a'
}
