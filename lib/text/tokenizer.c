/* tokenizer.c -- the selfmm_tokenizer handle and the top of the pipeline
 * (PreTrainedTokenizer.tokenize of transformers 2.10 for BertTokenizer):
 *
 * 1. The text is cut at verbatim special tokens ("[CLS]" ...), which become one
 *    token each; the pieces between them are tokenized on their own.
 * 2. Lower-casing, when on, is Python's str.lower() applied character by character
 *    (the regex pass of PreTrainedTokenizer.tokenize that skips special tokens).
 * 3. The rest is BasicTokenizer (basic.c) and WordPiece (wordpiece.c).
 */
#include "text/tokenizer.h"

#include "core/alloc.h"
#include "text/utf8.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

const char *const sm_special_tokens[SM_TOK_NSPECIAL] = {"[UNK]", "[SEP]", "[PAD]", "[CLS]",
                                                        "[MASK]"};

selfmm_status sm_tok_reserve(selfmm_tokenizer *t, uint32_t **buf, size_t *cap, size_t need)
{
    if (need <= *cap) return SELFMM_OK;
    size_t want = *cap ? *cap : 64, bytes;
    if (need > SIZE_MAX / 2 / sizeof **buf) /* so that doubling cannot overflow */
        return sm_error(&t->err, SELFMM_ERR_NOMEM, "tokenize: %zu code points are too many", need);
    while (want < need) want *= 2;
    if (!sm_mul_ok(want, sizeof **buf, &bytes))
        return sm_error(&t->err, SELFMM_ERR_NOMEM, "tokenize: %zu code points are too many", need);
    uint32_t *grown = realloc(*buf, bytes);
    if (!grown) return sm_error(&t->err, SELFMM_ERR_NOMEM, "tokenize: out of memory (%zu bytes)", bytes);
    *buf = grown;
    *cap = want;
    return SELFMM_OK;
}

/* Double the result arrays (64 to start with). */
static selfmm_status grow_output(selfmm_tokenizer *t, selfmm_error *err)
{
    size_t want = t->cap ? 2 * t->cap : 64;
    if (want > (size_t)INT32_MAX)
        return sm_error(err, SELFMM_ERR_RANGE, "tokenize: more than %d tokens", INT32_MAX);
    int32_t *ids = realloc(t->ids, want * sizeof *ids);
    if (ids) t->ids = ids;
    const char **toks = ids ? realloc(t->toks, want * sizeof *toks) : NULL;
    if (!ids || !toks) return sm_error(err, SELFMM_ERR_NOMEM, "tokenize: out of memory");
    t->toks = toks;
    t->cap = want;
    return SELFMM_OK;
}

selfmm_status sm_tok_emit(selfmm_tokenizer *t, int32_t id, const char *tok)
{
    if (t->n == t->cap) SM_TRY(grow_output(t, &t->err));
    t->ids[t->n] = id;
    t->toks[t->n] = tok;
    t->n++;
    return SELFMM_OK;
}

selfmm_status sm_tokenizer_create(const char *vocab_text, size_t size, const char *what,
                                  const sm_tok_settings *set, selfmm_tokenizer **out,
                                  selfmm_error *err)
{
    selfmm_tokenizer *t = calloc(1, sizeof *t);
    if (!t) return sm_error(err, SELFMM_ERR_NOMEM, "tokenizer: out of memory");
    /* The result arrays always exist, so an empty result has non-NULL pointers. */
    selfmm_status st = grow_output(t, err);
    if (st == SELFMM_OK) st = sm_vocab_parse(&t->vocab, vocab_text, size, what, err);
    if (st != SELFMM_OK) {
        selfmm_tokenizer_free(t);
        return st;
    }
    t->set = *set;
    for (int k = 0; k < SM_TOK_NSPECIAL; k++) {
        const char *name = sm_special_tokens[k];
        t->special[k] = sm_vocab_find(&t->vocab, NULL, name, strlen(name));
        /* [MASK] is only needed for masked-LM training; a text holding it maps to
         * [UNK], as HuggingFace's vocab.get(token, unk_id) does. */
        if (t->special[k] < 0 && k != SM_TOK_MASK) {
            /* Python's "utf-8" codec keeps a byte-order mark in the first token. */
            int bom = !strncmp(t->vocab.buf, "\xEF\xBB\xBF", 3);
            selfmm_tokenizer_free(t);
            return sm_error(err, SELFMM_ERR_MISSING, "%s: the vocabulary has no %s token%s", what, name,
                            bom ? " (the file starts with a UTF-8 byte-order mark, which stays part of "
                                  "the first token)"
                                : "");
        }
    }
    *out = t;
    return SELFMM_OK;
}

/* The special token spelled at cps[i..n), or -1. They all look like "[XYZ]", so two
 * occurrences never overlap and the order of the search does not matter. */
static int special_at(const uint32_t *cps, size_t i, size_t n)
{
    if (cps[i] != '[') return -1;
    for (int k = 0; k < SM_TOK_NSPECIAL; k++) {
        const char *s = sm_special_tokens[k];
        size_t j = 0;
        while (s[j] && i + j < n && cps[i + j] == (unsigned char)s[j]) j++;
        if (!s[j]) return k;
    }
    return -1;
}

selfmm_status sm_tokenizer_run(selfmm_tokenizer *t, const char *text, size_t len)
{
    t->n = 0;
    const char *why = "";
    size_t bad = sm_utf8_validate(text, len, &why);
    if (bad < len)
        return sm_error(&t->err, SELFMM_ERR_PARSE, "text: invalid UTF-8 at byte offset %zu: %s",
                        bad, why);
    SM_TRY(sm_tok_reserve(t, &t->text, &t->text_cap, len ? len : 1));
    size_t n = sm_utf8_decode_valid(text, len, t->text);
    /* Lower-casing never creates or destroys a special token (they are upper-case
     * ASCII in brackets and are skipped by it), so the cut can come first. */
    size_t piece = 0;
    for (size_t i = 0; i < n; i++) {
        int k = special_at(t->text, i, n);
        if (k < 0) continue;
        SM_TRY(sm_basic_tokenize(t, t->text + piece, i - piece));
        int32_t id = t->special[k] >= 0 ? t->special[k] : t->special[SM_TOK_UNK];
        const char *tok = t->special[k] >= 0 ? sm_vocab_token(&t->vocab, id) : sm_special_tokens[k];
        SM_TRY(sm_tok_emit(t, id, tok));
        i += strlen(sm_special_tokens[k]) - 1;
        piece = i + 1;
    }
    return sm_basic_tokenize(t, t->text + piece, n - piece);
}

/* ---- public calls ------------------------------------------------------------ */

SELFMM_API void selfmm_tokenizer_free(selfmm_tokenizer *t)
{
    if (!t) return;
    sm_vocab_free(&t->vocab);
    free(t->text);
    free(t->word);
    free(t->nfd);
    free(t->ids);
    free(t->toks);
    free(t);
}

SELFMM_API const char *selfmm_tokenizer_errmsg(const selfmm_tokenizer *t)
{
    return t ? t->err.message : "NULL tokenizer";
}

SELFMM_API selfmm_status selfmm_tokenizer_get_options(const selfmm_tokenizer *t,
                                                      selfmm_tokenizer_options *opt)
{
    if (!t || !opt) return SELFMM_ERR_INVALID_ARG;
    opt->lowercase = t->set.lower ? SELFMM_SWITCH_ON : SELFMM_SWITCH_OFF;
    opt->strip_accents = t->set.strip_accents ? SELFMM_SWITCH_ON : SELFMM_SWITCH_OFF;
    opt->chinese_chars = t->set.chinese_chars ? SELFMM_SWITCH_ON : SELFMM_SWITCH_OFF;
    return SELFMM_OK;
}

SELFMM_API int selfmm_tokenizer_vocab_size(const selfmm_tokenizer *t)
{
    return t ? t->vocab.n : 0;
}

SELFMM_API int32_t selfmm_tokenizer_token_id(const selfmm_tokenizer *t, const char *token)
{
    if (!t || !token) return -1;
    return sm_vocab_find(&t->vocab, NULL, token, strlen(token));
}

SELFMM_API const char *selfmm_tokenizer_id_token(const selfmm_tokenizer *t, int32_t id)
{
    if (!t || id < 0 || id >= t->vocab.n) return NULL;
    return sm_vocab_token(&t->vocab, id);
}

static selfmm_status check_text(selfmm_tokenizer *t, const char *text, size_t *len)
{
    if (!text) return sm_error(&t->err, SELFMM_ERR_INVALID_ARG, "tokenize: NULL text");
    if (*len == SELFMM_NUL_TERMINATED) *len = strlen(text);
    return SELFMM_OK;
}

SELFMM_API selfmm_status selfmm_tokenizer_tokenize(selfmm_tokenizer *t, const char *text,
                                                   size_t len, selfmm_tokens *out)
{
    if (!t) return SELFMM_ERR_INVALID_ARG;
    if (!out) return sm_error(&t->err, SELFMM_ERR_INVALID_ARG, "tokenize: NULL output");
    SM_TRY(check_text(t, text, &len));
    SM_TRY(sm_tokenizer_run(t, text, len));
    out->n = (int)t->n;
    out->tokens = t->toks;
    out->ids = t->ids;
    return SELFMM_OK;
}

SELFMM_API selfmm_status selfmm_tokenizer_encode(selfmm_tokenizer *t, const char *text,
                                                 size_t len, int max_len, int32_t *ids,
                                                 int32_t *mask, int32_t *segment, int *n_tokens)
{
    if (!t) return SELFMM_ERR_INVALID_ARG;
    if (!ids) return sm_error(&t->err, SELFMM_ERR_INVALID_ARG, "encode: NULL ids");
    if (max_len < 2)
        return sm_error(&t->err, SELFMM_ERR_RANGE,
                        "encode: length %d cannot hold [CLS] and [SEP] (need >= 2)", max_len);
    SM_TRY(check_text(t, text, &len));
    SM_TRY(sm_tokenizer_run(t, text, len));
    size_t keep = t->n < (size_t)max_len - 2 ? t->n : (size_t)max_len - 2;
    size_t used = keep + 2;
    ids[0] = t->special[SM_TOK_CLS];
    if (keep) memcpy(ids + 1, t->ids, keep * sizeof *ids);
    ids[keep + 1] = t->special[SM_TOK_SEP];
    /* Padding is id 0, as the reference's data preparation pads (and [PAD] is 0 in
     * the standard vocabularies). */
    for (size_t i = used; i < (size_t)max_len; i++) ids[i] = 0;
    for (size_t i = 0; i < (size_t)max_len; i++) {
        if (mask) mask[i] = i < used;
        if (segment) segment[i] = 0;
    }
    if (n_tokens) *n_tokens = (int)t->n;
    return SELFMM_OK;
}
