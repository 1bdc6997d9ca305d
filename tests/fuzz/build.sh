#!/bin/sh
# Builds the libFuzzer targets of tests/fuzz/ with clang, ASan and UBSan, linking the module
# sources directly (not the Makefile's archive, whose objects are built without
# instrumentation).
#   tests/fuzz/build.sh [OUTDIR]        default OUTDIR: build/fuzz
# Prints nothing but compiler errors; exits non-zero if a target does not build.
# Needs: clang, libclang-rt-14-dev (the fuzzer runtime), pkg-config and the -dev packages of
# the Makefile.
set -eu
cd "$(dirname "$0")/../.."
OUT=${1:-build/fuzz}
mkdir -p "$OUT/obj"

CC=${FUZZ_CC:-clang}
PKGS="libmicrohttpd jansson sqlite3 libpq libcurl libcrypto libcmark"
# -O1 -g: what libFuzzer's documentation suggests; sanitizers abort on the first report.
CFLAGS="-std=c11 -D_GNU_SOURCE -pthread -I. -O1 -g -fno-omit-frame-pointer \
 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
 $(pkg-config --cflags $PKGS)"
LIBS="$(pkg-config --libs $PKGS) -lm -pthread"

# The embedded files (migrations, default data, OpenAPI document) as the Makefile makes them.
EMBEDDED="$(ls migrations/*.sql | sort) $(ls data/*.json) api/openapi.json"
sh util/embed.sh $EMBEDDED > "$OUT/obj/embed.S"
$CC -c -o "$OUT/obj/embed.o" "$OUT/obj/embed.S"

# Each module source once, instrumented (with -fsanitize=fuzzer-no-link so that the objects
# do not each pull in a main).
OBJFLAGS=$(echo "$CFLAGS" | sed 's/-fsanitize=fuzzer,/-fsanitize=fuzzer-no-link,/')
objs=""
for src in util/*.c scoring/*.c body/*.c revise/*.c store/*.c pages/*.c api/*.c $(ls server/*.c | grep -v "^server/main\.c$"); do
	o="$OUT/obj/$(echo "$src" | tr / _ | sed 's/\.c$/.o/')"
	if [ ! -f "$o" ] || [ "$src" -nt "$o" ] || [ -n "$(find util scoring body revise store pages api server -name '*.h' -newer "$o" 2>/dev/null | head -n 1)" ]; then
		$CC $OBJFLAGS -include util/banned.h -c -o "$o" "$src"
	fi
	objs="$objs $o"
done

for t in fuzz_assessment fuzz_query fuzz_pages fuzz_config fuzz_import; do
	$CC $CFLAGS -o "$OUT/$t" "tests/fuzz/$t.c" $objs "$OUT/obj/embed.o" $LIBS
done
