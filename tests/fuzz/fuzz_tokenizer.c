/* fuzz_tokenizer.c -- libFuzzer target for the BERT tokenizer (lib/text).
 *
 * Input: byte 0 chooses the mode, the rest is the data.
 *   bit 0..2  lower-case, strip accents, CJK spacing
 *   bit 3     the data is a vocab.txt to parse (and, if it loads, to tokenize a
 *             fixed text with); otherwise it is text for a small built-in vocabulary
 *   bit 4..7  encode length L = 2 + 4 * (bits >> 4)
 * Invariants checked: no crash or leak; every id is in range; encode puts [CLS]
 * first and [SEP] right after the kept tokens.
 *
 * Build and run by hand (from the source root; tests/fuzz/run.sh does the same
 * for every target):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -std=c11 -D_GNU_SOURCE \
 *     -fopenmp=libgomp -DSELFMM_BUILDING -Iinclude -Ilib -I/usr/include/cjson \
 *     -I/usr/include/x86_64-linux-gnu/openblas-openmp \
 *     tests/fuzz/fuzz_tokenizer.c $(find lib -name '*.c') \
 *     -L/usr/lib/x86_64-linux-gnu/openblas-openmp \
 *     -Wl,-rpath,/usr/lib/x86_64-linux-gnu/openblas-openmp -lopenblas -ldnnl \
 *     -lcjson -lzip -lutf8proc -lgomp -lm -lpthread -o fuzz_tokenizer
 *   ./fuzz_tokenizer -max_total_time=60 tests/fuzz/corpus/tokenizer
 */
#include "text/tokenizer.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char vocab_text[] =
    "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\na\nb\nab\n##b\n##a\nhello\n##llo\nhe\n,\n.\n!\n"
    "caf\n##e\ncafe\n\xE7\x9A\x84\n\xE4\xBA\xBA\n##\xE4\xBA\xBA\ni\n##\xCC\x87\n\xCE\xBF\n"
    "##\xCF\x83\n\n##\n[\n]\nunk\n";

static void check(int cond)
{
    if (!cond) abort();
}

static void run(selfmm_tokenizer *t, const uint8_t *data, size_t size, int max_len)
{
    selfmm_tokens out;
    if (selfmm_tokenizer_tokenize(t, (const char *)data, size, &out) == SELFMM_OK) {
        for (int i = 0; i < out.n; i++) {
            check(out.ids[i] >= 0 && out.ids[i] < selfmm_tokenizer_vocab_size(t));
            check(out.tokens[i] != NULL);
        }
    }
    int32_t ids[64], mask[64], seg[64];
    int n = -1;
    if (selfmm_tokenizer_encode(t, (const char *)data, size, max_len, ids, mask, seg, &n) == SELFMM_OK) {
        int keep = n < max_len - 2 ? n : max_len - 2;
        check(ids[0] == t->special[SM_TOK_CLS] && ids[keep + 1] == t->special[SM_TOK_SEP]);
        for (int i = 0; i < max_len; i++) check(mask[i] == (i < keep + 2) && seg[i] == 0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    uint8_t mode = data[0];
    sm_tok_settings set = {mode & 1, (mode >> 1) & 1, (mode >> 2) & 1};
    int max_len = 2 + 4 * (mode >> 4);
    selfmm_tokenizer *t = NULL;
    selfmm_error err = {0};
    if (mode & 8) {
        if (sm_tokenizer_create((const char *)data + 1, size - 1, "fuzz vocab", &set, &t, &err) == SELFMM_OK) {
            static const char text[] = "Hello, [CLS] caf\xC3\xA9 \xE7\x9A\x84\xE4\xBA\xBA \xC4\xB0 ab##b [MASK]";
            run(t, (const uint8_t *)text, sizeof text - 1, max_len);
            selfmm_tokenizer_free(t);
        }
        return 0;
    }
    if (sm_tokenizer_create(vocab_text, sizeof vocab_text - 1, "fuzz", &set, &t, &err) != SELFMM_OK) abort();
    run(t, data + 1, size - 1, max_len);
    selfmm_tokenizer_free(t);
    return 0;
}
