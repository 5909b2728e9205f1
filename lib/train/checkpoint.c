/* checkpoint.c -- the training state in one file, for resuming a run exactly.
 *
 * A safetensors file (written atomically) holding the model's parameters under
 * their PyTorch names, the Adam moments ("adam.exp_avg", "adam.exp_avg_sq", in the
 * parameter arena's layout) and the 13 ULGM arrays ("ulgm.*"); its metadata holds
 * the format ("libselfmm-checkpoint", version "1"), the config, the model's
 * dropout step counter, the Adam step count and the caller's JSON string.
 * Floats are stored bit for bit, so every later result of a resumed run equals
 * the uninterrupted run's. Loading checks everything before changing anything. */
#include "core/alloc.h"
#include "core/config_keys.h"
#include "core/number.h"
#include "core/quote.h"
#include "model/model_io.h"
#include "io/safetensors.h"
#include "model/model.h"
#include "train/adam.h"
#include "train/dist.h"
#include "train/ulgm.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CKPT_FORMAT "libselfmm-checkpoint"
#define CKPT_VERSION "1"
#define N_STATE (2 + SM_ULGM_STATE_COUNT)

SELFMM_API selfmm_status selfmm_checkpoint_save(const selfmm_model *model, const selfmm_optim *opt,
                                                const selfmm_ulgm *ulgm, const char *user_json,
                                                const char *path, selfmm_error *err)
{
    if (!path || !model || !opt || !ulgm)
        return sm_error(err, SELFMM_ERR_INVALID_ARG, "checkpoint save: NULL argument");
    const sm_param_table *tab = &model->net.table;
    int n = tab->n + N_STATE;
    sm_st_out *t = calloc((size_t)n, sizeof *t);
    int64_t shapes[N_STATE]; /* 1-D: each state array's length */
    char *config = NULL;
    selfmm_status st = t ? SELFMM_OK : sm_error(err, SELFMM_ERR_NOMEM, "checkpoint save: out of memory");
    if (st == SELFMM_OK) st = selfmm_config_to_json(&model->net.cfg, &config, err);
    if (st == SELFMM_OK) {
        for (int i = 0; i < tab->n; i++)
            t[i] = (sm_st_out){tab->p[i].name, tab->p[i].ndim, tab->p[i].shape, tab->p[i].numel,
                               model->net.params + tab->p[i].offset};
        sm_state_tensor s[N_STATE];
        sm_optim_state(opt, s);
        sm_ulgm_state(ulgm, s + 2);
        for (int k = 0; k < N_STATE; k++) {
            shapes[k] = s[k].numel;
            t[tab->n + k] = (sm_st_out){s[k].name, 1, &shapes[k], s[k].numel, s[k].data};
        }
        char mstep[32], astep[32];
        snprintf(mstep, sizeof mstep, "%" PRIu64, model->net.step);
        snprintf(astep, sizeof astep, "%" PRId64, sm_optim_get_step(opt));
        const char *keys[] = {"format", "format_version", "config", "model_step", "adam_step", "user"};
        const char *vals[] = {CKPT_FORMAT, CKPT_VERSION, config, mstep, astep, user_json ? user_json : ""};
        st = sm_write_safetensors(path, t, n, keys, vals, 6, err);
    }
    selfmm_free_string(config);
    free(t);
    return st;
}

/* The run must continue with the hyper-parameters it was started with: every key
 * except the run settings (seed, threads, paths, epochs cap, ...) must equal the
 * checkpoint's. The message names the first key that differs. */
static selfmm_status same_training_config(const selfmm_model *model, const char *json,
                                          const char *path, selfmm_error *err)
{
    if (!json) return sm_error(err, SELFMM_ERR_FORMAT, "%s: checkpoint without its config", path);
    selfmm_config saved;
    selfmm_config_default(&saved);
    selfmm_error e = {0};
    if (selfmm_config_from_json(&saved, json, &e) != SELFMM_OK)
        return sm_error(err, SELFMM_ERR_FORMAT, "%s: stored config: %s", path, e.message);
    for (const sm_key *k = sm_config_keys; k->name; k++) {
        if (!strcmp(k->group, "run") || sm_config_key_equal(&model->net.cfg, &saved, k)) continue;
        char was[64], now[64];
        sm_config_key_format(&saved, k, was, sizeof was);
        sm_config_key_format(&model->net.cfg, k, now, sizeof now);
        return sm_error(err, SELFMM_ERR_STATE, "%s: the run was started with %s = %s, the model has %s",
                        path, k->name, was, now);
    }
    return SELFMM_OK;
}


/* The float32 data of a 1-D state tensor, copied when the file leaves it unaligned. */
static selfmm_status state_view(const sm_tensor_list *l, const char *name, const char *path,
                                sm_state_tensor *out, float **copy, selfmm_error *err)
{
    const sm_tensor *t = sm_tensors_find(l, name);
    if (!t) return sm_error(err, SELFMM_ERR_MISSING, "%s: checkpoint lacks \"%s\"", path, name);
    if (t->dtype != SM_DT_F32 || t->ndim != 1)
        return sm_error(err, SELFMM_ERR_FORMAT, "%s: \"%s\" is not a 1-D float32 tensor", path, name);
    out->name = name;
    out->numel = t->numel;
    out->data = (const float *)(const void *)t->data;
    *copy = NULL;
    if (((uintptr_t)t->data & 3) != 0 && t->numel > 0) {
        if (!(*copy = malloc((size_t)t->numel * sizeof(float))))
            return sm_error(err, SELFMM_ERR_NOMEM, "%s: out of memory", path);
        memcpy(*copy, t->data, (size_t)t->numel * sizeof(float));
        out->data = *copy;
    }
    return SELFMM_OK;
}

/* What every load checks first: a libselfmm checkpoint of this format version, its
 * step counters, the model's training config and the shapes of its weights. */
static selfmm_status check_checkpoint(const selfmm_model *model, const sm_tensor_list *l, const char *path,
                                      uint64_t *mstep, uint64_t *astep, selfmm_error *err)
{
    const char *fmt = sm_tensors_meta(l, "format"), *ver = sm_tensors_meta(l, "format_version");
    if (!fmt || strcmp(fmt, CKPT_FORMAT) != 0)
        return sm_error(err, SELFMM_ERR_FORMAT, "%s: not a libselfmm training checkpoint", path);
    if (!ver || strcmp(ver, CKPT_VERSION) != 0)
        return sm_error(err, SELFMM_ERR_UNSUPPORTED, "%s: checkpoint format version %s (this "
                        "libselfmm reads %s)", path, ver ? SM_Q(ver) : "absent", CKPT_VERSION);
    if (!sm_parse_u64(sm_tensors_meta(l, "model_step"), mstep) ||
        !sm_parse_u64(sm_tensors_meta(l, "adam_step"), astep) || *astep > INT64_MAX)
        return sm_error(err, SELFMM_ERR_FORMAT, "%s: bad step counters in the metadata", path);
    SM_TRY(same_training_config(model, sm_tensors_meta(l, "config"), path, err));
    return sm_model_check_params(model, l, path, err);
}

selfmm_status sm_checkpoint_load_weights(selfmm_model *model, const char *path, selfmm_error *err)
{
    sm_tensor_list l;
    SM_TRY(sm_read_checkpoint(path, &l, err));
    uint64_t mstep = 0, astep = 0;
    selfmm_status st = check_checkpoint(model, &l, path, &mstep, &astep, err);
    if (st == SELFMM_OK) sm_model_copy_params(model, &l);
    sm_tensors_free(&l);
    return st;
}

SELFMM_API selfmm_status selfmm_checkpoint_load(selfmm_model *model, selfmm_optim *opt,
                                                selfmm_ulgm *ulgm, const char *path,
                                                char **user_json, selfmm_error *err)
{
    if (!path || !model || !opt || !ulgm)
        return sm_error(err, SELFMM_ERR_INVALID_ARG, "checkpoint load: NULL argument");
    sm_tensor_list l;
    SM_TRY(sm_read_checkpoint(path, &l, err));
    uint64_t mstep = 0, astep = 0;
    selfmm_status st = check_checkpoint(model, &l, path, &mstep, &astep, err);

    /* Views of the optimizer and label arrays. The label arrays are checked before the
     * optimizer restore (which checks its own), so after it nothing can fail: all or
     * nothing without a backup of either state. */
    sm_state_tensor s[N_STATE];
    float *copies[N_STATE] = {0};
    static const char *const adam_names[2] = {"adam.exp_avg", "adam.exp_avg_sq"};
    sm_state_tensor cur[SM_ULGM_STATE_COUNT];
    sm_ulgm_state(ulgm, cur);
    for (int k = 0; k < N_STATE && st == SELFMM_OK; k++)
        st = state_view(&l, k < 2 ? adam_names[k] : cur[k - 2].name, path, &s[k], &copies[k], err);
    char *user = NULL;
    if (st == SELFMM_OK && user_json) {
        const char *u = sm_tensors_meta(&l, "user");
        if (!(user = sm_strdup(u ? u : ""))) st = sm_error(err, SELFMM_ERR_NOMEM, "%s: out of memory", path);
    }
    if (st == SELFMM_OK) {
        st = sm_ulgm_check(ulgm, s + 2, SM_ULGM_STATE_COUNT);
        if (st != SELFMM_OK) sm_error(err, st, "%s: %s", path, selfmm_ulgm_errmsg(ulgm));
    }
    if (st == SELFMM_OK) {
        st = sm_optim_restore(opt, s, 2, (int64_t)astep);
        if (st != SELFMM_OK) sm_error(err, st, "%s: %s", path, selfmm_optim_errmsg(opt));
    }
    if (st == SELFMM_OK) {
        st = sm_ulgm_restore(ulgm, s + 2, SM_ULGM_STATE_COUNT); /* checked above: cannot fail */
        if (st != SELFMM_OK) sm_error(err, st, "%s: %s", path, selfmm_ulgm_errmsg(ulgm));
    }
    if (st == SELFMM_OK) {
        sm_model_copy_params(model, &l);
        model->net.step = mstep;
        if (user_json) *user_json = user, user = NULL;
    }
    free(user);
    for (int k = 0; k < N_STATE; k++) free(copies[k]);
    sm_tensors_free(&l);
    return st;
}

/* ---- the training state across ranks (several processes) ---- */

SELFMM_API selfmm_status selfmm_train_state_broadcast(selfmm_model *model, selfmm_optim *opt,
                                                      selfmm_ulgm *ulgm, int root, const selfmm_collectives *c,
                                                      char **user_json, selfmm_error *err)
{
    sm_dist d;
    SM_TRY(sm_dist_init(&d, c, err));
    if (!model || !opt || !ulgm) return sm_error(err, SELFMM_ERR_INVALID_ARG, "state broadcast: NULL argument");
    if (!sm_dist_active(&d)) return SELFMM_OK;
    if (root < 0 || root >= d.size)
        return sm_error(err, SELFMM_ERR_INVALID_ARG, "state broadcast: root %d of %d ranks", root, d.size);
    sm_state_tensor s[N_STATE];
    sm_optim_state(opt, s);
    sm_ulgm_state(ulgm, s + 2);
    /* every rank must hold a state of the same shape, or a broadcast would run past
     * an array: one hash of all sizes */
    uint64_t shape = (uint64_t)model->net.table.total;
    for (int k = 0; k < N_STATE; k++) shape = shape * 1000003u + (uint64_t)s[k].numel;
    SM_TRY(sm_dist_same(&d, shape, "the training state's sizes", err));
    int64_t steps[2] = {(int64_t)model->net.step, sm_optim_get_step(opt)};
    SM_TRY(sm_dist_broadcast(&d, steps, sizeof steps, root, "the step counters", err));
    SM_TRY(sm_dist_broadcast(&d, model->net.params, (size_t)model->net.table.total * sizeof(float), root,
                             "the weights", err));
    sm_net_weights_changed(&model->net);
    /* root's arrays were checked when it loaded them; the others' are overwritten in
     * place with them (the owners hand out views of their own memory) */
    for (int k = 0; k < N_STATE; k++)
        SM_TRY(sm_dist_broadcast(&d, (float *)s[k].data, (size_t)s[k].numel * sizeof(float), root, s[k].name,
                                 err));
    model->net.step = (uint64_t)steps[0];
    sm_optim_set_step(opt, steps[1]);
    if (!user_json) return SELFMM_OK;
    int64_t len = d.rank == root && *user_json ? (int64_t)strlen(*user_json) : 0;
    SM_TRY(sm_dist_broadcast(&d, &len, sizeof len, root, "the caller's string", err));
    if (d.rank == root) return sm_dist_broadcast(&d, *user_json, (size_t)len, root, "the caller's string", err);
    char *u = malloc((size_t)len + 1);
    if (!u) return sm_error(err, SELFMM_ERR_NOMEM, "state broadcast: out of memory");
    u[len] = '\0';
    selfmm_status st = sm_dist_broadcast(&d, u, (size_t)len, root, "the caller's string", err);
    if (st != SELFMM_OK) {
        free(u);
        return st;
    }
    *user_json = u;
    return SELFMM_OK;
}
