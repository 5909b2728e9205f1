/* dtype.c -- see dtype.h. */
#include "io/dtype.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *sm_dtype_name(sm_dtype dt)
{
    static const char *const names[SM_DT_COUNT] = {
        "float32", "float64", "float16", "bfloat16", "int64", "int32", "int16", "int8",
        "uint64", "uint32", "uint16", "uint8", "bool", "unicode", "object",
    };
    return (unsigned)dt < SM_DT_COUNT ? names[dt] : "?";
}

int sm_dtype_size(sm_dtype dt)
{
    static const int sizes[SM_DT_COUNT] = {4, 8, 2, 2, 8, 4, 2, 1, 8, 4, 2, 1, 1, 0, 0};
    return (unsigned)dt < SM_DT_COUNT ? sizes[dt] : 0;
}

int sm_dtype_is_numeric(sm_dtype dt) { return (unsigned)dt < SM_DT_UNICODE; }
int sm_dtype_is_float(sm_dtype dt) { return dt <= SM_DT_BF16; }

float sm_f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
    if (exp == 0x1f) {
        bits = sign | 0x7f800000u | (man << 13); /* inf / NaN (payload kept) */
    } else if (exp != 0) {
        bits = sign | ((exp + 112) << 23) | (man << 13);
    } else if (man == 0) {
        bits = sign;
    } else { /* subnormal: normalise */
        int e = -1;
        do {
            e++;
            man <<= 1;
        } while (!(man & 0x400));
        bits = sign | ((uint32_t)(112 - e) << 23) | ((man & 0x3ff) << 13);
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

float sm_bf16_to_f32(uint16_t h)
{
    uint32_t bits = (uint32_t)h << 16;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

/* Load one element of `size` bytes, swapping when asked, into an unsigned word. */
static inline uint64_t load_bits(const uint8_t *p, int size, int swap)
{
    uint64_t v = 0;
    if (!swap) {
        memcpy(&v, p, (size_t)size); /* little-endian host (checked in tensors.c) */
    } else {
        for (int i = 0; i < size; i++) v = (v << 8) | p[i];
    }
    return v;
}

static inline double load_f64(sm_dtype dt, const uint8_t *p, int swap)
{
    uint64_t b = load_bits(p, sm_dtype_size(dt), swap);
    switch (dt) {
    case SM_DT_F32: { uint32_t u = (uint32_t)b; float f; memcpy(&f, &u, 4); return f; }
    case SM_DT_F64: { double d; memcpy(&d, &b, 8); return d; }
    case SM_DT_F16: return sm_f16_to_f32((uint16_t)b);
    case SM_DT_BF16: return sm_bf16_to_f32((uint16_t)b);
    case SM_DT_I64: return (double)(int64_t)b;
    case SM_DT_I32: return (double)(int32_t)(uint32_t)b;
    case SM_DT_I16: return (double)(int16_t)(uint16_t)b;
    case SM_DT_I8: return (double)(int8_t)(uint8_t)b;
    case SM_DT_U64: return (double)b;
    case SM_DT_U32: case SM_DT_U16: case SM_DT_U8: return (double)b;
    case SM_DT_BOOL: return b ? 1.0 : 0.0;
    default: return 0.0;
    }
}

void sm_dtype_to_f32(sm_dtype dt, int swap, const void *src, size_t n, float *dst)
{
    const uint8_t *p = src;
    if (!swap && dt == SM_DT_F32) {
        memcpy(dst, p, n * 4);
        return;
    }
    if (!swap && dt == SM_DT_F64) {
        for (size_t i = 0; i < n; i++) {
            double d;
            memcpy(&d, p + 8 * i, 8);
            dst[i] = (float)d;
        }
        return;
    }
    int size = sm_dtype_size(dt);
    for (size_t i = 0; i < n; i++) {
        /* Integers wider than 24 bits go through double first: (float)(double)x
         * rounds like (float)x except for rare double-rounding ties, which NumPy's
         * astype(float32) of int64 also has on most platforms. */
        dst[i] = (float)load_f64(dt, p + (size_t)size * i, swap);
    }
}

void sm_dtype_to_f64(sm_dtype dt, int swap, const void *src, size_t n, double *dst)
{
    const uint8_t *p = src;
    int size = sm_dtype_size(dt);
    for (size_t i = 0; i < n; i++) dst[i] = load_f64(dt, p + (size_t)size * i, swap);
}

int sm_dtype_parse_numpy(const char *s, size_t len, sm_dtype *dt, int *itemsize, char *byteorder)
{
    char buf[16];
    if (len == 0 || len >= sizeof buf) return -1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    const char *c = buf;
    *byteorder = '=';
    if (*c == '<' || *c == '>' || *c == '|' || *c == '=') *byteorder = *c++;
    char kind = *c;
    if (kind == '\0') return -1;
    c++;
    if (*c < '0' || *c > '9') return -1; /* a size is required */
    char *end;
    long size = strtol(c, &end, 10);
    if (*end != '\0' || size < 0 || size > (1L << 20)) return -1;
    static const struct { char kind; long size; sm_dtype dt; } table[] = {
        {'f', 4, SM_DT_F32}, {'f', 8, SM_DT_F64}, {'f', 2, SM_DT_F16},
        {'i', 8, SM_DT_I64}, {'i', 4, SM_DT_I32}, {'i', 2, SM_DT_I16}, {'i', 1, SM_DT_I8},
        {'u', 8, SM_DT_U64}, {'u', 4, SM_DT_U32}, {'u', 2, SM_DT_U16}, {'u', 1, SM_DT_U8},
        {'b', 1, SM_DT_BOOL}, {'?', 1, SM_DT_BOOL}, {'O', 8, SM_DT_OBJECT}, {'O', 4, SM_DT_OBJECT},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        if (table[i].kind == kind && table[i].size == size) {
            *dt = table[i].dt;
            *itemsize = (int)size;
            return 0;
        }
    }
    if (kind == 'U') {
        *dt = SM_DT_UNICODE;
        *itemsize = (int)size * 4; /* the type string counts characters */
        return 0;
    }
    return -1;
}

void sm_dtype_numpy_str(sm_dtype dt, int chars, char *out, size_t cap)
{
    static const char *const s[SM_DT_COUNT] = {"<f4", "<f8", "<f2", "?", "<i8", "<i4", "<i2", "|i1",
                                               "<u8", "<u4", "<u2", "|u1", "|b1", "<U", "|O"};
    if (dt == SM_DT_UNICODE) snprintf(out, cap, "<U%d", chars);
    else snprintf(out, cap, "%s", (unsigned)dt < SM_DT_COUNT ? s[dt] : "?");
}
