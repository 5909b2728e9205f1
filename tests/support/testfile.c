/* testfile.c -- see testfile.h. */
#include "testfile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

uint8_t *tf_read(const char *path, size_t *size)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        printf("# cannot open %s\n", path);
        return NULL;
    }
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    uint8_t *buf = malloc((size_t)(n > 0 ? n : 0) + 1); /* + a NUL, for text files */
    if (!buf || (n > 0 && fread(buf, 1, (size_t)n, fp) != (size_t)n)) {
        printf("# cannot read %s\n", path);
        free(buf);
        fclose(fp);
        return NULL;
    }
    fclose(fp);
    buf[n > 0 ? n : 0] = 0;
    if (size) *size = (size_t)n;
    return buf;
}

int tf_write(const char *path, const void *data, size_t size)
{
    FILE *fp = fopen(path, "wb");
    if (!fp) return -1;
    int ok = fwrite(data, 1, size, fp) == size;
    return (fclose(fp) == 0 && ok) ? 0 : -1;
}

const char *tf_scratch(const char *name)
{
    static char dir[1024];
    const char *b = getenv("SELFMM_BUILD");
    char base[900];
    snprintf(base, sizeof base, "%s/tmp", b && *b ? b : "build");
    mkdir(base, 0777);
    snprintf(dir, sizeof dir, "%s/%s", base, name);
    mkdir(dir, 0777);
    return dir;
}

int tf_same(const char *a, const char *b)
{
    size_t na, nb;
    uint8_t *x = tf_read(a, &na), *y = tf_read(b, &nb);
    int same = x && y && na == nb && memcmp(x, y, na) == 0;
    free(x);
    free(y);
    return same;
}

uint64_t tf_rand(uint64_t *s)
{
    uint64_t x = *s ? *s : 0x9E3779B97F4A7C15ull;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}
