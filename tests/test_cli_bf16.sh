#!/bin/sh
# test_cli_bf16.sh -- --precision bf16 end to end on the demo (docs/MODEL.md §8):
# train records it in config.json and run.json with oneDNN's ISA, the model file
# keeps float32 weights and loads as fp32, and test, predict and bench take
# --precision. Where this CPU refuses bf16 (test_bf16_refusal.sh tests that) the
# cases print a "# skip" line instead.
set -u
cli="${SELFMM_BUILD:-build}/selfmm-cli"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
suite="cli bf16"
. tests/cli_cases.sh

if ! "$cli" bench --precision bf16 --steps 1 --batch 1 --set num_hidden_layers=1 --set hidden_size=32 \
     --set num_attention_heads=2 --set intermediate_size=64 --set vocab_size=100 >"$tmp/out" 2>"$tmp/err"; then
  grep -q "unsupported" "$tmp/err" && echo "# skip: this CPU refuses precision=bf16: $(cat "$tmp/err")" && exit 0
  bad "$suite bench"; cat "$tmp/err"; exit 1
fi
check "$suite bench: precision and isa" 'grep -q "\"precision\": \"bf16\"" "$tmp/out" && grep -q "\"isa\": \"" "$tmp/out"'
check "$suite bench: the bf16 yardstick" 'grep -q "\"bf16_gemm_gflops\": [1-9]" "$tmp/out" && grep -q "\"bf16_ratio\": " "$tmp/out"'

# every bf16 matmul on oneDNN's blocked kernels: a view that slices a wider buffer
# falls to the slow generic gemm:jit (docs/PLATFORM.md §3.3); two layers, so that a
# full layer and the [CLS]-only last one both run
ONEDNN_VERBOSE=1 "$cli" bench --precision bf16 --steps 1 --batch 3 --set num_hidden_layers=2 --set hidden_size=64 \
  --set num_attention_heads=4 --set intermediate_size=128 --set vocab_size=100 >"$tmp/verbose" 2>"$tmp/err"
grep '^onednn_verbose,exec,cpu,matmul,' "$tmp/verbose" | cut -d, -f5 | sort -u >"$tmp/impls"
check "$suite bf16 matmuls ran" '[ -s "$tmp/impls" ]'
check "$suite every matmul on brg kernels" '! grep -qv "^brg:" "$tmp/impls"'

"$cli" train --demo --precision bf16 --max-epochs 2 --out "$tmp/run" --quiet >"$tmp/out" 2>"$tmp/err"
check "$suite train exits 0" '[ $? -eq 0 ]'
check "$suite config.json says bf16" 'grep -q "\"precision\":[[:space:]]*\"bf16\"" "$tmp/run/config.json"'
check "$suite run.json says bf16 and the ISA" 'grep -q "\"precision\":[[:space:]]*\"bf16\"" "$tmp/run/run.json" && grep -q "\"isa\":" "$tmp/run/run.json"'
# the safetensors header (JSON at the start of the file) names each tensor's dtype
dtypes=$(head -c 65536 "$tmp/run/model.safetensors" | grep -a -o '"dtype":"[A-Z0-9]*"' | sort -u)
check "$suite model file is float32" '[ "$dtypes" = "\"dtype\":\"F32\"" ]'

"$cli" test --model "$tmp/run/model.safetensors" --data "$tmp/run/data.npz" --precision bf16 >"$tmp/b16" 2>"$tmp/err"
check "$suite test --precision bf16" '[ $? -eq 0 ] && grep -q "\"Corr\": " "$tmp/b16"'
"$cli" test --model "$tmp/run/model.safetensors" --data "$tmp/run/data.npz" >"$tmp/f32" 2>"$tmp/err"
check "$suite test loads it as fp32: other digits" '[ $? -eq 0 ] && ! cmp -s "$tmp/b16" "$tmp/f32"'
"$cli" predict --model "$tmp/run/model.safetensors" --data "$tmp/run/data.npz" --index 0 --precision bf16 >"$tmp/out" 2>"$tmp/err"
check "$suite predict --precision bf16" '[ $? -eq 0 ] && [ $(wc -l < "$tmp/out") -eq 2 ]'
"$cli" tune --demo --precision bf16 --trials 1 --max-epochs 1 --threads 1 --out "$tmp/tune" --quiet >"$tmp/out" 2>"$tmp/err"
check "$suite tune --precision bf16" '[ $? -eq 0 ] && grep -q "\"precision\":[[:space:]]*\"bf16\"" "$tmp/tune/trial-001/run.json"'
case_ tune_resume_no_precision 2 err "--resume DIR takes the study's settings" -- tune --resume "$tmp/tune" --precision bf16
case_ predict_bad 2 err "--precision expects fp32 or bf16" -- predict --model "$tmp/run/model.safetensors" --data "$tmp/run/data.npz" --precision half
case_ test_bad 2 err "--precision expects fp32 or bf16" -- test --model "$tmp/run/model.safetensors" --data "$tmp/run/data.npz" --precision half
case_ resume_no_precision 2 err "--resume DIR takes the run's settings" -- train --resume "$tmp/run" --precision fp32
