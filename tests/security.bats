#!/usr/bin/env bats
# security.bats - secrets never leak, a STORE is never escaped, and the
# state directory is private (issue 7, "Security").
#
# setup_file plants drift in a real S3 bucket (s3rver), a real Azure
# container (Azurite) and Arc's cluster API (tests/arcapi.py), then runs
# act pipelines with the secrets set, all under umask 000, each run's
# process tree traced (strace when installed, else a /proc poll):
#
#   s3     arc-reconcile --act --archive-files s3://sec arc+http://...
#          (AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, ARC_API_TOKEN)
#                                                        exit 1: deferred
#   az     arc-reconcile --act --archive-files az://sec az.ndjson
#          (the account key in AZURE_STORAGE_CONNECTION_STRING) exit 0
#   badtok the s3 run with a wrong ARC_API_TOKEN         exit 2
#   badkey the az run with a wrong account key           exit 2
#
# and then "status", "status --json" and "show".  The tests grep what the
# runs left for every secret.  The STORE tests at the end need no server.
load test_helper
load servers
bats_require_minimum_version 1.5.0

H=2026/04/11/12
D=db/cpu/$H		# a managed directory: files below it have 7 segments

# hex N: N random bytes as hex.
hex() {
	od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'
}

# traced NAME CMD...: run CMD (its stdout and stderr to out.NAME and
# err.NAME, its status to rc.NAME) recording the argv of every process it
# starts in argv.NAME.
traced() {
	local n=$1 d=$BATS_FILE_TMPDIR pid rc=0
	shift
	if command -v strace >/dev/null 2>&1; then
		strace -f -qq -e trace=execve -s 65536 -o "$d/argv.$n" \
		    "$@" >"$d/out.$n" 2>"$d/err.$n" || rc=$?
	else
		"$@" >"$d/out.$n" 2>"$d/err.$n" &
		pid=$!
		while kill -0 "$pid" 2>/dev/null; do
			cat /proc/[0-9]*/cmdline >>"$d/argv.$n" 2>/dev/null
			sleep 0.02
		done
		wait "$pid" || rc=$?
	fi
	echo "$rc" >"$d/rc.$n"
}

setup_file() {
	local d=$BATS_FILE_TMPDIR k i
	umask 000
	start_s3rver_as s3
	start_arcapi
	start_azurite 2>/dev/null || wait_http_for 90 "http://127.0.0.1:$AZ_PORT/"
	wait_named s3
	S3_DATA=$d/s3-data

	# the secrets: random, so that any hit is a leak
	SECRET_AWS=$(hex 20)
	SECRET_SESSION=sess$(hex 16)
	SECRET_TOKEN=tok$(hex 16)
	WRONG_TOKEN=tok$(hex 16)
	WRONG_AZKEY=$(head -c 64 /dev/urandom | base64 -w0)
	export SECRET_AWS SECRET_SESSION SECRET_TOKEN WRONG_TOKEN WRONG_AZKEY S3_DATA
	STATE=$d/state
	NOW=$(date -u -d '+30 days' +%Y-%m-%dT%H:%M:%SZ)
	export STATE NOW
	mkdir -p "$d/tmp"

	# the same drift in both stores: f01..f20 in sync, orphan.parquet
	# only in storage, lost.parquet only in the manifest
	{
		for i in $(seq -w 1 20); do
			echo "$D/f$i.parquet"
		done
		echo "$D/orphan.parquet"
	} >"$d/keys"
	{
		for i in $(seq -w 1 20); do
			entry "$D/f$i.parquet"
		done
		entry "$D/lost.parquet"
	} >"$d/manifest"
	AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER \
	    AWS_ENDPOINT_URL="http://127.0.0.1:$(cat "$d/s3.port")" make_bucket sec
	s3seed_many sec <"$d/keys"
	cp "$d/manifest" "$ARCAPI_DIR/manifest.ndjson"
	printf '%s\n' "$SECRET_TOKEN" >"$ARCAPI_DIR/token"
	AZ_SAS=$(azsas)
	curl -s -o /dev/null -X PUT "$AZ_ENDPOINT/sec?restype=container&$AZ_SAS"
	AZ_SAS=$AZ_SAS azseed sec $(cat "$d/keys")
	cp "$d/manifest" "$d/az.ndjson"

	# the runs: a permissive umask, the secrets only in the environment
	# (exported in a subshell: "env VAR=secret" would put them in argv)
	local run=(arc-reconcile --act --archive-files --state-dir "$STATE"
	    --now "$NOW" --metrics "$STATE/metrics.prom")
	umask 000
	(
		export TMPDIR=$d/tmp ARC_HTTP_ATTEMPTS=2 ARC_HTTP_BACKOFF_MS=0
		export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY="$SECRET_AWS"
		export AWS_ENDPOINT_URL="http://127.0.0.1:$(cat "$d/s3.port")"
		export AWS_SESSION_TOKEN="$SECRET_SESSION"
		export AWS_REGION=us-east-1 ARC_API_TOKEN="$SECRET_TOKEN"
		traced s3 "${run[@]}" s3://sec "arc+http://127.0.0.1:$ARCAPI_PORT"
		ARC_API_TOKEN=$WRONG_TOKEN
		traced badtok "${run[@]}" s3://sec "arc+http://127.0.0.1:$ARCAPI_PORT"
	)
	(
		export TMPDIR=$d/tmp ARC_HTTP_ATTEMPTS=2 ARC_HTTP_BACKOFF_MS=0
		cs="DefaultEndpointsProtocol=http;AccountName=$AZ_ACCOUNT;BlobEndpoint=$AZ_ENDPOINT;AccountKey="
		export AZURE_STORAGE_CONNECTION_STRING="$cs$AZ_KEY;"
		traced az "${run[@]}" az://sec "$d/az.ndjson"
		AZURE_STORAGE_CONNECTION_STRING="$cs$WRONG_AZKEY;"
		traced badkey "${run[@]}" az://sec "$d/az.ndjson"
	)
	traced status arc-reconcile status --state-dir "$STATE"
	traced json arc-reconcile status --json --state-dir "$STATE"
	for k in "$STATE"/runs/*.json; do
		k=${k##*/}
		arc-reconcile show --state-dir "$STATE" "${k%.json}"
	done >"$d/out.show" 2>&1
	# every archive, unpacked
	mkdir -p "$d/unpacked"
	for k in "$STATE"/archives/*.tar.gz; do
		mkdir -p "$d/unpacked/${k##*/}"
		tar -xzf "$k" -C "$d/unpacked/${k##*/}"
	done
}

teardown_file() {
	stop_azurite
	stop_arcapi
	stop_named s3
}

# the secret values, and the first 12 bytes of each (a leak cut short)
secrets() {
	local s
	for s in "$SECRET_AWS" "$SECRET_SESSION" "$SECRET_TOKEN" "$AZ_KEY" "$WRONG_TOKEN" "$WRONG_AZKEY"; do
		printf '%s\n%s\n' "$s" "${s:0:12}"
	done
}

# refute_secrets PATH...: no file at or below PATH holds any secret.
refute_secrets() {
	local hits
	[ $# -gt 0 ] || fail "nothing to search"
	hits=$(grep -raFl -f <(secrets) -- "$@" || true)
	[ -z "$hits" ] || fail "a secret is in: $hits"$'\n'"$(grep -raFo -f <(secrets) -- "$@" | head)"
}

# rc NAME: the exit status of run NAME.
rc() {
	cat "$BATS_FILE_TMPDIR/rc.$1"
}

# records: the run records, oldest first (the runs were s3, badtok, az,
# badkey).
records() {
	ls -tr "$STATE"/runs/*.json
}

# ---- the runs did real work with every secret ------------------------------

@test "the act runs repaired real drift with every secret in use (S3 key, Arc token, Azure key)" {
	local d=$BATS_FILE_TMPDIR
	assert_equal "$(rc s3) $(rc badtok) $(rc az) $(rc badkey)" "1 2 0 2"
	# S3: the orphan object is gone, the others are there
	[ ! -e "$S3_DATA/sec/$D/orphan.parquet._S3rver_object" ]
	[ -e "$S3_DATA/sec/$D/f01.parquet._S3rver_object" ]
	# Arc's API: the token was sent, the lost entry deferred
	grep -qF "Bearer $SECRET_TOKEN" "$ARCAPI_DIR/requests.log"
	assert_equal "$(deferred_payloads | jq -r .path)" "$D/lost.parquet"
	# Azure: the orphan blob is gone, the lost entry removed
	run -0 azls_names
	refute_line "$D/orphan.parquet"
	assert_line "$D/f01.parquet"
	run -1 grep -F "$D/lost.parquet" "$d/az.ndjson"
	# the failed runs stopped where the secret was refused
	assert_equal "$(jq -r 'select(.aborted) | .abort_reason' $(records))" \
	    "$(printf 'manifest_unreadable\nstorage_unreadable')"
	# both act runs quarantined the orphan's content in their archive
	[ "$(find "$d/unpacked" -path "*/phase2/quarantine/$D/orphan.parquet" | wc -l)" -eq 2 ]
}

# deferred_payloads: the payloads of the deferred delete ops (base64 in
# Arc's BatchFileOpsPayload), decoded, one JSON object a line.
deferred_payloads() {
	jq -r '.ops[].payload | @base64d' "$STATE"/deferred/*.ndjson
}

# azls_names: the blob names of container sec, from Azurite directly.
azls_names() {
	curl -s "$AZ_ENDPOINT/sec?restype=container&comp=list&$(azsas)" |
	    grep -o '<Name>[^<]*</Name>' | sed -e 's/<\/*Name>//g'
}

# ---- no secret anywhere ------------------------------------------------------

@test "no secret appears on the standard output or standard error of any run, failed runs included" {
	local d=$BATS_FILE_TMPDIR
	# the failed runs did say why
	grep -q 'authentication required' "$d/err.badtok"
	grep -q 'storage_unreadable' "$d/err.badkey"
	refute_secrets "$d"/out.* "$d"/err.*
}

@test "no secret appears in a run record, the audit log, a deferred file, the metrics or a temporary file" {
	[ "$(records | wc -l)" -eq 4 ]
	[ -s "$STATE/audit.log" ]
	refute_secrets "$STATE" "$BATS_FILE_TMPDIR/tmp"
	# the deferred ops carry base64 payloads: look inside them too
	deferred_payloads >payloads
	[ -s payloads ]
	refute_secrets payloads
	# and the runs left no temporary file behind
	assert_equal "$(find "$BATS_FILE_TMPDIR/tmp" -mindepth 1 | head -5)" ''
}

@test "no secret appears in any member of any run archive" {
	local d=$BATS_FILE_TMPDIR
	[ "$(find "$d/unpacked" -name candidates.tsv | wc -l)" -ge 4 ]
	[ "$(find "$d/unpacked" -name run.json | wc -l)" -ge 4 ]
	refute_secrets "$d/unpacked"
	# the archives themselves, compressed
	refute_secrets "$STATE/archives"
}

@test "no secret appears in the argv of any process a run started" {
	local d=$BATS_FILE_TMPDIR t
	for t in s3 az badtok badkey; do
		[ -s "$d/argv.$t" ] || fail "no process list recorded for run $t"
	done
	if command -v strace >/dev/null 2>&1; then
		# every stage was seen starting (the tools sort in their own
		# process: no sort(1) is started)
		for t in arc-manifest-dump arc-list arc-diff arc-recheck arc-delete; do
			grep -q "execve(\"[^\"]*/$t\"" "$d/argv.s3" ||
			    fail "the trace of run s3 has no $t"
			grep -q "execve(\"[^\"]*/$t\"" "$d/argv.az" ||
			    fail "the trace of run az has no $t"
		done
	else
		grep -aq arc-reconcile "$d/argv.s3"
	fi
	refute_secrets "$d"/argv.*
}

# ---- the state directory is private --------------------------------------

@test "every file in the state directory is mode 0600 and every directory 0700, though every run had umask 000" {
	local f bad=
	[ -e "$STATE/lock" ]
	[ -e "$STATE/audit.log" ]
	[ -e "$STATE/metrics.prom" ]
	[ "$(ls "$STATE"/runs/*.json | wc -l)" -eq 4 ]
	# every run keeps its records in an archive (arc(7), RUN EXPLANATION)
	[ "$(ls "$STATE"/archives/*.tar.gz | wc -l)" -eq 4 ]
	[ "$(ls "$STATE"/deferred/*.ndjson | wc -l)" -ge 1 ]
	while IFS= read -r f; do
		if [ -d "$f" ]; then
			[ "$(stat -c %a "$f")" = 700 ] || bad="$bad"$'\n'"$(stat -c '%a %n' "$f")"
		else
			[ "$(stat -c %a "$f")" = 600 ] || bad="$bad"$'\n'"$(stat -c '%a %n' "$f")"
		fi
	done < <(find "$STATE")
	assert_equal "$bad" ''
}

@test "a state directory made beforehand with mode 0777 is made 0700, and a local run's files are 0600, under umask 000" {
	mkdir -p store/db st/runs
	chmod 777 st st/runs
	mkfile "store/$D/a.parquet"
	entry "$D/b.parquet" >m.ndjson
	(umask 000 && arc-reconcile --state-dir st store m.ndjson >/dev/null 2>&1) || true
	[ -s st/audit.log ]
	ls st/lock st/runs/*.json st/archives/*.tar.gz >/dev/null
	run -0 find st -type d ! -perm 700
	assert_output ''
	run -0 find st -type f ! -perm 600
	assert_output ''
}

# ---- a STORE is never escaped ------------------------------------------------

# The store is $BATS_TEST_TMPDIR/a/b/store, so that '../../etc/passwd'
# from it is a decoy, $BATS_TEST_TMPDIR/a/etc/passwd, never the real one.
decoy() {
	mkdir -p a/b/store/db a/etc
	printf 'root:x:0:0:decoy\n' >a/etc/passwd
	touch -d '2026-04-01 00:00:00' a/etc/passwd
	: >m.ndjson
}

# snapshot: every file, link and directory under a, and the manifest.
snapshot() {
	find a -printf '%p %y %s %T@ %l\n' | LC_ALL=C sort
	od -An -c m.ndjson
}

@test "arc-manifest-dump refuses a manifest entry naming '../../etc/passwd' and writes no record" {
	{ entry "$D/a.parquet"; entry ../../etc/passwd; } >m.ndjson
	run -2 --separate-stderr arc-manifest-dump m.ndjson
	assert_output ''
	assert_stderr "arc-manifest-dump: 'm.ndjson': path '../../etc/passwd': path has a '..' segment at line 2"
}

@test "arc-delete --act refuses an orphan-storage candidate '../../etc/passwd', even for any path shape, and the file survives" {
	decoy
	local before
	before=$(snapshot)
	printf 'orphan-storage\t../../etc/passwd\t2026-04-01T00:00:00Z\t17\n' >c.rec
	run -1 --separate-stderr arc-delete --act --delete-pre-manifest-orphans \
	    -A arch.tgz a/b/store m.ndjson <c.rec
	assert_output "$(printf 'refused\torphan-storage\t../../etc/passwd\tLAYOUT_MISMATCH')"
	assert_stderr "arc-delete: '../../etc/passwd': refused: path has a '..' segment"
	assert_equal "$(snapshot)" "$before"
}

@test "arc-delete --act refuses an orphan-manifest candidate '../../etc/passwd' and the manifest keeps the entry" {
	decoy
	# a hand-edited manifest that holds the entry anyway
	{ entry "$D/a.parquet"; entry ../../etc/passwd; } >m.ndjson
	local before
	before=$(snapshot)
	printf 'orphan-manifest\t../../etc/passwd\t2026-04-11T14:00:00Z\t10\tnode-1\t1\n' >c.rec
	run -1 --separate-stderr arc-delete --act -A arch.tgz a/b/store m.ndjson <c.rec
	assert_output "$(printf 'refused\torphan-manifest\t../../etc/passwd\tLAYOUT_MISMATCH')"
	assert_stderr "arc-delete: '../../etc/passwd': refused: path has a '..' segment"
	assert_equal "$(snapshot)" "$before"
}

@test "'..' inside a managed-looking record path is never checked or deleted through" {
	decoy
	mkdir -p "a/b/store/$D"
	local p="$D/../../../../../../../../etc/passwd"
	printf 'orphan-storage\t%s\t2026-04-01T00:00:00Z\t17\n' "$p" >c.rec
	run -1 --separate-stderr arc-recheck -t 2030-01-01T00:00:00Z -R rej a/b/store m.ndjson <c.rec
	assert_output ''
	assert_stderr "arc-recheck: '$p': cannot check: path has a '..' segment"
	assert_equal "$(cut -f1 rej)" error
	local before
	before=$(snapshot)
	run -1 --separate-stderr arc-delete --act --delete-pre-manifest-orphans \
	    -A arch.tgz a/b/store m.ndjson <c.rec
	assert_output "$(printf 'refused\torphan-storage\t%s\tLAYOUT_MISMATCH' "$p")"
	assert_equal "$(snapshot)" "$before"
}

@test "a symlinked directory in the store is not listed, checked or deleted through, and its files survive" {
	decoy
	mkdir -p a/outside "a/b/store/$D"
	printf 'x\n' >a/outside/v.parquet
	touch -d '2026-04-01 00:00:00' a/outside/v.parquet
	ln -s ../../../../../../../outside a/b/store/db/cpu/2026/04/11/13
	local p=db/cpu/2026/04/11/13/v.parquet
	[ -f "a/b/store/$p" ]	# the link works: a tool that follows it finds v
	run -0 arc-list -a a/b/store
	assert_output ''
	printf 'orphan-storage\t%s\t2026-04-01T00:00:00Z\t2\n' "$p" >c.rec
	run -1 --separate-stderr arc-recheck -t 2030-01-01T00:00:00Z -R rej a/b/store m.ndjson <c.rec
	assert_output ''
	assert_equal "$(cut -f1 rej)" error
	local before
	before=$(snapshot)
	run -1 --separate-stderr arc-delete --act -A arch.tgz a/b/store m.ndjson <c.rec
	assert_output "$(printf 'failed\torphan-storage\t%s\tDELETE_FAILED' "$p")"
	assert_equal "$(snapshot)" "$before"
}

@test "a symlink in the store to a file outside is neither listed nor deleted, and its target survives" {
	decoy
	mkdir -p "a/b/store/$D"
	ln -s ../../../../../../../../etc/passwd "a/b/store/$D/passwd.parquet"
	[ -f "a/b/store/$D/passwd.parquet" ]
	run -0 arc-list -a a/b/store
	assert_output ''
	local before
	before=$(snapshot)
	printf 'orphan-storage\t%s/passwd.parquet\t2026-04-01T00:00:00Z\t17\n' "$D" >c.rec
	run -1 --separate-stderr arc-delete --act -A arch.tgz a/b/store m.ndjson <c.rec
	assert_output "$(printf 'failed\torphan-storage\t%s/passwd.parquet\tDELETE_FAILED' "$D")"
	assert_stderr --partial 'not a regular file'
	assert_equal "$(snapshot)" "$before"
}

@test "a STORE that is itself a symlink is refused by arc-list, arc-recheck and arc-delete" {
	decoy
	mkdir -p "a/b/store/$D"
	printf 'x\n' >"a/b/store/$D/f.parquet"
	touch -d '2026-04-01 00:00:00' "a/b/store/$D/f.parquet"
	ln -s b/store a/link
	local before
	before=$(snapshot)
	run -2 --separate-stderr arc-list a/link
	assert_stderr "arc-list: 'a/link': store is a symbolic link; give the directory it points to"
	printf 'orphan-storage\t%s/f.parquet\t2026-04-01T00:00:00Z\t2\n' "$D" >c.rec
	run -2 --separate-stderr arc-recheck a/link m.ndjson <c.rec
	assert_stderr --partial 'store is a symbolic link'
	run -2 --separate-stderr arc-delete --act -A arch.tgz a/link m.ndjson <c.rec
	assert_stderr --partial 'store is a symbolic link'
	assert_equal "$(snapshot)" "$before"
}
