#!/usr/bin/env bats
# Remote backends against servers that answer wrongly: a wrong answer
# must never make a needed file or entry look deletable, and no
# credential may be shown.
bats_require_minimum_version 1.5.0
load test_helper
load servers

# A stand-in for Arc's cluster files API whose live look-ups (limit=1)
# answer as MODE says; full pages are right.  Python's standard library.
write_arcpager() {
	cat >"$BATS_FILE_TMPDIR/arcpager.py" <<'PY'
import http.server, json, sys, urllib.parse
MODE, PORTFILE = sys.argv[1], sys.argv[2]
PATHS = ["db/m/2026/04/11/14/a.parquet", "db/m/2026/04/11/14/b.parquet"]
def ent(p):
    return {"path": p, "created_at": "2026-04-11T14:00:00Z",
            "size_bytes": 10, "database": "db", "measurement": "m",
            "origin_node_id": "n1", "lsn": 1}
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a):
        pass
    def do_GET(self):
        q = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
        cur = q.get("cursor", [""])[0]
        lim = int(q.get("limit", ["10000"])[0])
        after = [p for p in PATHS if p > cur]
        if lim == 1 and MODE == "emptymore":
            # an empty page that says there is more, from the path on
            body = {"files": [], "next_cursor": after[0] if after else ""}
        elif lim == 1 and MODE == "nocursor":
            body = {"files": []}
        else:
            body = {"files": [ent(p) for p in after[:lim]], "next_cursor": ""}
        b = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(b)))
        self.end_headers()
        self.wfile.write(b)
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
open(PORTFILE + ".tmp", "w").write(str(s.server_address[1]))
import os; os.rename(PORTFILE + ".tmp", PORTFILE)
s.serve_forever()
PY
}

# start_arcpager MODE: exports ARCPAGER_PORT; the PID in arcpager.pid.
start_arcpager() {
	local i
	rm -f "$BATS_TEST_TMPDIR/arcpager.port"
	python3 "$BATS_FILE_TMPDIR/arcpager.py" "$1" \
	    "$BATS_TEST_TMPDIR/arcpager.port" 3>&- &
	echo $! >"$BATS_TEST_TMPDIR/arcpager.pid"
	for i in $(seq 1 100); do
		[ -s "$BATS_TEST_TMPDIR/arcpager.port" ] && break
		sleep 0.1
	done
	ARCPAGER_PORT=$(cat "$BATS_TEST_TMPDIR/arcpager.port")
}

stop_arcpager() {
	local f="$BATS_TEST_TMPDIR/arcpager.pid"
	[ -f "$f" ] || return 0
	kill "$(cat "$f")" 2>/dev/null
	wait "$(cat "$f")" 2>/dev/null
	rm -f "$f"
}

setup_file() {
	write_arcpager
}

# a store holding both files the stand-in's manifest names
arc_store() {
	mkfile store/db/m/2026/04/11/14/a.parquet "3 days ago"
	mkfile store/db/m/2026/04/11/14/b.parquet "3 days ago"
	printf 'orphan-storage\t%s\t-\t-\n' db/m/2026/04/11/14/a.parquet >cand
}

@test "an Arc API look-up whose empty page names a next cursor leaves a registered file in place" {
	arc_store
	start_arcpager emptymore
	m="arc+http://127.0.0.1:$ARCPAGER_PORT"
	run timeout 60 arc-recheck -g 1h -R rej store "$m" <cand
	refute_output --partial a.parquet
	run timeout 60 sh -c 'arc-delete --act -A run.tar.gz store "$1" <cand' \
	    sh "$m"
	refute_output --partial deleted
	[ -f store/db/m/2026/04/11/14/a.parquet ]
}

@test "an Arc API look-up answered without next_cursor is an error, not an absent entry" {
	arc_store
	start_arcpager nocursor
	m="arc+http://127.0.0.1:$ARCPAGER_PORT"
	run timeout 60 arc-recheck -g 1h -R rej store "$m" <cand
	refute_output --partial a.parquet
	run cat rej
	assert_output --partial error
	run timeout 60 sh -c 'arc-delete --act -A run.tar.gz store "$1" <cand' \
	    sh "$m"
	refute_output --partial deleted
	[ -f store/db/m/2026/04/11/14/a.parquet ]
}

@test "an arc+http URL with a password is refused without showing it, in messages or run records" {
	arc_store
	start_arcpager good
	export XDG_STATE_HOME="$BATS_TEST_TMPDIR/state"
	run --separate-stderr timeout 60 arc-manifest-dump \
	    "arc+http://admin:pw-s3cret-1@127.0.0.1:$ARCPAGER_PORT"
	[ "$status" -ne 0 ]
	refute_stderr --partial pw-s3cret-1
	run --separate-stderr timeout 60 arc-reconcile store \
	    "arc+http://admin:pw-s3cret-1@127.0.0.1:$ARCPAGER_PORT"
	[ "$status" -ne 0 ]
	refute_stderr --partial pw-s3cret-1
	refute_output --partial pw-s3cret-1
	mkdir -p "$XDG_STATE_HOME"
	run grep -rl pw-s3cret-1 "$XDG_STATE_HOME"
	assert_output ""
}

# start_fake: tests/fakeserver.py on $BATS_TEST_TMPDIR/fake, answering
# every path with a 200 and an empty ListBucketResult; exports FAKE_PORT.
start_fake() {
	local d="$BATS_TEST_TMPDIR/fake" i
	mkdir -p "$d"
	printf '200\n\n<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><IsTruncated>false</IsTruncated></ListBucketResult>' >"$d/_"
	python3 "$ARC_ROOT/tests/fakeserver.py" "$d" "$d.port" 3>&- &
	echo $! >"$d.pid"
	for i in $(seq 1 100); do
		[ -s "$d.port" ] && break
		sleep 0.1
	done
	FAKE_PORT=$(cat "$d.port")
}

stop_fake() {
	local f="$BATS_TEST_TMPDIR/fake.pid"
	[ -f "$f" ] || return 0
	kill "$(cat "$f")" 2>/dev/null
	wait "$(cat "$f")" 2>/dev/null
	rm -f "$f"
}

teardown() {
	stop_arcpager
	stop_fake
}

@test "an AWS region that is not a host name label is refused before any request to another host" {
	start_fake
	export AWS_ACCESS_KEY_ID=AKIDREGION AWS_SECRET_ACCESS_KEY=SECRETREGION
	unset AWS_ENDPOINT_URL AWS_ENDPOINT_URL_S3
	export ARC_HTTP_ATTEMPTS=1
	for style in virtual path; do
		AWS_S3_ADDRESSING_STYLE=$style \
		AWS_REGION="x@127.0.0.1:$FAKE_PORT/#" run --separate-stderr \
		    timeout 60 arc-list s3://bucket/p
		[ "$status" -eq 2 ]
		assert_stderr --partial "invalid AWS region"
		refute_stderr --partial "TLS with 127.0.0.1"
	done
}

@test "an Azure account name that is not a host name label is refused before any request to another host" {
	start_fake
	AZURE_STORAGE_CONNECTION_STRING="DefaultEndpointsProtocol=http;AccountName=evil@127.0.0.1:$FAKE_PORT/#;SharedAccessSignature=sv=2021-12-02&sr=c&sp=rl&sig=SECRETSIG" \
	ARC_HTTP_ATTEMPTS=1 run --separate-stderr timeout 60 arc-list az://cont/p
	[ "$status" -eq 2 ]
	assert_stderr --partial "invalid Azure storage account name"
	[ ! -s "$BATS_TEST_TMPDIR/fake/requests.log" ]
}
