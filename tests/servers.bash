# servers.bash - start and stop the real servers the tests talk to, on
# 127.0.0.1 only, each stopped by its PID.  Load it after test_helper in
# a .bats file and call the start_* functions from setup_file.
ARC_SERVERS="$ARC_ROOT/tests/servers"

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
	for i in $(seq 1 100); do
		curl -s -o /dev/null "$1" && return 0
		sleep 0.1
	done
	echo "server at $1 did not start" >&2
	return 1
}

# start_s3rver [v4]: s3rver 3.7.1 (or the signature-checking 4.0.4 fork)
# in $BATS_FILE_TMPDIR; exports AWS_* for it and S3_PORT, S3_DATA.
start_s3rver() {
	local js="$ARC_SERVERS/node_modules/s3rver/bin/s3rver.js"
	[ "${1:-}" = v4 ] && js="$ARC_SERVERS/s3rver-v4.js"
	S3_PORT=$(free_port)
	S3_DATA="$BATS_FILE_TMPDIR/s3data"
	mkdir -p "$S3_DATA"
	# s3rver makes continuation tokens with DES: the legacy provider
	node --openssl-legacy-provider "$js" -d "$S3_DATA" -a 127.0.0.1 \
	    -p "$S3_PORT" --silent >"$BATS_FILE_TMPDIR/s3rver.log" 2>&1 3>&- &
	echo $! >"$BATS_FILE_TMPDIR/s3rver.pid"
	export S3_PORT S3_DATA
	export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER
	export AWS_ENDPOINT_URL="http://127.0.0.1:$S3_PORT"
	unset AWS_ENDPOINT_URL_S3 AWS_S3_ADDRESSING_STYLE AWS_SESSION_TOKEN
	wait_http "$AWS_ENDPOINT_URL/"
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
	AZ_PORT=$(free_port)
	mkdir -p "$BATS_FILE_TMPDIR/azdata"
	"$ARC_SERVERS/node_modules/.bin/azurite-blob" --blobHost 127.0.0.1 \
	    --blobPort "$AZ_PORT" --location "$BATS_FILE_TMPDIR/azdata" \
	    --disableTelemetry --silent >"$BATS_FILE_TMPDIR/azurite.log" 2>&1 3>&- &
	echo $! >"$BATS_FILE_TMPDIR/azurite.pid"
	AZ_ENDPOINT="http://127.0.0.1:$AZ_PORT/$AZ_ACCOUNT"
	export AZ_PORT AZ_ENDPOINT
	export AZURE_STORAGE_CONNECTION_STRING="DefaultEndpointsProtocol=http;AccountName=$AZ_ACCOUNT;AccountKey=$AZ_KEY;BlobEndpoint=$AZ_ENDPOINT;"
	unset AZURE_STORAGE_ACCOUNT AZURE_STORAGE_KEY AZURE_STORAGE_SAS_TOKEN AZURE_STORAGE_BLOB_ENDPOINT
	wait_http "http://127.0.0.1:$AZ_PORT/"
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
