/* train_steps.c -- Self-MM training written out with the step-level calls: what
 * selfmm_fit does for every batch (docs/MODEL.md §3), on the embedded demo data.
 *
 *   train_steps [EPOCHS]        (default 3) */
#include "common.h"

#include <string.h>

int main(int argc, char **argv)
{
    int epochs = argc > 1 ? atoi(argv[1]) : 3;
    selfmm_error err = {0};
    selfmm_config cfg;
    selfmm_dataset *data;
    selfmm_model *model;
    selfmm_optim *optim;
    selfmm_ulgm *ulgm;
    selfmm_demo_config(&cfg);
    CHECK(selfmm_demo_dataset((uint64_t)cfg.seed, &data, &err), err.message);
    CHECK(selfmm_model_create(&cfg, &model, &err), err.message);
    CHECK(selfmm_optim_create(model, &cfg, &optim, &err), err.message);

    selfmm_split_view train;
    CHECK(selfmm_dataset_split(data, SELFMM_SPLIT_TRAIN, &train), selfmm_dataset_errmsg(data));
    /* The unimodal labels start as the multimodal ones; features are those of each
     * head's first layer. */
    const int dims[4] = {cfg.post_fusion_dim, cfg.post_text_dim, cfg.post_audio_dim, cfg.post_video_dim};
    CHECK(selfmm_ulgm_create(&cfg, train.n, train.labels, dims, &ulgm, &err), err.message);

    const int bs = cfg.batch_size;
    int *perm = malloc((size_t)train.n * sizeof *perm);
    float *lab = malloc((size_t)4 * bs * sizeof *lab);
    float *const labels[4] = {lab, lab + bs, lab + 2 * bs, lab + 3 * bs};
    if (!perm || !lab) return 1;
    for (int epoch = 1; epoch <= epochs; epoch++) {
        CHECK(selfmm_permutation((uint64_t)cfg.seed, (uint64_t)epoch, perm, train.n, &err), err.message);
        int left = cfg.update_epochs;
        double sum = 0;
        int batches = 0;
        for (int lo = 0; lo < train.n; lo += bs, batches++) {
            const int b = train.n - lo < bs ? train.n - lo : bs;
            const int *idx = perm + lo;
            if (left == cfg.update_epochs) selfmm_model_zero_grad(model); /* a window opens */
            left--;
            selfmm_batch batch;
            selfmm_outputs out;
            selfmm_loss loss;
            CHECK(selfmm_dataset_batch(data, SELFMM_SPLIT_TRAIN, idx, b, &batch, NULL), selfmm_dataset_errmsg(data));
            CHECK(selfmm_model_forward(model, &batch, SELFMM_MODE_TRAIN, &out), selfmm_model_errmsg(model));
            CHECK(selfmm_ulgm_gather(ulgm, idx, b, labels), selfmm_ulgm_errmsg(ulgm));
            CHECK(selfmm_model_loss(model, (const float *const *)labels, &loss), selfmm_model_errmsg(model));
            CHECK(selfmm_model_backward(model, NULL), selfmm_model_errmsg(model));
            /* epoch > 1: new unimodal labels for this batch; then store its features
             * and recompute the class centers */
            CHECK(selfmm_ulgm_update(ulgm, idx, b, &out, epoch), selfmm_ulgm_errmsg(ulgm));
            if (left == 0) { /* the window closes: one Adam step */
                CHECK(selfmm_optim_step(optim), selfmm_optim_errmsg(optim));
                left = cfg.update_epochs;
            }
            sum += loss.total;
        }
        /* a partial window at the end is discarded, as in the reference */
        selfmm_metrics m;
        double valid_loss;
        CHECK(selfmm_evaluate(model, data, SELFMM_SPLIT_VALID, bs, &m, &valid_loss, NULL, &err),
              err.message);
        double acc = 0;
        selfmm_metrics_get(&m, "Mult_acc_2", &acc, NULL);
        printf("epoch %d: train loss %.4f, valid Loss %.4f, Mult_acc_2 %.4f\n", epoch, sum / batches,
               valid_loss, acc);
    }
    free(perm);
    free(lab);
    selfmm_ulgm_free(ulgm);
    selfmm_optim_free(optim);
    selfmm_model_free(model);
    selfmm_dataset_free(data);
    return 0;
}
