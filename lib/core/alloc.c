/* alloc.c -- see alloc.h. */
#include "core/alloc.h"

#include <stdlib.h>
#include <string.h>

int sm_mul_ok(size_t a, size_t b, size_t *out)
{
    if (b != 0 && a > SIZE_MAX / b) return 0;
    *out = a * b;
    return 1;
}

void *sm_alloc(size_t n, size_t size)
{
    size_t bytes;
    if (!sm_mul_ok(n, size, &bytes)) return NULL;
    if (bytes == 0) bytes = 64;
    bytes = (bytes + 63) & ~(size_t)63;
    if (bytes == 0) return NULL; /* rounding overflowed */
    return aligned_alloc(64, bytes);
}

void *sm_calloc(size_t n, size_t size)
{
    size_t bytes;
    if (!sm_mul_ok(n, size, &bytes)) return NULL;
    void *p = sm_alloc(n, size);
    if (p) memset(p, 0, bytes);
    return p;
}

void sm_free(void *p) { free(p); }

char *sm_strdup(const char *s)
{
    if (!s) return NULL;
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}
