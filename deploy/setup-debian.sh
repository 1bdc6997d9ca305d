#!/usr/bin/env bash
# Installs what aijri needs on Debian 12, skipping what is there already.
#   deploy/setup-debian.sh          build and run dependencies
#   deploy/setup-debian.sh --test   also what the tests and benchmarks use
# Needs root (or sudo) only when something is missing.
set -euo pipefail
pkgs=(build-essential pkg-config libmicrohttpd-dev libjansson-dev libsqlite3-dev libpq-dev
      libcurl4-openssl-dev libssl-dev libcmark-dev ca-certificates)
if [ "${1:-}" = "--test" ]; then
	# prometheus brings promtool, which lints GET /metrics (tests/api/test_metrics.py and
	# test_limits.py); faketime runs the server across a UTC midnight (test_analysis.py);
	# python3-yaml reads deploy/compose.yaml and nginx runs deploy/nginx.conf in front of
	# several servers (test_deploy.py; bench/run uses nginx too).
	pkgs+=(python3 python3-yaml sqlite3 curl clang libclang-rt-14-dev valgrind wrk nginx-light
	       systemd prometheus faketime)
	# The browser tests: Debian's chromium (headless), fonts to render the pages with, and a
	# feed parser for the Atom feeds.
	pkgs+=(chromium fonts-dejavu-core fonts-liberation python3-feedparser)
	# PostgreSQL's server and psql: the tests start a throwaway cluster of their own
	# (tests/pg/cluster.sh, on a free port and its own socket directory), so a main cluster
	# the package may create and start is neither needed nor in the way.
	pkgs+=(postgresql postgresql-client)
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
# The tests' npm packages, from their committed lockfiles: the OpenAPI checkers and linter,
# and the browser driver (playwright-core, which uses the system's chromium and downloads no
# browser) with axe-core; installed again whenever a lockfile is newer than its installed tree.
for dir in tests/openapi tests/browser; do
	lock=$dir/package-lock.json
	installed=$dir/node_modules/.package-lock.json
	if [ "${1:-}" = "--test" ] && [ -f "$lock" ] && { [ ! -f "$installed" ] || [ "$lock" -nt "$installed" ]; }; then
		npm ci --prefix "$dir" --no-audit --no-fund >/dev/null
	fi
done
