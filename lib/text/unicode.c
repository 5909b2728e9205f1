/* unicode.c -- see unicode.h. Every property comes from utf8proc. */
#include "text/unicode.h"

#include <string.h>
#include <utf8proc.h>

static utf8proc_category_t category(uint32_t cp)
{
    return utf8proc_category((utf8proc_int32_t)cp);
}

int sm_uc_is_bert_whitespace(uint32_t cp)
{
    if (cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r') return 1;
    return category(cp) == UTF8PROC_CATEGORY_ZS;
}

int sm_uc_is_bert_control(uint32_t cp)
{
    if (cp == '\t' || cp == '\n' || cp == '\r') return 0;
    switch (category(cp)) {
    case UTF8PROC_CATEGORY_CN: /* unassigned: Python's "Cn" starts with C too */
    case UTF8PROC_CATEGORY_CC:
    case UTF8PROC_CATEGORY_CF:
    case UTF8PROC_CATEGORY_CS:
    case UTF8PROC_CATEGORY_CO:
        return 1;
    default:
        return 0;
    }
}

int sm_uc_is_bert_punct(uint32_t cp)
{
    /* All non-letter/number ASCII counts, even $ ^ ` which Unicode calls symbols. */
    if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) ||
        (cp >= 123 && cp <= 126))
        return 1;
    switch (category(cp)) {
    case UTF8PROC_CATEGORY_PC:
    case UTF8PROC_CATEGORY_PD:
    case UTF8PROC_CATEGORY_PS:
    case UTF8PROC_CATEGORY_PE:
    case UTF8PROC_CATEGORY_PI:
    case UTF8PROC_CATEGORY_PF:
    case UTF8PROC_CATEGORY_PO:
        return 1;
    default:
        return 0;
    }
}

int sm_uc_is_cjk(uint32_t cp)
{
    /* The ranges of HuggingFace's _is_chinese_char (a definition, not Unicode data:
     * Hangul, kana and the CJK symbols are deliberately not in it). */
    return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
           (cp >= 0x20000 && cp <= 0x2A6DF) || (cp >= 0x2A700 && cp <= 0x2B73F) ||
           (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B820 && cp <= 0x2CEAF) ||
           (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

int sm_uc_is_py_space(uint32_t cp)
{
    if (category(cp) == UTF8PROC_CATEGORY_ZS) return 1;
    int bidi = utf8proc_get_property((utf8proc_int32_t)cp)->bidi_class;
    return bidi == UTF8PROC_BIDI_CLASS_WS || bidi == UTF8PROC_BIDI_CLASS_B ||
           bidi == UTF8PROC_BIDI_CLASS_S;
}

int sm_uc_is_mn(uint32_t cp)
{
    return category(cp) == UTF8PROC_CATEGORY_MN;
}

int sm_uc_lower(uint32_t cp, uint32_t out[2])
{
    /* SpecialCasing.txt's one unconditional lower-case entry; Python applies it,
     * utf8proc_tolower (the simple mapping) gives plain "i". The conditional entries
     * (Final_Sigma, Lithuanian, Turkish) do not apply to a lone character. */
    if (cp == 0x130) {
        out[0] = 'i';
        out[1] = 0x307;
        return 2;
    }
    out[0] = (uint32_t)utf8proc_tolower((utf8proc_int32_t)cp);
    return 1;
}

static int ccc(uint32_t cp)
{
    return utf8proc_get_property((utf8proc_int32_t)cp)->combining_class;
}

/* Stable sort of a run of non-starters by combining class (canonical ordering).
 * Counting sort over the 256 classes: linear, so a long run of marks stays cheap. */
static void sort_run(uint32_t *s, long n, uint32_t *tmp)
{
    long count[257];
    memset(count, 0, sizeof count);
    for (long i = 0; i < n; i++) count[ccc(s[i]) + 1]++;
    for (int c = 1; c <= 256; c++) count[c] += count[c - 1];
    for (long i = 0; i < n; i++) tmp[count[ccc(s[i])]++] = s[i];
    memcpy(s, tmp, (size_t)n * sizeof *s);
}

long sm_uc_nfd(const uint32_t *s, long n, uint32_t *out, long cap)
{
    long k = 0;
    for (long i = 0; i < n; i++) {
        utf8proc_int32_t buf[SM_UC_MAX_DECOMP * 4];
        int boundclass = 0;
        utf8proc_ssize_t m = utf8proc_decompose_char((utf8proc_int32_t)s[i], buf,
                                                     (utf8proc_ssize_t)(sizeof buf / sizeof buf[0]),
                                                     UTF8PROC_DECOMPOSE, &boundclass);
        if (m < 0 || m > SM_UC_MAX_DECOMP) { /* not reached: canonical decompositions are short */
            buf[0] = (utf8proc_int32_t)s[i];
            m = 1;
        }
        if (k + m > cap) return -1;
        for (utf8proc_ssize_t j = 0; j < m; j++) out[k++] = (uint32_t)buf[j];
    }
    /* Canonical ordering, in place: runs of characters with a non-zero class. The
     * tail of out beyond k serves as scratch when there is room; otherwise sort in
     * small pieces with a stack buffer. */
    uint32_t stack_tmp[64];
    for (long i = 0; i < k;) {
        if (ccc(out[i]) == 0) {
            i++;
            continue;
        }
        long j = i;
        while (j < k && ccc(out[j]) != 0) j++;
        long len = j - i;
        if (len > 1) {
            if (len <= 64) {
                sort_run(out + i, len, stack_tmp);
            } else if (cap - k >= len) {
                sort_run(out + i, len, out + k);
            } else {
                return -1;
            }
        }
        i = j;
    }
    return k;
}
