# servers.bash - start and stop the real servers the tests talk to, on
# 127.0.0.1 only, each stopped by its PID.  Load it after test_helper in
# a .bats file and call the start_* functions from setup_file.
ARC_SERVERS="$ARC_ROOT/tests/servers"
# the npm test servers are installed (sh tests/deps.sh test) outside the
# source tree, where no search of tests/ meets their dependencies' code
ARC_NODE_MODULES="${ARC_NODE_MODULES:-$ARC_ROOT/.test-servers/node_modules}"

# free_port: a TCP port on 127.0.0.1 that nothing listens on.
free_port() {
	local p i
	for i in $(seq 1 50); do
		p=$((20000 + RANDOM % 20000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

# wait_http URL: until the server answers, at most 10 s.
wait_http() {
	local i
	for i in $(seq 1 600); do
		curl -s -o /dev/null "$1" && return 0
		sleep 0.1
	done
	echo "server at $1 did not answer within 60 s" >&2
	return 1
}

# start_s3rver [v4]: s3rver 3.7.1 (or the signature-checking 4.0.4 fork)
# in $BATS_FILE_TMPDIR; exports AWS_* for it and S3_PORT, S3_DATA.
start_s3rver() {
	local js="$ARC_NODE_MODULES/s3rver/bin/s3rver.js" try pid
	[ "${1:-}" = v4 ] && js="$ARC_SERVERS/s3rver-v4.js"
	S3_DATA="$BATS_FILE_TMPDIR/s3data"
	mkdir -p "$S3_DATA"
	# a free port can be taken before we bind it: check that the server
	# we started is the one listening, and try another port if not
	for try in 1 2 3; do
		S3_PORT=$(free_port)
		# s3rver makes continuation tokens with DES: the legacy provider
		NODE_PATH=$ARC_NODE_MODULES node --openssl-legacy-provider "$js" \
		    -d "$S3_DATA" -a 127.0.0.1 \
		    -p "$S3_PORT" --silent >"$BATS_FILE_TMPDIR/s3rver.log" 2>&1 3>&- &
		pid=$!
		echo "$pid" >"$BATS_FILE_TMPDIR/s3rver.pid"
		wait_own "$pid" "$S3_PORT" 60 && break
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	export S3_PORT S3_DATA
	export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER
	export AWS_ENDPOINT_URL="http://127.0.0.1:$S3_PORT"
	unset AWS_ENDPOINT_URL_S3 AWS_S3_ADDRESSING_STYLE AWS_SESSION_TOKEN
	pid_listens "$pid" "$S3_PORT"
}

# wait_own PID PORT SECONDS: until PID itself listens on PORT; 1 if it
# died or the time ran out.
wait_own() {
	local end=$((SECONDS + $3))
	while [ "$SECONDS" -lt "$end" ]; do
		pid_listens "$1" "$2" && return 0
		kill -0 "$1" 2>/dev/null || return 1
		sleep 0.2
	done
	return 1
}

stop_s3rver() {
	local f="$BATS_FILE_TMPDIR/s3rver.pid"
	[ -f "$f" ] || return 0
	kill "$(cat "$f")" 2>/dev/null
	wait "$(cat "$f")" 2>/dev/null
	rm -f "$f"
}

# s3curl ARGS...: curl signed for the test server.
s3curl() {
	curl -s --aws-sigv4 "aws:amz:us-east-1:s3" \
	    --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" \
	    -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" "$@"
}

# make_bucket NAME
make_bucket() {
	s3curl -X PUT -o /dev/null -w '%{http_code}' "$AWS_ENDPOINT_URL/$1" |
	    grep -q 200
}

# s3put BUCKET KEY [CONTENT]: upload over HTTP (KEY is percent-encoded here).
s3put() {
	local enc
	enc=$(printf '%s' "$2" | jq -sRr '@uri' | sed 's/%2F/\//g')
	printf '%s' "${3:-data}" | s3curl -X PUT -T - -o /dev/null \
	    -w '%{http_code}' "$AWS_ENDPOINT_URL/$1/$enc" | grep -q 200
}

# s3seed BUCKET KEY: write an object straight into s3rver's directory
# (fast seeding; s3rver reads its directory on every request).
s3seed() {
	mkdir -p "$S3_DATA/$1/$(dirname "$2")"
	printf 'data:%s\n' "$2" >"$S3_DATA/$1/$2._S3rver_object"
}

# start_azurite: Azurite 3.35.0's blob service in $BATS_FILE_TMPDIR;
# exports AZ_PORT and AZURE_STORAGE_CONNECTION_STRING for it.
AZ_ACCOUNT=devstoreaccount1
AZ_KEY='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
start_azurite() {
	local try pid
	mkdir -p "$BATS_FILE_TMPDIR/azdata"
	for try in 1 2 3; do
		AZ_PORT=$(free_port)
		"$ARC_NODE_MODULES/.bin/azurite-blob" --blobHost 127.0.0.1 \
		    --blobPort "$AZ_PORT" --location "$BATS_FILE_TMPDIR/azdata" \
		    --disableTelemetry --silent >"$BATS_FILE_TMPDIR/azurite.log" 2>&1 3>&- &
		pid=$!
		echo "$pid" >"$BATS_FILE_TMPDIR/azurite.pid"
		wait_own_any "$pid" "$AZ_PORT" 90 && break
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	AZ_ENDPOINT="http://127.0.0.1:$AZ_PORT/$AZ_ACCOUNT"
	export AZ_PORT AZ_ENDPOINT
	export AZURE_STORAGE_CONNECTION_STRING="DefaultEndpointsProtocol=http;AccountName=$AZ_ACCOUNT;AccountKey=$AZ_KEY;BlobEndpoint=$AZ_ENDPOINT;"
	unset AZURE_STORAGE_ACCOUNT AZURE_STORAGE_KEY AZURE_STORAGE_SAS_TOKEN AZURE_STORAGE_BLOB_ENDPOINT
	wait_http "http://127.0.0.1:$AZ_PORT/"
}

# wait_own_any PID PORT SECONDS: as wait_own, for a launcher script whose
# child (node) is the listener: the port must be held by PID or a child.
wait_own_any() {
	local end=$((SECONDS + $3)) c
	while [ "$SECONDS" -lt "$end" ]; do
		for c in "$1" $(pgrep -P "$1" 2>/dev/null); do
			pid_listens "$c" "$2" && return 0
		done
		kill -0 "$1" 2>/dev/null || return 1
		sleep 0.2
	done
	return 1
}

stop_azurite() {
	local f="$BATS_FILE_TMPDIR/azurite.pid"
	[ -f "$f" ] || return 0
	kill "$(cat "$f")" 2>/dev/null
	wait "$(cat "$f")" 2>/dev/null
	rm -f "$f"
}

# azcurl METHOD PATH QUERY [curl args...]: a Shared Key request to Azurite.
# PATH is percent-encoded (/container/blob), QUERY is "a=1&b=2" or "".
azcurl() {
	local method=$1 path=$2 query=$3 date canon sig len=
	shift 3
	date=$(LC_ALL=C date -u '+%a, %d %b %Y %H:%M:%S GMT')
	canon=$(printf '%s' "$query" | tr '&' '\n' | grep . | LC_ALL=C sort |
	    while IFS='=' read -r k v; do
		printf '\n%s:%s' "$k" "$(printf '%b' "${v//%/\\x}")"
	    done)
	[ "$method" = PUT ] && len=${AZ_LEN:-}
	sig=$(printf '%s\n\n\n%s\n\n%s\n\n\n\n\n\n\n%sx-ms-date:%s\nx-ms-version:2021-12-02\n/%s/%s%s%s' \
	    "$method" "$len" "${AZ_CTYPE:-}" "${AZ_XMS:-}" "$date" "$AZ_ACCOUNT" \
	    "$AZ_ACCOUNT" "$path" "$canon" |
	    openssl dgst -sha256 -mac HMAC -macopt "hexkey:$(printf '%s' "$AZ_KEY" | base64 -d | od -An -tx1 | tr -d ' \n')" -binary |
	    base64)
	curl -s -X "$method" -H "x-ms-date: $date" -H "x-ms-version: 2021-12-02" \
	    -H "Authorization: SharedKey $AZ_ACCOUNT:$sig" \
	    "$AZ_ENDPOINT$path${query:+?$query}" "$@"
}

# make_container NAME
make_container() {
	azcurl PUT "/$1" "restype=container" -o /dev/null -w '%{http_code}' |
	    grep -q 201
}

# azput CONTAINER BLOB [CONTENT]: upload a block blob (BLOB unencoded).
azput() {
	local enc content=${3:-data}
	enc=$(printf '%s' "$2" | jq -sRr '@uri' | sed 's/%2F/\//g')
	AZ_LEN=${#content} AZ_CTYPE=application/octet-stream \
	AZ_XMS=$'x-ms-blob-type:BlockBlob\n' \
	    azcurl PUT "/$1/$enc" "" -H "x-ms-blob-type: BlockBlob" \
	    -H "Content-Type: application/octet-stream" --data-binary "$content" \
	    -o /dev/null -w '%{http_code}' | grep -q 201
}

# wait_http_for SECONDS URL: wait_http with a limit of SECONDS, for a
# server started on a loaded machine (Azurite, loading hundreds of
# modules, then needs more than wait_http's 10 s).
wait_http_for() {
	local secs=$1 end=$((SECONDS + $1)) url=$2
	shift 2
	while [ "$SECONDS" -lt "$end" ]; do
		curl -s -o /dev/null "$@" "$url" && return 0
		sleep 0.2
	done
	echo "server at $url did not start in $secs s" >&2
	return 1
}

# azenc STRING [KEEP]: STRING percent-encoded for a blob URL, '/' kept
# unless KEEP is empty; in bash, with no process per call, so that
# seeding stays fast on a loaded machine.
azenc() {
	local LC_ALL=C s=$1 keep=${2-/} out= c i
	for ((i = 0; i < ${#s}; i++)); do
		c=${s:i:1}
		case $c in
		[A-Za-z0-9._~-]) out+=$c ;;
		/) if [ -n "$keep" ]; then out+=$c; else out+=%2F; fi ;;
		*) printf -v c '%%%02X' "'$c"; out+=${c: -3} ;;
		esac
	done
	printf '%s' "$out"
}

# azsas [EXPIRY [PERMISSIONS]]: an account SAS token (no leading '?') for
# the blob service of $AZ_ACCOUNT, signed with openssl as in
# test-servers.md §2(b); EXPIRY defaults to 2030-01-01T00:00:00Z,
# PERMISSIONS to rwdlac.
azsas() {
	local se=${1:-2030-01-01T00:00:00Z} sp=${2:-rwdlac} sv=2021-12-02 sig
	sig=$(printf '%s\n%s\nb\nsco\n\n%s\n\nhttps,http\n%s\n\n' \
	    "$AZ_ACCOUNT" "$sp" "$se" "$sv" |
	    openssl dgst -sha256 -mac HMAC -macopt "hexkey:$(printf '%s' "$AZ_KEY" | base64 -d | od -An -tx1 | tr -d ' \n')" -binary |
	    base64)
	printf 'sv=%s&ss=b&srt=sco&sp=%s&se=%s&spr=https%%2Chttp&sig=%s\n' \
	    "$sv" "$sp" "$(azenc "$se" '')" "$(azenc "$sig" '')"
}

# azseed CONTAINER NAME...: upload block blobs NAME (unencoded), each
# holding "data:" and its encoded name, with one curl process and an
# account SAS ($AZ_SAS, made when unset), 8 uploads at once.  Fails
# unless every upload answered 201.
azseed() {
	local c=$1 n enc cfg sas=${AZ_SAS:-} ok sep=
	shift
	[ -n "$sas" ] || sas=$(azsas)
	cfg=$(mktemp "${BATS_TEST_TMPDIR:-$BATS_FILE_TMPDIR}/azseed.XXXXXX")
	for n in "$@"; do
		enc=$(azenc "$n")
		# "next" separates the uploads (one after the last is an error)
		printf '%s' "$sep"
		sep=$'next\n'
		printf 'url = "%s/%s/%s?%s"\nrequest = "PUT"\nheader = "x-ms-blob-type: BlockBlob"\nheader = "Content-Type: application/octet-stream"\ndata-binary = "data:%s"\noutput = "/dev/null"\nwrite-out = "%%{http_code}\\n"\n' \
		    "$AZ_ENDPOINT" "$c" "$enc" "$sas" "$enc"
	done >"$cfg"
	ok=$(curl -s -Z --parallel-max 8 -K "$cfg" 2>/dev/null | grep -c '^201$')
	rm -f "$cfg"
	[ "$ok" -eq $# ] || { echo "azseed: $ok of $# uploads succeeded" >&2; return 1; }
}

# azget CONTAINER NAME: a blob's content on stdout (account SAS).
azget() {
	local sas=${AZ_SAS:-}
	[ -n "$sas" ] || sas=$(azsas)
	curl -sf "$AZ_ENDPOINT/$1/$(azenc "$2")?$sas"
}

# start_azproxy [PAGE]: a pass-through HTTP proxy in front of Azurite, so
# that a test can count the requests a tool sends (the request lines go
# to $AZP_LOG, the SAS signature blanked) and, with PAGE, see listings in
# pages of PAGE blobs: the maxresults of a request carrying no
# Authorization header (a SAS request, whose signature does not cover
# maxresults) is rewritten to PAGE.  Exports AZP_PORT, AZP_ENDPOINT and
# AZP_LOG; needs start_azurite first.
start_azproxy() {
	AZP_PORT=$(free_port)
	AZP_LOG="$BATS_FILE_TMPDIR/azproxy.log"
	: >"$AZP_LOG"
	cat >"$BATS_FILE_TMPDIR/azproxy.js" <<'JS'
const http = require('http'), fs = require('fs');
const [port, up, log, page] = process.argv.slice(2);
const agent = new http.Agent({ keepAlive: true });
http.createServer((req, res) => {
	let url = req.url;
	if (page && !req.headers.authorization)
		url = url.replace(/([?&]maxresults=)[0-9]+/, '$1' + page);
	fs.appendFileSync(log, req.method + ' ' +
	    url.replace(/([?&]sig=)[^&]*/, '$1-') + '\n');
	const p = http.request({ host: '127.0.0.1', port: up, path: url,
	    method: req.method, headers: req.headers, agent }, r => {
		res.writeHead(r.statusCode, r.headers);
		r.pipe(res);
	});
	p.on('error', () => { res.writeHead(502); res.end(); });
	req.pipe(p);
}).listen(port, '127.0.0.1');
JS
	node "$BATS_FILE_TMPDIR/azproxy.js" "$AZP_PORT" "$AZ_PORT" "$AZP_LOG" \
	    "${1:-}" >"$BATS_FILE_TMPDIR/azproxy.out" 2>&1 3>&- &
	echo $! >"$BATS_FILE_TMPDIR/azproxy.pid"
	AZP_ENDPOINT="http://127.0.0.1:$AZP_PORT/$AZ_ACCOUNT"
	export AZP_PORT AZP_ENDPOINT AZP_LOG
	wait_http_for 30 "http://127.0.0.1:$AZP_PORT/"
}

stop_azproxy() {
	local f="$BATS_FILE_TMPDIR/azproxy.pid"
	[ -f "$f" ] || return 0
	kill "$(cat "$f")" 2>/dev/null
	wait "$(cat "$f")" 2>/dev/null
	rm -f "$f"
}

# ---- etcd (Debian etcd-server 3.4) -----------------------------------

# etcd_launch NAME CLIENT PEER CLUSTER [STATE]: an etcd member NAME in
# $BATS_FILE_TMPDIR/etcd-NAME on 127.0.0.1 (client and peer ports),
# CLUSTER its --initial-cluster; its PID in etcd-NAME.pid.  A member
# restarted on its data directory ignores the cluster flags.
etcd_launch() {
	local d="$BATS_FILE_TMPDIR/etcd-$1"
	mkdir -p "$d"
	# in a subshell that exits at once: the member is nobody's job, so a
	# test may kill one that setup_file started without a shell's notice
	(
		etcd --name "$1" --data-dir "$d/data" --logger zap \
		    --log-level error \
		    --listen-client-urls "http://127.0.0.1:$2" \
		    --advertise-client-urls "http://127.0.0.1:$2" \
		    --listen-peer-urls "http://127.0.0.1:$3" \
		    --initial-advertise-peer-urls "http://127.0.0.1:$3" \
		    --initial-cluster "$4" --initial-cluster-token arc-test \
		    --initial-cluster-state "${5:-new}" \
		    >>"$d/log" 2>&1 3>&- &
		echo $! >"$d/pid"
	)
	echo "$2" >"$d/port"
	echo "$3" >"$d/peer"
	echo "$4" >"$d/cluster"
}

# etcd_wait PORT [SECONDS]: until the member on PORT answers /health
# with "true" (it has a leader), at most SECONDS (default 20).
etcd_wait() {
	local end=$((SECONDS + ${2:-20}))
	while [ "$SECONDS" -lt "$end" ]; do
		curl -s -m 2 "http://127.0.0.1:$1/health" 2>/dev/null |
		    grep -q '"health":"true"' && return 0
		sleep 0.1
	done
	echo "etcd on port $1 is not healthy after ${2:-20} s" >&2
	return 1
}

# free_ports N: N distinct free ports, one a line.
free_ports() {
	local got=" " p
	while [ "$(wc -w <<<"$got")" -lt "$1" ]; do
		p=$(free_port) || return 1
		case $got in *" $p "*) continue ;; esac
		got="$got$p "
	done
	printf '%s\n' $got
}

# start_etcd [NAME]: a single-member etcd (default name "e1"); exports
# ETCD_PORT and ETCD (the endpoint 127.0.0.1:PORT).  launch_etcd does the
# same without waiting for it (etcd_wait "$ETCD_PORT" then), so that a
# setup_file can start several servers at once.
launch_etcd() {
	local name=${1:-e1} ports
	ports=($(free_ports 2)) || return 1
	etcd_launch "$name" "${ports[0]}" "${ports[1]}" \
	    "$name=http://127.0.0.1:${ports[1]}"
	ETCD_PORT=${ports[0]}
	ETCD=127.0.0.1:$ETCD_PORT
	export ETCD_PORT ETCD
}

start_etcd() {
	launch_etcd "$@" && etcd_wait "$ETCD_PORT"
}

# stop_etcd_member NAME [SIGNAL]: stop member NAME by its PID (SIGTERM,
# or SIGNAL such as KILL) and wait until it is gone (at most 10 s).
stop_etcd_member() {
	local f="$BATS_FILE_TMPDIR/etcd-$1/pid" pid i
	[ -f "$f" ] || return 0
	pid=$(cat "$f")
	rm -f "$f"
	kill -"${2:-TERM}" "$pid" 2>/dev/null || return 0
	for i in $(seq 1 200); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.05
	done
	echo "etcd member $1 (pid $pid) did not stop" >&2
	return 1
}

# restart_etcd_member NAME: start a stopped member again on its data
# directory and ports.
restart_etcd_member() {
	local d="$BATS_FILE_TMPDIR/etcd-$1"
	etcd_launch "$1" "$(cat "$d/port")" "$(cat "$d/peer")" \
	    "$(cat "$d/cluster")" existing
}

stop_etcd() {
	stop_etcd_member "${1:-e1}"
}

# start_etcd_cluster: three members m1, m2, m3 on loopback; exports
# ETCD_M1, ETCD_M2, ETCD_M3 (their endpoints) and ETCD_CLUSTER (all
# three, comma-separated, for an etcd:// URL).  launch_etcd_cluster does
# the same without waiting (wait_etcd_cluster then).
launch_etcd_cluster() {
	local ports cluster i
	ports=($(free_ports 6)) || return 1
	cluster="m1=http://127.0.0.1:${ports[3]},m2=http://127.0.0.1:${ports[4]},m3=http://127.0.0.1:${ports[5]}"
	for i in 1 2 3; do
		etcd_launch "m$i" "${ports[i - 1]}" "${ports[i + 2]}" "$cluster"
	done
	ETCD_M1=127.0.0.1:${ports[0]}
	ETCD_M2=127.0.0.1:${ports[1]}
	ETCD_M3=127.0.0.1:${ports[2]}
	ETCD_CLUSTER=$ETCD_M1,$ETCD_M2,$ETCD_M3
	export ETCD_M1 ETCD_M2 ETCD_M3 ETCD_CLUSTER
}

wait_etcd_cluster() {
	local m
	for m in m1 m2 m3; do
		etcd_wait "$(cat "$BATS_FILE_TMPDIR/etcd-$m/port")" || return 1
	done
}

start_etcd_cluster() {
	launch_etcd_cluster && wait_etcd_cluster
}

stop_etcd_cluster() {
	local i
	for i in 1 2 3; do
		stop_etcd_member "m$i"
	done
}

# etcd_leader: the name (m1, m2 or m3) of the cluster's leader.
etcd_leader() {
	local i ep st
	for i in 1 2 3; do
		[ -f "$BATS_FILE_TMPDIR/etcd-m$i/pid" ] || continue
		ep=$(cat "$BATS_FILE_TMPDIR/etcd-m$i/port")
		st=$(curl -s -m 2 -X POST -d '{}' \
		    "http://127.0.0.1:$ep/v3/maintenance/status") || continue
		if [ -n "$st" ] && jq -e '.header.member_id == .leader' \
		    <<<"$st" >/dev/null 2>&1; then
			echo "m$i"
			return 0
		fi
	done
	return 1
}

# start_arcapi: tests/arcapi.py (a stand-in for Arc's cluster files API
# and a fake or proxied etcd gateway) on a free port, steered by the
# files in $ARCAPI_DIR (see its header); exports ARCAPI_PORT, ARCAPI_DIR
# and ARCAPI (http://127.0.0.1:PORT).
start_arcapi() {
	local try pid i
	ARCAPI_DIR="$BATS_FILE_TMPDIR/arcapi"
	mkdir -p "$ARCAPI_DIR"
	: >"$ARCAPI_DIR/manifest.ndjson"
	# a free port can be taken before the server binds it: when the
	# server is gone, try another port
	for try in 1 2 3 4 5; do
		ARCAPI_PORT=$(free_port)
		/usr/bin/python3 "$ARC_ROOT/tests/arcapi.py" "$ARCAPI_PORT" \
		    "$ARCAPI_DIR" >"$BATS_FILE_TMPDIR/arcapi.log" 2>&1 3>&- &
		pid=$!
		echo "$pid" >"$BATS_FILE_TMPDIR/arcapi.pid"
		ARCAPI=http://127.0.0.1:$ARCAPI_PORT
		export ARCAPI_PORT ARCAPI_DIR ARCAPI
		for i in $(seq 1 900); do
			curl -s -o /dev/null "$ARCAPI/" && return 0
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	echo "tests/arcapi.py did not answer on any of 5 ports" >&2
	return 1
}

# start_arcapi_tls CERT KEY CA: a second tests/arcapi.py over HTTPS with
# CERT and KEY, on the same $ARCAPI_DIR (start_arcapi first); exports
# ARCAPI_TLS_PORT.  Its PID in arcapi-tls.pid (stop_named arcapi-tls).
start_arcapi_tls() {
	ARCAPI_TLS_PORT=$(free_port)
	/usr/bin/python3 "$ARC_ROOT/tests/arcapi.py" "$ARCAPI_TLS_PORT" \
	    "$ARCAPI_DIR" "$1" "$2" >"$BATS_FILE_TMPDIR/arcapi-tls.log" 2>&1 3>&- &
	echo $! >"$BATS_FILE_TMPDIR/arcapi-tls.pid"
	export ARCAPI_TLS_PORT
	wait_http_for 30 "https://127.0.0.1:$ARCAPI_TLS_PORT/" --cacert "$3"
}

# reset_arcapi: empty the control directory (a manifest with no entries,
# no token, no delays, no fakes) and the request log.
reset_arcapi() {
	rm -rf "$ARCAPI_DIR"
	mkdir -p "$ARCAPI_DIR"
	: >"$ARCAPI_DIR/manifest.ndjson"
	: >"$ARCAPI_DIR/requests.log"
}

stop_arcapi() {
	local f="$BATS_FILE_TMPDIR/arcapi.pid"
	[ -f "$f" ] || return 0
	kill "$(cat "$f")" 2>/dev/null
	wait "$(cat "$f")" 2>/dev/null || true
	rm -f "$f"
}

# ---- s3.bats: two s3rvers at once, a fault proxy, fast seeding ---------

# start_s3rver_as NAME [v4]: one more s3rver (3.7.1, or the signature-
# checking 4.0.4 fork), data in $BATS_FILE_TMPDIR/NAME-data, port in
# NAME.port, PID in NAME.pid, log in NAME.log; AWS_* are left alone.  It
# does not wait for the server (start others meanwhile): wait_named does.
start_s3rver_as() {
	echo "${2:-}" >"$BATS_FILE_TMPDIR/$1.kind"
	echo 0 >"$BATS_FILE_TMPDIR/$1.tries"
	launch_named "$1"
}

# launch_named NAME: start the s3rver NAME on a port that looks free.
launch_named() {
	local js="$ARC_NODE_MODULES/s3rver/bin/s3rver.js" port
	[ "$(cat "$BATS_FILE_TMPDIR/$1.kind")" = v4 ] &&
	    js="$ARC_SERVERS/s3rver-v4.js"
	port=$(free_port) || return 1
	mkdir -p "$BATS_FILE_TMPDIR/$1-data"
	# s3rver makes continuation tokens with DES: the legacy provider
	NODE_PATH=$ARC_NODE_MODULES node --openssl-legacy-provider "$js" \
	    -d "$BATS_FILE_TMPDIR/$1-data" \
	    -a 127.0.0.1 -p "$port" --silent \
	    >"$BATS_FILE_TMPDIR/$1.log" 2>&1 3>&- &
	echo $! >"$BATS_FILE_TMPDIR/$1.pid"
	echo "$port" >"$BATS_FILE_TMPDIR/$1.port"
}

# pid_listens PID PORT: PID itself holds the socket listening on
# 127.0.0.1:PORT (an answer on the port could come from anyone's server:
# free_port's choice can be taken before the server binds it).
pid_listens() {
	local inode
	inode=$(awk -v a="$(printf '0100007F:%04X' "$2")" \
	    '$2 == a && $4 == "0A" { print $10 }' /proc/net/tcp)
	[ -n "$inode" ] &&
	    ls -l "/proc/$1/fd" 2>/dev/null | grep -q "socket:\[$inode\]"
}

# wait_named NAME [SECONDS]: until the s3rver started as NAME listens, at
# most SECONDS (60: node takes long to start on a loaded machine); when
# its port was taken meanwhile, start it again on another, up to 3 times.
wait_named() {
	local d=$BATS_FILE_TMPDIR end=$((SECONDS + ${2:-60})) pid
	while [ "$SECONDS" -lt "$end" ]; do
		pid=$(cat "$d/$1.pid")
		pid_listens "$pid" "$(cat "$d/$1.port")" && return 0
		if ! kill -0 "$pid" 2>/dev/null; then
			wait "$pid" 2>/dev/null
			grep -q EADDRINUSE "$d/$1.log" &&
			    [ "$(cat "$d/$1.tries")" -lt 3 ] || break
			echo $(($(cat "$d/$1.tries") + 1)) >"$d/$1.tries"
			launch_named "$1"
		fi
		sleep 0.2
	done
	echo "s3rver $1 did not start; its log:" >&2
	cat "$d/$1.log" >&2
	return 1
}

# stop_named NAME: stop what start_s3rver_as or start_proxy started
# as NAME, by its PID.
stop_named() {
	local f="$BATS_FILE_TMPDIR/$1.pid"
	[ -f "$f" ] || return 0
	kill "$(cat "$f")" 2>/dev/null
	wait "$(cat "$f")" 2>/dev/null
	rm -f "$f"
}

# s3seed_old BUCKET KEY...: objects written straight into s3rver
# ($S3_DATA), all with the LastModified $OLD of the suite.
s3seed_old() {
	local b=$1 k f=()
	shift
	printf '%s\n' "$@" | s3seed_many "$b"
	for k in "$@"; do
		f+=("$S3_DATA/$b/$k._S3rver_object")
	done
	touch -d "$OLD" "${f[@]}"
}

# faults RULE...: the rules of the fault proxy that reads $FP_RULES
# ("METHOD REGEX ACTION [TIMES]", see tests/proxy.py); the first
# line makes every test's rules new to the proxy, so its counters start
# over.  No rule: every request is forwarded.
faults() {
	{
		echo "# test $BATS_TEST_NUMBER $RANDOM"
		printf '%s\n' "$@"
	} >"$FP_RULES"
}

# proxied CMD...: CMD with the fault proxy at $FP_URL as the S3 endpoint.
proxied() {
	AWS_ENDPOINT_URL=$FP_URL "$@"
}

# s3seed_many BUCKET: s3seed every key read from standard input, one a
# line, and the MD5 files s3rver would otherwise compute on its first
# listing; a few processes in all, so thousands of keys take a second.
s3seed_many() {
	local keys
	keys=$(cat)
	printf '%s\n' "$keys" | sed -n 's|/[^/]*$||p' | sort -u |
	    (cd "$S3_DATA/$1" && xargs -r -d '\n' mkdir -p)
	printf '%s\n' "$keys" | awk -v d="$S3_DATA/$1/" '
	    { f = d $0 "._S3rver_object"; printf "data:%s\n", $0 > f; close(f) }'
	(cd "$S3_DATA/$1" && printf '%s\n' "$keys" |
	    sed 's/$/._S3rver_object/' | xargs -r -d '\n' md5sum) |
	    awk -v d="$S3_DATA/$1/" '
	    { f = d substr($0, 35) ".md5"; printf "%s", $1 > f; close(f) }'
}

# ---- TLS, credentials and proxies (etcd-tls.bats, arcapi.bats) --------

# make_tls DIR: with openssl, a CA (ca.crt), a server certificate for
# 127.0.0.1 signed by it (server.crt, server.key), a client certificate
# (client.crt, client.key), and another CA that signed neither (wrong.crt).
make_tls() {
	local d=$1
	mkdir -p "$d"
	(
		cd "$d" || exit 1
		openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key \
		    -out ca.crt -days 2 -subj /CN=arc-test-ca &&
		openssl req -x509 -newkey rsa:2048 -nodes -keyout wrong.key \
		    -out wrong.crt -days 2 -subj /CN=arc-test-other-ca &&
		openssl req -newkey rsa:2048 -nodes -keyout server.key \
		    -out server.csr -subj /CN=127.0.0.1 &&
		printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n' >server.ext &&
		openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key \
		    -CAcreateserial -out server.crt -days 2 -extfile server.ext &&
		openssl req -newkey rsa:2048 -nodes -keyout client.key \
		    -out client.csr -subj /CN=root &&
		printf 'extendedKeyUsage=clientAuth\n' >client.ext &&
		openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key \
		    -CAcreateserial -out client.crt -days 2 -extfile client.ext
	) >"$d/openssl.log" 2>&1 || { cat "$d/openssl.log" >&2; return 1; }
}

# etcd_launch_with NAME SCHEME FLAGS...: as launch_etcd, for a member
# NAME whose client URL is SCHEME (http or https) and with more etcd
# FLAGS (TLS files, --client-cert-auth, --auth-token-ttl); exports
# ETCD_<NAME>_PORT.
etcd_launch_with() {
	local name=$1 scheme=$2 ports d
	shift 2
	ports=($(free_ports 2)) || return 1
	d="$BATS_FILE_TMPDIR/etcd-$name"
	mkdir -p "$d"
	(
		etcd --name "$name" --data-dir "$d/data" --logger zap \
		    --log-level error \
		    --listen-client-urls "$scheme://127.0.0.1:${ports[0]}" \
		    --advertise-client-urls "$scheme://127.0.0.1:${ports[0]}" \
		    --listen-peer-urls "http://127.0.0.1:${ports[1]}" \
		    --initial-advertise-peer-urls "http://127.0.0.1:${ports[1]}" \
		    --initial-cluster "$name=http://127.0.0.1:${ports[1]}" \
		    --initial-cluster-token arc-test "$@" \
		    >>"$d/log" 2>&1 3>&- &
		echo $! >"$d/pid"
	)
	echo "${ports[0]}" >"$d/port"
	eval "ETCD_${name}_PORT=${ports[0]}; export ETCD_${name}_PORT"
}

# etcd_wait_url URL [CURL-ARGS...]: until URL/health says "true", at most
# 20 s.
etcd_wait_url() {
	local url=$1 end=$((SECONDS + 20))
	shift
	while [ "$SECONDS" -lt "$end" ]; do
		curl -s -m 2 "$@" "$url/health" 2>/dev/null |
		    grep -q '"health":"true"' && return 0
		sleep 0.1
	done
	echo "etcd at $url is not healthy after 20 s" >&2
	return 1
}

# start_proxy NAME [UPSTREAM_PORT]: tests/proxy.py, a forward and CONNECT
# proxy that logs each request to $BATS_FILE_TMPDIR/NAME.requests; with
# UPSTREAM_PORT also a reverse proxy in front of 127.0.0.1:UPSTREAM_PORT
# that injects the faults of its rules in NAME.rules.  Waits until it
# listens (on a port it lets the kernel choose) and writes that port to
# NAME.port, its PID to NAME.pid (stop_named NAME stops it).
start_proxy() {
	local d=$BATS_FILE_TMPDIR end=$((SECONDS + 60))
	: >"$d/$1.rules"
	: >"$d/$1.requests"
	rm -f "$d/$1.port"
	/usr/bin/python3 "$ARC_ROOT/tests/proxy.py" "$d/$1.port" \
	    "$d/$1.requests" ${2:+"$2" "$d/$1.rules"} >"$d/$1.log" 2>&1 3>&- &
	echo $! >"$d/$1.pid"
	while [ "$SECONDS" -lt "$end" ]; do
		[ -s "$d/$1.port" ] && return 0
		kill -0 "$(cat "$d/$1.pid")" 2>/dev/null || break
		sleep 0.1
	done
	echo "proxy $1 did not start; its log:" >&2
	cat "$d/$1.log" >&2
	return 1
}

# ---- OpenStack Swift's S3 API (swift.bats) -----------------------------

# start_swift: OpenStack Swift 2.30 from the Debian packages, all in
# $BATS_FILE_TMPDIR/swift on 127.0.0.1: one storage node (account,
# container and object servers, one device "d1", replica count 1, no
# mount check), a memcached (tempauth keeps tokens there) and the proxy
# with the s3api and tempauth middleware; tempauth's one user is
# test:tester with key "testing", which is also its S3 access key id and
# secret.  Each server runs in the foreground as tests/swiftd.py (see
# there) with "workers = 0", its PID in swift/NAME.pid, its log in
# swift/NAME.log.  Exports SWIFT_URL (the S3 endpoint), SWIFT_STORAGE
# (the account's native URL) and SWIFT_TOKEN (a tempauth token for it).
SWIFT_S3_ID=test:tester
SWIFT_S3_SECRET=testing
start_swift() {
	local d="$BATS_FILE_TMPDIR/swift" ports user i s p end pid
	mkdir -p "$d/node/d1"
	ports=($(free_ports 5)) || return 1
	user=$(id -un)
	printf '[swift-hash]\nswift_hash_path_suffix = arc-test-%s\n\n[storage-policy:0]\nname = Policy-0\ndefault = yes\n' \
	    "$RANDOM$RANDOM" >"$d/swift.conf"
	i=1
	for s in account container object; do
		(
			cd "$d" &&
			swift-ring-builder "$s.builder" create 0 1 0 &&
			swift-ring-builder "$s.builder" add \
			    "r1z1-127.0.0.1:${ports[i]}/d1" 1 &&
			swift-ring-builder "$s.builder" rebalance
			[ -s "$s.ring.gz" ]
		) >>"$d/rings.log" 2>&1 ||
		    { cat "$d/rings.log" >&2; return 1; }
		printf '[DEFAULT]\nbind_ip = 127.0.0.1\nbind_port = %s\nworkers = 0\nuser = %s\nswift_dir = %s\ndevices = %s/node\nmount_check = false\nlog_level = WARNING\n\n[pipeline:main]\npipeline = %s-server\n\n[app:%s-server]\nuse = egg:swift#%s\n' \
		    "${ports[i]}" "$user" "$d" "$d" "$s" "$s" "$s" >"$d/$s.conf"
		i=$((i + 1))
	done
	cat >"$d/proxy.conf" <<-EOF
	[DEFAULT]
	bind_ip = 127.0.0.1
	bind_port = ${ports[0]}
	workers = 0
	user = $user
	swift_dir = $d
	log_level = INFO

	[pipeline:main]
	pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats bulk s3api tempauth copy slo dlo versioned_writes proxy-logging proxy-server

	[app:proxy-server]
	use = egg:swift#proxy
	account_autocreate = true

	[filter:s3api]
	use = egg:swift#s3api
	location = us-east-1

	[filter:tempauth]
	use = egg:swift#tempauth
	user_test_tester = $SWIFT_S3_SECRET .admin

	[filter:cache]
	use = egg:swift#memcache
	memcache_servers = 127.0.0.1:${ports[4]}

	[filter:catch_errors]
	use = egg:swift#catch_errors
	[filter:gatekeeper]
	use = egg:swift#gatekeeper
	# a client's X-Timestamp is kept (as for container sync): the tests
	# seed objects with a LastModified in the past
	shunt_inbound_x_timestamp = false
	[filter:healthcheck]
	use = egg:swift#healthcheck
	[filter:proxy-logging]
	use = egg:swift#proxy_logging
	[filter:listing_formats]
	use = egg:swift#listing_formats
	[filter:bulk]
	use = egg:swift#bulk
	[filter:copy]
	use = egg:swift#copy
	[filter:slo]
	use = egg:swift#slo
	[filter:dlo]
	use = egg:swift#dlo
	[filter:versioned_writes]
	use = egg:swift#versioned_writes
	EOF
	memcached -l 127.0.0.1 -p "${ports[4]}" -U 0 -u "$user" \
	    >"$d/memcached.log" 2>&1 3>&- &
	echo $! >"$d/memcached.pid"
	echo "${ports[4]}" >"$d/memcached.port"
	for s in account container object proxy; do
		/usr/bin/python3 "$ARC_ROOT/tests/swiftd.py" "$s-server" \
		    "$d/$s.conf" "$d" >"$d/$s.log" 2>&1 3>&- &
		echo $! >"$d/$s.pid"
	done
	echo "${ports[0]}" >"$d/proxy.port"
	echo "${ports[1]}" >"$d/account.port"
	echo "${ports[2]}" >"$d/container.port"
	echo "${ports[3]}" >"$d/object.port"
	# each server must be the one listening on its port (a free port can
	# be taken before it binds it)
	for s in memcached account container object proxy; do
		pid=$(cat "$d/$s.pid")
		p=$(cat "$d/$s.port")
		wait_own "$pid" "$p" 60 || {
			echo "swift: $s did not start on port $p; its log:" >&2
			cat "$d/$s.log" >&2
			return 1
		}
	done
	SWIFT_URL=http://127.0.0.1:${ports[0]}
	wait_http_for 30 "$SWIFT_URL/healthcheck" -f || return 1
	# a tempauth token and the account's URL for the native API
	end=$((SECONDS + 30))
	while [ "$SECONDS" -lt "$end" ]; do
		SWIFT_TOKEN=$(curl -s -D - -o /dev/null -H "X-Auth-User: $SWIFT_S3_ID" \
		    -H "X-Auth-Key: $SWIFT_S3_SECRET" "$SWIFT_URL/auth/v1.0" |
		    tr -d '\r' | sed -n 's/^[Xx]-[Aa]uth-[Tt]oken: //p')
		[ -n "$SWIFT_TOKEN" ] && break
		sleep 0.2
	done
	[ -n "$SWIFT_TOKEN" ] || { echo "swift: tempauth gave no token" >&2; return 1; }
	SWIFT_STORAGE=$SWIFT_URL/v1/AUTH_test
	export SWIFT_URL SWIFT_STORAGE SWIFT_TOKEN
}

# stop_swift: the proxy, the storage servers and memcached, each by its
# PID, and wait until each is gone.
stop_swift() {
	local d="$BATS_FILE_TMPDIR/swift" s pid i
	for s in proxy object container account memcached; do
		[ -f "$d/$s.pid" ] || continue
		pid=$(cat "$d/$s.pid")
		rm -f "$d/$s.pid"
		kill "$pid" 2>/dev/null || continue
		for i in $(seq 1 100); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.05
		done
		wait "$pid" 2>/dev/null
	done
	return 0
}

# ---- one s3rver behind the fault proxy (estimate.bats, window.bats,
# verified-deletes.bats) ----------------------------------------------------

# start_s3_proxied / wait_s3_proxied: the s3rver "s3" (3.7.1) and the
# fault proxy "fp" in front of it (start_s3rver_as, start_proxy); a suite
# starts its other servers between the two, so that they start at once.
# wait_s3_proxied waits for the s3rver and exports S3_DATA (its
# directory), FP_URL (the proxy) and AWS_* for the server itself, with
# no other AWS endpoint, addressing, token, region or CA setting.  Stop
# both with stop_named fp and stop_named s3.
start_s3_proxied() {
	start_s3rver_as s3
	start_proxy fp "$(cat "$BATS_FILE_TMPDIR/s3.port")"
}
wait_s3_proxied() {
	wait_named s3 || return 1
	S3_DATA=$BATS_FILE_TMPDIR/s3-data
	FP_URL="http://127.0.0.1:$(cat "$BATS_FILE_TMPDIR/fp.port")"
	export S3_DATA FP_URL
	export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER
	export AWS_ENDPOINT_URL="http://127.0.0.1:$(cat "$BATS_FILE_TMPDIR/s3.port")"
	unset AWS_ENDPOINT_URL_S3 AWS_S3_ADDRESSING_STYLE AWS_SESSION_TOKEN \
	    AWS_REGION AWS_DEFAULT_REGION AWS_CA_BUNDLE
}

# fp_fresh: for a test, FP_RULES and FP_LOG of the proxy "fp", its
# request log emptied and no fault rule (faults, so its counters start
# over).
fp_fresh() {
	FP_RULES=$BATS_FILE_TMPDIR/fp.rules
	FP_LOG=$BATS_FILE_TMPDIR/fp.requests
	: >"$FP_LOG"
	faults
}
