/* test_dataset.c -- MMSA dataset pickles (protocols 2, 4, 5) and .npz files,
 * compared value by value with what NumPy wrote (tools/gen_io_fixtures.py); the
 * error paths (NaN, lengths, shapes, hostile and truncated files). */
#include "harness.h"

#include "data/dataset.h"
#include "io/npy.h"
#include "support/fixture.h"
#include "support/testfile.h"

#include <unistd.h>

#define FX "tests/fixtures/io/"

static const char *const splits[3] = {"train", "valid", "test"};

/* Compare an int32 array with a fixture tensor. */
static void check_i32(const char *name, const int32_t *got, const fx_tensor *want, long long n)
{
    if (!want) {
        CHECK_MSG(0, "%s: not in the fixture", name);
        return;
    }
    CHECK_INT(want->numel, n);
    long long bad = 0;
    for (long long i = 0; i < n && i < want->numel; i++) bad += got[i] != (int32_t)want->f64[i];
    CHECK_MSG(bad == 0, "%s: %lld of %lld values differ", name, bad, n);
}

static void check_f32(const char *name, const float *got, const fx_tensor *want, long long n)
{
    if (!want) {
        CHECK_MSG(0, "%s: not in the fixture", name);
        return;
    }
    CHECK_INT(want->numel, n);
    if (want->numel == n) CHECK_CLOSE_F32(name, got, want->f32, n, 0, 0); /* exact */
}

/* The strings file: split \t field \t index \t text. */
static const char *expected_string(const char *split, const char *field, int i)
{
    static char *text;
    static size_t size;
    static char line[512];
    if (!text) text = (char *)tf_read(FX "mmsa_expected_strings.txt", &size);
    if (!text) return NULL;
    char key[128];
    snprintf(key, sizeof key, "%s\t%s\t%d\t", split, field, i);
    for (const char *p = text; p && p < text + size;) {
        const char *nl = memchr(p, '\n', (size_t)(text + size - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(text + size - p);
        if (n >= strlen(key) && !memcmp(p, key, strlen(key))) {
            snprintf(line, sizeof line, "%.*s", (int)(n - strlen(key)), p + strlen(key));
            return line;
        }
        p = nl ? nl + 1 : NULL;
    }
    return NULL;
}

static void check_strings(const char *split, const char *field, char **got, int n)
{
    REQUIRE(got);
    for (int i = 0; i < n; i++) {
        const char *want = expected_string(split, field, i);
        CHECK_MSG(want && !strcmp(got[i], want), "%s/%s[%d] = \"%s\", expected \"%s\"", split, field,
                  i, got[i], want ? want : "(none)");
    }
}

/* Every field of every split against mmsa_expected.smfx. */
static void check_dataset(const selfmm_dataset *ds, int has_tav)
{
    fx_file fx;
    REQUIRE(fx_load(FX "mmsa_expected.smfx", &fx) == 0);
    static const int N[3] = {5, 3, 4};
    for (int s = 0; s < 3; s++) {
        const sm_split_data *d = &ds->split[s];
        char k[96];
#define KEY(f) (snprintf(k, sizeof k, "%s/%s", splits[s], f), k)
        CHECK_INT(d->n, N[s]);
        CHECK_INT(d->text_len, 6);
        CHECK_INT(d->audio_len, 7);
        CHECK_INT(d->audio_dim, 3);
        CHECK_INT(d->vision_len, 5);
        CHECK_INT(d->vision_dim, 4);
        if (d->n != N[s]) continue;
        check_i32(KEY("text_bert"), d->text_bert, fx_get(&fx, KEY("text_bert")), (long long)d->n * 3 * 6);
        check_f32(KEY("audio"), d->audio, fx_get(&fx, KEY("audio")), (long long)d->n * 7 * 3);
        check_f32(KEY("vision"), d->vision, fx_get(&fx, KEY("vision")), (long long)d->n * 5 * 4);
        check_i32(KEY("audio_lengths"), d->audio_lengths, fx_get(&fx, KEY("audio_lengths")), d->n);
        check_i32(KEY("vision_lengths"), d->vision_lengths, fx_get(&fx, KEY("vision_lengths")), d->n);
        check_f32(KEY("regression_labels"), d->labels, fx_get(&fx, KEY("regression_labels")), d->n);
        static const char *const tav[3] = {"regression_labels_T", "regression_labels_A",
                                           "regression_labels_V"};
        for (int m = 0; m < 3; m++) {
            if (has_tav) {
                REQUIRE(d->labels_tav[m]);
                check_f32(KEY(tav[m]), d->labels_tav[m], fx_get(&fx, KEY(tav[m])), d->n);
            } else {
                CHECK(d->labels_tav[m] == NULL);
            }
        }
        REQUIRE(d->class_labels);
        check_f32(KEY("classification_labels"), d->class_labels,
                  fx_get(&fx, KEY("classification_labels")), d->n);
        check_strings(splits[s], "id", d->ids, d->n);
        check_strings(splits[s], "raw_text", d->raw_text, d->n);
        check_strings(splits[s], "annotations", d->annotations, d->n);
#undef KEY
    }
    /* -inf became 0 in audio: train sample 0, last step, last feature */
    CHECK(ds->split[0].audio[0 * 21 + 6 * 3 + 2] == 0.0f);
    fx_free(&fx);
}

static selfmm_dataset *load(const char *path, const selfmm_data_options *opt, selfmm_error *err)
{
    selfmm_dataset *ds = NULL;
    memset(err, 0, sizeof *err);
    if (selfmm_dataset_load(path, opt, &ds, err) != SELFMM_OK) return NULL;
    return ds;
}

TEST(pickle_protocol2)
{
    selfmm_error err;
    selfmm_dataset *ds = load(FX "mmsa_p2.pkl", NULL, &err);
    REQUIRE_OK(ds ? SELFMM_OK : err.status, err.message);
    CHECK_STR(ds->format, "MMSA pickle (protocol 2)");
    CHECK(!ds->has_config);
    check_dataset(ds, 1);
    selfmm_dataset_free(ds);
}

TEST(pickle_protocol4)
{
    selfmm_error err;
    selfmm_dataset *ds = load(FX "mmsa_p4.pkl", NULL, &err);
    REQUIRE_OK(ds ? SELFMM_OK : err.status, err.message);
    CHECK_STR(ds->format, "MMSA pickle (protocol 4)");
    CHECK(ds->has_config);
    check_dataset(ds, 0);
    selfmm_dataset_free(ds);
}

TEST(pickle_protocol5)
{
    selfmm_error err;
    selfmm_dataset *ds = load(FX "mmsa_p5.pkl", NULL, &err);
    REQUIRE_OK(ds ? SELFMM_OK : err.status, err.message);
    CHECK_STR(ds->format, "MMSA pickle (protocol 5)");
    check_dataset(ds, 1);
    selfmm_dataset_free(ds);
}

TEST(split_view_and_batch)
{
    selfmm_error err;
    selfmm_dataset *ds = load(FX "mmsa_p4.pkl", NULL, &err);
    REQUIRE_OK(ds ? SELFMM_OK : err.status, err.message);
    selfmm_split_view v;
    REQUIRE_OK(selfmm_dataset_split(ds, SELFMM_SPLIT_VALID, &v), selfmm_dataset_errmsg(ds));
    CHECK_INT(v.n, 3);
    CHECK(v.labels == ds->split[1].labels && v.labels_unimodal[0] == v.labels);
    CHECK(v.labels_unimodal[1] == NULL); /* protocol 4 fixture has no T/A/V labels */
    CHECK_STR(v.ids[2], "video_0002$_$0003");
    const int idx[3] = {3, 0, 3};
    selfmm_batch b;
    const float *labels;
    REQUIRE_OK(selfmm_dataset_batch(ds, SELFMM_SPLIT_TRAIN, idx, 3, &b, &labels), selfmm_dataset_errmsg(ds));
    const sm_split_data *d = &ds->split[0];
    CHECK_INT(b.batch, 3);
    CHECK_INT(b.text_len, 6);
    for (int i = 0; i < 3; i++) {
        int j = idx[i];
        for (int t = 0; t < 6; t++) {
            CHECK_INT(b.text_ids[i * 6 + t], d->text_bert[j * 18 + t]);
            CHECK_INT(b.text_mask[i * 6 + t], d->text_bert[j * 18 + 6 + t]);
            CHECK_INT(b.text_segment[i * 6 + t], d->text_bert[j * 18 + 12 + t]);
        }
        CHECK(!memcmp(b.audio + i * 21, d->audio + j * 21, 21 * sizeof(float)));
        CHECK(!memcmp(b.vision + i * 20, d->vision + j * 20, 20 * sizeof(float)));
        CHECK_INT(b.audio_lengths[i], d->audio_lengths[j]);
        CHECK_INT(b.vision_lengths[i], d->vision_lengths[j]);
        CHECK(labels[i] == d->labels[j]);
    }
    const int bad[1] = {5};
    CHECK_STATUS(selfmm_dataset_batch(ds, SELFMM_SPLIT_TRAIN, bad, 1, &b, NULL), SELFMM_ERR_RANGE);
    CHECK_CONTAINS(selfmm_dataset_errmsg(ds), "index 5");
    selfmm_dataset_free(ds);
}

static int n_warnings;
static char last_warning[1024];
static void count_log(selfmm_log_level level, const char *msg, void *user)
{
    (void)user;
    if (level == SELFMM_LOG_WARN) {
        n_warnings++;
        snprintf(last_warning, sizeof last_warning, "%s", msg);
    }
}

TEST(nan_is_an_error_unless_zeroed)
{
    selfmm_error err;
    selfmm_dataset *ds = load(FX "mmsa_nan.pkl", NULL, &err);
    CHECK(ds == NULL);
    CHECK_INT(err.status, SELFMM_ERR_DATA);
    CHECK_CONTAINS(err.message, "mmsa_nan.pkl");
    CHECK_CONTAINS(err.message, "train/vision: 2 NaN");
    CHECK_CONTAINS(err.message, "sample 2, step 1, feature 3");
    CHECK_CONTAINS(err.message, "nan_to_zero");
    selfmm_data_options opt = {1, 0};
    n_warnings = 0;
    selfmm_set_log_callback(count_log, NULL);
    ds = load(FX "mmsa_nan.pkl", &opt, &err);
    selfmm_set_log_callback(NULL, NULL);
    REQUIRE_OK(ds ? SELFMM_OK : err.status, err.message);
    CHECK(ds->split[0].vision[2 * 20 + 1 * 4 + 3] == 0.0f);
    CHECK(ds->split[0].vision[4 * 20] == 0.0f);
    CHECK(ds->split[1].audio[1 * 21 + 2 * 3 + 1] == 0.0f); /* +inf */
    CHECK_INT(n_warnings, 2);
    selfmm_dataset_free(ds);
}

TEST(lengths_out_of_range)
{
    selfmm_error err;
    selfmm_dataset *ds = load(FX "mmsa_badlen.pkl", NULL, &err);
    CHECK(ds == NULL);
    CHECK_INT(err.status, SELFMM_ERR_DATA);
    CHECK_CONTAINS(err.message, "valid/audio_lengths: 2 lengths outside [1, 7]");
    CHECK_CONTAINS(err.message, "sample 0 has 0");
    selfmm_data_options opt = {0, 1};
    n_warnings = 0;
    selfmm_set_log_callback(count_log, NULL);
    ds = load(FX "mmsa_badlen.pkl", &opt, &err);
    selfmm_set_log_callback(NULL, NULL);
    REQUIRE_OK(ds ? SELFMM_OK : err.status, err.message);
    CHECK_INT(n_warnings, 1);
    CHECK_CONTAINS(last_warning, "clamped 2 lengths");
    CHECK_INT(ds->split[1].audio_lengths[0], 1);
    CHECK_INT(ds->split[1].audio_lengths[1], 7);
    CHECK_INT(ds->split[1].audio_lengths[2], 3);
    selfmm_dataset_free(ds);
}

/* A tiny dataset from arrays: selfmm_dataset_create runs every check of the
 * loader, so values can be spoiled one at a time. */
enum { TN = 3, TL = 2, TT = 2, TD = 2 };
typedef struct mem_data {
    int32_t text[TN * 3 * TL], len[TN];
    float audio[TN * TT * TD], vision[TN * TT * TD], labels[TN];
} mem_data;

static void mem_views(mem_data *m, selfmm_split_view v[3])
{
    memset(m, 0, sizeof *m);
    for (int i = 0; i < TN; i++) {
        m->len[i] = TT;
        m->text[i * 3 * TL] = 101, m->text[i * 3 * TL + TL] = 1; /* [CLS], mask 1 */
    }
    for (int s = 0; s < 3; s++)
        v[s] = (selfmm_split_view){.n = TN, .text_len = TL, .text_bert = m->text, .audio_len = TT,
                                   .audio_dim = TD, .audio = m->audio, .audio_lengths = m->len,
                                   .vision_len = TT, .vision_dim = TD, .vision = m->vision,
                                   .vision_lengths = m->len, .labels = m->labels};
}

/* The message names the first bad value, whatever its kind. */
TEST(bad_values_name_the_first)
{
    mem_data m;
    selfmm_split_view v[3];
    selfmm_dataset *ds = NULL;
    selfmm_error err = {0};
    mem_views(&m, v);
    REQUIRE_OK(selfmm_dataset_create(v, NULL, &ds, &err), err.message);
    selfmm_dataset_free(ds);
    /* audio: -inf is allowed (set to 0); +inf at sample 0 comes before NaN at sample 1 */
    m.audio[0] = -INFINITY;
    m.audio[1 * TD + 1] = INFINITY;
    m.audio[1 * TT * TD] = NAN;
    CHECK_STATUS(selfmm_dataset_create(v, NULL, &ds, &err), SELFMM_ERR_DATA);
    CHECK_CONTAINS(err.message, "train/audio: 1 NaN and 1 infinite values (first at sample 0, step 1, feature 1)");
    memset(m.audio, 0, sizeof m.audio);
    /* vision: -inf at sample 1 comes before NaN at sample 2 */
    m.vision[1 * TT * TD + 1 * TD] = -INFINITY;
    m.vision[2 * TT * TD] = NAN;
    CHECK_STATUS(selfmm_dataset_create(v, NULL, &ds, &err), SELFMM_ERR_DATA);
    CHECK_CONTAINS(err.message, "train/vision: 1 NaN and 1 infinite values (first at sample 1, step 1, feature 0)");
    memset(m.vision, 0, sizeof m.vision);
    /* labels: +inf at sample 0, -inf at sample 1, NaN at sample 2 */
    m.labels[0] = INFINITY, m.labels[1] = -INFINITY, m.labels[2] = NAN;
    CHECK_STATUS(selfmm_dataset_create(v, NULL, &ds, &err), SELFMM_ERR_DATA);
    CHECK_CONTAINS(err.message, "train/regression_labels: 3 labels are NaN or infinite (first: sample 0)");
}

/* Word-aligned data (MMSA's aligned_50.pkl) has no audio/vision lengths: it loads,
 * its views and batches have NULL lengths, and an .npz round trip keeps them absent. */
TEST(aligned_data_has_no_lengths)
{
    mem_data m;
    selfmm_split_view v[3];
    selfmm_dataset *ds = NULL;
    selfmm_error err = {0};
    mem_views(&m, v);
    for (int s = 0; s < 3; s++) v[s].audio_lengths = v[s].vision_lengths = NULL;
    REQUIRE_OK(selfmm_dataset_create(v, NULL, &ds, &err), err.message);
    char path[1200];
    snprintf(path, sizeof path, "%s/aligned.npz", tf_scratch("test_dataset"));
    REQUIRE_OK(selfmm_dataset_save_npz(ds, path), selfmm_dataset_errmsg(ds));
    selfmm_dataset_free(ds);
    ds = load(path, NULL, &err);
    REQUIRE(ds);
    selfmm_split_view w;
    REQUIRE_OK(selfmm_dataset_split(ds, SELFMM_SPLIT_VALID, &w), selfmm_dataset_errmsg(ds));
    CHECK(w.audio_lengths == NULL && w.vision_lengths == NULL);
    CHECK_INT(w.n, TN);
    selfmm_batch b;
    const int idx[2] = {2, 0};
    REQUIRE_OK(selfmm_dataset_batch(ds, SELFMM_SPLIT_TRAIN, idx, 2, &b, NULL), selfmm_dataset_errmsg(ds));
    CHECK(b.audio_lengths == NULL && b.vision_lengths == NULL);
    CHECK_INT(b.text_ids[0], 101);
    selfmm_dataset_free(ds);
}

/* One model reads every split: a split whose feature width differs from the
 * train split's is refused on load, from arrays and from a file. */
TEST(feature_widths_agree_across_splits)
{
    mem_data m;
    selfmm_split_view v[3];
    selfmm_dataset *ds = NULL;
    selfmm_error err = {0};
    mem_views(&m, v);
    v[1].vision_dim = TD - 1;
    CHECK_STATUS(selfmm_dataset_create(v, NULL, &ds, &err), SELFMM_ERR_SHAPE);
    CHECK_CONTAINS(err.message, "valid/vision: 1 features per step, the train split has 2");
    /* an .npz whose test audio has 2 features per step instead of 3 */
    ds = load(FX "mmsa_p4.pkl", NULL, &err);
    REQUIRE(ds);
    ds->split[2].audio_dim = 2;
    char path[1200];
    snprintf(path, sizeof path, "%s/widths.npz", tf_scratch("test_dataset"));
    REQUIRE_OK(selfmm_dataset_save_npz(ds, path), selfmm_dataset_errmsg(ds));
    selfmm_dataset_free(ds);
    ds = load(path, NULL, &err);
    CHECK(ds == NULL);
    selfmm_dataset_free(ds);
    CHECK_INT(err.status, SELFMM_ERR_SHAPE);
    CHECK_CONTAINS(err.message, "widths.npz: test/audio: 2 features per step, the train split has 3");
}

/* A file that must fail with status and message fragment. */
static void expect_fail(const char *path, selfmm_status want, const char *fragment)
{
    selfmm_error err;
    selfmm_dataset *ds = load(path, NULL, &err);
    CHECK_MSG(ds == NULL, "%s loaded", path);
    selfmm_dataset_free(ds);
    CHECK_MSG(err.status == want, "%s: %s (%s), expected %s", path, selfmm_strerror(err.status),
              err.message, selfmm_strerror(want));
    CHECK_CONTAINS(err.message, fragment);
}

TEST(bad_shapes_and_fields)
{
    expect_fail(FX "mmsa_mismatch.pkl", SELFMM_ERR_SHAPE, "test/vision: shape (3, 5, 4), expected (N, T, D)");
    expect_fail(FX "mmsa_textbert_shape.pkl", SELFMM_ERR_SHAPE, "valid/text_bert: shape (3, 2, 6)");
    expect_fail(FX "mmsa_no_test.pkl", SELFMM_ERR_MISSING, "no split \"test\"");
    expect_fail(FX "mmsa_fortran.pkl", SELFMM_ERR_UNSUPPORTED, "train/audio: Fortran-ordered");
    expect_fail(FX "mmsa_oob.pkl", SELFMM_ERR_UNSUPPORTED, "out-of-band buffer");
    expect_fail(FX "mmsa_strfeatures.pkl", SELFMM_ERR_TYPE, "train/vision: unicode data, expected numbers");
    expect_fail(FX "mmsa_fraclen.pkl", SELFMM_ERR_DATA,
                "valid/vision_lengths: element 1 = 2.5 is not an integer");
    expect_fail(FX "selfmm_tiny.pth", SELFMM_ERR_FORMAT, "a PyTorch checkpoint, not a dataset");
    expect_fail(FX "selfmm_tiny_legacy.pth", SELFMM_ERR_TYPE, "the pickle holds a int");
    expect_fail("tests/fixtures/io/does_not_exist.pkl", SELFMM_ERR_NOT_FOUND, "no such file");
    expect_fail("tests/fixtures/io/selfmm_tiny_config.json", SELFMM_ERR_FORMAT, "neither an MMSA pickle");
}

TEST(hostile_pickles_are_refused)
{
    unlink("/tmp/selfmm-pwned");
    expect_fail(FX "evil_os_system.pkl", SELFMM_ERR_UNSUPPORTED, "refusing global 'os.system'");
    expect_fail(FX "evil_posix_system.pkl", SELFMM_ERR_UNSUPPORTED, "refusing global 'posix.system'");
    expect_fail(FX "evil_subprocess.pkl", SELFMM_ERR_UNSUPPORTED, "refusing global 'subprocess.Popen'");
    expect_fail(FX "evil_builtins_eval.pkl", SELFMM_ERR_UNSUPPORTED, "refusing global 'builtins.eval'");
    expect_fail(FX "evil_torch_in_data.pkl", SELFMM_ERR_UNSUPPORTED,
                "refusing global 'torch._utils._rebuild_tensor_v2'");
    expect_fail(FX "evil_nested.pkl", SELFMM_ERR_UNSUPPORTED, "refusing global 'posix.system'");
    CHECK(access("/tmp/selfmm-pwned", F_OK) != 0);
}

TEST(numpy_npz)
{
    selfmm_error err;
    selfmm_dataset *ds = load(FX "mmsa_numpy.npz", NULL, &err);
    REQUIRE_OK(ds ? SELFMM_OK : err.status, err.message);
    CHECK_STR(ds->format, "npz");
    check_dataset(ds, 1);
    selfmm_dataset_free(ds);
    ds = load(FX "mmsa_numpy_compressed.npz", NULL, &err);
    REQUIRE_OK(ds ? SELFMM_OK : err.status, err.message);
    check_dataset(ds, 1);
    selfmm_dataset_free(ds);
}

TEST(npz_round_trip)
{
    selfmm_error err;
    char path[1200], path2[1200];
    snprintf(path, sizeof path, "%s/round.npz", tf_scratch("test_dataset"));
    snprintf(path2, sizeof path2, "%s/round2.npz", tf_scratch("test_dataset"));
    for (int proto = 2; proto <= 5; proto += 3) {
        char src[128];
        snprintf(src, sizeof src, FX "mmsa_p%d.pkl", proto);
        selfmm_dataset *ds = load(src, NULL, &err);
        REQUIRE_OK(ds ? SELFMM_OK : err.status, err.message);
        REQUIRE_OK(selfmm_dataset_save_npz(ds, path), selfmm_dataset_errmsg(ds));
        selfmm_dataset *back = load(path, NULL, &err);
        REQUIRE_OK(back ? SELFMM_OK : err.status, err.message);
        check_dataset(back, 1);
        /* writing the same data again gives the same bytes */
        REQUIRE_OK(selfmm_dataset_save_npz(back, path2), selfmm_dataset_errmsg(back));
        CHECK(tf_same(path, path2));
        selfmm_dataset_free(back);
        selfmm_dataset_free(ds);
    }
    /* a failed write leaves no file behind and names the path */
    selfmm_dataset *ds = load(FX "mmsa_p4.pkl", NULL, &err);
    REQUIRE(ds);
    CHECK_STATUS(selfmm_dataset_save_npz(ds, "/nonexistent-dir/x.npz"), SELFMM_ERR_IO);
    CHECK_CONTAINS(selfmm_dataset_errmsg(ds), "/nonexistent-dir/x.npz");
    selfmm_dataset_free(ds);
}

TEST(zip_bombs)
{
    expect_fail(FX "bomb_declared.npz", SELFMM_ERR_FORMAT, "zip bomb");
    expect_fail(FX "bomb_npyheader.npz", SELFMM_ERR_FORMAT, "declares 1000000000000 elements");
}

TEST(info_only_counts_without_failing)
{
    selfmm_error err = {0};
    selfmm_dataset *ds = NULL;
    sm_load_opts o = {0, 0, 1};
    REQUIRE_OK(sm_dataset_open(FX "mmsa_nan.pkl", &o, &ds, &err), err.message);
    CHECK(ds->split[0].audio == NULL && ds->split[0].vision == NULL);
    int found = 0;
    for (int i = 0; i < ds->n_field; i++) {
        const sm_field_info *f = &ds->field[i];
        if (!strcmp(f->name, "train/vision")) {
            found++;
            CHECK_INT(f->nan, 2);
        }
        if (!strcmp(f->name, "valid/audio")) {
            found++;
            CHECK_INT(f->pos_inf, 1);
            CHECK_INT(f->neg_inf, 2);
        }
        if (!strcmp(f->name, "train/text (unused)")) {
            found++;
            CHECK_INT(f->shape[2], 8);
        }
    }
    CHECK_INT(found, 3);
    selfmm_dataset_free(ds);
}

static selfmm_status npy(const char *dict, sm_npy_header *h, selfmm_error *err)
{
    memset(err, 0, sizeof *err);
    return sm_npy_parse_dict(dict, strlen(dict), h, "x.npy", err);
}

TEST(npy_headers)
{
    sm_npy_header h;
    selfmm_error err;
    REQUIRE_OK(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }   \n", &h, &err), err.message);
    CHECK(h.dtype == SM_DT_F32 && h.ndim == 2 && h.shape[0] == 3 && h.shape[1] == 4 && !h.fortran && !h.swap);
    REQUIRE_OK(npy("{\"shape\": (5,), \"fortran_order\": True, \"descr\": \">U7\"}", &h, &err), err.message);
    CHECK(h.dtype == SM_DT_UNICODE && h.itemsize == 28 && h.swap && h.fortran && h.ndim == 1);
    REQUIRE_OK(npy("{'descr': '|b1', 'fortran_order': False, 'shape': (), }", &h, &err), err.message);
    CHECK(h.ndim == 0);
    REQUIRE_OK(npy("{'descr': '<i8', 'fortran_order': False, 'shape': (2L, 3L), }", &h, &err), err.message);
    CHECK(h.ndim == 2 && h.shape[1] == 3);
    CHECK_STATUS(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }", &h, &err), SELFMM_ERR_SHAPE);
    CHECK_CONTAINS(err.message, "negative");
    CHECK_STATUS(npy("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", &h, &err),
                 SELFMM_ERR_UNSUPPORTED);
    CHECK_STATUS(npy("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", &h, &err), SELFMM_ERR_UNSUPPORTED);
    CHECK_STATUS(npy("{'descr': '<f4', 'shape': (1,), }", &h, &err), SELFMM_ERR_FORMAT);
    CHECK_STATUS(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 1}", &h, &err), SELFMM_ERR_FORMAT);
    CHECK_STATUS(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }", &h, &err),
                 SELFMM_ERR_SHAPE);
    CHECK_STATUS(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1,1,1), }", &h, &err),
                 SELFMM_ERR_UNSUPPORTED);
    CHECK_STATUS(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), } junk", &h, &err), SELFMM_ERR_FORMAT);
    CHECK_STATUS(npy("", &h, &err), SELFMM_ERR_FORMAT);
    size_t pre, len;
    CHECK_OK(sm_npy_prefix((const uint8_t *)"\x93NUMPY\x02\x00\x10\x00\x00\x00", 12, &pre, &len, "x", &err), err.message);
    CHECK(pre == 12 && len == 16);
    CHECK_STATUS(sm_npy_prefix((const uint8_t *)"\x93NUMPY\x02\x00\xff\xff\xff\x7f", 12, &pre, &len, "x", &err),
                 SELFMM_ERR_FORMAT);
    CHECK_STATUS(sm_npy_prefix((const uint8_t *)"\x93NUMPZ\x01\x00\x10\x00", 10, &pre, &len, "x", &err), SELFMM_ERR_FORMAT);
    CHECK_STATUS(sm_npy_prefix((const uint8_t *)"\x93NUMPY\x09\x00\x10\x00", 10, &pre, &len, "x", &err),
                 SELFMM_ERR_UNSUPPORTED);
    /* the writer's header is what NumPy writes: 64-byte aligned, ending in '\n' */
    uint8_t *hdr;
    const int64_t shape[2] = {3, 4};
    REQUIRE_OK(sm_npy_make_header("<f4", 0, 2, shape, &hdr, &len, &err), err.message);
    CHECK(len % 64 == 0 && hdr[len - 1] == '\n');
    CHECK(!memcmp(hdr + 10, "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }", 59));
    REQUIRE_OK(sm_npy_parse_dict((const char *)hdr + 10, len - 10, &h, "x", &err), err.message);
    CHECK(h.ndim == 2 && h.shape[0] == 3);
    free(hdr);
}

/* Every strict prefix of a good file is an error with a message, never a crash
 * (run under ASan: each prefix is its own exact-size allocation). */
static void truncations(const char *path, size_t step)
{
    size_t size;
    uint8_t *data = tf_read(path, &size);
    REQUIRE(data);
    long fails = 0, oks = 0;
    for (size_t n = 0; n < size; n += (n < 256 ? 1 : step)) {
        uint8_t *cut = malloc(n ? n : 1);
        memcpy(cut, data, n);
        selfmm_error err = {0};
        selfmm_dataset *ds = NULL;
        sm_load_opts o = {0};
        selfmm_status st = sm_dataset_open_mem(cut, n, "cut", &o, &ds, &err);
        if (st == SELFMM_OK) oks++, selfmm_dataset_free(ds);
        else if (err.message[0]) fails++;
        free(cut);
    }
    CHECK_MSG(oks == 0, "%s: %ld truncated copies loaded", path, oks);
    CHECK(fails > 0);
    free(data);
}

TEST(truncated_files)
{
    truncations(FX "mmsa_p2.pkl", 1);
    truncations(FX "mmsa_p4.pkl", 1);
    truncations(FX "mmsa_p5.pkl", 1);
    truncations(FX "mmsa_numpy.npz", 7);
    truncations(FX "mmsa_numpy_compressed.npz", 7);
}

/* Random byte changes: any status is fine, crashes and leaks are not. */
TEST(mutated_files)
{
    static const char *const files[] = {FX "mmsa_p2.pkl", FX "mmsa_p4.pkl", FX "mmsa_p5.pkl",
                                        FX "mmsa_numpy.npz"};
    uint64_t rng = 12345;
    for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
        size_t size;
        uint8_t *data = tf_read(files[f], &size);
        REQUIRE(data);
        for (int it = 0; it < 400; it++) {
            uint8_t *m = malloc(size);
            memcpy(m, data, size);
            int flips = 1 + (int)(tf_rand(&rng) % 4);
            for (int k = 0; k < flips; k++) m[tf_rand(&rng) % size] = (uint8_t)tf_rand(&rng);
            selfmm_error err = {0};
            selfmm_dataset *ds = NULL;
            sm_load_opts o = {(int)(it & 1), (int)(it & 2) >> 1, 0};
            if (sm_dataset_open_mem(m, size, "mutated", &o, &ds, &err) == SELFMM_OK)
                selfmm_dataset_free(ds);
            else
                CHECK(err.message[0] != '\0');
            free(m);
        }
        free(data);
    }
}

int main(void)
{
    RUN(pickle_protocol2);
    RUN(pickle_protocol4);
    RUN(pickle_protocol5);
    RUN(split_view_and_batch);
    RUN(nan_is_an_error_unless_zeroed);
    RUN(lengths_out_of_range);
    RUN(bad_values_name_the_first);
    RUN(feature_widths_agree_across_splits);
    RUN(aligned_data_has_no_lengths);
    RUN(bad_shapes_and_fields);
    RUN(hostile_pickles_are_refused);
    RUN(numpy_npz);
    RUN(npz_round_trip);
    RUN(zip_bombs);
    RUN(npy_headers);
    RUN(info_only_counts_without_failing);
    RUN(truncated_files);
    RUN(mutated_files);
    return h_finish();
}
