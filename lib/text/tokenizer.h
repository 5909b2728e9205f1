/* tokenizer.h -- the selfmm_tokenizer handle (BERT's WordPiece tokenizer, as
 * HuggingFace's BertTokenizer) and the stages it is built from:
 *
 *   tokenizer.c  public calls; splits raw text at special tokens; lower-casing
 *   basic.c      BasicTokenizer: clean, CJK spacing, whitespace split, accent
 *                stripping, punctuation split
 *   wordpiece.c  greedy longest-match-first WordPiece with "##" continuations
 *   tokenizer_load.c   vocab.txt / BERT folder / tokenizer_config.json
 *   ../model/tokenizer_model.c  keeping a tokenizer in a model's metadata
 */
#ifndef SM_TEXT_TOKENIZER_H
#define SM_TEXT_TOKENIZER_H

#include "core/error.h"
#include "text/vocab.h"

#include <stddef.h>
#include <stdint.h>

/* The special tokens of BertTokenizer, in HuggingFace's order. Raw text that holds
 * one of them verbatim keeps it as one token. */
enum { SM_TOK_UNK, SM_TOK_SEP, SM_TOK_PAD, SM_TOK_CLS, SM_TOK_MASK, SM_TOK_NSPECIAL };
extern const char *const sm_special_tokens[SM_TOK_NSPECIAL];

/* Resolved settings (booleans). */
typedef struct sm_tok_settings {
    int lower;          /* do_lower_case */
    int strip_accents;  /* NFD + drop Mn (follows lower unless set otherwise) */
    int chinese_chars;  /* tokenize_chinese_chars: spaces around CJK ideographs */
} sm_tok_settings;

/* BertTokenizer's max_input_chars_per_word: longer words become [UNK]. */
#define SM_WORDPIECE_MAX_CHARS 100

struct selfmm_tokenizer {
    selfmm_error err;              /* last error, for selfmm_tokenizer_errmsg */
    sm_vocab vocab;
    sm_tok_settings set;
    int32_t special[SM_TOK_NSPECIAL]; /* ids; -1 when absent (only [MASK] may be) */

    /* scratch, grown as needed */
    uint32_t *text;                /* (text_cap) the decoded text */
    size_t text_cap;
    uint32_t *word;                /* (word_cap) the word being collected */
    size_t word_cap, word_n;
    uint32_t *nfd;                 /* (nfd_cap) a word after NFD */
    size_t nfd_cap;

    /* result of the last tokenize: n tokens */
    int32_t *ids;                  /* (cap) */
    const char **toks;             /* (cap) point into vocab.buf or sm_special_tokens */
    size_t n, cap;
};

/* Build a tokenizer from vocabulary text (vocab.txt content) and settings. what
 * names the vocabulary's source in messages. Checks that [UNK], [SEP], [PAD] and
 * [CLS] are in it. */
selfmm_status sm_tokenizer_create(const char *vocab_text, size_t size, const char *what,
                                  const sm_tok_settings *set, selfmm_tokenizer **out,
                                  selfmm_error *err);

/* Tokenize text[0..len) into t->ids / t->toks / t->n. Errors go to t->err. */
selfmm_status sm_tokenizer_run(selfmm_tokenizer *t, const char *text, size_t len);

/* Stages (basic.c, wordpiece.c). Each appends to the result; only NOMEM fails. */
selfmm_status sm_tok_emit(selfmm_tokenizer *t, int32_t id, const char *tok);
selfmm_status sm_basic_tokenize(selfmm_tokenizer *t, const uint32_t *cps, size_t n);
selfmm_status sm_wordpiece(selfmm_tokenizer *t, const uint32_t *w, size_t n);

/* Grow a scratch array of uint32_t to hold at least need elements. */
selfmm_status sm_tok_reserve(selfmm_tokenizer *t, uint32_t **buf, size_t *cap, size_t need);

#endif
