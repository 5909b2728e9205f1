/* fuzz_labels.c -- MMSA's label.csv through selfmm_dataset_build, with the feature
 * folders and vocabulary of tests/fixtures (run from the source root, as
 * tests/fuzz/run.sh does): the header and every row checked, rows whose clips
 * exist read and padded into a dataset. The input goes to a temporary file, the
 * way the builder reads it. */
#include <selfmm.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char tmp_path[64];
static selfmm_tokenizer *tok;

static void cleanup(void)
{
    unlink(tmp_path);
    selfmm_tokenizer_free(tok);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    selfmm_error err = {0};
    if (!tok) {
        if (selfmm_tokenizer_load("tests/fixtures/shared/checkpoints/coldfire_tiny_bert_safetensors",
                                  NULL, &tok, &err) != SELFMM_OK) {
            fprintf(stderr, "fuzz_labels: %s (run from the source root)\n", err.message);
            abort();
        }
        snprintf(tmp_path, sizeof tmp_path, "/tmp/selfmm_fuzz_labels_%d.csv", (int)getpid());
        atexit(cleanup);
    }
    FILE *fp = fopen(tmp_path, "wb");
    if (!fp) return 0;
    fwrite(data, 1, size, fp);
    fclose(fp);
    selfmm_build_options o;
    selfmm_build_options_default(&o);
    o.labels = tmp_path;
    o.audio_dir = "tests/fixtures/build/audio";
    o.vision_dir = "tests/fixtures/build/vision";
    o.tokenizer = tok;
    o.normalize = size % 2;
    o.max_problems = 8;
    selfmm_dataset *ds = NULL;
    char *report = NULL;
    if (selfmm_dataset_build(&o, &ds, &report, &err) == SELFMM_OK) {
        selfmm_split_view v;
        for (int s = 0; s < 3; s++)
            if (selfmm_dataset_split(ds, (selfmm_split)s, &v) != SELFMM_OK || v.n < 1) abort();
        selfmm_dataset_free(ds);
    }
    selfmm_free_string(report);
    return 0;
}
