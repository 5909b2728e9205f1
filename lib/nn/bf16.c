/* bf16.c -- see bf16.h. */
#include "nn/bf16.h"

#include <cpuid.h>
#include <dnnl.h>
#include <immintrin.h>
#include <omp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- CPU features -------------------------------------------------------------- */
typedef struct cpu_features {
    int amd;                     /* vendor AuthenticAMD */
    int avx512_bf16;             /* CPUID.(EAX=7,ECX=1):EAX bit 5 */
    int amx_bf16, amx_tile;      /* CPUID.(EAX=7,ECX=0):EDX bits 22, 24 */
    int os_avx512;               /* XCR0: SSE, AVX, opmask, ZMM_Hi256, Hi16_ZMM state */
    int os_amx;                  /* XCR0 bits 17, 18: XTILECFG, XTILEDATA */
} cpu_features;

static uint64_t xgetbv0(void)
{
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

static void cpu_probe(cpu_features *c)
{
    memset(c, 0, sizeof *c);
    unsigned a, b, cx, d;
    if (!__get_cpuid(0, &a, &b, &cx, &d)) return;
    c->amd = b == 0x68747541u && d == 0x69746e65u && cx == 0x444d4163u; /* "AuthenticAMD" */
    if (a < 7 || !__get_cpuid(1, &a, &b, &cx, &d)) return;
    const int osxsave = (cx >> 27) & 1;
    __cpuid_count(7, 0, a, b, cx, d);
    const unsigned max_sub = a;
    c->amx_bf16 = (d >> 22) & 1;
    c->amx_tile = (d >> 24) & 1;
    if (max_sub >= 1) {
        __cpuid_count(7, 1, a, b, cx, d);
        c->avx512_bf16 = (a >> 5) & 1;
    }
    if (osxsave) {
        const uint64_t x = xgetbv0();
        c->os_avx512 = (x & 0xE6) == 0xE6;
        c->os_amx = ((x >> 17) & 3) == 3;
    }
}

static const char *isa_name(dnnl_cpu_isa_t isa)
{
    switch (isa) {
    case dnnl_cpu_isa_sse41: return "SSE41";
    case dnnl_cpu_isa_avx: return "AVX";
    case dnnl_cpu_isa_avx2: return "AVX2";
    case dnnl_cpu_isa_avx2_vnni: return "AVX2_VNNI";
    case dnnl_cpu_isa_avx512_mic: return "AVX512_MIC";
    case dnnl_cpu_isa_avx512_mic_4ops: return "AVX512_MIC_4OPS";
    case dnnl_cpu_isa_avx512_core: return "AVX512_CORE";
    case dnnl_cpu_isa_avx512_core_vnni: return "AVX512_CORE_VNNI";
    case dnnl_cpu_isa_avx512_core_bf16: return "AVX512_CORE_BF16";
    case dnnl_cpu_isa_avx512_core_amx: return "AVX512_CORE_AMX";
    default: return "unknown";
    }
}

SELFMM_API const char *selfmm_cpu_isa(void) { return isa_name(dnnl_get_effective_cpu_isa()); }

/* " (capped by ONEDNN_MAX_CPU_ISA=X)" when the user capped oneDNN, else "". */
static void cap_note(char *buf, size_t cap)
{
    const char *var = "ONEDNN_MAX_CPU_ISA", *v = getenv(var);
    if (!v) var = "DNNL_MAX_CPU_ISA", v = getenv(var);
    if (v) snprintf(buf, cap, " (capped by %s=%s)", var, v);
    else buf[0] = '\0';
}

/* The decision of docs/PLATFORM.md §3.3, made once: the CPU and oneDNN do not
 * change while the process runs (oneDNN reads its cap at its first ISA query). */
static selfmm_status check_once(char *msg, size_t cap)
{
    cpu_features c;
    cpu_probe(&c);
    if (!c.avx512_bf16) {
        snprintf(msg, cap, "precision=bf16 needs a CPU with AVX512_BF16, and this one has %s: use precision=fp32",
                 c.amx_bf16 ? "AMX-BF16 but not AVX512_BF16" : "neither AVX512_BF16 nor AMX-BF16");
        return SELFMM_ERR_UNSUPPORTED;
    }
    if (!c.os_avx512) {
        snprintf(msg, cap, "precision=bf16: the CPU has AVX512_BF16 but the operating system has not enabled "
                           "the AVX-512 state (XCR0): use precision=fp32");
        return SELFMM_ERR_UNSUPPORTED;
    }
    /* oneDNN's ISA values are nested bit sets: AVX512_CORE_BF16 is contained in
     * AVX512_CORE_AMX and in nothing below it */
    const dnnl_cpu_isa_t eff = dnnl_get_effective_cpu_isa();
    const unsigned want = (unsigned)dnnl_cpu_isa_avx512_core_bf16;
    char capped[160];
    cap_note(capped, sizeof capped);
    if (((unsigned)eff & want) != want) {
        snprintf(msg, cap, "precision=bf16: oneDNN's effective ISA is %s, which lacks AVX512_BF16%s: %suse "
                           "precision=fp32", isa_name(eff), capped, capped[0] ? "unset the cap or " : "");
        return SELFMM_ERR_UNSUPPORTED;
    }
    if (eff == dnnl_cpu_isa_avx512_core_amx || c.amd) return SELFMM_OK;
    /* AVX512_BF16 without AMX on Intel: its bf16 dot product runs at about 0.65x the
     * fp32 FMA rate, so bf16 GEMMs are slower than fp32 (docs/PLATFORM.md §3.3) */
    const char *why = capped[0]       ? capped
                      : !c.amx_tile   ? " (the CPU has none)"
                      : !c.os_amx     ? " (the operating system has not enabled the AMX tile state)"
                                      : " (oneDNN cannot use it: tile permission refused?)";
    snprintf(msg, cap, "precision=bf16: this Intel CPU has AVX512_BF16 but no usable AMX%s: its bf16 GEMMs "
                       "are slower than fp32; %suse precision=fp32", why, capped[0] ? "unset the cap or " : "");
    return SELFMM_ERR_UNSUPPORTED;
}

static pthread_once_t check_done = PTHREAD_ONCE_INIT;
static selfmm_status check_status;
static char check_msg[320];

static void check_run(void) { check_status = check_once(check_msg, sizeof check_msg); }

selfmm_status sm_bf16_check(selfmm_error *err)
{
    pthread_once(&check_done, check_run);
    if (check_status == SELFMM_OK) return SELFMM_OK;
    return sm_error(err, check_status, "%s", check_msg);
}

SELFMM_API selfmm_status selfmm_precision_check(selfmm_precision precision, selfmm_error *err)
{
    if (precision == SELFMM_PRECISION_FP32) return SELFMM_OK;
    if (precision != SELFMM_PRECISION_BF16)
        return sm_error(err, SELFMM_ERR_INVALID_ARG, "precision %d is neither fp32 nor bf16", (int)precision);
    return sm_bf16_check(err);
}

/* ---- conversions ----------------------------------------------------------------- */
sm_bf16 sm_f2bf_scalar(float f)
{
    union { float f; uint32_t u; } x = {f};
    uint32_t u = x.u;
    if ((u & 0x7F800000u) == 0x7F800000u && (u & 0x007FFFFFu)) return (sm_bf16)((u >> 16) | 0x40); /* quiet NaN */
    if ((u & 0x7F800000u) == 0) u &= 0x80000000u; /* a denormal becomes a signed zero */
    u += 0x7FFFu + ((u >> 16) & 1u);
    return (sm_bf16)(u >> 16);
}

/* compiled for AVX512_BF16 whatever -march says; only called after sm_bf16_check */
#define BF16_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))

BF16_TARGET static void to_bf16(sm_bf16 *dst, const float *src, int64_t n)
{
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m512 lo = _mm512_loadu_ps(src + i), hi = _mm512_loadu_ps(src + i + 16);
        __m512bh r = _mm512_cvtne2ps_pbh(hi, lo);
        _mm512_storeu_si512((void *)(dst + i), (__m512i)r);
    }
    for (; i < n; i += 16) {
        const int64_t r = n - i < 16 ? n - i : 16;
        const __mmask16 k = (__mmask16)((1u << r) - 1u);
        __m512 v = _mm512_maskz_loadu_ps(k, src + i);
        __m256bh h = _mm512_cvtneps_pbh(v);
        _mm256_mask_storeu_epi16((void *)(dst + i), k, (__m256i)h);
    }
}

BF16_TARGET static void to_f32(float *dst, const sm_bf16 *src, int64_t n)
{
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256i h = _mm256_loadu_si256((const void *)(src + i));
        _mm512_storeu_ps(dst + i, _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16)));
    }
    for (; i < n; i++) dst[i] = sm_bf2f(src[i]);
}

void sm_bf16_pack_row(sm_bf16 *dst, const float *src, int64_t n) { to_bf16(dst, src, n); }
void sm_bf16_unpack_row(float *dst, const sm_bf16 *src, int64_t n) { to_f32(dst, src, n); }

#define BLOCK 8192

/* The 16 x 16 block r (16 rows of 16 floats) transposed in place: r[j] becomes
 * column j. Unpacks interleave row pairs within 128-bit lanes, then the 4 x 4
 * lanes are transposed by two rounds of lane shuffles. */
BF16_TARGET static inline void transpose16(__m512 r[16])
{
    __m512 b[16], c[16];
    for (int k = 0; k < 8; k++) {
        b[2 * k] = _mm512_unpacklo_ps(r[2 * k], r[2 * k + 1]);
        b[2 * k + 1] = _mm512_unpackhi_ps(r[2 * k], r[2 * k + 1]);
    }
    /* c[4k + m], lane l: column 4l + m of rows 4k .. 4k + 3 */
    for (int k = 0; k < 4; k++) {
        const __m512d b0 = _mm512_castps_pd(b[4 * k]), b1 = _mm512_castps_pd(b[4 * k + 1]);
        const __m512d b2 = _mm512_castps_pd(b[4 * k + 2]), b3 = _mm512_castps_pd(b[4 * k + 3]);
        c[4 * k] = _mm512_castpd_ps(_mm512_unpacklo_pd(b0, b2));
        c[4 * k + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(b0, b2));
        c[4 * k + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b1, b3));
        c[4 * k + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b1, b3));
    }
    for (int m = 0; m < 4; m++) {
        const __m512 d0 = _mm512_shuffle_f32x4(c[m], c[4 + m], 0x88), d1 = _mm512_shuffle_f32x4(c[m], c[4 + m], 0xdd);
        const __m512 d2 = _mm512_shuffle_f32x4(c[8 + m], c[12 + m], 0x88);
        const __m512 d3 = _mm512_shuffle_f32x4(c[8 + m], c[12 + m], 0xdd);
        r[m] = _mm512_shuffle_f32x4(d0, d2, 0x88);
        r[4 + m] = _mm512_shuffle_f32x4(d1, d3, 0x88);
        r[8 + m] = _mm512_shuffle_f32x4(d0, d2, 0xdd);
        r[12 + m] = _mm512_shuffle_f32x4(d1, d3, 0xdd);
    }
}

/* The block of rows r0 .. r0 + nr - 1 (nr <= 32) and columns c0 .. c0 + nc - 1
 * (nc <= 32) of grad_pack: each row's 32 columns are one 128-byte read, its bf16
 * copy one 64-byte write, and each column's transposed run of rows one 64-byte
 * write, so every cache line written is written whole. */
BF16_TARGET static void grad_pack_block(sm_bf16 *d16, sm_bf16 *dt16, float *dbias, const float *dY, int64_t N,
                                        int64_t OC, int64_t r0, int nr, int64_t c0, int nc)
{
    const __mmask16 k0 = nc >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << nc) - 1u);
    const __mmask16 k1 = nc >= 32 ? (__mmask16)0xFFFF : nc > 16 ? (__mmask16)((1u << (nc - 16)) - 1u) : 0;
    const __mmask32 kc = nc >= 32 ? (__mmask32)0xFFFFFFFFu : (__mmask32)((1u << nc) - 1u);
    __m512 t[4][16]; /* [rows 0-15 | 16-31][cols 0-15 | 16-31] as 2 x 2 blocks: t[2 * rh + ch] */
    for (int i = 0; i < 32; i++) {
        __m512 lo = _mm512_setzero_ps(), hi = _mm512_setzero_ps();
        if (i < nr) {
            const float *row = dY + (r0 + i) * OC + c0;
            lo = _mm512_maskz_loadu_ps(k0, row);
            hi = _mm512_maskz_loadu_ps(k1, row + 16);
            if (dbias) { /* row after row, as sm_linear_backward sums */
                _mm512_mask_storeu_ps(dbias + c0, k0, _mm512_add_ps(_mm512_maskz_loadu_ps(k0, dbias + c0), lo));
                _mm512_mask_storeu_ps(dbias + c0 + 16, k1,
                                      _mm512_add_ps(_mm512_maskz_loadu_ps(k1, dbias + c0 + 16), hi));
            }
            if (d16) _mm512_mask_storeu_epi16((void *)(d16 + (r0 + i) * OC + c0), kc, (__m512i)_mm512_cvtne2ps_pbh(hi, lo));
        }
        t[2 * (i >> 4)][i & 15] = lo;
        t[2 * (i >> 4) + 1][i & 15] = hi;
    }
    if (!dt16) return;
    for (int b = 0; b < 4; b++) transpose16(t[b]);
    const __mmask32 kr = nr >= 32 ? (__mmask32)0xFFFFFFFFu : (__mmask32)((1u << nr) - 1u);
    for (int j = 0; j < nc; j++) {
        const int ch = j >> 4;
        _mm512_mask_storeu_epi16((void *)(dt16 + (c0 + j) * N + r0), kr,
                                 (__m512i)_mm512_cvtne2ps_pbh(t[2 + ch][j & 15], t[ch][j & 15]));
    }
}

void sm_bf16_grad_pack(sm_bf16 *d16, sm_bf16 *dt16, float *dbias, const float *dY, int64_t N, int64_t OC)
{
    /* each thread a range of 32-column blocks, down all rows in order: the rows'
     * order of every column sum is the same whatever the thread count */
    const int64_t nb = (OC + 31) / 32;
#pragma omp parallel if (N * OC > 65536)
    {
        const int64_t T = omp_get_num_threads(), t = omp_get_thread_num();
        const int64_t b0 = nb * t / T, b1 = nb * (t + 1) / T;
        for (int64_t r0 = 0; r0 < N; r0 += 32)
            for (int64_t b = b0; b < b1; b++)
                grad_pack_block(d16, dt16, dbias, dY, N, OC, r0, N - r0 < 32 ? (int)(N - r0) : 32, b * 32,
                                OC - b * 32 < 32 ? (int)(OC - b * 32) : 32);
    }
}

void sm_bf16_pack(sm_bf16 *dst, const float *src, int64_t n)
{
    const int64_t nb = (n + BLOCK - 1) / BLOCK;
#pragma omp parallel for schedule(static) if (n > 65536)
    for (int64_t b = 0; b < nb; b++) {
        const int64_t o = b * BLOCK;
        to_bf16(dst + o, src + o, n - o < BLOCK ? n - o : BLOCK);
    }
}

void sm_bf16_unpack(float *dst, const sm_bf16 *src, int64_t n)
{
    const int64_t nb = (n + BLOCK - 1) / BLOCK;
#pragma omp parallel for schedule(static) if (n > 65536)
    for (int64_t b = 0; b < nb; b++) {
        const int64_t o = b * BLOCK;
        to_f32(dst + o, src + o, n - o < BLOCK ? n - o : BLOCK);
    }
}
