/* buffers.c -- see buffers.h. */
#include "nn/buffers.h"

#include "core/alloc.h"

#include <string.h>

static void *get(const sm_buf *b)
{
    void *p;
    memcpy(&p, b->slot, sizeof p);
    return p;
}

static void put(const sm_buf *b, void *p) { memcpy(b->slot, &p, sizeof p); }

/* count = sizes[dim] x width, or -1 on overflow or a bad entry. */
static int64_t count_at(const sm_buf *b, const sm_bufsize *at)
{
    int64_t s = b->dim == SM_BUF_FIXED ? 1 : (b->dim >= 0 && b->dim < SM_BUF_DIMS ? at->n[b->dim] : -1);
    if (s < 0 || b->width < 0) return -1;
    if (b->width != 0 && s > INT64_MAX / b->width) return -1;
    return s * b->width;
}

void sm_bufs_set(sm_bufs *t, const sm_buf *entries, int n)
{
    /* SM_BUFS refuses more than SM_BUF_MAX entries at compile time */
    t->n = n < SM_BUF_MAX ? n : SM_BUF_MAX;
    memcpy(t->e, entries, (size_t)t->n * sizeof *entries);
}

void sm_bufs_free(const sm_bufs *t)
{
    for (int i = 0; i < t->n; i++) {
        sm_free(get(&t->e[i]));
        put(&t->e[i], NULL);
    }
}

selfmm_status sm_bufs_alloc(const sm_bufs *t, const sm_bufsize *at)
{
    for (int i = 0; i < t->n; i++) {
        const sm_buf *b = &t->e[i];
        void *p = get(b);
        if (b->flags & SM_BUF_OFF) {
            sm_free(p);
            put(b, NULL);
            continue;
        }
        if (p) continue;
        int64_t n = count_at(b, at);
        if (n >= 0 && (uint64_t)n <= SIZE_MAX) p = sm_alloc((size_t)n, b->elem);
        if (!p) {
            sm_bufs_free(t); /* all or nothing */
            return SELFMM_ERR_NOMEM;
        }
        if (b->flags & SM_BUF_ZERO) memset(p, 0, (size_t)n * b->elem);
        put(b, p);
    }
    return SELFMM_OK;
}

selfmm_status sm_bufs_grow(const sm_bufs *t, sm_bufsize *cap, const sm_bufsize *need)
{
    int grow = 0;
    for (int k = 0; k < SM_BUF_DIMS; k++) grow |= need->n[k] > cap->n[k];
    if (grow) {
        sm_bufs_free(t); /* before allocating: the peak is the new total */
        for (int k = 0; k < SM_BUF_DIMS; k++) cap->n[k] = need->n[k] > cap->n[k] ? need->n[k] : cap->n[k];
    }
    if (sm_bufs_alloc(t, cap) == SELFMM_OK) return SELFMM_OK;
    memset(cap, 0, sizeof *cap);
    return SELFMM_ERR_NOMEM;
}

int64_t sm_bufs_bytes(const sm_bufs *t, const sm_bufsize *at)
{
    int64_t total = 0;
    for (int i = 0; i < t->n; i++) {
        const sm_buf *b = &t->e[i];
        if (b->flags & SM_BUF_OFF) continue;
        int64_t n = count_at(b, at);
        if (n < 0 || n > (INT64_MAX - total) / (int64_t)b->elem) return -1;
        total += n * (int64_t)b->elem;
    }
    return total;
}
