/* unicode.h -- the character classes and mappings of BERT's tokenizer, as
 * HuggingFace's tokenization_bert.py defines them on top of Python's unicodedata,
 * here on top of utf8proc's Unicode tables (no hand-written tables).
 *
 * The Unicode version is utf8proc's (15.0 for Debian 12's 2.8.0); Python's
 * unicodedata has its own (14.0 in Python 3.11). Code points assigned in between are
 * "unassigned" (Cn, hence control, hence dropped) for an older Python and ordinary
 * characters here. */
#ifndef SM_TEXT_UNICODE_H
#define SM_TEXT_UNICODE_H

#include <stdint.h>

/* _is_whitespace: ' ', \t, \n, \r, or category Zs. */
int sm_uc_is_bert_whitespace(uint32_t cp);
/* _is_control: category C* (Cc, Cf, Cs, Co, Cn), except \t, \n, \r. */
int sm_uc_is_bert_control(uint32_t cp);
/* _is_punctuation: ASCII 33-47, 58-64, 91-96, 123-126, or category P*. */
int sm_uc_is_bert_punct(uint32_t cp);
/* _is_chinese_char: the CJK ideograph blocks that get spaces around them. */
int sm_uc_is_cjk(uint32_t cp);
/* What Python's str.split() splits on (str.isspace): bidirectional class WS, B or
 * S, or category Zs. After BERT's cleaning only ' ', U+2028 and U+2029 remain. */
int sm_uc_is_py_space(uint32_t cp);
/* Category Mn (what accent stripping drops after NFD). */
int sm_uc_is_mn(uint32_t cp);

/* Python's str.lower() of one character: the full lower-case mapping (only
 * U+0130 maps to two code points, "i" + U+0307). Writes 1 or 2 code points to out,
 * returns how many. */
int sm_uc_lower(uint32_t cp, uint32_t out[2]);

/* Canonical decomposition (NFD) of s[0..n) into out, canonical ordering included.
 * Returns the number of code points written, or -1 if cap is too small. A
 * character decomposes into at most SM_UC_MAX_DECOMP code points; cap =
 * SM_UC_NFD_CAP(n) always suffices (the room beyond the result is scratch for the
 * canonical ordering of long runs of marks). */
#define SM_UC_MAX_DECOMP 4
#define SM_UC_NFD_CAP(n) (2 * SM_UC_MAX_DECOMP * (n))
long sm_uc_nfd(const uint32_t *s, long n, uint32_t *out, long cap);

#endif
