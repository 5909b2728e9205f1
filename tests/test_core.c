/* test_core.c -- Philox against its published known-answer vectors, the derived
 * distributions, and atomic file replacement. */
#include "harness.h"

#include "core/atomic_file.h"
#include "core/clock.h"
#include "core/file.h"
#include "core/rng.h"

#include <dirent.h>
#include <unistd.h>

/* Random123's kat_vectors for philox4x32_10: counter, key -> result. */
TEST(philox_known_answers)
{
    sm_rng_key k;
    uint32_t out[4];
    /* zero counter, zero key */
    k = (sm_rng_key){{0, 0}, {0, 0, 0}};
    sm_rng_block(&k, 0, out);
    CHECK_INT(out[0], 0x6627e8d5u);
    CHECK_INT(out[1], 0xe169c58du);
    CHECK_INT(out[2], 0xbc57ac4cu);
    CHECK_INT(out[3], 0x9b00dbd8u);
    /* all-ones counter and key */
    k = (sm_rng_key){{0xffffffffu, 0xffffffffu}, {0xffffffffu, 0xffffffffu, 0xffffffffu}};
    sm_rng_block(&k, 0xffffffffu, out);
    CHECK_INT(out[0], 0x408f276du);
    CHECK_INT(out[1], 0x41c83b0eu);
    CHECK_INT(out[2], 0xa20bc7c6u);
    CHECK_INT(out[3], 0x6d5451fdu);
    /* digits of pi */
    k = (sm_rng_key){{0xa4093822u, 0x299f31d0u}, {0x85a308d3u, 0x13198a2eu, 0x03707344u}};
    sm_rng_block(&k, 0x243f6a88u, out);
    CHECK_INT(out[0], 0xd16cfe09u);
    CHECK_INT(out[1], 0x94fdccebu);
    CHECK_INT(out[2], 0x5001e420u);
    CHECK_INT(out[3], 0x24126ea1u);
}

TEST(distributions)
{
    sm_rng_key k = sm_rng_make(1111, SM_RNG_DATA, 3, 7);
    enum { N = 200000 };
    static float x[N];
    sm_rng_uniform_fill(&k, x, N);
    double s = 0;
    for (int i = 0; i < N; i++) {
        CHECK(x[i] >= 0.0f && x[i] < 1.0f);
        s += x[i];
    }
    CHECK_CLOSE(s / N, 0.5, 0, 0.005);
    CHECK(sm_rng_uniform(&k, 12345) == x[12345]);
    sm_rng_normal_fill(&k, x, N, 1.0, 2.0);
    double m = 0, v = 0;
    for (int i = 0; i < N; i++) m += x[i];
    m /= N;
    for (int i = 0; i < N; i++) v += (x[i] - m) * (x[i] - m);
    CHECK_CLOSE(m, 1.0, 0, 0.02);
    CHECK_CLOSE(sqrt(v / N), 2.0, 0.01, 0);
    sm_rng_range_fill(&k, x, N, -0.5, 0.25);
    for (int i = 0; i < N; i++) CHECK(x[i] >= -0.5f && x[i] <= 0.25f);
    int perm[100], seen[100] = {0};
    sm_rng_permutation(&k, perm, 100);
    for (int i = 0; i < 100; i++) seen[perm[i]]++;
    for (int i = 0; i < 100; i++) CHECK_INT(seen[i], 1);
    /* different streams and steps give different numbers */
    sm_rng_key k2 = sm_rng_make(1111, SM_RNG_DATA, 4, 7), k3 = sm_rng_make(1111, SM_RNG_DROPOUT, 3, 7);
    CHECK(sm_rng_uniform(&k2, 0) != sm_rng_uniform(&k, 0));
    CHECK(sm_rng_uniform(&k3, 0) != sm_rng_uniform(&k, 0));
}

static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)))
        if (de->d_name[0] != '.') n++;
    closedir(d);
    return n;
}

TEST(atomic_write_replaces_or_leaves_alone)
{
    char dir[] = "/tmp/selfmm_test_atomic_XXXXXX";
    REQUIRE(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/out.txt", dir);
    selfmm_error e = {0};
    CHECK_OK(sm_atomic_write(path, "first", 5, &e), e.message);
    CHECK_OK(sm_atomic_write(path, "second!", 7, &e), e.message);
    FILE *fp = fopen(path, "r");
    char buf[16] = {0};
    REQUIRE(fp);
    CHECK_INT(fread(buf, 1, sizeof buf, fp), 7);
    fclose(fp);
    CHECK_STR(buf, "second!");
    /* an aborted write leaves the old file and no temp file behind */
    sm_atomic_file af;
    REQUIRE_OK(sm_atomic_open(&af, path, &e), e.message);
    fputs("partial", af.fp);
    sm_atomic_abort(&af);
    CHECK_INT(count_entries(dir), 1);
    /* a target in a missing directory fails cleanly */
    char bad[300];
    snprintf(bad, sizeof bad, "%s/no/such/dir/x", dir);
    CHECK_STATUS(sm_atomic_write(bad, "x", 1, &e), SELFMM_ERR_IO);
    CHECK_CONTAINS(e.message, "no/such/dir");
    unlink(path);
    rmdir(dir);
}

/* A copy streams the whole file (more than one 64 KiB buffer), replaces the target
 * atomically, and leaves the target alone when the source is missing. */
TEST(atomic_copy)
{
    char dir[] = "/tmp/selfmm_test_copy_XXXXXX";
    REQUIRE(mkdtemp(dir));
    char from[256], to[256], none[256];
    snprintf(from, sizeof from, "%s/from.bin", dir);
    snprintf(to, sizeof to, "%s/to.bin", dir);
    snprintf(none, sizeof none, "%s/none.bin", dir);
    enum { N = 200000 };
    char *data = malloc(N), *back = NULL;
    REQUIRE(data);
    for (int i = 0; i < N; i++) data[i] = (char)(i * 7 + i / 251);
    selfmm_error e = {0};
    REQUIRE_OK(sm_atomic_write(from, data, N, &e), e.message);
    REQUIRE_OK(sm_atomic_write(to, "old", 3, &e), e.message);
    CHECK_OK(sm_atomic_copy(from, to, &e), e.message);
    size_t n = 0;
    REQUIRE_OK(sm_read_file(to, N, &back, &n, &e), e.message);
    CHECK_INT(n, N);
    CHECK(n == N && memcmp(back, data, N) == 0);
    free(back);
    CHECK_STATUS(sm_atomic_copy(none, to, &e), SELFMM_ERR_NOT_FOUND);
    CHECK_CONTAINS(e.message, "none.bin");
    REQUIRE_OK(sm_read_file(to, N, &back, &n, &e), e.message);
    CHECK_INT(n, N); /* unchanged */
    free(back);
    CHECK_INT(count_entries(dir), 2); /* no temp file left */
    free(data);
    unlink(from), unlink(to);
    rmdir(dir);
}

TEST(median)
{
    double odd[] = {5, 1, 3}, even[] = {4, 1, 3, 2}, one[] = {7};
    CHECK(sm_median(odd, 3) == 3);
    CHECK(sm_median(even, 4) == 2.5);
    CHECK(sm_median(one, 1) == 7);
}

TEST(error_prefix)
{
    selfmm_error e;
    sm_error(&e, SELFMM_ERR_RANGE, "key \"%s\": bad", "H");
    CHECK_STATUS(sm_error_prefix(&e, SELFMM_ERR_TYPE, "%s", "cfg.json"), SELFMM_ERR_TYPE);
    CHECK_INT(e.status, SELFMM_ERR_TYPE);
    CHECK_STR(e.message, "cfg.json: key \"H\": bad");
    /* a long prefix takes at most half the buffer; a long message is cut at the end */
    char big[2 * SELFMM_ERROR_MESSAGE_SIZE];
    memset(big, 'p', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    sm_error(&e, SELFMM_ERR_IO, "%.*s", SELFMM_ERROR_MESSAGE_SIZE - 2, big);
    for (char *p = e.message; *p; p++) *p = 'm';
    sm_error_prefix(&e, SELFMM_ERR_IO, "%s", big);
    CHECK_INT(strlen(e.message), SELFMM_ERROR_MESSAGE_SIZE - 1);
    CHECK_INT(strspn(e.message, "p"), SELFMM_ERROR_MESSAGE_SIZE / 2 - 1);
    CHECK(strncmp(e.message + SELFMM_ERROR_MESSAGE_SIZE / 2 - 1, ": mmm", 5) == 0);
    CHECK_INT(sm_error_prefix(NULL, SELFMM_ERR_DATA, "x"), SELFMM_ERR_DATA);
}

int main(void)
{
    RUN(philox_known_answers);
    RUN(distributions);
    RUN(atomic_write_replaces_or_leaves_alone);
    RUN(atomic_copy);
    RUN(median);
    RUN(error_prefix);
    return h_finish();
}
