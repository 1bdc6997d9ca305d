#!/usr/bin/env bash
# Installs what aijri needs on Debian 12, skipping what is there already.
#   deploy/setup-debian.sh          build and run dependencies
#   deploy/setup-debian.sh --test   also what the tests and benchmarks use
# Needs root (or sudo) only when something is missing.
set -euo pipefail
pkgs=(build-essential pkg-config libmicrohttpd-dev libjansson-dev libsqlite3-dev
      libcurl4-openssl-dev libssl-dev ca-certificates)
if [ "${1:-}" = "--test" ]; then
	pkgs+=(python3 sqlite3 curl clang libclang-rt-14-dev valgrind wrk nginx-light systemd
	       prometheus)
fi
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# The OpenAPI validator runs on Node.js; any node >= 20 will do, Debian's or not.
if [ "${1:-}" = "--test" ] && ! command -v node >/dev/null; then
	missing+=(nodejs npm)
fi
if [ ${#missing[@]} -gt 0 ]; then
	sudo=""
	[ "$(id -u)" = 0 ] || sudo=sudo
	export DEBIAN_FRONTEND=noninteractive
	$sudo apt-get update -qq
	$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if [ "${1:-}" = "--test" ] && [ -f tests/openapi/package-lock.json ] && [ ! -d tests/openapi/node_modules ]; then
	npm ci --prefix tests/openapi --no-audit --no-fund >/dev/null
fi
