/* test_buffers.c -- nn/buffers.h, the one helper that grows and frees every layer's
 * activation buffers: grow-only capacities per size, element sizes from the pointer
 * type (bf16 = 2 bytes), optional and zero-filled buffers, all or nothing on failure.
 * Under AddressSanitizer, writing every element of every buffer checks the counts. */
#include "harness.h"

#include "nn/buffers.h"

#include <stdint.h>

typedef uint16_t bf16; /* a 2-byte element, as a bf16 copy will be */

typedef struct layer {
    int width;
    int with_copy;            /* the optional buffer's flag */
    float *act;               /* (B, width) */
    bf16 *act16;              /* (B, width), only with_copy */
    uint8_t *mask;            /* (B, width) */
    int32_t *len;             /* (B) */
    float *probs;             /* (P) a second size */
    float *zero;              /* (B) zero-filled */
    float *fixed;             /* (5) */
    sm_bufsize cap;
} layer;

enum { BATCH, PAIRS };

static void table(layer *l, sm_bufs *t)
{
    SM_BUFS(t, SM_BUF(l->act, BATCH, l->width), SM_BUF_IF(l->with_copy, l->act16, BATCH, l->width),
            SM_BUF(l->mask, BATCH, l->width), SM_BUF(l->len, BATCH, 1), SM_BUF(l->probs, PAIRS, 1),
            SM_BUF_ZEROED(l->zero, BATCH, 1), SM_BUF(l->fixed, SM_BUF_FIXED, 5));
}

static selfmm_status grow(layer *l, int64_t b, int64_t p)
{
    sm_bufs t;
    table(l, &t);
    return sm_bufs_grow(&t, &l->cap, &(sm_bufsize){{b, p}});
}

static void release(layer *l)
{
    sm_bufs t;
    table(l, &t);
    sm_bufs_free(&t);
    l->cap = (sm_bufsize){{0}};
}

/* Touch every element the capacity promises (ASan catches a short buffer). */
static void touch(layer *l)
{
    const int64_t B = l->cap.n[BATCH], P = l->cap.n[PAIRS];
    for (int64_t i = 0; i < B * l->width; i++) {
        l->act[i] = 1.0f, l->mask[i] = 1;
        if (l->act16) l->act16[i] = 1;
    }
    for (int64_t i = 0; i < B; i++) l->len[i] = 1, l->zero[i] = 0.0f;
    for (int64_t i = 0; i < P; i++) l->probs[i] = 1.0f;
    for (int i = 0; i < 5; i++) l->fixed[i] = 1.0f;
}

TEST(element_sizes_from_pointer_types)
{
    layer l = {.width = 3};
    sm_bufs t;
    table(&l, &t);
    CHECK_INT(t.n, 7);
    CHECK_INT(t.e[0].elem, 4);
    CHECK_INT(t.e[1].elem, 2); /* bf16 */
    CHECK_INT(t.e[2].elem, 1);
    CHECK_INT(t.e[3].elem, 4);
    CHECK(t.e[1].flags & SM_BUF_OFF);
    CHECK(t.e[5].flags & SM_BUF_ZERO);
    /* bytes at B = 4, P = 10: act 48, mask 12, len 16, probs 40, zero 16, fixed 20 */
    CHECK_INT(sm_bufs_bytes(&t, &(sm_bufsize){{4, 10}}), 48 + 12 + 16 + 40 + 16 + 20);
    l.with_copy = 1;
    table(&l, &t);
    CHECK_INT(sm_bufs_bytes(&t, &(sm_bufsize){{4, 10}}), 48 + 24 + 12 + 16 + 40 + 16 + 20);
}

TEST(grow_only_per_size)
{
    layer l = {.width = 3};
    CHECK_OK(grow(&l, 4, 10), "grow");
    CHECK_INT(l.cap.n[BATCH], 4);
    CHECK_INT(l.cap.n[PAIRS], 10);
    REQUIRE(l.act && l.mask && l.len && l.probs && l.zero && l.fixed);
    CHECK(l.act16 == NULL); /* optional and off */
    touch(&l);
    float *act = l.act;
    /* smaller in both sizes: nothing is allocated, the same buffers stay */
    CHECK_OK(grow(&l, 2, 6), "grow smaller");
    CHECK(l.act == act);
    CHECK_INT(l.cap.n[BATCH], 4);
    CHECK_INT(l.cap.n[PAIRS], 10);
    /* larger in one size: the capacity is the largest seen of each */
    CHECK_OK(grow(&l, 3, 25), "grow one size");
    CHECK_INT(l.cap.n[BATCH], 4);
    CHECK_INT(l.cap.n[PAIRS], 25);
    touch(&l);
    CHECK_OK(grow(&l, 9, 1), "grow the other");
    CHECK_INT(l.cap.n[BATCH], 9);
    CHECK_INT(l.cap.n[PAIRS], 25);
    touch(&l);
    release(&l);
    CHECK(!l.act && !l.act16 && !l.mask && !l.len && !l.probs && !l.zero && !l.fixed);
    release(&l); /* twice is harmless */
}

TEST(optional_buffer_follows_its_flag)
{
    layer l = {.width = 2};
    CHECK_OK(grow(&l, 5, 1), "grow");
    CHECK(l.act16 == NULL);
    float *act = l.act;
    l.with_copy = 1; /* same sizes: only the new buffer is allocated */
    CHECK_OK(grow(&l, 5, 1), "on");
    CHECK(l.act16 != NULL);
    CHECK(l.act == act);
    touch(&l);
    l.with_copy = 0;
    CHECK_OK(grow(&l, 1, 1), "off");
    CHECK(l.act16 == NULL);
    CHECK(l.act == act);
    release(&l);
}

TEST(zeroed_buffer_is_zero)
{
    layer l = {.width = 1};
    CHECK_OK(grow(&l, 1000, 1), "grow");
    int nonzero = 0;
    for (int i = 0; i < 1000; i++) nonzero += l.zero[i] != 0.0f;
    CHECK_INT(nonzero, 0);
    release(&l);
}

TEST(failure_frees_everything_then_retry)
{
    layer l = {.width = 3, .with_copy = 1};
    CHECK_OK(grow(&l, 2, 2), "grow");
    /* a count that cannot be allocated (B x width overflows): every buffer goes, the
     * capacity is zero. (A real malloc failure is tests/test_model.c's
     * out_of_memory_then_retry, under a memory limit.) */
    CHECK_STATUS(grow(&l, INT64_MAX / 2, 2), SELFMM_ERR_NOMEM);
    CHECK(!l.act && !l.act16 && !l.mask && !l.len && !l.probs && !l.zero && !l.fixed);
    CHECK_INT(l.cap.n[BATCH], 0);
    CHECK_INT(l.cap.n[PAIRS], 0);
    /* the next call starts again from nothing */
    CHECK_OK(grow(&l, 3, 4), "retry");
    CHECK_INT(l.cap.n[BATCH], 3);
    touch(&l);
    release(&l);
}

TEST(shared_capacity_alloc)
{
    /* sm_bufs_alloc fills only what is missing, at sizes kept elsewhere */
    layer l = {.width = 4};
    sm_bufs t;
    table(&l, &t);
    const sm_bufsize at = {{6, 7}};
    CHECK_OK(sm_bufs_alloc(&t, &at), "alloc");
    l.cap = at;
    touch(&l);
    float *act = l.act;
    CHECK_OK(sm_bufs_alloc(&t, &(sm_bufsize){{100, 100}}), "again");
    CHECK(l.act == act); /* kept */
    release(&l);
}

int main(void)
{
    RUN(element_sizes_from_pointer_types);
    RUN(grow_only_per_size);
    RUN(optional_buffer_follows_its_flag);
    RUN(zeroed_buffer_is_zero);
    RUN(failure_frees_everything_then_retry);
    RUN(shared_capacity_alloc);
    return h_finish();
}
