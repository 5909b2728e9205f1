/* fixture.c -- see fixture.h. */
#include "support/fixture.h"

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
