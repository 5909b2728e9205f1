/* cmd_tokenize.c -- `selfmm-cli tokenize`: text to BERT token ids, one JSON object
 * per text (JSON Lines), from the arguments or from stdin (one text per line). */
#include "commands.h"
#include "common.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static void help(void)
{
    printf("usage: selfmm-cli tokenize --vocab FILE|DIR [--lower | --no-lower]\n"
           "                           [--strip-accents | --no-strip-accents]\n"
           "                           [--chinese-chars | --no-chinese-chars]\n"
           "                           [--max-len L] [TEXT...]\n\n"
           "Tokenize each TEXT, or each line of stdin when there is none, as HuggingFace's\n"
           "BertTokenizer does, and print one JSON object per text: {\"tokens\": [...],\n"
           "\"ids\": [...]}. With --max-len, print the encoded text_bert rows instead:\n"
           "tokens and ids of [CLS], the first L-2 tokens, [SEP] and padding (id 0), plus\n"
           "\"mask\" and \"segment\", each of length L.\n\n"
           "  --vocab FILE|DIR   a vocab.txt, or a BERT folder (vocab.txt and, when present,\n"
           "                     tokenizer_config.json)\n"
           "  --lower, --no-lower             force lower-casing on or off (default: the\n"
           "                                  folder's do_lower_case, else on)\n"
           "  --strip-accents, --no-strip-accents  (default: config, else as lower-casing)\n"
           "  --chinese-chars, --no-chinese-chars  spaces around CJK ideographs (default:\n"
           "                                  config, else on)\n"
           "  --max-len L        encode to length L (>= 2)\n\n"
           "Exit status: 0 ok, 1 when the vocabulary or a text failed (invalid UTF-8 is\n"
           "reported with its line and byte offset; the other texts are still printed),\n"
           "2 usage error.\n");
}

static void put_json_string(const char *s)
{
    putchar('"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') printf("\\%c", *p);
        else if (*p == '\n') fputs("\\n", stdout);
        else if (*p == '\t') fputs("\\t", stdout);
        else if (*p == '\r') fputs("\\r", stdout);
        else if (*p < 0x20) printf("\\u%04x", *p);
        else putchar(*p);
    }
    putchar('"');
}

static void put_ints(const char *name, const int32_t *v, int n)
{
    printf(", \"%s\": [", name);
    for (int i = 0; i < n; i++) printf(i ? ", %d" : "%d", (int)v[i]);
    putchar(']');
}

/* One text; returns 0 or 1 (failure already reported). where names it ("line 3"). */
static int one_text(selfmm_tokenizer *tok, const char *text, size_t len, int max_len,
                    int32_t *buf, const char *where)
{
    selfmm_tokens t;
    if (selfmm_tokenizer_tokenize(tok, text, len, &t) != SELFMM_OK) {
        fprintf(stderr, "selfmm-cli tokenize: error: %s: %s\n", where, selfmm_tokenizer_errmsg(tok));
        return 1;
    }
    fputs("{\"tokens\": [", stdout);
    if (!max_len) {
        for (int i = 0; i < t.n; i++) {
            if (i) fputs(", ", stdout);
            put_json_string(t.tokens[i]);
        }
        putchar(']');
        put_ints("ids", t.ids, t.n);
        fputs("}\n", stdout);
        return 0;
    }
    int keep = t.n < max_len - 2 ? t.n : max_len - 2;
    put_json_string("[CLS]");
    for (int i = 0; i < keep; i++) fputs(", ", stdout), put_json_string(t.tokens[i]);
    fputs(", ", stdout), put_json_string("[SEP]");
    const char *pad = selfmm_tokenizer_id_token(tok, 0);
    for (int i = keep + 2; i < max_len; i++) fputs(", ", stdout), put_json_string(pad);
    putchar(']');
    /* t's arrays are invalid from here on. */
    int32_t *ids = buf, *mask = buf + max_len, *seg = buf + 2 * (size_t)max_len;
    if (selfmm_tokenizer_encode(tok, text, len, max_len, ids, mask, seg, NULL) != SELFMM_OK) {
        fputs("}\n", stdout);
        fprintf(stderr, "selfmm-cli tokenize: error: %s: %s\n", where, selfmm_tokenizer_errmsg(tok));
        return 1;
    }
    put_ints("ids", ids, max_len);
    put_ints("mask", mask, max_len);
    put_ints("segment", seg, max_len);
    fputs("}\n", stdout);
    return 0;
}

int cmd_tokenize(int argc, char **argv)
{
    static const struct option opts[] = {
        {"vocab", required_argument, 0, 'v'},
        {"lower", no_argument, 0, 'L'},
        {"no-lower", no_argument, 0, 'l'},
        {"strip-accents", no_argument, 0, 'S'},
        {"no-strip-accents", no_argument, 0, 's'},
        {"chinese-chars", no_argument, 0, 'C'},
        {"no-chinese-chars", no_argument, 0, 'c'},
        {"max-len", required_argument, 0, 'm'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    const char *vocab = NULL;
    selfmm_tokenizer_options o = {SELFMM_SWITCH_AUTO, SELFMM_SWITCH_AUTO, SELFMM_SWITCH_AUTO};
    int max_len = 0, c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'v': vocab = optarg; break;
        case 'L': o.lowercase = SELFMM_SWITCH_ON; break;
        case 'l': o.lowercase = SELFMM_SWITCH_OFF; break;
        case 'S': o.strip_accents = SELFMM_SWITCH_ON; break;
        case 's': o.strip_accents = SELFMM_SWITCH_OFF; break;
        case 'C': o.chinese_chars = SELFMM_SWITCH_ON; break;
        case 'c': o.chinese_chars = SELFMM_SWITCH_OFF; break;
        case 'm':
            if (!cli_parse_int(optarg, &max_len) || max_len < 2 || max_len > 1000000)
                return cli_usage_error("tokenize", "--max-len expects an integer in [2, 1000000], got \"%s\"",
                                       optarg);
            break;
        case 'h': help(); return EXIT_OK;
        default:
            return cli_usage_error("tokenize", "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (!vocab) return cli_usage_error("tokenize", "--vocab FILE|DIR is required");

    selfmm_error err = {0};
    selfmm_tokenizer *tok = NULL;
    if (selfmm_tokenizer_load(vocab, &o, &tok, &err) != SELFMM_OK)
        return cli_fail_status("tokenize", err.status, err.message);
    int32_t *buf = max_len ? malloc(3 * (size_t)max_len * sizeof *buf) : NULL;
    if (max_len && !buf) {
        selfmm_tokenizer_free(tok);
        return cli_fail("tokenize", "out of memory");
    }
    int failed = 0;
    char where[64];
    if (optind < argc) {
        for (int i = optind; i < argc; i++) {
            snprintf(where, sizeof where, "argument %d", i - optind + 1);
            failed |= one_text(tok, argv[i], SELFMM_NUL_TERMINATED, max_len, buf, where);
        }
    } else {
        char *line = NULL;
        size_t cap = 0;
        ssize_t n;
        long lineno = 0;
        while ((n = getline(&line, &cap, stdin)) >= 0) {
            lineno++;
            if (n > 0 && line[n - 1] == '\n') n--;
            snprintf(where, sizeof where, "line %ld", lineno);
            failed |= one_text(tok, line, (size_t)n, max_len, buf, where);
        }
        free(line);
    }
    free(buf);
    selfmm_tokenizer_free(tok);
    return failed ? EXIT_FAIL : EXIT_OK;
}
