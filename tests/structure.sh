#!/bin/sh
# tests/structure.sh: the rules of the tree's structure that the build alone does not show,
# checked on the product's C code (server/ api/ body/ revise/ store/ scoring/ util/ pages/):
#   - only store/ includes a database library (sqlite3.h, libpq-fe.h);
#   - only server/ includes libmicrohttpd (microhttpd.h);
#   - inside store/, the database libraries are the database layer's (db_sqlite.c, db_pg*.c),
#     but for the files still on SQLite's handle, listed below;
#   - the commands that work without a server (score, import and its line reader) include
#     nothing from api/: they reach the body reader and the revision engine directly;
#   - each call util/banned.h bans fails to compile, as the Makefile compiles the product;
#   - no .c file over 800 lines, no function over 80, no files calling each other in a circle
#     (tests/structure_limits.py, on the objects of the build in OBJDIR, default build/rel).
# Prints "ok  ..." or "FAIL ..." per check and "RESULT passed=N failed=M".
cd "$(dirname "$0")/.." || exit 2
CC=${CC:-cc}
passed=0
failed=0
check() { # name, status (0 = holds), detail
	if [ "$2" -eq 0 ]; then
		echo "ok   $1"
		passed=$((passed + 1))
	else
		echo "FAIL $1: $3"
		failed=$((failed + 1))
	fi
}
DIRS="server api body revise store scoring util pages"

found=$(grep -ln '#include <\(sqlite3\|libpq-fe\)\.h>' $(for d in $DIRS; do echo $d/*.c $d/*.h; done) 2>/dev/null |
	grep -v '^store/')
check "only store/ includes a database library" "$([ -z "$found" ]; echo $?)" "$found"
# Inside store/, the engines' headers belong to the database layer; the files that still reach
# SQLite's handle (db_bridge.h: the checkpointer, the writer's WAL hook, the history's SQL
# function, the SQL function of migration 0007 that turns revisions into pieces) are listed
# here, so that a new one is a decision, not an accident.
on_sqlite='store/db_sqlite.c\|store/writer.c\|store/checkpoint.c\|store/history.c\|store/pieces_sql.c'
found=$(grep -ln '#include <sqlite3\.h>' store/*.c store/*.h | grep -vx "$on_sqlite")
check "in store/, only the SQLite engine and the four listed files include sqlite3.h" \
	"$([ -z "$found" ]; echo $?)" "$found"
found=$(grep -ln '#include <libpq-fe\.h>' store/*.c store/*.h | grep -v '^store/db_pg')
check "in store/, only the PostgreSQL engine includes libpq-fe.h" "$([ -z "$found" ]; echo $?)" "$found"
found=$(grep -ln 'sqlite3_[a-z_]*(' store/*.c | grep -vx "$on_sqlite")
check "in store/, no SQLite call outside the engine and the four listed files" \
	"$([ -z "$found" ]; echo $?)" "$found"
found=$(grep -ln '#include <microhttpd\.h>' $(for d in $DIRS; do echo $d/*.c $d/*.h; done) 2>/dev/null |
	grep -v '^server/')
check "only server/ includes libmicrohttpd" "$([ -z "$found" ]; echo $?)" "$found"

found=$(grep -ln '#include "api/' server/cmd_score.c server/cmd_ops.c server/import_lines.c)
check "aijri score, import and restore include nothing from api/" "$([ -z "$found" ]; echo $?)" "$found"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# A call that compiles cleanly without banned.h, so that a failure is banned.h's doing.
cat >"$tmp/control.c" <<'C'
#include <string.h>
int f(char *d, const char *s);
int f(char *d, const char *s) { memcpy(d, s, 1); return 0; }
C
check "a plain file compiles with util/banned.h forced in (the control)" \
	"$($CC -std=c11 -D_GNU_SOURCE -I. -include util/banned.h -Werror -c -o "$tmp/control.o" \
		"$tmp/control.c" 2>"$tmp/err"; echo $?)" "$(head -n 3 "$tmp/err")"
for call in 'strcpy(b, "x")' 'strcat(b, "x")' 'strncpy(b, "x", 2)' 'strncat(b, "x", 1)' \
	'sprintf(b, "%d", 1)' 'vsprintf(b, "x", ap)' 'strtok(b, ",")' 'strtok_r(b, ",", &p)' \
	'atoi(b)' 'atol(b)' 'atoll(b)' 'atof(b)' 'gmtime(&t)' 'localtime(&t)' 'ctime(&t)' \
	'asctime(tm)' 'tmpnam(b)' 'mktemp(b)'; do
	name=${call%%(*}
	cat >"$tmp/use.c" <<C
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
void g(va_list ap);
void g(va_list ap) { char b[64] = "1", *p = NULL; time_t t = 0; struct tm *tm = NULL;
	(void)p; (void)t; (void)tm; (void)ap; (void)$call; }
C
	if $CC -std=c11 -D_GNU_SOURCE -I. -include util/banned.h -Werror=implicit-function-declaration \
		-c -o "$tmp/use.o" "$tmp/use.c" >"$tmp/err" 2>&1; then
		st=1
	else
		grep -q "sorry_${name}_is_banned" "$tmp/err"
		st=$?
	fi
	check "$name fails the build" "$st" "$(head -n 3 "$tmp/err")"
done
# The limits of size and shape, read from the sources and the build's objects.
objdir=${OBJDIR:-build/rel}
python3 tests/structure_limits.py "$objdir" >"$tmp/limits" 2>&1
st=$?
grep -v '^RESULT ' "$tmp/limits"
p=$(sed -n 's/^RESULT passed=\([0-9]*\) failed=\([0-9]*\)$/\1/p' "$tmp/limits")
f=$(sed -n 's/^RESULT passed=\([0-9]*\) failed=\([0-9]*\)$/\2/p' "$tmp/limits")
if [ -z "$p" ]; then
	check "tests/structure_limits.py ran" 1 "exit $st: $(tail -n 3 "$tmp/limits")"
else
	passed=$((passed + p))
	failed=$((failed + f))
fi
echo "RESULT passed=$passed failed=$failed"
[ "$failed" -eq 0 ]
