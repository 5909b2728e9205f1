/* zip_read.c -- see zip_read.h (APPNOTE.TXT sections 4.3 and 4.5). */
#include "io/zip_read.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static uint16_t u16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t u32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static uint64_t u64(const uint8_t *p) { return (uint64_t)u32(p) | (uint64_t)u32(p + 4) << 32; }

void sm_zip_dir_free(sm_zip_dir *dir)
{
    if (!dir) return;
    for (int i = 0; i < dir->n; i++) free(dir->e[i].name);
    free(dir->e);
    dir->e = NULL;
    dir->n = 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const sm_zip_entry *)a)->name, ((const sm_zip_entry *)b)->name);
}

const sm_zip_entry *sm_zip_find(const sm_zip_dir *dir, const char *name)
{
    sm_zip_entry key = {0};
    key.name = (char *)name;
    return dir->n ? bsearch(&key, dir->e, (size_t)dir->n, sizeof *dir->e, by_name) : NULL;
}

#define BAD(...) sm_error(err, SELFMM_ERR_FORMAT, __VA_ARGS__)

/* Find the end of central directory record (searching back over the comment). */
static selfmm_status find_eocd(const uint8_t *buf, size_t len, const char *what, size_t *at,
                               selfmm_error *err)
{
    if (len < 22) return BAD("%s: too short for a zip file", what);
    size_t lo = len > 22 + 65535 ? len - 22 - 65535 : 0;
    for (size_t i = len - 22 + 1; i-- > lo;) {
        if (buf[i] == 'P' && !memcmp(buf + i, "PK\5\6", 4) && i + 22 + u16(buf + i + 20) == len) {
            *at = i;
            return SELFMM_OK;
        }
    }
    return BAD("%s: no zip end-of-central-directory record (truncated?)", what);
}

selfmm_status sm_zip_read_dir(const uint8_t *buf, size_t len, const char *what, sm_zip_dir *dir,
                              selfmm_error *err)
{
    memset(dir, 0, sizeof *dir);
    size_t eocd = 0;
    SM_TRY(find_eocd(buf, len, what, &eocd, err));
    uint64_t count = u16(buf + eocd + 10), cd_size = u32(buf + eocd + 12), cd_off = u32(buf + eocd + 16);
    if (u16(buf + eocd + 4) != 0 || u16(buf + eocd + 6) != 0)
        return sm_error(err, SELFMM_ERR_UNSUPPORTED, "%s: multi-disk zip archives are not supported", what);
    if (count == 0xFFFF || cd_size == 0xFFFFFFFF || cd_off == 0xFFFFFFFF) {
        /* ZIP64: locator right before the EOCD, pointing at the ZIP64 EOCD record */
        if (eocd < 20 || memcmp(buf + eocd - 20, "PK\6\7", 4) != 0)
            return BAD("%s: ZIP64 archive without its locator", what);
        uint64_t z = u64(buf + eocd - 20 + 8);
        if (z > len || len - z < 56 || memcmp(buf + z, "PK\6\6", 4) != 0)
            return BAD("%s: bad ZIP64 end-of-central-directory record", what);
        count = u64(buf + z + 32);
        cd_size = u64(buf + z + 40);
        cd_off = u64(buf + z + 48);
    }
    if (cd_off > len || cd_size > len - cd_off)
        return BAD("%s: central directory outside the file", what);
    if (count > cd_size / 46)
        return BAD("%s: %llu entries cannot fit in a %llu-byte central directory", what,
                   (unsigned long long)count, (unsigned long long)cd_size);
    dir->e = calloc(count ? (size_t)count : 1, sizeof *dir->e);
    if (!dir->e) return sm_error(err, SELFMM_ERR_NOMEM, "%s: out of memory", what);
    const uint8_t *p = buf + cd_off, *end = buf + cd_off + cd_size;
    for (uint64_t i = 0; i < count; i++) {
        if (end - p < 46 || memcmp(p, "PK\1\2", 4) != 0)
            return BAD("%s: bad central directory entry %llu", what, (unsigned long long)i);
        sm_zip_entry *e = &dir->e[dir->n];
        e->method = u16(p + 10);
        e->crc = u32(p + 16);
        e->comp_size = u32(p + 20);
        e->size = u32(p + 24);
        size_t nlen = u16(p + 28), xlen = u16(p + 30), clen = u16(p + 32);
        uint64_t local = u32(p + 42);
        if ((size_t)(end - p) < 46 + nlen + xlen + clen)
            return BAD("%s: central directory entry %llu overruns", what, (unsigned long long)i);
        /* ZIP64 extra field: the 0xFFFFFFFF fields, in this order */
        const uint8_t *x = p + 46 + nlen, *xend = x + xlen;
        while (xend - x >= 4) {
            size_t id = u16(x), sz = u16(x + 2);
            if ((size_t)(xend - x - 4) < sz) break;
            if (id == 1) {
                const uint8_t *q = x + 4, *qend = q + sz;
                if (e->size == 0xFFFFFFFF && qend - q >= 8) e->size = u64(q), q += 8;
                if (e->comp_size == 0xFFFFFFFF && qend - q >= 8) e->comp_size = u64(q), q += 8;
                if (local == 0xFFFFFFFF && qend - q >= 8) local = u64(q), q += 8;
            }
            x += 4 + sz;
        }
        e->name = malloc(nlen + 1);
        if (!e->name) return sm_error(err, SELFMM_ERR_NOMEM, "%s: out of memory", what);
        memcpy(e->name, p + 46, nlen);
        e->name[nlen] = '\0';
        dir->n++;
        if (memchr(e->name, '\0', nlen))
            return BAD("%s: member name with a NUL byte", what);
        /* the local header: its own name and extra lengths */
        if (local > len || len - local < 30 || memcmp(buf + local, "PK\3\4", 4) != 0)
            return BAD("%s: member \"%s\": bad local header", what, e->name);
        uint64_t data = local + 30 + u16(buf + local + 26) + u16(buf + local + 28);
        if (data > len || e->comp_size > len - data)
            return BAD("%s: member \"%s\": data outside the file (truncated?)", what, e->name);
        e->data_offset = data;
        p += 46 + nlen + xlen + clen;
    }
    /* sorted by name for sm_zip_find; a name twice would make lookups ambiguous */
    qsort(dir->e, (size_t)dir->n, sizeof *dir->e, by_name);
    for (int i = 1; i < dir->n; i++)
        if (!strcmp(dir->e[i - 1].name, dir->e[i].name))
            return BAD("%s: member \"%s\" appears twice", what, dir->e[i].name);
    return SELFMM_OK;
}

uint32_t sm_crc32(uint32_t crc, const void *data, size_t n)
{
    /* zlib's (slice-by-8): about 10x a byte-wise table loop, 0.2 s for a bert-base .pth */
    return (uint32_t)crc32_z((uLong)crc, data, n);
}
