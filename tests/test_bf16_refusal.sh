#!/bin/sh
# test_bf16_refusal.sh -- precision=bf16 is refused, naming the missing CPU feature,
# where it cannot run natively or would be slower than fp32 (docs/PLATFORM.md §3.3),
# before anything is written. A separate process per case: oneDNN reads
# ONEDNN_MAX_CPU_ISA once, at its first ISA query.
set -u
cli="${SELFMM_BUILD:-build}/selfmm-cli"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
suite="bf16 refusal"
. tests/cli_cases.sh

# refused NAME CAP FEATURE ARGS...: under ONEDNN_MAX_CPU_ISA=CAP the command fails
# (exit 1), stderr names FEATURE and the cap, and --out $tmp/run does not exist.
refused() {
  name=$1 cap=$2 feature=$3
  shift 3
  rm -rf "$tmp/run"
  ONEDNN_MAX_CPU_ISA=$cap "$cli" "$@" >"$tmp/out" 2>"$tmp/err"
  rc=$?
  check "$suite $name: exit 1" '[ "$rc" -eq 1 ]'
  check "$suite $name: names $feature" 'grep -q "$feature" "$tmp/err"'
  check "$suite $name: says unsupported" 'grep -q "unsupported" "$tmp/err"'
  check "$suite $name: no run left behind" '[ ! -e "$tmp/run" ]'
}

refused avx512_core AVX512_CORE AVX512_BF16 train --demo --precision bf16 --out "$tmp/run" --quiet
refused set_key AVX512_CORE AVX512_BF16 train --demo --set precision=bf16 --out "$tmp/run" --quiet
refused avx2 AVX2 AVX512_BF16 train --demo --precision bf16 --out "$tmp/run" --quiet
refused bench AVX512_CORE AVX512_BF16 bench --precision bf16 --steps 1 --batch 1
refused tune AVX512_CORE AVX512_BF16 tune --demo --precision bf16 --trials 1 --out "$tmp/run" --quiet
check "$suite cap named" 'grep -q "ONEDNN_MAX_CPU_ISA=AVX512_CORE" "$tmp/err"'

# An Intel CPU with AVX512_BF16, capped below AMX: native bf16, but its GEMMs are
# slower than fp32's, so refused naming AMX. Elsewhere the case cannot be made.
if grep -q GenuineIntel /proc/cpuinfo && grep -qw avx512_bf16 /proc/cpuinfo; then
  refused no_amx AVX512_CORE_BF16 AMX train --demo --precision bf16 --out "$tmp/run" --quiet
  check "$suite no_amx: slower than fp32" 'grep -q "slower than fp32" "$tmp/err"'
else
  echo "# skip: not an Intel CPU with AVX512_BF16 (the AMX rule needs one)"
fi

# fp32 under the same cap is fine, and so is a bad value refused as a usage error
case_ fp32_capped 0 out '"precision": "fp32"' -- bench --precision fp32 --steps 1 --batch 1 --set num_hidden_layers=1 --set hidden_size=32 --set num_attention_heads=2 --set intermediate_size=64 --set vocab_size=100
case_ bad_value 2 err "--precision expects fp32 or bf16" -- train --demo --precision fp16 --out "$tmp/run"
