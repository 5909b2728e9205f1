/* torch_write.c -- a state_dict file as torch.save writes it since torch 1.6:
 * a zip with archive/data.pkl (pickle protocol 2 of an OrderedDict of
 * torch._utils._rebuild_tensor_v2 calls whose storages are persistent ids),
 * archive/byteorder, archive/data/<key> (raw little-endian float32, 64-byte
 * aligned) and archive/version. The archive is always named "archive" (as
 * torch.save names it for a buffer) so that the bytes depend only on the tensors. */
#include "io/torch_write.h"

#include "core/atomic_file.h"
#include "io/zip_write.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct pbuf {
    uint8_t *p;
    size_t len, cap;
    int failed;
} pbuf;

static void put(pbuf *b, const void *data, size_t n)
{
    if (b->failed) return;
    if (n > b->cap - b->len) {
        size_t cap = b->cap ? b->cap : 4096;
        while (n > cap - b->len) cap *= 2;
        uint8_t *q = realloc(b->p, cap);
        if (!q) {
            b->failed = 1;
            return;
        }
        b->p = q, b->cap = cap;
    }
    memcpy(b->p + b->len, data, n);
    b->len += n;
}

static void op(pbuf *b, uint8_t c) { put(b, &c, 1); }
static void text(pbuf *b, const char *s) { put(b, s, strlen(s)); }

/* BINUNICODE */
static void str(pbuf *b, const char *s)
{
    uint32_t n = (uint32_t)strlen(s);
    uint8_t h[5] = {'X', (uint8_t)n, (uint8_t)(n >> 8), (uint8_t)(n >> 16), (uint8_t)(n >> 24)};
    put(b, h, 5);
    put(b, s, n);
}

/* The smallest int opcode, as pickle does: BININT1, BININT2, BININT, LONG1. */
static void integer(pbuf *b, int64_t v)
{
    if (v >= 0 && v < 256) {
        uint8_t h[2] = {'K', (uint8_t)v};
        put(b, h, 2);
    } else if (v >= 0 && v < 65536) {
        uint8_t h[3] = {'M', (uint8_t)v, (uint8_t)(v >> 8)};
        put(b, h, 3);
    } else if (v >= INT32_MIN && v <= INT32_MAX) {
        uint32_t u = (uint32_t)v;
        uint8_t h[5] = {'J', (uint8_t)u, (uint8_t)(u >> 8), (uint8_t)(u >> 16), (uint8_t)(u >> 24)};
        put(b, h, 5);
    } else {
        uint8_t h[10] = {0x8a, 8};
        for (int i = 0; i < 8; i++) h[2 + i] = (uint8_t)((uint64_t)v >> (8 * i));
        put(b, h, 10);
    }
}

static void tuple(pbuf *b, int n, const int64_t *v)
{
    if (n > 3) op(b, '(');
    for (int i = 0; i < n; i++) integer(b, v[i]);
    static const uint8_t small[4] = {')', 0x85, 0x86, 0x87};
    op(b, n <= 3 ? small[n] : 't');
}

static void ordered_dict(pbuf *b)
{
    text(b, "ccollections\nOrderedDict\n");
    op(b, ')');
    op(b, 'R');
}

static selfmm_status make_pickle(const sm_st_out *t, int n, pbuf *b, selfmm_error *err)
{
    op(b, 0x80), op(b, 2);
    ordered_dict(b);
    for (int i = 0; i < n; i++) {
        if (i % 1000 == 0) op(b, '('); /* SETITEMS batches of 1000, as pickle writes them */
        str(b, t[i].name);
        text(b, "ctorch._utils\n_rebuild_tensor_v2\n");
        op(b, '(');
        /* storage: ('storage', torch.FloatStorage, key, 'cpu', numel) */
        char key[24];
        snprintf(key, sizeof key, "%d", i);
        op(b, '(');
        str(b, "storage");
        text(b, "ctorch\nFloatStorage\n");
        str(b, key);
        str(b, "cpu");
        integer(b, t[i].numel);
        op(b, 't');
        op(b, 'Q');
        integer(b, 0);                         /* storage offset */
        int64_t stride[SM_TENSOR_MAX_DIMS];
        int64_t s = 1;
        for (int d = t[i].ndim - 1; d >= 0; d--) stride[d] = s, s *= t[i].shape[d];
        tuple(b, t[i].ndim, t[i].shape);
        tuple(b, t[i].ndim, stride);
        op(b, 0x89);                           /* requires_grad False */
        ordered_dict(b);                       /* backward hooks */
        op(b, 't');
        op(b, 'R');
        if (i % 1000 == 999 || i == n - 1) op(b, 'u');
    }
    op(b, '.');
    if (b->failed) return sm_error(err, SELFMM_ERR_NOMEM, "pickle: out of memory");
    return SELFMM_OK;
}

selfmm_status sm_write_torch_zip(const char *path, const sm_st_out *t, int n, selfmm_error *err)
{
    for (int i = 0; i < n; i++)
        if (t[i].ndim > SM_TENSOR_MAX_DIMS)
            return sm_error(err, SELFMM_ERR_UNSUPPORTED, "%s: tensor \"%s\" has %d dimensions (at most %d)",
                            path, t[i].name, t[i].ndim, SM_TENSOR_MAX_DIMS);
    pbuf pk = {0};
    SM_TRY(make_pickle(t, n, &pk, err));
    sm_atomic_file af;
    selfmm_status st = sm_atomic_open(&af, path, err);
    if (st != SELFMM_OK) {
        free(pk.p);
        return st;
    }
    sm_zip_writer w;
    sm_zipw_init(&w, af.fp, path);
    st = sm_zipw_add(&w, "archive/data.pkl", pk.p, pk.len, err);
    if (st == SELFMM_OK) st = sm_zipw_add(&w, "archive/byteorder", "little", 6, err);
    for (int i = 0; i < n && st == SELFMM_OK; i++) {
        char name[48];
        snprintf(name, sizeof name, "archive/data/%d", i);
        st = sm_zipw_add(&w, name, t[i].data, (size_t)t[i].numel * sizeof(float), err);
    }
    if (st == SELFMM_OK) st = sm_zipw_add(&w, "archive/version", "3\n", 2, err);
    if (st == SELFMM_OK) st = sm_zipw_finish(&w, err);
    if (st == SELFMM_OK) st = sm_atomic_commit(&af, err);
    else sm_atomic_abort(&af);
    sm_zipw_free(&w);
    free(pk.p);
    return st;
}
