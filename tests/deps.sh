#!/bin/sh
# deps.sh [build] [test] - install the Debian packages (and, for tests, the
# npm test servers) that arc-reconcile needs and that are missing.  As
# root it installs them; otherwise it prints the exact command to run.
set -u

build="gcc make pkg-config libcurl4-openssl-dev libarchive-dev libjson-c-dev
	libssl-dev libexpat1-dev coreutils"
test="bats bats-assert bats-support bats-file jq curl etcd-server etcd-client
	valgrind clang libclang-rt-14-dev python3 strace prometheus
	swift-proxy swift-object swift-container swift-account python3-swift
	memcached"

want=
for set in "$@"; do
	case $set in
	build) want="$want $build" ;;
	test) want="$want $test" ;;
	*) echo "deps.sh: unknown set '$set'" >&2; exit 2 ;;
	esac
done

# the npm test servers (s3rver, Azurite), as tests/servers/package-lock.json
# pins them, into .test-servers/node_modules: outside tests/, so that the
# tree a reviewer searches holds only the project's own files
npm_servers() {
	src=$(dirname "$0")/servers
	dir=$(dirname "$0")/../.test-servers
	mkdir -p "$dir" || return 1
	cmp -s "$src/package-lock.json" "$dir/package-lock.json" ||
	    rm -rf "$dir/node_modules"
	cp "$src/package.json" "$src/package-lock.json" "$dir/" || return 1
	[ -d "$dir/node_modules/s3rver" ] && [ -d "$dir/node_modules/azurite" ] &&
	    [ -d "$dir/node_modules/@20minutes/s3rver" ] && return 0
	command -v npm >/dev/null 2>&1 || { echo "deps.sh: npm is needed for the test servers" >&2; return 1; }
	echo "installing the npm test servers" >&2
	(cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >&2)
}

missing=
for p in $want; do
	s=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)
	case $s in
	*" installed") ;;
	*) missing="$missing $p" ;;
	esac
done
if [ -z "$missing" ]; then
	case " $* " in *" test "*) npm_servers || exit 1 ;; esac
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "missing packages; as root run:" >&2
	echo "  apt-get install -y$missing" >&2
	exit 1
fi
echo "installing:$missing" >&2
DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 &&
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >&2 || exit 1
case " $* " in *" test "*) npm_servers || exit 1 ;; esac
