#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests: its own data directory, port and socket, nothing
# of the machine's own clusters (Debian's 15/main on 5432, if any, is left alone).
#
#   tests/pg/cluster.sh start DIR [PORT]   creates DIR, initdb, starts the server on 127.0.0.1;
#                                          prints the connection URI on standard output
#   tests/pg/cluster.sh uri DIR            prints the URI of the cluster in DIR again
#   tests/pg/cluster.sh restart DIR        stops the server at once (-m immediate, as a crash
#                                          would) and starts it again on the same port
#   tests/pg/cluster.sh down DIR           stops the server at once (-m immediate), keeps DIR
#   tests/pg/cluster.sh up DIR             starts a server that is down again, on its port
#   tests/pg/cluster.sh stop DIR           stops it at once (-m immediate) and removes DIR
#
# Without PORT a free port is picked (and another one if the server cannot bind it). PostgreSQL
# refuses to run as root: as root the server runs as the postgres user (DIR is chowned to it),
# as anyone else as that user. The binaries are those of the newest /usr/lib/postgresql/N/bin
# (Debian's postgresql package), or of $PG_BINDIR. The cluster trusts local connections and is
# meant for tests only: fsync stays on, so that durability tests mean what they say.
set -euo pipefail

die() {
	echo "cluster.sh: $*" >&2
	exit 1
}

bindir() {
	local d
	if [ -n "${PG_BINDIR:-}" ]; then
		echo "$PG_BINDIR"
		return
	fi
	d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5 -n | tail -n 1)
	[ -n "$d" ] && [ -x "$d/initdb" ] ||
		die "no PostgreSQL server binaries in /usr/lib/postgresql/*/bin (apt-get install postgresql, or set PG_BINDIR)"
	echo "$d"
}

# Runs a command as the cluster's owner: postgres when we are root, ourselves otherwise.
as_owner() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

free_port() {
	python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

start() {
	local dir=$1 port=${2:-} bin tries=0
	[ -n "$dir" ] || die "usage: cluster.sh start DIR [PORT]"
	bin=$(bindir)
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	[ -z "$(ls -A "$dir")" ] || die "$dir is not empty"
	if [ "$(id -u)" = 0 ]; then
		id postgres >/dev/null 2>&1 || die "no postgres user (apt-get install postgresql)"
		chown postgres: "$dir"
		as_owner test -w "$dir" ||
			die "the postgres user cannot write $dir (a parent directory is closed to it?)"
	fi
	chmod 700 "$dir"
	# C collation: text sorts by code point, as SQLite's BINARY does.
	as_owner "$bin/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --locale=C \
		>"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
	while :; do
		[ -n "$port" ] || port=$(free_port)
		if as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
			-o "-p $port -k $dir -c listen_addresses=127.0.0.1" start >/dev/null 2>&1; then
			break
		fi
		tries=$((tries + 1))
		# A port taken between the pick and the bind: pick another (only when we picked).
		if [ -n "${2:-}" ] || [ $tries -ge 5 ]; then
			tail -n 20 "$dir/server.log" >&2 || true
			die "the server did not start"
		fi
		port=""
	done
	echo "$port" >"$dir/port"
	echo "postgresql://postgres@127.0.0.1:$port/postgres" >"$dir/uri"
	cat "$dir/uri"
}

down() {
	local dir=$1 bin
	[ -f "$dir/port" ] || die "no cluster in $dir"
	bin=$(bindir)
	as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 ||
		die "pg_ctl stop failed in $dir"
}

up() {
	local dir=$1 bin
	[ -f "$dir/port" ] || die "no cluster in $dir"
	bin=$(bindir)
	as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
		-o "-p $(cat "$dir/port") -k $dir -c listen_addresses=127.0.0.1" start >/dev/null 2>&1 ||
		{ tail -n 20 "$dir/server.log" >&2; die "the server did not start again"; }
}

restart() {
	down "$1"
	up "$1"
}

stop() {
	local dir=$1 bin
	[ -n "$dir" ] || die "usage: cluster.sh stop DIR"
	[ -d "$dir" ] || return 0
	bin=$(bindir)
	if [ -f "$dir/data/postmaster.pid" ]; then
		as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 ||
			echo "cluster.sh: pg_ctl stop failed in $dir" >&2
	fi
	rm -rf "$dir"
}

case "${1:-}" in
start) start "${2:-}" "${3:-}" ;;
stop) stop "${2:-}" ;;
uri) cat "${2:?usage: cluster.sh uri DIR}/uri" ;;
restart) restart "${2:?usage: cluster.sh restart DIR}" ;;
down) down "${2:?usage: cluster.sh down DIR}" ;;
up) up "${2:?usage: cluster.sh up DIR}" ;;
*) die "usage: cluster.sh start DIR [PORT] | uri DIR | restart DIR | down DIR | up DIR | stop DIR" ;;
esac
