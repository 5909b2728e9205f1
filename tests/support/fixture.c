/* fixture.c -- see fixture.h. */
#include "support/fixture.h"

#include <zip.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int rd(FILE *fp, void *p, size_t n) { return fread(p, 1, n, fp) == n; }

int fx_load(const char *path, fx_file *f)
{
    memset(f, 0, sizeof *f);
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        printf("# fixture %s: cannot open\n", path);
        return -1;
    }
    char magic[8];
    uint32_t count;
    if (!rd(fp, magic, 8) || memcmp(magic, "SMFX1\0\0\0", 8) != 0 || !rd(fp, &count, 4)) {
        printf("# fixture %s: bad header\n", path);
        fclose(fp);
        return -1;
    }
    f->t = calloc(count ? count : 1, sizeof *f->t);
    f->n = (int)count; /* entries are zeroed, so fx_free is safe at any point */
    for (uint32_t i = 0; i < count; i++) {
        fx_tensor *t = &f->t[i];
        uint16_t nl;
        uint8_t dt, nd;
        if (!rd(fp, &nl, 2)) goto bad;
        t->name = calloc(nl + 1, 1);
        if (!rd(fp, t->name, nl) || !rd(fp, &dt, 1) || !rd(fp, &nd, 1) || nd > 8 || dt > 3) goto bad;
        t->dtype = dt;
        t->ndim = nd;
        t->numel = 1;
        for (int d = 0; d < nd; d++) {
            if (!rd(fp, &t->dims[d], 8) || t->dims[d] < 0) goto bad;
            t->numel *= t->dims[d];
        }
        size_t es = dt == 0 || dt == 3 ? 4 : 8;
        t->data = malloc((size_t)t->numel * es + 1);
        t->f32 = malloc((size_t)t->numel * sizeof(float) + 1);
        t->f64 = malloc((size_t)t->numel * sizeof(double) + 1);
        if (!rd(fp, t->data, (size_t)t->numel * es)) goto bad;
        for (int64_t j = 0; j < t->numel; j++) {
            double v = dt == 0   ? ((float *)t->data)[j]
                       : dt == 1 ? ((double *)t->data)[j]
                       : dt == 2 ? (double)((int64_t *)t->data)[j]
                                 : (double)((int32_t *)t->data)[j];
            t->f64[j] = v;
            t->f32[j] = dt == 0 ? ((float *)t->data)[j] : (float)v;
        }
    }
    fclose(fp);
    return 0;
bad:
    printf("# fixture %s: truncated or malformed\n", path);
    fclose(fp);
    fx_free(f);
    return -1;
}

void fx_free(fx_file *f)
{
    if (!f || !f->t) return;
    for (int i = 0; i < f->n; i++) {
        free(f->t[i].name);
        free(f->t[i].data);
        free(f->t[i].f32);
        free(f->t[i].f64);
    }
    free(f->t);
    memset(f, 0, sizeof *f);
}

const fx_tensor *fx_get(const fx_file *f, const char *name)
{
    for (int i = 0; i < f->n; i++)
        if (strcmp(f->t[i].name, name) == 0) return &f->t[i];
    return NULL;
}

/* ---- .npz ---- */

/* The value text after 'key': in the .npy header dict, or NULL. */
static const char *npy_field(const char *dict, const char *key)
{
    char pat[32];
    snprintf(pat, sizeof pat, "'%s':", key);
    const char *p = strstr(dict, pat);
    if (!p) return NULL;
    p += strlen(pat);
    while (*p == ' ') p++;
    return p;
}

/* One .npy member (bytes b, n) into t; 0 on success. */
static int npy_parse(const uint8_t *b, size_t n, fx_tensor *t)
{
    if (n < 10 || memcmp(b, "\x93NUMPY", 6) != 0) return -1;
    size_t hl, off;
    if (b[6] == 1) hl = (size_t)b[8] | (size_t)b[9] << 8, off = 10;
    else if (n >= 12) hl = (size_t)b[8] | (size_t)b[9] << 8 | (size_t)b[10] << 16 | (size_t)b[11] << 24, off = 12;
    else return -1;
    if (hl > n - off) return -1;
    char *dict = calloc(hl + 1, 1);
    if (!dict) return -1;
    memcpy(dict, b + off, hl);
    const char *descr = npy_field(dict, "descr"), *fo = npy_field(dict, "fortran_order"),
               *shape = npy_field(dict, "shape");
    static const char *const codes[4] = {"'<f4'", "'<f8'", "'<i8'", "'<i4'"};
    int dt = -1;
    for (int k = 0; k < 4 && descr; k++)
        if (!strncmp(descr, codes[k], 5)) dt = k;
    int ok = dt >= 0 && fo && !strncmp(fo, "False", 5) && shape && *shape == '(';
    t->dtype = dt;
    t->ndim = 0;
    t->numel = 1;
    for (const char *p = ok ? shape + 1 : ")"; *p != ')';) {
        char *end;
        long long d = strtoll(p, &end, 10);
        if (end == p || d < 0 || t->ndim >= 8) {
            ok = 0;
            break;
        }
        t->dims[t->ndim++] = d, t->numel *= d;
        p = end;
        while (*p == ',' || *p == ' ') p++;
    }
    free(dict);
    size_t es = dt == 0 || dt == 3 ? 4 : 8;
    if (!ok || (size_t)t->numel * es != n - off - hl) return -1;
    t->data = malloc((size_t)t->numel * es + 1);
    t->f32 = malloc((size_t)t->numel * sizeof(float) + 1);
    t->f64 = malloc((size_t)t->numel * sizeof(double) + 1);
    if (!t->data || !t->f32 || !t->f64) return -1;
    memcpy(t->data, b + off + hl, (size_t)t->numel * es);
    for (int64_t j = 0; j < t->numel; j++) {
        double v = dt == 0   ? ((float *)t->data)[j]
                   : dt == 1 ? ((double *)t->data)[j]
                   : dt == 2 ? (double)((int64_t *)t->data)[j]
                             : (double)((int32_t *)t->data)[j];
        t->f64[j] = v;
        t->f32[j] = dt == 0 ? ((float *)t->data)[j] : (float)v;
    }
    return 0;
}

int fx_load_npz(const char *path, fx_file *f)
{
    memset(f, 0, sizeof *f);
    int zerr = 0;
    zip_t *z = zip_open(path, ZIP_RDONLY, &zerr);
    if (!z) {
        printf("# fixture %s: cannot open as a zip (libzip error %d)\n", path, zerr);
        return -1;
    }
    zip_int64_t count = zip_get_num_entries(z, 0);
    f->t = calloc(count > 0 ? (size_t)count : 1, sizeof *f->t);
    f->n = f->t ? (int)count : 0;
    int rc = f->t ? 0 : -1;
    for (zip_int64_t i = 0; i < count && rc == 0; i++) {
        zip_stat_t st;
        const char *name = zip_get_name(z, (zip_uint64_t)i, 0);
        size_t nl = name ? strlen(name) : 0;
        rc = -1;
        if (nl < 5 || strcmp(name + nl - 4, ".npy") != 0 || zip_stat_index(z, (zip_uint64_t)i, 0, &st) != 0)
            break;
        uint8_t *buf = malloc((size_t)st.size + 1);
        zip_file_t *zf = zip_fopen_index(z, (zip_uint64_t)i, 0);
        if (buf && zf && zip_fread(zf, buf, st.size) == (zip_int64_t)st.size) {
            fx_tensor *t = &f->t[i];
            t->name = calloc(nl - 3, 1);
            if (t->name) memcpy(t->name, name, nl - 4);
            rc = t->name ? npy_parse(buf, (size_t)st.size, t) : -1;
        }
        if (zf) zip_fclose(zf);
        free(buf);
    }
    zip_close(z);
    if (rc != 0) {
        printf("# fixture %s: not an .npz of little-endian f4/f8/i8/i4 arrays\n", path);
        fx_free(f);
    }
    return rc;
}
