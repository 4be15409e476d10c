#!/usr/bin/env bats
# arc-recheck STORE MANIFEST: re-check candidate records against the live
# store and manifest; confirmed candidates go to stdout in input order,
# streaming, rejected ones to -R as "reason TAB candidate".
load test_helper
bats_require_minimum_version 1.5.0

USAGE='usage: arc-recheck [-g grace] [-j jobs] [-k skew] [-R file] [-S file] [-t time]'

NOW=2026-04-11T14:00:00Z
OLD='2026-04-01 00:00:00'	# far outside the default grace window
OLDREC=2026-04-01T00:00:00Z

D=db/m/2026/04/11/12	# a managed directory: 6 segments, files make 7

# ocand PATH [REV]: an orphan-manifest candidate record (PATH as quoted).
ocand() {
	printf 'orphan-manifest\t%s\t2026-04-11T10:00:00Z\t10\tnode-1\t%s\n' \
	    "$1" "${2:-1}"
}

# scand PATH [MTIME [SIZE]]: an orphan-storage candidate record.
scand() {
	printf 'orphan-storage\t%s\t%s\t%s\n' "$1" "${2:-$OLDREC}" "${3:-36}"
}

# rej REASON CODE [AGE]: the reject record of the candidate on standard
# input: its reason, its reason code and the age it was judged by.
rej() {
	printf '%s\t%s\t%s\t%s\n' "$1" "$(cat)" "$2" "${3:--}"
}

# rfc TIME: a touch -d time as records write it.
rfc() {
	date -u -d "$1" +%Y-%m-%dT%H:%M:%SZ
}

# ts SECONDS-BEFORE-NOW: touch -d syntax for that many seconds before $NOW.
ts() {
	date -u -d "@$(($(date -u -d "$NOW" +%s) - $1))" '+%Y-%m-%d %H:%M:%S'
}

# counts FILE: the -S counts as "checked confirmed present in_manifest
# young gone error".
counts() {
	jq -r '[.checked, .confirmed, .present, .in_manifest, .young, .gone,
	    .error] | map(tostring) | join(" ")' "$1"
}

setup() {
	mkdir s
	: >m.ndjson
}

teardown() {
	remove_world
}

# --- usage and operands --------------------------------------------------

@test "without operands it prints the usage line and exits 2" {
	run -2 --separate-stderr arc-recheck </dev/null
	assert_output ''
	assert_equal "${stderr_lines[0]}" "$USAGE"
}

@test "--help prints the usage, its man page's SYNOPSIS, to standard output and exits 0; --version prints the one version" {
	assert_help arc-recheck
	assert_version arc-recheck
}

@test "with one or three operands it prints the usage line and exits 2" {
	run -2 --separate-stderr arc-recheck s </dev/null
	assert_output ''
	assert_stderr --partial 'usage: arc-recheck'
	run -2 --separate-stderr arc-recheck s m.ndjson m.ndjson </dev/null
	assert_output ''
	assert_stderr --partial 'usage: arc-recheck'
}

@test "an unknown option or an option missing its argument prints the usage line and exits 2" {
	run -2 --separate-stderr arc-recheck -x s m.ndjson </dev/null
	assert_output ''
	assert_stderr --partial 'usage: arc-recheck'
	local o
	for o in -g -j -k -R -S -t; do
		run -2 --separate-stderr arc-recheck s m.ndjson "$o" </dev/null
		assert_output ''
		assert_stderr --partial 'usage: arc-recheck'
	done
}

@test "-j 0 and -j 65 are refused with exit 2 before any candidate is checked" {
	ocand "$D/a.parquet" >c.rec
	local j
	for j in 0 65 -1 x 8x ''; do
		run -2 --separate-stderr arc-recheck -j "$j" -R rej s m.ndjson <c.rec
		assert_output ''
		assert_stderr --partial 'jobs must be 1 to 64'
	done
	[ ! -e rej ]
}

@test "a manifest operand '-' is refused: the manifest must be re-read" {
	ocand "$D/a.parquet" >c.rec
	run -2 --separate-stderr arc-recheck s - <c.rec
	assert_output ''
	assert_stderr --partial "cannot be '-'"
}

@test "a missing store is an error naming it, exit 2, nothing confirmed" {
	ocand "$D/a.parquet" >c.rec
	run -2 --separate-stderr arc-recheck nosuch m.ndjson <c.rec
	assert_output ''
	assert_stderr --partial "'nosuch'"
}

@test "a store that is a symbolic link is refused, exit 2" {
	ln -s s link
	ocand "$D/a.parquet" >c.rec
	run -2 --separate-stderr arc-recheck link m.ndjson <c.rec
	assert_output ''
	assert_stderr --partial "'link'"
}

@test "an invalid -g, -k or -t is an error, exit 2" {
	ocand "$D/a.parquet" >c.rec
	run -2 --separate-stderr arc-recheck -g 1x s m.ndjson <c.rec
	assert_output ''
	assert_stderr --partial "'1x'"
	run -2 --separate-stderr arc-recheck -k soon s m.ndjson <c.rec
	assert_output ''
	assert_stderr --partial "'soon'"
	run -2 --separate-stderr arc-recheck -t yesterday s m.ndjson <c.rec
	assert_output ''
	assert_stderr --partial "'yesterday'"
}

@test "a -R file that cannot be created is an error, exit 2" {
	ocand "$D/a.parquet" >c.rec
	run -2 --separate-stderr arc-recheck -R nodir/rej s m.ndjson <c.rec
	assert_output ''
	assert_stderr --partial "'nodir/rej'"
}

@test "empty input confirms nothing, exits 0 and counts zero" {
	run -0 --separate-stderr arc-recheck -R rej -S st.json s m.ndjson </dev/null
	assert_output ''
	assert_stderr ''
	[ ! -s rej ]
	assert_equal "$(counts st.json)" "0 0 0 0 0 0 0"
}

# --- orphan-manifest: only a definite "not found" confirms -------------------

@test "an orphan-manifest candidate whose file is absent is confirmed, its record verbatim" {
	mkfile "s/$D/other.parquet" "$OLD"
	ocand "$D/a.parquet" 42 >c.rec
	run -0 --separate-stderr arc-recheck -R rej s m.ndjson <c.rec
	assert_output "$(cat c.rec)"
	assert_stderr ''
	[ ! -s rej ]
}

@test "an orphan-manifest candidate is confirmed when even its directory is absent" {
	ocand "db/nosuch/2026/04/11/12/a.parquet" >c.rec
	run -0 --separate-stderr arc-recheck s m.ndjson <c.rec
	assert_output "$(cat c.rec)"
}

@test "an orphan-manifest candidate whose file is present again is rejected as 'present', exit 1" {
	mkfile "s/$D/a.parquet" "$OLD"
	ocand "$D/a.parquet" >c.rec
	run -1 --separate-stderr arc-recheck -R rej s m.ndjson <c.rec
	assert_output ''
	assert_equal "$(cat rej)" "$(rej present RECHECK_PRESENT <c.rec)"
}

@test "a file that is present but young is still 'present' for an orphan-manifest candidate" {
	mkfile "s/$D/a.parquet" now
	ocand "$D/a.parquet" >c.rec
	run -1 --separate-stderr arc-recheck -R rej s m.ndjson <c.rec
	assert_output ''
	assert_equal "$(cut -f1 rej)" present
}

@test "a dangling symbolic link at the path counts as present, never as absent" {
	mkdir -p "s/$D"
	ln -s /nonexistent/target "s/$D/a.parquet"
	ocand "$D/a.parquet" >c.rec
	run -1 --separate-stderr arc-recheck -R rej s m.ndjson <c.rec
	assert_output ''
	assert_equal "$(cut -f1 rej)" present
}

@test "a path component that is a file, not a directory, is an 'error', never a confirmation" {
	mkfile "s/db/m/2026/04/11/12" "$OLD"	# a file where a directory belongs
	ocand "$D/a.parquet" >c.rec
	run -1 --separate-stderr arc-recheck -R rej s m.ndjson <c.rec
	assert_output ''
	assert_equal "$(cat rej)" "$(rej error RECHECK_ERROR <c.rec)"
	assert_stderr --partial "'$D/a.parquet'"
}

@test "a symlinked directory component is never followed: 'error', even where the target lacks the file" {
	mkdir -p outside/dir "s/db/m/2026/04/11"
	ln -s "$PWD/outside/dir" "s/$D"
	ocand "$D/a.parquet" >c.rec
	run -1 --separate-stderr arc-recheck -R rej s m.ndjson <c.rec
	assert_output ''
	assert_equal "$(cut -f1 rej)" error
}

@test "a symlinked directory component that dangles is an 'error', not 'absent'" {
	mkdir -p "s/db/m/2026/04/11"
	ln -s /nonexistent/dir "s/$D"
	ocand "$D/a.parquet" >c.rec
	run -1 --separate-stderr arc-recheck -R rej s m.ndjson <c.rec
	assert_output ''
	assert_equal "$(cut -f1 rej)" error
}

@test "unsafe orphan-manifest paths ('..', absolute, empty or '.' segment) are rejected as 'error'" {
	mkdir -p "s/$D"
	local p
	for p in "db/../$D/a.parquet" /etc/passwd "db//m/a.parquet" \
	    "db/./m/a.parquet" "$D/a.parquet/" ..; do
		ocand "$p"
	done | LC_ALL=C sort >c.rec
	run -1 --separate-stderr arc-recheck -R rej -S st.json s m.ndjson <c.rec
	assert_output ''
	assert_equal "$(cut -f1 rej | sort -u)" error
	assert_equal "$(wc -l <rej)" 6
	assert_equal "$(counts st.json)" "6 0 0 0 0 0 6"
}

@test "a directory that cannot be searched gives 'error', never a confirmation" {
	need_unpriv
	WORLD=$(mktemp -d /tmp/arc-recheck-bats.XXXXXX)
	chmod 777 "$WORLD"
	mkdir -p "$WORLD/s/$D"
	: >"$WORLD/m.ndjson"
	chmod 644 "$WORLD/m.ndjson"
	chmod 000 "$WORLD/s/db/m"
	ocand "$D/a.parquet" >"$WORLD/c.rec"
	scand "$D/b.parquet" >>"$WORLD/c.rec"
	chmod 644 "$WORLD/c.rec"
	run -1 --separate-stderr unpriv sh -c \
	    'arc-recheck -R "$1/rej" "$1/s" "$1/m.ndjson" <"$1/c.rec"' \
	    sh "$WORLD"
	assert_output ''
	assert_equal "$(cut -f1,2 "$WORLD/rej")" \
	    "$(printf 'error\torphan-manifest\nerror\torphan-storage')"
}

# --- orphan-storage: still there, still old, still unregistered ----------------

@test "an old orphan-storage file absent from the manifest is confirmed, its record verbatim" {
	mkfile "s/$D/a.parquet" "$OLD"
	entry "$D/other.parquet" >m.ndjson
	scand "$D/a.parquet" >c.rec
	run -0 --separate-stderr arc-recheck -t "$NOW" -R rej s m.ndjson <c.rec
	assert_output "$(cat c.rec)"
	assert_stderr ''
	[ ! -s rej ]
}

@test "a file touched after the diff is rejected as 'young'" {
	mkfile "s/$D/a.parquet" "$OLD"
	scand "$D/a.parquet" >c.rec	# the diff saw it old
	touch -d "$(ts 60)" "s/$D/a.parquet"
	run -1 --separate-stderr arc-recheck -t "$NOW" -R rej s m.ndjson <c.rec
	assert_output ''
	assert_equal "$(cat rej)" "$(rej young TOO_YOUNG "$(rfc "$(ts 60)")" <c.rec)"
}

@test "the live mtime decides, not the mtime written in the record" {
	mkfile "s/$D/a.parquet" "$OLD"
	scand "$D/a.parquet" "$NOW" >c.rec	# the record claims it is brand new
	run -0 --separate-stderr arc-recheck -t "$NOW" s m.ndjson <c.rec
	assert_output "$(cat c.rec)"
}

@test "a file removed after the diff is rejected as 'gone'" {
	scand "$D/a.parquet" >c.rec
	run -1 --separate-stderr arc-recheck -t "$NOW" -R rej s m.ndjson <c.rec
	assert_output ''
	assert_equal "$(cat rej)" "$(rej gone GONE <c.rec)"
}

@test "a path registered in the manifest after the diff is rejected as 'in-manifest'" {
	mkfile "s/$D/a.parquet" "$OLD"
	entry "$D/other.parquet" >m.ndjson
	scand "$D/a.parquet" >c.rec
	entry "$D/a.parquet" node-2 7 >>m.ndjson
	run -1 --separate-stderr arc-recheck -t "$NOW" -R rej s m.ndjson <c.rec
	assert_output ''
	assert_equal "$(cat rej)" "$(rej in-manifest RECHECK_REGISTERED <c.rec)"
}

@test "a path registered after the diff under another spelling ('./', '//', a trailing '/') is rejected as 'in-manifest'" {
	local sp
	mkfile "s/$D/a.parquet" "$OLD"
	mkfile "s/$D/b.parquet" "$OLD"
	{ scand "$D/a.parquet"; scand "$D/b.parquet"; } >c.rec
	for sp in "$D/./a.parquet" "$D//a.parquet" "$D/a.parquet/" "./$D/a.parquet"; do
		entry "$sp" node-2 7 >m.ndjson
		run -1 --separate-stderr arc-recheck -t "$NOW" -R rej s m.ndjson <c.rec
		# the control: b, registered under no spelling, is confirmed
		assert_output "$(scand "$D/b.parquet")"
		assert_equal "$(cat rej)" "$(scand "$D/a.parquet" | rej in-manifest RECHECK_REGISTERED)"
	done
}

@test "a path registered in a manifest that is an Arc response body is 'in-manifest'" {
	mkfile "s/$D/a.parquet" "$OLD"
	mkfile "s/$D/b.parquet" "$OLD"
	{ entry "$D/a.parquet"; entry "$D/z.parquet"; } |
	    jq -s '{files: ., total: length}' >m.json
	{ scand "$D/a.parquet"; scand "$D/b.parquet"; } >c.rec
	run -1 --separate-stderr arc-recheck -t "$NOW" -R rej s m.json <c.rec
	assert_output "$(scand "$D/b.parquet")"
	assert_equal "$(cut -f1,3 rej)" "$(printf 'in-manifest\t%s' "$D/a.parquet")"
}

@test "a directory where the file was is rejected as 'error'" {
	mkdir -p "s/$D/a.parquet"
	touch -d "$OLD" "s/$D/a.parquet"
	scand "$D/a.parquet" >c.rec
	run -1 --separate-stderr arc-recheck -t "$NOW" -R rej s m.ndjson <c.rec
	assert_output ''
	assert_equal "$(cut -f1 rej)" error
	assert_stderr --partial "'$D/a.parquet'"
}

@test "a symbolic link to an old file outside the store is rejected as 'error'" {
	mkfile outside/t.parquet "$OLD"
	mkdir -p "s/$D"
	ln -s "$PWD/outside/t.parquet" "s/$D/a.parquet"
	touch -h -d "$OLD" "s/$D/a.parquet"
	scand "$D/a.parquet" >c.rec
	run -1 --separate-stderr arc-recheck -t "$NOW" -R rej s m.ndjson <c.rec
	assert_output ''
	assert_equal "$(cut -f1 rej)" error
}

@test "an orphan-storage file under a symlinked directory is rejected as 'error'" {
	mkfile outside/dir/a.parquet "$OLD"
	mkdir -p s/db/m/2026/04/11
	ln -s "$PWD/outside/dir" "s/$D"
	scand "$D/a.parquet" >c.rec
	run -1 --separate-stderr arc-recheck -t "$NOW" -R rej s m.ndjson <c.rec
	assert_output ''
	assert_equal "$(cut -f1 rej)" error
}

@test "an orphan-storage file under a path component that is a file is rejected as 'error'" {
	mkfile "s/db/m/2026/04/11/12" "$OLD"
	scand "$D/a.parquet" >c.rec
	run -1 --separate-stderr arc-recheck -t "$NOW" -R rej s m.ndjson <c.rec
	assert_output ''
	assert_equal "$(cut -f1 rej)" error
}

@test "a manifest operand that cannot be read is exit 2, as arc(7) says" {
	mkfile "s/$D/a.parquet" "$OLD"
	scand "$D/a.parquet" >c.rec
	run -2 --separate-stderr arc-recheck -t "$NOW" s nosuch.ndjson <c.rec
	assert_output ''
}

@test "a manifest holding malformed JSON never confirms an orphan-storage candidate" {
	mkfile "s/$D/a.parquet" "$OLD"
	printf '{"path": "%s", "lsn": 1' "$D/a.parquet" >m.ndjson	# truncated
	scand "$D/a.parquet" >c.rec
	run --separate-stderr arc-recheck -t "$NOW" -R rej s m.ndjson <c.rec
	[ "$status" -ne 0 ]
	assert_output ''
	assert_equal "$(cut -f1 rej)" error
}

# --- the grace window, again, now ----------------------------------------------

@test "a file exactly grace+skew old (24h5m by default) is confirmed, one second younger is 'young'" {
	mkfile "s/$D/a.parquet" "$(ts 86700)"
	mkfile "s/$D/b.parquet" "$(ts 86699)"
	{ scand "$D/a.parquet"; scand "$D/b.parquet"; } >c.rec
	run -1 --separate-stderr arc-recheck -t "$NOW" -R rej s m.ndjson <c.rec
	assert_output "$(scand "$D/a.parquet")"
	assert_equal "$(cut -f1,3 rej)" "$(printf 'young\t%s' "$D/b.parquet")"
}

@test "-g and -k set the grace window and the clock skew allowance" {
	mkfile "s/$D/a.parquet" "$(ts 3600)"
	mkfile "s/$D/b.parquet" "$(ts 3599)"
	{ scand "$D/a.parquet"; scand "$D/b.parquet"; } >c.rec
	run -1 --separate-stderr arc-recheck -t "$NOW" -g 1h -k 0s s m.ndjson <c.rec
	assert_output "$(scand "$D/a.parquet")"
	run -1 --separate-stderr arc-recheck -t "$NOW" -g 50m -k 10m s m.ndjson <c.rec
	assert_output "$(scand "$D/a.parquet")"
	run -1 --separate-stderr arc-recheck -t "$NOW" -g 30m -k 31m s m.ndjson <c.rec
	assert_output ''
	run -0 --separate-stderr arc-recheck -t "$NOW" -g 0s -k 0s s m.ndjson <c.rec
	assert_equal "${#lines[@]}" 2
}

@test "a file with a future mtime is 'young'" {
	mkfile "s/$D/a.parquet" "$(ts -3600)"
	scand "$D/a.parquet" >c.rec
	run -1 --separate-stderr arc-recheck -t "$NOW" -g 0s -k 0s -R rej s m.ndjson <c.rec
	assert_output ''
	assert_equal "$(cut -f1 rej)" young
}

@test "-t accepts a time with an offset and means the same instant" {
	mkfile "s/$D/a.parquet" "$(ts 3600)"
	scand "$D/a.parquet" >c.rec
	run -0 --separate-stderr arc-recheck -t 2026-04-11T16:00:00+02:00 -g 1h -k 0s s m.ndjson <c.rec
	assert_output "$(cat c.rec)"
	run -1 --separate-stderr arc-recheck -t 2026-04-11T15:59:59+02:00 -g 1h -k 0s s m.ndjson <c.rec
	assert_output ''
}

@test "without -t the current time is used" {
	mkfile "s/$D/old.parquet" '2 days ago'
	mkfile "s/$D/new.parquet" now
	{ scand "$D/new.parquet"; scand "$D/old.parquet"; } >c.rec
	run -1 --separate-stderr arc-recheck -R rej s m.ndjson <c.rec
	assert_output "$(scand "$D/old.parquet")"
	assert_equal "$(cut -f1,3 rej)" "$(printf 'young\t%s' "$D/new.parquet")"
}

# --- reports, counts, order --------------------------------------------------

# every_reason: a store, manifest and candidates giving each outcome once,
# interleaved; sets EXPECT_OUT and EXPECT_REJ.
every_reason() {
	mkfile "s/$D/b-present.parquet" "$OLD"
	mkfile "s/$D/c-young.parquet" "$(ts 10)"
	mkfile "s/$D/e-registered.parquet" "$OLD"
	mkfile "s/$D/g-ok.parquet" "$OLD"
	mkdir -p "s/$D/h-dir.parquet"
	entry "$D/e-registered.parquet" >m.ndjson
	{
		ocand "$D/a-absent.parquet"
		ocand "$D/b-present.parquet"
		scand "$D/c-young.parquet"
		scand "$D/d-gone.parquet"
		scand "$D/e-registered.parquet"
		ocand "$D/f-absent.parquet"
		scand "$D/g-ok.parquet"
		scand "$D/h-dir.parquet"
	} >c.rec
	EXPECT_OUT=$(printf '%s\n' "$(ocand "$D/a-absent.parquet")" \
	    "$(ocand "$D/f-absent.parquet")" "$(scand "$D/g-ok.parquet")")
	EXPECT_REJ=$(printf '%s\n' \
	    "$(ocand "$D/b-present.parquet" | rej present RECHECK_PRESENT)" \
	    "$(scand "$D/c-young.parquet" | rej young TOO_YOUNG "$(rfc "$(ts 10)")")" \
	    "$(scand "$D/d-gone.parquet" | rej gone GONE)" \
	    "$(scand "$D/e-registered.parquet" | rej in-manifest RECHECK_REGISTERED)" \
	    "$(scand "$D/h-dir.parquet" | rej error RECHECK_ERROR)")
}

@test "-R writes each rejected candidate as 'reason TAB candidate', in input order" {
	every_reason
	run -1 --separate-stderr arc-recheck -t "$NOW" -R rej s m.ndjson <c.rec
	assert_output "$EXPECT_OUT"
	assert_equal "$(cat rej)" "$EXPECT_REJ"
}

@test "the -R file is itself readable as reject records: reason, kind, record" {
	every_reason
	run -1 --separate-stderr arc-recheck -t "$NOW" -R rej s m.ndjson <c.rec
	# the candidate part of each reject line (before the code and the
	# age) is a line of the input
	sed 's/\t[^\t]*\t[^\t]*$//' rej | cut -f2- | while IFS= read -r l; do
		grep -qxF -- "$l" c.rec
	done
}

@test "-S writes the counts as JSON" {
	every_reason
	run -1 --separate-stderr arc-recheck -t "$NOW" -S st.json s m.ndjson <c.rec
	assert_equal "$(counts st.json)" "8 3 1 1 1 1 1"
}

@test "-S with a file that cannot be created is an error, exit 2" {
	ocand "$D/a.parquet" >c.rec
	run -2 --separate-stderr arc-recheck -S nodir/st.json s m.ndjson <c.rec
	assert_stderr --partial "'nodir/st.json'"
}

@test "without -R rejections are only counted and the exit is 1" {
	every_reason
	run -1 --separate-stderr arc-recheck -t "$NOW" s m.ndjson <c.rec
	assert_output "$EXPECT_OUT"
}

@test "exit 0 when every candidate is confirmed" {
	mkfile "s/$D/b.parquet" "$OLD"
	{ ocand "$D/a.parquet"; scand "$D/b.parquet"; } >c.rec
	run -0 --separate-stderr arc-recheck -t "$NOW" s m.ndjson <c.rec
	assert_output "$(cat c.rec)"
}

# many: 2500 interleaved candidates (more than one window), a third of
# each kind rejected (present, gone).
many() {
	mkdir -p "s/$D"
	seq -w 0 2499 | awk -v d="$D" -v t="$OLDREC" '
	    { p = d "/f" $1 ".parquet"; k = $1 % 6 }
	    k <= 2 { printf "orphan-manifest\t%s\t%s\t10\tnode-1\t1\n", p, t }
	    k >= 3 { printf "orphan-storage\t%s\t%s\t36\n", p, t }
	    k == 1 || k == 3 || k == 5 { print "s/" p >"files" }' >c.rec
	xargs touch -d "$OLD" <files
}

@test "-j 1 and -j 64 give the same output and rejections, in input order" {
	many
	run -1 --separate-stderr arc-recheck -j 1 -t "$NOW" -R rej1 s m.ndjson <c.rec
	printf '%s\n' "$output" >out1
	run -1 --separate-stderr arc-recheck -j 64 -t "$NOW" -R rej64 s m.ndjson <c.rec
	printf '%s\n' "$output" >out64
	cmp out1 out64
	cmp rej1 rej64
	assert_equal "$(wc -l <out1)" 1667
	assert_equal "$(wc -l <rej1)" 833
	# input order: the confirmed lines are a subsequence of the input
	grep -vxF -f <(sed 's/\t[^\t]*\t[^\t]*$//' rej1 | cut -f2-) c.rec | cmp - out1
}

@test "output keeps input order when candidates of both kinds are interleaved" {
	mkfile "s/$D/b.parquet" "$OLD"
	mkfile "s/$D/d.parquet" "$OLD"
	{
		scand "$D/b.parquet"
		ocand "$D/a.parquet"
		scand "$D/d.parquet"
		ocand "$D/c.parquet"
	} >c.rec
	run -0 --separate-stderr arc-recheck -j 4 -t "$NOW" s m.ndjson <c.rec
	assert_output "$(cat c.rec)"
}

@test "a confirmed record is written before the input ends (streaming)" {
	mkfifo in out
	arc-recheck s m.ndjson <in >out 2>err 3>&- &
	local pid=$! line=
	exec 5>in 6<out
	ocand "$D/a.parquet" >&5
	read -t 10 -r line <&6 || true
	ocand "$D/b.parquet" >&5
	local line2=
	read -t 10 -r line2 <&6 || true
	exec 5>&-
	wait "$pid"
	exec 6<&-
	assert_equal "$line" "$(ocand "$D/a.parquet")"
	assert_equal "$line2" "$(ocand "$D/b.parquet")"
}

@test "a rejection is written to an -R FIFO before the input ends (streaming)" {
	mkfile "s/$D/a.parquet" "$OLD"
	mkfifo in rej
	arc-recheck -R rej s m.ndjson <in >/dev/null 2>err 3>&- &
	local pid=$! seen=
	exec 5>in 6<rej
	ocand "$D/a.parquet" >&5
	read -t 10 -r seen <&6 || true
	exec 5>&-
	wait "$pid" || true
	exec 6<&-
	assert_equal "$seen" "$(ocand "$D/a.parquet" | rej present RECHECK_PRESENT)"
}

@test "a regular -R file appears only whole, when the run ends" {
	mkfile "s/$D/a.parquet" "$OLD"
	mkfifo in
	arc-recheck -R rej s m.ndjson <in >/dev/null 2>err 3>&- &
	local pid=$!
	exec 5>in
	ocand "$D/a.parquet" >&5
	sleep 1
	[ ! -e rej ]	# not yet: only a temporary file beside it
	[ "$(ls rej.tmp.* | wc -l)" -eq 1 ]
	exec 5>&-
	wait "$pid" || true
	assert_equal "$(cat rej)" "$(ocand "$D/a.parquet" | rej present RECHECK_PRESENT)"
	[ -z "$(ls rej.tmp.* 2>/dev/null)" ]
}

# --- malformed input ------------------------------------------------------

@test "unsorted candidates are exit 2 naming the line" {
	{ ocand "$D/b.parquet"; ocand "$D/a.parquet"; } >c.rec
	run -2 --separate-stderr arc-recheck s m.ndjson <c.rec
	assert_stderr --partial 'not sorted at line 2'
}

@test "a duplicate candidate path is exit 2 naming the line" {
	{ ocand "$D/a.parquet"; ocand "$D/a.parquet"; } >c.rec
	run -2 --separate-stderr arc-recheck s m.ndjson <c.rec
	assert_stderr --partial 'duplicate path at line 2'
}

@test "each kind ascends on its own: an interleaved stream is sorted" {
	mkfile "s/$D/a.parquet" "$OLD"
	{ scand "$D/a.parquet"; ocand "$D/b.parquet"; ocand "$D/c.parquet"; } >c.rec
	run -0 --separate-stderr arc-recheck -t "$NOW" s m.ndjson <c.rec
	assert_output "$(cat c.rec)"
}

@test "malformed candidate records are exit 2 naming the line" {
	local bad
	while IFS= read -r bad; do
		{ ocand "$D/a.parquet"; printf '%b\n' "$bad"; } >c.rec
		run -2 --separate-stderr arc-recheck s m.ndjson <c.rec
		assert_stderr --partial 'at line 2'
	done <<-'EOF'
	orphan-thing\tdb/x\t-\t-
	orphan-manifest\tdb/x\t-\t-
	orphan-storage\tdb/x\t-\t-\t-
	orphan-storage\tdb/x\\q\t-\t-
	orphan-storage\tdb/x\t2026-04-11\t-
	orphan-storage\tdb/x\t-\tten
	orphan-storage\t\t-\t-
	db/x\t-\t-
	present\torphan-storage\tdb/x\t-\t-
	EOF
}

@test "a NUL byte in a record is exit 2" {
	printf 'orphan-storage\tdb/a\0b\t-\t-\n' >c.rec
	run -2 --separate-stderr arc-recheck s m.ndjson <c.rec
	assert_stderr --partial 'NUL'
}

@test "a last record without its newline is still a record" {
	ocand "$D/a.parquet" | tr -d '\n' >c.rec
	run -0 --separate-stderr arc-recheck s m.ndjson <c.rec
	assert_output "$(ocand "$D/a.parquet")"
}

@test "a write error on standard output (>/dev/full) is an error, exit 2" {
	ocand "$D/a.parquet" >c.rec
	run -2 --separate-stderr sh -c 'arc-recheck s m.ndjson <c.rec >/dev/full'
	assert_stderr --partial 'write error'
}

@test "a write error on -R (/dev/full) is an error, exit 2" {
	mkfile "s/$D/a.parquet" "$OLD"
	ocand "$D/a.parquet" >c.rec
	run -2 --separate-stderr arc-recheck -R /dev/full s m.ndjson <c.rec
	assert_stderr --partial 'write error'
}

# --- funny paths ----------------------------------------------------------------

# FUNNY: names with a space, TAB, newline, CR, backslash, quote, leading
# '-', control byte, UTF-8 and a byte that is not UTF-8.
FUNNY=('sp ace' $'t\tab' $'new\nline' $'cr\rx' 'back\slash' 'q"uote' -lead
    $'ctl\x01' $'\xc3\xa9' $'\xff')

# funny_candidates: orphan-manifest candidates for absent funny files and
# orphan-storage candidates for old funny files, made by the real tools.
funny_candidates() {
	local p
	for p in "${FUNNY[@]}"; do
		mkfile "s/$D/s-$p.parquet" "$OLD"
		jentry "$D/m-$p.parquet"
	done >m0.ndjson
	arc-manifest-dump m0.ndjson >m.rec
	arc-list s >s.rec
	arc-diff -t "$NOW" m.rec s.rec >c.rec || [ $? -eq 1 ]
	[ "$(wc -l <c.rec)" -eq 20 ]
}

@test "funny paths of both kinds are confirmed, records passed through byte for byte" {
	funny_candidates
	run -0 --separate-stderr arc-recheck -t "$NOW" s m.ndjson <c.rec
	assert_stderr ''
	printf '%s\n' "$output" | cmp - c.rec
}

@test "funny paths are checked by their decoded names: files present again are 'present'" {
	funny_candidates
	local p
	for p in "${FUNNY[@]}"; do
		mkfile "s/$D/m-$p.parquet" "$OLD"
	done
	run -1 --separate-stderr arc-recheck -t "$NOW" -R rej s m.ndjson <c.rec
	assert_equal "$(grep -c orphan-manifest <<<"$output")" 0
	assert_equal "$(grep -c '^present	orphan-manifest	' rej)" 10
}

@test "funny paths are looked up by their decoded names: registered ones are 'in-manifest'" {
	funny_candidates
	local p
	for p in "${FUNNY[@]}"; do
		jentry "$D/s-$p.parquet"
	done >m.ndjson
	run -1 --separate-stderr arc-recheck -t "$NOW" -R rej s m.ndjson <c.rec
	assert_equal "$(grep -c orphan-storage <<<"$output")" 0
	assert_equal "$(grep -c '^in-manifest	orphan-storage	' rej)" 10
}

@test "funny paths are stat'ed by their decoded names: removed ones are 'gone', touched ones 'young'" {
	funny_candidates
	local p
	for p in 'sp ace' $'t\tab' $'new\nline' 'back\slash' -lead; do
		rm "s/$D/s-$p.parquet"
	done
	for p in $'cr\rx' 'q"uote' $'ctl\x01' $'\xc3\xa9' $'\xff'; do
		touch -d "$(ts 5)" "s/$D/s-$p.parquet"
	done
	run -1 --separate-stderr arc-recheck -t "$NOW" -R rej s m.ndjson <c.rec
	assert_equal "$(grep -c '^gone	' rej)" 5
	assert_equal "$(grep -c '^young	' rej)" 5
}

# many_storage N: N orphan-storage candidates in c.rec, their files in s,
# every tenth also in the manifest m.ndjson with forty other entries.
many_storage() {
	local i p
	: >m.ndjson
	for i in $(seq 1 40); do
		entry "$D/kept_$i.parquet" >>m.ndjson
	done
	/usr/bin/python3 -c '
import os, sys
d, n = sys.argv[1], int(sys.argv[2])
os.makedirs("s/" + d, exist_ok=True)
with open("c.rec", "w") as c, open("m.ndjson", "a") as m:
    for i in range(n):
        p = "%s/f_%05d.parquet" % (d, i)
        with open("s/" + p, "w") as f:
            f.write("x" * 36)
        os.utime("s/" + p, (1775001600, 1775001600))
        c.write("orphan-storage\t%s\t2026-04-01T00:00:00Z\t36\n" % p)
        if i % 10 == 9:
            m.write("{\"path\":\"%s\",\"created_at\":\"2026-04-11T14:00:00Z\",\"size_bytes\":36,\"database\":\"db\",\"measurement\":\"m\",\"origin_node_id\":\"node-1\",\"lsn\":1}\n" % p)
' "$D" "$1"
}

@test "candidates in a file are looked up with one pass over a manifest file for all their windows; from a pipe, one pass a window; the same paths rejected either way" {
	many_storage 2500
	run -1 arc-recheck -t "$NOW" -R rej.file -S st.file s m.ndjson <c.rec
	cp <(printf '%s\n' "$output") ok.file
	run -1 --separate-stderr sh -c 'cat c.rec | arc-recheck -t "$1" -R rej.pipe -S st.pipe s m.ndjson' sh "$NOW"
	cp <(printf '%s\n' "$output") ok.pipe
	cmp ok.file ok.pipe
	cmp rej.file rej.pipe
	[ "$(wc -l <rej.file)" -eq 250 ]
	[ "$(jq .in_manifest st.file)" -eq 250 ]
	# windows of at most 1000: one pass from the file, one a window from
	# the pipe (more windows when the pipe runs dry for a moment)
	run -0 jq -c '[.manifest_passes, .manifest_tails]' st.file
	assert_output '[1,0]'
	[ "$(jq .manifest_passes st.pipe)" -ge 3 ]
}

@test "candidates beyond what one announcement holds are looked up in more passes over a manifest file, with the same paths rejected" {
	many_storage 2500
	run -1 arc-recheck -t "$NOW" -R rej.one -S st.one s m.ndjson <c.rec
	cp <(printf '%s\n' "$output") ok.one
	run -0 jq -c '[.manifest_passes, .manifest_tails]' st.one
	assert_output '[1,0]'
	# about 1400 paths an announcement: the windows of 1000 cross two
	run -1 env ARC_RECHECK_PLAN_BYTES=400000 arc-recheck -t "$NOW" \
	    -R rej.few -S st.few s m.ndjson <c.rec
	cp <(printf '%s\n' "$output") ok.few
	cmp ok.one ok.few
	cmp rej.one rej.few
	[ "$(wc -l <rej.few)" -eq 250 ]
	[ "$(jq .in_manifest st.few)" -eq 250 ]
	[ "$(jq .manifest_passes st.few)" -gt 1 ]
	[ "$(jq .manifest_passes st.few)" -le 3 ]
	# a budget below one window still looks a window up in one pass
	run -1 env ARC_RECHECK_PLAN_BYTES=1 arc-recheck -t "$NOW" \
	    -R rej.tiny -S st.tiny s m.ndjson <c.rec
	cmp rej.one rej.tiny
	[ "$(jq .manifest_passes st.tiny)" -eq 3 ]
}

@test "an invalid ARC_RECHECK_PLAN_BYTES is refused before anything is read" {
	many_storage 10
	run -2 env ARC_RECHECK_PLAN_BYTES=lots arc-recheck -t "$NOW" s m.ndjson <c.rec
	assert_output "arc-recheck: 'lots': invalid ARC_RECHECK_PLAN_BYTES (1 to 2^40)"
	run -1 env ARC_RECHECK_PLAN_BYTES=4096 arc-recheck -t "$NOW" s m.ndjson <c.rec
	[ "${#lines[@]}" -eq 9 ]
}
