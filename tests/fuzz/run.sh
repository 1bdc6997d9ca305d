#!/bin/sh
# Runs every libFuzzer target of tests/fuzz/ for a bounded time.
#   tests/fuzz/run.sh [TARGET...]      default: fuzz_assessment fuzz_query fuzz_pages fuzz_config
#                                      fuzz_import
# Environment:
#   FUZZ_SECONDS   seconds of fuzzing per target (default 20)
#   FUZZ_OUT       build and work directory (default build/fuzz)
#   FUZZ_NO_BUILD  set to skip tests/fuzz/build.sh
# For each target: first replays every input kept under tests/fuzz/regressions/<target>/
# (inputs that once crashed), then fuzzes from tests/fuzz/corpus/<target>/ (copied into a
# work directory, so the seeds in the repository are left as they are). Crash inputs are
# written to $FUZZ_OUT/artifacts/<target>/; keep the ones you fix under regressions/.
# Exits non-zero if any replay or fuzzing run fails.
set -u
cd "$(dirname "$0")/../.."
OUT=${FUZZ_OUT:-build/fuzz}
SECS=${FUZZ_SECONDS:-20}
TARGETS=${*:-fuzz_assessment fuzz_query fuzz_pages fuzz_config fuzz_import}

if [ -z "${FUZZ_NO_BUILD:-}" ]; then
	tests/fuzz/build.sh "$OUT" || { echo "fuzz: build failed"; exit 2; }
fi

# Known leaks elsewhere, reported and listed with their reason in lsan.supp.
LSAN_OPTIONS="suppressions=$(pwd)/tests/fuzz/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export LSAN_OPTIONS

ASAN_OPTIONS_USER=${ASAN_OPTIONS:-}
status=0
for t in $TARGETS; do
	bin="$OUT/$t"
	# Jansson and libcrypto have no frame pointers: a target with suppressed leaks needs the
	# slow unwinder for the suppressions to match (it costs speed, so only there).
	case $t in
	fuzz_query) ASAN_OPTIONS="fast_unwind_on_malloc=0${ASAN_OPTIONS_USER:+:$ASAN_OPTIONS_USER}" ;;
	*) ASAN_OPTIONS="${ASAN_OPTIONS_USER:-}" ;;
	esac
	export ASAN_OPTIONS
	[ -x "$bin" ] || { echo "fuzz: $bin missing"; status=1; continue; }
	reg="tests/fuzz/regressions/$t"
	if [ -d "$reg" ] && [ -n "$(ls -A "$reg" 2>/dev/null)" ]; then
		# Given files instead of directories, libFuzzer runs each once and exits non-zero
		# on the first failure.
		if "$bin" -runs=1 "$reg"/* >"$OUT/$t.replay.log" 2>&1; then
			echo "fuzz: $t: replayed $(ls "$reg" | wc -l) regression input(s): ok"
		else
			echo "fuzz: $t: a regression input fails again:"
			tail -n 40 "$OUT/$t.replay.log"
			status=1
			continue
		fi
	fi
	work="$OUT/work/$t"
	art="$OUT/artifacts/$t"
	rm -rf "$work"
	mkdir -p "$work" "$art"
	cp tests/fuzz/corpus/"$t"/* "$work"/ 2>/dev/null
	if "$bin" "$work" -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
		-print_final_stats=1 -artifact_prefix="$art/" >"$OUT/$t.log" 2>&1; then
		execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$OUT/$t.log" | grep -o '[0-9]*$')
		cov=$(grep -o 'cov: [0-9]*' "$OUT/$t.log" | tail -n 1)
		echo "fuzz: $t: ${SECS}s, ${execs:-?} runs, $cov, corpus $(ls "$work" | wc -l): no crash"
	else
		echo "fuzz: $t: CRASH (log $OUT/$t.log, input in $art/):"
		grep -A 30 -m 1 'ERROR:\|runtime error\|deadly signal\|==ERROR' "$OUT/$t.log" | head -n 40
		status=1
	fi
done
exit $status
