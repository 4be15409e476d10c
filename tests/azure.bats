#!/usr/bin/env bats
# azure.bats - az://CONTAINER[/PREFIX] stores against a real Azurite 3.35.0
# (blob service, 127.0.0.1, started once for the file): Shared Key and SAS
# configuration, wrong and expired credentials, paging, funny blob names,
# prefixes, arc-recheck, Blob Batch deletes, --archive-files/--restore,
# --if-unchanged, and the driver end to end on planted drift.
#
# Every test works in a container of its own (c-N) and uploads what it
# needs with azseed (one curl process, account SAS).  Requests are counted
# through azproxy (servers.bash), a pass-through proxy in front of Azurite;
# it also rewrites the maxresults of SAS requests to $PAGE, since
# lib/azure.c always asks for 5000 blobs a page and has no knob, and
# seeding more than 5000 blobs into Azurite takes minutes.
load test_helper
load servers
bats_require_minimum_version 1.5.0

D=db/m/2026/04/11/12	# a managed directory: files below it have 7 segments
PAGE=2			# the page size azproxy imposes on SAS listings

setup_file() {
	# on a loaded machine Azurite takes longer than wait_http's 10 s
	start_azurite 2>/dev/null ||
	    wait_http_for 60 "http://127.0.0.1:$AZ_PORT/"
	AZ_SAS=$(azsas)
	export AZ_SAS
	# the driver tests share one planted container (see plant_old);
	# starting the proxy lets the clock pass the old blobs' second
	plant_old
	start_azproxy "$PAGE"
	plant_young
}

teardown_file() {
	stop_azproxy
	stop_azurite
}

setup() {
	C=c-$BATS_TEST_NUMBER
	mkc "$C"
	: >m.ndjson
}

# mkc NAME: create a container (account SAS, one curl).
mkc() {
	curl -s -o /dev/null -w '%{http_code}' -X PUT \
	    "$AZ_ENDPOINT/$1?restype=container&$AZ_SAS" | grep -q 201
}

# azls CONTAINER: the names of every blob in it, one a line, from Azurite
# directly (not through the tools under test).
azls() {
	curl -s "$AZ_ENDPOINT/$1?restype=container&comp=list&maxresults=5000&$AZ_SAS" |
	    grep -o '<Name>[^<]*</Name>' |
	    sed -e 's/<\/*Name>//g' -e 's/&lt;/</g; s/&gt;/>/g' \
	    -e 's/&quot;/"/g' -e "s/&apos;/'/g" -e 's/&amp;/\&/g'
}

# lines ARG...: each argument on a line of its own.
lines() {
	printf '%s\n' "$@"
}

# scand PATH [MTIME [SIZE]]: an orphan-storage candidate record.
scand() {
	printf 'orphan-storage\t%s\t%s\t%s\n' "$1" "${2:-2026-04-01T00:00:00Z}" \
	    "${3:--}"
}

# ocand PATH: an orphan-manifest candidate record.
ocand() {
	printf 'orphan-manifest\t%s\t2026-04-11T14:00:00Z\t10\tnode-1\t1\n' "$1"
}

# assert_results LINES: $output holds exactly the result LINES, in any
# order (the order within a batch is arc-delete.bats' business; manifest
# lines before storage lines is checked where it matters).
assert_results() {
	assert_equal "$(LC_ALL=C sort <<<"$output")" "$(LC_ALL=C sort <<<"$1")"
}

# requests [METHOD]: the request lines azproxy saw since the last
# `: >"$AZP_LOG"`, of METHOD only when given.
requests() {
	if [ $# -eq 0 ]; then
		cat "$AZP_LOG"
	else
		grep "^$1 " "$AZP_LOG" || true
	fi
}

# auth MODE ENDPOINT: configure the tools as Azure users do, one way:
#   conn-key    AZURE_STORAGE_CONNECTION_STRING with AccountKey
#   env-key     AZURE_STORAGE_ACCOUNT, _KEY and _BLOB_ENDPOINT
#   env-sas     AZURE_STORAGE_ACCOUNT, _SAS_TOKEN and _BLOB_ENDPOINT
#   conn-sas    AZURE_STORAGE_CONNECTION_STRING with SharedAccessSignature
# with the blob endpoint ENDPOINT; KEY and SAS override the secrets.
auth() {
	local key=${KEY:-$AZ_KEY} sas=${SAS:-$AZ_SAS}
	unset AZURE_STORAGE_CONNECTION_STRING AZURE_STORAGE_ACCOUNT \
	    AZURE_STORAGE_KEY AZURE_STORAGE_SAS_TOKEN AZURE_STORAGE_BLOB_ENDPOINT
	case $1 in
	conn-key)
		export AZURE_STORAGE_CONNECTION_STRING="DefaultEndpointsProtocol=http;AccountName=$AZ_ACCOUNT;AccountKey=$key;BlobEndpoint=$2;" ;;
	env-key)
		export AZURE_STORAGE_ACCOUNT=$AZ_ACCOUNT AZURE_STORAGE_KEY=$key \
		    AZURE_STORAGE_BLOB_ENDPOINT=$2 ;;
	env-sas)
		export AZURE_STORAGE_ACCOUNT=$AZ_ACCOUNT \
		    AZURE_STORAGE_SAS_TOKEN=$sas AZURE_STORAGE_BLOB_ENDPOINT=$2 ;;
	conn-sas)
		export AZURE_STORAGE_CONNECTION_STRING="AccountName=$AZ_ACCOUNT;BlobEndpoint=$2;SharedAccessSignature=$sas" ;;
	esac
}

# sig_of TOKEN: the signature of a SAS token, percent-decoded.
sig_of() {
	local s=${1##*sig=}
	printf '%b' "${s//%/\\x}"
}

# refute_secrets SECRET...: neither $output nor $stderr holds any SECRET.
refute_secrets() {
	local s
	for s in "$@"; do
		refute_output --partial "$s"
		refute_stderr --partial "$s"
	done
}

# list_recheck_delete MODE: list, re-check and batch-delete in $C with
# credentials of MODE (see auth), through azproxy; checks every result.
list_recheck_delete() {
	auth "$1" "$AZP_ENDPOINT"
	azseed "$C" "$D/keep.parquet" "$D/old1.parquet" "$D/old2.parquet"

	run --separate-stderr arc-list "az://$C"
	assert_success
	assert_equal "$(cut -f1 <<<"$output")" \
	    "$(lines "$D/keep.parquet" "$D/old1.parquet" "$D/old2.parquet")"
	# the body is "data:" and the name (36 bytes); the time Azurite's
	assert_line --index 0 --regexp "^$D/keep.parquet	20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z	36\$"
	refute_secrets "$AZ_KEY" "$(sig_of "$AZ_SAS")" "$AZ_SAS"

	{ ocand "$D/absent.parquet"; ocand "$D/keep.parquet"; } >om.rec
	run --separate-stderr arc-recheck -R rej "az://$C" m.ndjson <om.rec
	assert_failure 1
	assert_output "$(ocand "$D/absent.parquet")"
	assert_equal "$(cat rej)" "present	$(ocand "$D/keep.parquet")	RECHECK_PRESENT	-"

	{
		scand "$D/gone.parquet"
		scand "$D/old1.parquet"
		scand "$D/old2.parquet"
	} >os.rec
	: >"$AZP_LOG"
	run --separate-stderr arc-delete --act -A a.tgz "az://$C" m.ndjson <os.rec
	assert_success
	assert_results "$(res gone storage "$D/gone.parquet"
	    res deleted storage "$D/old1.parquet"
	    res deleted storage "$D/old2.parquet")"
	refute_secrets "$AZ_KEY" "$(sig_of "$AZ_SAS")" "$AZ_SAS"
	assert_equal "$(azls "$C")" "$D/keep.parquet"
	# one Blob Batch request, no single deletes
	assert_equal "$(requests DELETE)" ""
	assert_equal "$(requests POST | wc -l)" 1
}

# --- configuration and credentials -----------------------------------------

@test "Shared Key from AZURE_STORAGE_CONNECTION_STRING lists, re-checks and batch-deletes" {
	list_recheck_delete conn-key
	assert_equal "$(requests POST)" \
	    "POST /$AZ_ACCOUNT/$C?comp=batch&restype=container"
}

@test "Shared Key from AZURE_STORAGE_ACCOUNT, _KEY and _BLOB_ENDPOINT lists, re-checks and batch-deletes" {
	list_recheck_delete env-key
	assert_equal "$(requests POST)" \
	    "POST /$AZ_ACCOUNT/$C?comp=batch&restype=container"
}

@test "a SAS from AZURE_STORAGE_SAS_TOKEN lists, re-checks and deletes through the account-level batch" {
	list_recheck_delete env-sas
	requests POST | grep -q "^POST /$AZ_ACCOUNT/?comp=batch&sv="
}

@test "a SAS token given with a leading '?' works the same" {
	SAS="?$AZ_SAS" auth env-sas "$AZ_ENDPOINT"
	azseed "$C" "$D/a.parquet"
	run --separate-stderr arc-list "az://$C"
	assert_success
	assert_equal "$(cut -f1 <<<"$output")" "$D/a.parquet"
}

@test "SharedAccessSignature in the connection string lists, re-checks and deletes through the account-level batch" {
	list_recheck_delete conn-sas
	requests POST | grep -q "^POST /$AZ_ACCOUNT/?comp=batch&sv="
}

@test "a SAS connection string without AccountName, as the portal and Azurite write it, lists the container" {
	azseed "$C" "$D/a.parquet"
	export AZURE_STORAGE_CONNECTION_STRING="BlobEndpoint=$AZ_ENDPOINT;SharedAccessSignature=$AZ_SAS"
	run --separate-stderr arc-list "az://$C"
	assert_success
	assert_equal "$(cut -f1 <<<"$output")" "$D/a.parquet"
}

@test "a wrong account key makes arc-list exit 2 with one clear line that never shows the key" {
	local bad
	bad=$(printf 'k%.0s' $(seq 64) | base64 -w0)
	azseed "$C" "$D/a.parquet"
	KEY=$bad auth conn-key "$AZ_ENDPOINT"
	run -2 --separate-stderr arc-list "az://$C"
	assert_output ""
	assert_equal "$(wc -l <<<"$stderr")" 1
	assert_stderr --regexp "^arc-list: list 'az://$C/': Azure error AuthorizationFailure.*\(HTTP 403\)\$"
	refute_secrets "$bad" "$AZ_KEY"
}

@test "an expired SAS makes arc-list exit 2 with one clear line that never shows the token" {
	local old
	old=$(azsas 2020-01-01T00:00:00Z)
	azseed "$C" "$D/a.parquet"
	SAS=$old auth conn-sas "$AZ_ENDPOINT"
	run -2 --separate-stderr arc-list "az://$C"
	assert_output ""
	assert_equal "$(wc -l <<<"$stderr")" 1
	assert_stderr --regexp "^arc-list: list 'az://$C/': Azure error AuthorizationFailure.*\(HTTP 403\)\$"
	refute_secrets "$old" "$(sig_of "$old")"
}

@test "a server that cannot be reached is reported without the SAS token" {
	local dead
	dead=$(free_port)
	auth conn-sas "http://127.0.0.1:$dead/$AZ_ACCOUNT"
	export ARC_HTTP_ATTEMPTS=1
	run --separate-stderr arc-list "az://$C"
	assert_stderr --partial "list 'az://$C/': Failed to connect to 127.0.0.1 port $dead"
	refute_secrets "$AZ_SAS" "$(sig_of "$AZ_SAS")"
	ocand "$D/a.parquet" >om.rec
	run -1 --separate-stderr arc-recheck "az://$C" m.ndjson <om.rec
	assert_output ""
	assert_stderr --partial "'$D/a.parquet': cannot check"
	refute_secrets "$AZ_SAS" "$(sig_of "$AZ_SAS")"
}

@test "arc-delete --act with a wrong key or an expired SAS deletes nothing and never shows the secret" {
	local bad old
	bad=$(printf 'k%.0s' $(seq 64) | base64 -w0)
	old=$(azsas 2020-01-01T00:00:00Z)
	azseed "$C" "$D/a.parquet" "$D/b.parquet"
	{ scand "$D/a.parquet"; scand "$D/b.parquet"; } >os.rec

	KEY=$bad auth conn-key "$AZ_ENDPOINT"
	run -1 --separate-stderr arc-delete --act -A a.tgz "az://$C" m.ndjson <os.rec
	assert_output "$(res failed storage "$D/a.parquet"; res failed storage "$D/b.parquet")"
	assert_stderr --partial "AuthorizationFailure"
	refute_secrets "$bad" "$AZ_KEY"

	SAS=$old auth conn-sas "$AZ_ENDPOINT"
	run -1 --separate-stderr arc-delete --act -A b.tgz "az://$C" m.ndjson <os.rec
	assert_output "$(res failed storage "$D/a.parquet"; res failed storage "$D/b.parquet")"
	refute_secrets "$old" "$(sig_of "$old")"

	assert_equal "$(azls "$C")" "$(lines "$D/a.parquet" "$D/b.parquet")"
}

@test "an act run of arc-reconcile with a wrong key or an expired SAS aborts with exit 2, deletes nothing, records no secret" {
	local bad old mode secret
	bad=$(printf 'k%.0s' $(seq 64) | base64 -w0)
	old=$(azsas 2020-01-01T00:00:00Z)
	azseed "$C" "$D/orphan.parquet"
	entry "$D/lost.parquet" >m.ndjson
	cp m.ndjson m.before
	for mode in conn-key conn-sas; do
		KEY=$bad SAS=$old auth "$mode" "$AZ_ENDPOINT"
		secret=$bad
		[ "$mode" = conn-sas ] && secret=$(sig_of "$old")
		run -2 --separate-stderr arc-reconcile --act --state-dir state \
		    --max-orphan-ratio 1 --now 2030-01-01T00:00:00Z "az://$C" m.ndjson
		assert_output ""
		assert_stderr --regexp "arc-reconcile: aborted \(storage_unreadable\): .*AuthorizationFailure"
		refute_secrets "$secret" "$old"
		run grep -rF -e "$secret" -e "$AZ_KEY" state
		assert_failure 1
	done
	assert_equal "$(azls "$C")" "$D/orphan.parquet"
	cmp m.ndjson m.before
}

# --- arc-list ----------------------------------------------------------------

@test "a listing in pages of two blobs is complete, sorted and equal to the one-page listing" {
	local names=() db i
	for db in a b c d; do
		for i in 1 2 3; do
			names+=("$db/m/2026/04/11/12/f$i.parquet")
		done
	done
	names+=(top1.parquet top2.parquet top3.parquet)
	azseed "$C" "${names[@]}"

	auth conn-key "$AZ_ENDPOINT"	# Shared Key, direct: 5000 a page
	run --separate-stderr arc-list "az://$C"
	assert_success
	lines "${names[@]}" | LC_ALL=C sort >want
	assert_equal "$(cut -f1 <<<"$output")" "$(cat want)"
	printf '%s\n' "$output" >onepage

	auth env-sas "$AZP_ENDPOINT"	# SAS through azproxy: 2 a page
	: >"$AZP_LOG"
	run --separate-stderr arc-list "az://$C"
	assert_success
	assert_equal "$output" "$(cat onepage)"
	# the delimiter listing and each of the four prefixes took pages
	# after the first: at least 3 + 4 * 1 requests carried a marker
	[ "$(requests GET | grep -c '[?&]marker=')" -ge 7 ]
}

@test "the four shards of a container, in pages of two, together are its listing, and none lists another shard's measurement prefix" {
	local names=() db m k
	for db in a b c; do
		for m in m1 m2 m3; do
			names+=("$db/$m/2026/04/11/12/f1.parquet" "$db/$m/2026/04/11/12/f2.parquet")
		done
	done
	names+=(top.parquet a/shallow.parquet)
	azseed "$C" "${names[@]}"
	auth env-sas "$AZP_ENDPOINT"	# SAS through azproxy: 2 a page
	run -0 arc-list "az://$C"
	printf '%s\n' "$output" >all
	: >union
	for k in 0 1 2 3; do
		: >"$AZP_LOG"
		arc-list --shard "$k/4" "az://$C" >>union
		# the prefix of every listing it asked: above the measurements
		# with the delimiter, else of its own shard (FNV-1a of the
		# first two segments, written here again)
		requests GET | python3 -c '
import sys, urllib.parse
k, bad, own = int(sys.argv[1]), 0, 0
for line in sys.stdin:
    q = urllib.parse.parse_qs(line.split()[1].partition("?")[2])
    if "list" not in q.get("comp", []):
        continue
    p = q.get("prefix", [""])[0].encode()
    if p.count(b"/") < 2:
        bad += "delimiter" not in q
        continue
    h = 0xcbf29ce484222325
    for c in b"/".join(p.split(b"/")[:2]):
        h = ((h ^ c) * 0x100000001b3) & 0xffffffffffffffff
    bad += h % 4 != k
    own += h % 4 == k
print(bad, own > 0)
' "$k" >check
		assert_equal "$(cat check)" "0 True"
	done
	sort union | cmp - all
}

@test "-p lists one prefix over several pages, nothing lost or repeated" {
	local names=() i
	for i in 1 2 3 4 5 6 7; do
		names+=("$D/f$i.parquet")
	done
	azseed "$C" "${names[@]}" "db/m2/2026/04/11/12/other.parquet"
	auth conn-sas "$AZP_ENDPOINT"
	: >"$AZP_LOG"
	run --separate-stderr arc-list -p db/m "az://$C"
	assert_success
	assert_equal "$(cut -f1 <<<"$output")" "$(lines "${names[@]}")"
	assert_equal "$(requests GET | grep -c 'comp=list')" 4
}

@test "funny blob names (space, '+', '%', unicode, XML and URL characters, TAB) are listed byte for byte" {
	local names=("a b.parquet" "a+b.parquet" "a%20b.parquet" "100%.parquet"
	    "é.parquet" "日本.parquet" "x&y<z>.parquet" "q?r#s=t.parquet"
	    "it's \"q\".parquet" "-lead.parquet" "t	ab.parquet") n enc
	azseed "$C" "${names[@]/#/$D/}"
	run --separate-stderr arc-list "az://$C"
	assert_success
	for n in "${names[@]}"; do
		printf '%s/%s\n' "$D" "${n//	/\\t}"
	done | LC_ALL=C sort >want
	cut -f1 <<<"$output" >got
	cmp got want
	# sizes are those of the bodies: "data:" and the encoded name
	enc=$(azenc "$D/é.parquet")
	assert_line --regexp "^$D/é\.parquet	[^	]*	$((5 + ${#enc}))\$"
}

@test "az://c/x and az://c/x/ both list the blobs under x/, relative to it; x1/, x.parquet and folder markers are not listed" {
	azseed "$C" "x/$D/a.parquet" "x/$D/b.parquet" "x1/$D/c.parquet" \
	    "x.parquet" "$D/root.parquet" "x/" "x/db/"
	run --separate-stderr arc-list -a "az://$C/x"
	assert_success
	assert_equal "$(cut -f1 <<<"$output")" "$(lines "$D/a.parquet" "$D/b.parquet")"
	local first=$output
	run --separate-stderr arc-list -a "az://$C/x/"
	assert_success
	assert_equal "$output" "$first"
}

@test "a missing container makes arc-list exit 2 with one line naming it" {
	run -2 --separate-stderr arc-list az://no-such-container
	assert_output ""
	assert_stderr "arc-list: list 'az://no-such-container/': Azure error ContainerNotFound: The specified container does not exist. (HTTP 404)"
}

# --- arc-recheck -------------------------------------------------------------

@test "arc-recheck confirms an orphan-manifest blob only on 404: a present blob is 'present'" {
	azseed "$C" "$D/here.parquet" "$D/a b+é.parquet"
	{
		ocand "$D/a b+é.parquet"
		ocand "$D/absent.parquet"
		ocand "$D/here.parquet"
	} >om.rec
	run --separate-stderr arc-recheck -R rej "az://$C" m.ndjson <om.rec
	assert_failure 1
	assert_output "$(ocand "$D/absent.parquet")"
	assert_equal "$(cut -f1,3 rej)" "$(lines "present	$D/a b+é.parquet" "present	$D/here.parquet")"
}

@test "arc-recheck never takes a 403 for absent: the candidate is an error" {
	KEY=$(printf 'k%.0s' $(seq 64) | base64 -w0) auth conn-key "$AZ_ENDPOINT"
	ocand "$D/absent.parquet" >om.rec
	run --separate-stderr arc-recheck -R rej "az://$C" m.ndjson <om.rec
	assert_failure 1
	assert_output ""
	assert_equal "$(cut -f1 rej)" error
	assert_stderr --partial "'$D/absent.parquet': cannot check"
	assert_stderr --partial "HTTP 403"
}

@test "arc-recheck against a missing container confirms no orphan-manifest candidate" {
	ocand "$D/a.parquet" >om.rec
	run --separate-stderr arc-recheck -R rej az://no-such-container m.ndjson <om.rec
	assert_failure
	assert_output ""
	assert_stderr --partial "ContainerNotFound"
}

@test "arc-delete on a missing container reports no blob as gone" {
	scand "$D/a.parquet" >os.rec
	run --separate-stderr arc-delete --act -A a.tgz az://no-such-container m.ndjson <os.rec
	assert_failure
	refute_output --partial gone
	assert_stderr --partial "ContainerNotFound"
}

@test "arc-recheck of orphan-storage blobs: young, gone, in-manifest, and confirmed when old" {
	azseed "$C" "$D/fresh.parquet" "$D/registered.parquet"
	entry "$D/registered.parquet" >m.ndjson
	{
		scand "$D/fresh.parquet"
		scand "$D/missing.parquet"
	} >os.rec
	run --separate-stderr arc-recheck -R rej "az://$C" m.ndjson <os.rec
	assert_failure 1
	assert_output ""
	assert_equal "$(cut -f1,3 rej)" "$(lines "young	$D/fresh.parquet" "gone	$D/missing.parquet")"

	{ scand "$D/fresh.parquet"; scand "$D/registered.parquet"; } >os.rec
	run --separate-stderr arc-recheck -R rej -t "$(date -u -d '+2 days' +%Y-%m-%dT%H:%M:%SZ)" \
	    "az://$C" m.ndjson <os.rec
	assert_failure 1
	assert_output "$(scand "$D/fresh.parquet")"
	assert_equal "$(cut -f1,3 rej)" "in-manifest	$D/registered.parquet"
}

# --- arc-delete --------------------------------------------------------------

@test "a Blob Batch delete of existing and missing blobs reports deleted and gone, in one request" {
	local p want=() rec=()
	azseed "$C" "$D/a.parquet" "$D/c.parquet" "$D/e.parquet" "$D/g.parquet" \
	    "$D/keep.parquet"
	for p in a b c d e f g; do
		scand "$D/$p.parquet"
	done >os.rec
	auth conn-key "$AZP_ENDPOINT"

	: >"$AZP_LOG"
	run --separate-stderr arc-delete -A dry.tgz "az://$C" m.ndjson <os.rec
	assert_success
	assert_equal "$(cut -f1 <<<"$output" | sort -u)" would-delete
	assert_equal "$(requests POST)$(requests DELETE)" ""

	: >"$AZP_LOG"
	run --separate-stderr arc-delete --act -A a.tgz "az://$C" m.ndjson <os.rec
	assert_success
	assert_results "$(for p in a b c d e f g; do
		case $p in [aceg]) r=deleted ;; *) r=gone ;; esac
		res "$r" storage "$D/$p.parquet"
	done)"
	assert_equal "$(azls "$C")" "$D/keep.parquet"
	assert_equal "$(requests POST)" "POST /$AZ_ACCOUNT/$C?comp=batch&restype=container"
	assert_equal "$(requests DELETE)" ""
}

@test "funny blob names are re-checked and batch-deleted by their decoded names" {
	local names=("a b.parquet" "a+b.parquet" "a%20b.parquet" "é.parquet"
	    "x&y<z>.parquet" "q?r#s=t.parquet" "t	ab.parquet") n
	azseed "$C" "${names[@]/#/$D/}" "$D/a.parquet"
	arc-list "az://$C" | grep -v "^$D/a\.parquet	" | sed 's/^/orphan-storage	/' >os.rec
	[ "$(wc -l <os.rec)" -eq 7 ]
	run --separate-stderr arc-recheck -t 2030-01-01T00:00:00Z "az://$C" m.ndjson <os.rec
	assert_success
	assert_output "$(cat os.rec)"
	run --separate-stderr arc-delete --act -A a.tgz "az://$C" m.ndjson <os.rec
	assert_success
	assert_equal "$(cut -f1 <<<"$output" | sort -u)" deleted
	assert_equal "$(azls "$C")" "$D/a.parquet"
}

@test "on az://c/x arc-delete removes x/PATH only, never PATH or x1/PATH" {
	azseed "$C" "x/$D/a.parquet" "x1/$D/a.parquet" "$D/a.parquet" "x/$D/b.parquet"
	{ scand "$D/a.parquet"; scand "$D/b.parquet"; } >os.rec
	run --separate-stderr arc-delete --act -A a.tgz "az://$C/x" m.ndjson <os.rec
	assert_success
	assert_output "$(res deleted storage "$D/a.parquet"; res deleted storage "$D/b.parquet")"
	assert_equal "$(azls "$C")" "$(lines "$D/a.parquet" "x1/$D/a.parquet")"
}

@test "--archive-files keeps the deleted blobs' content and --restore puts it back (SAS)" {
	auth conn-sas "$AZ_ENDPOINT"
	azseed "$C" "$D/a.parquet" "$D/b c.parquet" "$D/keep.parquet"
	{ scand "$D/a.parquet"; scand "$D/b c.parquet"; } >os.rec
	run --separate-stderr arc-delete --act --archive-files -A a.tgz "az://$C" m.ndjson <os.rec
	assert_success
	assert_equal "$(azls "$C")" "$D/keep.parquet"
	assert_equal "$(tar -xzOf a.tgz "quarantine/$D/b c.parquet")" "data:$D/b%20c.parquet"

	run --separate-stderr arc-delete --restore a.tgz "az://$C" m.ndjson
	assert_success
	assert_output "$(res restored storage "$D/a.parquet"; res restored storage "$D/b c.parquet")"
	assert_equal "$(azls "$C")" "$(lines "$D/a.parquet" "$D/b c.parquet" "$D/keep.parquet")"
	assert_equal "$(azget "$C" "$D/a.parquet")" "data:$D/a.parquet"
	assert_equal "$(azget "$C" "$D/b c.parquet")" "data:$D/b%20c.parquet"
}

@test "--restore never replaces a blob written since the delete" {
	azseed "$C" "$D/a.parquet"
	scand "$D/a.parquet" >os.rec
	arc-delete --act --archive-files -A a.tgz "az://$C" m.ndjson <os.rec >/dev/null
	azput "$C" "$D/a.parquet" "new content"
	run --separate-stderr arc-delete --restore a.tgz "az://$C" m.ndjson
	assert_failure 1
	assert_output "$(res failed storage "$D/a.parquet" RESTORE_FAILED)"
	assert_equal "$(azget "$C" "$D/a.parquet")" "new content"
}

@test "--if-unchanged keeps a blob rewritten after the listing and reports it changed" {
	azseed "$C" "$D/a.parquet" "$D/b.parquet" "$D/c.parquet"
	arc-list "az://$C" | sed 's/^/orphan-storage	/' >os.rec
	azput "$C" "$D/b.parquet" "rewritten after the listing"
	run --separate-stderr arc-delete --act --if-unchanged -A a.tgz "az://$C" m.ndjson <os.rec
	assert_failure 1
	assert_results "$(res changed storage "$D/b.parquet"
	    res deleted storage "$D/a.parquet"
	    res deleted storage "$D/c.parquet")"
	assert_equal "$(azls "$C")" "$D/b.parquet"
	assert_equal "$(azget "$C" "$D/b.parquet")" "rewritten after the listing"
}

# --- arc-reconcile -----------------------------------------------------------

# The driver tests share the container "pipe", planted in setup_file:
# a dry run must change nothing, so the act run that follows it finds
# the same drift.  In az://pipe/cluster1 and $BATS_FILE_TMPDIR/m.ndjson:
#   in sync:          keep1, keep2 (blob and entry)
#   orphan-manifest:  lost1, lost2 (entry, no blob)
#   orphan-storage:   orph1, orph2 (old blob, no entry)
#   refused:          db/m/2026/04/11/daily.parquet (6 segments)
#   young:            young.parquet, written a second after the others
#   outside:          cluster10/$D/orph1.parquet, never touched
# NOW is the time at which every blob but young is exactly grace (1h,
# skew 0) old; young is at least one second younger.  The circuit breaker
# is off: a container this small is all drift.
PIPE=pipe

plant_old() {
	mkc "$PIPE"
	azseed "$PIPE" "cluster1/$D/keep1.parquet" "cluster1/$D/keep2.parquet" \
	    "cluster1/$D/orph1.parquet" "cluster1/$D/orph2.parquet" \
	    "cluster1/db/m/2026/04/11/daily.parquet" "cluster10/$D/orph1.parquet"
	{
		entry "$D/keep1.parquet"
		entry "$D/keep2.parquet"
		entry "$D/lost1.parquet"
		entry "$D/lost2.parquet"
	} >"$BATS_FILE_TMPDIR/m.ndjson"
	NEWEST=$(arc-list -a "az://$PIPE" | cut -f2 | sort | tail -1)
	NOW=$(date -u -d "$NEWEST + 1 hour" +%Y-%m-%dT%H:%M:%SZ)
	export NEWEST NOW
}

plant_young() {
	while [ "$(date -u +%s)" -le "$(date -u -d "$NEWEST" +%s)" ]; do
		sleep 0.2
	done
	azseed "$PIPE" "cluster1/$D/young.parquet"
	[ "$(arc-list "az://$PIPE/cluster1" | grep young | cut -f2)" \> "$NEWEST" ]
}

# reconcile [OPTION...]: the driver on the planted drift.
reconcile() {
	arc-reconcile --state-dir "$BATS_FILE_TMPDIR/state" --grace 1h \
	    --skew 0s --now "$NOW" --max-orphan-ratio 1 "$@" \
	    "az://$PIPE/cluster1" "$BATS_FILE_TMPDIR/m.ndjson"
}

@test "a dry run of arc-reconcile on Azure reports the planted drift and changes nothing" {
	cp "$BATS_FILE_TMPDIR/m.ndjson" m.before
	azls "$PIPE" >blobs.before
	run --separate-stderr reconcile
	assert_failure 1
	assert_results "$(res would-delete manifest "$D/lost1.parquet"
	    res would-delete manifest "$D/lost2.parquet"
	    res refused storage db/m/2026/04/11/daily.parquet
	    res would-delete storage "$D/orph1.parquet"
	    res would-delete storage "$D/orph2.parquet")"
	assert_equal "$(cut -f2 <<<"$output" | uniq)" \
	    "$(lines orphan-manifest orphan-storage)"
	assert_stderr --regexp "dry-run: 2 manifest and 2 storage would-deletes, drift remains"
	cmp "$BATS_FILE_TMPDIR/m.ndjson" m.before
	assert_equal "$(azls "$PIPE")" "$(cat blobs.before)"
	assert_equal "$(jq -c '[.dry_run, .manifest_file_count, .storage_file_count, .skipped_grace]' \
	    "$BATS_FILE_TMPDIR"/state/runs/*.json)" "[true,4,6,1]"
}

@test "an act run of arc-reconcile on Azure repairs the planted drift and keeps the young, refused and outside blobs" {
	local rec
	run --separate-stderr reconcile --act --archive-files
	assert_failure 1	# the refused daily file is drift that remains
	assert_results "$(res deleted manifest "$D/lost1.parquet"
	    res deleted manifest "$D/lost2.parquet"
	    res refused storage db/m/2026/04/11/daily.parquet
	    res deleted storage "$D/orph1.parquet"
	    res deleted storage "$D/orph2.parquet")"
	assert_equal "$(cut -f2 <<<"$output" | uniq)" \
	    "$(lines orphan-manifest orphan-storage)"
	assert_equal "$(jq -r .path "$BATS_FILE_TMPDIR/m.ndjson")" \
	    "$(lines "$D/keep1.parquet" "$D/keep2.parquet")"
	assert_equal "$(azls "$PIPE")" "$(lines "cluster1/$D/keep1.parquet" \
	    "cluster1/$D/keep2.parquet" "cluster1/$D/young.parquet" \
	    "cluster1/db/m/2026/04/11/daily.parquet" "cluster10/$D/orph1.parquet")"
	rec=$(grep -l '"dry_run": *false' "$BATS_FILE_TMPDIR"/state/runs/*.json)
	assert_equal "$(jq -c '[.manifest_deletes, .storage_deletes,
	    .skipped_grace]' "$rec")" "[2,2,1]"
	tar -tzf "$(jq -r .archive "$rec")" |
	    grep -qx "phase2/quarantine/$D/orph1.parquet"
}

@test "a live listing leaves out blob names that are no safe path below the prefix ('/x', 'a//b'), says so, rejects them with -R and is partial" {
	azseed "$C" "b/$D/ok.parquet" "b/$D/x.parquet"
	# the positive control: safe names only
	run -0 --separate-stderr arc-list -R ok.rej "az://$C/b"
	assert_output --partial "$D/ok.parquet"
	assert_stderr ''
	[ ! -s ok.rej ]
	printf '%s\n' "$output" >want
	azseed "$C" "b//$D/abs.parquet" "b/$D//dbl.parquet"
	run -1 --separate-stderr arc-list -R bad.rej "az://$C/b"
	assert_output "$(cat want)"
	assert_stderr --partial "arc-list: '/$D/abs.parquet': left out: absolute path; the listing is partial"
	assert_stderr --partial "arc-list: '$D//dbl.parquet': left out: path has an empty segment; the listing is partial"
	run -0 cut -f 1,3,6 bad.rej
	assert_output "$(printf 'unsafe-path\t/%s/abs.parquet\tLAYOUT_MISMATCH\nunsafe-path\t%s//dbl.parquet\tLAYOUT_MISMATCH' "$D" "$D")"
}
