#!/usr/bin/env bats
# azcred.bats - production credentials for az:// stores, against two real
# Azurite 3.35.0 blob services on 127.0.0.1, started once for the file:
#
#  - plain HTTP with azproxy (servers.bash) in front, to count requests:
#    container and blob SAS tokens (tests/azsas.py, signed with the
#    emulator's well-known key) with and without each permission that
#    list, re-check and delete need;
#  - tests/fakeserver.py, for 404 answers without Azure's error code;
#  - HTTPS with "--oauth basic" (a CA and server certificate made here
#    with openssl), for Microsoft Entra ID bearer tokens from
#    tests/azstub.py, a loopback stand-in for the token endpoints: a
#    client secret, workload identity, App Service and VM managed
#    identity, refresh, and the CA bundle from SSL_CERT_FILE/SSL_CERT_DIR.
#
# No test reaches the instance metadata address: AZURE_POD_IDENTITY_AUTHORITY_HOST
# points at the stand-in or at 127.0.0.1:9 (test_helper.bash).
load test_helper
load servers
bats_require_minimum_version 1.5.0

D=db/m/2026/04/11/12
TENANT=72f988bf-86f1-41af-91ab-2d7cd011db47
CLIENT=00000000-0000-0000-0000-00000000c11e
SECRET='s3cr3t~Value.With-Odd+Chars/='

setup_file() {
	local tls=$BATS_FILE_TMPDIR/tls try pid
	mkdir -p "$tls" "$BATS_FILE_TMPDIR/aztdata" "$BATS_FILE_TMPDIR/stub"
	# a CA and a server certificate for 127.0.0.1 that it signed
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=arc-test-ca \
	    -addext basicConstraints=critical,CA:TRUE \
	    -addext keyUsage=critical,keyCertSign,cRLSign \
	    -keyout "$tls/ca.key" -out "$tls/ca.pem" 2>/dev/null
	openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 \
	    -keyout "$tls/key.pem" -out "$tls/srv.csr" 2>/dev/null
	printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >"$tls/ext"
	openssl x509 -req -in "$tls/srv.csr" -CA "$tls/ca.pem" \
	    -CAkey "$tls/ca.key" -CAcreateserial -days 2 -extfile "$tls/ext" \
	    -out "$tls/cert.pem" 2>/dev/null
	mkdir -p "$tls/dir"
	cp "$tls/ca.pem" "$tls/dir/"
	openssl rehash "$tls/dir" 2>/dev/null || c_rehash "$tls/dir" >/dev/null
	export CA=$tls/ca.pem CADIR=$tls/dir

	# the HTTPS Azurite, launched first: both start meanwhile
	for try in 1 2 3; do
		AZT_PORT=$(free_port)
		"$ARC_NODE_MODULES/.bin/azurite-blob" --blobHost 127.0.0.1 \
		    --blobPort "$AZT_PORT" --location "$BATS_FILE_TMPDIR/aztdata" \
		    --oauth basic --cert "$tls/cert.pem" --key "$tls/key.pem" \
		    --disableTelemetry --silent \
		    >"$BATS_FILE_TMPDIR/azt.log" 2>&1 3>&- &
		pid=$!
		echo "$pid" >"$BATS_FILE_TMPDIR/azt.pid"
		wait_own_any "$pid" "$AZT_PORT" 90 && break
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	export AZT_PORT AZT_ENDPOINT="https://127.0.0.1:$AZT_PORT/$AZ_ACCOUNT"

	start_azurite 2>/dev/null ||
	    wait_http_for 60 "http://127.0.0.1:$AZ_PORT/"
	start_azproxy
	AZ_SAS=$(azsas)
	export AZ_SAS

	STUB=$BATS_FILE_TMPDIR/stub
	/usr/bin/python3 "$ARC_ROOT/tests/azstub.py" "$STUB" \
	    >"$BATS_FILE_TMPDIR/azstub.log" 2>&1 3>&- &
	echo $! >"$BATS_FILE_TMPDIR/azstub.pid"
	for try in $(seq 1 100); do
		[ -s "$STUB/port" ] && break
		sleep 0.1
	done
	export STUB STUB_URL="http://127.0.0.1:$(cat "$STUB/port")"
}

teardown_file() {
	local f
	for f in azstub azt; do
		[ -f "$BATS_FILE_TMPDIR/$f.pid" ] || continue
		kill "$(cat "$BATS_FILE_TMPDIR/$f.pid")" 2>/dev/null
		wait "$(cat "$BATS_FILE_TMPDIR/$f.pid")" 2>/dev/null
		rm -f "$BATS_FILE_TMPDIR/$f.pid"
	done
	stop_azproxy
	stop_azurite
}

setup() {
	C=c-$BATS_TEST_NUMBER
	unset AZURE_STORAGE_CONNECTION_STRING AZURE_STORAGE_ACCOUNT \
	    AZURE_STORAGE_KEY AZURE_STORAGE_SAS_TOKEN \
	    AZURE_STORAGE_BLOB_ENDPOINT AZURE_TENANT_ID AZURE_CLIENT_ID \
	    AZURE_CLIENT_SECRET AZURE_FEDERATED_TOKEN_FILE AZURE_AUTHORITY_HOST \
	    IDENTITY_ENDPOINT IDENTITY_HEADER SSL_CERT_FILE SSL_CERT_DIR
	rm -f "$STUB"/{secret,assertion,identity_header,expires_in,fail,fail_after,rotate}
	: >"$STUB/requests.ndjson"
	: >"$AZP_LOG"
	: >m.ndjson
}

teardown() {
	if [ -f "$BATS_TEST_TMPDIR/fake.pid" ]; then
		kill "$(cat "$BATS_TEST_TMPDIR/fake.pid")" 2>/dev/null
		wait "$(cat "$BATS_TEST_TMPDIR/fake.pid")" 2>/dev/null
	fi
	return 0
}

# --- helpers -------------------------------------------------------------

# mkc ENDPOINT NAME: create a container (account SAS).
mkc() {
	curl -s --cacert "$CA" -o /dev/null -w '%{http_code}' -X PUT \
	    "$1/$2?restype=container&$AZ_SAS" | grep -q 201
}

# seed ENDPOINT CONTAINER NAME...: the container, with block blobs NAME.
seed() {
	local ep=$1 c=$2
	shift 2
	mkc "$ep" "$c"
	[ $# -eq 0 ] || CURL_CA_BUNDLE=$CA AZ_ENDPOINT=$ep azseed "$c" "$@"
}

# azls ENDPOINT CONTAINER: every blob name in it, from Azurite directly.
azls() {
	curl -s --cacert "$CA" \
	    "$1/$2?restype=container&comp=list&maxresults=5000&$AZ_SAS" |
	    grep -o '<Name>[^<]*</Name>' | sed -e 's/<\/*Name>//g'
}

# csas PERMISSIONS [CONTAINER [BLOB]]: a service SAS for CONTAINER
# (default $C), or for one BLOB in it.
csas() {
	/usr/bin/python3 "$ARC_ROOT/tests/azsas.py" "$AZ_ACCOUNT" "$AZ_KEY" \
	    "${2:-$C}" "$1" "${3:-}"
}

# use_sas TOKEN: the tools get TOKEN and the proxied HTTP Azurite.
use_sas() {
	export AZURE_STORAGE_ACCOUNT=$AZ_ACCOUNT AZURE_STORAGE_SAS_TOKEN=$1 \
	    AZURE_STORAGE_BLOB_ENDPOINT=$AZP_ENDPOINT
}

# use_entra: no key, no SAS: the HTTPS Azurite, trusted through
# SSL_CERT_FILE, for Entra ID tokens.
use_entra() {
	export AZURE_STORAGE_ACCOUNT=$AZ_ACCOUNT \
	    AZURE_STORAGE_BLOB_ENDPOINT=$AZT_ENDPOINT SSL_CERT_FILE=$CA
}

# use_secret: a client secret for the stand-in authority.
use_secret() {
	use_entra
	export AZURE_TENANT_ID=$TENANT AZURE_CLIENT_ID=$CLIENT \
	    AZURE_CLIENT_SECRET=$SECRET AZURE_AUTHORITY_HOST=$STUB_URL
}

scand() {
	printf 'orphan-storage\t%s\t2026-04-01T00:00:00Z\t-\n' "$1"
}
ocand() {
	printf 'orphan-manifest\t%s\t2026-04-11T14:00:00Z\t10\tnode-1\t1\n' "$1"
}
lines() {
	printf '%s\n' "$@"
}
# assert_results LINES: $output holds exactly LINES, in any order.
assert_results() {
	assert_equal "$(LC_ALL=C sort <<<"$output")" "$(LC_ALL=C sort <<<"$1")"
}

# stub_requests JQ: the stand-in's recorded requests through jq -r JQ.
stub_requests() {
	jq -r "$1" "$STUB/requests.ndjson"
}

# refute_secrets SECRET...: neither $output nor $stderr holds any SECRET.
refute_secrets() {
	local s
	for s in "$@"; do
		[ -n "$s" ] || continue
		refute_output --partial "$s"
		refute_stderr --partial "$s"
	done
}

# sig_of TOKEN: a SAS token's signature, percent-decoded.
sig_of() {
	local s=${1##*sig=}
	printf '%b' "${s//%/\\x}"
}

# --- container and blob SAS ------------------------------------------------

@test "a container SAS with r and l lists and re-checks, and no request probes the container" {
	local sas
	seed "$AZ_ENDPOINT" "$C" "$D/here.parquet" "$D/b.parquet"
	sas=$(csas rl)
	use_sas "$sas"
	run --separate-stderr arc-list "az://$C"
	assert_success
	assert_equal "$(cut -f1 <<<"$output")" "$(lines "$D/b.parquet" "$D/here.parquet")"

	{ ocand "$D/absent.parquet"; ocand "$D/here.parquet"; } >om.rec
	run --separate-stderr arc-recheck -R rej "az://$C" m.ndjson <om.rec
	assert_failure 1
	assert_output "$(ocand "$D/absent.parquet")"
	assert_equal "$(cut -f1 rej)" present
	refute_secrets "$sas" "$(sig_of "$sas")"
	# List Blobs and HEADs only: no Get Container Properties
	run grep -c "^GET /$AZ_ACCOUNT/$C?restype=container&sv=" "$AZP_LOG"
	assert_output 0
	[ "$(grep -c "^HEAD /$AZ_ACCOUNT/$C/" "$AZP_LOG")" -eq 2 ]
}

@test "a container SAS without l fails the listing with exit 2 and one line that never shows the token" {
	local sas
	seed "$AZ_ENDPOINT" "$C" "$D/a.parquet"
	sas=$(csas r)
	use_sas "$sas"
	run -2 --separate-stderr arc-list "az://$C"
	assert_output ""
	assert_equal "$(wc -l <<<"$stderr")" 1
	assert_stderr --regexp "^arc-list: list 'az://$C/': Azure error AuthorizationPermissionMismatch.*\(HTTP 403\)\$"
	refute_secrets "$sas" "$(sig_of "$sas")"
	# the control: with l it lists
	use_sas "$(csas l)"
	run --separate-stderr arc-list "az://$C"
	assert_success
	assert_equal "$(cut -f1 <<<"$output")" "$D/a.parquet"
}

@test "a container SAS without r makes re-check an error for every blob, never absent" {
	seed "$AZ_ENDPOINT" "$C" "$D/here.parquet"
	{ ocand "$D/absent.parquet"; ocand "$D/here.parquet"; } >om.rec
	use_sas "$(csas ld)"
	run --separate-stderr arc-recheck -R rej "az://$C" m.ndjson <om.rec
	assert_failure 1
	assert_output ""
	assert_equal "$(cut -f1 rej)" "$(lines error error)"
	assert_stderr --partial "'$D/absent.parquet': cannot check"
	assert_stderr --partial "HTTP 403"
	# the control: the same with r confirms the absent one
	use_sas "$(csas r)"
	run --separate-stderr arc-recheck -R rej "az://$C" m.ndjson <om.rec
	assert_failure 1
	assert_output "$(ocand "$D/absent.parquet")"
}

@test "a container SAS with d batch-deletes through the container's batch endpoint" {
	local sas
	seed "$AZ_ENDPOINT" "$C" "$D/a.parquet" "$D/c.parquet" "$D/keep.parquet"
	{ scand "$D/a.parquet"; scand "$D/b.parquet"; scand "$D/c.parquet"; } >os.rec
	sas=$(csas rd)
	use_sas "$sas"
	run --separate-stderr arc-delete --act -A a.tgz "az://$C" m.ndjson <os.rec
	assert_success
	assert_results "$(res deleted storage "$D/a.parquet"
	    res gone storage "$D/b.parquet"; res deleted storage "$D/c.parquet")"
	assert_equal "$(azls "$AZ_ENDPOINT" "$C")" "$D/keep.parquet"
	assert_equal "$(grep -c '^POST ' "$AZP_LOG")" 1
	grep -q "^POST /$AZ_ACCOUNT/$C?comp=batch&restype=container&sv=" "$AZP_LOG"
	assert_equal "$(grep -c '^DELETE ' "$AZP_LOG")" 0
	refute_secrets "$sas" "$(sig_of "$sas")"
	run tar -xzOf a.tgz
	refute_output --partial "$(sig_of "$sas")"
}

@test "a container SAS without d deletes nothing and reports every blob failed, none gone" {
	seed "$AZ_ENDPOINT" "$C" "$D/a.parquet" "$D/c.parquet"
	{ scand "$D/a.parquet"; scand "$D/b.parquet"; scand "$D/c.parquet"; } >os.rec
	use_sas "$(csas rl)"
	run -1 --separate-stderr arc-delete --act -A a.tgz "az://$C" m.ndjson <os.rec
	assert_results "$(res failed storage "$D/a.parquet"
	    res failed storage "$D/b.parquet"; res failed storage "$D/c.parquet")"
	assert_stderr --partial "AuthorizationPermissionMismatch"
	assert_equal "$(azls "$AZ_ENDPOINT" "$C")" "$(lines "$D/a.parquet" "$D/c.parquet")"
}

@test "a container SAS for a missing container: re-check errors and delete failures, nothing absent or gone" {
	local sas
	sas=$(csas rld no-such-container)
	use_sas "$sas"
	{ ocand "$D/a.parquet"; ocand "$D/b.parquet"; } >om.rec
	run --separate-stderr arc-recheck -R rej az://no-such-container m.ndjson <om.rec
	assert_failure 1
	assert_output ""
	assert_equal "$(cut -f1 rej)" "$(lines error error)"
	assert_stderr --partial ContainerNotFound
	{ scand "$D/a.parquet"; scand "$D/b.parquet"; } >os.rec
	run -1 --separate-stderr arc-delete --act -A a.tgz az://no-such-container m.ndjson <os.rec
	assert_equal "$(cut -f1 <<<"$output" | sort -u)" failed
	assert_stderr --partial ContainerNotFound
	refute_secrets "$sas" "$(sig_of "$sas")"
}

@test "a blob SAS re-checks and deletes its blob with single requests, and without d deletes nothing" {
	local sas
	seed "$AZ_ENDPOINT" "$C" "$D/a.parquet"
	scand "$D/a.parquet" >os.rec
	use_sas "$(csas r "$C" "$D/a.parquet")"
	run -1 --separate-stderr arc-delete --act -A a.tgz "az://$C" m.ndjson <os.rec
	assert_output "$(res failed storage "$D/a.parquet")"
	assert_equal "$(azls "$AZ_ENDPOINT" "$C")" "$D/a.parquet"

	sas=$(csas rd "$C" "$D/a.parquet")
	use_sas "$sas"
	ocand "$D/a.parquet" >om.rec
	run --separate-stderr arc-recheck -R rej "az://$C" m.ndjson <om.rec
	assert_failure 1
	assert_equal "$(cut -f1 rej)" present
	: >"$AZP_LOG"
	run --separate-stderr arc-delete --act -A b.tgz "az://$C" m.ndjson <os.rec
	assert_success
	assert_output "$(res deleted storage "$D/a.parquet")"
	assert_equal "$(azls "$AZ_ENDPOINT" "$C")" ""
	assert_equal "$(grep -c '^POST ' "$AZP_LOG")" 0
	refute_secrets "$sas" "$(sig_of "$sas")"
}

@test "a blob SAS never batch-deletes several blobs: each is deleted on its own or fails" {
	seed "$AZ_ENDPOINT" "$C" "$D/a.parquet" "$D/b.parquet"
	{ scand "$D/a.parquet"; scand "$D/b.parquet"; } >os.rec
	use_sas "$(csas rd "$C" "$D/a.parquet")"
	run -1 --separate-stderr arc-delete --act -A a.tgz "az://$C" m.ndjson <os.rec
	assert_results "$(res deleted storage "$D/a.parquet"
	    res failed storage "$D/b.parquet")"
	assert_equal "$(azls "$AZ_ENDPOINT" "$C")" "$D/b.parquet"
	assert_equal "$(grep -c '^POST ' "$AZP_LOG")" 0
}

# --- Microsoft Entra ID ----------------------------------------------------

@test "a client secret from AZURE_TENANT_ID, _CLIENT_ID and _CLIENT_SECRET lists, re-checks and batch-deletes with bearer tokens" {
	seed "$AZT_ENDPOINT" "$C" "$D/keep.parquet" "$D/old1.parquet" "$D/old2.parquet"
	echo "$SECRET" >"$STUB/secret"
	use_secret
	run --separate-stderr arc-list "az://$C"
	assert_success
	assert_equal "$(cut -f1 <<<"$output")" "$(lines "$D/keep.parquet" "$D/old1.parquet" "$D/old2.parquet")"
	assert_equal "$(stub_requests '[.method, .path, .form.grant_type, .form.scope, .form.client_id, .form.client_secret, .headers["content-type"]] | join(" ")')" \
	    "POST /$TENANT/oauth2/v2.0/token client_credentials https://storage.azure.com/.default $CLIENT $SECRET application/x-www-form-urlencoded"

	{ ocand "$D/absent.parquet"; ocand "$D/keep.parquet"; } >om.rec
	run --separate-stderr arc-recheck -R rej "az://$C" m.ndjson <om.rec
	assert_failure 1
	assert_output "$(ocand "$D/absent.parquet")"
	assert_equal "$(cut -f1 rej)" present

	{ scand "$D/gone.parquet"; scand "$D/old1.parquet"; scand "$D/old2.parquet"; } >os.rec
	run --separate-stderr arc-delete --act -A a.tgz "az://$C" m.ndjson <os.rec
	assert_success
	assert_results "$(res gone storage "$D/gone.parquet"
	    res deleted storage "$D/old1.parquet"; res deleted storage "$D/old2.parquet")"
	assert_equal "$(azls "$AZT_ENDPOINT" "$C")" "$D/keep.parquet"
	refute_secrets "$SECRET" "eyJ"
	run bash -c 'tar -xzOf a.tgz | grep -cF -e "$1" -e eyJ' _ "$SECRET"
	assert_output 0
}

@test "an act run of arc-reconcile with a client secret repairs the drift and records neither the secret nor a token" {
	local f
	seed "$AZT_ENDPOINT" "$C" "$D/keep.parquet" "$D/orphan.parquet"
	{ entry "$D/keep.parquet"; entry "$D/lost.parquet"; } >m.ndjson
	echo "$SECRET" >"$STUB/secret"
	use_secret
	run --separate-stderr arc-reconcile --act --archive-files --state-dir state \
	    --grace 1h --skew 0s --now 2030-01-01T00:00:00Z \
	    --max-orphan-ratio 1 "az://$C" m.ndjson
	assert_success
	assert_results "$(res deleted manifest "$D/lost.parquet"
	    res deleted storage "$D/orphan.parquet")"
	assert_equal "$(azls "$AZT_ENDPOINT" "$C")" "$D/keep.parquet"
	refute_secrets "$SECRET" eyJ
	run grep -rlF -e "$SECRET" -e eyJ state
	assert_failure 1
	for f in $(find state -name '*.tar.gz' -o -name '*.tgz'); do
		run bash -c 'tar -xzOf "$2" | grep -cF -e "$1" -e eyJ' _ "$SECRET" "$f"
		assert_output 0
	done
	[ -n "$(find state -name '*.tar.gz' -o -name '*.tgz')" ]
}

@test "a wrong client secret makes arc-list exit 2 with one line naming the token endpoint, never the secret" {
	seed "$AZT_ENDPOINT" "$C" "$D/a.parquet"
	echo right-secret >"$STUB/secret"
	use_secret
	run -2 --separate-stderr arc-list "az://$C"
	assert_output ""
	assert_equal "$(wc -l <<<"$stderr")" 1
	assert_stderr "arc-list: cannot get an Azure token (client secret) from '$STUB_URL/$TENANT/oauth2/v2.0/token': HTTP 401 invalid_client: AADSTS7000215: Invalid client secret provided."
	refute_secrets "$SECRET" right-secret
	# the control: the right secret lists
	export AZURE_CLIENT_SECRET=right-secret
	run --separate-stderr arc-list "az://$C"
	assert_success
	assert_equal "$(cut -f1 <<<"$output")" "$D/a.parquet"
}

@test "re-check and delete with a token Azure refuses report error and failed, never absent or gone" {
	seed "$AZ_ENDPOINT" "$C" "$D/a.parquet"
	{ ocand "$D/a.parquet"; ocand "$D/absent.parquet"; } >om.rec
	{ scand "$D/a.parquet"; scand "$D/b.parquet"; } >os.rec
	# Azurite refuses a bearer token over plain HTTP (401)
	use_secret
	export AZURE_STORAGE_BLOB_ENDPOINT=$AZ_ENDPOINT
	run --separate-stderr arc-recheck -R rej "az://$C" m.ndjson <om.rec
	assert_failure 1
	assert_output ""
	assert_equal "$(cut -f1 rej)" "$(lines error error)"
	run -1 --separate-stderr arc-delete --act -A a.tgz "az://$C" m.ndjson <os.rec
	assert_results "$(res failed storage "$D/a.parquet"
	    res failed storage "$D/b.parquet")"
	refute_secrets eyJ "$SECRET"
	assert_equal "$(azls "$AZ_ENDPOINT" "$C")" "$D/a.parquet"
	# the control: the same server and records with a SAS
	unset AZURE_TENANT_ID
	export AZURE_STORAGE_SAS_TOKEN=$AZ_SAS
	run --separate-stderr arc-recheck -R rej "az://$C" m.ndjson <om.rec
	assert_failure 1
	assert_output "$(ocand "$D/absent.parquet")"
}

@test "workload identity sends the federated token file as a client assertion, read again for every new token" {
	local names=() db
	for db in a b c; do
		names+=("$db/m/2026/04/11/12/f.parquet")
	done
	seed "$AZT_ENDPOINT" "$C" "${names[@]}"
	echo first-assertion >fed.jwt
	echo first-assertion >"$STUB/assertion"
	echo "$PWD/fed.jwt" >"$STUB/rotate"
	echo 60 >"$STUB/expires_in"	# inside the refresh window: every request
	use_entra
	export AZURE_TENANT_ID=$TENANT AZURE_CLIENT_ID=$CLIENT \
	    AZURE_FEDERATED_TOKEN_FILE=$PWD/fed.jwt AZURE_AUTHORITY_HOST=$STUB_URL
	run --separate-stderr arc-list "az://$C"
	assert_success
	assert_equal "$(cut -f1 <<<"$output")" "$(lines "${names[@]}")"
	assert_equal "$(stub_requests '.form.client_assertion_type' | sort -u)" \
	    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
	assert_equal "$(stub_requests '.form | has("client_secret")' | sort -u)" false
	# the first, then each one the stand-in rotated to: never one twice
	assert_equal "$(stub_requests '.form.client_assertion' | head -1)" first-assertion
	[ "$(stub_requests '.form.client_assertion' | wc -l)" -ge 3 ]
	assert_equal "$(stub_requests '.form.client_assertion' | sort | uniq -d)" ""
	refute_secrets first-assertion rotated- eyJ
}

@test "a token inside five minutes of expiry is fetched again for each request mid-listing; a long-lived one once" {
	local names=() db
	for db in a b c d; do
		names+=("$db/m/2026/04/11/12/f.parquet")
	done
	seed "$AZT_ENDPOINT" "$C" "${names[@]}"
	use_secret
	echo 3600 >"$STUB/expires_in"
	run --separate-stderr arc-list "az://$C"
	assert_success
	assert_equal "$(stub_requests .path | wc -l)" 1

	: >"$STUB/requests.ndjson"
	echo 120 >"$STUB/expires_in"
	run --separate-stderr arc-list "az://$C"
	assert_success
	assert_equal "$(cut -f1 <<<"$output")" "$(lines "${names[@]}")"
	# one at open, one for the top level, one for each of four prefixes
	[ "$(stub_requests .path | wc -l)" -ge 6 ]
}

@test "a refresh that fails keeps the still-valid token and is not tried again at once: the listing completes" {
	local names=() db
	for db in a b c; do
		names+=("$db/m/2026/04/11/12/f.parquet")
	done
	seed "$AZT_ENDPOINT" "$C" "${names[@]}"
	use_secret
	echo 120 >"$STUB/expires_in"
	echo 1 >"$STUB/fail_after"
	export ARC_HTTP_ATTEMPTS=1
	run --separate-stderr arc-list "az://$C"
	assert_success
	assert_equal "$(cut -f1 <<<"$output")" "$(lines "${names[@]}")"
	# one at open, one refresh that failed, and none again for 30 s
	assert_equal "$(stub_requests .path | wc -l)" 2
	# the control: with no token at all, the listing fails at once
	: >"$STUB/requests.ndjson"
	echo 0 >"$STUB/fail_after"
	run -2 --separate-stderr arc-list "az://$C"
	assert_stderr "arc-list: cannot get an Azure token (client secret) from '$STUB_URL/$TENANT/oauth2/v2.0/token': HTTP 503 temporarily_unavailable: azstub: told to fail"
}

@test "App Service managed identity: IDENTITY_ENDPOINT with the X-IDENTITY-HEADER, never shown" {
	seed "$AZT_ENDPOINT" "$C" "$D/a.parquet"
	echo id-header-value >"$STUB/identity_header"
	use_entra
	export IDENTITY_ENDPOINT=$STUB_URL/msi/token IDENTITY_HEADER=id-header-value
	run --separate-stderr arc-list "az://$C"
	assert_success
	assert_equal "$(cut -f1 <<<"$output")" "$D/a.parquet"
	assert_equal "$(stub_requests '[.method, .path, .query["api-version"], .query.resource, .headers["x-identity-header"]] | join(" ")')" \
	    "GET /msi/token 2019-08-01 https://storage.azure.com/ id-header-value"

	export IDENTITY_HEADER=wrong-header
	run -2 --separate-stderr arc-list "az://$C"
	assert_stderr "arc-list: cannot get an Azure token (managed identity (App Service)) from '$STUB_URL/msi/token': HTTP 401: wrong identity header"
	refute_secrets wrong-header id-header-value
}

@test "VM managed identity: the instance metadata service at AZURE_POD_IDENTITY_AUTHORITY_HOST, AZURE_CLIENT_ID for a user-assigned identity" {
	seed "$AZT_ENDPOINT" "$C" "$D/a.parquet"
	use_entra
	export AZURE_POD_IDENTITY_AUTHORITY_HOST=$STUB_URL
	run --separate-stderr arc-list "az://$C"
	assert_success
	assert_equal "$(cut -f1 <<<"$output")" "$D/a.parquet"
	assert_equal "$(stub_requests '[.method, .path, .query["api-version"], .query.resource, .headers.metadata, (.query.client_id // "-")] | join(" ")')" \
	    "GET /metadata/identity/oauth2/token 2018-02-01 https://storage.azure.com/ true -"

	: >"$STUB/requests.ndjson"
	export AZURE_CLIENT_ID=$CLIENT
	run --separate-stderr arc-list "az://$C"
	assert_success
	assert_equal "$(stub_requests .query.client_id)" "$CLIENT"
}

@test "with no credential configured, the metadata service is the last resort and its absence one clear line" {
	use_entra
	export ARC_HTTP_ATTEMPTS=1
	run -2 --separate-stderr arc-list "az://$C"
	assert_output ""
	assert_equal "$(wc -l <<<"$stderr")" 1
	assert_stderr --regexp "^arc-list: cannot get an Azure token \(managed identity \(instance metadata\)\) from 'http://127\.0\.0\.1:9/metadata/identity/oauth2/token': .*(Connection refused|connect).*\(after 1 attempts\)\$"
	refute_stderr --partial "?"
}

@test "an account key, a SAS or a connection string wins over Entra ID variables: no token is asked for" {
	seed "$AZT_ENDPOINT" "$C" "$D/a.parquet"
	use_secret
	export AZURE_STORAGE_KEY=$AZ_KEY
	run --separate-stderr arc-list "az://$C"
	assert_success
	unset AZURE_STORAGE_KEY
	export AZURE_STORAGE_SAS_TOKEN=$AZ_SAS
	run --separate-stderr arc-list "az://$C"
	assert_success
	unset AZURE_STORAGE_SAS_TOKEN
	export AZURE_STORAGE_CONNECTION_STRING="AccountName=$AZ_ACCOUNT;AccountKey=$AZ_KEY;BlobEndpoint=$AZT_ENDPOINT"
	run --separate-stderr arc-list "az://$C"
	assert_success
	assert_equal "$(cut -f1 <<<"$output")" "$D/a.parquet"
	assert_equal "$(cat "$STUB/requests.ndjson")" ""
	# the control: without them the token is asked for
	unset AZURE_STORAGE_CONNECTION_STRING
	run --separate-stderr arc-list "az://$C"
	assert_success
	assert_equal "$(stub_requests .path)" "/$TENANT/oauth2/v2.0/token"
}

# --- the CA bundle -----------------------------------------------------------

@test "SSL_CERT_FILE or SSL_CERT_DIR makes a private CA trusted; without them the server is refused, nothing absent" {
	seed "$AZT_ENDPOINT" "$C" "$D/a.parquet"
	use_secret
	run --separate-stderr arc-list "az://$C"
	assert_success
	assert_equal "$(cut -f1 <<<"$output")" "$D/a.parquet"
	unset SSL_CERT_FILE
	export SSL_CERT_DIR=$CADIR
	run --separate-stderr arc-list "az://$C"
	assert_success
	assert_equal "$(cut -f1 <<<"$output")" "$D/a.parquet"

	unset SSL_CERT_DIR
	export AZURE_STORAGE_KEY=$AZ_KEY
	run --separate-stderr arc-list "az://$C"
	assert_failure
	assert_output ""
	assert_stderr --partial "SSL certificate problem"
	ocand "$D/absent.parquet" >om.rec
	run --separate-stderr arc-recheck -R rej "az://$C" m.ndjson <om.rec
	# a TLS refusal is a configuration error: exit 2, nothing confirmed
	assert_failure 2
	assert_output ""
	assert_stderr --partial "SSL_CERT_FILE"
}

# --- what a 404 means without a container probe ----------------------------

@test "a 404 without the BlobNotFound code (a proxy, a wrong endpoint) is never absent or gone" {
	local fake=$BATS_TEST_TMPDIR/fake pid i blob
	mkdir -p "$fake"
	/usr/bin/python3 "$ARC_ROOT/tests/fakeserver.py" "$fake" fake.port \
	    >fake.log 2>&1 3>&- &
	pid=$!
	echo "$pid" >fake.pid	# teardown stops it if an assertion fails
	for i in $(seq 1 100); do
		[ -s fake.port ] && break
		sleep 0.1
	done
	use_sas "$(csas rld)"
	export AZURE_STORAGE_BLOB_ENDPOINT=http://127.0.0.1:$(cat fake.port)/$AZ_ACCOUNT
	export ARC_HTTP_ATTEMPTS=1
	ocand "$D/a.parquet" >om.rec
	{ scand "$D/a.parquet"; scand "$D/b.parquet"; } >os.rec
	# every path answers 404 with no error code
	run --separate-stderr arc-recheck -R rej "az://$C" m.ndjson <om.rec
	assert_failure 1
	assert_output ""
	assert_equal "$(cut -f1 rej)" error
	run -1 --separate-stderr arc-delete --act -A a.tgz "az://$C" m.ndjson <os.rec
	assert_equal "$(cut -f1 <<<"$output" | sort -u)" failed
	# the control: Azure's 404 BlobNotFound is absent and gone
	for blob in a b; do
		printf '404\nx-ms-error-code: BlobNotFound\n\n' \
		    >"$fake/${AZ_ACCOUNT}__${C}__${D//\//__}__$blob.parquet"
	done
	run --separate-stderr arc-recheck -R rej "az://$C" m.ndjson <om.rec
	assert_success
	assert_output "$(ocand "$D/a.parquet")"
	run --separate-stderr arc-delete --act -A b.tgz "az://$C" m.ndjson <os.rec
	assert_success
	assert_results "$(res gone storage "$D/a.parquet"; res gone storage "$D/b.parquet")"
	kill "$pid"
	wait "$pid" 2>/dev/null || true
	rm -f fake.pid
}
