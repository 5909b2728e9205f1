/* zip_write.c -- see zip_write.h. */
#include "io/zip_write.h"

#include "io/zip_read.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define ALIGN 64
#define LIMIT 0xFFFFFFF0u /* keep every offset and size clear of the ZIP64 markers */

void sm_zipw_init(sm_zip_writer *w, FILE *fp, const char *path)
{
    memset(w, 0, sizeof *w);
    w->fp = fp;
    w->path = path;
}

void sm_zipw_free(sm_zip_writer *w)
{
    for (int i = 0; i < w->n; i++) free(w->e[i].name);
    free(w->e);
    w->e = NULL;
    w->n = w->cap = 0;
}

static void put16(uint8_t *p, uint32_t v) { p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { put16(p, v & 0xFFFF), put16(p + 2, v >> 16); }

static selfmm_status out(sm_zip_writer *w, const void *p, size_t n, selfmm_error *err)
{
    if (n && fwrite(p, 1, n, w->fp) != n)
        return sm_error(err, SELFMM_ERR_IO, "%s: write failed: %s", w->path, strerror(errno));
    w->off += n;
    return SELFMM_OK;
}

selfmm_status sm_zipw_add(sm_zip_writer *w, const char *name, const void *data, size_t size,
                          selfmm_error *err)
{
    size_t nlen = strlen(name);
    if (nlen > 0xFFFF || w->n >= 0xFFFF)
        return sm_error(err, SELFMM_ERR_RANGE, "%s: too many or too long zip member names", w->path);
    uint64_t base = w->off + 30 + nlen + 4;
    size_t pad = (size_t)((ALIGN - base % ALIGN) % ALIGN);
    if (w->off > LIMIT || size > LIMIT || base + pad + size > LIMIT)
        return sm_error(err, SELFMM_ERR_UNSUPPORTED,
                        "%s: checkpoints larger than 4 GiB (ZIP64) are not written", w->path);
    if (w->n == w->cap) {
        int cap = w->cap ? w->cap * 2 : 64;
        sm_zipw_entry *e = realloc(w->e, (size_t)cap * sizeof *e);
        if (!e) return sm_error(err, SELFMM_ERR_NOMEM, "%s: out of memory", w->path);
        w->e = e, w->cap = cap;
    }
    sm_zipw_entry *e = &w->e[w->n];
    e->name = malloc(nlen + 1);
    if (!e->name) return sm_error(err, SELFMM_ERR_NOMEM, "%s: out of memory", w->path);
    memcpy(e->name, name, nlen + 1);
    w->n++;
    e->crc = sm_crc32(0, data, size);
    e->size = size;
    e->local = w->off;
    uint8_t h[30 + 4];
    memset(h, 0, sizeof h);
    put32(h, 0x04034b50);
    put16(h + 4, 20);            /* version needed: 2.0 */
    put16(h + 12, 0x0021);       /* date 1980-01-01, time 00:00 */
    put32(h + 14, e->crc);
    put32(h + 18, (uint32_t)size);
    put32(h + 22, (uint32_t)size);
    put16(h + 26, (uint32_t)nlen);
    put16(h + 28, (uint32_t)(4 + pad));
    SM_TRY(out(w, h, 30, err));
    SM_TRY(out(w, name, nlen, err));
    uint8_t x[4 + ALIGN];
    put16(x, 0x4246);            /* "FB": padding, as torch writes it */
    put16(x + 2, (uint32_t)pad);
    memset(x + 4, 'Z', pad);
    SM_TRY(out(w, x, 4 + pad, err));
    return out(w, data, size, err);
}

selfmm_status sm_zipw_finish(sm_zip_writer *w, selfmm_error *err)
{
    uint64_t cd = w->off;
    for (int i = 0; i < w->n; i++) {
        const sm_zipw_entry *e = &w->e[i];
        size_t nlen = strlen(e->name);
        uint8_t h[46];
        memset(h, 0, sizeof h);
        put32(h, 0x02014b50);
        put16(h + 4, 20);        /* made by: MS-DOS, 2.0 */
        put16(h + 6, 20);
        put16(h + 14, 0x0021);
        put32(h + 16, e->crc);
        put32(h + 20, (uint32_t)e->size);
        put32(h + 24, (uint32_t)e->size);
        put16(h + 28, (uint32_t)nlen);
        put32(h + 42, (uint32_t)e->local);
        SM_TRY(out(w, h, 46, err));
        SM_TRY(out(w, e->name, nlen, err));
    }
    if (w->off > LIMIT)
        return sm_error(err, SELFMM_ERR_UNSUPPORTED, "%s: archive larger than 4 GiB", w->path);
    uint8_t eocd[22];
    memset(eocd, 0, sizeof eocd);
    put32(eocd, 0x06054b50);
    put16(eocd + 8, (uint32_t)w->n);
    put16(eocd + 10, (uint32_t)w->n);
    put32(eocd + 12, (uint32_t)(w->off - cd));
    put32(eocd + 16, (uint32_t)cd);
    return out(w, eocd, sizeof eocd, err);
}
