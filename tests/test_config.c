/* test_config.c -- presets, set-by-name, JSON round trip and every bad-config case. */
#include "harness.h"

#include "core/json.h"

#include "core/config_keys.h"

#include <unistd.h>

static char tmpdir[256];

static const char *tmpfile_with(const char *name, const char *content)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *fp = fopen(path, "w");
    if (fp) {
        fputs(content, fp);
        fclose(fp);
    }
    return path;
}

TEST(presets_match_spec)
{
    selfmm_config c;
    selfmm_error e = {0};
    REQUIRE_OK(selfmm_config_preset(&c, "sims", &e), e.message);
    CHECK_INT(c.batch_size, 32);
    CHECK_CLOSE(c.learning_rate_audio, 5e-3, 0, 0);
    CHECK_CLOSE(c.weight_decay_audio, 1e-2, 0, 0);
    CHECK_INT(c.a_lstm_hidden_size, 16);
    CHECK_INT(c.v_lstm_hidden_size, 64);
    CHECK_INT(c.post_text_dim, 64);
    CHECK_CLOSE(c.post_text_dropout, 0.1, 0, 0);
    CHECK_CLOSE(c.H, 1.0, 0, 0);
    CHECK_INT(c.vocab_size, 21128);
    CHECK_INT(c.exclude_zero, 0);
    REQUIRE_OK(selfmm_config_preset(&c, "mosi", &e), e.message);
    CHECK_CLOSE(c.learning_rate_video, 1e-4, 0, 0);
    CHECK_INT(c.a_lstm_hidden_size, 32);
    CHECK_CLOSE(c.post_fusion_dropout, 0.1, 0, 0);
    CHECK_CLOSE(c.H, 3.0, 0, 0);
    CHECK_INT(c.vocab_size, 30522);
    REQUIRE_OK(selfmm_config_preset(&c, "mosei", &e), e.message);
    CHECK_INT(c.post_text_dim, 32);
    CHECK_INT(c.post_video_dim, 16);
    CHECK_CLOSE(c.weight_decay_other, 1e-2, 0, 0);
    CHECK_INT(c.v_lstm_hidden_size, 32);
    REQUIRE_OK(selfmm_config_preset(&c, "mmsa-mosi", &e), e.message);
    CHECK_INT(c.batch_size, 16);
    CHECK_INT(c.exclude_zero, 1);
    CHECK_INT(c.a_lstm_hidden_size, 16);
    CHECK_INT(c.valid_loss_decimals, 4);
    /* reference variants: every preset is the reference as run today (torch >= 1.3's
     * Adam, f1_score(truth, pred), the 1e-6 margin); rounding follows each metricsTop.py */
    CHECK_INT(c.adam_legacy, 0);
    CHECK_INT(c.f1_truth_weighted, 1);
    CHECK_INT(c.metrics_decimals, 4);
    CHECK_INT(c.metrics_mae_float64, 1);
    REQUIRE_OK(selfmm_config_preset(&c, "mmsa-sims", &e), e.message);
    CHECK_INT(c.adam_legacy, 0);
    CHECK_INT(c.f1_truth_weighted, 1);
    CHECK_INT(c.metrics_decimals, 4);
    CHECK_INT(c.metrics_mae_float64, 1); /* MMSA: MAE .astype(np.float64) */
    for (int i = 0; i < 3; i++) {
        REQUIRE_OK(selfmm_config_preset(&c, i == 0 ? "sims" : i == 1 ? "mosi" : "mosei", &e), e.message);
        CHECK_INT(c.adam_legacy, 0);
        CHECK_INT(c.f1_truth_weighted, 1);
        CHECK_CLOSE(c.valid_min_delta, 1e-6, 0, 0);
        CHECK_INT(c.valid_loss_decimals, -1);
        CHECK_INT(c.metrics_decimals, i == 0 ? -1 : 4);
        CHECK_INT(c.need_data_aligned, 0);
        CHECK_INT(c.exclude_zero, 0);
        CHECK_INT(c.metrics_mae_float64, 0); /* Self-MM rounds NumPy's float32 MAE */
    }
    selfmm_config_default(&c);
    CHECK_INT(c.adam_legacy, 0);
    CHECK_INT(c.metrics_decimals, -1);
    int n = 0;
    for (const char *const *p = selfmm_config_preset_names(); *p; p++, n++) {
        CHECK_OK(selfmm_config_preset(&c, *p, &e), e.message);
        CHECK_OK(selfmm_config_validate(&c, &e), e.message);
    }
    CHECK_INT(n, 6);
    CHECK_STATUS(selfmm_config_preset(&c, "nope", &e), SELFMM_ERR_NOT_FOUND);
    CHECK_CONTAINS(e.message, "nope");
}

/* Field by field through the key table (struct padding is not part of the value). */
static int config_equal(const selfmm_config *a, const selfmm_config *b)
{
    for (const sm_key *k = sm_config_keys; k->name; k++) {
        const char *x = (const char *)a + k->offset, *y = (const char *)b + k->offset;
        size_t n = k->type == SM_KEY_DOUBLE ? sizeof(double)
                   : k->type == SM_KEY_INT64 ? sizeof(int64_t)
                   : k->type == SM_KEY_STRING ? 0 : sizeof(int);
        int same = n ? memcmp(x, y, n) == 0 : strcmp(x, y) == 0;
        if (!same) {
            printf("# config key %s differs\n", k->name);
            return 0;
        }
    }
    return 1;
}

TEST(json_round_trip_is_exact)
{
    selfmm_config a, b;
    selfmm_error e = {0};
    selfmm_config_preset(&a, "mosei", &e);
    a.seed = 9007199254740992LL;
    a.learning_rate_bert = 1.0 / 3.0;
    a.layer_norm_eps = 1e-12;
    a.tail_step = 1;
    a.adam_legacy = 0;
    a.f1_truth_weighted = 1;
    strcpy(a.data_path, "/data/x \"quoted\" \xc3\xa9.pkl");
    char *json = NULL;
    REQUIRE_OK(selfmm_config_to_json(&a, &json, &e), e.message);
    selfmm_config_default(&b);
    CHECK_OK(selfmm_config_from_json(&b, json, &e), e.message);
    CHECK(config_equal(&a, &b));
    selfmm_free_string(json);

    char path[512];
    snprintf(path, sizeof path, "%s/rt.json", tmpdir);
    REQUIRE_OK(selfmm_config_save_json(&a, path, &e), e.message);
    selfmm_config_default(&b);
    CHECK_OK(selfmm_config_load_json(&b, path, &e), e.message);
    CHECK(config_equal(&a, &b));
}

TEST(set_by_name)
{
    selfmm_config c;
    selfmm_error e = {0};
    selfmm_config_default(&c);
    CHECK_OK(selfmm_config_set(&c, "batch_size", "8", &e), e.message);
    CHECK_INT(c.batch_size, 8);
    CHECK_OK(selfmm_config_set(&c, "post_text_dropout", "0", &e), e.message);
    CHECK_CLOSE(c.post_text_dropout, 0.0, 0, 0);
    CHECK_OK(selfmm_config_set(&c, "exclude_zero", "true", &e), e.message);
    CHECK_INT(c.exclude_zero, 1);
    CHECK_OK(selfmm_config_set(&c, "dataset", "mosei", &e), e.message);
    CHECK_INT(c.dataset, SELFMM_DATASET_MOSEI);
    CHECK_OK(selfmm_config_set(&c, "hidden_dropout_prob", "0.25", &e), e.message);
    CHECK_CLOSE(c.hidden_dropout_prob, 0.25, 0, 0);
    CHECK_OK(selfmm_config_set(&c, "adam_legacy", "false", &e), e.message);
    CHECK_INT(c.adam_legacy, 0);
    CHECK_OK(selfmm_config_set(&c, "f1_truth_weighted", "true", &e), e.message);
    CHECK_INT(c.f1_truth_weighted, 1);
    CHECK_STATUS(selfmm_config_set(&c, "adam_legacy", "2", &e), SELFMM_ERR_TYPE);
    CHECK_CONTAINS(e.message, "adam_legacy");

    CHECK_STATUS(selfmm_config_set(&c, "batch_sise", "8", &e), SELFMM_ERR_UNKNOWN_KEY);
    CHECK_CONTAINS(e.message, "batch_sise");
    CHECK_STATUS(selfmm_config_set(&c, "batch_size", "eight", &e), SELFMM_ERR_TYPE);
    CHECK_CONTAINS(e.message, "batch_size");
    CHECK_STATUS(selfmm_config_set(&c, "batch_size", "2.5", &e), SELFMM_ERR_TYPE);
    CHECK_CONTAINS(e.message, "expected an integer, got 2.5");
    CHECK_STATUS(selfmm_config_set(&c, "batch_size", "0", &e), SELFMM_ERR_RANGE);
    CHECK_CONTAINS(e.message, "batch_size");
    CHECK_STATUS(selfmm_config_set(&c, "post_fusion_dropout", "1", &e), SELFMM_ERR_RANGE);
    CHECK_STATUS(selfmm_config_set(&c, "learning_rate_bert", "nan", &e), SELFMM_ERR_RANGE);
    CHECK_STATUS(selfmm_config_set(&c, "shuffle", "maybe", &e), SELFMM_ERR_TYPE);
    CHECK_STATUS(selfmm_config_set(&c, "dataset", "imdb", &e), SELFMM_ERR_RANGE);
    CHECK_INT(c.batch_size, 8); /* untouched by the failures */
}

/* One rule for every JSON read, Python's json.loads: a repeated key takes its last
 * value (a BERT config.json repeating num_hidden_layers builds the model Python
 * builds), nested objects included; numbers are JSON's decimal grammar; the text is
 * UTF-8 with no raw control characters and nothing after the value. */
TEST(json_is_read_as_python_reads_it)
{
    selfmm_config c;
    selfmm_error e = {0};
    selfmm_config_default(&c);
    REQUIRE_OK(selfmm_config_from_json(&c, "{\"batch_size\": 8, \"H\": 2, \"batch_size\": 16}", &e), e.message);
    CHECK_INT(c.batch_size, 16);
    /* the first value would fail validation: only the last one is ever looked at */
    REQUIRE_OK(selfmm_config_from_json(&c, "{\"batch_size\": 0, \"batch_size\": 4}", &e), e.message);
    CHECK_INT(c.batch_size, 4);
    REQUIRE_OK(selfmm_config_load_json(&c, tmpfile_with("dup.json", "{\"seed\": 1, \"seed\": 2, \"seed\": 3}"), &e),
               e.message);
    CHECK_INT(c.seed, 3);
    /* BERT's config.json: two layers first, one last -> one, as transformers builds it */
    const char *bert = "{\"vocab_size\": 99, \"hidden_size\": 8, \"num_hidden_layers\": 2, "
                       "\"num_attention_heads\": 2, \"intermediate_size\": 16, "
                       "\"max_position_embeddings\": 32, \"num_hidden_layers\": 1}";
    REQUIRE_OK(selfmm_config_load_bert_json(&c, tmpfile_with("config.json", bert), &e), e.message);
    CHECK_INT(c.num_hidden_layers, 1);
    /* nested objects: the last "a" of the inner object, the last "k" of the outer */
    cJSON *root = NULL;
    REQUIRE_OK(sm_json_parse("{\"k\": {\"a\": 1, \"a\": 2}, \"x\": [{\"b\": 1, \"b\": 5}], \"k\": {\"a\": 3, \"a\": 4}}",
                             "t", &root, &e), e.message);
    CHECK_INT(cJSON_GetArraySize(root), 2);
    CHECK_INT(cJSON_GetObjectItem(cJSON_GetObjectItem(root, "k"), "a")->valueint, 4);
    CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItem(root, "k")), 1);
    CHECK_INT(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(root, "x"), 0), "b")->valueint, 5);
    cJSON_Delete(root);
    /* what Python's json refuses, we refuse, at the right place */
    static const struct { const char *text, *where; } bad[] = {
        {"{\"batch_size\": 0x10}", "column 16: not a JSON number"},
        {"{\"batch_size\": 016}", "column 16: not a JSON number"},
        {"{\"H\": 1.}", "column 7: not a JSON number"},
        {"{\"H\": .5}", "column 7"},
        {"{\"H\": +1}", "column 7"},
        {"{\"H\": 1e}", "column 7: not a JSON number"},
        {"{\"H\": NaN}", "column 7"},
        {"{\"H\": Infinity}", "column 7"},
        {"{\"H\": 1} x", "column 10: more after the JSON value"},
        {"{\"H\": 1}{}", "column 9: more after the JSON value"},
        {"{\"data_path\": \"a\tb\"}", "column 17: control character in a string"},
        {"{\"data_path\": \"\xff\"}", "column 16: not UTF-8"},
        {"{\"data_path\": \"\xc3\"}", "column 16: not UTF-8"},
        {"\x0c{}", "column 1: control character"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_STATUS(selfmm_config_from_json(&c, bad[i].text, &e), SELFMM_ERR_PARSE);
        CHECK_CONTAINS(e.message, bad[i].where);
    }
    /* and what it accepts */
    REQUIRE_OK(selfmm_config_from_json(&c, " \r\n\t{\"H\": 0.5e+1, \"data_path\": \"\\u00e9\xc3\xa9\"}\n ", &e), e.message);
    CHECK(c.H == 5.0);
    CHECK_STR(c.data_path, "\xc3\xa9\xc3\xa9");
}

/* Numbers given as text (--set, label.csv, feature CSVs) are decimal only, as
 * Python's float() reads them: no hex, no "0x", no C99 "nan(...)". */
TEST(set_takes_decimal_numbers_only)
{
    selfmm_config c;
    selfmm_error e = {0};
    selfmm_config_default(&c);
    static const char *const bad[] = {"0x10", "0X10", "0x1p4", "1e", "--1", "1_0", "nan(1)", "", " ", "1 2", "inf"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_MSG(selfmm_config_set(&c, "batch_size", bad[i], &e) != SELFMM_OK, "batch_size=%s accepted", bad[i]);
        CHECK_INT(c.batch_size, 32);
    }
    CHECK_STATUS(selfmm_config_set(&c, "batch_size", "0x10", &e), SELFMM_ERR_TYPE);
    CHECK_CONTAINS(e.message, "config key \"batch_size\": expected an integer, got \"0x10\"");
    static const struct { const char *text; double v; } good[] = {
        {"16", 16}, {"+16", 16}, {" 16 ", 16}, {"1.6e1", 16}, {"016", 16}, {"16.", 16}, {"160e-1", 16},
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        c.batch_size = 1;
        CHECK_OK(selfmm_config_set(&c, "batch_size", good[i].text, &e), e.message);
        CHECK_INT(c.batch_size, (int)good[i].v);
    }
    CHECK_OK(selfmm_config_set(&c, "learning_rate_bert", ".5e-4", &e), e.message);
    CHECK(c.learning_rate_bert == 0.5e-4);
    /* "inf" and "nan" are numbers to Python, and out of every key's range */
    CHECK_STATUS(selfmm_config_set(&c, "H", "inf", &e), SELFMM_ERR_RANGE);
    CHECK_STATUS(selfmm_config_set(&c, "H", "-Infinity", &e), SELFMM_ERR_RANGE);
    CHECK_STATUS(selfmm_config_set(&c, "H", "NaN", &e), SELFMM_ERR_RANGE);
    CHECK_STATUS(selfmm_config_set(&c, "H", "1e999", &e), SELFMM_ERR_RANGE);
}

TEST(bad_json_cases_each_have_their_status)
{
    selfmm_config c, before;
    selfmm_error e = {0};
    selfmm_config_default(&c);
    before = c;
    /* unknown key */
    CHECK_STATUS(selfmm_config_load_json(&c, tmpfile_with("u.json", "{\"batch_size\": 8, \"lr\": 1}"), &e),
                 SELFMM_ERR_UNKNOWN_KEY);
    CHECK_CONTAINS(e.message, "\"lr\"");
    /* wrong type */
    CHECK_STATUS(selfmm_config_load_json(&c, tmpfile_with("t.json", "{\"batch_size\": \"8\"}"), &e),
                 SELFMM_ERR_TYPE);
    CHECK_CONTAINS(e.message, "batch_size");
    CHECK_STATUS(selfmm_config_from_json(&c, "{\"exclude_zero\": 1}", &e), SELFMM_ERR_TYPE);
    CHECK_CONTAINS(e.message, "exclude_zero");
    CHECK_STATUS(selfmm_config_from_json(&c, "{\"H\": null}", &e), SELFMM_ERR_TYPE);
    CHECK_STATUS(selfmm_config_from_json(&c, "{\"batch_size\": 2.5}", &e), SELFMM_ERR_TYPE);
    CHECK_CONTAINS(e.message, "expected an integer, got 2.5");
    CHECK_STATUS(selfmm_config_from_json(&c, "[1, 2]", &e), SELFMM_ERR_TYPE);
    /* out of range */
    CHECK_STATUS(selfmm_config_load_json(&c, tmpfile_with("r.json", "{\"H\": -1}"), &e), SELFMM_ERR_RANGE);
    CHECK_CONTAINS(e.message, "\"H\"");
    CHECK_STATUS(selfmm_config_from_json(&c, "{\"hidden_size\": 100, \"num_attention_heads\": 12}", &e),
                 SELFMM_ERR_RANGE);
    CHECK_CONTAINS(e.message, "num_attention_heads");
    /* malformed */
    CHECK_STATUS(selfmm_config_load_json(&c, tmpfile_with("m.json", "{\n  \"batch_size\": 8,\n  oops\n}"), &e),
                 SELFMM_ERR_PARSE);
    CHECK_CONTAINS(e.message, "line 3");
    CHECK_STATUS(selfmm_config_from_json(&c, "", &e), SELFMM_ERR_PARSE);
    CHECK_STATUS(selfmm_config_from_json(&c, "{} trailing", &e), SELFMM_ERR_PARSE);
    /* a NUL byte: the parser would stop there and ignore the rest ("lr" here) */
    {
        char nulpath[512];
        snprintf(nulpath, sizeof nulpath, "%s/nul.json", tmpdir);
        FILE *fp = fopen(nulpath, "wb");
        REQUIRE(fp);
        fwrite("{\"batch_size\": 8}\n\0{\"lr\": 1}", 1, 29, fp);
        fclose(fp);
        CHECK_STATUS(selfmm_config_load_json(&c, nulpath, &e), SELFMM_ERR_PARSE);
        CHECK_CONTAINS(e.message, "malformed JSON at line 2, column 1: NUL byte");
    }
    /* missing file */
    CHECK_STATUS(selfmm_config_load_json(&c, "/nonexistent/dir/cfg.json", &e), SELFMM_ERR_NOT_FOUND);
    CHECK_CONTAINS(e.message, "/nonexistent/dir/cfg.json");
    /* a directory is not a config file */
    CHECK_STATUS(selfmm_config_load_json(&c, tmpdir, &e), SELFMM_ERR_IO);
    /* nothing was applied by any failure */
    CHECK(config_equal(&c, &before));
    /* NULL arguments */
    CHECK_STATUS(selfmm_config_load_json(NULL, "x", &e), SELFMM_ERR_INVALID_ARG);
    CHECK_STATUS(selfmm_config_from_json(&c, NULL, NULL), SELFMM_ERR_INVALID_ARG);
}

TEST(bert_config_json)
{
    selfmm_config c;
    selfmm_error e = {0};
    selfmm_config_default(&c);
    REQUIRE_OK(selfmm_config_load_bert_json(&c, "tests/fixtures/shared/bert/bert_en", &e), e.message);
    CHECK_INT(c.vocab_size, 30522);
    CHECK_INT(c.hidden_size, 768);
    CHECK_INT(c.num_hidden_layers, 12);
    CHECK_CLOSE(c.layer_norm_eps, 1e-12, 0, 0);
    REQUIRE_OK(selfmm_config_load_bert_json(&c, "tests/fixtures/shared/bert/bert_cn/config.json", &e),
               e.message);
    CHECK_INT(c.vocab_size, 21128);
    REQUIRE_OK(selfmm_config_load_bert_json(&c, "tests/fixtures/shared/checkpoints/coldfire_tiny_bert_safetensors", &e),
               e.message);
    CHECK_INT(c.hidden_size, 32);
    CHECK_INT(c.num_attention_heads, 4);
    CHECK_INT(c.max_position_embeddings, 128);
    CHECK_STATUS(selfmm_config_load_bert_json(&c, tmpfile_with("gpt.json",
                 "{\"model_type\":\"gpt2\",\"vocab_size\":5}"), &e), SELFMM_ERR_UNSUPPORTED);
    CHECK_STATUS(selfmm_config_load_bert_json(&c, tmpfile_with("act.json",
                 "{\"hidden_act\":\"relu\",\"vocab_size\":5}"), &e), SELFMM_ERR_UNSUPPORTED);
    CHECK_STATUS(selfmm_config_load_bert_json(&c, tmpfile_with("miss.json", "{\"vocab_size\":5}"), &e),
                 SELFMM_ERR_MISSING);
    CHECK_CONTAINS(e.message, "hidden_size");
    /* each key is checked as in our own JSON, and the message names file and key */
    static const char *const sizes = "\"vocab_size\":5,\"hidden_size\":8,\"num_hidden_layers\":1,"
                                     "\"num_attention_heads\":2,\"intermediate_size\":4,"
                                     "\"max_position_embeddings\":16";
    char json[512];
    snprintf(json, sizeof json, "{%s,\"type_vocab_size\":2.5}", sizes);
    CHECK_STATUS(selfmm_config_load_bert_json(&c, tmpfile_with("frac.json", json), &e), SELFMM_ERR_TYPE);
    CHECK_CONTAINS(e.message, "frac.json");
    CHECK_CONTAINS(e.message, "type_vocab_size");
    snprintf(json, sizeof json, "{%s,\"hidden_dropout_prob\":1.5}", sizes);
    CHECK_STATUS(selfmm_config_load_bert_json(&c, tmpfile_with("drop.json", json), &e), SELFMM_ERR_RANGE);
    CHECK_CONTAINS(e.message, "hidden_dropout_prob");
    snprintf(json, sizeof json, "{%s,\"layer_norm_eps\":\"1e-12\"}", sizes);
    CHECK_STATUS(selfmm_config_load_bert_json(&c, tmpfile_with("eps.json", json), &e), SELFMM_ERR_TYPE);
    CHECK_INT(c.hidden_size, 32); /* untouched by the failures */
    snprintf(json, sizeof json, "{%s}", sizes);
    CHECK_OK(selfmm_config_load_bert_json(&c, tmpfile_with("ok.json", json), &e), e.message);
    CHECK_INT(c.hidden_size, 8);
    CHECK_CLOSE(c.layer_norm_eps, 1e-12, 0, 0); /* BertConfig's default when absent */
}

TEST(strerror_covers_every_status)
{
    for (int s = SELFMM_OK; s <= SELFMM_ERR_INTERRUPTED; s++)
        CHECK(strcmp(selfmm_strerror((selfmm_status)s), "unknown status") != 0);
    CHECK_STR(selfmm_strerror((selfmm_status)999), "unknown status");
    CHECK_STR(selfmm_version_string(), SELFMM_VERSION_STRING);
    CHECK_INT(selfmm_version_number(), SELFMM_VERSION_NUMBER);
}

TEST(modality_names)
{
    CHECK_STR(selfmm_modality_name(SELFMM_FUSION), "fusion");
    CHECK_STR(selfmm_modality_name(SELFMM_TEXT), "text");
    CHECK_STR(selfmm_modality_name(SELFMM_AUDIO), "audio");
    CHECK_STR(selfmm_modality_name(SELFMM_VISION), "vision");
    CHECK(selfmm_modality_name(-1) == NULL && selfmm_modality_name(4) == NULL);
}

TEST(threads_setting)
{
    selfmm_error e = {0};
    CHECK_OK(selfmm_set_threads(1, &e), e.message);
    CHECK_INT(selfmm_get_threads(), 1);
    CHECK_STATUS(selfmm_set_threads(-1, &e), SELFMM_ERR_RANGE);
    CHECK_CONTAINS(e.message, "-1");
    CHECK_STATUS(selfmm_set_threads(100000, NULL), SELFMM_ERR_RANGE);
    CHECK_INT(selfmm_get_threads(), 1);
    CHECK_OK(selfmm_set_threads(0, NULL), "");
    CHECK(selfmm_get_threads() >= 1);
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/selfmm_test_config_XXXXXX");
    if (!mkdtemp(tmpdir)) return 1;
    RUN(presets_match_spec);
    RUN(json_round_trip_is_exact);
    RUN(set_by_name);
    RUN(json_is_read_as_python_reads_it);
    RUN(set_takes_decimal_numbers_only);
    RUN(bad_json_cases_each_have_their_status);
    RUN(bert_config_json);
    RUN(strerror_covers_every_status);
    RUN(modality_names);
    RUN(threads_setting);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    if (system(cmd) != 0) return 1;
    return h_finish();
}
