# crashlib.bash - helpers shared by crash.bats and race.bats: worlds
# planted in one process, victims started in their own process group and
# killed by that group's id (never by name), polling without a process per
# poll (the machine is loaded: a fork costs tens of milliseconds), and the
# checks made after every kill.  Load it after test_helper.

# ---- fork-free waiting -------------------------------------------------

# pause_init: open the silent FIFO that pause reads from.
pause_init() {
	[ -n "${PAUSE_FD:-}" ] && return 0
	mkfifo "$BATS_TEST_TMPDIR/.pause"
	exec {PAUSE_FD}<>"$BATS_TEST_TMPDIR/.pause"
}

# pause [SECONDS]: sleep (default 5 ms) without starting a process.
pause() {
	read -r -t "${1:-0.005}" -u "$PAUSE_FD" _ || true
}

# now_ms: sets NOW_MS to the wall clock in milliseconds.
now_ms() {
	local s=${EPOCHREALTIME/./}
	NOW_MS=$((s / 1000))
}

# nlines FILE: sets NL to the number of lines of FILE (0 if missing).
nlines() {
	local a=()
	[ -f "$1" ] && mapfile -t a <"$1"
	NL=${#a[@]}
}

# nevents FILE EVENT: sets NE to the number of audit lines of FILE whose
# event is EVENT.
nevents() {
	local a=() l
	NE=0
	[ -f "$1" ] && mapfile -t a <"$1"
	for l in "${a[@]}"; do
		case $l in *"\"event\":\"$2\""*) NE=$((NE + 1)) ;; esac
	done
}

# exists_glob PATTERN: true when a path matches PATTERN.
exists_glob() {
	compgen -G "$1" >/dev/null
}

# child_comm PID: sets COMM to the command name of PID's first child and
# CPID to its id, or both empty when it has none.
child_comm() {
	local kids=() c
	COMM= CPID=
	read -r -a kids 2>/dev/null <"/proc/$1/task/$1/children" || true
	for c in "${kids[@]}"; do
		if read -r COMM 2>/dev/null <"/proc/$c/comm"; then
			CPID=$c
			return 0
		fi
	done
	return 0
}

# poll_until PID SECONDS CMD...: run CMD (a shell function, so no process
# is started) every 5 ms until it succeeds (0), PID exits (1) or SECONDS
# pass (2).
poll_until() {
	local pid=$1 limit=$2 end
	shift 2
	now_ms
	end=$((NOW_MS + limit * 1000))
	while :; do
		"$@" && return 0
		kill -0 "$pid" 2>/dev/null || return 1
		now_ms
		[ "$NOW_MS" -lt "$end" ] || return 2
		pause
	done
}

# ---- victims -----------------------------------------------------------

# spawn IN OUT ERR CMD...: start CMD in a new session (its PID is its
# process group's id) with the given standard streams; sets VICTIM.
# SIGINT is reset to its default, which a background job would ignore.
spawn() {
	local in=$1 out=$2 err=$3
	shift 3
	env --default-signal=INT setsid "$@" <"$in" >"$out" 2>"$err" 3>&- &
	VICTIM=$!
	VICTIMS="${VICTIMS:-} $VICTIM"
}

# group_alive PGID: some process of the group is still running (zombies,
# which this container's init may be slow to reap, do not count).
group_alive() {
	pgrep -g "$1" -r R,S,D,T,t >/dev/null 2>&1
}

# reap PGID [SECONDS]: wait for the victim and until no process of its
# group is left (default at most 60 s); sets VRC to the victim's status.
reap() {
	local i
	VRC=0
	wait "$1" 2>/dev/null || VRC=$?
	for ((i = 0; i < ${2:-60} * 20; i++)); do
		group_alive "$1" || return 0
		pause 0.05
	done
	echo "process group $1 is still running" >&2
	return 1
}

# kill_group PGID [SIGNAL]: signal (default KILL) every process of the
# group that spawn started, then reap it.
kill_group() {
	kill -"${2:-KILL}" -- "-$1" 2>/dev/null || true
	reap "$1"
}

# cleanup_victims: for teardown: kill what spawn started and is still
# running, by its group id.
cleanup_victims() {
	local p
	for p in ${VICTIMS:-}; do
		if group_alive "$p"; then
			kill -KILL -- "-$p" 2>/dev/null || true
		fi
	done
	VICTIMS=
}

# ---- worlds ------------------------------------------------------------

# plant_world DIR NSYNC NLOST NORPH PAD ORPHBYTES: a store and a manifest in
# DIR, made by one python process:
#   NSYNC files db/cpu/2026/04/10/HH/cpu_NNNNN.parquet with their entries
#     (lsn 1..NSYNC), each entry padded with a PAD-byte sha256 field so
#     that every rewrite of the manifest takes a while;
#   NLOST entries db/lost/2026/04/10/12/lost_NNN.parquet without a file
#     (orphan-manifest), lsn 100000+i;
#   NORPH files db/orph/2026/04/10/12/orph_NNN.parquet without an entry
#     (orphan-storage), ORPHBYTES random bytes each (0: a short text);
#   db/day/2026/04/09/day_20260409.parquet, 6 segments: refused, never
#     deleted;
#   db/cpu/2026/04/10/12/young.parquet, unregistered, 10 minutes old or
#     dated $YOUNG_MTIME (seconds since the epoch) when that is set.
# Every file but the young one is dated 2026-04-01T00:00:00Z.  With
# OBJDIR, the files are written as the objects of an s3rver bucket whose
# data directory is OBJDIR instead (with the MD5 files s3rver would
# otherwise compute), and DIR/store is a symbolic link to OBJDIR.  The
# manifest DIR/manifest.json is one body {"files":[...],"total":N} on one
# line, so that its old version is known byte for byte and every rewrite
# (NDJSON) differs from it.
plant_world() {
	/usr/bin/python3 - "$@" <<'PY'
import json, os, sys, time
import hashlib
root, nsync, nlost, norph, pad, orphbytes = sys.argv[1], *map(int, sys.argv[2:7])
objdir = sys.argv[7] if len(sys.argv) > 7 else None
store = os.path.join(root, "store")
os.makedirs(root, exist_ok=True)
if objdir:
    os.makedirs(objdir, exist_ok=True)
    os.symlink(objdir, store)
old = 1775001600	# 2026-04-01T00:00:00Z
made = set()
def mk(p, data, mtime=old):
    f = os.path.join(store, p)
    if objdir:
        f = os.path.join(objdir, p) + "._S3rver_object"
    d = os.path.dirname(f)
    if d not in made:
        os.makedirs(d, exist_ok=True)
        made.add(d)
    if objdir:
        with open(f + ".md5", "w") as m:
            m.write(hashlib.md5(data).hexdigest())
    with open(f, "wb") as o:
        o.write(data)
    os.utime(f, (mtime, mtime))
def ent(p, lsn, m, size):
    e = {"path": p, "created_at": "2026-04-01T00:00:00Z", "size_bytes": size,
         "database": "db", "measurement": m, "origin_node_id": "node-1",
         "lsn": lsn}
    if pad:
        e["sha256"] = ("%064x" % lsn) * (pad // 64)
    return e
files = []
for i in range(nsync):
    p = "db/cpu/2026/04/10/%02d/cpu_%05d.parquet" % (i % 24, i)
    data = ("data:%s\n" % p).encode()
    mk(p, data)
    files.append(ent(p, i + 1, "cpu", len(data)))
for i in range(nlost):
    files.append(ent("db/lost/2026/04/10/12/lost_%03d.parquet" % i,
                     100000 + i, "lost", 10))
for i in range(norph):
    p = "db/orph/2026/04/10/12/orph_%03d.parquet" % i
    mk(p, os.urandom(orphbytes) if orphbytes else ("data:%s\n" % p).encode())
mk("db/day/2026/04/09/day_20260409.parquet", b"daily\n")
mk("db/cpu/2026/04/10/12/young.parquet", b"young\n",
   int(os.environ.get("YOUNG_MTIME") or time.time() - 600))
with open(os.path.join(root, "manifest.json"), "w") as f:
    json.dump({"files": files, "total": len(files)}, f, separators=(",", ":"))
    f.write("\n")
PY
}

# copy_world FROM TO: a copy with mtimes kept (cp -a).
copy_world() {
	mkdir -p "$2"
	cp -a "$1/store" "$1/manifest.json" "$2/"
}

# paths_of DIR: the path of every file of DIR's store, sorted; for an
# s3rver bucket (DIR/store a link to its data directory), its object keys.
paths_of() {
	if [ -L "$1/store" ]; then
		(cd -P "$1/store" && find . -type f -name '*._S3rver_object' -printf '%P\n' |
		    sed 's/\._S3rver_object$//' | sort)
	else
		(cd "$1/store" && find . -type f -printf '%P\n' | sort)
	fi
}

# entries MANIFEST: its entries, one compact JSON object with sorted keys
# a line, sorted: the same for a body and for NDJSON.
entries() {
	jq -cS 'if type == "object" and has("files") then .files[] else . end' "$1" |
	    sort
}

# files_of STORE: every file below STORE with its size and mtime, sorted
# (for a link to an s3rver data directory: its objects).
files_of() {
	if [ -L "$1" ]; then
		(cd -P "$1" && find . -type f -name '*._S3rver_object' -printf '%P %s %T@\n' |
		    sed 's/\._S3rver_object / /' | sort)
	else
		(cd "$1" && find . -type f -printf '%P %s %T@\n' | sort)
	fi
}

# world_state DIR: what a run leaves: the files and the manifest entries.
world_state() {
	files_of "$1/store" | sed 's/^/F /'
	entries "$1/manifest.json" | sed 's/^/M /'
}

# ---- the checks after a kill ------------------------------------------

# check_manifest_whole DIR REF BATCH: the manifest DIR/manifest.json is
# either REF/manifest.json byte for byte (the old version) or newline-
# terminated NDJSON, every line one valid JSON object, holding the old
# entries (REF/entries) less the first k*BATCH (or all) orphan-manifest
# candidates in path order (REF/lost.paths), with nothing added or
# altered.  Leaves its entries in DIR/entries.now and sets MREMOVED to the
# number of entries removed.
check_manifest_whole() {
	local m=$1/manifest.json ref=$2 b=$3 bad total
	MREMOVED=0
	if cmp -s "$m" "$ref/manifest.json"; then
		cp "$ref/entries" "$1/entries.now"
		return 0
	fi
	[ -s "$m" ] || { echo "the manifest is empty" >&2; return 1; }
	if [ "$(tail -c 1 "$m" | od -An -c | tr -d ' ')" != '\n' ]; then
		echo "the manifest does not end with a newline: torn" >&2
		return 1
	fi
	# one pass: each line parsed alone, normalized, or marked BAD
	jq -cSR 'try (fromjson | if type == "object" and (.path | type) == "string"
	    then . else "BAD: not an entry" end) catch "BAD: invalid JSON"' "$m" |
	    sort >"$1/entries.now"
	bad=$(grep -m 3 '^"BAD' "$1/entries.now" || true)
	if [ -n "$bad" ]; then
		echo "the manifest has lines that are not whole entries: $bad" >&2
		return 1
	fi
	bad=$(comm -13 "$ref/entries" "$1/entries.now")
	if [ -n "$bad" ]; then
		echo "entries added or altered: $bad" >&2
		return 1
	fi
	comm -23 "$ref/entries" "$1/entries.now" | entry_paths | sort >"$1/removed.entries"
	nlines "$1/removed.entries"
	MREMOVED=$NL
	nlines "$ref/lost.paths"
	total=$NL
	if ! head -n "$MREMOVED" "$ref/lost.paths" | cmp -s - "$1/removed.entries"; then
		echo "removed entries are not the first $MREMOVED candidates:" >&2
		cat "$1/removed.entries" >&2
		return 1
	fi
	if [ $((MREMOVED % b)) -ne 0 ] && [ "$MREMOVED" -ne "$total" ]; then
		echo "$MREMOVED entries removed: not a whole number of batches of $b" >&2
		return 1
	fi
}

# entry_paths: the path of each entry line (compact JSON) on stdin; the
# worlds' paths need no JSON escapes.
entry_paths() {
	sed 's/.*"path":"\([^"]*\)".*/\1/'
}

# check_files_safe DIR REF: after check_manifest_whole: no file is gone but
# orphan-storage candidates (REF/orph.paths), so every file that the
# manifest names is still there, and no file is gone unless every
# orphan-manifest entry is gone (manifest before storage).  Leaves the
# files in DIR/files.now and sets FREMOVED to the number gone.
check_files_safe() {
	local ref=$2 bad
	paths_of "$1" >"$1/files.now"
	comm -23 "$ref/files.paths" "$1/files.now" >"$1/files.gone"
	nlines "$1/files.gone"
	FREMOVED=$NL
	bad=$(comm -12 "$1/files.gone" <(entry_paths <"$1/entries.now" | sort))
	if [ -n "$bad" ]; then
		echo "files the manifest still names are gone: $bad" >&2
		return 1
	fi
	bad=$(comm -23 "$1/files.gone" "$ref/orph.paths")
	if [ -n "$bad" ]; then
		echo "files that were never candidates are gone: $bad" >&2
		return 1
	fi
	nlines "$ref/lost.paths"
	if [ "$FREMOVED" -gt 0 ] && [ "$MREMOVED" -ne "$NL" ]; then
		echo "$FREMOVED files deleted before the manifest phase ended ($MREMOVED entries removed)" >&2
		return 1
	fi
}

# hold_lock FILE [-s]: take an exclusive (with -s, a shared) flock on
# FILE, as a writer appending to the manifest (a reader reading it) would,
# on a descriptor of this shell (flock(1) only takes it: the lock stays
# with the open file until release_lock), waiting at most 60 s.  A tool
# that needs the lock meanwhile waits for it.
hold_lock() {
	exec {HOLD_FD}>>"$1"
	flock "${2:--x}" -w 60 "$HOLD_FD"
}

# release_lock: end the hold of hold_lock.
release_lock() {
	exec {HOLD_FD}>&-
	HOLD_FD=
}

# lock_free FILE: nobody holds a flock on FILE: another process takes it
# at once.
lock_free() {
	flock -n -x "$1" true || { echo "the lock '$1' is still held" >&2; return 1; }
}
