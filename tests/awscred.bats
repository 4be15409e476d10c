#!/usr/bin/env bats
# awscred.bats - where the S3 store finds its credentials, region,
# endpoint and CA bundle (lib/awscred.c, arc-list(1) CREDENTIALS), end to
# end: the signature-checking s3rver 4.0.4 (tests/s3rver-creds.js, which
# also accepts the stand-in's temporary keys until they expire and
# requires their session token) behind tests/proxy.py, and
# tests/awsstub.py standing in for STS, the container endpoint and IMDSv2.
# Everything on 127.0.0.1: test_helper disables instance metadata, and
# the tests that enable it point it at the stand-in.
load test_helper
load servers
bats_require_minimum_version 1.5.0

# a secret of every printable ASCII character (a space in the middle:
# INI files trim the ends of values) and a Swift-style account:user id
PRINTABLE=$(for i in $(seq 33 126); do printf "\\$(printf %03o "$i")"; done)
PRINTABLE="${PRINTABLE:0:40} ${PRINTABLE:40}"
COLON_ID=acct:user
ROLE=arn:aws:iam::123456789012:role/arc-test
H=2026/04/10/12

setup_file() {
	local d=$BATS_FILE_TMPDIR try pid port end
	[ -d "$ARC_NODE_MODULES/@20minutes/s3rver" ] || {
		echo "the npm test servers are missing: sh tests/deps.sh build test" >&2
		return 1
	}
	printf 'S3RVER\tS3RVER\n%s\t%s\n' "$COLON_ID" "$PRINTABLE" >"$d/s3.keys"
	mkdir -p "$d/s3-data" "$d/stub"
	/usr/bin/python3 "$ARC_ROOT/tests/awsstub.py" "$d/stub" "$d/stub.port" \
	    >"$d/stub.log" 2>&1 3>&- &
	echo $! >"$d/stub.pid"
	for try in 1 2 3; do
		port=$(free_port)
		ARC_NODE_MODULES=$ARC_NODE_MODULES node --openssl-legacy-provider \
		    "$ARC_ROOT/tests/s3rver-creds.js" \
		    "$d/s3.keys" -d "$d/s3-data" -a 127.0.0.1 -p "$port" --silent \
		    >"$d/s3rver.log" 2>&1 3>&- &
		pid=$!
		echo "$pid" >"$d/s3.pid"
		wait_own "$pid" "$port" 60 && break
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	pid_listens "$pid" "$port" || { cat "$d/s3rver.log" >&2; return 1; }
	start_proxy fp "$port"
	end=$((SECONDS + 30))
	until [ -s "$d/stub.port" ] || [ "$SECONDS" -ge "$end" ]; do
		sleep 0.1
	done
	[ -s "$d/stub.port" ] || { cat "$d/stub.log" >&2; return 1; }
	S3_URL=http://127.0.0.1:$port
	S3_DATA=$d/s3-data
	FP_URL="http://127.0.0.1:$(cat "$d/fp.port")"
	STUB="http://127.0.0.1:$(cat "$d/stub.port")"
	export S3_URL S3_DATA FP_URL STUB
	AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER \
	AWS_ENDPOINT_URL=$S3_URL make_bucket creds
	printf 'db/cpu/%s/f%d.parquet\n' $H 1 $H 2 $H 3 | s3seed_many creds
	# "long": 10 pages of 1000 keys, for a listing that outlives its keys
	AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER \
	AWS_ENDPOINT_URL=$S3_URL make_bucket long
	seq -w 1 10000 | sed "s|.*|db/cpu/$H/f&.parquet|" | s3seed_many long
}

teardown_file() {
	stop_named fp
	stop_named s3
	stop_named stub
}

setup() {
	STUB_DIR=$BATS_FILE_TMPDIR/stub
	FP_RULES=$BATS_FILE_TMPDIR/fp.rules
	FP_LOG=$BATS_FILE_TMPDIR/fp.requests
	rm -f "$STUB_DIR"/*
	: >"$STUB_DIR/requests.log"
	{ echo "# test $BATS_TEST_NUMBER $RANDOM"; } >"$FP_RULES"
	: >"$FP_LOG"
	unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN \
	    AWS_ENDPOINT_URL AWS_REGION AWS_DEFAULT_REGION AWS_CA_BUNDLE \
	    AWS_S3_ADDRESSING_STYLE
	# S3 at s3rver, STS at the stand-in
	export AWS_ENDPOINT_URL_S3=$S3_URL AWS_ENDPOINT_URL_STS=$STUB
	export ARC_HTTP_BACKOFF_MS=1
	CRED=$BATS_TEST_TMPDIR/credentials
	CONF=$BATS_TEST_TMPDIR/config
}

# ---- helpers -------------------------------------------------------------

# stub_log: what the stand-in was asked, one line a request.
stub_log() {
	cat "$STUB_DIR/requests.log"
}

# use_files: the shared files of this test (written by the test).
use_files() {
	export AWS_SHARED_CREDENTIALS_FILE=$CRED AWS_CONFIG_FILE=$CONF
}

# webid_env: AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN, with the token
# the stand-in expects.
webid_env() {
	printf 'eyJ-web-identity-%s' "$RANDOM" >"$BATS_TEST_TMPDIR/webid.token"
	cp "$BATS_TEST_TMPDIR/webid.token" "$STUB_DIR/webid.token"
	export AWS_WEB_IDENTITY_TOKEN_FILE=$BATS_TEST_TMPDIR/webid.token
	export AWS_ROLE_ARN=$ROLE AWS_ROLE_SESSION_NAME=arc-session
}

# container_env: the container endpoint (FULL_URI on loopback) and its
# authorization token.
container_env() {
	echo "Bearer ctr-$RANDOM" >"$STUB_DIR/container.token"
	export AWS_CONTAINER_CREDENTIALS_FULL_URI=$STUB/container/v2/creds
	AWS_CONTAINER_AUTHORIZATION_TOKEN=$(cat "$STUB_DIR/container.token")
	export AWS_CONTAINER_AUTHORIZATION_TOKEN
}

# imds_env: instance metadata, at the stand-in.
imds_env() {
	export AWS_EC2_METADATA_DISABLED=false
	export AWS_EC2_METADATA_SERVICE_ENDPOINT=$STUB
}

# proc_script: an executable "my proc.sh" that checks its two arguments
# ("arg one" and 'say "hi"'), says "proc-stderr-marker" on stderr and
# prints the JSON credentials of a temporary key (its id in proc.id).
proc_script() {
	cat >"$BATS_TEST_TMPDIR/my proc.sh" <<-'EOF'
	#!/bin/sh
	[ "$#" -eq 2 ] && [ "$1" = "arg one" ] && [ "$2" = 'say "hi"' ] || {
		echo "proc: bad arguments ($#)" >&2
		exit 3
	}
	echo proc-stderr-marker >&2
	exp=$(($(date +%s) + 3600))
	id=ASIATEMP900X$exp
	echo "$id" >"$(dirname "$0")/proc.id"
	printf '{"Version": 1, "AccessKeyId": "%s", "SecretAccessKey": "secret-%s", "SessionToken": "token-%s", "Expiration": "%s"}\n' \
	    "$id" "$id" "$id" "$(date -u -d "@$exp" +%Y-%m-%dT%H:%M:%SZ)"
	EOF
	chmod +x "$BATS_TEST_TMPDIR/my proc.sh"
}

# assert_listed: $output is the three keys of bucket "creds".
assert_listed() {
	assert_equal "${#lines[@]}" 3
	assert_line --index 0 --regexp "^db/cpu/$H/f1\.parquet	"
}

# ---- each provider, and the order between them ---------------------------

@test "keys in the environment list the bucket, and beat web identity, the profile, the container and the instance: nothing else is asked" {
	webid_env
	container_env
	imds_env
	use_files
	printf '[default]\naws_access_key_id = NOSUCHKEY\naws_secret_access_key = x\n' >"$CRED"
	run -0 --separate-stderr env AWS_ACCESS_KEY_ID=S3RVER \
	    AWS_SECRET_ACCESS_KEY=S3RVER arc-list s3://creds
	assert_stderr ''
	assert_listed
	assert_equal "$(stub_log)" ''
	# the control: without them the web identity is used
	run -0 --separate-stderr arc-list s3://creds
	assert_listed
	assert_equal "$(stub_log)" "webid $ROLE arc-session"
}

@test "web identity: the token file is exchanged at STS for temporary keys that list the bucket, before the profile, the container and the instance" {
	webid_env
	container_env
	imds_env
	use_files
	printf '[default]\naws_access_key_id = NOSUCHKEY\naws_secret_access_key = x\n' >"$CRED"
	run -0 --separate-stderr arc-list s3://creds
	assert_stderr ''
	assert_listed
	assert_equal "$(stub_log)" "webid $ROLE arc-session"
	# the control: without it, the profile's keys are the ones used
	run -2 --separate-stderr env -u AWS_WEB_IDENTITY_TOKEN_FILE \
	    -u AWS_ROLE_ARN arc-list s3://creds
	assert_stderr --partial InvalidAccessKeyId
	# a token STS does not take: exit 2, its error named, the token not
	: >"$STUB_DIR/requests.log"
	echo "another-token" >"$STUB_DIR/webid.token"
	run -2 --separate-stderr arc-list s3://creds
	assert_output ''
	assert_stderr --partial InvalidIdentityToken
	refute_stderr --partial eyJ-web-identity
}

@test "the profile's static keys list the bucket, before the container and the instance; the environment's region beats the profile's" {
	container_env
	imds_env
	use_files
	printf '[default]\naws_access_key_id = S3RVER\naws_secret_access_key = S3RVER\nregion = eu-west-3\n' >"$CRED"
	run -0 --separate-stderr arc-list s3://creds
	assert_stderr ''
	assert_listed
	assert_equal "$(stub_log)" ''
	# the control: without the profile, the container's are used
	run -0 --separate-stderr env AWS_SHARED_CREDENTIALS_FILE=/nonexistent \
	    arc-list s3://creds
	assert_listed
	assert_equal "$(stub_log)" 'container /container/v2/creds'
	: >"$STUB_DIR/requests.log"
	# the region signed: the profile's, unless the environment has one
	run -0 --separate-stderr env AWS_ENDPOINT_URL_S3="$STUB/s3log" \
	    arc-list s3://creds
	assert_equal "$(stub_log)" 's3 eu-west-3 S3RVER
s3 eu-west-3 S3RVER'
	: >"$STUB_DIR/requests.log"
	run -0 --separate-stderr env AWS_ENDPOINT_URL_S3="$STUB/s3log" \
	    AWS_REGION=ap-south-1 arc-list s3://creds
	assert_equal "$(stub_log | sort -u)" 's3 ap-south-1 S3RVER'
}

@test "AWS_PROFILE picks a [profile NAME] of the config file, and a profile that does not exist is an error naming both files" {
	use_files
	printf '[default]\naws_access_key_id = NOSUCHKEY\naws_secret_access_key = x\n' >"$CRED"
	printf '[profile team]\naws_access_key_id = S3RVER\naws_secret_access_key = S3RVER\n[team2]\naws_access_key_id = S3RVER\naws_secret_access_key = S3RVER\n' >"$CONF"
	run -0 --separate-stderr env AWS_PROFILE=team arc-list s3://creds
	assert_stderr ''
	assert_listed
	# "[team2]" in the config file is not a profile (only in credentials)
	run -2 --separate-stderr env AWS_PROFILE=team2 arc-list s3://creds
	assert_output ''
	assert_equal "${#stderr_lines[@]}" 1
	assert_stderr --partial "AWS_PROFILE 'team2': no such profile"
	assert_stderr --partial "$CRED"
	assert_stderr --partial "$CONF"
	run -2 --separate-stderr arc-list s3://creds
	assert_stderr --partial InvalidAccessKeyId
}

@test "credential_process runs without a shell (its quoted arguments intact): its stderr is passed on, its output never shown, and its keys list the bucket" {
	container_env
	imds_env
	use_files
	proc_script
	cat >"$CONF" <<-EOF
	[default]
	credential_process = "$BATS_TEST_TMPDIR/my proc.sh" 'arg one' "say \"hi\""
	EOF
	run -0 --separate-stderr arc-list s3://creds
	assert_listed
	assert_stderr 'proc-stderr-marker'
	assert_equal "$(stub_log)" ''
	id=$(cat proc.id)
	refute_output --partial "secret-$id"
	refute_output --partial "token-$id"
	refute_stderr --partial "secret-"
	refute_stderr --partial "token-"
}

@test "a credential_process that fails is exit 2 naming the profile and its status, nothing of its output shown, and no request to S3" {
	use_files
	printf '#!/bin/sh\necho "{\\"SecretAccessKey\\": \\"leak-me\\"}"\necho proc-failing >&2\nexit 4\n' >fail.sh
	chmod +x fail.sh
	printf '[profile p]\ncredential_process = %s/fail.sh\n' "$BATS_TEST_TMPDIR" >"$CONF"
	run -2 --separate-stderr env AWS_PROFILE=p AWS_ENDPOINT_URL_S3="$FP_URL" \
	    arc-list s3://creds
	assert_output ''
	assert_stderr --partial proc-failing
	assert_stderr --partial "credential_process of profile 'p'"
	assert_stderr --partial "exited with status 4"
	refute_stderr --partial leak-me
	assert_equal "$(cat "$FP_LOG")" ''
	# the control: a process that succeeds
	proc_script
	printf '[profile p]\ncredential_process = "%s/my proc.sh" "arg one" '"'"'say "hi"'"'"'\n' \
	    "$BATS_TEST_TMPDIR" >"$CONF"
	run -0 --separate-stderr env AWS_PROFILE=p AWS_ENDPOINT_URL_S3="$FP_URL" \
	    arc-list s3://creds
	assert_listed
	[ -s "$FP_LOG" ]
}

@test "role_arn with source_profile: AssumeRole is signed with the source profile's keys and its temporary keys list the bucket" {
	use_files
	printf '[base]\naws_access_key_id = BASEKEY\naws_secret_access_key = base-secret\n' >"$CRED"
	printf '[profile dev]\nrole_arn = %s\nsource_profile = base\nrole_session_name = dev-session\nregion = eu-north-1\n' \
	    "$ROLE" >"$CONF"
	run -0 --separate-stderr env AWS_PROFILE=dev arc-list s3://creds
	assert_stderr ''
	assert_listed
	assert_equal "$(stub_log)" "assume $ROLE dev-session by BASEKEY"
	# the control: a role without a source is an error, no STS request
	: >"$STUB_DIR/requests.log"
	printf '[profile dev]\nrole_arn = %s\n' "$ROLE" >"$CONF"
	run -2 --separate-stderr env AWS_PROFILE=dev arc-list s3://creds
	assert_stderr --partial "role_arn needs source_profile"
	assert_equal "$(stub_log)" ''
}

@test "a profile's web_identity_token_file with role_arn is exchanged at STS and lists the bucket" {
	use_files
	webid_env
	unset AWS_WEB_IDENTITY_TOKEN_FILE AWS_ROLE_ARN AWS_ROLE_SESSION_NAME
	printf '[default]\nrole_arn = %s\nweb_identity_token_file = %s\n' "$ROLE" \
	    "$BATS_TEST_TMPDIR/webid.token" >"$CONF"
	run -0 --separate-stderr arc-list s3://creds
	assert_stderr ''
	assert_listed
	assert_equal "$(stub_log | cut -d' ' -f1-2)" "webid $ROLE"
}

@test "container credentials (FULL_URI on loopback, its authorization token or token file) list the bucket, before the instance; a wrong token is exit 2" {
	container_env
	imds_env
	run -0 --separate-stderr arc-list s3://creds
	assert_stderr ''
	assert_listed
	assert_equal "$(stub_log)" 'container /container/v2/creds'
	# the control: without it, the instance's are used
	: >"$STUB_DIR/requests.log"
	run -0 --separate-stderr env -u AWS_CONTAINER_CREDENTIALS_FULL_URI \
	    arc-list s3://creds
	assert_listed
	assert_equal "$(stub_log | head -1)" 'imds-token'
	# the token file wins over the token
	: >"$STUB_DIR/requests.log"
	cp "$STUB_DIR/container.token" tokfile
	run -0 --separate-stderr env AWS_CONTAINER_AUTHORIZATION_TOKEN=wrong \
	    AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE="$PWD/tokfile" arc-list s3://creds
	assert_listed
	run -2 --separate-stderr env AWS_CONTAINER_AUTHORIZATION_TOKEN=wrong-Tok \
	    arc-list s3://creds
	assert_output ''
	assert_stderr --partial 'HTTP 401'
	refute_stderr --partial wrong-Tok
	refute_stderr --partial imds
}

@test "a container FULL_URI that is not loopback or an ECS/EKS address is refused: exit 2, no request" {
	container_env
	run -2 --separate-stderr env \
	    AWS_CONTAINER_CREDENTIALS_FULL_URI=http://192.0.2.10/creds \
	    AWS_ENDPOINT_URL_S3="$FP_URL" arc-list s3://creds
	assert_output ''
	assert_equal "${#stderr_lines[@]}" 1
	assert_stderr --partial "'http://192.0.2.10/creds': not a loopback"
	assert_equal "$(cat "$FP_LOG")" ''
	assert_equal "$(stub_log)" ''
	# the control: the same on loopback
	run -0 --separate-stderr env AWS_ENDPOINT_URL_S3="$FP_URL" arc-list s3://creds
	assert_listed
}

@test "instance metadata, IMDSv2: a token first, then the role and its credentials, sent with the token, list the bucket" {
	imds_env
	run -0 --separate-stderr arc-list s3://creds
	assert_stderr ''
	assert_listed
	assert_equal "$(stub_log)" 'imds-token
imds-role
imds-creds'
	# the stand-in refuses a request without the token, as IMDSv2 does
	run curl -s -o /dev/null -w '%{http_code}' \
	    "$STUB/latest/meta-data/iam/security-credentials/"
	assert_output 401
}

# ---- none found ----------------------------------------------------------

@test "no credentials anywhere: exit 2, one line naming every place searched, and the S3 server sees no request" {
	export AWS_ENDPOINT_URL_S3=$FP_URL
	port=$(free_port)
	run -2 --separate-stderr env AWS_EC2_METADATA_DISABLED=false \
	    AWS_EC2_METADATA_SERVICE_ENDPOINT="http://127.0.0.1:$port" \
	    arc-list s3://creds
	assert_output ''
	assert_equal "${#stderr_lines[@]}" 1
	assert_stderr --regexp '^arc-list: no AWS credentials found: searched '
	assert_stderr --partial AWS_ACCESS_KEY_ID
	assert_stderr --partial AWS_WEB_IDENTITY_TOKEN_FILE
	assert_stderr --partial "profile 'default' in '$AWS_SHARED_CREDENTIALS_FILE'"
	assert_stderr --partial "'$AWS_CONFIG_FILE'"
	assert_stderr --partial AWS_CONTAINER_CREDENTIALS_RELATIVE_URI
	assert_stderr --partial "EC2 instance metadata at 'http://127.0.0.1:$port'"
	assert_equal "$(cat "$FP_LOG")" ''
	# the same for the other tools: nothing unsigned goes out
	printf 'orphan-storage\tdb/cpu/%s/f1.parquet\t2026-04-01T00:00:00Z\t20\n' $H >d.rec
	: >m.ndjson
	run -2 --separate-stderr arc-delete --act -A ar.tar.gz s3://creds m.ndjson <d.rec
	assert_stderr --partial 'no AWS credentials found'
	run -2 --separate-stderr arc-recheck s3://creds m.ndjson </dev/null
	assert_stderr --partial 'no AWS credentials found'
	assert_equal "$(cat "$FP_LOG")" ''
	# the control: with keys, the same run reaches the server
	run -0 --separate-stderr env AWS_ACCESS_KEY_ID=S3RVER \
	    AWS_SECRET_ACCESS_KEY=S3RVER arc-list s3://creds
	assert_listed
	[ -s "$FP_LOG" ]
}

@test "anonymous access only when asked with AWS_S3_NO_SIGN_REQUEST=true: the requests go unsigned" {
	run -2 --separate-stderr env AWS_ENDPOINT_URL_S3="$STUB/s3log" \
	    arc-list s3://creds
	assert_stderr --partial 'no AWS credentials found'
	assert_equal "$(stub_log)" ''
	run -0 --separate-stderr env AWS_ENDPOINT_URL_S3="$STUB/s3log" \
	    AWS_S3_NO_SIGN_REQUEST=true arc-list s3://creds
	assert_stderr ''
	assert_equal "$(stub_log | sort -u)" 's3 unsigned'
}

# ---- settings from the profile --------------------------------------------

@test "the profile's endpoint_url, its s3 sub-section's endpoint_url before it, and AWS_ENDPOINT_URL before both" {
	use_files
	unset AWS_ENDPOINT_URL_S3
	printf '[default]\naws_access_key_id = S3RVER\naws_secret_access_key = S3RVER\nendpoint_url = %s\n' \
	    "$S3_URL" >"$CRED"
	run -0 --separate-stderr arc-list s3://creds
	assert_stderr ''
	assert_listed
	dead=http://127.0.0.1:$(free_port)
	printf '[default]\nendpoint_url = %s\ns3 =\n    endpoint_url = %s\n' \
	    "$dead" "$S3_URL" >"$CONF"
	printf '[default]\naws_access_key_id = S3RVER\naws_secret_access_key = S3RVER\n' >"$CRED"
	run -0 --separate-stderr arc-list s3://creds
	assert_listed
	printf '[default]\nendpoint_url = %s\ns3 =\n    endpoint_url = %s\n' \
	    "$S3_URL" "$dead" >"$CONF"
	run -1 --separate-stderr env ARC_HTTP_ATTEMPTS=1 arc-list s3://creds
	assert_stderr --partial "127.0.0.1 port ${dead##*:}"
	run -0 --separate-stderr env AWS_ENDPOINT_URL="$S3_URL" arc-list s3://creds
	assert_listed
}

@test "the profile's ca_bundle is the CA of HTTPS requests, and AWS_CA_BUNDLE beats it" {
	use_files
	printf '[default]\naws_access_key_id = S3RVER\naws_secret_access_key = S3RVER\nca_bundle = %s/profile-ca.pem\n' \
	    "$BATS_TEST_TMPDIR" >"$CONF"
	export AWS_ENDPOINT_URL_S3=https://${STUB#http://}/s3log
	# a CA that cannot be used is a configuration error: exit 2
	run -2 --separate-stderr arc-list s3://creds
	assert_stderr --partial profile-ca.pem
	run -2 --separate-stderr env AWS_CA_BUNDLE="$BATS_TEST_TMPDIR/env-ca.pem" \
	    arc-list s3://creds
	assert_stderr --partial env-ca.pem
	refute_stderr --partial profile-ca.pem
}

# ---- what reaches the server -----------------------------------------------

@test "a secret of every printable character and an access key id holding ':' reach the server intact, from the environment and from the credentials file" {
	run -0 --separate-stderr env AWS_ACCESS_KEY_ID="$COLON_ID" \
	    AWS_SECRET_ACCESS_KEY="$PRINTABLE" arc-list s3://creds
	assert_stderr ''
	assert_listed
	use_files
	printf '[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n' \
	    "$COLON_ID" "$PRINTABLE" >"$CRED"
	run -0 --separate-stderr arc-list s3://creds
	assert_stderr ''
	assert_listed
	# the control: one character off is refused, and not printed
	run -2 --separate-stderr env AWS_ACCESS_KEY_ID="$COLON_ID" \
	    AWS_SECRET_ACCESS_KEY="${PRINTABLE%?}" arc-list s3://creds
	assert_stderr --partial SignatureDoesNotMatch
	refute_stderr --partial "${PRINTABLE:0:30}"
}

@test "temporary keys that expire during a listing are fetched again before they expire, and the listing completes" {
	container_env
	echo 12 >"$STUB_DIR/lifetime"
	# every page 1.5 s late: 10 pages outlive the 12-second keys
	echo "# test $BATS_TEST_NUMBER $RANDOM
GET list-type=2 delay:1.5" >"$FP_RULES"
	run -0 --separate-stderr env AWS_ENDPOINT_URL_S3="$FP_URL" \
	    arc-list -j 1 s3://long
	assert_stderr ''
	assert_equal "${#lines[@]}" 10000
	[ "$(grep -c '^container ' "$STUB_DIR/requests.log")" -ge 2 ]
	# the control: the server does refuse keys past their expiration
	past=$(($(date +%s) - 5))
	run -2 --separate-stderr env AWS_ACCESS_KEY_ID=ASIATEMP1X$past \
	    AWS_SECRET_ACCESS_KEY=secret-ASIATEMP1X$past \
	    AWS_SESSION_TOKEN=token-ASIATEMP1X$past arc-list s3://creds
	assert_stderr --partial ExpiredToken
}

@test "temporary keys that expire during a batch of checks built at once are fetched again: every HEAD is answered" {
	container_env
	echo 8 >"$STUB_DIR/lifetime"
	echo "# test $BATS_TEST_NUMBER $RANDOM
HEAD /long/ delay:0.4" >"$FP_RULES"
	# one window of 30 HEADs, one at a time: 12 s for 8-second keys
	seq -w 1 30 | awk -v h=$H '{ printf "orphan-manifest\tdb/cpu/%s/f%05d.parquet\t2026-04-01T00:00:00Z\t10\tnode-1\t1\n", h, $1 }' >c.rec
	: >m.ndjson
	run --separate-stderr env AWS_ENDPOINT_URL_S3="$FP_URL" \
	    arc-recheck -j 1 -R rej s3://long m.ndjson <c.rec
	assert_stderr ''
	assert_output ''
	assert_equal "$(cut -f1 rej | sort | uniq -c | tr -s ' ')" ' 30 present'
	[ "$(grep -c '^container ' "$STUB_DIR/requests.log")" -ge 2 ]
}

@test "when a refresh fails, the expired keys' refusals are errors, never absences: nothing is confirmed after they expire" {
	container_env
	echo 6 >"$STUB_DIR/lifetime"
	echo 1 >"$STUB_DIR/container.max"
	echo "# test $BATS_TEST_NUMBER $RANDOM
HEAD /long/ delay:0.4" >"$FP_RULES"
	seq -w 1 20 | awk -v h=$H '{ printf "orphan-manifest\tdb/cpu/%s/f%05d.parquet\t2026-04-01T00:00:00Z\t10\tnode-1\t1\n", h, $1 }' >c.rec
	: >m.ndjson
	run --separate-stderr env AWS_ENDPOINT_URL_S3="$FP_URL" \
	    arc-recheck -j 1 -R rej s3://long m.ndjson <c.rec
	assert_output ''
	assert_stderr --partial 'could not refresh the credentials, which expire'
	assert_stderr --partial 'HTTP 400'	# ExpiredToken, in a HEAD answer
	# present while the keys held, an error after: never absent
	assert_equal "$(wc -l <rej)" 20
	assert_equal "$(cut -f1 rej | grep -cvx -e error -e present)" 0
	grep -qx error <(cut -f1 rej)
}

@test "the session token is sent and signed: without it the server refuses the temporary keys" {
	future=$(($(date +%s) + 600))
	run -0 --separate-stderr env AWS_ACCESS_KEY_ID=ASIATEMP2X$future \
	    AWS_SECRET_ACCESS_KEY=secret-ASIATEMP2X$future \
	    AWS_SESSION_TOKEN=token-ASIATEMP2X$future arc-list s3://creds
	assert_stderr ''
	assert_listed
	run -2 --separate-stderr env AWS_ACCESS_KEY_ID=ASIATEMP2X$future \
	    AWS_SECRET_ACCESS_KEY=secret-ASIATEMP2X$future arc-list s3://creds
	assert_stderr --partial InvalidToken
}

@test "secrets, tokens and process output are in no message and no run archive of an arc-delete run" {
	AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER \
	AWS_ENDPOINT_URL=$S3_URL make_bucket "del$BATS_TEST_NUMBER"
	printf 'db/cpu/%s/f%d.parquet\n' $H 1 $H 2 | s3seed_many "del$BATS_TEST_NUMBER"
	find "$S3_DATA/del$BATS_TEST_NUMBER" -name '*._S3rver_object' \
	    -exec touch -d '2026-04-01 00:00:00' {} +
	use_files
	proc_script
	cat >"$CONF" <<-EOF
	[default]
	credential_process = "$BATS_TEST_TMPDIR/my proc.sh" "arg one" 'say "hi"'
	EOF
	printf 'orphan-storage\tdb/cpu/%s/f%d.parquet\t2026-04-01T00:00:00Z\t20\n' \
	    $H 1 $H 2 >d.rec
	: >m.ndjson
	run -0 --separate-stderr arc-delete --act -A ar.tar.gz \
	    "s3://del$BATS_TEST_NUMBER" m.ndjson <d.rec
	assert_equal "$(grep -c '^deleted' <<<"$output")" 2
	id=$(cat proc.id)
	mkdir x
	tar -xzf ar.tar.gz -C x
	run grep -rlF -e "secret-$id" -e "token-$id" x
	assert_output ''
	refute_stderr --partial "secret-$id"
	refute_stderr --partial "token-$id"
}
