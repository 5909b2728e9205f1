#!/bin/sh
# run.sh BUILD_DIR -- build the libFuzzer targets (tests/fuzz/fuzz_*.c) with clang
# under AddressSanitizer and UndefinedBehaviorSanitizer (as `make asan` and
# `make ubsan`), and run each over its seeds with its dictionary.
#
#   library objects: clang -fsanitize=fuzzer-no-link,address,undefined
#   targets:         clang -fsanitize=fuzzer,address,undefined
#   both with -fno-sanitize-recover=all: any report stops the run as a crash
#   FUZZ_SECONDS     seconds per target (default 10)
#   FUZZ_RUNS        executions per target instead of a time budget (a campaign)
#   FUZZ_TARGETS     "pickle npz ..." to run a subset (default: all)
#   FUZZ_JOBS        parallel compile jobs (default 2)
#   FUZZ_NICE        nice level of the fuzzing runs (default 0)
#
# Seeds: the committed tests/fuzz/corpus/<target>/ plus real files gathered from
# tests/fixtures (the third-party checkpoints of tests/fixtures/shared included)
# into BUILD_DIR/seeds/<target>/. Dictionaries: tests/fuzz/dict/*.dict, the ones
# each target reads joined into BUILD_DIR/dict/<target>.dict. New inputs are kept
# in tests/fuzz/corpus-work/<target>/ (not committed); crash inputs land in
# BUILD_DIR/crashes/<target>/. The library is compiled with
# FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION: zip CRC-32 mismatches do not stop a
# load there, or no mutated checkpoint would get past its directory.
# Exit status: non-zero when a target crashed, leaked, timed out or failed to build.
set -eu
cd "$(dirname "$0")/../.."
build=${1:-build-fuzz}
secs=${FUZZ_SECONDS:-10}
jobs=${FUZZ_JOBS:-2}
niceness=${FUZZ_NICE:-0}
cc=${FUZZ_CC:-clang}
openblas_inc=${OPENBLAS_INCDIR:-/usr/include/x86_64-linux-gnu/openblas-openmp}
openblas_lib=${OPENBLAS_LIBDIR:-/usr/lib/x86_64-linux-gnu/openblas-openmp}
san="-fno-sanitize-recover=all -fno-omit-frame-pointer"
common="-g -O1 -std=c11 -D_GNU_SOURCE -fPIC -fopenmp=libgomp $san -I$openblas_inc -I/usr/include/cjson"
libs="-L$openblas_lib -Wl,-rpath,$openblas_lib -lopenblas -ldnnl -lcjson -lzip -lutf8proc -lz -lgomp -lm -lpthread"

mkdir -p "$build/obj" "$build/crashes" "$build/seeds" "$build/dict"
echo "fuzz: compiling the library with $cc (fuzzer-no-link, address, undefined)"
printf '%s\n' lib/*/*.c | xargs -P "$jobs" -I{} sh -c '
  o="$0/obj/$(echo "{}" | tr / _ | sed "s/\.c$/.o/")"
  newer=$(find lib include -name "*.h" -newer "$o" 2>/dev/null | head -1)
  if [ ! -f "$o" ] || [ "{}" -nt "$o" ] || [ -n "$newer" ]; then
    '"$cc"' '"$common"' -fsanitize=fuzzer-no-link,address,undefined -fvisibility=hidden \
      -DSELFMM_BUILDING -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION -Iinclude -Ilib -c "{}" -o "$o" || exit 255
  fi' "$build"
# objects of files that no longer exist would link twice
for o in "$build"/obj/*.o; do
  src=$(basename "$o" .o | sed 's|^lib_\([a-z]*\)_|lib/\1/|').c
  [ -f "$src" ] || rm -f "$o"
done

# seeds SEED_DIR PREFIX FILE...: copy real files in as seeds (PREFIX: octal escape
# of a leading mode byte for targets that read one, or "")
seeds() {
  sd_dir=$1 sd_prefix=$2
  shift 2
  mkdir -p "$sd_dir"
  for sd_f in "$@"; do
    [ -f "$sd_f" ] || continue
    sd_name=$(echo "$sd_f" | tr '/' '_')
    if [ -n "$sd_prefix" ]; then
      { printf "$sd_prefix"; cat "$sd_f"; } >"$sd_dir/$sd_name"
    else
      cp "$sd_f" "$sd_dir/$sd_name"
    fi
  done
}

# The seeds and dictionaries of one target.
prepare() {
  p_t=$1 s="$build/seeds/$1"
  maxlen=262144
  rm -rf "$s"
  mkdir -p "$s"
  io=tests/fixtures/io
  real=tests/fixtures/shared/checkpoints
  case $p_t in
    pickle) seeds "$s" "" $io/*.pkl $io/*legacy*.pth $real/camphr_bert_2019/pytorch_model.bin; dicts="pickle" ;;
    torch) seeds "$s" "" $io/*.pth $io/*.bin $io/*/pytorch_model.bin $real/*/pytorch_model.bin; dicts="pickle zip" ;;
    zip) seeds "$s" "" $io/*.npz $io/selfmm_tiny.pth $io/odd_storage.pth $io/*/pytorch_model.bin \
           $real/camphr_ner_bert/pytorch_model.bin; dicts="zip" ;;
    npz) seeds "$s" "" $io/*.npz; dicts="zip npy" ;;
    dataset) seeds "$s" "" $io/mmsa_*.pkl $io/*.npz; dicts="pickle zip npy" ;;
    safetensors) seeds "$s" "" $(find tests/fixtures -name '*.safetensors'); dicts="safetensors json" ;;
    model) seeds "$s" "" $(find tests/fixtures -name '*.safetensors'); dicts="safetensors json" ;;
    config) seeds "$s" '\000' $(find tests/fixtures -name '*.json')
            seeds "$s/b" '\001' $(find tests/fixtures -name 'config.json')
            mv "$s"/b/* "$s"/ 2>/dev/null || true; rmdir "$s/b"
            dicts="json" ;;
    features) seeds "$s" '\000' $(find tests/fixtures/build -name '*.npy' -o -name '*.csv' | grep -v label.csv)
              seeds "$s/b" '\001' tests/fixtures/build/label.csv
              mv "$s"/b/* "$s"/; rmdir "$s/b"
              dicts="npy csv" ;;
    labels) seeds "$s" "" tests/fixtures/build/label.csv; dicts="csv" ;;
    tokenizer) seeds "$s" '\010' $(find tests/fixtures -name 'vocab.txt'); dicts="tokenizer"
               maxlen=32768 ;; # the first thousands of tokens of the vocabularies: 10x the speed
    *) dicts="" ;;
  esac
  : >"$build/dict/$p_t.dict"
  for d in $dicts; do cat "tests/fuzz/dict/$d.dict" >>"$build/dict/$p_t.dict"; done
}

status=0
summary=""
for src in tests/fuzz/fuzz_*.c; do
  t=$(basename "$src" .c)
  name=${t#fuzz_}
  if [ -n "${FUZZ_TARGETS:-}" ]; then
    case " $FUZZ_TARGETS " in *" $name "*) ;; *) continue ;; esac
  fi
  echo "fuzz: building $t"
  # shellcheck disable=SC2086
  if ! $cc $common -fsanitize=fuzzer,address,undefined -Iinclude -Ilib "$src" "$build"/obj/*.o $libs -o "$build/$t"; then
    echo "fuzz: $t FAILED to build"
    status=1
    continue
  fi
  prepare "$name"
  work="tests/fuzz/corpus-work/$name"
  committed="tests/fuzz/corpus/$name"
  mkdir -p "$work" "$build/crashes/$name"
  [ -d "$committed" ] || committed=""
  dictopt=""
  [ -s "$build/dict/$name.dict" ] && dictopt="-dict=$build/dict/$name.dict"
  if [ -n "${FUZZ_RUNS:-}" ]; then budget="-runs=$FUZZ_RUNS"; what="$FUZZ_RUNS runs"; else budget="-max_total_time=$secs"; what="${secs}s"; fi
  echo "fuzz: running $name for $what (seeds: $(ls "$build/seeds/$name" | wc -l) from fixtures, $( [ -n "$committed" ] && ls "$committed" | wc -l || echo 0) committed, $(ls "$work" | wc -l) kept)"
  # shellcheck disable=SC2086
  if ! nice -n "$niceness" "$build/$t" $budget $dictopt -rss_limit_mb=2048 -malloc_limit_mb=1024 -timeout=10 \
       -max_len="$maxlen" -print_final_stats=1 -artifact_prefix="$build/crashes/$name/" \
       "$work" "$build/seeds/$name" $committed >"$build/$t.log" 2>&1; then
    echo "fuzz: $name FAILED (see $build/$t.log and $build/crashes/$name/)"
    tail -40 "$build/$t.log"
    status=1
  else
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$build/$t.log" | tail -1)
    cov=$(grep -E '^#[0-9]+.*(DONE|pulse|NEW|REDUCE|INITED).*cov:' "$build/$t.log" | tail -1 |
          sed -n 's/.*cov: \([0-9]*\) ft: \([0-9]*\) corp: \([0-9]*\).*/cov \1, ft \2, corpus \3/p')
    line="fuzz: $name: $runs runs, $cov"
    echo "$line"
    summary="$summary$line
"
  fi
done
printf '%s' "$summary"
exit $status
