/* tokenizer_model.c -- a tokenizer kept in a model's metadata strings, so that the
 * native model file carries what turns raw text into its input ids:
 *
 *   tokenizer.type                    "bert-wordpiece" (what the keys below mean)
 *   tokenizer.vocab                   vocab.txt: every token followed by "\n"
 *   tokenizer.do_lower_case           "true" | "false"  (settings in effect, never
 *   tokenizer.strip_accents           "true" | "false"   "auto": the model must not
 *   tokenizer.tokenize_chinese_chars  "true" | "false"   depend on a config file)
 */
#include "text/tokenizer.h"

#include "core/quote.h"
#include "model/model.h"

#include <stdlib.h>
#include <string.h>

#define TOKENIZER_TYPE "bert-wordpiece"

static const char *const bool_keys[3] = {"tokenizer.do_lower_case", "tokenizer.strip_accents",
                                         "tokenizer.tokenize_chinese_chars"};

/* Removing a metadata entry cannot fail. */
static void remove_tokenizer(selfmm_model *m)
{
    sm_model_meta_set(m, "tokenizer.type", NULL);
    sm_model_meta_set(m, "tokenizer.vocab", NULL);
    for (int i = 0; i < 3; i++) sm_model_meta_set(m, bool_keys[i], NULL);
}

SELFMM_API selfmm_status selfmm_model_set_tokenizer(selfmm_model *m, const selfmm_tokenizer *t)
{
    if (!m) return SELFMM_ERR_INVALID_ARG;
    if (!t) {
        remove_tokenizer(m);
        return SELFMM_OK;
    }
    if (t->vocab.n != m->net.cfg.vocab_size)
        return sm_error(&m->err, SELFMM_ERR_SHAPE,
                        "set tokenizer: the vocabulary has %d tokens but the model's vocab_size is %d",
                        t->vocab.n, m->net.cfg.vocab_size);
    char *vocab = sm_vocab_to_text(&t->vocab, NULL);
    if (!vocab) return sm_error(&m->err, SELFMM_ERR_NOMEM, "set tokenizer: out of memory");
    const int vals[3] = {t->set.lower, t->set.strip_accents, t->set.chinese_chars};
    selfmm_status st = sm_model_meta_set(m, "tokenizer.vocab", vocab);
    for (int i = 0; i < 3 && st == SELFMM_OK; i++)
        st = sm_model_meta_set(m, bool_keys[i], vals[i] ? "true" : "false");
    if (st == SELFMM_OK) st = sm_model_meta_set(m, "tokenizer.type", TOKENIZER_TYPE);
    free(vocab);
    if (st != SELFMM_OK) remove_tokenizer(m); /* never half a tokenizer */
    return st;
}

SELFMM_API selfmm_status selfmm_model_get_tokenizer(const selfmm_model *m, selfmm_tokenizer **out,
                                                    selfmm_error *err)
{
    if (!m || !out) return sm_error(err, SELFMM_ERR_INVALID_ARG, "get tokenizer: NULL argument");
    selfmm_status st = SELFMM_OK;
    const char *type = sm_model_meta_get(m, "tokenizer.type");
    const char *vocab = sm_model_meta_get(m, "tokenizer.vocab");
    int vals[3];
    if (!type && !vocab) {
        st = sm_error(err, SELFMM_ERR_MISSING, "the model has no tokenizer (no tokenizer.* metadata)");
    } else if (!type || strcmp(type, TOKENIZER_TYPE) != 0) {
        st = sm_error(err, SELFMM_ERR_FORMAT, "model metadata: tokenizer.type is %s, expected \"%s\"",
                      type ? SM_Q(type) : "missing", TOKENIZER_TYPE);
    } else if (!vocab) {
        st = sm_error(err, SELFMM_ERR_FORMAT, "model metadata: tokenizer.vocab is missing");
    }
    for (int i = 0; i < 3 && st == SELFMM_OK; i++) {
        const char *v = sm_model_meta_get(m, bool_keys[i]);
        if (v && !strcmp(v, "true")) vals[i] = 1;
        else if (v && !strcmp(v, "false")) vals[i] = 0;
        else
            st = sm_error(err, SELFMM_ERR_FORMAT, "model metadata: %s is %s, expected true or false",
                          bool_keys[i], v ? SM_Q(v) : "missing");
    }
    selfmm_tokenizer *t = NULL;
    if (st == SELFMM_OK) {
        sm_tok_settings set = {vals[0], vals[1], vals[2]};
        st = sm_tokenizer_create(vocab, strlen(vocab), "model metadata tokenizer.vocab", &set, &t, err);
    }
    if (st == SELFMM_OK && t->vocab.n != m->net.cfg.vocab_size)
        st = sm_error(err, SELFMM_ERR_FORMAT,
                      "model metadata: tokenizer.vocab has %d tokens but vocab_size is %d", t->vocab.n,
                      m->net.cfg.vocab_size);
    if (st != SELFMM_OK) {
        selfmm_tokenizer_free(t);
        return st;
    }
    *out = t;
    return SELFMM_OK;
}
