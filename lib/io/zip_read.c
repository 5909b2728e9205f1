/* zip_read.c -- see zip_read.h (APPNOTE.TXT sections 4.3 and 4.5). */
#include "io/zip_read.h"

#include "core/quote.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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

sm_zip_entry *sm_zip_find(const sm_zip_dir *dir, const char *name)
{
    sm_zip_entry key = {0};
    key.name = (char *)name;
    return dir->n ? bsearch(&key, dir->e, (size_t)dir->n, sizeof *dir->e, by_name) : NULL;
}

#define BAD(...) sm_error(err, SELFMM_ERR_FORMAT, __VA_ARGS__)
#define MARK32 0xFFFFFFFFu

/* Deflate cannot compress better than about 1032:1, so a member claiming more
 * lies about its size (a zip bomb); small members are exempt (headers). */
#define MAX_RATIO 1100
#define RATIO_MIN_SIZE (1u << 20)

selfmm_status sm_zip_check_sizes(const char *what, const char *member, int method, uint64_t comp_size,
                                 uint64_t size, uint64_t file_size, selfmm_error *err)
{
    const char *sep = what ? ": " : "";
    if (!what) what = "";
    if (method == 0 && comp_size != size)
        return BAD("%s%smember %s is stored, yet declares %llu bytes compressed and %llu "
                   "uncompressed", what, sep, SM_Q(member), (unsigned long long)comp_size,
                   (unsigned long long)size);
    if (comp_size > file_size)
        return BAD("%s%smember %s: %llu compressed bytes, beyond the file's %llu (truncated?)",
                   what, sep, SM_Q(member), (unsigned long long)comp_size,
                   (unsigned long long)file_size);
    if (method == 8 && size > RATIO_MIN_SIZE && size / (comp_size ? comp_size : 1) > MAX_RATIO)
        return BAD("%s%smember %s declares %llu bytes from %llu compressed, a ratio beyond what "
                   "deflate can produce (%d:1): refusing it as a zip bomb", what, sep, SM_Q(member),
                   (unsigned long long)size, (unsigned long long)comp_size, MAX_RATIO);
    return SELFMM_OK;
}

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

/* The ZIP64 extra field (id 1) of an extra block, or NULL; a field running past
 * the block is an error (*bad). */
static const uint8_t *zip64_extra(const uint8_t *x, size_t xlen, size_t *sz, int *bad)
{
    const uint8_t *xend = x + xlen, *found = NULL;
    *bad = 0;
    while (xend - x >= 4) {
        size_t id = u16(x), n = u16(x + 2);
        if ((size_t)(xend - x - 4) < n) {
            *bad = 1;
            return NULL;
        }
        if (id == 1 && !found) found = x + 4, *sz = n;
        x += 4 + n;
    }
    return found;
}

/* The values at their ZIP64 marker, in the field's order: uncompressed size,
 * compressed size, then (central directory only) the local header offset. A local
 * header's field holds both sizes (APPNOTE 4.5.3), so the first is skipped when
 * only the compressed size is marked. 0 when the field lacks one of them. */
static int zip64_values(const uint8_t *x, size_t xlen, int local, uint64_t *size, uint64_t *comp,
                        uint64_t *offset, int *bad)
{
    if (*size != MARK32 && *comp != MARK32 && (local || *offset != MARK32)) return 1;
    size_t sz = 0;
    const uint8_t *q = zip64_extra(x, xlen, &sz, bad);
    if (!q) return 0;
    const uint8_t *qend = q + sz;
    if (*size == MARK32) {
        if (qend - q < 8) return 0;
        *size = u64(q), q += 8;
    } else if (local && *comp == MARK32) {
        q += qend - q >= 8 ? 8 : 0;
    }
    if (*comp == MARK32) {
        if (qend - q < 8) return 0;
        *comp = u64(q), q += 8;
    }
    if (!local && *offset == MARK32) {
        if (qend - q < 8) return 0;
        *offset = u64(q);
    }
    return 1;
}

typedef struct span {
    uint64_t begin, end;
    const char *name;
} span;

static int by_begin(const void *a, const void *b)
{
    const span *x = a, *y = b;
    return x->begin < y->begin ? -1 : x->begin > y->begin;
}

/* One central directory entry at p (46 + nlen + xlen + clen bytes, checked by
 * the caller) into e, with its local header checked against it. */
static selfmm_status read_entry(const uint8_t *buf, size_t len, uint64_t cd_off, const uint8_t *p,
                                const char *what, sm_zip_entry *e, selfmm_error *err)
{
    const unsigned flags = u16(p + 8);
    e->method = u16(p + 10);
    e->crc = u32(p + 16);
    e->comp_size = u32(p + 20);
    e->size = u32(p + 24);
    const size_t nlen = u16(p + 28), xlen = u16(p + 30);
    uint64_t local = u32(p + 42);
    if (memchr(e->name, '\0', nlen)) return BAD("%s: member name with a NUL byte", what);
    const char *q = SM_Q(e->name);
    int bad = 0;
    if (!zip64_values(p + 46 + nlen, xlen, 0, &e->size, &e->comp_size, &local, &bad))
        return BAD("%s: member %s: %s", what, q, bad ? "malformed extra field" :
                   "a size or offset at its ZIP64 marker, but no ZIP64 value for it");
    if (bad) return BAD("%s: member %s: malformed extra field", what, q);
    if (u16(p + 34) != 0)
        return sm_error(err, SELFMM_ERR_UNSUPPORTED, "%s: member %s on another disk: multi-disk zip "
                        "archives are not supported", what, q);
    if (flags & 1)
        return sm_error(err, SELFMM_ERR_UNSUPPORTED, "%s: member %s is encrypted", what, q);
    SM_TRY(sm_zip_check_sizes(what, e->name, e->method, e->comp_size, e->size, len, err));
    /* the local header: the same member, and where its data starts */
    if (local > len || len - local < 30 || memcmp(buf + local, "PK\3\4", 4) != 0)
        return BAD("%s: member %s: no local header at offset %llu", what, q, (unsigned long long)local);
    const uint8_t *h = buf + local;
    const size_t lnlen = u16(h + 26), lxlen = u16(h + 28);
    if (len - local - 30 < lnlen + lxlen)
        return BAD("%s: member %s: local header outside the file (truncated?)", what, q);
    if (lnlen != nlen || memcmp(h + 30, e->name, nlen) != 0)
        return BAD("%s: member %s: its local header names %s (a damaged or spliced archive)", what,
                   q, SM_QN(h + 30, lnlen));
    if (u16(h + 8) != e->method)
        return BAD("%s: member %s: compression method %d in the central directory, %d in its local "
                   "header", what, q, e->method, u16(h + 8));
    uint64_t lsize = u32(h + 22), lcomp = u32(h + 18), unused = 0;
    if (!zip64_values(h + 30 + lnlen, lxlen, 1, &lsize, &lcomp, &unused, &bad) || bad)
        return BAD("%s: member %s: bad ZIP64 extra field in its local header", what, q);
    const uint32_t lcrc = u32(h + 14);
    /* with a data descriptor (flag 3) the local values may be 0, as torch writes them */
    if ((lcrc != e->crc || lcomp != e->comp_size || lsize != e->size) &&
        !((u16(h + 6) & 8) && lcrc == 0 && lcomp == 0 && lsize == 0))
        return BAD("%s: member %s: its local header and the central directory disagree on its "
                   "CRC-32 or sizes", what, q);
    const uint64_t data = local + 30 + lnlen + lxlen;
    if (e->comp_size > len - data)
        return BAD("%s: member %s: data outside the file (truncated?)", what, q);
    if (data + e->comp_size > cd_off)
        return BAD("%s: member %s: data runs into the central directory", what, q);
    e->local_offset = local;
    e->data_offset = data;
    return SELFMM_OK;
}

selfmm_status sm_zip_read_dir(const uint8_t *buf, size_t len, const char *what, sm_zip_dir *dir,
                              selfmm_error *err)
{
    memset(dir, 0, sizeof *dir);
    size_t eocd = 0;
    SM_TRY(find_eocd(buf, len, what, &eocd, err));
    uint64_t count = u16(buf + eocd + 10), cd_size = u32(buf + eocd + 12), cd_off = u32(buf + eocd + 16);
    uint64_t cd_limit = eocd; /* the directory ends before the end records */
    if (u16(buf + eocd + 4) != 0 || u16(buf + eocd + 6) != 0)
        return sm_error(err, SELFMM_ERR_UNSUPPORTED, "%s: multi-disk zip archives are not supported", what);
    if (count == 0xFFFF || cd_size == MARK32 || cd_off == MARK32) {
        /* ZIP64: locator right before the EOCD, pointing at the ZIP64 EOCD record */
        if (eocd < 20 || memcmp(buf + eocd - 20, "PK\6\7", 4) != 0)
            return BAD("%s: ZIP64 archive without its locator", what);
        uint64_t z = u64(buf + eocd - 20 + 8);
        if (z > eocd - 20 || eocd - 20 - z < 56 || memcmp(buf + z, "PK\6\6", 4) != 0)
            return BAD("%s: bad ZIP64 end-of-central-directory record", what);
        count = u64(buf + z + 32);
        cd_size = u64(buf + z + 40);
        cd_off = u64(buf + z + 48);
        cd_limit = z;
    }
    if (cd_off > cd_limit || cd_size > cd_limit - cd_off)
        return BAD("%s: central directory outside the file", what);
    if (count > cd_size / 46)
        return BAD("%s: %llu entries cannot fit in a %llu-byte central directory", what,
                   (unsigned long long)count, (unsigned long long)cd_size);
    dir->e = calloc(count ? (size_t)count : 1, sizeof *dir->e);
    span *spans = calloc(count ? (size_t)count : 1, sizeof *spans);
    if (!dir->e || !spans) {
        free(spans);
        return sm_error(err, SELFMM_ERR_NOMEM, "%s: out of memory", what);
    }
    const uint8_t *p = buf + cd_off, *end = buf + cd_off + cd_size;
    selfmm_status st = SELFMM_OK;
    for (uint64_t i = 0; i < count && st == SELFMM_OK; i++) {
        if (end - p < 46 || memcmp(p, "PK\1\2", 4) != 0) {
            st = BAD("%s: bad central directory entry %llu", what, (unsigned long long)i);
            break;
        }
        size_t nlen = u16(p + 28), xlen = u16(p + 30), clen = u16(p + 32);
        if ((size_t)(end - p) < 46 + nlen + xlen + clen) {
            st = BAD("%s: central directory entry %llu overruns", what, (unsigned long long)i);
            break;
        }
        sm_zip_entry *e = &dir->e[dir->n];
        if (!(e->name = malloc(nlen + 1))) {
            st = sm_error(err, SELFMM_ERR_NOMEM, "%s: out of memory", what);
            break;
        }
        memcpy(e->name, p + 46, nlen);
        e->name[nlen] = '\0';
        dir->n++;
        st = read_entry(buf, len, cd_off, p, what, e, err);
        spans[i] = (span){e->local_offset, e->data_offset + e->comp_size, e->name};
        p += 46 + nlen + xlen + clen;
    }
    /* no byte belongs to two members (a second entry for one local header included) */
    if (st == SELFMM_OK) {
        qsort(spans, (size_t)dir->n, sizeof *spans, by_begin);
        for (int i = 1; i < dir->n && st == SELFMM_OK; i++)
            if (spans[i].begin < spans[i - 1].end)
                st = BAD("%s: members %s and %s overlap", what, SM_Q(spans[i - 1].name),
                         SM_Q(spans[i].name));
    }
    free(spans);
    /* sorted by name for sm_zip_find; a name twice would make lookups ambiguous */
    if (st == SELFMM_OK) {
        qsort(dir->e, (size_t)dir->n, sizeof *dir->e, by_name);
        for (int i = 1; i < dir->n && st == SELFMM_OK; i++)
            if (!strcmp(dir->e[i - 1].name, dir->e[i].name))
                st = BAD("%s: member %s appears twice", what, SM_Q(dir->e[i].name));
    }
    if (st != SELFMM_OK) sm_zip_dir_free(dir);
    return st;
}

/* Members are checked in 8 MiB pieces over the threads (memory bandwidth is what
 * limits it, and one thread does not use all of it); the pieces' CRCs are then
 * combined in order. */
#define PIECE ((uint64_t)8 << 20)

selfmm_status sm_zip_verify_many(const uint8_t *buf, sm_zip_entry *const *e, size_t n,
                                 const char *what, selfmm_error *err)
{
    size_t pieces = 0;
    for (size_t i = 0; i < n; i++) {
        if (e[i]->method != 0)
            return sm_error(err, SELFMM_ERR_UNSUPPORTED, "%s: member %s is compressed (method %d), "
                            "not stored", what, SM_Q(e[i]->name), e[i]->method);
        if (!e[i]->verified) pieces += (size_t)((e[i]->comp_size + PIECE - 1) / PIECE);
    }
    if (!pieces) return SELFMM_OK;
    typedef struct piece { const uint8_t *p; size_t len; uint32_t crc; } piece;
    piece *pc = malloc(pieces * sizeof *pc);
    if (!pc) return sm_error(err, SELFMM_ERR_NOMEM, "%s: out of memory", what);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        for (uint64_t o = 0; !e[i]->verified && o < e[i]->comp_size; o += PIECE, k++)
            pc[k] = (piece){buf + e[i]->data_offset + o,
                            (size_t)(e[i]->comp_size - o < PIECE ? e[i]->comp_size - o : PIECE), 0};
    const long np = (long)pieces;
#pragma omp parallel for schedule(dynamic, 1) if (np > 1)
    for (long j = 0; j < np; j++) pc[j].crc = sm_crc32(0, pc[j].p, pc[j].len);
    selfmm_status st = SELFMM_OK;
    k = 0;
    for (size_t i = 0; i < n && st == SELFMM_OK; i++) {
        if (e[i]->verified) continue;
        uint32_t crc = 0;
        for (uint64_t o = 0; o < e[i]->comp_size; o += PIECE, k++)
            crc = o ? sm_crc32_combine(crc, pc[k].crc, pc[k].len) : pc[k].crc;
#ifndef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION /* fuzzers could not get past it */
        if (crc != e[i]->crc) {
            st = BAD("%s: member %s: CRC-32 0x%08x, the zip directory says 0x%08x: the file is "
                     "damaged", what, SM_Q(e[i]->name), (unsigned)crc, (unsigned)e[i]->crc);
            break;
        }
#endif
        e[i]->verified = 1;
    }
    free(pc);
    return st;
}

selfmm_status sm_zip_verify(const uint8_t *buf, sm_zip_entry *e, const char *what, selfmm_error *err)
{
    return sm_zip_verify_many(buf, &e, 1, what, err);
}
