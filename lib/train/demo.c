/* demo.c -- the embedded demo: a generated SIMS-shaped dataset and a small model.
 *
 * Each sample has three latent sentiments t, a, v in [-1, 1]. The text carries t
 * (how many "positive" and "negative" words it holds), the audio carries a (frames
 * leaning along a fixed direction), the vision carries v; the multimodal label is
 * a weighted sum of the three rounded to SIMS's 0.2 grid, and the human unimodal
 * labels (SIMS's regression_labels_T/A/V) are t, a and v themselves. Because every
 * modality sees only part of the signal, the labels ULGM generates differ by
 * modality, which is what the demo is meant to show.
 *
 * Written on the public API only (selfmm_dataset_create). */
#include "selfmm.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    DEMO_L = 16,              /* text length */
    DEMO_VOCAB = 64,          /* 0 [PAD], 1 [CLS], 2 [SEP], 3-12 positive, 13-22 negative, rest neutral */
    DEMO_TA = 24, DEMO_DA = 8,
    DEMO_TV = 12, DEMO_DV = 10,
};
static const int demo_n[3] = {512, 128, 128};

SELFMM_API void selfmm_demo_config(selfmm_config *cfg)
{
    if (!cfg) return;
    selfmm_config_default(cfg); /* SIMS: the heads, dropouts, H = 1 of the paper's setting */
    cfg->vocab_size = DEMO_VOCAB;
    cfg->hidden_size = 32;
    cfg->num_hidden_layers = 2;
    cfg->num_attention_heads = 2;
    cfg->intermediate_size = 64;
    cfg->max_position_embeddings = 32;
    cfg->audio_dim = DEMO_DA;
    cfg->video_dim = DEMO_DV;
    /* A randomly initialised BERT needs a larger learning rate than a pretrained one. */
    cfg->learning_rate_bert = 1e-3;
    cfg->max_epochs = 40;
}

/* splitmix64: a tiny, well-mixed generator for the demo's data (the library's own
 * Philox generator is internal). */
static uint64_t next_u64(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static double uniform(uint64_t *s) { return (double)(next_u64(s) >> 11) / 9007199254740992.0; }

static double normal(uint64_t *s)
{
    double u1 = uniform(s) + 1e-12, u2 = uniform(s);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

static int irange(uint64_t *s, int lo, int hi) { return lo + (int)(uniform(s) * (hi - lo + 1)); }

typedef struct demo_split {
    int32_t *text;            /* (n, 3, L) */
    float *audio, *vision;    /* (n, T, D) */
    int32_t *alen, *vlen;
    float *label, *lt, *la, *lv;
    char **ids;
} demo_split;

static void free_split(demo_split *d, int n)
{
    free(d->text), free(d->audio), free(d->vision), free(d->alen), free(d->vlen);
    free(d->label), free(d->lt), free(d->la), free(d->lv);
    if (d->ids)
        for (int i = 0; i < n; i++) free(d->ids[i]);
    free(d->ids);
}

static int make_split(demo_split *d, int n, int which, uint64_t *s, const float wa[DEMO_DA],
                      const float wv[DEMO_DV])
{
    memset(d, 0, sizeof *d);
    d->text = calloc((size_t)n * 3 * DEMO_L, sizeof *d->text);
    d->audio = calloc((size_t)n * DEMO_TA * DEMO_DA, sizeof *d->audio);
    d->vision = calloc((size_t)n * DEMO_TV * DEMO_DV, sizeof *d->vision);
    d->alen = calloc((size_t)n, sizeof *d->alen);
    d->vlen = calloc((size_t)n, sizeof *d->vlen);
    d->label = calloc((size_t)n, sizeof(float));
    d->lt = calloc((size_t)n, sizeof(float));
    d->la = calloc((size_t)n, sizeof(float));
    d->lv = calloc((size_t)n, sizeof(float));
    d->ids = calloc((size_t)n, sizeof *d->ids);
    if (!d->text || !d->audio || !d->vision || !d->alen || !d->vlen || !d->label || !d->lt ||
        !d->la || !d->lv || !d->ids)
        return 0;
    static const char *const split_names[3] = {"train", "valid", "test"};
    for (int i = 0; i < n; i++) {
        double t = 2 * uniform(s) - 1, a = 2 * uniform(s) - 1, v = 2 * uniform(s) - 1;
        double y = 0.5 * t + 0.3 * a + 0.2 * v + 0.05 * normal(s);
        y = fmax(-1.0, fmin(1.0, y));
        d->label[i] = (float)(round(y * 5.0) / 5.0);   /* SIMS's grid of 0.2 */
        d->lt[i] = (float)t, d->la[i] = (float)a, d->lv[i] = (float)v;
        /* text: [CLS] words [SEP]; each word is sentiment-bearing with probability |t| */
        int32_t *ids = d->text + (size_t)i * 3 * DEMO_L, *mask = ids + DEMO_L;
        int len = irange(s, 6, DEMO_L - 2);
        ids[0] = 1;
        for (int k = 1; k <= len; k++) {
            int w;
            if (uniform(s) < fabs(t)) w = t > 0 ? irange(s, 3, 12) : irange(s, 13, 22);
            else w = irange(s, 23, DEMO_VOCAB - 1);
            ids[k] = w;
        }
        ids[len + 1] = 2;
        for (int k = 0; k < len + 2; k++) mask[k] = 1;
        /* audio and vision: noise plus the latent along a fixed direction, zero padding */
        d->alen[i] = irange(s, 8, DEMO_TA);
        d->vlen[i] = irange(s, 4, DEMO_TV);
        float *au = d->audio + (size_t)i * DEMO_TA * DEMO_DA;
        for (int f = 0; f < d->alen[i]; f++)
            for (int k = 0; k < DEMO_DA; k++)
                au[f * DEMO_DA + k] = (float)(0.5 * normal(s) + a * wa[k]);
        float *vi = d->vision + (size_t)i * DEMO_TV * DEMO_DV;
        for (int f = 0; f < d->vlen[i]; f++)
            for (int k = 0; k < DEMO_DV; k++)
                vi[f * DEMO_DV + k] = (float)(0.5 * normal(s) + v * wv[k]);
        char id[48];
        snprintf(id, sizeof id, "demo_%s$_$%d", split_names[which], i);
        d->ids[i] = strdup(id);
        if (!d->ids[i]) return 0;
    }
    return 1;
}

static selfmm_status fail(selfmm_error *err, selfmm_status st, const char *message)
{
    if (err) {
        err->status = st;
        snprintf(err->message, sizeof err->message, "demo dataset: %s", message);
    }
    return st;
}

SELFMM_API selfmm_status selfmm_demo_dataset(uint64_t seed, selfmm_dataset **out, selfmm_error *err)
{
    if (!out) return fail(err, SELFMM_ERR_INVALID_ARG, "NULL out");
    uint64_t s = seed ^ 0x5E1F33D0ull;
    float wa[DEMO_DA], wv[DEMO_DV];
    for (int k = 0; k < DEMO_DA; k++) wa[k] = (float)normal(&s);
    for (int k = 0; k < DEMO_DV; k++) wv[k] = (float)normal(&s);
    demo_split d[3];
    selfmm_split_view v[3];
    memset(d, 0, sizeof d);
    int ok = 1;
    for (int sp = 0; sp < 3; sp++) {
        ok = ok && make_split(&d[sp], demo_n[sp], sp, &s, wa, wv);
        v[sp] = (selfmm_split_view){
            .n = demo_n[sp], .text_len = DEMO_L, .text_bert = d[sp].text,
            .audio_len = DEMO_TA, .audio_dim = DEMO_DA, .audio = d[sp].audio,
            .audio_lengths = d[sp].alen, .vision_len = DEMO_TV, .vision_dim = DEMO_DV,
            .vision = d[sp].vision, .vision_lengths = d[sp].vlen, .labels = d[sp].label,
            .labels_unimodal = {d[sp].label, d[sp].lt, d[sp].la, d[sp].lv},
            .ids = (const char *const *)d[sp].ids, .raw_text = NULL};
    }
    selfmm_status st = ok ? selfmm_dataset_create(v, NULL, out, err) : fail(err, SELFMM_ERR_NOMEM, "out of memory");
    for (int sp = 0; sp < 3; sp++) free_split(&d[sp], demo_n[sp]);
    return st;
}
