#!/usr/bin/env bash
# Installs the Debian packages that dedupd's build, tests and benchmarks need,
# only those that are missing. Runs apt-get as root, or through sudo.
set -euo pipefail

PKGS=(
	# build
	gcc make pkg-config clang libclang-rt-14-dev
	libevent-dev liblmdb-dev lmdb-utils libssl-dev openssl libxxhash-dev
	libzstd-dev zstd libcurl4-openssl-dev libexpat1-dev libhttp-parser-dev
	libsystemd-dev libcmocka-dev
	# tests: real clients and tools
	python3 python3-boto3 curl awscli rclone restic s3cmd systemd
)

missing=()
for p in "${PKGS[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
		missing+=("$p")
	fi
done
# Node.js may come from outside Debian (npm 11 here): only install when absent.
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
	echo "install-deps: installing ${missing[*]}" >&2
	SUDO=
	if [ "$(id -u)" -ne 0 ]; then
		command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
		SUDO=sudo
	fi
	export DEBIAN_FRONTEND=noninteractive
	$SUDO apt-get update -qq
	$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The AWS SDK for JavaScript v3 used by the S3 client tests, pinned by
# tests/clients/js/package-lock.json (installed from the npm registry).
js=$(cd "$(dirname "$0")/.." && pwd)/tests/clients/js
if [ -f "$js/package-lock.json" ] && [ ! -d "$js/node_modules/@aws-sdk/client-s3" ]; then
	echo "install-deps: npm ci in tests/clients/js" >&2
	(cd "$js" && npm ci --no-audit --no-fund --loglevel=error)
fi
