/* test_build.c -- datasets from the user's own files: the CSV reader, the per-clip
 * feature reader, selfmm_dataset_build against what MMSA-FET's rules give
 * (tools/gen_build_fixtures.py, with pandas and NumPy), normalisation and its
 * .npz round trip, and one case per kind of bad input in the report. */
#include "harness.h"

#include "core/file.h"
#include "data/dataset.h"
#include "io/npy.h"
#include "io/csv.h"
#include "data/features.h"
#include "support/fixture.h"
#include "support/testfile.h"

#include <cJSON.h>
#include <ftw.h>
#include <stdint.h>
#include <unistd.h>
#include <zip.h>

#define FXB "tests/fixtures/build/"
#define TINY "tests/fixtures/shared/checkpoints/coldfire_tiny_bert_safetensors"

static const char *const split_name[3] = {"train", "valid", "test"};

static selfmm_tokenizer *tiny_tokenizer(void)
{
    static selfmm_tokenizer *tok;
    selfmm_error err = {0};
    if (!tok && selfmm_tokenizer_load(TINY, NULL, &tok, &err) != SELFMM_OK)
        printf("# tiny tokenizer: %s\n", err.message);
    return tok;
}

/* ---- the CSV reader ---- */

/* Records of text joined as "f1|f2;f1;..." with bad records as "!<line>:<problem>". */
static void csv_records(const char *text, size_t n, char *out, size_t cap, int *lines)
{
    sm_csv c;
    sm_csv_init(&c, text, n);
    size_t o = 0;
    int k, r = 0;
    out[0] = '\0';
    while ((k = sm_csv_next(&c)) != SM_CSV_END && k != SM_CSV_NOMEM) {
        if (lines) lines[r++] = c.rec_line;
        if (k == SM_CSV_BAD) {
            o += (size_t)snprintf(out + o, cap - o, "!%d:%s;", c.rec_line, c.problem);
            continue;
        }
        for (int i = 0; i < c.n; i++)
            o += (size_t)snprintf(out + o, cap - o, "%s%s", i ? "|" : "", sm_csv_field(&c, i));
        o += (size_t)snprintf(out + o, cap - o, ";");
    }
    sm_csv_free(&c);
}

TEST(csv_quoting_and_line_ends)
{
    char got[1024];
    int lines[16];
    const char t1[] = "\xEF\xBB\xBF" "a,b,c\r\n1,\"x, y\",\"say \"\"hi\"\"\"\r\n\r\n  \n2,\"two\nlines\",z\n3,,\n";
    csv_records(t1, sizeof t1 - 1, got, sizeof got, lines);
    CHECK_STR(got, "a|b|c;1|x, y|say \"hi\";2|two\nlines|z;3||;");
    CHECK_INT(lines[0], 1);
    CHECK_INT(lines[1], 2);
    CHECK_INT(lines[2], 5);  /* after two blank lines */
    CHECK_INT(lines[3], 7);  /* the quoted line break counts */
    /* lone CR ends a record; CRLF inside quotes is kept; no final newline */
    const char t2[] = "a,b\r\"p\r\nq\",r\rlast,x";
    csv_records(t2, sizeof t2 - 1, got, sizeof got, lines);
    CHECK_STR(got, "a|b;p\r\nq|r;last|x;");
    CHECK_INT(lines[2], 4);
    /* a quote inside an unquoted field is a character (pandas); space after a
     * closing quote is tolerated */
    const char t3[] = "ab\"c,\"d\"  ,e\n";
    csv_records(t3, sizeof t3 - 1, got, sizeof got, NULL);
    CHECK_STR(got, "ab\"c|d|e;");
}

TEST(csv_bad_records_are_skipped_and_named)
{
    char got[1024];
    const char t1[] = "a,b\n\"x\"y,1\nok,2\n";
    csv_records(t1, sizeof t1 - 1, got, sizeof got, NULL);
    CHECK_STR(got, "a|b;!2:text after the closing quote of field 1;ok|2;");
    const char t2[] = "a,b\n1,\"never\nclosed\n";
    csv_records(t2, sizeof t2 - 1, got, sizeof got, NULL);
    CHECK_STR(got, "a|b;!2:the quoted field opened on line 2 is never closed;");
    const char t3[] = "a,b\n1,x\0y\n2,z\n";
    csv_records(t3, sizeof t3 - 1, got, sizeof got, NULL);
    CHECK_STR(got, "a|b;!2:NUL byte in field 2;2|z;");
    csv_records("", 0, got, sizeof got, NULL);
    CHECK_STR(got, "");
    csv_records("\n\n \t\r\n", 6, got, sizeof got, NULL);
    CHECK_STR(got, "");
}

/* ---- the feature reader ---- */

static fx_file fx;
static int fx_ok;

static const fx_tensor *expect(const char *name)
{
    const fx_tensor *t = fx_ok ? fx_get(&fx, name) : NULL;
    if (!t) printf("# fixture has no %s\n", name);
    return t;
}

static void find_feature(char *out, size_t cap, const char *dir, const char *key)
{
    snprintf(out, cap, "%s%s.npy", dir, key);
    if (access(out, F_OK) != 0) snprintf(out, cap, "%s%s.csv", dir, key);
}

TEST(features_every_form_exactly)
{
    /* f4, f8, >f4, Fortran order, CSV, CSV with a header, quoted and spaced CSV */
    static const char *const keys[] = {"audio/vidA/0001", "audio/vid_B/2", "audio/v-3/0003",
                                       "audio/vidA/4", "audio/vid_B/0005", "audio/v-3/6",
                                       "audio/vidA/0007", "vision/vidA/0001", "vision/vid_B/2"};
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
        char path[256], name[64];
        find_feature(path, sizeof path, FXB, keys[i]);
        snprintf(name, sizeof name, "raw/%s", keys[i]);
        const fx_tensor *want = expect(name);
        float *x = NULL;
        int T = 0, D = 0;
        selfmm_error err = {0};
        CHECK_OK(selfmm_features_load(path, &x, &T, &D, &err), err.message);
        if (!x || !want) continue;
        CHECK_INT(T, want->dims[0]);
        CHECK_INT(D, want->dims[1]);
        if (T * D == want->numel) CHECK_CLOSE_F32(path, x, want->f32, want->numel, 0, 0);
        selfmm_features_free(x);
    }
}

static char scratch[1024];

static void put(const char *rel, const void *data, size_t n)
{
    char path[1400], dir[1400];
    snprintf(path, sizeof path, "%s/%s", scratch, rel);
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = '\0';
    sm_mkdirs(dir, NULL);
    if (tf_write(path, data, n) != 0) printf("# cannot write %s\n", path);
}

static void put_text(const char *rel, const char *text) { put(rel, text, strlen(text)); }

/* A .npy from a dict and raw bytes. */
static void put_npy(const char *rel, const char *descr, int fortran, int ndim, const int64_t *shape,
                    const void *data, size_t bytes)
{
    uint8_t *h = NULL;
    size_t hn = 0;
    sm_npy_make_header(descr, fortran, ndim, shape, &h, &hn, NULL);
    uint8_t *all = malloc(hn + bytes + 1);
    memcpy(all, h, hn);
    if (bytes) memcpy(all + hn, data, bytes);
    put(rel, all, hn + bytes);
    free(all);
    free(h);
}

/* Read a scratch file; returns the status and leaves the message in err. */
static selfmm_status read_feat(const char *rel, int *T, int *D, selfmm_error *err)
{
    char path[1400];
    snprintf(path, sizeof path, "%s/%s", scratch, rel);
    float *x = NULL;
    selfmm_status st = selfmm_features_load(path, &x, T, D, err);
    selfmm_features_free(x);
    return st;
}

static void feature_fails(const char *rel, selfmm_status want, const char *fragment)
{
    int T, D;
    selfmm_error err = {0};
    selfmm_status st = read_feat(rel, &T, &D, &err);
    CHECK_MSG(st == want, "%s: %s, expected %s (%s)", rel, selfmm_strerror(st), selfmm_strerror(want),
              err.message);
    CHECK_CONTAINS(err.message, fragment);
    CHECK_CONTAINS(err.message, rel); /* the file is named */
}

TEST(features_csv_rules)
{
    int T = 0, D = 0;
    selfmm_error err = {0};
    put_text("f/plain.csv", "1,2,3\n4,5,6\n");
    CHECK_OK(read_feat("f/plain.csv", &T, &D, &err), err.message);
    CHECK_INT(T, 2);
    CHECK_INT(D, 3);
    put_text("f/header.csv", "\xEF\xBB\xBF" "mfcc0, mfcc1\r\n0.5, -1e-3\r\n\r\n2,3\r\n");
    CHECK_OK(read_feat("f/header.csv", &T, &D, &err), err.message);
    CHECK_INT(T, 2);
    CHECK_INT(D, 2);
    put_text("f/onecol.csv", "7\n8\n9\n");
    CHECK_OK(read_feat("f/onecol.csv", &T, &D, &err), err.message);
    CHECK_INT(T, 3);
    CHECK_INT(D, 1);

    put_text("f/ragged.csv", "1,2,3\n4,5\n");
    feature_fails("f/ragged.csv", SELFMM_ERR_SHAPE, "line 2 has 2 values, line 1 has 3");
    put_text("f/mixed.csv", "f0,1\n2,3\n");
    feature_fails("f/mixed.csv", SELFMM_ERR_PARSE, "line 1 mixes numbers and text");
    put_text("f/text.csv", "1,2\n3,abc\n");
    feature_fails("f/text.csv", SELFMM_ERR_PARSE, "line 2, column 2: not a number: \"abc\"");
    /* decimal only: a hex float is text, not 16 */
    put_text("f/hex.csv", "1,2\n3,0x10\n");
    feature_fails("f/hex.csv", SELFMM_ERR_PARSE, "line 2, column 2: not a number: \"0x10\"");
    put_text("f/hexfloat.csv", "0x1p3,2\n3,4\n");
    feature_fails("f/hexfloat.csv", SELFMM_ERR_PARSE, "line 1 mixes numbers and text");
    put_text("f/cnan.csv", "1,2\nnan(0x1),4\n");
    feature_fails("f/cnan.csv", SELFMM_ERR_PARSE, "line 2, column 1: not a number: \"nan(0x1)\"");
    put_text("f/emptycell.csv", "1,2\n3,\n");
    feature_fails("f/emptycell.csv", SELFMM_ERR_PARSE, "line 2, column 2: empty value");
    /* a hole in the first row is an empty value too, not a half header */
    put_text("f/emptyfirst.csv", "1,,3\n4,5,6\n");
    feature_fails("f/emptyfirst.csv", SELFMM_ERR_PARSE, "line 1, column 2: empty value");
    put_text("f/nan.csv", "1,2\n3,4\nnan,inf\n-inf,5\n");
    feature_fails("f/nan.csv", SELFMM_ERR_DATA, "line 3, column 1: NaN (3 non-finite values in the file)");
    put_text("f/big.csv", "1,1e39\n");
    feature_fails("f/big.csv", SELFMM_ERR_DATA, "line 1, column 2: beyond float32's range");
    put_text("f/empty.csv", "");
    feature_fails("f/empty.csv", SELFMM_ERR_DATA, "an empty file");
    put_text("f/headeronly.csv", "a,b,c\n");
    feature_fails("f/headeronly.csv", SELFMM_ERR_DATA, "no rows of numbers");
    put_text("f/quote.csv", "1,\"2\n");
    feature_fails("f/quote.csv", SELFMM_ERR_PARSE, "line 1: the quoted field opened on line 1 is never closed");
}

TEST(features_npy_rules)
{
    const float v[6] = {1, 2, 3, 4, 5, 6};
    const int64_t s23[2] = {2, 3}, s6[1] = {6}, s03[2] = {0, 3}, s123[3] = {1, 2, 3};
    put_npy("n/ok.npy", "<f4", 0, 2, s23, v, sizeof v);
    int T = 0, D = 0;
    selfmm_error err = {0};
    CHECK_OK(read_feat("n/ok.npy", &T, &D, &err), err.message);
    CHECK_INT(T, 2);
    CHECK_INT(D, 3);
    put_npy("n/fortran.npy", "<f4", 1, 2, s23, v, sizeof v);
    char path[1400];
    snprintf(path, sizeof path, "%s/n/fortran.npy", scratch);
    float *x = NULL;
    REQUIRE_OK(selfmm_features_load(path, &x, &T, &D, &err), err.message);
    const float want[6] = {1, 3, 5, 2, 4, 6}; /* column-major (2, 3) */
    CHECK_CLOSE_F32("fortran", x, want, 6, 0, 0);
    selfmm_features_free(x);

    put_npy("n/flat.npy", "<f4", 0, 1, s6, v, sizeof v);
    feature_fails("n/flat.npy", SELFMM_ERR_SHAPE, "shape (6,): expected (T, D)");
    put_npy("n/three.npy", "<f4", 0, 3, s123, v, sizeof v);
    feature_fails("n/three.npy", SELFMM_ERR_SHAPE, "shape (1, 2, 3)");
    put_npy("n/empty.npy", "<f4", 0, 2, s03, v, 0);
    feature_fails("n/empty.npy", SELFMM_ERR_DATA, "shape (0, 3): an empty feature file");
    const int64_t iv[6] = {1, 2, 3, 4, 5, 6};
    put_npy("n/int.npy", "<i8", 0, 2, s23, iv, sizeof iv);
    feature_fails("n/int.npy", SELFMM_ERR_UNSUPPORTED, "dtype int64: features must be float32 or float64");
    put_npy("n/short.npy", "<f4", 0, 2, s23, v, sizeof v - 4);
    feature_fails("n/short.npy", SELFMM_ERR_FORMAT, "needs 24 data bytes, the file holds 20");
    const double dv[6] = {1, NAN, 3, INFINITY, 1e300, 6};
    put_npy("n/nan.npy", "<f8", 0, 2, s23, dv, sizeof dv);
    feature_fails("n/nan.npy", SELFMM_ERR_DATA, "step 0, feature 1: NaN (3 non-finite values in the file)");
    const double big[6] = {1, 2, 3, 4, 1e300, 6};
    put_npy("n/big.npy", "<f8", 0, 2, s23, big, sizeof big);
    feature_fails("n/big.npy", SELFMM_ERR_DATA, "step 1, feature 1: beyond float32's range");
    feature_fails("n/none.npy", SELFMM_ERR_NOT_FOUND, "no such file");
}

/* ---- building from the fixture folder ---- */

static selfmm_status build_fixture(int normalize, selfmm_dataset **ds, char **report, selfmm_error *err)
{
    selfmm_build_options o;
    selfmm_build_options_default(&o);
    o.labels = FXB "label.csv";
    o.audio_dir = FXB "audio";
    o.vision_dir = FXB "vision";
    o.tokenizer = tiny_tokenizer();
    o.max_positions = 128;
    o.normalize = normalize;
    return selfmm_dataset_build(&o, ds, report, err);
}

static cJSON *expected_strings(void)
{
    size_t n;
    char *text = (char *)tf_read(FXB "expected_strings.json", &n);
    cJSON *j = text ? cJSON_Parse(text) : NULL;
    free(text);
    return j;
}

static void check_strings(const cJSON *j, const char *split, const char *field, const char *const *got, int n)
{
    const cJSON *a = cJSON_GetObjectItem(cJSON_GetObjectItem(j, split), field);
    CHECK_MSG(got != NULL, "%s/%s missing", split, field);
    CHECK_MSG(cJSON_GetArraySize(a) == n, "%s/%s: %d strings, expected %d", split, field, n,
              cJSON_GetArraySize(a));
    for (int i = 0; got && i < n && i < cJSON_GetArraySize(a); i++)
        CHECK_MSG(!strcmp(got[i], cJSON_GetArrayItem(a, i)->valuestring), "%s/%s[%d] = \"%s\", expected \"%s\"",
                  split, field, i, got[i], cJSON_GetArrayItem(a, i)->valuestring);
}

static void check_i32(const char *what, const int32_t *got, const fx_tensor *want, int n)
{
    if (!want) return;
    CHECK_INT(want->numel, n);
    int bad = 0;
    for (int i = 0; i < n && i < want->numel; i++) bad += got[i] != (int32_t)want->f64[i];
    CHECK_MSG(!bad, "%s: %d of %d values differ", what, bad, n);
}

TEST(build_matches_mmsa_fet_rules)
{
    selfmm_dataset *ds = NULL;
    selfmm_error err = {0};
    char *report = NULL;
    REQUIRE_OK(build_fixture(0, &ds, &report, &err), err.message);
    CHECK_CONTAINS(report, "24 rows: train 14, valid 5, test 5");
    CHECK_CONTAINS(report, "normalisation: off");
    selfmm_free_string(report);
    cJSON *js = expected_strings();
    selfmm_norm nm;
    CHECK_STATUS(selfmm_dataset_norm(ds, &nm), SELFMM_ERR_MISSING);
    for (int s = 0; s < 3; s++) {
        selfmm_split_view v;
        REQUIRE_OK(selfmm_dataset_split(ds, (selfmm_split)s, &v), selfmm_dataset_errmsg(ds));
        char name[64];
        const fx_tensor *t;
        if ((t = expect("text_len"))) CHECK_INT(v.text_len, t->f64[0]);
        if ((t = expect("audio_len"))) CHECK_INT(v.audio_len, t->f64[0]);
        if ((t = expect("vision_len"))) CHECK_INT(v.vision_len, t->f64[0]);
        CHECK_INT(v.audio_dim, 5);
        CHECK_INT(v.vision_dim, 7);
        snprintf(name, sizeof name, "%s/audio", split_name[s]);
        if ((t = expect(name)) && t->numel == (long long)v.n * v.audio_len * v.audio_dim)
            CHECK_CLOSE_F32(name, v.audio, t->f32, t->numel, 0, 0);
        snprintf(name, sizeof name, "%s/vision", split_name[s]);
        if ((t = expect(name)) && t->numel == (long long)v.n * v.vision_len * v.vision_dim)
            CHECK_CLOSE_F32(name, v.vision, t->f32, t->numel, 0, 0);
        snprintf(name, sizeof name, "%s/audio_lengths", split_name[s]);
        check_i32(name, v.audio_lengths, expect(name), v.n);
        snprintf(name, sizeof name, "%s/vision_lengths", split_name[s]);
        check_i32(name, v.vision_lengths, expect(name), v.n);
        snprintf(name, sizeof name, "%s/labels", split_name[s]);
        if ((t = expect(name)) && t->numel == v.n) CHECK_CLOSE_F32(name, v.labels, t->f32, v.n, 0, 0);
        for (int k = 1; k <= 3; k++) {
            snprintf(name, sizeof name, "%s/labels_%c", split_name[s], "MTAV"[k]);
            CHECK_MSG(v.labels_unimodal[k] != NULL, "%s absent", name);
            if ((t = expect(name)) && t->numel == v.n && v.labels_unimodal[k])
                CHECK_CLOSE_F32(name, v.labels_unimodal[k], t->f32, v.n, 0, 0);
        }
        check_strings(js, split_name[s], "id", v.ids, v.n);
        check_strings(js, split_name[s], "raw_text", v.raw_text, v.n);
        /* text_bert is selfmm_tokenizer_encode of the raw text at L, and the token
         * counts behind the auto length are the fixture's */
        snprintf(name, sizeof name, "%s/ntokens", split_name[s]);
        const fx_tensor *nt = expect(name);
        int32_t *enc = malloc((size_t)v.text_len * 3 * sizeof *enc);
        for (int i = 0; enc && i < v.n; i++) {
            int n_tok = 0;
            CHECK_OK(selfmm_tokenizer_encode(tiny_tokenizer(), v.raw_text[i], SELFMM_NUL_TERMINATED,
                                             v.text_len, enc, enc + v.text_len, enc + 2 * v.text_len,
                                             &n_tok), "encode");
            CHECK_MSG(!memcmp(enc, v.text_bert + (size_t)i * 3 * v.text_len,
                              (size_t)v.text_len * 3 * sizeof *enc), "%s sample %d: text_bert differs",
                      split_name[s], i);
            if (nt && i < nt->numel) CHECK_INT(n_tok, nt->f64[i]);
        }
        free(enc);
    }
    /* annotations are kept (the npz holds them; the split view does not show them) */
    for (int s = 0; s < 3; s++)
        check_strings(js, split_name[s], "annotations", (const char *const *)ds->split[s].annotations,
                      ds->split[s].n);
    cJSON_Delete(js);
    selfmm_dataset_free(ds);
}

TEST(build_given_lengths_and_cap)
{
    selfmm_build_options o;
    selfmm_build_options_default(&o);
    o.labels = FXB "label.csv", o.audio_dir = FXB "audio", o.vision_dir = FXB "vision";
    o.tokenizer = tiny_tokenizer();
    o.max_len = 6, o.audio_len = 4, o.vision_len = 50;
    selfmm_dataset *ds = NULL;
    selfmm_error err = {0};
    char *report = NULL;
    REQUIRE_OK(selfmm_dataset_build(&o, &ds, &report, &err), err.message);
    CHECK_CONTAINS(report, "text: L = 6 (given)");
    selfmm_free_string(report);
    selfmm_split_view v;
    selfmm_dataset_split(ds, SELFMM_SPLIT_TRAIN, &v);
    CHECK_INT(v.text_len, 6);
    CHECK_INT(v.audio_len, 4);
    CHECK_INT(v.vision_len, 50);
    int bad = 0, cut = 0;
    const int32_t cls = selfmm_tokenizer_token_id(tiny_tokenizer(), "[CLS]");
    const int32_t sep = selfmm_tokenizer_token_id(tiny_tokenizer(), "[SEP]");
    for (int i = 0; i < v.n; i++) {
        bad += v.audio_lengths[i] < 1 || v.audio_lengths[i] > 4;
        const int32_t *ids = v.text_bert + (size_t)i * 18, *mask = ids + 6;
        int real = 0, seps = 0;
        for (int k = 0; k < 6; k++) real += mask[k], seps += ids[k] == sep;
        /* [CLS] first, exactly one [SEP], last of the real tokens, also in a cut text */
        bad += ids[0] != cls || seps != 1 || ids[real - 1] != sep;
        cut += real == 6;
    }
    CHECK_INT(bad, 0);
    CHECK(cut > 0);
    selfmm_dataset_free(ds);
    /* an explicit length beyond BERT's positions is refused; auto is lowered */
    o.max_len = 200, o.max_positions = 128;
    CHECK_STATUS(selfmm_dataset_build(&o, &ds, NULL, &err), SELFMM_ERR_RANGE);
    CHECK_CONTAINS(err.message, "max_len 200 exceeds max_positions 128");
    o.max_len = 0, o.max_positions = 12;
    REQUIRE_OK(selfmm_dataset_build(&o, &ds, &report, &err), err.message);
    CHECK_CONTAINS(report, "lowered to max_positions");
    selfmm_dataset_split(ds, SELFMM_SPLIT_TRAIN, &v);
    CHECK_INT(v.text_len, 12);
    selfmm_free_string(report);
    selfmm_dataset_free(ds);
}

TEST(normalisation_stats_and_npz_round_trip)
{
    selfmm_dataset *ds = NULL, *back = NULL;
    selfmm_error err = {0};
    REQUIRE_OK(build_fixture(1, &ds, NULL, &err), err.message);
    selfmm_norm n;
    REQUIRE_OK(selfmm_dataset_norm(ds, &n), selfmm_dataset_errmsg(ds));
    CHECK_INT(n.audio_dim, 5);
    CHECK_INT(n.vision_dim, 7);
    /* float64 statistics rounded to float32: NumPy sums in another order, so allow
     * one float32 ulp */
    const fx_tensor *t;
    if ((t = expect("norm/audio_mean"))) CHECK_CLOSE_F32("audio mean", n.audio_mean, t->f32, 5, 1.2e-7, 0);
    if ((t = expect("norm/audio_std"))) CHECK_CLOSE_F32("audio std", n.audio_std, t->f32, 5, 1.2e-7, 0);
    if ((t = expect("norm/vision_mean"))) CHECK_CLOSE_F32("vision mean", n.vision_mean, t->f32, 7, 1.2e-7, 0);
    if ((t = expect("norm/vision_std"))) CHECK_CLOSE_F32("vision std", n.vision_std, t->f32, 7, 1.2e-7, 0);
    for (int s = 0; s < 3; s++) {
        selfmm_split_view v;
        selfmm_dataset_split(ds, (selfmm_split)s, &v);
        char name[64];
        snprintf(name, sizeof name, "%s/audio_norm", split_name[s]);
        if ((t = expect(name)) && t->numel == (long long)v.n * v.audio_len * v.audio_dim)
            CHECK_CLOSE_F32(name, v.audio, t->f32, t->numel, 1e-5, 1e-6);
        snprintf(name, sizeof name, "%s/vision_norm", split_name[s]);
        if ((t = expect(name)) && t->numel == (long long)v.n * v.vision_len * v.vision_dim)
            CHECK_CLOSE_F32(name, v.vision, t->f32, t->numel, 1e-5, 1e-6);
        /* padding stays exactly zero */
        int nonzero = 0;
        for (int i = 0; i < v.n; i++)
            for (int k = v.audio_lengths[i] * v.audio_dim; k < v.audio_len * v.audio_dim; k++)
                nonzero += v.audio[(size_t)i * v.audio_len * v.audio_dim + k] != 0;
        CHECK_INT(nonzero, 0);
    }
    /* the training split is standardised: mean ~0, std ~1 per feature over real steps */
    {
        selfmm_split_view v;
        selfmm_dataset_split(ds, SELFMM_SPLIT_TRAIN, &v);
        for (int k = 0; k < v.vision_dim; k++) {
            double s1 = 0, s2 = 0, c = 0;
            for (int i = 0; i < v.n; i++)
                for (int t2 = 0; t2 < v.vision_lengths[i]; t2++) {
                    double x = v.vision[((size_t)i * v.vision_len + t2) * v.vision_dim + k];
                    s1 += x, s2 += x * x, c++;
                }
            CHECK_CLOSE(s1 / c, 0, 0, 1e-5);
            CHECK_CLOSE(sqrt(s2 / c - (s1 / c) * (s1 / c)), 1, 1e-5, 0);
        }
    }
    char path[1400];
    snprintf(path, sizeof path, "%s/norm.npz", scratch);
    REQUIRE_OK(selfmm_dataset_save_npz(ds, path), selfmm_dataset_errmsg(ds));
    REQUIRE_OK(selfmm_dataset_load(path, NULL, &back, &err), err.message);
    selfmm_norm b;
    REQUIRE_OK(selfmm_dataset_norm(back, &b), selfmm_dataset_errmsg(back));
    CHECK(b.audio_dim == 5 && b.vision_dim == 7);
    CHECK(!memcmp(b.audio_mean, n.audio_mean, 5 * sizeof(float)) &&
          !memcmp(b.audio_std, n.audio_std, 5 * sizeof(float)) &&
          !memcmp(b.vision_mean, n.vision_mean, 7 * sizeof(float)) &&
          !memcmp(b.vision_std, n.vision_std, 7 * sizeof(float)));
    for (int s = 0; s < 3; s++) {
        selfmm_split_view v1, v2;
        selfmm_dataset_split(ds, (selfmm_split)s, &v1);
        selfmm_dataset_split(back, (selfmm_split)s, &v2);
        CHECK(v1.n == v2.n && !memcmp(v1.audio, v2.audio, (size_t)v1.n * v1.audio_len * v1.audio_dim * 4) &&
              !memcmp(v1.vision, v2.vision, (size_t)v1.n * v1.vision_len * v1.vision_dim * 4) &&
              !memcmp(v1.text_bert, v2.text_bert, (size_t)v1.n * 3 * v1.text_len * 4));
    }
    selfmm_dataset_free(back);
    back = NULL;
    /* a damaged set of members is refused: keep three of the four */
    zip_t *za = zip_open(path, 0, NULL);
    REQUIRE(za != NULL);
    zip_int64_t k = zip_name_locate(za, "norm/audio_std.npy", 0);
    CHECK(k >= 0 && zip_delete(za, (zip_uint64_t)k) == 0);
    CHECK(zip_close(za) == 0);
    CHECK_STATUS(selfmm_dataset_load(path, NULL, &back, &err), SELFMM_ERR_FORMAT);
    CHECK_CONTAINS(err.message, "3 of the 4 norm/*.npy members");
    CHECK(back == NULL);
    selfmm_dataset_free(ds);
}

/* ---- bad input: one small folder, one problem per case ---- */

static char mini_labels[1400], mini_audio[1400], mini_vision[1400];

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *f)
{
    (void)st, (void)flag, (void)f;
    return remove(path);
}

/* Three good rows (train, valid, test) plus extra lines; features for v1/c1, v1/c2,
 * v2/c3 (audio 3 x 2, vision 2 x 3). The folder starts empty on every run. */
static void mini(const char *name, const char *extra)
{
    char dir[64], full[1200];
    snprintf(dir, sizeof dir, "mini_%.50s", name);
    snprintf(full, sizeof full, "%s/%s", scratch, dir);
    nftw(full, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    char rel[1400], text[4096];
    static const char *const ids[3][2] = {{"v1", "c1"}, {"v1", "c2"}, {"v2", "c3"}};
    for (int i = 0; i < 3; i++) {
        snprintf(rel, sizeof rel, "%s/audio/%s/%s.csv", dir, ids[i][0], ids[i][1]);
        put_text(rel, "1,2\n3,4\n5,6\n");
        snprintf(rel, sizeof rel, "%s/vision/%s/%s.csv", dir, ids[i][0], ids[i][1]);
        put_text(rel, "1,2,3\n4,5,6\n");
    }
    snprintf(text, sizeof text,
             "video_id,clip_id,text,label,mode\n"
             "v1,c1,t5 t6 t7,0.5,train\n"
             "v1,c2,t8 t9,-0.5,valid\n"
             "v2,c3,t10,0,test\n%s", extra ? extra : "");
    snprintf(rel, sizeof rel, "%s/label.csv", dir);
    put_text(rel, text);
    snprintf(mini_labels, sizeof mini_labels, "%s/%s/label.csv", scratch, dir);
    snprintf(mini_audio, sizeof mini_audio, "%s/%s/audio", scratch, dir);
    snprintf(mini_vision, sizeof mini_vision, "%s/%s/vision", scratch, dir);
}

static void mini_put(const char *name, const char *rel, const char *text)
{
    char r[1400];
    snprintf(r, sizeof r, "mini_%s/%s", name, rel);
    put_text(r, text);
}

static selfmm_status mini_build(int max_problems, char **report, selfmm_error *err)
{
    selfmm_build_options o;
    selfmm_build_options_default(&o);
    o.labels = mini_labels, o.audio_dir = mini_audio, o.vision_dir = mini_vision;
    o.tokenizer = tiny_tokenizer();
    o.max_problems = max_problems;
    selfmm_dataset *ds = NULL;
    selfmm_status st = selfmm_dataset_build(&o, &ds, report, err);
    CHECK_MSG((st == SELFMM_OK) == (ds != NULL), "a dataset exactly on success");
    selfmm_dataset_free(ds);
    return st;
}

/* The build fails with SELFMM_ERR_DATA; the report names label.csv:line and holds
 * each fragment; returns the report's line count. */
static int bad_build(const char *what, const char *const *fragments)
{
    char *report = NULL;
    selfmm_error err = {0};
    selfmm_status st = mini_build(0, &report, &err);
    CHECK_MSG(st == SELFMM_ERR_DATA, "%s: %s (%s)", what, selfmm_strerror(st), err.message);
    CHECK_MSG(report != NULL, "%s: no report", what);
    int lines = 0;
    for (const char *p = report; p && *p; p++) lines += *p == '\n';
    for (int i = 0; fragments[i]; i++) {
        CHECK_CONTAINS(report, fragments[i]);
        CHECK_MSG(i > 0 || strstr(err.message, fragments[0]), "%s: err lacks \"%s\": %s", what,
                  fragments[0], err.message);
    }
    if (h_cur_failed && report) printf("# report:\n%s", report);
    selfmm_free_string(report);
    return lines;
}

TEST(bad_missing_feature_file)
{
    mini("missing", "v3,c4,t5,0.1,train\n");
    mini_put("missing", "vision/v3/c4.csv", "1,2,3\n");
    const char *f[] = {"label.csv:5: v3$_$c4: audio: no file ", "/audio/v3/c4.npy (nor .csv)", NULL};
    CHECK_INT(bad_build("missing", f), 1);
    /* both forms present is ambiguous */
    mini_put("missing", "audio/v3/c4.csv", "1,2\n");
    mini_put("missing", "audio/v3/c4.npy", "x");
    const char *g[] = {"label.csv:5: v3$_$c4: audio: both ", "c4.npy and ", "c4.csv exist; keep one", NULL};
    bad_build("ambiguous", g);
}

TEST(bad_ragged_rows_in_a_file)
{
    mini("ragged", "v3,c4,t5,0.1,train\n");
    mini_put("ragged", "audio/v3/c4.csv", "1,2\n3,4\n5\n");
    mini_put("ragged", "vision/v3/c4.csv", "1,2,3\n");
    const char *f[] = {"label.csv:5: v3$_$c4: audio: ", "audio/v3/c4.csv: line 3 has 1 values, line 1 has 2", NULL};
    bad_build("ragged", f);
}

TEST(bad_widths_across_clips)
{
    mini("widths", "v3,c4,t5,0.1,train\nv3,c5,t6,0.2,train\n");
    mini_put("widths", "audio/v3/c4.csv", "1,2\n");
    mini_put("widths", "audio/v3/c5.csv", "1,2\n");
    mini_put("widths", "vision/v3/c4.csv", "1,2,3,4\n5,6,7,8\n");
    mini_put("widths", "vision/v3/c5.csv", "1,2,3\n");
    const char *f[] = {"label.csv:5: v3$_$c4: vision: ", "vision/v3/c4.csv has 4 features per step; 4 of the 5 vision files read have 3", NULL};
    CHECK_INT(bad_build("widths", f), 1);
}

TEST(bad_mode)
{
    mini("mode", "v3,c4,t5,0.1,val\nv3,c5,t5,0.1,Train\n");
    for (int c = 4; c <= 5; c++) {
        char rel[64];
        snprintf(rel, sizeof rel, "audio/v3/c%d.csv", c);
        mini_put("mode", rel, "1,2\n");
        snprintf(rel, sizeof rel, "vision/v3/c%d.csv", c);
        mini_put("mode", rel, "1,2,3\n");
    }
    const char *f[] = {"label.csv:5: v3$_$c4: mode \"val\": expected train, valid or test",
                       "label.csv:6: v3$_$c5: mode \"Train\"", NULL};
    CHECK_INT(bad_build("mode", f), 2);
}

TEST(bad_empty_text)
{
    mini("text", "v3,c4,,0.1,train\nv3,c5,\"  \",0.1,test\nv3,c6,\"\r\n\",0.1,test\n");
    for (int c = 4; c <= 6; c++) {
        char rel[64];
        snprintf(rel, sizeof rel, "audio/v3/c%d.csv", c);
        mini_put("text", rel, "1,2\n");
        snprintf(rel, sizeof rel, "vision/v3/c%d.csv", c);
        mini_put("text", rel, "1,2,3\n");
    }
    const char *f[] = {"label.csv:5: v3$_$c4: text is empty", "label.csv:6: v3$_$c5: text is empty",
                       "label.csv:7: v3$_$c6: text has no tokens", NULL};
    CHECK_INT(bad_build("text", f), 3);
}

TEST(bad_non_numeric_and_non_finite_features)
{
    mini("values", "v3,c4,t5,0.1,train\nv3,c5,t5,0.1,train\n");
    mini_put("values", "audio/v3/c4.csv", "1,2\n3,oops\n");
    mini_put("values", "vision/v3/c4.csv", "1,2,3\n");
    mini_put("values", "audio/v3/c5.csv", "1,2\n");
    mini_put("values", "vision/v3/c5.csv", "1,2,3\nNaN,1,inf\n");
    const char *f[] = {"label.csv:5: v3$_$c4: audio: ", "audio/v3/c4.csv: line 2, column 2: not a number: \"oops\"",
                       "label.csv:6: v3$_$c5: vision: ", "vision/v3/c5.csv: line 2, column 1: NaN (2 non-finite values in the file)",
                       NULL};
    CHECK_INT(bad_build("values", f), 2);
}

TEST(bad_empty_feature_files)
{
    mini("emptyfeat", "v3,c4,t5,0.1,train\nv3,c5,t5,0.1,train\n");
    mini_put("emptyfeat", "audio/v3/c4.csv", "");
    mini_put("emptyfeat", "vision/v3/c4.csv", "1,2,3\n");
    mini_put("emptyfeat", "audio/v3/c5.csv", "1,2\n");
    mini_put("emptyfeat", "vision/v3/c5.csv", "f0,f1,f2\n");
    const char *f[] = {"label.csv:5: v3$_$c4: audio: ", "audio/v3/c4.csv: an empty file",
                       "label.csv:6: v3$_$c5: vision: ", "vision/v3/c5.csv: no rows of numbers", NULL};
    CHECK_INT(bad_build("empty features", f), 2);
}

TEST(bad_label_values)
{
    mini("labels", "v3,c4,t5,,train\nv3,c5,t5,abc,train\nv3,c6,t5,nan,train\nv3,c7,t5,1e99,train\n");
    for (int c = 4; c <= 7; c++) {
        char rel[64];
        snprintf(rel, sizeof rel, "audio/v3/c%d.csv", c);
        mini_put("labels", rel, "1,2\n");
        snprintf(rel, sizeof rel, "vision/v3/c%d.csv", c);
        mini_put("labels", rel, "1,2,3\n");
    }
    const char *f[] = {"label.csv:5: v3$_$c4: label is empty", "label.csv:6: v3$_$c5: label \"abc\" is not a number",
                       "label.csv:7: v3$_$c6: label is NaN", "label.csv:8: v3$_$c7: label is beyond float32's range",
                       NULL};
    CHECK_INT(bad_build("labels", f), 4);
}

/* Numbers are decimal only, as pandas reads label.csv: a hex float is text, named
 * as such (strtod alone would take 0x1p3 as 8); file bytes in the report are
 * escaped (an id with an escape sequence, a label that is not UTF-8). */
TEST(labels_are_decimal_and_echoed_escaped)
{
    mini("hexlabel", "v3,c4,t5,0x1p3,train\nv3,c5,t5,0X10,train\nv3,c6,t5,\xff" "1,train\n"
                     "v\x1b[2J,c7,t5,0.5,trian\n");
    static const char *const clips[][2] = {{"v3", "c4"}, {"v3", "c5"}, {"v3", "c6"}, {"v\x1b[2J", "c7"}};
    for (int c = 0; c < 4; c++) {
        char rel[64];
        snprintf(rel, sizeof rel, "audio/%s/%s.csv", clips[c][0], clips[c][1]);
        mini_put("hexlabel", rel, "1,2\n");
        snprintf(rel, sizeof rel, "vision/%s/%s.csv", clips[c][0], clips[c][1]);
        mini_put("hexlabel", rel, "1,2,3\n");
    }
    const char *f[] = {"label.csv:5: v3$_$c4: label \"0x1p3\" is not a number",
                       "label.csv:6: v3$_$c5: label \"0X10\" is not a number",
                       "label.csv:7: v3$_$c6: label \"\\xFF1\" is not a number",
                       "label.csv:8: v\\x1B[2J$_$c7: mode \"trian\": expected train, valid or test", NULL};
    CHECK_INT(bad_build("hex labels", f), 4);
}

TEST(long_label_cells)
{
    /* a number is a number however many digits it has; long text is shortened */
    char extra[512];
    snprintf(extra, sizeof extra, "v3,c4,t5,  0.%070d1 ,train\nv3,c5,t5,%0200d,train\n", 0, 0);
    extra[strlen("v3,c4,t5,  0.") + 70 + 3 + strlen("train\nv3,c5,t5,")] = 'x';
    mini("longlabel", extra);
    for (int c = 4; c <= 5; c++) {
        char rel[64];
        snprintf(rel, sizeof rel, "audio/v3/c%d.csv", c);
        mini_put("longlabel", rel, "1,2\n");
        snprintf(rel, sizeof rel, "vision/v3/c%d.csv", c);
        mini_put("longlabel", rel, "1,2,3\n");
    }
    char want[128];
    snprintf(want, sizeof want, "label.csv:6: v3$_$c5: label \"x%039d", 0);
    const char *f[] = {want, "0\"... is not a number", NULL}; /* cut, marked after the quote */
    CHECK_INT(bad_build("long labels", f), 1); /* only the text one */
}

TEST(bad_unimodal_labels_when_the_column_is_used)
{
    char *report = NULL;
    selfmm_error err = {0};
    /* an all-empty label_T column is absent (MOSI's label.csv); a partly filled one
     * must be complete */
    mini("tav", NULL);
    mini_put("tav", "label.csv", "video_id,clip_id,text,label,mode,label_T\n"
                                 "v1,c1,t5,0.5,train,\nv1,c2,t5,0.5,valid,\nv2,c3,t5,0.5,test,\n");
    CHECK_OK(mini_build(0, &report, &err), err.message);
    CHECK_CONTAINS(report, "unimodal labels: none");
    selfmm_free_string(report);
    mini_put("tav", "label.csv", "video_id,clip_id,text,label,mode,label_T\n"
                                 "v1,c1,t5,0.5,train,0.1\nv1,c2,t5,0.5,valid,\nv2,c3,t5,0.5,test,x\n");
    const char *f[] = {"label.csv:3: v1$_$c2: label_T is empty", "label.csv:4: v2$_$c3: label_T \"x\" is not a number", NULL};
    CHECK_INT(bad_build("tav", f), 2);
}

TEST(bad_csv_records_ids_and_splits)
{
    mini("records", "v3,c4,t5,0.1\n\"v3\"x,c5,t5,0.1,train\nv1,c1,t5,0.1,train\nv/../x,c6,t5,0.1,train\n,c7,t5,0.1,train\n");
    const char *f[] = {"label.csv:5: 4 fields, the header has 5", "label.csv:6: text after the closing quote of field 1",
                       "label.csv:7: v1$_$c1: the same video_id and clip_id as line 2",
                       "label.csv:8: video_id \"v/../x\" cannot be a file name",
                       "label.csv:9: video_id is empty", NULL};
    CHECK_INT(bad_build("records", f), 5);
    mini("utf8", "v\xff,c4,t5,0.1,train\nv3,c5,t5,0.1,train\n");
    mini_put("utf8", "label.csv", "video_id,clip_id,text,label,mode,annotation\n"
                                  "v1,c1,t5,0.5,train,ok\nv1,c2,t5 \xe9,0.5,valid,\xc3(\nv2,c3,t5,0.5,test,\n"
                                  "v\xff,c4,t5,0.1,train,\n");
    const char *u[] = {"label.csv:3: v1$_$c2: text: ", "label.csv:3: v1$_$c2: annotation is not valid UTF-8 (byte 0",
                       "label.csv:5: video_id is not valid UTF-8 (byte 1", NULL};
    CHECK_INT(bad_build("utf8", u), 3);
    mini("nosplit", NULL);
    mini_put("nosplit", "label.csv", "video_id,clip_id,text,label,mode\nv1,c1,t5,0.5,train\nv1,c2,t5,0.5,train\n");
    const char *g[] = {"label.csv: no row has mode \"valid\"", "label.csv: no row has mode \"test\"", NULL};
    CHECK_INT(bad_build("splits", g), 2);
}

TEST(every_bad_row_is_listed_up_to_the_cap)
{
    char extra[8192] = "";
    size_t o = 0;
    for (int i = 0; i < 60; i++) o += (size_t)snprintf(extra + o, sizeof extra - o, "w%d,c,t5,0.1,train\n", i);
    mini("many", extra);
    const char *f[] = {"label.csv:5: w0$_$c: audio: no file", "label.csv:5: w0$_$c: vision: no file",
                       "label.csv:29: w24$_$c: audio: no file", "... and 70 more problems (120 in total)", NULL};
    CHECK_INT(bad_build("many", f), 51); /* 50 problems and the count */
    char *report = NULL;
    selfmm_error err = {0};
    CHECK_STATUS(mini_build(200, &report, &err), SELFMM_ERR_DATA);
    int lines = 0;
    for (const char *p = report; p && *p; p++) lines += *p == '\n';
    CHECK_INT(lines, 120);
    CHECK_CONTAINS(err.message, "120 problems (first: ");
    selfmm_free_string(report);
}

TEST(file_level_errors_have_no_listing)
{
    char *report = (char *)1;
    selfmm_error err = {0};
    mini("header", NULL);
    mini_put("header", "label.csv", "video_id, clip_id ,text,label\nv1,c1,t5,0.5\n");
    CHECK_STATUS(mini_build(0, &report, &err), SELFMM_ERR_FORMAT);
    CHECK_CONTAINS(err.message, "label.csv:1: no column \"mode\" (the header has \"video_id\", \" clip_id \"");
    CHECK(report == NULL);
    mini_put("header", "label.csv", "");
    CHECK_STATUS(mini_build(0, &report, &err), SELFMM_ERR_FORMAT);
    CHECK_CONTAINS(err.message, "label.csv: empty");
    mini_put("header", "label.csv", "video_id,clip_id,text,label,mode,text\n");
    CHECK_STATUS(mini_build(0, &report, &err), SELFMM_ERR_FORMAT);
    CHECK_CONTAINS(err.message, "column \"text\" appears twice (fields 3 and 6)");
    mini_put("header", "label.csv", "video_id,clip_id,text,label,mode\n\n");
    CHECK_STATUS(mini_build(0, &report, &err), SELFMM_ERR_DATA);
    CHECK_CONTAINS(err.message, "a header and no rows");
    selfmm_build_options o;
    selfmm_build_options_default(&o);
    o.labels = "/nonexistent/label.csv", o.audio_dir = mini_audio, o.vision_dir = mini_vision;
    o.tokenizer = tiny_tokenizer();
    selfmm_dataset *ds = NULL;
    CHECK_STATUS(selfmm_dataset_build(&o, &ds, NULL, &err), SELFMM_ERR_NOT_FOUND);
    CHECK_CONTAINS(err.message, "/nonexistent/label.csv");
    o.labels = mini_labels, o.audio_dir = "/nonexistent/audio";
    CHECK_STATUS(selfmm_dataset_build(&o, &ds, NULL, &err), SELFMM_ERR_NOT_FOUND);
    CHECK_CONTAINS(err.message, "/nonexistent/audio: the audio feature folder does not exist");
    o.audio_dir = mini_audio, o.tokenizer = NULL;
    CHECK_STATUS(selfmm_dataset_build(&o, &ds, NULL, &err), SELFMM_ERR_INVALID_ARG);
    CHECK(ds == NULL);
}

TEST(good_mini_folder_builds)
{
    mini("good", NULL);
    char *report = NULL;
    selfmm_error err = {0};
    CHECK_OK(mini_build(0, &report, &err), err.message);
    CHECK_CONTAINS(report, "3 rows: train 1, valid 1, test 1");
    selfmm_free_string(report);
}

int main(void)
{
    snprintf(scratch, sizeof scratch, "%s", tf_scratch("test_build"));
    fx_ok = fx_load(FXB "expected.smfx", &fx) == 0;
    RUN(csv_quoting_and_line_ends);
    RUN(csv_bad_records_are_skipped_and_named);
    RUN(features_every_form_exactly);
    RUN(features_csv_rules);
    RUN(features_npy_rules);
    RUN(build_matches_mmsa_fet_rules);
    RUN(build_given_lengths_and_cap);
    RUN(normalisation_stats_and_npz_round_trip);
    RUN(bad_missing_feature_file);
    RUN(bad_ragged_rows_in_a_file);
    RUN(bad_widths_across_clips);
    RUN(bad_mode);
    RUN(bad_empty_text);
    RUN(bad_non_numeric_and_non_finite_features);
    RUN(bad_empty_feature_files);
    RUN(bad_label_values);
    RUN(labels_are_decimal_and_echoed_escaped);
    RUN(long_label_cells);
    RUN(bad_unimodal_labels_when_the_column_is_used);
    RUN(bad_csv_records_ids_and_splits);
    RUN(every_bad_row_is_listed_up_to_the_cap);
    RUN(file_level_errors_have_no_listing);
    RUN(good_mini_folder_builds);
    if (fx_ok) fx_free(&fx);
    selfmm_tokenizer_free(tiny_tokenizer());
    return h_finish();
}
