/* utf8.h -- strict UTF-8 decoding and encoding.
 *
 * "Strict" means what Python's "utf-8" codec accepts (HuggingFace reads vocab.txt
 * and receives text through it): shortest form only, no surrogates (U+D800..DFFF),
 * nothing above U+10FFFF. Anything else is reported with the byte offset where the
 * bad sequence starts, never decoded into a replacement character. */
#ifndef SM_TEXT_UTF8_H
#define SM_TEXT_UTF8_H

#include "core/error.h"

#include <stddef.h>
#include <stdint.h>

/* Decode the sequence at s[0..n) (n >= 1). Returns its length (1..4) and sets *cp,
 * or returns 0 and sets *why to a short reason ("truncated sequence", ...). */
int sm_utf8_decode_one(const unsigned char *s, size_t n, uint32_t *cp, const char **why);

/* Offset of the first invalid sequence in s[0..n), or n when all of it is valid.
 * *why receives the reason when the result is < n (why may be NULL). */
size_t sm_utf8_validate(const char *s, size_t n, const char **why);

/* Decode all of s[0..n) into cps (cap >= n code points suffices). The caller has
 * validated s; returns the number of code points. */
size_t sm_utf8_decode_valid(const char *s, size_t n, uint32_t *cps);

/* Write the UTF-8 form of a valid code point into out (4 bytes suffice); returns
 * the number of bytes. */
int sm_utf8_encode(uint32_t cp, char *out);

#endif
