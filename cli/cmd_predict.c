/* cmd_predict.c -- `selfmm-cli predict`: the four heads' outputs per sample. */
#include "commands.h"
#include "common.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static void help(void)
{
    printf("usage: selfmm-cli predict --model FILE --data PATH [--split test|valid|train]\n"
           "                          [--index I]... [--out CSV] [--batch N] [--threads N]\n\n"
           "Run a model (native .safetensors) in evaluation mode and write one CSV row per\n"
           "sample: id, M (fusion), T, A, V. --index selects samples of the split (repeatable;\n"
           "default all); --out - or no --out writes to standard output.\n");
}

static void csv_field(FILE *fp, const char *s)
{
    if (!strpbrk(s, ",\"\n\r")) {
        fputs(s, fp);
        return;
    }
    fputc('"', fp);
    for (; *s; s++) {
        if (*s == '"') fputc('"', fp);
        fputc(*s, fp);
    }
    fputc('"', fp);
}

int cmd_predict(int argc, char **argv)
{
    static const struct option opts[] = {
        {"model", required_argument, 0, 'm'}, {"data", required_argument, 0, 'd'},
        {"split", required_argument, 0, 's'}, {"index", required_argument, 0, 'i'},
        {"out", required_argument, 0, 'o'},   {"batch", required_argument, 0, 'b'},
        {"threads", required_argument, 0, 't'}, {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    const char *model_path = NULL, *data_path = NULL, *out_path = NULL;
    int batch = 0, threads = -1, c, nidx = 0;
    int *idx = calloc((size_t)argc + 1, sizeof *idx);
    selfmm_split split = SELFMM_SPLIT_TEST;
    if (!idx) return cli_fail("predict", "out of memory");
    opterr = 0;
    optind = 1;
    int rc = EXIT_OK;
    while (rc == EXIT_OK && (c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'm': model_path = optarg; break;
        case 'd': data_path = optarg; break;
        case 'o': out_path = optarg; break;
        case 's':
            if (!cli_parse_split(optarg, &split))
                rc = cli_usage_error("predict", "--split expects test, valid or train, got '%s'", optarg);
            break;
        case 'i':
            if (!cli_parse_int(optarg, &idx[nidx]) || idx[nidx] < 0)
                rc = cli_usage_error("predict", "--index expects a number >= 0, got '%s'", optarg);
            nidx++;
            break;
        case 'b':
            if (!cli_parse_int(optarg, &batch) || batch < 1)
                rc = cli_usage_error("predict", "--batch expects a number >= 1, got '%s'", optarg);
            break;
        case 't':
            if (!cli_parse_int(optarg, &threads) || threads < 0)
                rc = cli_usage_error("predict", "--threads expects a number >= 0, got '%s'", optarg);
            break;
        case 'h': help(); free(idx); return EXIT_OK;
        default: rc = cli_usage_error("predict", "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (rc == EXIT_OK && optind < argc) rc = cli_usage_error("predict", "unexpected argument '%s'", argv[optind]);
    if (rc == EXIT_OK && (!model_path || !data_path))
        rc = cli_usage_error("predict", "--model and --data are required");
    if (rc != EXIT_OK) {
        free(idx);
        return rc;
    }
    if (threads >= 0) selfmm_set_threads(threads);
    cli_install_logger(SELFMM_LOG_WARN);
    selfmm_error err = {0};
    selfmm_model *model = NULL;
    selfmm_dataset *data = NULL;
    selfmm_split_view v;
    FILE *out = NULL;
    if (selfmm_model_load(model_path, &model, &err) != SELFMM_OK) {
        rc = cli_fail_status("predict", err.status, err.message);
        goto done;
    }
    selfmm_config cfg;
    selfmm_model_get_config(model, &cfg);
    selfmm_data_options dopt = {.nan_to_zero = cfg.nan_to_zero, .clamp_lengths = cfg.clamp_lengths};
    if (selfmm_dataset_load(data_path, &dopt, &data, &err) != SELFMM_OK) {
        rc = cli_fail_status("predict", err.status, err.message);
        goto done;
    }
    if (selfmm_dataset_split(data, split, &v) != SELFMM_OK) {
        rc = cli_fail("predict", "%s", selfmm_dataset_errmsg(data));
        goto done;
    }
    if (nidx == 0) {
        int *all = realloc(idx, (size_t)(v.n ? v.n : 1) * sizeof *idx);
        if (!all) {
            rc = cli_fail("predict", "out of memory");
            goto done;
        }
        idx = all;
        for (int i = 0; i < v.n; i++) idx[i] = i;
        nidx = v.n;
    }
    for (int i = 0; i < nidx; i++)
        if (idx[i] >= v.n) {
            rc = cli_usage_error("predict", "--index %d: the split has %d samples", idx[i], v.n);
            goto done;
        }
    out = (!out_path || !strcmp(out_path, "-")) ? stdout : fopen(out_path, "w");
    if (!out) {
        rc = cli_fail("predict", "%s: cannot open for writing: %s", out_path, strerror(errno));
        goto done;
    }
    fprintf(out, "id,M,T,A,V\n");
    const int bs = batch ? batch : cfg.batch_size;
    for (int start = 0; start < nidx && rc == EXIT_OK; start += bs) {
        int b = nidx - start < bs ? nidx - start : bs;
        selfmm_batch in;
        selfmm_outputs o;
        if (selfmm_dataset_batch(data, split, idx + start, b, &in, NULL) != SELFMM_OK) {
            rc = cli_fail("predict", "%s", selfmm_dataset_errmsg(data));
            break;
        }
        selfmm_status st = selfmm_model_forward(model, &in, SELFMM_MODE_EVAL, &o);
        if (st != SELFMM_OK) {
            rc = cli_fail_status("predict", st, selfmm_model_errmsg(model));
            break;
        }
        for (int j = 0; j < b; j++) {
            char id[32];
            const char *sid = v.ids ? v.ids[idx[start + j]] : NULL;
            if (!sid) snprintf(id, sizeof id, "%d", idx[start + j]), sid = id;
            csv_field(out, sid);
            fprintf(out, ",%.9g,%.9g,%.9g,%.9g\n", o.M[j], o.T[j], o.A[j], o.V[j]);
        }
    }
    if (out != stdout && fclose(out) != 0 && rc == EXIT_OK)
        rc = cli_fail("predict", "%s: write failed", out_path);
done:
    free(idx);
    selfmm_dataset_free(data);
    selfmm_model_free(model);
    return rc;
}
