/* json.c -- see json.h. */
#include "core/json.h"

#include "core/file.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Line and column (1-based) of byte offset `at` in text. */
static void line_col(const char *text, const char *at, int *line, int *col)
{
    *line = 1, *col = 1;
    for (const char *p = text; p < at; p++) {
        if (*p == '\n') (*line)++, *col = 1;
        else (*col)++;
    }
}

static selfmm_status bad_at(const char *text, const char *at, const char *what, const char *why,
                            selfmm_error *err)
{
    int line, col;
    line_col(text, at, &line, &col);
    return sm_error(err, SELFMM_ERR_PARSE, "%s: malformed JSON at line %d, column %d%s%s", what, line,
                    col, why ? ": " : "", why ? why : "");
}

/* Length of the UTF-8 sequence at p (0 when the bytes there are not UTF-8). */
static size_t utf8_len(const unsigned char *p, const unsigned char *end)
{
    unsigned c = p[0];
    size_t n = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
    if (!n || (size_t)(end - p) < n) return 0;
    uint32_t v = n == 1 ? c : c & (0x7Fu >> n);
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80) return 0;
        v = (v << 6) | (p[i] & 0x3F);
    }
    static const uint32_t min[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (v < min[n] || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return 0;
    return n;
}

static int json_space(char c);

static int digit(int c) { return c >= '0' && c <= '9'; }

/* A JSON number at p (JSON's grammar exactly); its end, or NULL. */
static const unsigned char *number_end(const unsigned char *p, const unsigned char *end)
{
    if (p < end && *p == '-') p++;
    if (p == end || !digit(*p)) return NULL;
    if (*p == '0') p++;
    else while (p < end && digit(*p)) p++;
    if (p < end && *p == '.') {
        if (++p == end || !digit(*p)) return NULL;
        while (p < end && digit(*p)) p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        if (++p < end && (*p == '+' || *p == '-')) p++;
        if (p == end || !digit(*p)) return NULL;
        while (p < end && digit(*p)) p++;
    }
    return p;
}

/* The lexical rules cJSON does not check (json.h); the structure is cJSON's. */
static selfmm_status lex_check(const char *text, size_t len, const char *what, selfmm_error *err)
{
    const unsigned char *p = (const unsigned char *)text, *end = p + len;
    while (p < end) {
        const unsigned char c = *p;
        if (c == '"') { /* a string: UTF-8, no raw control characters, escapes skipped */
            for (p++;; p++) {
                if (p == end) return bad_at(text, (const char *)p, what, "unterminated string", err);
                if (*p == '"') break;
                if (*p < 0x20)
                    return bad_at(text, (const char *)p, what, *p ? "control character in a string" :
                                  "NUL byte in a string", err);
                if (*p == '\\') {
                    if (++p == end) return bad_at(text, (const char *)p, what, "unterminated string", err);
                    continue;
                }
                size_t n = utf8_len(p, end);
                if (!n) return bad_at(text, (const char *)p, what, "not UTF-8", err);
                p += n - 1;
            }
            p++;
        } else if (c == '-' || digit(c)) {
            const unsigned char *q = number_end(p, end);
            /* what follows a number is a separator, a bracket or whitespace */
            if (!q || (q < end && (digit(*q) || *q == '.' || *q == 'e' || *q == 'E' || *q == 'x' ||
                                   *q == 'X' || *q == '+' || *q == '-')))
                return bad_at(text, (const char *)p, what,
                              "not a JSON number (decimal, no leading zeros, digits on both sides "
                              "of the point)", err);
            p = q;
        } else if (c < 0x20 && !json_space((char)c)) {
            return bad_at(text, (const char *)p, what, c ? "control character" : "NUL byte", err);
        } else if (c >= 0x80) {
            return bad_at(text, (const char *)p, what, "unexpected byte", err);
        } else {
            p++;
        }
    }
    return SELFMM_OK;
}

typedef struct keyed {
    const char *key;
    size_t at;                 /* position in the object */
    cJSON *item;
} keyed;

static int by_key_then_position(const void *a, const void *b)
{
    const keyed *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : (x->at > y->at) - (x->at < y->at);
}

/* Drop every member of an object whose key appears again later in it, in this
 * value and all nested ones: O(n log n) per object, whatever a hostile file
 * repeats. 0 when out of memory. */
static int dedupe(cJSON *v)
{
    if (cJSON_IsObject(v)) {
        size_t n = 0;
        for (cJSON *c = v->child; c; c = c->next) n++;
        if (n > 1) {
            keyed *k = malloc(n * sizeof *k);
            if (!k) return 0;
            size_t i = 0;
            for (cJSON *c = v->child; c; c = c->next, i++) k[i] = (keyed){c->string ? c->string : "", i, c};
            qsort(k, n, sizeof *k, by_key_then_position);
            for (i = 0; i + 1 < n; i++)
                if (!strcmp(k[i].key, k[i + 1].key)) cJSON_Delete(cJSON_DetachItemViaPointer(v, k[i].item));
            free(k);
        }
    }
    if (cJSON_IsObject(v) || cJSON_IsArray(v))
        for (cJSON *c = v->child; c; c = c->next)
            if (!dedupe(c)) return 0;
    return 1;
}

static int json_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

selfmm_status sm_json_parse_n(const char *text, size_t len, const char *what, cJSON **out,
                              selfmm_error *err)
{
    SM_TRY(lex_check(text, len, what, err));
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (!root) return bad_at(text, end && end >= text && end <= text + len ? end : text, what, NULL, err);
    for (const char *p = end; p < text + len; p++)
        if (!json_space(*p)) {
            cJSON_Delete(root);
            return bad_at(text, p, what, "more after the JSON value", err);
        }
    if (!dedupe(root)) {
        cJSON_Delete(root);
        return sm_error(err, SELFMM_ERR_NOMEM, "%s: out of memory", what);
    }
    *out = root;
    return SELFMM_OK;
}

selfmm_status sm_json_parse(const char *text, const char *what, cJSON **out, selfmm_error *err)
{
    return sm_json_parse_n(text, strlen(text), what, out, err);
}

selfmm_status sm_json_read_file(const char *path, cJSON **out, selfmm_error *err)
{
    char *text;
    size_t size;
    SM_TRY(sm_read_file(path, SM_JSON_MAX_BYTES, &text, &size, err));
    selfmm_status st = sm_json_parse_n(text, size, path, out, err);
    free(text);
    return st;
}

const char *sm_json_type_name(const cJSON *v)
{
    if (cJSON_IsNumber(v)) return "a number";
    if (cJSON_IsString(v)) return "a string";
    if (cJSON_IsBool(v)) return "a boolean";
    if (cJSON_IsNull(v)) return "null";
    if (cJSON_IsArray(v)) return "an array";
    if (cJSON_IsObject(v)) return "an object";
    return "an invalid value";
}
