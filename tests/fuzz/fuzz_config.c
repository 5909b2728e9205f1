/* fuzz_config.c -- every JSON the library reads as settings, and --set.
 *
 * Input: byte 0 chooses, the rest is the text.
 *   0  a --config file (selfmm_config_from_json), then its JSON printed and read back
 *   1  BERT's config.json (selfmm_config_load_bert_json, through a file)
 *   2  "key=value" as --set passes it (selfmm_config_set)
 *   3  any JSON through sm_json_parse (the parser every reader uses)
 * Invariants: no crash or leak; a config that loads validates, and prints to JSON
 * that loads back to the same values. */
#include "core/json.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void check(int cond)
{
    if (!cond) abort();
}

static char tmp_path[64];

static void remove_tmp(void) { unlink(tmp_path); }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    char *text = malloc(size);
    if (!text) return 0;
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    selfmm_config cfg;
    selfmm_config_default(&cfg);
    selfmm_error err = {0};
    switch (data[0] % 4) {
    case 0:
        if (selfmm_config_from_json(&cfg, text, &err) == SELFMM_OK) {
            check(selfmm_config_validate(&cfg, &err) == SELFMM_OK);
            char *json = NULL;
            check(selfmm_config_to_json(&cfg, &json, &err) == SELFMM_OK);
            selfmm_config back;
            selfmm_config_default(&back);
            check(selfmm_config_from_json(&back, json, &err) == SELFMM_OK);
            char *again = NULL;
            check(selfmm_config_to_json(&back, &again, &err) == SELFMM_OK);
            check(strcmp(json, again) == 0);
            selfmm_free_string(json);
            selfmm_free_string(again);
        }
        break;
    case 1: {
        if (!tmp_path[0]) {
            snprintf(tmp_path, sizeof tmp_path, "/tmp/selfmm_fuzz_bert_%d.json", (int)getpid());
            atexit(remove_tmp);
        }
        FILE *fp = fopen(tmp_path, "wb");
        if (!fp) break;
        fwrite(data + 1, 1, size - 1, fp);
        fclose(fp);
        if (selfmm_config_load_bert_json(&cfg, tmp_path, &err) == SELFMM_OK)
            check(selfmm_config_validate(&cfg, &err) == SELFMM_OK);
        break;
    }
    case 2: {
        char *eq = strchr(text, '=');
        if (eq) {
            *eq = '\0';
            if (selfmm_config_set(&cfg, text, eq + 1, &err) == SELFMM_OK)
                check(selfmm_config_validate(&cfg, &err) == SELFMM_OK);
        }
        break;
    }
    default: {
        cJSON *root = NULL;
        if (sm_json_parse(text, "fuzz", &root, &err) == SELFMM_OK) cJSON_Delete(root);
        else check(err.message[0] != '\0');
    }
    }
    free(text);
    return 0;
}
