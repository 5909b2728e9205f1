#!/bin/sh
# test_cli_info.sh -- data-driven cases for `selfmm-cli info` (libzip regress
# style): arguments, expected exit code, and a string expected on stdout or stderr.
set -u
cli="${SELFMM_BUILD:-build}/selfmm-cli"
fx=tests/fixtures/io
real=tests/fixtures/shared/checkpoints
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

suite="cli info"
. tests/cli_cases.sh

case_ help          0 out "usage: selfmm-cli info"          -- info --help
case_ no_file       2 err "expects a FILE"                  -- info
case_ two_files     2 err "unexpected argument"             -- info a b
case_ bad_option    2 err "unknown or incomplete option"    -- info --frob x
case_ missing       1 err "not found"                       -- info /nonexistent.pkl
case_ not_ours      1 err "not a file libselfmm reads"      -- info "$fx/selfmm_tiny_config.json"
case_ p2_format     0 out "MMSA pickle (protocol 2)"        -- info "$fx/mmsa_p2.pkl"
case_ p4_config     0 out "with a config entry (ignored)"   -- info "$fx/mmsa_p4.pkl"
case_ p5_split      0 out "split test: 4 samples, text length 6, audio 7 x 3, vision 5 x 4" -- info "$fx/mmsa_p5.pkl"
case_ p5_unicode    0 out "raw_text                 <U11"   -- info "$fx/mmsa_p5.pkl"
case_ neg_inf       0 out "2 -inf (set to 0)"               -- info "$fx/mmsa_p4.pkl"
case_ nan_counted   0 out "2 NaN"                           -- info "$fx/mmsa_nan.pkl"
case_ pos_inf       0 out "1 +inf"                          -- info "$fx/mmsa_nan.pkl"
case_ badlen        0 out "2 outside [1, T]; min 0, max 8"  -- info "$fx/mmsa_badlen.pkl"
case_ labels        0 out "; 1 < 0, 2 = 0, 2 > 0"           -- info "$fx/mmsa_p4.pkl"
case_ text_unused   0 out "text (unused)"                   -- info "$fx/mmsa_p4.pkl"
case_ npz           0 out "format   npz"                    -- info "$fx/mmsa_numpy.npz"
case_ json_dataset  0 out '"nan":	2'                      -- info --json "$fx/mmsa_nan.pkl"
case_ json_kind     0 out '"kind":	"dataset"'              -- info --json "$fx/mmsa_p2.pkl"
case_ evil          1 err "refusing global 'os.system'"     -- info "$fx/evil_os_system.pkl"
case_ zip_bomb      1 err "zip bomb"                        -- info "$fx/bomb_declared.npz"
case_ pth           0 out "torch zip (Self-MM state_dict)"  -- info "$fx/selfmm_tiny.pth"
case_ pth_widths    0 out "audio_dim 4"                     -- info "$fx/selfmm_tiny_legacy.pth"
case_ pth_count     0 out "tensors  75, 7179 parameters"    -- info "$fx/selfmm_tiny.pth"
case_ legacy        0 out "torch legacy (BERT weights)"     -- info "$real/camphr_bert_2019/pytorch_model.bin"
case_ safetensors   0 out "safetensors (BERT weights)"      -- info "$real/coldfire_tiny_bert_safetensors/model.safetensors"
case_ tensor_line   0 out "int64     (1, 16)" -- info "$real/camphr_ner_bert/pytorch_model.bin"
case_ json_ckpt     0 out '"num_parameters":	10201'      -- info --json "$real/camphr_ner_bert/pytorch_model.bin"
case_ bf16          0 out "bfloat16"                        -- info "$fx/bert_safetensors/model.safetensors"

# a native model file shows its stored config
"$cli" convert "$fx/selfmm_tiny.pth" "$tmp/m.safetensors" --config "$fx/selfmm_tiny_config.json" >/dev/null 2>&1
case_ native        0 out "safetensors (libselfmm model)"   -- info "$tmp/m.safetensors"
case_ native_config 0 out '"post_video_dim":	9'          -- info "$tmp/m.safetensors"
case_ native_json   0 out '"format_version":	"1"'        -- info --json "$tmp/m.safetensors"
