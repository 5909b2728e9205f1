/* cmd_test.c -- `selfmm-cli test`: the metrics of a model on a dataset split. */
#include "commands.h"
#include "common.h"

#include "core/config_keys.h"

#include <getopt.h>
#include <math.h>
#include <string.h>

static void help(void)
{
    printf("usage: selfmm-cli test --model FILE --data PATH [--split test|valid|train]\n"
           "                       [--batch N] [--threads N] [--precision fp32|bf16]\n\n"
           "Evaluate a model (native .safetensors) on a split, in order, and print as JSON the\n"
           "metrics of its dataset kind and the Loss (mean over batches of the batch-mean\n"
           "|M - y|) as the reference reports them (rounded as the model's config says:\n"
           "metrics_decimals, valid_loss_decimals), each with the fewest digits that give its\n"
           "exact value, and under \"raw\" the same values unrounded.\n\n"
           "  --precision P   fp32 (default) or bf16 mixed precision for BERT's GEMMs, where the\n"
           "                  CPU runs bf16 natively (docs/PLATFORM.md)\n");
}

/* The shortest decimal that reads back as v (Python's repr); null for NaN/Inf. */
static void json_number(double v)
{
    char buf[32];
    if (isfinite(v)) printf("%s", cli_repr_double(buf, v));
    else printf("null");
}

int cmd_test(int argc, char **argv)
{
    static const struct option opts[] = {
        {"model", required_argument, 0, 'm'}, {"data", required_argument, 0, 'd'},
        {"split", required_argument, 0, 's'}, {"batch", required_argument, 0, 'b'},
        {"threads", required_argument, 0, 't'}, {"help", no_argument, 0, 'h'},
        {"precision", required_argument, 0, 'P'}, {0, 0, 0, 0},
    };
    const char *model_path = NULL, *data_path = NULL, *split_name = "test";
    selfmm_precision precision = SELFMM_PRECISION_FP32;
    int batch = 0, threads = -1, c;
    selfmm_split split = SELFMM_SPLIT_TEST;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'm': model_path = optarg; break;
        case 'd': data_path = optarg; break;
        case 's':
            split_name = optarg;
            if (!cli_parse_split(optarg, &split))
                return cli_usage_error("test", "--split expects test, valid or train, got '%s'", optarg);
            break;
        case 'b':
            if (!cli_parse_int(optarg, &batch) || batch < 1)
                return cli_usage_error("test", "--batch expects a number >= 1, got '%s'", optarg);
            break;
        case 't':
            if (!cli_parse_int(optarg, &threads) || threads < 0 || threads > 1024)
                return cli_usage_error("test", "--threads expects a number in [0, 1024], got '%s'", optarg);
            break;
        case 'P':
            if (!cli_parse_precision(optarg, &precision))
                return cli_usage_error("test", "--precision expects fp32 or bf16, got '%s'", optarg);
            break;
        case 'h': help(); return EXIT_OK;
        default: return cli_usage_error("test", "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc) return cli_usage_error("test", "unexpected argument '%s'", argv[optind]);
    if (!model_path || !data_path) return cli_usage_error("test", "--model and --data are required");
    if (threads >= 0) selfmm_set_threads(threads, NULL); /* in range: checked above */
    if (cli_check_precision("test", precision) != EXIT_OK) return EXIT_FAIL;
    cli_install_logger(SELFMM_LOG_WARN);
    selfmm_error err = {0};
    selfmm_model *model = NULL;
    selfmm_dataset *data = NULL;
    if (selfmm_model_load(model_path, &model, &err) != SELFMM_OK)
        return cli_fail_status("test", err.status, err.message);
    if (selfmm_model_set_precision(model, precision) != SELFMM_OK) {
        int rc = cli_fail("test", "%s", selfmm_model_errmsg(model));
        selfmm_model_free(model);
        return rc;
    }
    selfmm_config cfg;
    selfmm_model_get_config(model, &cfg);
    selfmm_data_options dopt = {.nan_to_zero = cfg.nan_to_zero, .clamp_lengths = cfg.clamp_lengths};
    if (selfmm_dataset_load(data_path, &dopt, &data, &err) != SELFMM_OK) {
        selfmm_model_free(model);
        return cli_fail_status("test", err.status, err.message);
    }
    cli_warn_norm_mismatch("test", model, data, data_path);
    selfmm_metrics m;
    double loss;
    selfmm_split_view v;
    int rc = EXIT_OK;
    selfmm_status st = selfmm_dataset_split(data, split, &v);
    if (st != SELFMM_OK) err.status = st, snprintf(err.message, sizeof err.message, "%s", selfmm_dataset_errmsg(data));
    if (st == SELFMM_OK)
        st = selfmm_evaluate(model, data, split, batch ? batch : cfg.batch_size, &m, &loss, NULL, &err);
    if (st != SELFMM_OK) rc = cli_fail_status("test", st, err.message);
    else {
        /* the reference's order: the metrics, then do_test's Loss */
        printf("{\"split\": \"%s\", \"dataset\": \"%s\", \"n\": %d", split_name,
               sm_dataset_kind_name(cfg.dataset), v.n);
        for (int i = 0; i < m.count; i++) {
            printf(", \"%s\": ", m.name[i]);
            json_number(m.value[i]);
        }
        printf(", \"Loss\": ");
        json_number(cfg.valid_loss_decimals >= 0 ? selfmm_round(loss, cfg.valid_loss_decimals) : loss);
        printf(", \"raw\": {");
        for (int i = 0; i < m.count; i++) {
            printf("%s\"%s\": ", i ? ", " : "", m.name[i]);
            json_number(m.raw[i]);
        }
        printf(", \"Loss\": ");
        json_number(loss);
        printf("}}\n");
    }
    selfmm_dataset_free(data);
    selfmm_model_free(model);
    return rc;
}
