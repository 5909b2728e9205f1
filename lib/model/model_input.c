/* model_input.c -- what a model remembers about how its training data was
 * prepared, as metadata strings saved in the native model file:
 *
 *   input.text_len, input.audio_len, input.vision_len   padded lengths of the
 *       training split (decimal): a single new sample is cut like the data was
 *   norm.audio.mean, norm.audio.std, norm.vision.mean, norm.vision.std
 *       feature standardisation (data/norm.h) as JSON arrays of float32 values with
 *       9 significant digits: enough for every float32 to read back to the same
 *       bits (printed and parsed in the C locale, whatever the program's locale)
 *
 * selfmm_model_adopt_dataset writes both from a dataset; selfmm_fit calls it. */
#include "model/model_input.h"

#include "core/number.h"
#include "core/quote.h"
#include "data/dataset.h"
#include "data/norm.h"
#include "model/model.h"

#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const input_key[3] = {"input.text_len", "input.audio_len", "input.vision_len"};
static const char *const norm_key[4] = {"norm.audio.mean", "norm.audio.std", "norm.vision.mean",
                                        "norm.vision.std"};

/* NULL when out of memory. Without the C locale there is no printing at all: the
 * program's locale could write "0,5", which json_to_floats refuses. */
static char *floats_to_json(const float *v, int n)
{
    locale_t c = newlocale(LC_ALL_MASK, "C", (locale_t)0);
    if (!c) return NULL;
    size_t cap = 3 + (size_t)n * 17, o = 0; /* "-1.23456789e-38," is 16 */
    char *s = malloc(cap);
    if (s) {
        locale_t old = uselocale(c);
        s[o++] = '[';
        for (int i = 0; i < n; i++)
            o += (size_t)snprintf(s + o, cap - o, "%s%.9g", i ? "," : "", (double)v[i]);
        snprintf(s + o, cap - o, "]");
        uselocale(old);
    }
    freelocale(c);
    return s;
}

/* Parse "[x,y,...]" of exactly n finite float32 values, each a decimal number
 * (core/number.h) written with %.9g: read as float64, then rounded to float32,
 * which gives back the printed float32 bit for bit. 0 on any deviation. */
static int json_to_floats(const char *s, float *v, int n)
{
    int i = 0;
    const char *p = s;
    while (*p == ' ') p++;
    if (*p++ != '[') return 0;
    while (*p == ' ') p++;
    if (*p == ']') return p[1 + strspn(p + 1, " ")] == '\0' && n == 0;
    for (;;) {
        size_t len = strcspn(p, ",]");
        double d;
        if (!p[len] || i >= n || sm_parse_decimal(p, len, &d) != SM_NUM_OK) return 0;
        float f = (float)d;
        if (!isfinite(f)) return 0;
        v[i++] = f;
        p += len;
        if (*p++ == ']') break;
    }
    while (*p == ' ') p++;
    return *p == '\0' && i == n;
}

SELFMM_API selfmm_status selfmm_model_set_norm(selfmm_model *m, const selfmm_norm *norm)
{
    if (!m) return SELFMM_ERR_INVALID_ARG;
    if (!norm) {
        for (int k = 0; k < 4; k++) SM_TRY(sm_model_meta_set(m, norm_key[k], NULL));
        return SELFMM_OK;
    }
    const int dims[2] = {norm->audio_dim, norm->vision_dim}, want[2] = {m->net.cfg.audio_dim, m->net.cfg.video_dim};
    const float *v[4] = {norm->audio_mean, norm->audio_std, norm->vision_mean, norm->vision_std};
    for (int k = 0; k < 2; k++) {
        if (dims[k] != want[k])
            return sm_error(&m->err, SELFMM_ERR_SHAPE, "set norm: %s statistics for %d features, the "
                            "model's %s is %d", sm_norm_modality[k], dims[k], k ? "video_dim" : "audio_dim",
                            want[k]);
        if (!v[2 * k] || !v[2 * k + 1]) return sm_error(&m->err, SELFMM_ERR_INVALID_ARG, "set norm: NULL array");
        char what[32];
        snprintf(what, sizeof what, "set norm: %s", sm_norm_modality[k]);
        SM_TRY(sm_norm_check(v[2 * k], v[2 * k + 1], dims[k], what, &m->err));
    }
    char *text[4] = {NULL, NULL, NULL, NULL};
    selfmm_status st = SELFMM_OK;
    for (int k = 0; k < 4 && st == SELFMM_OK; k++)
        if (!(text[k] = floats_to_json(v[k], dims[k / 2])))
            st = sm_error(&m->err, SELFMM_ERR_NOMEM, "set norm: out of memory");
    for (int k = 0; k < 4 && st == SELFMM_OK; k++) st = sm_model_meta_set(m, norm_key[k], text[k]);
    if (st != SELFMM_OK) /* never half a set */
        for (int k = 0; k < 4; k++) sm_model_meta_set(m, norm_key[k], NULL);
    for (int k = 0; k < 4; k++) free(text[k]);
    return st;
}

int sm_model_has_norm(const selfmm_model *m) { return sm_model_meta_get(m, norm_key[0]) != NULL; }

SELFMM_API selfmm_status selfmm_model_get_norm(selfmm_model *m, float *audio_mean, float *audio_std,
                                               float *vision_mean, float *vision_std)
{
    if (!m) return SELFMM_ERR_INVALID_ARG;
    float *out[4] = {audio_mean, audio_std, vision_mean, vision_std};
    for (int k = 0; k < 4; k++)
        if (!out[k]) return sm_error(&m->err, SELFMM_ERR_INVALID_ARG, "get norm: NULL array");
    int present = 0;
    for (int k = 0; k < 4; k++) present += sm_model_meta_get(m, norm_key[k]) != NULL;
    if (present == 0)
        return sm_error(&m->err, SELFMM_ERR_MISSING, "the model has no normalisation statistics");
    if (present < 4)
        return sm_error(&m->err, SELFMM_ERR_FORMAT, "model metadata: %d of the 4 norm.* entries",
                        present);
    const int dims[2] = {m->net.cfg.audio_dim, m->net.cfg.video_dim};
    for (int k = 0; k < 4; k++)
        if (!json_to_floats(sm_model_meta_get(m, norm_key[k]), out[k], dims[k / 2]))
            return sm_error(&m->err, SELFMM_ERR_FORMAT, "model metadata: %s is not a JSON array of "
                            "%d finite numbers", norm_key[k], dims[k / 2]);
    for (int k = 0; k < 2; k++) {
        char what[48];
        snprintf(what, sizeof what, "model metadata: norm.%s", sm_norm_modality[k]);
        if (sm_norm_check(out[2 * k], out[2 * k + 1], dims[k], what, &m->err) != SELFMM_OK)
            return sm_error_prefix(&m->err, SELFMM_ERR_FORMAT, "damaged");
    }
    return SELFMM_OK;
}

selfmm_status sm_model_input_lengths(selfmm_model *m, int len[3])
{
    for (int k = 0; k < 3; k++) {
        const char *s = sm_model_meta_get(m, input_key[k]);
        len[k] = 0;
        if (!s) continue;
        const long lo = k ? 1 : 2, hi = k ? SM_INPUT_MAX_STEPS : m->net.cfg.max_position_embeddings;
        /* decimal digits only, bounded before anything is sized by it */
        uint64_t v = 0;
        if (!sm_parse_u64(s, &v) || v < (uint64_t)lo || v > (uint64_t)hi)
            return sm_error(&m->err, SELFMM_ERR_FORMAT, "model metadata: %s is %s, expected a length in "
                            "[%ld, %ld]%s", input_key[k], SM_Q(s), lo, hi,
                            k ? "" : " (max_position_embeddings)");
        len[k] = (int)v;
    }
    return SELFMM_OK;
}

SELFMM_API selfmm_status selfmm_model_adopt_dataset(selfmm_model *m, const selfmm_dataset *ds)
{
    if (!m) return SELFMM_ERR_INVALID_ARG;
    if (!ds) return sm_error(&m->err, SELFMM_ERR_INVALID_ARG, "adopt dataset: NULL dataset");
    const sm_split_data *d = &ds->split[SELFMM_SPLIT_TRAIN];
    if (d->audio_dim != m->net.cfg.audio_dim || d->vision_dim != m->net.cfg.video_dim)
        return sm_error(&m->err, SELFMM_ERR_SHAPE, "adopt dataset: the data's feature widths (audio "
                        "%d, vision %d) differ from the model's (audio_dim %d, video_dim %d)",
                        d->audio_dim, d->vision_dim, m->net.cfg.audio_dim, m->net.cfg.video_dim);
    /* A text is encoded at most at max_position_embeddings (the model cannot run
     * more tokens: padding beyond that changes no output); longer audio or vision
     * would make a model file that sm_model_input_lengths refuses. */
    const int L = d->text_len < m->net.cfg.max_position_embeddings ? d->text_len : m->net.cfg.max_position_embeddings;
    const int len[3] = {L, d->audio_len, d->vision_len};
    for (int k = 1; k < 3; k++)
        if (len[k] > SM_INPUT_MAX_STEPS)
            return sm_error(&m->err, SELFMM_ERR_RANGE, "adopt dataset: %s length %d, beyond the %d steps "
                            "a model records", sm_norm_modality[k - 1], len[k], SM_INPUT_MAX_STEPS);
    for (int k = 0; k < 3; k++) {
        char v[24];
        snprintf(v, sizeof v, "%d", len[k]);
        SM_TRY(sm_model_meta_set(m, input_key[k], v));
    }
    if (!ds->norm_mean[0]) return selfmm_model_set_norm(m, NULL);
    const selfmm_norm n = {d->audio_dim, d->vision_dim, ds->norm_mean[0], ds->norm_std[0],
                           ds->norm_mean[1], ds->norm_std[1]};
    return selfmm_model_set_norm(m, &n);
}
