/* cmd_bench.c -- `selfmm-cli bench`: time training and evaluation steps of a
 * randomly initialised bert-base Self-MM on a dataset's shapes, and compare BERT's
 * achieved GFLOP/s with a plain sgemm measured in the same run (interleaved with the
 * steps, so both see the same machine load). One JSON line per case.
 *
 * Under mpirun each rank times its share of the batch (as data-parallel training
 * cuts it), then the ranks time the allreduce of the whole gradient arena, which
 * training does once per accumulation window; rank 0 prints the line with every
 * rank's step time. */
#include "commands.h"
#include "common.h"
#include "mpi.h"

#include "core/clock.h"

#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

/* Padded shapes of the MMSA unaligned pickles (docs/MODEL.md §6.4), by dataset; the mmsa-*
 * presets train on the same files. */
typedef struct shape {
    const char *dataset;
    int text_len, audio_len, vision_len;
} shape;

static const shape shapes[] = {{"sims", 39, 400, 55}, {"mosi", 50, 375, 500}, {"mosei", 50, 500, 500}};

/* The sgemm yardstick: BERT's FFN shape at batch 32 x 39 tokens. */
enum { SG_M = 1248, SG_K = 768, SG_N = 3072 };

static void help(void)
{
    printf("usage: selfmm-cli bench [--preset NAME] [--batch N] [--steps N] [--threads N]\n"
           "                        [--precision fp32|bf16] [--full-text] [--set key=value]...\n\n"
           "Time forward+loss+backward (train) and forward (eval) steps of a randomly\n"
           "initialised model of the preset (bert-base) on random inputs of the dataset's\n"
           "padded shapes (text lengths: sample 0 full, the others uniform in [L/2, L]), and\n"
           "print one JSON line: medians in seconds, the time split\n"
           "(bert_s, audio_lstm_s, vision_lstm_s, rest_s), BERT's GFLOP/s against a\n"
           "%dx%dx%d sgemm measured between the steps (ratio), BERT's time inside GEMM\n"
           "calls and their GFLOP/s (bert_gemm_s, bert_gemm_gflops, gemm_ratio against the\n"
           "sgemm: its rate without the elementwise work), and the peak RSS of the model's\n"
           "steps (peak_rss_mb: up to the first timed step and evaluation, before the\n"
           "yardsticks allocate their own buffers).\n\n"
           "  --preset NAME   sims (default), mosi, mosei, mmsa-sims, mmsa-mosi, mmsa-mosei\n"
           "  --batch N       samples per step (default: the preset's batch_size)\n"
           "  --steps N       timed steps after one warm-up step (default 5)\n"
           "  --threads N     threads for OpenBLAS and oneDNN (default 0 = all CPUs)\n"
           "  --full-text     every text at the full padded length: nothing for BERT to skip\n"
           "                  (text_tokens, the rows its layers ran, is then batch x L)\n"
           "  --precision P   fp32 (default) or bf16; bf16 adds bf16_gemm_gflops, a oneDNN bf16\n"
           "                  matmul of the same shape measured between the steps, and\n"
           "                  bf16_ratio and bf16_gemm_ratio, BERT's rate and its GEMMs' rate\n"
           "                  against it; isa names oneDNN's ISA\n"
           "  --set key=value override a config key of the preset (repeatable), e.g. a\n"
           "                  smaller BERT: --set num_hidden_layers=2\n\n"
           "Under mpirun each rank runs its share of --batch and the line adds ranks,\n"
           "step_s_per_rank, the allreduce of the gradient arena (allreduce_s, median of\n"
           "--steps; allreduce_floats, allreduce_gbps) and window_s = update_epochs x the\n"
           "slowest step + allreduce_s: one accumulation window (docs/SCALING.md).\n",
           SG_M, SG_K, SG_N);
}

/* A deterministic generator for the inputs (xorshift). */
static uint64_t rnd_state = 0x9E3779B97F4A7C15ull;
static uint32_t rnd(void)
{
    rnd_state ^= rnd_state << 13, rnd_state ^= rnd_state >> 7, rnd_state ^= rnd_state << 17;
    return (uint32_t)(rnd_state >> 11);
}
static float rnd_unit(void) { return (float)(rnd() % 2000001) / 1000000.0f - 1.0f; }

typedef struct inputs {
    int32_t *ids, *mask, *seg, *alen, *vlen;
    float *audio, *vision, *labels[4];
} inputs;

static void inputs_free(inputs *in)
{
    free(in->ids), free(in->mask), free(in->seg), free(in->alen), free(in->vlen);
    free(in->audio), free(in->vision);
    for (int k = 0; k < 4; k++) free(in->labels[k]);
}

/* Random ids, lengths and features; sample 0 has every length at its maximum so the
 * batch runs at the full padded shape (full_text: every text at that length). */
static int make_inputs(inputs *in, selfmm_batch *bt, const selfmm_config *cfg, const shape *sh, int B,
                       int full_text)
{
    memset(in, 0, sizeof *in);
    const int L = sh->text_len, Ta = sh->audio_len, Tv = sh->vision_len;
    const size_t nt = (size_t)B * L, na = (size_t)B * Ta * cfg->audio_dim, nv = (size_t)B * Tv * cfg->video_dim;
    in->ids = calloc(nt, sizeof(int32_t)), in->mask = calloc(nt, sizeof(int32_t));
    in->seg = calloc(nt, sizeof(int32_t));
    in->alen = malloc((size_t)B * sizeof(int32_t)), in->vlen = malloc((size_t)B * sizeof(int32_t));
    in->audio = malloc(na * sizeof(float)), in->vision = malloc(nv * sizeof(float));
    int ok = in->ids && in->mask && in->seg && in->alen && in->vlen && in->audio && in->vision;
    for (int k = 0; k < 4; k++) ok = (in->labels[k] = malloc((size_t)B * sizeof(float))) && ok;
    if (!ok) return 0;
    for (int b = 0; b < B; b++) {
        int len = b == 0 || full_text ? L : L / 2 + (int)(rnd() % (uint32_t)(L - L / 2 + 1));
        for (int t = 0; t < len; t++) {
            in->ids[(size_t)b * L + t] = cfg->vocab_size > 1 ? 1 + (int32_t)(rnd() % (uint32_t)(cfg->vocab_size - 1)) : 0;
            in->mask[(size_t)b * L + t] = 1;
        }
        in->alen[b] = b == 0 ? Ta : 1 + (int32_t)(rnd() % (uint32_t)Ta);
        in->vlen[b] = b == 0 ? Tv : 1 + (int32_t)(rnd() % (uint32_t)Tv);
        for (int k = 0; k < 4; k++) in->labels[k][b] = rnd_unit();
    }
    for (size_t i = 0; i < na; i++) in->audio[i] = rnd_unit();
    for (size_t i = 0; i < nv; i++) in->vision[i] = rnd_unit();
    memset(bt, 0, sizeof *bt);
    bt->batch = B, bt->text_len = L;
    bt->text_ids = in->ids, bt->text_mask = in->mask, bt->text_segment = in->seg;
    bt->audio_len = Ta, bt->audio_dim = cfg->audio_dim, bt->audio = in->audio, bt->audio_lengths = in->alen;
    bt->vision_len = Tv, bt->vision_dim = cfg->video_dim, bt->vision = in->vision;
    bt->vision_lengths = in->vlen;
    return 1;
}

/* Under mpirun: every rank's median step, then the allreduce of the gradient arena
 * (median of steps after one untimed), as rank 0's extra JSON fields in *json. */
static int dist_fields(const selfmm_collectives *w, selfmm_model *m, const selfmm_config *cfg, double step_s,
                       int steps, char **json)
{
    selfmm_arena a;
    double *all = calloc((size_t)w->size, sizeof *all), *ar = calloc((size_t)steps, sizeof *ar);
    if (!all || !ar || selfmm_model_arena(m, &a) != SELFMM_OK) {
        free(all), free(ar);
        return cli_fail("bench", "out of memory");
    }
    int rc = w->allgather(&step_s, sizeof step_s, all, w->user) == 0 ? EXIT_OK : EXIT_FAIL;
    for (int s = -1; s < steps && rc == EXIT_OK; s++) {
        if (w->barrier(w->user) != 0) rc = EXIT_FAIL;
        double t0 = sm_now();
        if (rc == EXIT_OK && w->allreduce_sum_f32(a.grads, a.count, w->user) != 0) rc = EXIT_FAIL;
        double t = sm_now() - t0;
        /* the slowest rank's time is the allreduce's */
        if (rc == EXIT_OK && s >= 0) {
            double *each = calloc((size_t)w->size, sizeof *each);
            if (!each || w->allgather(&t, sizeof t, each, w->user) != 0) rc = EXIT_FAIL;
            for (int r = 0; each && r < w->size; r++) t = each[r] > t ? each[r] : t;
            free(each);
            ar[s] = t;
        }
    }
    if (rc != EXIT_OK) {
        free(all), free(ar);
        return cli_fail("bench", "collective failed: %s", w->errmsg ? w->errmsg(w->user) : "");
    }
    double slowest = 0;
    size_t cap = 0;
    FILE *mem = open_memstream(json, &cap);
    if (!mem) {
        free(all), free(ar);
        return cli_fail("bench", "out of memory");
    }
    fprintf(mem, ", \"ranks\": %d, \"step_s_per_rank\": [", w->size);
    for (int r = 0; r < w->size; r++) {
        fprintf(mem, "%s%.4f", r ? ", " : "", all[r]);
        slowest = all[r] > slowest ? all[r] : slowest;
    }
    const double t = sm_median(ar, steps);
    fprintf(mem, "], \"allreduce_s\": %.4f, \"allreduce_floats\": %lld, \"allreduce_gbps\": %.2f, "
                 "\"window_s\": %.4f",
            t, (long long)a.count, t > 0 ? 4.0 * (double)a.count / t * 1e-9 : 0.0,
            cfg->update_epochs * slowest + t);
    fclose(mem);
    free(all), free(ar);
    return EXIT_OK;
}

/* One training step (forward, loss, backward) and its timings. */
static selfmm_status train_step(selfmm_model *m, const selfmm_batch *bt, const inputs *in, double *secs,
                                selfmm_timings *t)
{
    selfmm_model_zero_grad(m);
    double t0 = sm_now();
    selfmm_status st = selfmm_model_forward(m, bt, SELFMM_MODE_TRAIN, NULL);
    const float *const labels[4] = {in->labels[0], in->labels[1], in->labels[2], in->labels[3]};
    if (st == SELFMM_OK) st = selfmm_model_loss(m, labels, NULL);
    if (st == SELFMM_OK) st = selfmm_model_backward(m, NULL);
    *secs = sm_now() - t0;
    if (st == SELFMM_OK) st = selfmm_model_timings(m, t);
    return st;
}

int cmd_bench(int argc, char **argv)
{
    static const struct option opts[] = {
        {"preset", required_argument, 0, 'p'}, {"batch", required_argument, 0, 'b'},
        {"steps", required_argument, 0, 's'},  {"threads", required_argument, 0, 't'},
        {"set", required_argument, 0, 'S'},    {"help", no_argument, 0, 'h'},
        {"precision", required_argument, 0, 'P'}, {"full-text", no_argument, 0, 'F'}, {0, 0, 0, 0},
    };
    const char *preset = "sims";
    int batch = 0, steps = 5, threads = 0, c, nsets = 0, full_text = 0;
    char **sets = calloc((size_t)argc + 2, sizeof *sets);
    char prec_set[32];
    if (!sets) return cli_fail("bench", "out of memory");
    opterr = 0;
    optind = 1;
    int rc = -1; /* >= 0: stop parsing and exit with it */
    while (rc < 0 && (c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'p': preset = optarg; break;
        case 'b':
            if (!cli_parse_int(optarg, &batch) || batch < 1 || batch > 65536)
                rc = cli_usage_error("bench", "--batch wants an integer in [1, 65536], not '%s'", optarg);
            break;
        case 's':
            if (!cli_parse_int(optarg, &steps) || steps < 1 || steps > 10000)
                rc = cli_usage_error("bench", "--steps wants an integer in [1, 10000], not '%s'", optarg);
            break;
        case 't':
            if (!cli_parse_int(optarg, &threads) || threads < 0 || threads > 1024)
                rc = cli_usage_error("bench", "--threads wants an integer in [0, 1024], not '%s'", optarg);
            break;
        case 'S': sets[nsets++] = optarg; break;
        case 'P': {
            selfmm_precision p;
            if (!cli_parse_precision(optarg, &p))
                rc = cli_usage_error("bench", "--precision expects fp32 or bf16, got '%s'", optarg);
            else snprintf(prec_set, sizeof prec_set, "precision=%s", optarg), sets[nsets++] = prec_set;
            break;
        }
        case 'F': full_text = 1; break;
        case 'h': help(), rc = EXIT_OK; break;
        default: rc = cli_usage_error("bench", "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (rc < 0 && optind < argc) rc = cli_usage_error("bench", "unexpected argument '%s'", argv[optind]);
    if (rc >= 0) {
        free(sets);
        return rc;
    }
    const shape *sh = NULL;
    const char *dataset = strncmp(preset, "mmsa-", 5) == 0 ? preset + 5 : preset;
    for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++)
        if (!strcmp(shapes[i].dataset, dataset)) sh = &shapes[i];
    if (!sh) {
        free(sets);
        return cli_usage_error("bench", "unknown preset '%s'", preset);
    }
    selfmm_error err = {0};
    selfmm_config cfg;
    rc = cli_build_config("bench", preset, NULL, NULL, sets, nsets, &cfg);
    free(sets);
    if (rc != EXIT_OK) return rc;
    const int bf16 = cfg.precision == SELFMM_PRECISION_BF16;
    if (cli_check_precision("bench", (selfmm_precision)cfg.precision) != EXIT_OK) return EXIT_FAIL;
    /* under mpirun: this rank's share of the batch and of the host's CPUs */
    const selfmm_collectives *w = cli_mpi_world();
    if (!threads) threads = cli_mpi_default_threads();
    if (selfmm_set_threads(threads, &err) != SELFMM_OK) return cli_fail_status("bench", err.status, err.message);
    cfg.threads = threads;
    if (!batch) batch = cfg.batch_size;
    int first = 0, local = batch;
    if (w) {
        selfmm_shard(batch, w->rank, w->size, &first, &local);
        if (local < 1) return cli_usage_error("bench", "--batch %d leaves rank %d without a sample", batch, w->rank);
    }

    selfmm_model *m = NULL;
    if (selfmm_model_create(&cfg, &m, &err) != SELFMM_OK) return cli_fail_status("bench", err.status, err.message);
    const selfmm_shard_info shard = {first, batch, sh->text_len};
    if (w && selfmm_model_set_shard(m, &shard) != SELFMM_OK) {
        rc = cli_fail("bench", "%s", selfmm_model_errmsg(m));
        selfmm_model_free(m);
        return rc;
    }
    inputs in;
    selfmm_batch bt;
    if (!make_inputs(&in, &bt, &cfg, sh, local, full_text)) {
        inputs_free(&in);
        selfmm_model_free(m);
        return cli_fail("bench", "out of memory for the inputs");
    }
    double *v = calloc((size_t)steps * 11, sizeof *v);
    if (!v) {
        inputs_free(&in);
        selfmm_model_free(m);
        return cli_fail("bench", "out of memory");
    }
    double *train = v, *eval = v + steps, *bert = v + 2 * steps, *aud = v + 3 * steps;
    double *vis = v + 4 * steps, *rest = v + 5 * steps, *bgf = v + 6 * steps, *sgf = v + 7 * steps;
    double *bff = v + 8 * steps; /* the bf16 matmul yardstick (precision bf16) */
    double *gem = v + 9 * steps, *ggf = v + 10 * steps; /* BERT's time in GEMM calls, their GFLOP/s */
    selfmm_timings t;
    double secs, peak_rss_mb = 0;
    /* warm-up: primitive creation, first-touch page faults, thread pool start */
    selfmm_status st = train_step(m, &bt, &in, &secs, &t);
    if (st == SELFMM_OK) st = selfmm_model_forward(m, &bt, SELFMM_MODE_EVAL, NULL);
    for (int s = 0; s < steps && st == SELFMM_OK; s++) {
        st = train_step(m, &bt, &in, &train[s], &t);
        if (st != SELFMM_OK) break;
        double b = t.bert_forward_s + t.bert_backward_s;
        bert[s] = b;
        aud[s] = t.audio_forward_s + t.audio_backward_s;
        vis[s] = t.vision_forward_s + t.vision_backward_s;
        /* the subnets' times are their shares of the wall time (selfmm_timings) */
        rest[s] = train[s] - b - aud[s] - vis[s];
        const double flop = t.bert_forward_flop + t.bert_backward_flop;
        bgf[s] = flop / b * 1e-9;
        gem[s] = t.bert_forward_gemm_s + t.bert_backward_gemm_s;
        ggf[s] = gem[s] > 0 ? flop / gem[s] * 1e-9 : 0.0;
        double t0 = sm_now();
        st = selfmm_model_forward(m, &bt, SELFMM_MODE_EVAL, NULL);
        eval[s] = sm_now() - t0;
        if (s == 0) { /* the model's peak: before the yardsticks allocate their own buffers */
            struct rusage ru;
            getrusage(RUSAGE_SELF, &ru);
            peak_rss_mb = (double)ru.ru_maxrss / 1024.0;
        }
        if (st == SELFMM_OK && selfmm_bench_gemm(SELFMM_PRECISION_FP32, SG_M, SG_N, SG_K, 3, &sgf[s], &err) != SELFMM_OK)
            break;
        if (st == SELFMM_OK && bf16 &&
            selfmm_bench_gemm(SELFMM_PRECISION_BF16, SG_M, SG_N, SG_K, 3, &bff[s], &err) != SELFMM_OK)
            break;
    }
    if (err.status != SELFMM_OK) {
        rc = cli_fail_status("bench", err.status, err.message);
    } else if (st != SELFMM_OK) {
        rc = cli_fail_status("bench", st, selfmm_model_errmsg(m));
    } else {
        double tr = sm_median(train, steps), bg = sm_median(bgf, steps), sg = sm_median(sgf, steps);
        char *extra = NULL;
        if (w && (rc = dist_fields(w, m, &cfg, tr, steps, &extra)) != EXIT_OK) {
            free(v);
            inputs_free(&in);
            selfmm_model_free(m);
            return rc;
        }
        double au = sm_median(aud, steps), vi = sm_median(vis, steps);
        const double gg = sm_median(ggf, steps);
        char bfx[200] = "";
        if (bf16) {
            const double bf = sm_median(bff, steps);
            snprintf(bfx, sizeof bfx, ", \"bf16_gemm_gflops\": %.1f, \"bf16_ratio\": %.3f, \"bf16_gemm_ratio\": %.3f",
                     bf, bf > 0 ? bg / bf : 0.0, bf > 0 ? gg / bf : 0.0);
        }
        if (cli_mpi_is_writer()) /* rank 0 prints the line */
            printf("{\"case\": \"%s\", \"batch\": %d, \"text_len\": %d, \"text_tokens\": %d, \"audio_len\": %d, "
               "\"vision_len\": %d, "
               "\"threads\": %d, \"steps\": %d, \"train_step_s\": %.4f, \"eval_step_s\": %.4f, "
               "\"bert_s\": %.4f, \"audio_lstm_s\": %.4f, \"vision_lstm_s\": %.4f, \"rest_s\": %.4f, "
               "\"audio_share\": %.4f, \"vision_share\": %.4f, \"bert_gflops\": %.1f, "
               "\"sgemm_gflops\": %.1f, \"sgemm_shape\": \"%dx%dx%d\", \"ratio\": %.3f, "
               "\"bert_gemm_s\": %.4f, \"bert_gemm_gflops\": %.1f, \"gemm_ratio\": %.3f, "
               "\"peak_rss_mb\": %.0f, \"precision\": \"%s\"%s, \"isa\": \"%s\"%s}\n",
               preset, batch, sh->text_len, t.text_tokens, sh->audio_len, sh->vision_len, selfmm_get_threads(), steps, tr,
               sm_median(eval, steps), sm_median(bert, steps), au, vi, sm_median(rest, steps), au / tr, vi / tr, bg,
               sg, SG_M, SG_K, SG_N, sg > 0 ? bg / sg : 0.0, sm_median(gem, steps), gg, sg > 0 ? gg / sg : 0.0,
               peak_rss_mb, bf16 ? "bf16" : "fp32",
               bfx, selfmm_cpu_isa(), extra ? extra : "");
        free(extra);
    }
    free(v);
    inputs_free(&in);
    selfmm_model_free(m);
    return rc;
}
