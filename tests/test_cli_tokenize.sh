#!/bin/sh
# test_cli_tokenize.sh -- data-driven cases for `selfmm-cli tokenize` (libzip regress
# style): arguments (and stdin), expected exit code, a string expected on stdout or
# stderr. Expected ids: see tests/test_tokenizer.c (HF docs and vocab lines).
set -u
cli="${SELFMM_BUILD:-build}/selfmm-cli"
en=tests/fixtures/shared/bert/bert_en
cn=tests/fixtures/shared/bert/bert_cn
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

suite="cli tokenize"
. tests/cli_cases.sh

case_in help       0 out "--vocab FILE|DIR" "" -- tokenize --help
case_in no_vocab   2 err "--vocab FILE|DIR is required" "" -- tokenize hello
case_in bad_opt    2 err "unknown or incomplete option" "" -- tokenize --vocab $en --frob
case_in bad_len    2 err "--max-len expects" "" -- tokenize --vocab $en --max-len 1 x
case_in bad_len2   2 err "--max-len expects" "" -- tokenize --vocab $en --max-len ten x
case_in missing    1 err "no such file" "" -- tokenize --vocab /nonexistent/vocab.txt x
case_in docs       0 out '"ids": [7592, 1010, 2026, 3899, 2003, 10140]}' "" -- tokenize --vocab $en "Hello, my dog is cute"
case_in tokens     0 out '{"tokens": ["hello", ",", "world", "!"], "ids": [7592, 1010, 2088, 999]}' "" -- tokenize --vocab $en "Hello, world!"
case_in vocab_file 0 out '"ids": [7592, 1010, 2088, 999]' "" -- tokenize --vocab $en/vocab.txt "Hello, world!"
case_in encode     0 out '"ids": [101, 7592, 1010, 2026, 3899, 2003, 10140, 102]' "" -- tokenize --vocab $en --max-len 8 "Hello, my dog is cute"
case_in encode_pad 0 out '"ids": [101, 7592, 102, 0, 0], "mask": [1, 1, 1, 0, 0], "segment": [0, 0, 0, 0, 0]}' "" -- tokenize --vocab $en --max-len 5 Hello
case_in encode_tok 0 out '{"tokens": ["[CLS]", "hello", "[SEP]", "[PAD]"]' "" -- tokenize --vocab $en --max-len 4 Hello
case_in encode_cut 0 out '"ids": [101, 7592, 1010, 102]' "" -- tokenize --vocab $en --max-len 4 "Hello, my dog is cute"
case_in stdin      0 out '{"tokens": ["i", "hate", "this", "."], "ids": [1045, 5223, 2023, 1012]}' 'Hello\nI hate this.\n' -- tokenize --vocab $en
case_in stdin_crlf 0 out '"ids": [1045, 5223, 2023, 1012]}' 'I hate this.\r\n' -- tokenize --vocab $en
case_in empty_line 0 out '{"tokens": [], "ids": []}' '\n' -- tokenize --vocab $en
case_in no_lower   0 out '"ids": [100, 1000, 1060, 1000]' "" -- tokenize --vocab $en --no-lower 'Hello "x"'
case_in escape     0 out '"tokens": ["\""]' "" -- tokenize --vocab $en '"'
case_in accents    0 out '"ids": [7668, 15743]' "" -- tokenize --vocab $en "Café naïve"
case_in keep_acc   0 out '"ids": [100, 15743]' "" -- tokenize --vocab $en --no-strip-accents "Café naive"
case_in chinese    0 out '"tokens": ["我", "爱", "n", "##lp"]' "" -- tokenize --vocab $cn "我爱NLP"
case_in no_cjk     0 out '"ids": [4638, 13839, 16357]' "" -- tokenize --vocab $cn --no-chinese-chars "的人有"
case_in special    0 out '"ids": [101, 7632, 102]' "" -- tokenize --vocab $en "[CLS] hi [SEP]"
# A bad line is reported with its number and byte offset; the others are printed.
case_in bad_utf8   1 err 'line 2: text: invalid UTF-8 at byte offset 3' 'Hello\nabc\200\nI hate this.\n' -- tokenize --vocab $en
case_in bad_utf8_b 1 out '"ids": [1045, 5223, 2023, 1012]' 'Hello\nabc\200\nI hate this.\n' -- tokenize --vocab $en
case_in bad_arg    1 err 'argument 2: text: invalid UTF-8 at byte offset 0: surrogate' "" -- tokenize --vocab $en ok "$(printf '\355\240\200')"
