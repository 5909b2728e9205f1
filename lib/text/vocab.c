/* vocab.c -- see vocab.h. */
#include "text/vocab.h"

#include "text/utf8.h"
#include "core/hash.h"

#include <stdlib.h>
#include <string.h>

static uint64_t hash_key(const char *prefix, size_t plen, const char *s, size_t n)
{
    return sm_fnv1a(sm_fnv1a(SM_FNV_OFFSET, prefix, plen), s, n);
}

static int key_equal(const sm_vocab *v, int32_t id, const char *prefix, size_t plen, const char *s,
                     size_t n)
{
    const char *t = v->buf + v->off[id];
    return v->len[id] == plen + n && memcmp(t, prefix, plen) == 0 && memcmp(t + plen, s, n) == 0;
}

int32_t sm_vocab_find(const sm_vocab *v, const char *prefix, const char *s, size_t n)
{
    size_t plen = prefix ? strlen(prefix) : 0;
    if (!prefix) prefix = "";
    uint32_t i = (uint32_t)hash_key(prefix, plen, s, n) & v->mask;
    for (;;) {
        int32_t id = v->slots[i];
        if (id < 0) return -1;
        if (key_equal(v, id, prefix, plen, s, n)) return id;
        i = (i + 1) & v->mask;
    }
}

static void insert(sm_vocab *v, int32_t id)
{
    const char *t = v->buf + v->off[id];
    uint32_t i = (uint32_t)hash_key("", 0, t, v->len[id]) & v->mask;
    for (;;) {
        int32_t cur = v->slots[i];
        if (cur < 0 || key_equal(v, cur, "", 0, t, v->len[id])) {
            v->slots[i] = id; /* a duplicate token: the later line wins, like dict[token] = index */
            return;
        }
        i = (i + 1) & v->mask;
    }
}

static int line_of(const char *text, size_t pos)
{
    int line = 1;
    for (size_t i = 0; i < pos; i++)
        if (text[i] == '\n' || (text[i] == '\r' && !(i + 1 < pos && text[i + 1] == '\n'))) line++;
    return line;
}

/* Lines as Python's universal-newline readlines() sees them. Returns the number
 * of tokens; with v, also records each token's offset and length in it. */
static size_t for_each_line(const char *text, size_t size, sm_vocab *v)
{
    size_t count = 0, start = 0, i = 0;
    while (i < size) {
        char c = text[i];
        if (c != '\n' && c != '\r') {
            i++;
            continue;
        }
        if (v) {
            v->off[count] = (uint32_t)start;
            v->len[count] = (uint32_t)(i - start);
        }
        count++;
        i += (c == '\r' && i + 1 < size && text[i + 1] == '\n') ? 2 : 1;
        start = i;
    }
    if (start < size) {
        if (v) {
            v->off[count] = (uint32_t)start;
            v->len[count] = (uint32_t)(size - start);
        }
        count++;
    }
    return count;
}

selfmm_status sm_vocab_parse(sm_vocab *v, const char *text, size_t size, const char *what,
                             selfmm_error *err)
{
    memset(v, 0, sizeof *v);
    const char *why = "";
    size_t bad = sm_utf8_validate(text, size, &why);
    if (bad < size)
        return sm_error(err, SELFMM_ERR_PARSE, "%s: invalid UTF-8 at byte offset %zu (line %d): %s",
                        what, bad, line_of(text, bad), why);
    const char *nul = memchr(text, '\0', size);
    if (nul)
        return sm_error(err, SELFMM_ERR_FORMAT, "%s: NUL byte at byte offset %zu (line %d)", what,
                        (size_t)(nul - text), line_of(text, (size_t)(nul - text)));
    if (size >= UINT32_MAX)
        return sm_error(err, SELFMM_ERR_RANGE, "%s: %zu bytes, too large for a vocabulary", what, size);
    size_t n = for_each_line(text, size, NULL);
    if (n == 0) return sm_error(err, SELFMM_ERR_FORMAT, "%s: the vocabulary is empty", what);
    if (n > (size_t)INT32_MAX / 2)
        return sm_error(err, SELFMM_ERR_RANGE, "%s: %zu tokens, too many", what, n);
    uint32_t cap = 16;
    while (cap < 2 * n) cap *= 2;
    v->n = (int)n;
    v->buf = malloc(size + 1);
    v->off = malloc(n * sizeof *v->off);
    v->len = malloc(n * sizeof *v->len);
    v->slots = malloc((size_t)cap * sizeof *v->slots);
    if (!v->buf || !v->off || !v->len || !v->slots) {
        sm_vocab_free(v);
        return sm_error(err, SELFMM_ERR_NOMEM, "%s: out of memory for %zu tokens", what, n);
    }
    v->mask = cap - 1;
    for_each_line(text, size, v);
    /* Same offsets in buf; the terminators become NULs (a "\r\n" leaves one spare
     * byte, harmless). */
    memcpy(v->buf, text, size);
    v->buf[size] = '\0';
    for (int i = 0; i < v->n; i++) v->buf[v->off[i] + v->len[i]] = '\0';
    memset(v->slots, 0xff, (size_t)cap * sizeof *v->slots);
    for (int i = 0; i < v->n; i++) insert(v, i);
    return SELFMM_OK;
}

void sm_vocab_free(sm_vocab *v)
{
    if (!v) return;
    free(v->buf);
    free(v->off);
    free(v->len);
    free(v->slots);
    memset(v, 0, sizeof *v);
}

char *sm_vocab_to_text(const sm_vocab *v, size_t *size)
{
    size_t total = 0;
    for (int i = 0; i < v->n; i++) total += v->len[i] + 1;
    char *s = malloc(total + 1), *p = s;
    if (!s) return NULL;
    for (int i = 0; i < v->n; i++) {
        memcpy(p, v->buf + v->off[i], v->len[i]);
        p += v->len[i];
        *p++ = '\n';
    }
    *p = '\0';
    if (size) *size = total;
    return s;
}
