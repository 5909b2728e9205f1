/* test_core.c -- Philox against its published known-answer vectors, the derived
 * distributions, atomic file replacement, and how inputs are opened. */
#include "harness.h"

#include "core/atomic_file.h"
#include "core/clock.h"
#include "core/crc32.h"
#include "core/file.h"
#include "core/quote.h"
#include "core/rng.h"
#include "io/mapped_file.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <zlib.h>

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

/* Written in odd pieces, large and small, a file reads back byte for byte: through
 * the O_DIRECT sink (whole 8 MiB buffers, then an unaligned tail) on a disk file
 * system, and on tmpfs (/dev/shm, when it exists: kernels before 6.6 refuse O_DIRECT
 * there, so the sink falls back to buffered writes). */
TEST(atomic_write_direct_and_buffered_read_back)
{
    const size_t n = (size_t)(8 << 20) * 2 + 4096 * 3 + 1234; /* two buffers, blocks, a tail */
    unsigned char *data = malloc(n), *back = malloc(n + 1);
    REQUIRE(data && back);
    uint64_t x = 88172645463325252ull;
    for (size_t i = 0; i < n; i++) x ^= x << 13, x ^= x >> 7, x ^= x << 17, data[i] = (unsigned char)x;
    char tmpl[2][64] = {"/tmp/selfmm_test_direct_XXXXXX", "/dev/shm/selfmm_test_direct_XXXXXX"};
    for (int k = 0; k < 2; k++) {
        if (k == 1 && access("/dev/shm", W_OK) != 0) {
            printf("# no writable /dev/shm: the buffered fallback is not exercised\n");
            continue;
        }
        char *dir = mkdtemp(tmpl[k]);
        REQUIRE(dir);
        char path[128];
        snprintf(path, sizeof path, "%s/big.bin", dir);
        selfmm_error e = {0};
        sm_atomic_file af;
        REQUIRE_OK(sm_atomic_open(&af, path, &e), e.message);
        size_t off = 0, piece = 1;
        while (off < n) { /* 1, 7, 49, ... bytes, then a 9 MiB piece, then the rest */
            size_t k2 = piece < n - off ? piece : n - off;
            CHECK_INT(fwrite(data + off, 1, k2, af.fp), k2);
            off += k2;
            piece = piece < (1u << 20) ? piece * 7 : (size_t)9 << 20;
        }
        CHECK_OK(sm_atomic_commit(&af, &e), e.message);
        FILE *fp = fopen(path, "rb");
        REQUIRE(fp);
        CHECK_INT(fread(back, 1, n + 1, fp), n);
        fclose(fp);
        CHECK(memcmp(data, back, n) == 0);
        CHECK_INT(count_entries(dir), 1);
        /* and a small file through the same path */
        CHECK_OK(sm_atomic_write(path, "tiny", 4, &e), e.message);
        fp = fopen(path, "rb");
        REQUIRE(fp);
        CHECK_INT(fread(back, 1, 16, fp), 4);
        fclose(fp);
        unlink(path);
        rmdir(dir);
    }
    free(data), free(back);
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

/* Every way of opening an input refuses what is not a regular file before reading,
 * with one message; a FIFO without a writer must not block (the test would hang). */
TEST(inputs_open_without_blocking)
{
    char dir[] = "/tmp/selfmm_test_open_XXXXXX";
    REQUIRE(mkdtemp(dir));
    char fifo[256], sock[256], reg[256], want[320];
    snprintf(fifo, sizeof fifo, "%s/f", dir);
    snprintf(sock, sizeof sock, "%s/s", dir);
    snprintf(reg, sizeof reg, "%s/r", dir);
    REQUIRE(mkfifo(fifo, 0600) == 0);
    int sfd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    REQUIRE(strlen(sock) < sizeof sa.sun_path);
    memcpy(sa.sun_path, sock, strlen(sock) + 1);
    REQUIRE(sfd >= 0 && bind(sfd, (struct sockaddr *)&sa, sizeof sa) == 0);
    FILE *fp = fopen(reg, "w");
    REQUIRE(fp);
    fputs("abc", fp);
    fclose(fp);
    const struct { const char *path, *kind; } bad[] = {
        {fifo, "a FIFO"}, {sock, "a socket"}, {"/dev/null", "a character device"}, {dir, "a directory"},
    };
    for (int i = 0; i < 4; i++) {
        selfmm_error e = {0};
        snprintf(want, sizeof want, "%s: not a regular file (%s)", bad[i].path, bad[i].kind);
        int fd = 123;
        CHECK_STATUS(sm_open_input(bad[i].path, &fd, NULL, &e), SELFMM_ERR_IO);
        CHECK_STR(e.message, want);
        CHECK_INT(fd, -1);
        char *text = NULL;
        CHECK_STATUS(sm_read_file(bad[i].path, 100, &text, NULL, &e), SELFMM_ERR_IO);
        CHECK_STR(e.message, want);
        sm_mapped_file mf;
        CHECK_STATUS(sm_mapped_open(&mf, bad[i].path, &e), SELFMM_ERR_IO);
        CHECK_STR(e.message, want);
    }
    /* a regular file opens in blocking mode; its size comes back */
    selfmm_error e = {0};
    int fd = -1;
    uint64_t size = 0;
    REQUIRE_OK(sm_open_input(reg, &fd, &size, &e), e.message);
    CHECK_INT(size, 3);
    CHECK_INT(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
    close(fd);
    char *text = NULL;
    size_t n = 0;
    CHECK_STATUS(sm_read_file(reg, 2, &text, &n, &e), SELFMM_ERR_RANGE);
    REQUIRE_OK(sm_read_file(reg, 3, &text, &n, &e), e.message);
    CHECK_STR(text, "abc");
    free(text);
    snprintf(want, sizeof want, "%s/missing", dir);
    CHECK_STATUS(sm_open_input(want, &fd, NULL, &e), SELFMM_ERR_NOT_FOUND);
    CHECK_CONTAINS(e.message, "no such file");
    close(sfd);
    unlink(fifo), unlink(sock), unlink(reg);
    rmdir(dir);
}

/* The folded CRC-32 equals zlib's for every length around its block sizes (64 and
 * 256 bytes, the 16-byte tail), at every alignment, from any starting value; and
 * pieces combine into the CRC of the whole. */
TEST(crc32_matches_zlib)
{
    enum { N = 1100 };
    static uint8_t buf[N + 64];
    uint64_t s = 99;
    for (size_t i = 0; i < sizeof buf; i++) s = s * 6364136223846793005ull + 1, buf[i] = (uint8_t)(s >> 56);
    long bad = 0;
    for (size_t off = 0; off < 64; off += 5)
        for (size_t n = 0; n <= N; n++) {
            uint32_t start = (uint32_t)(n * 2654435761u);
            bad += sm_crc32(start, buf + off, n) != (uint32_t)crc32_z(start, buf + off, n);
        }
    CHECK_INT(bad, 0);
    CHECK_INT(sm_crc32(0, "123456789", 9), 0xCBF43926u); /* the check value of CRC-32 */
    uint32_t a = sm_crc32(0, buf, 700), b = sm_crc32(0, buf + 700, 333);
    CHECK_INT(sm_crc32_combine(a, b, 333), sm_crc32(0, buf, 1033));
}

/* File bytes in messages: quoted, escaped, cut. */
TEST(quoting_file_content)
{
    char b[SM_QUOTE_MAX];
    CHECK_STR(sm_quote_str(b, sizeof b, "abc"), "\"abc\"");
    CHECK_STR(sm_quote_str(b, sizeof b, "a\"b\\c"), "\"a\\\"b\\\\c\"");
    CHECK_STR(sm_quote_str(b, sizeof b, "x\ny\x01\x7f"), "\"x\\x0Ay\\x01\\x7F\"");
    /* valid UTF-8 stays; invalid bytes, C1 controls and bidirectional overrides do not */
    CHECK_STR(sm_quote_str(b, sizeof b, "caf\xC3\xA9 \xE7\x9A\x84"), "\"caf\xC3\xA9 \xE7\x9A\x84\"");
    CHECK_STR(sm_quote_str(b, sizeof b, "\xFF\xC3(\xC2\x85"), "\"\\xFF\\xC3(\\xC2\\x85\"");
    CHECK_STR(sm_quote_str(b, sizeof b, "a\xE2\x80\xAE" "b"), "\"a\\xE2\\x80\\xAE" "b\"");
    CHECK_STR(sm_quote(b, sizeof b, "a\0b", 3), "\"a\\x00b\"");
    CHECK_STR(sm_quote_str(b, sizeof b, NULL), "(null)");
    /* a long value is cut at a character boundary, "..." after the quote */
    char lng[400];
    for (int i = 0; i < 199; i++) memcpy(lng + 2 * i, "\xC3\xA9", 2);
    lng[398] = '\0';
    sm_quote_str(b, sizeof b, lng);
    size_t n = strlen(b);
    CHECK(n < sizeof b);
    CHECK_STR(b + n - 4, "\"...");
    CHECK_INT((n - 5) % 2, 0);
    char small[16];
    CHECK_STR(sm_quote_str(small, sizeof small, "0123456789abcdef"), "\"0123456789\"...");
    CHECK_CONTAINS(SM_Q("k\x1b[31m"), "\\x1B[31m");
}

int main(void)
{
    RUN(philox_known_answers);
    RUN(distributions);
    RUN(atomic_write_replaces_or_leaves_alone);
    RUN(atomic_write_direct_and_buffered_read_back);
    RUN(atomic_copy);
    RUN(median);
    RUN(error_prefix);
    RUN(inputs_open_without_blocking);
    RUN(crc32_matches_zlib);
    RUN(quoting_file_content);
    return h_finish();
}
