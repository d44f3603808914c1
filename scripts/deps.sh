#!/bin/sh
# deps.sh - install the Debian packages mamori needs to build and test,
# only if something is missing. Runs apt-get as root (or via sudo).
# `deps.sh bench` also installs what bench/run.sh compares against.
set -e
PKGS="gcc make pkg-config libsqlite3-dev libyaml-dev zlib1g-dev libisal-dev sqlite3 clang libclang-rt-dev libmaxminddb-dev libmicrohttpd-dev libcurl4-openssl-dev libssl-dev awscli chromium"
# nft: `mamori agent respond block` and its test in a network namespace
PKGS="$PKGS nftables"
# libsystemd: `mamori agent --journal`; systemd-journal-remote builds tests/golden/journal.sh's journals
PKGS="$PKGS libsystemd-dev systemd-journal-remote"
# bench/run.sh: g++ and simdjson for the CloudTrail/DNS reference pass, mawk,
# jq, GNU time for peak RSS, Node.js for DuckDB (@duckdb/node-api via npm ci)
[ "${1:-}" = bench ] && PKGS="$PKGS g++ libsimdjson-dev mawk jq time nodejs"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
# the golden case runner normalises findings with python3 (any python3 on
# PATH will do, installed by Debian or not)
command -v python3 >/dev/null 2>&1 || missing="$missing python3"
# the console's browser test drives chromium with playwright-core from npm
# (any npm on PATH will do: Node.js's own installs one)
command -v npm >/dev/null 2>&1 || missing="$missing npm"
[ -z "$missing" ] && exit 0
echo "mamori: installing Debian packages:$missing"
SUDO=""
if [ "$(id -u)" != 0 ]; then
	if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
		echo "mamori: error: need root (or sudo) to install:$missing" >&2
		echo "mamori: install them yourself, then run make again" >&2
		exit 1
	fi
fi
if ! $SUDO apt-get update -qq || ! DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing; then
	echo "mamori: error: apt-get could not install:$missing" >&2
	echo "mamori: check the network/apt sources, or install them by hand" >&2
	exit 1
fi
