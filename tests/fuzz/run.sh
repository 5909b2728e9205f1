#!/bin/sh
# run.sh BUILD_DIR -- build the libFuzzer targets (tests/fuzz/fuzz_*.c) with clang
# and run each for a short time over its seed corpus.
#
#   library objects: clang -fsanitize=fuzzer-no-link,address
#   targets:         clang -fsanitize=fuzzer,address
#   FUZZ_SECONDS     seconds per target (default 30)
#   FUZZ_TARGETS     "pickle npz ..." to run a subset (default: all)
#   FUZZ_JOBS        parallel compile jobs (default 2)
#
# New inputs are kept in tests/fuzz/corpus-work/<target>/ (not committed); the
# committed seeds in tests/fuzz/corpus/<target>/ are only read. Crash inputs land
# in BUILD_DIR/crashes/<target>/. Exit status: non-zero when a target crashed.
set -eu
cd "$(dirname "$0")/../.."
build=${1:-build-fuzz}
secs=${FUZZ_SECONDS:-30}
jobs=${FUZZ_JOBS:-2}
cc=${FUZZ_CC:-clang}
openblas_inc=${OPENBLAS_INCDIR:-/usr/include/x86_64-linux-gnu/openblas-openmp}
openblas_lib=${OPENBLAS_LIBDIR:-/usr/lib/x86_64-linux-gnu/openblas-openmp}
common="-g -O1 -std=c11 -D_GNU_SOURCE -fPIC -fopenmp -fno-omit-frame-pointer -I$openblas_inc -I/usr/include/cjson"
libs="-L$openblas_lib -Wl,-rpath,$openblas_lib -lopenblas -ldnnl -lcjson -lzip -lutf8proc -lz -lm -lpthread"

mkdir -p "$build/obj" "$build/crashes"
echo "fuzz: compiling the library with $cc (fuzzer-no-link, address)"
# shellcheck disable=SC2046
printf '%s\n' lib/*/*.c | xargs -P "$jobs" -I{} sh -c '
  o="$0/obj/$(echo "{}" | tr / _ | sed "s/\.c$/.o/")"
  if [ ! -f "$o" ] || [ "{}" -nt "$o" ] || [ include/selfmm.h -nt "$o" ]; then
    '"$cc"' '"$common"' -fsanitize=fuzzer-no-link,address -fvisibility=hidden -DSELFMM_BUILDING \
      -Iinclude -Ilib -c "{}" -o "$o" || exit 255
  fi' "$build"

status=0
for src in tests/fuzz/fuzz_*.c; do
  t=$(basename "$src" .c)
  name=${t#fuzz_}
  if [ -n "${FUZZ_TARGETS:-}" ]; then
    case " $FUZZ_TARGETS " in *" $name "*) ;; *) continue ;; esac
  fi
  echo "fuzz: building $t"
  # shellcheck disable=SC2086
  $cc $common -fsanitize=fuzzer,address -Iinclude -Ilib "$src" "$build"/obj/*.o $libs -o "$build/$t"
  work="tests/fuzz/corpus-work/$name"
  seeds="tests/fuzz/corpus/$name"
  mkdir -p "$work" "$build/crashes/$name"
  echo "fuzz: running $t for ${secs}s (seeds: $(ls "$seeds" 2>/dev/null | wc -l))"
  if ! "$build/$t" -max_total_time="$secs" -rss_limit_mb=2048 -malloc_limit_mb=1024 -timeout=10 \
       -max_len=262144 -print_final_stats=1 -artifact_prefix="$build/crashes/$name/" \
       "$work" "$seeds" >"$build/$t.log" 2>&1; then
    echo "fuzz: $t FAILED (see $build/$t.log and $build/crashes/$name/)"
    tail -30 "$build/$t.log"
    status=1
  else
    grep -E "stat::number_of_executed_units|cov:" "$build/$t.log" | tail -2 | sed "s/^/fuzz: $t: /"
  fi
done
exit $status
