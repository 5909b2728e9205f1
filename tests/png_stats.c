/* png_stats.c -- how much a PNG shows, for tests/test_cli_report.sh (no Python in CI):
 *
 *   png_stats FILE    prints "WIDTH HEIGHT COLOURS INK_PERMILLE"
 *
 * COLOURS counts distinct RGB values; INK_PERMILLE is the share of pixels (per
 * mille) that differ from the most common colour (the page background). A blank
 * page prints 1 colour and 0 ink. Reads 8-bit non-interlaced greyscale, RGB, grey
 * + alpha and RGBA images (what Chromium's screenshots are); alpha is ignored.
 * Exit 1 on anything it cannot read. Built by the test with zlib only. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static int die(const char *what)
{
    fprintf(stderr, "png_stats: %s\n", what);
    return 1;
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int paeth(int a, int b, int c)
{
    int p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c);
    return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

int main(int argc, char **argv)
{
    if (argc != 2) return die("usage: png_stats FILE");
    FILE *fp = fopen(argv[1], "rb");
    if (!fp) return die("cannot open the file");
    fseek(fp, 0, SEEK_END);
    long size = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    if (size < 8) return die("too short");
    unsigned char *buf = malloc((size_t)size);
    if (!buf || fread(buf, 1, (size_t)size, fp) != (size_t)size) return die("read failed");
    fclose(fp);
    if (memcmp(buf, "\x89PNG\r\n\x1a\n", 8)) return die("not a PNG");
    uint32_t w = 0, h = 0;
    int depth = 0, ctype = -1, interlace = 0;
    unsigned char *idat = NULL;
    size_t nidat = 0;
    for (long p = 8; p + 12 <= size;) {
        uint32_t len = be32(buf + p);
        if ((long)len > size - p - 12) return die("truncated chunk");
        const unsigned char *type = buf + p + 4, *data = buf + p + 8;
        if (!memcmp(type, "IHDR", 4) && len >= 13) {
            w = be32(data), h = be32(data + 4), depth = data[8], ctype = data[9], interlace = data[12];
        } else if (!memcmp(type, "IDAT", 4)) {
            unsigned char *g = realloc(idat, nidat + len);
            if (!g) return die("out of memory");
            idat = g;
            memcpy(idat + nidat, data, len);
            nidat += len;
        } else if (!memcmp(type, "IEND", 4)) {
            break;
        }
        p += 12 + (long)len;
    }
    int ch = ctype == 0 ? 1 : ctype == 2 ? 3 : ctype == 4 ? 2 : ctype == 6 ? 4 : 0;
    if (!w || !h || w > 20000 || h > 40000 || depth != 8 || !ch || interlace) return die("unsupported PNG kind");
    size_t stride = (size_t)w * ch, rawlen = (stride + 1) * h;
    unsigned char *raw = malloc(rawlen), *img = malloc(stride * h);
    if (!raw || !img) return die("out of memory");
    uLongf out = (uLongf)rawlen;
    if (uncompress(raw, &out, idat, (uLong)nidat) != Z_OK || out != rawlen) return die("bad image data");
    for (uint32_t y = 0; y < h; y++) {
        const unsigned char *src = raw + y * (stride + 1) + 1;
        unsigned char *dst = img + y * stride, *up = y ? dst - stride : NULL;
        int f = src[-1];
        for (size_t i = 0; i < stride; i++) {
            int a = i >= (size_t)ch ? dst[i - ch] : 0, b = up ? up[i] : 0, c = (up && i >= (size_t)ch) ? up[i - ch] : 0;
            int v = src[i];
            switch (f) {
            case 0: break;
            case 1: v += a; break;
            case 2: v += b; break;
            case 3: v += (a + b) / 2; break;
            case 4: v += paeth(a, b, c); break;
            default: return die("bad filter type");
            }
            dst[i] = (unsigned char)v;
        }
    }
    /* colour counts in an open-addressing table (slots hold rgb + 1; 0 = empty) */
    enum { SLOTS = 1 << 18 };
    uint32_t *key = calloc(SLOTS, sizeof *key);
    size_t *cnt = calloc(SLOTS, sizeof *cnt), colours = 0;
    if (!key || !cnt) return die("out of memory");
    size_t npix = (size_t)w * h;
    for (size_t i = 0; i < npix; i++) {
        const unsigned char *px = img + i * ch;
        uint32_t rgb = ch >= 3 ? (uint32_t)px[0] << 16 | (uint32_t)px[1] << 8 | px[2]
                               : (uint32_t)px[0] * 0x010101u;
        uint32_t slot = (rgb * 2654435761u) >> 14;
        while (key[slot] && key[slot] != rgb + 1) slot = (slot + 1) & (SLOTS - 1);
        if (!key[slot]) {
            if (colours >= SLOTS / 2) continue; /* enough colours: this is no blank page */
            key[slot] = rgb + 1;
            colours++;
        }
        cnt[slot]++;
    }
    size_t bg = 0;
    for (size_t k = 0; k < SLOTS; k++)
        if (cnt[k] > bg) bg = cnt[k];
    printf("%u %u %zu %zu\n", w, h, colours, (size_t)((npix - bg) * 1000 / npix));
    free(key), free(cnt), free(raw), free(img), free(idat), free(buf);
    return 0;
}
