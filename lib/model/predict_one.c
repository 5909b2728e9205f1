/* predict_one.c -- selfmm_model_predict_one: one new clip, from its text and raw
 * feature arrays to the four outputs, prepared exactly as selfmm_dataset_build
 * prepares a clip (same tokenizer, same length cuts, same standardisation code), so
 * that the result equals the model's output on that clip in a built dataset. */
#include "data/norm.h"
#include "model/model.h"
#include "model/model_input.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The first steps of one modality, checked, copied and standardised. */
static selfmm_status prepare(selfmm_model *m, const char *what, const float *x, int steps, int D,
                             const float *mean, const float *std, float **out)
{
    for (size_t i = 0; i < (size_t)steps * D; i++)
        if (!isfinite(x[i]))
            return sm_error(&m->err, SELFMM_ERR_DATA, "predict: %s step %zu, feature %zu is %s", what,
                            i / (size_t)D, i % (size_t)D, isnan(x[i]) ? "NaN" : "infinite");
    float *c = malloc((size_t)steps * D * sizeof *c);
    if (!c) return sm_error(&m->err, SELFMM_ERR_NOMEM, "predict: out of memory");
    memcpy(c, x, (size_t)steps * D * sizeof *c);
    if (mean) sm_norm_apply(c, steps, D, mean, std);
    *out = c;
    return SELFMM_OK;
}

SELFMM_API selfmm_status selfmm_model_predict_one(selfmm_model *m, const char *text,
                                                  const float *audio, int audio_steps,
                                                  int audio_dim, const float *vision,
                                                  int vision_steps, int vision_dim, float out[4])
{
    if (!m) return SELFMM_ERR_INVALID_ARG;
    selfmm_error *err = &m->err;
    if (!text || !audio || !vision || !out)
        return sm_error(err, SELFMM_ERR_INVALID_ARG, "predict: NULL argument");
    const int dims[2] = {audio_dim, vision_dim}, want[2] = {m->net.cfg.audio_dim, m->net.cfg.video_dim};
    const int steps_in[2] = {audio_steps, vision_steps};
    for (int k = 0; k < 2; k++) {
        if (dims[k] != want[k])
            return sm_error(err, SELFMM_ERR_SHAPE, "predict: the %s has %d features per step; the "
                            "model's %s is %d", sm_norm_modality[k], dims[k], k ? "video_dim" : "audio_dim", want[k]);
        if (steps_in[k] < 1)
            return sm_error(err, SELFMM_ERR_DATA, "predict: the %s has %d time steps (at least 1)",
                            sm_norm_modality[k], steps_in[k]);
    }
    int len[3];
    SM_TRY(sm_model_input_lengths(m, len));
    const int L = len[0] ? len[0] : m->net.cfg.max_position_embeddings;
    if (L < 2)
        return sm_error(err, SELFMM_ERR_FORMAT, "predict: text length %d cannot hold [CLS] and [SEP]", L);
    int steps[2];
    for (int k = 0; k < 2; k++) steps[k] = len[1 + k] && steps_in[k] > len[1 + k] ? len[1 + k] : steps_in[k];

    float *stats = NULL;
    if (sm_model_has_norm(m)) {
        stats = malloc(2 * ((size_t)dims[0] + dims[1]) * sizeof *stats);
        if (!stats) return sm_error(err, SELFMM_ERR_NOMEM, "predict: out of memory");
        float *am = stats, *as = am + dims[0], *vm = as + dims[0], *vs = vm + dims[1];
        selfmm_status st = selfmm_model_get_norm(m, am, as, vm, vs);
        if (st != SELFMM_OK) {
            free(stats);
            return st;
        }
    }
    selfmm_tokenizer *tok = NULL;
    int32_t *ids = malloc((size_t)L * 3 * sizeof *ids);
    float *x[2] = {NULL, NULL};
    selfmm_status st = ids ? SELFMM_OK : sm_error(err, SELFMM_ERR_NOMEM, "predict: out of memory");
    if (st == SELFMM_OK) {
        selfmm_error e = {0};
        st = selfmm_model_get_tokenizer(m, &tok, &e);
        if (st == SELFMM_ERR_MISSING)
            sm_error(err, st, "predict: the model has no tokenizer to turn text into ids (train "
                     "with --bert DIR, or attach one with selfmm_model_set_tokenizer)");
        else if (st != SELFMM_OK)
            sm_error(err, st, "predict: %s", e.message);
    }
    int n_tokens = 0;
    if (st == SELFMM_OK) {
        st = selfmm_tokenizer_encode(tok, text, SELFMM_NUL_TERMINATED, L, ids, ids + L, ids + 2 * L,
                                     &n_tokens);
        if (st != SELFMM_OK) sm_error(err, st, "predict: text: %s", selfmm_tokenizer_errmsg(tok));
        else if (n_tokens == 0) st = sm_error(err, SELFMM_ERR_DATA, "predict: the text is empty (no tokens)");
    }
    const float *in[2] = {audio, vision};
    for (int k = 0; k < 2 && st == SELFMM_OK; k++) {
        const float *mean = NULL, *sd = NULL;
        if (stats) {
            mean = stats + (k ? 2 * (size_t)dims[0] : 0);
            sd = mean + dims[k];
        }
        st = prepare(m, sm_norm_modality[k], in[k], steps[k], dims[k], mean, sd, &x[k]);
    }
    if (st == SELFMM_OK) {
        const int32_t alen = steps[0], vlen = steps[1];
        selfmm_batch b = {.batch = 1, .text_len = L, .text_ids = ids, .text_mask = ids + L,
                          .text_segment = ids + 2 * L, .audio_len = steps[0], .audio_dim = dims[0],
                          .audio = x[0], .audio_lengths = &alen, .vision_len = steps[1],
                          .vision_dim = dims[1], .vision = x[1], .vision_lengths = &vlen};
        selfmm_outputs o;
        st = selfmm_model_forward(m, &b, SELFMM_MODE_EVAL, &o);
        if (st == SELFMM_OK) out[0] = o.M[0], out[1] = o.T[0], out[2] = o.A[0], out[3] = o.V[0];
    }
    selfmm_tokenizer_free(tok);
    free(ids), free(x[0]), free(x[1]), free(stats);
    return st;
}
