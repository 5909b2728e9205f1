/* tokenizer_demo.c -- selfmm_demo_tokenizer: names for the ids of the embedded
 * demo dataset (lib/train/demo.c: 64 ids; 0 [PAD], 1 [CLS], 2 [SEP], 3-12
 * positive words, 13-22 negative words, the rest neutral), so that a demo model can
 * be given text. One neutral id is named [UNK], which a WordPiece vocabulary needs.
 * tests/test_build.c checks that this matches selfmm_demo_config's vocab_size. */
#include "text/tokenizer.h"

#include <stdio.h>

enum { DEMO_VOCAB = 64, DEMO_UNK = 23 };

SELFMM_API selfmm_status selfmm_demo_tokenizer(selfmm_tokenizer **out, selfmm_error *err)
{
    if (!out) return sm_error(err, SELFMM_ERR_INVALID_ARG, "demo tokenizer: NULL argument");
    char text[DEMO_VOCAB * 8];
    size_t o = (size_t)snprintf(text, sizeof text, "[PAD]\n[CLS]\n[SEP]\n");
    for (int i = 3; i < DEMO_VOCAB; i++) {
        if (i <= 12) o += (size_t)snprintf(text + o, sizeof text - o, "pos%d\n", i - 2);
        else if (i <= 22) o += (size_t)snprintf(text + o, sizeof text - o, "neg%d\n", i - 12);
        else if (i == DEMO_UNK) o += (size_t)snprintf(text + o, sizeof text - o, "[UNK]\n");
        else o += (size_t)snprintf(text + o, sizeof text - o, "w%d\n", i);
    }
    const sm_tok_settings set = {1, 1, 1}; /* BertTokenizer's defaults */
    return sm_tokenizer_create(text, o, "demo vocabulary", &set, out, err);
}
