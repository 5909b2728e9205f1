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
