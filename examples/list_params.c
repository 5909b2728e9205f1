/* list_params.c -- create a model from a preset and list its parameter table:
 * PyTorch name, shape, optimizer group. Shows the table every loader, saver and the
 * optimizer walk.
 *
 *   list_params [PRESET]       (the bert-base presets allocate ~0.9 GB) */
#include "common.h"

int main(int argc, char **argv)
{
    static const char *const groups[] = {"bert-decay", "bert-no-decay", "audio", "video",
                                         "other", "none"};
    selfmm_config cfg;
    selfmm_error err = {0};
    CHECK(selfmm_config_preset(&cfg, argc > 1 ? argv[1] : "sims", &err), err.message);
    selfmm_model *model;
    CHECK(selfmm_model_create(&cfg, &model, &err), err.message);
    for (int i = 0; i < selfmm_model_num_params(model); i++) {
        selfmm_param_info p;
        CHECK(selfmm_model_param(model, i, &p), selfmm_model_errmsg(model));
        if (p.ndim == 2)
            printf("%-72s (%lld, %lld) %s\n", p.name, (long long)p.shape[0], (long long)p.shape[1],
                   groups[p.group]);
        else
            printf("%-72s (%lld) %s\n", p.name, (long long)p.shape[0], groups[p.group]);
    }
    printf("%d tensors, %lld parameters\n", selfmm_model_num_params(model),
           (long long)selfmm_model_num_floats(model));
    selfmm_model_free(model);
    return 0;
}
