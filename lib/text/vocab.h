/* vocab.h -- a WordPiece vocabulary: vocab.txt read exactly as HuggingFace's
 * load_vocab reads it, and a hash table from token to id.
 *
 * load_vocab opens the file in Python's text mode, so "\n", "\r\n" and a lone "\r"
 * all end a line (universal newlines), then strips the "\n": no token can hold a
 * line break, while other separators such as U+2028 stay inside tokens. Line i
 * (from 0) is token i; an empty line is the empty token; a final line without a
 * terminator counts when it is not empty. When a token appears twice the later
 * line wins the lookup (a Python dict assignment), though both ids exist. */
#ifndef SM_TEXT_VOCAB_H
#define SM_TEXT_VOCAB_H

#include "core/error.h"

#include <stddef.h>
#include <stdint.h>

typedef struct sm_vocab {
    int n;              /* tokens (lines) = ids 0..n-1 */
    char *buf;          /* the tokens, each NUL-terminated */
    uint32_t *off;      /* (n) start of token i in buf */
    uint32_t *len;      /* (n) its length in bytes */
    int32_t *slots;     /* (cap) open-addressing table of ids, -1 = empty */
    uint32_t mask;      /* cap - 1, cap a power of two >= 2n */
} sm_vocab;

/* Parse vocabulary text[0..size). what names the source in messages (a path).
 * Errors: SELFMM_ERR_PARSE for invalid UTF-8 (byte offset and line),
 * SELFMM_ERR_FORMAT for a NUL byte or no tokens, SELFMM_ERR_NOMEM. */
selfmm_status sm_vocab_parse(sm_vocab *v, const char *text, size_t size, const char *what,
                             selfmm_error *err);
void sm_vocab_free(sm_vocab *v);

/* The id of prefix + s[0..n) (prefix may be NULL), or -1. */
int32_t sm_vocab_find(const sm_vocab *v, const char *prefix, const char *s, size_t n);
/* Token i as a NUL-terminated string (0 <= i < n). */
static inline const char *sm_vocab_token(const sm_vocab *v, int32_t i) { return v->buf + v->off[i]; }

/* The vocabulary as vocab.txt text (each token followed by "\n"), which
 * sm_vocab_parse reads back to the same ids. malloc'd; NULL when out of memory. */
char *sm_vocab_to_text(const sm_vocab *v, size_t *size);

#endif
