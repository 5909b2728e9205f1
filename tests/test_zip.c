/* test_zip.c -- zip integrity in both zip readers: torch checkpoints (our central
 * directory parser, lib/io/zip_read.c) and .npz datasets (the same directory check,
 * then libzip). Each case damages a committed fixture the way a bad disk, a bad
 * download or a forger would, and the load must fail with a message naming the
 * file and the member, as Python's zipfile and libzip refuse them: a wrong CRC-32
 * (stored and deflated members), a central entry pointing at another member's local
 * header, a stored member whose two sizes differ (0xFFFFFFF0), local header and
 * central directory disagreeing, a ZIP64 marker without its value, overlapping
 * members, and random byte flips in member data. */
#include "harness.h"

#include "data/dataset.h"
#include "io/tensors.h"
#include "io/zip_read.h"
#include "support/testfile.h"

#define FX "tests/fixtures/io/"
#define REAL "tests/fixtures/shared/checkpoints/"

static uint32_t rd32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static void wr32(uint8_t *p, uint32_t v) { p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16), p[3] = (uint8_t)(v >> 24); }

/* A member of a (well-formed, non-ZIP64) test zip, by name: its central entry,
 * local header and data. */
typedef struct zmember {
    uint8_t *cen, *loc, *data;
    uint32_t comp;
} zmember;

static int member(uint8_t *d, size_t n, const char *name, zmember *m)
{
    uint8_t *eocd = d + n - 22;
    if (n < 22 || rd32(eocd) != 0x06054b50) return 0;
    uint8_t *p = d + rd32(eocd + 16);
    for (int i = 0; i < rd16(eocd + 10); i++) {
        size_t nlen = rd16(p + 28);
        if (nlen == strlen(name) && !memcmp(p + 46, name, nlen)) {
            m->cen = p;
            m->loc = d + rd32(p + 42);
            m->data = m->loc + 30 + rd16(m->loc + 26) + rd16(m->loc + 28);
            m->comp = rd32(p + 20);
            return 1;
        }
        p += 46 + nlen + rd16(p + 30) + rd16(p + 32);
    }
    return 0;
}

/* Read a torch zip from memory: the status, the message in err. */
static selfmm_status read_pth(const uint8_t *d, size_t n, selfmm_error *err)
{
    sm_tensor_list l;
    memset(&l, 0, sizeof l);
    memset(err, 0, sizeof *err);
    selfmm_status st = sm_read_checkpoint_mem(d, n, "t.pth", &l, err);
    sm_tensors_free(&l);
    return st;
}

/* Write d to the scratch directory and load it as a dataset through the public
 * call (the path `test`, `train` and `convert` take). */
static selfmm_status load_npz(const uint8_t *d, size_t n, const char *name, char *path, size_t cap,
                              selfmm_error *err)
{
    snprintf(path, cap, "%s/%s", tf_scratch("test_zip"), name);
    if (tf_write(path, d, n) != 0) return SELFMM_ERR_IO;
    selfmm_dataset *ds = NULL;
    memset(err, 0, sizeof *err);
    selfmm_status st = selfmm_dataset_load(path, NULL, &ds, err);
    selfmm_dataset_free(ds);
    return st;
}

static uint8_t *copy_of(const uint8_t *d, size_t n)
{
    uint8_t *c = malloc(n);
    if (c) memcpy(c, d, n);
    return c;
}

TEST(fixtures_are_intact)
{
    size_t n;
    uint8_t *d = tf_read(FX "selfmm_tiny.pth", &n);
    REQUIRE(d);
    selfmm_error err;
    CHECK_OK(read_pth(d, n, &err), err.message);
    free(d);
    const char *npz[] = {FX "mmsa_numpy.npz", FX "mmsa_numpy_compressed.npz"};
    for (int i = 0; i < 2; i++) {
        selfmm_dataset *ds = NULL;
        CHECK_OK(selfmm_dataset_load(npz[i], NULL, &ds, &err), err.message);
        selfmm_dataset_free(ds);
    }
}

/* One byte of a storage, one of data.pkl: the CRC-32 no longer matches. */
TEST(torch_wrong_crc)
{
    size_t n;
    uint8_t *d = tf_read(FX "selfmm_tiny.pth", &n);
    REQUIRE(d);
    const char *names[] = {"selfmm_tiny/data/3", "selfmm_tiny/data.pkl"};
    for (int k = 0; k < 2; k++) {
        uint8_t *c = copy_of(d, n);
        zmember m;
        REQUIRE(member(c, n, names[k], &m));
        m.data[m.comp / 2] ^= 0x10;
        selfmm_error err;
        CHECK_STATUS(read_pth(c, n, &err), SELFMM_ERR_FORMAT);
        char want[128];
        snprintf(want, sizeof want, "t.pth: member \"%s\": CRC-32 0x", names[k]);
        CHECK_CONTAINS(err.message, want);
        CHECK_CONTAINS(err.message, "the file is damaged");
        /* through a file and the public import, as `convert` reads it */
        char path[512];
        snprintf(path, sizeof path, "%s/crc.pth", tf_scratch("test_zip"));
        REQUIRE(tf_write(path, c, n) == 0);
        selfmm_config cfg;
        selfmm_config_default(&cfg);
        CHECK_STATUS(selfmm_config_check_pth(&cfg, path, &err), SELFMM_ERR_FORMAT);
        CHECK_CONTAINS(err.message, "CRC-32");
        CHECK_CONTAINS(err.message, path);
        free(c);
    }
    free(d);
}

/* Random single-byte changes anywhere in any member's data: none may load (the
 * issue: 11 of 40 random bit flips in a .pth converted silently). */
TEST(torch_random_flips_in_data)
{
    const char *files[] = {FX "selfmm_tiny.pth", REAL "camphr_ner_bert/pytorch_model.bin", FX "bert_zip/pytorch_model.bin"};
    uint64_t rng = 4242;
    for (int f = 0; f < 3; f++) {
        size_t n;
        uint8_t *d = tf_read(files[f], &n);
        REQUIRE(d);
        /* the data ranges of every member */
        uint8_t *eocd = d + n - 22;
        int count = rd16(eocd + 10), loads = 0;
        for (int it = 0; it < 40; it++) {
            uint8_t *p = d + rd32(eocd + 16);
            int pick = (int)(tf_rand(&rng) % (uint64_t)count);
            for (int i = 0; i < pick; i++) p += 46 + rd16(p + 28) + rd16(p + 30) + rd16(p + 32);
            uint32_t comp = rd32(p + 20);
            if (comp == 0) continue;
            uint8_t *loc = d + rd32(p + 42);
            size_t at = (size_t)(loc + 30 + rd16(loc + 26) + rd16(loc + 28) - d) + tf_rand(&rng) % comp;
            uint8_t *c = copy_of(d, n);
            c[at] ^= (uint8_t)(1u << (tf_rand(&rng) % 8));
            selfmm_error err;
            if (read_pth(c, n, &err) == SELFMM_OK) loads++;
            free(c);
        }
        CHECK_MSG(loads == 0, "%s: %d of 40 copies with a flipped data bit loaded", files[f], loads);
        free(d);
    }
}

/* The central entry of data/45 pointing at data/11's local header: the tensor
 * would be built from data/11's bytes. */
TEST(torch_spliced_local_header)
{
    size_t n;
    uint8_t *d = tf_read(FX "selfmm_tiny.pth", &n);
    REQUIRE(d);
    zmember a, b;
    REQUIRE(member(d, n, "selfmm_tiny/data/45", &a) && member(d, n, "selfmm_tiny/data/11", &b));
    wr32(a.cen + 42, (uint32_t)(b.loc - d));
    selfmm_error err;
    CHECK_STATUS(read_pth(d, n, &err), SELFMM_ERR_FORMAT);
    CHECK_CONTAINS(err.message, "t.pth: member \"selfmm_tiny/data/45\": its local header names "
                                "\"selfmm_tiny/data/11\"");
    free(d);
}

/* A stored member claiming 0xFFFFFFF0 uncompressed bytes (its compressed size
 * right): the same rule, and the same refusal, in both readers. */
TEST(stored_sizes_differ)
{
    size_t n;
    uint8_t *d = tf_read(FX "selfmm_tiny.pth", &n);
    REQUIRE(d);
    zmember m;
    REQUIRE(member(d, n, "selfmm_tiny/data/7", &m));
    wr32(m.cen + 24, 0xFFFFFFF0u);
    selfmm_error err;
    CHECK_STATUS(read_pth(d, n, &err), SELFMM_ERR_FORMAT);
    CHECK_CONTAINS(err.message, "t.pth: member \"selfmm_tiny/data/7\" is stored, yet declares");
    free(d);

    d = tf_read(FX "mmsa_numpy.npz", &n);
    REQUIRE(d);
    REQUIRE(member(d, n, "train/audio.npy", &m));
    wr32(m.cen + 24, 0xFFFFFFF0u);
    wr32(m.loc + 22, 0xFFFFFFF0u);
    char path[512];
    CHECK_STATUS(load_npz(d, n, "sizes.npz", path, sizeof path, &err), SELFMM_ERR_FORMAT);
    CHECK_CONTAINS(err.message, path);
    CHECK_CONTAINS(err.message, "member \"train/audio.npy\" is stored, yet declares");
    free(d);
}

/* Central directory and local header must agree; a ZIP64 marker needs its value;
 * a member's data must not run into the next member. */
TEST(directory_consistency)
{
    size_t n;
    uint8_t *d = tf_read(FX "mmsa_numpy.npz", &n);
    REQUIRE(d);
    uint8_t *c = copy_of(d, n);
    zmember m;
    REQUIRE(member(c, n, "train/vision.npy", &m));
    wr32(m.loc + 14, rd32(m.loc + 14) ^ 1); /* the local CRC only (no data descriptor) */
    char path[512];
    selfmm_error err;
    CHECK_STATUS(load_npz(c, n, "local.npz", path, sizeof path, &err), SELFMM_ERR_FORMAT);
    CHECK_CONTAINS(err.message, "member \"train/vision.npy\": its local header and the central "
                                "directory disagree");
    free(c);

    c = copy_of(d, n);
    REQUIRE(member(c, n, "train/vision.npy", &m));
    wr32(m.cen + 20, 0xFFFFFFFFu); /* ZIP64 marker, no extra field in the central entry */
    CHECK_STATUS(load_npz(c, n, "zip64.npz", path, sizeof path, &err), SELFMM_ERR_FORMAT);
    CHECK_CONTAINS(err.message, "member \"train/vision.npy\": a size or offset at its ZIP64 marker");
    free(c);
    free(d);

    d = tf_read(FX "selfmm_tiny.pth", &n);
    REQUIRE(d);
    REQUIRE(member(d, n, "selfmm_tiny/data/3", &m));
    wr32(m.cen + 20, m.comp + 64); /* both sizes: stored, consistent, overlapping data/4 */
    wr32(m.cen + 24, m.comp + 64);
    CHECK_STATUS(read_pth(d, n, &err), SELFMM_ERR_FORMAT);
    CHECK_CONTAINS(err.message, "overlap");
    CHECK_CONTAINS(err.message, "\"selfmm_tiny/data/3\"");
    free(d);
}

/* .npz: a flipped byte in a stored member, a CRC-32 that does not match a deflated
 * member's data, and a spliced central entry. */
TEST(npz_wrong_crc)
{
    size_t n;
    uint8_t *d = tf_read(FX "mmsa_numpy.npz", &n);
    REQUIRE(d);
    zmember m;
    REQUIRE(member(d, n, "valid/audio.npy", &m));
    m.data[m.comp - 3] ^= 0x01; /* the last float: converts fine, only the CRC tells */
    char path[512];
    selfmm_error err;
    CHECK_STATUS(load_npz(d, n, "stored_crc.npz", path, sizeof path, &err), SELFMM_ERR_FORMAT);
    CHECK_CONTAINS(err.message, path);
    CHECK_CONTAINS(err.message, "valid/audio: the member's CRC-32 does not match its data");
    free(d);

    d = tf_read(FX "mmsa_numpy_compressed.npz", &n);
    REQUIRE(d);
    REQUIRE(member(d, n, "test/vision.npy", &m));
    uint32_t bad = rd32(m.cen + 16) ^ 0x80000000u;
    wr32(m.cen + 16, bad);
    wr32(m.loc + 14, bad);
    CHECK_STATUS(load_npz(d, n, "deflated_crc.npz", path, sizeof path, &err), SELFMM_ERR_FORMAT);
    CHECK_CONTAINS(err.message, path);
    CHECK_CONTAINS(err.message, "test/vision: the member's CRC-32 does not match its data");
    free(d);

    d = tf_read(FX "mmsa_numpy.npz", &n);
    REQUIRE(d);
    zmember a, b;
    REQUIRE(member(d, n, "test/audio.npy", &a) && member(d, n, "train/audio.npy", &b));
    wr32(a.cen + 42, (uint32_t)(b.loc - d));
    CHECK_STATUS(load_npz(d, n, "spliced.npz", path, sizeof path, &err), SELFMM_ERR_FORMAT);
    CHECK_CONTAINS(err.message, "member \"test/audio.npy\": its local header names \"train/audio.npy\"");
    free(d);
}

/* The directory reader alone: flags the fuzzers and readers rely on. */
TEST(entries_and_lookup)
{
    size_t n;
    uint8_t *d = tf_read(FX "selfmm_tiny.pth", &n);
    REQUIRE(d);
    sm_zip_dir dir;
    selfmm_error err = {0};
    REQUIRE_OK(sm_zip_read_dir(d, n, "t", &dir, &err), err.message);
    CHECK_INT(dir.n, 77);
    sm_zip_entry *e = sm_zip_find(&dir, "selfmm_tiny/data/3");
    REQUIRE(e);
    CHECK_INT(e->method, 0);
    CHECK_INT(e->verified, 0);
    CHECK_OK(sm_zip_verify(d, e, "t", &err), err.message);
    CHECK_INT(e->verified, 1);
    CHECK(sm_zip_find(&dir, "selfmm_tiny/data/999") == NULL);
    sm_zip_dir_free(&dir);
    free(d);
}

int main(void)
{
    RUN(fixtures_are_intact);
    RUN(torch_wrong_crc);
    RUN(torch_random_flips_in_data);
    RUN(torch_spliced_local_header);
    RUN(stored_sizes_differ);
    RUN(directory_consistency);
    RUN(npz_wrong_crc);
    RUN(entries_and_lookup);
    return h_finish();
}
