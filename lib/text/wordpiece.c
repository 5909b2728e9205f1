/* wordpiece.c -- greedy longest-match-first WordPiece (WordpieceTokenizer.tokenize
 * of HuggingFace's tokenization_bert.py) for one word of the basic tokenizer. */
#include "text/tokenizer.h"

#include "text/utf8.h"

selfmm_status sm_wordpiece(selfmm_tokenizer *t, const uint32_t *w, size_t n)
{
    int32_t unk = t->special[SM_TOK_UNK];
    if (n == 0) return SELFMM_OK;
    /* The limit counts characters (code points), not bytes. */
    if (n > SM_WORDPIECE_MAX_CHARS) return sm_tok_emit(t, unk, sm_vocab_token(&t->vocab, unk));

    char bytes[SM_WORDPIECE_MAX_CHARS * 4];
    size_t off[SM_WORDPIECE_MAX_CHARS + 1];
    off[0] = 0;
    for (size_t i = 0; i < n; i++) off[i + 1] = off[i] + (size_t)sm_utf8_encode(w[i], bytes + off[i]);

    /* Pieces are collected first: a word with one unmatched remainder becomes a
     * single [UNK], dropping the pieces already found. */
    int32_t pieces[SM_WORDPIECE_MAX_CHARS];
    size_t np = 0, start = 0;
    while (start < n) {
        int32_t id = -1;
        size_t end = n;
        for (; end > start; end--) {
            id = sm_vocab_find(&t->vocab, start > 0 ? "##" : NULL, bytes + off[start],
                               off[end] - off[start]);
            if (id >= 0) break;
        }
        if (id < 0) return sm_tok_emit(t, unk, sm_vocab_token(&t->vocab, unk));
        pieces[np++] = id;
        start = end;
    }
    for (size_t i = 0; i < np; i++)
        SM_TRY(sm_tok_emit(t, pieces[i], sm_vocab_token(&t->vocab, pieces[i])));
    return SELFMM_OK;
}
