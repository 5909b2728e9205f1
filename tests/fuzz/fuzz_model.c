/* fuzz_model.c -- a native model file (safetensors with libselfmm metadata) loaded
 * into a model, as selfmm_model_load does, then everything read back from its
 * metadata: input lengths, normalisation statistics, the tokenizer (used on a
 * fixed text), and the config as JSON. The config in the file sizes the model, so
 * this also checks that nothing is allocated beyond what the file describes
 * (-malloc_limit_mb catches it). */
#include "model/model_io.h"
#include "io/tensors.h"
#include "model/model.h"
#include "model/model_input.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sm_tensor_list l;
    memset(&l, 0, sizeof l);
    selfmm_error err = {0};
    if (sm_read_checkpoint_mem(data, size, "fuzz", &l, &err) == SELFMM_OK) {
        selfmm_model *m = NULL;
        if (sm_model_from_native(&l, "fuzz", &m, &err) == SELFMM_OK) {
            int len[3];
            sm_model_input_lengths(m, len);
            selfmm_config cfg;
            selfmm_model_get_config(m, &cfg);
            size_t A = (size_t)cfg.audio_dim, V = (size_t)cfg.video_dim;
            float *n = malloc(2 * (A + V) * sizeof *n);
            if (n) selfmm_model_get_norm(m, n, n + A, n + 2 * A, n + 2 * A + V);
            free(n);
            selfmm_tokenizer *t = NULL;
            if (selfmm_model_get_tokenizer(m, &t, &err) == SELFMM_OK) {
                selfmm_tokens out;
                static const char text[] = "Hello, the MOVIE was caf\xC3\xA9 \xE7\x9A\x84 [SEP] ok!";
                selfmm_tokenizer_tokenize(t, text, sizeof text - 1, &out);
                selfmm_tokenizer_free(t);
            }
            char *json = NULL;
            if (selfmm_config_to_json(&cfg, &json, &err) == SELFMM_OK) selfmm_free_string(json);
            selfmm_model_free(m);
        }
    }
    sm_tensors_free(&l);
    return 0;
}
