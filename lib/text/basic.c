/* basic.c -- BasicTokenizer of HuggingFace's tokenization_bert.py, one character
 * at a time, for one piece of text between special tokens:
 *
 *   lower-case (per character, see tokenizer.c) -> _clean_text (drop NUL, U+FFFD
 *   and controls; whitespace becomes ' ') -> _tokenize_chinese_chars (spaces around
 *   CJK ideographs) -> whitespace_tokenize (Python's str.split) -> per word:
 *   _run_strip_accents (NFD, drop Mn) -> _run_split_on_punc -> WordPiece.
 *
 * Every one of these steps maps characters independently or only adds word
 * boundaries, so streaming characters through them gives the words Python gets. */
#include "text/tokenizer.h"

#include "text/unicode.h"

static selfmm_status push(selfmm_tokenizer *t, uint32_t c)
{
    if (t->word_n == t->word_cap) SM_TRY(sm_tok_reserve(t, &t->word, &t->word_cap, t->word_n + 1));
    t->word[t->word_n++] = c;
    return SELFMM_OK;
}

/* _run_split_on_punc: every punctuation character is a word of its own. */
static selfmm_status split_on_punct(selfmm_tokenizer *t, const uint32_t *w, size_t n)
{
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        int punct = sm_uc_is_bert_punct(w[i]);
        /* A separator cannot appear here (NFD never yields one); kept as a boundary
         * because Python re-splits the joined words on whitespace at the end. */
        int space = !punct && sm_uc_is_py_space(w[i]);
        if (!punct && !space) continue;
        SM_TRY(sm_wordpiece(t, w + start, i - start));
        if (punct) SM_TRY(sm_wordpiece(t, w + i, 1));
        start = i + 1;
    }
    return sm_wordpiece(t, w + start, n - start);
}

/* One whitespace-delimited word is complete: strip accents, split punctuation. */
static selfmm_status flush_word(selfmm_tokenizer *t)
{
    size_t n = t->word_n;
    if (n == 0) return SELFMM_OK;
    t->word_n = 0;
    if (!t->set.strip_accents) return split_on_punct(t, t->word, n);
    SM_TRY(sm_tok_reserve(t, &t->nfd, &t->nfd_cap, SM_UC_NFD_CAP(n)));
    long m = sm_uc_nfd(t->word, (long)n, t->nfd, (long)t->nfd_cap);
    if (m < 0) return sm_error(&t->err, SELFMM_ERR_NOMEM, "tokenize: NFD buffer too small");
    size_t k = 0;
    for (long i = 0; i < m; i++)
        if (!sm_uc_is_mn(t->nfd[i])) t->nfd[k++] = t->nfd[i];
    return split_on_punct(t, t->nfd, k);
}

selfmm_status sm_basic_tokenize(selfmm_tokenizer *t, const uint32_t *cps, size_t n)
{
    t->word_n = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t low[2];
        int m = 1;
        low[0] = cps[i];
        if (t->set.lower) m = sm_uc_lower(cps[i], low);
        for (int j = 0; j < m; j++) {
            uint32_t c = low[j];
            if (c == 0 || c == 0xFFFD || sm_uc_is_bert_control(c)) continue;
            if (sm_uc_is_bert_whitespace(c)) c = ' ';
            if (t->set.chinese_chars && sm_uc_is_cjk(c)) {
                SM_TRY(flush_word(t));
                SM_TRY(push(t, c));
                SM_TRY(flush_word(t));
            } else if (sm_uc_is_py_space(c)) {
                SM_TRY(flush_word(t));
            } else {
                SM_TRY(push(t, c));
            }
        }
    }
    return flush_word(t);
}
