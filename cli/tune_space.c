/* tune_space.c -- see tune_space.h. */
#include "tune_space.h"

#include "common.h"

#include <string.h>

const char *const tune_d_paras[] = {
    "batch_size",          "learning_rate_bert", "learning_rate_audio", "learning_rate_video",
    "learning_rate_other", "weight_decay_bert",  "weight_decay_other",  "weight_decay_audio",
    "weight_decay_video",  "a_lstm_hidden_size", "v_lstm_hidden_size",  "text_out",
    "audio_out",           "video_out",          "a_lstm_dropout",      "v_lstm_dropout",
    "t_bert_dropout",      "post_fusion_dim",    "post_text_dim",       "post_audio_dim",
    "post_video_dim",      "post_fusion_dropout", "post_text_dropout",  "post_audio_dropout",
    "post_video_dropout",  "H",
};
const int tune_n_d_paras = (int)(sizeof tune_d_paras / sizeof tune_d_paras[0]);

const tune_value tune_values[] = {
    {"batch_size", 0, 1, 2, {16, 32}},
    {"learning_rate_bert", 1, 1, 1, {5e-5}},
    {"learning_rate_audio", 1, 1, 3, {1e-4, 1e-3, 5e-3}},
    {"learning_rate_video", 1, 1, 3, {1e-4, 1e-3, 5e-3}},
    {"learning_rate_other", 1, 1, 2, {1e-4, 1e-3}},
    {"weight_decay_bert", 1, 1, 2, {0.001, 0.01}},
    {"weight_decay_audio", 1, 1, 3, {0.0, 0.001, 0.01}},
    {"weight_decay_video", 1, 1, 3, {0.0, 0.001, 0.01}},
    {"weight_decay_other", 1, 1, 2, {0.001, 0.01}},
    {"a_lstm_hidden_size", 0, 1, 2, {16, 32}},
    {"v_lstm_hidden_size", 0, 1, 2, {32, 64}},
    {"a_lstm_layers", 0, 0, 1, {1}},
    {"v_lstm_layers", 0, 0, 1, {1}},
    {"text_out", 0, 0, 1, {768}},
    {"audio_out", 0, 1, 1, {16}},
    {"video_out", 0, 1, 1, {32}},
    {"a_lstm_dropout", 1, 1, 1, {0.0}},
    {"v_lstm_dropout", 1, 1, 1, {0.0}},
    {"t_bert_dropout", 1, 1, 1, {0.1}},
    {"post_fusion_dim", 0, 1, 2, {64, 128}},
    {"post_text_dim", 0, 1, 2, {32, 64}},
    {"post_audio_dim", 0, 1, 2, {16, 32}},
    {"post_video_dim", 0, 1, 2, {16, 32}},
    {"post_fusion_dropout", 1, 1, 2, {0.1, 0.0}},
    {"post_text_dropout", 1, 1, 2, {0.1, 0.0}},
    {"post_audio_dropout", 1, 1, 2, {0.1, 0.0}},
    {"post_video_dropout", 1, 1, 2, {0.1, 0.0}},
};
const int tune_n_values = (int)(sizeof tune_values / sizeof tune_values[0]);

/* commonParas, as JSON text; and each dataset's KeyEval (unaligned). */
static const char *const common[][2] = {
    {"need_data_aligned", "false"}, {"need_model_aligned", "false"}, {"need_normalized", "false"},
    {"use_bert", "true"},           {"use_finetune", "true"},        {"save_labels", "false"},
    {"early_stop", "8"},            {"update_epochs", "4"},
};
static const char *const key_eval[][2] = {{"mosi", "Loss"}, {"mosei", "Loss"}, {"sims", "Loss"}};

const tune_value *tune_value_of(const char *name)
{
    for (int i = 0; i < tune_n_values; i++)
        if (!strcmp(tune_values[i].name, name)) return &tune_values[i];
    return NULL;
}

const char *tune_value_text(char *buf, const tune_value *v, int i)
{
    if (v->is_float) return cli_repr_double(buf, v->choice[i]);
    snprintf(buf, 32, "%lld", (long long)v->choice[i]);
    return buf;
}

void tune_space_print(FILE *out)
{
    char b[32];
    fputs("{\n \"d_paras\": [", out);
    for (int i = 0; i < tune_n_d_paras; i++) fprintf(out, "%s\"%s\"", i ? ", " : "", tune_d_paras[i]);
    fputs("],\n \"values\": {\n", out);
    for (int i = 0; i < tune_n_values; i++) {
        const tune_value *v = &tune_values[i];
        fprintf(out, "  \"%s\": ", v->name);
        if (v->drawn) {
            fputc('[', out);
            for (int c = 0; c < v->n; c++) fprintf(out, "%s%s", c ? ", " : "", tune_value_text(b, v, c));
            fputc(']', out);
        } else {
            fputs(tune_value_text(b, v, 0), out);
        }
        fputs(i + 1 < tune_n_values ? ",\n" : "\n", out);
    }
    fputs(" },\n \"common\": {\n", out);
    const int nc = (int)(sizeof common / sizeof common[0]);
    for (int i = 0; i < nc; i++) fprintf(out, "  \"%s\": %s%s\n", common[i][0], common[i][1], i + 1 < nc ? "," : "");
    fputs(" },\n \"key_eval\": {", out);
    const int nk = (int)(sizeof key_eval / sizeof key_eval[0]);
    for (int i = 0; i < nk; i++) fprintf(out, "%s\"%s\": \"%s\"", i ? ", " : "", key_eval[i][0], key_eval[i][1]);
    fputs("}\n}\n", out);
}
