/* thread_ranks.c -- see thread_ranks.h. */
#include "support/thread_ranks.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define TR_MAX 16

typedef struct group {
    int size;
    pthread_barrier_t bar;
    const void *slot[TR_MAX];   /* each rank's buffer during a call */
    size_t bytes[TR_MAX];
} group;

typedef struct member {
    group *g;
    int rank;
    selfmm_collectives table;
    tr_fn fn;
    void *arg;
    selfmm_status st;
} member;

static void wait_all(group *g) { pthread_barrier_wait(&g->bar); }

static int cb_allgather(const void *send, size_t bytes, void *recv, void *user)
{
    member *m = user;
    group *g = m->g;
    g->slot[m->rank] = send;
    g->bytes[m->rank] = bytes;
    wait_all(g);
    int mismatch = 0;
    for (int r = 0; r < g->size; r++) {
        if (g->bytes[r] != bytes) mismatch = 1;
        else memcpy((char *)recv + (size_t)r * bytes, g->slot[r], bytes);
    }
    wait_all(g);
    return mismatch ? 9 : 0;
}

static int cb_broadcast(void *buf, size_t bytes, int root, void *user)
{
    member *m = user;
    group *g = m->g;
    g->slot[m->rank] = buf;
    g->bytes[m->rank] = bytes;
    wait_all(g);
    int bad = g->bytes[root] != bytes;
    if (!bad && m->rank != root) memcpy(buf, g->slot[root], bytes);
    wait_all(g);
    return bad ? 9 : 0;
}

static int cb_allreduce(float *buf, int64_t n, void *user)
{
    member *m = user;
    group *g = m->g;
    float *sum = malloc((size_t)(n > 0 ? n : 1) * sizeof *sum);
    g->slot[m->rank] = buf;
    g->bytes[m->rank] = (size_t)n;
    wait_all(g);
    int bad = !sum;
    for (int r = 0; r < g->size; r++) bad |= g->bytes[r] != (size_t)n;
    if (!bad) /* in rank order on every rank */
        for (int64_t i = 0; i < n; i++) {
            float s = ((const float *)g->slot[0])[i];
            for (int r = 1; r < g->size; r++) s += ((const float *)g->slot[r])[i];
            sum[i] = s;
        }
    wait_all(g);
    if (!bad) memcpy(buf, sum, (size_t)n * sizeof *sum);
    free(sum);
    return bad ? 9 : 0;
}

static int cb_barrier(void *user)
{
    wait_all(((member *)user)->g);
    return 0;
}

static const char *cb_errmsg(void *user)
{
    (void)user;
    return "thread ranks: the ranks passed different sizes";
}

static void *thread_main(void *p)
{
    member *m = p;
    m->st = m->fn(&m->table, m->arg);
    return NULL;
}

int tr_run(int size, tr_fn fn, void *arg, selfmm_status *st)
{
    if (size < 1 || size > TR_MAX) return -1;
    group g;
    memset(&g, 0, sizeof g);
    g.size = size;
    if (pthread_barrier_init(&g.bar, NULL, (unsigned)size) != 0) return -1;
    member m[TR_MAX];
    pthread_t th[TR_MAX];
    for (int r = 0; r < size; r++) {
        m[r] = (member){.g = &g, .rank = r, .fn = fn, .arg = arg};
        m[r].table = (selfmm_collectives){SELFMM_COLLECTIVES_VERSION, r, size, &m[r], cb_allreduce, cb_allgather,
                                          cb_broadcast, cb_barrier, cb_errmsg};
    }
    int started = 0;
    for (; started < size; started++)
        if (pthread_create(&th[started], NULL, thread_main, &m[started]) != 0) break;
    for (int r = 0; r < started; r++) pthread_join(th[r], NULL);
    pthread_barrier_destroy(&g.bar);
    if (started < size) return -1;
    for (int r = 0; r < size; r++) st[r] = m[r].st;
    return 0;
}
