/* cmd_report.c -- `selfmm-cli report DIR [--out FILE]`: the HTML report of a train
 * or tune folder (report.h). */
#include "commands.h"
#include "common.h"
#include "report.h"

#include <getopt.h>
#include <string.h>

static void help(void)
{
    printf("usage: selfmm-cli report DIR [--out FILE]\n\n"
           "Write one self-contained HTML page (inline CSS and SVG: no scripts, no fonts or\n"
           "anything else from the network) for a `train --out` folder or a tune folder:\n"
           "per seed the training and validation loss and the validation metrics per epoch\n"
           "with the best epoch marked, the generated labels per epoch (mean |y_m - y_fusion|\n"
           "per modality, with --save-labels) and label_corr against human unimodal labels\n"
           "(SIMS), the test metrics (mean +- std as in results.csv); for a tune folder each\n"
           "validation metric against each tuned key and the best trials.\n\n"
           "  --out FILE   where to write it (default DIR/report.html); written atomically\n\n"
           "`train` writes DIR/report.html itself at the end of a run.\n");
}

int cmd_report(int argc, char **argv)
{
    static const struct option opts[] = {
        {"out", required_argument, 0, 'o'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    const char *out = NULL, *dir = NULL;
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case 'h': help(); return EXIT_OK;
        default: return cli_usage_error("report", "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc) dir = argv[optind++];
    if (!dir) return cli_usage_error("report", "DIR is required (a `train --out` or tune folder)");
    if (optind < argc) return cli_usage_error("report", "unexpected argument '%s'", argv[optind]);
    char msg[SELFMM_PATH_MAX + 256];
    if (report_write(dir, out, msg, sizeof msg) != 0) return cli_fail("report", "%s", msg);
    if (out) printf("%s\n", out);
    else printf("%s/report.html\n", dir);
    return EXIT_OK;
}
