#!/bin/sh
# test_cli.sh -- data-driven cases for selfmm-cli (libzip regress style): arguments,
# expected exit code, and a string expected on stdout or stderr.
set -u
cli="${SELFMM_BUILD:-build}/selfmm-cli"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

suite="cli"
. tests/cli_cases.sh

case_ help           0 out "usage: selfmm-cli"      -- --help
case_ version        0 out "selfmm-cli 0."          -- --version
case_ no_args        2 err "usage: selfmm-cli"      --
case_ unknown_cmd    2 err "unknown command 'frob'" -- frob
case_ config_help    0 out "--preset NAME"          -- config --help
case_ config_preset  0 out '"dataset":	"mosi"'     -- config --preset mosi
case_ config_set     0 out '"batch_size":	8'      -- config --preset sims --set batch_size=8
case_ config_badkey  2 err 'unknown config key "nope"' -- config --set nope=1
case_ config_badval  2 err 'batch_size'            -- config --set batch_size=zero
case_ config_range   2 err 'out of range'          -- config --set post_text_dropout=1.5
case_ config_badset  2 err 'key=value'             -- config --set batch_size
case_ config_preset2 2 err 'unknown preset'        -- config --preset imdb
case_ config_both    2 err 'exclude each other'    -- config --preset sims --config x.json
case_ config_missing 1 err 'no such file'          -- config --config /nonexistent.json
case_ config_badopt  2 err "unknown or incomplete option" -- config --frobnicate
case_ config_extra   2 err "unexpected argument"   -- config stray
case_ config_bert    0 out '"vocab_size":	21128'  -- config --preset mosi --bert tests/fixtures/shared/bert/bert_cn
case_ config_list    0 out 'mmsa-mosei'            -- config --list-presets
case_ config_out     0 out ''                      -- config --preset mosei --out "$tmp/c.json"
case_ config_reload  0 out '"dataset":	"mosei"'    -- config --config "$tmp/c.json"

# numbers are decimal only; repeated JSON keys take the last value (Python's json)
case_ config_hex      2 err 'config key "batch_size": expected an integer, got "0x10"' -- config --set batch_size=0x10
case_ config_hexfloat 2 err 'got "0x1p-4"'          -- config --set learning_rate_bert=0x1p-4
mkdir -p "$tmp/bert2"
printf '{"vocab_size": 99, "hidden_size": 8, "num_hidden_layers": 2, "num_attention_heads": 2,\n "intermediate_size": 16, "max_position_embeddings": 32, "num_hidden_layers": 1}\n' >"$tmp/bert2/config.json"
case_ config_dupbert  0 out '"num_hidden_layers":	1' -- config --bert "$tmp/bert2"
printf '{"batch_size": 0, "batch_size": 4}\n' >"$tmp/dup.json"
case_ config_dupfile  0 out '"batch_size":	4'      -- config --config "$tmp/dup.json"
printf '{"batch_size": 016}\n' >"$tmp/lead0.json"
case_ config_json_num 1 err 'malformed JSON at line 1, column 16: not a JSON number' -- config --config "$tmp/lead0.json"
printf '{"b\\u001b[31m\\u00e9\\u2028": 1}\n' >"$tmp/esc.json"
case_ config_escaped  1 err 'unknown config key "b\x1B[31mé\xE2\x80\xA8"' -- config --config "$tmp/esc.json"
