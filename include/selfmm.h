/*
 * selfmm.h -- the public API of libselfmm.
 *
 * libselfmm is Self-MM ("Learning Modality-Specific Representations with
 * Self-Supervised Multi-Task Learning", AAAI 2021) as a C library: a fine-tuned
 * BERT text encoder, one-layer LSTMs over audio and vision features, a fusion head
 * and three unimodal heads whose labels are generated during training (ULGM).
 * It reproduces the PyTorch reference (thuiar/Self-MM, and MMSA) number for number
 * in float32 on any CPU.
 *
 * This is the only header a program needs. Everything it declares starts with
 * selfmm_ / SELFMM_.
 *
 * Contents, by object: version; status and errors; process-wide settings;
 * configuration; model; datasets; tokenizer; metrics; training (optimizer, label
 * generation, shuffling, early stopping, checkpoints, evaluation); several
 * processes (data-parallel training over the caller's collectives); the fit layer;
 * your own data (datasets from label.csv, what a model keeps of its data, one
 * sample); benchmarking.
 *
 * Conventions
 * -----------
 * - Errors, one rule for every function:
 *   - A call on one handle reports on that handle: it returns a selfmm_status and
 *     the handle keeps the message of its last failed call (selfmm_model_errmsg,
 *     selfmm_dataset_errmsg, ...). Other handles it takes are only read.
 *   - A call that creates a handle, spans several handles or has none takes a
 *     `selfmm_error *err` as its last argument, which may be NULL; on failure it
 *     receives the status and the message.
 *   - A NULL handle is SELFMM_ERR_INVALID_ARG without a message (there is nowhere
 *     to put one). A call that can fail for a reason it reports takes its handle
 *     non-const; the getters that take a const handle fail only for NULL pointers.
 *   Every fallible call returns a selfmm_status; SELFMM_OK is 0. Results come back
 *   through out-pointers, which are written only on success.
 * - Argument order: the handle (or the main handle), then inputs, then outputs, then
 *   err.
 * - Objects are opaque handles with create/free pairs; every *_free(NULL) is a
 *   harmless no-op.
 * - Threads: one handle per thread. Distinct handles are independent, except that
 *   the thread count (selfmm_set_threads) and the log callback are process-wide.
 * - The library never calls exit() or abort(), and never prints: messages go to the
 *   log callback (selfmm_set_log_callback) when one is set.
 * - Pointers returned by the library (output arrays, names) are owned by the handle
 *   that returned them and stay valid until the doc of the call says otherwise.
 *
 * Example: predict with a trained model on a dataset split
 * --------------------------------------------------------
 *     selfmm_error err;
 *     selfmm_model *model = NULL;
 *     selfmm_dataset *data = NULL;
 *     if (selfmm_model_load("model.safetensors", &model, &err) != SELFMM_OK ||
 *         selfmm_dataset_load("unaligned_39.pkl", NULL, &data, &err) != SELFMM_OK) {
 *         fprintf(stderr, "%s\n", err.message);
 *         return 1;
 *     }
 *     selfmm_metrics metrics;
 *     double loss;
 *     if (selfmm_evaluate(model, data, SELFMM_SPLIT_TEST, 32, &metrics, &loss, NULL, &err)
 *             != SELFMM_OK)
 *         fprintf(stderr, "%s\n", err.message);
 *     for (int i = 0; i < metrics.count; i++)
 *         printf("%s %.4f\n", metrics.name[i], metrics.value[i]);
 *     selfmm_dataset_free(data);
 *     selfmm_model_free(model);
 *
 * Training step by step (what selfmm_fit does for every batch) is shown in
 * examples/train_steps.c.
 */
#ifndef SELFMM_H
#define SELFMM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One export macro. The library is compiled with -fvisibility=hidden and
 * -DSELFMM_BUILDING; only what carries SELFMM_API is visible in libselfmm.so. */
#if defined(SELFMM_BUILDING) && defined(__GNUC__)
#define SELFMM_API __attribute__((visibility("default")))
#else
#define SELFMM_API
#endif

/* ------------------------------------------------------------------------- */
/* Version: written once, here. The Makefile reads these three lines.        */
/* ------------------------------------------------------------------------- */
#define SELFMM_VERSION_MAJOR 0
#define SELFMM_VERSION_MINOR 2
#define SELFMM_VERSION_PATCH 0
#define SELFMM_VERSION_NUMBER \
    (SELFMM_VERSION_MAJOR * 10000 + SELFMM_VERSION_MINOR * 100 + SELFMM_VERSION_PATCH)
#define SELFMM_STR_(x) #x
#define SELFMM_STR(x) SELFMM_STR_(x)
#define SELFMM_VERSION_STRING \
    SELFMM_STR(SELFMM_VERSION_MAJOR) "." SELFMM_STR(SELFMM_VERSION_MINOR) "." \
    SELFMM_STR(SELFMM_VERSION_PATCH)

/* The version of the library actually linked (compare with the macros). Thread-safe. */
SELFMM_API unsigned selfmm_version_number(void);
SELFMM_API const char *selfmm_version_string(void);

/* ------------------------------------------------------------------------- */
/* Status codes and errors                                                   */
/* ------------------------------------------------------------------------- */
typedef enum selfmm_status {
    SELFMM_OK = 0,
    SELFMM_ERR_INVALID_ARG = 1,  /* NULL where not allowed, bad enum, bad size */
    SELFMM_ERR_NOMEM = 2,        /* allocation failed */
    SELFMM_ERR_NOT_FOUND = 3,    /* a file, directory or named item does not exist */
    SELFMM_ERR_IO = 4,           /* read/write/rename failed */
    SELFMM_ERR_PARSE = 5,        /* malformed text: JSON, CSV, number */
    SELFMM_ERR_FORMAT = 6,       /* malformed or truncated binary file */
    SELFMM_ERR_UNSUPPORTED = 7,  /* well-formed but not supported (refused pickle global, dtype, version) */
    SELFMM_ERR_UNKNOWN_KEY = 8,  /* a config key that does not exist */
    SELFMM_ERR_TYPE = 9,         /* a value of the wrong type (config, pickle, tensor dtype) */
    SELFMM_ERR_RANGE = 10,       /* a value out of its allowed range */
    SELFMM_ERR_SHAPE = 11,       /* a tensor or array of the wrong shape */
    SELFMM_ERR_MISSING = 12,     /* a required key or tensor is absent */
    SELFMM_ERR_DATA = 13,        /* bad data values: NaN features, lengths out of range */
    SELFMM_ERR_NUMERIC = 14,     /* training diverged: NaN/Inf loss, empty center set */
    SELFMM_ERR_STATE = 15,       /* a call out of order (backward before forward, ...) */
    SELFMM_ERR_BACKEND = 16,     /* oneDNN or another backend failed */
    SELFMM_ERR_INTERRUPTED = 17, /* stopped by the caller's callback */
    /* --- appended in 0.2 --- */
    SELFMM_ERR_COLLECTIVE = 18   /* a collective operation of the caller failed, or the
                                    processes of a data-parallel run disagree (weights,
                                    data, config); see "Several processes" */
} selfmm_status;

/* A short constant description of a status ("unknown config key", ...). Thread-safe. */
SELFMM_API const char *selfmm_strerror(selfmm_status status);

/* The error report of the calls that take a `selfmm_error *err` (see Conventions).
 * Zero-initialise it or leave it alone: the library writes both fields on failure
 * and leaves them untouched on success. */
#define SELFMM_ERROR_MESSAGE_SIZE 512
typedef struct selfmm_error {
    selfmm_status status;
    char message[SELFMM_ERROR_MESSAGE_SIZE];
} selfmm_error;

/* Frees strings returned by the library. NULL is a no-op. */
SELFMM_API void selfmm_free_string(char *s);

/* ------------------------------------------------------------------------- */
/* Process-wide settings                                                     */
/* ------------------------------------------------------------------------- */
/* Threads used by OpenBLAS and oneDNN/OpenMP together (they share one OpenMP pool,
 * so there is no oversubscription). n = 0 means the number of online CPUs (the
 * default). Process-wide; call it before starting work, not while another thread is
 * inside the library. Returns SELFMM_ERR_RANGE for n < 0 or n > 1024. */
SELFMM_API selfmm_status selfmm_set_threads(int n, selfmm_error *err);
/* The thread count in effect (after resolving 0). */
SELFMM_API int selfmm_get_threads(void);

/* Whether the library's file writes wait for the disk (fsync), process-wide. Files
 * are always written atomically (a temp file renamed over the target), so a reader,
 * or a run resumed after its process was killed (kill -9 included), sees the old
 * file or the complete new one either way: the kernel keeps what a killed process
 * wrote. fsync adds the same guarantee against a power loss or an operating-system
 * crash, at the price of waiting for the disk: 1.2 GB per epoch for a bert-base
 * training checkpoint. On (1) by default; config key "fsync", which selfmm-cli
 * applies (the library never changes it itself). Set it before starting work. */
SELFMM_API void selfmm_set_fsync(int on);
SELFMM_API int selfmm_get_fsync(void);

typedef enum selfmm_log_level {
    SELFMM_LOG_ERROR = 0,
    SELFMM_LOG_WARN = 1,
    SELFMM_LOG_INFO = 2,
    SELFMM_LOG_DEBUG = 3
} selfmm_log_level;

/* Messages from the library (warnings such as clamped lengths, progress of long
 * loads). NULL (the default) discards them. Process-wide; the callback may be called
 * from any thread that is inside the library. */
typedef void (*selfmm_log_fn)(selfmm_log_level level, const char *message, void *user);
SELFMM_API void selfmm_set_log_callback(selfmm_log_fn fn, void *user);

/* ------------------------------------------------------------------------- */
/* Configuration (docs/MODEL.md §5: Self-MM, BERT's config.json, run settings) */
/* ------------------------------------------------------------------------- */
typedef enum selfmm_dataset_kind {
    SELFMM_DATASET_SIMS = 0,
    SELFMM_DATASET_MOSI = 1,
    SELFMM_DATASET_MOSEI = 2
} selfmm_dataset_kind;

#define SELFMM_PATH_MAX 1024

/* A plain struct: fill it with selfmm_config_default() or selfmm_config_preset(),
 * then change fields directly or by name with selfmm_config_set(). Field names are
 * the JSON/`--set` key names. New fields are only ever appended. */
/* The precision of BERT's GEMMs (config key "precision") and of a benchmark GEMM. */
typedef enum selfmm_precision {
    SELFMM_PRECISION_FP32 = 0,     /* float32 in and out */
    SELFMM_PRECISION_BF16 = 1      /* bfloat16 in, float32 accumulation */
} selfmm_precision;

/* SELFMM_OK when this process can compute in that precision; fp32 always can. bf16
 * needs AVX512_BF16 enabled by the operating system, oneDNN's effective ISA with it
 * (ONEDNN_MAX_CPU_ISA / DNNL_MAX_CPU_ISA may cap it), and bf16 GEMMs faster than
 * fp32: AMX on Intel CPUs, AVX512_BF16 on AMD ones (docs/PLATFORM.md §3.3). Otherwise
 * SELFMM_ERR_UNSUPPORTED, the message naming the missing CPU feature. Also
 * SELFMM_ERR_INVALID_ARG for a value that is no precision. */
SELFMM_API selfmm_status selfmm_precision_check(selfmm_precision precision, selfmm_error *err);
/* oneDNN's effective CPU ISA, as ONEDNN_MAX_CPU_ISA spells it ("AVX512_CORE_AMX", ...):
 * with bf16, results depend on it (docs/MODEL.md §8). A static string. */
SELFMM_API const char *selfmm_cpu_isa(void);

typedef struct selfmm_config {
    /* --- Self-MM hyper-parameters (docs/MODEL.md §5.1) --- */
    int dataset;                   /* "dataset": selfmm_dataset_kind, JSON "sims"|"mosi"|"mosei" */
    int batch_size;                /* [1, 65536] */
    double learning_rate_bert;     /* [0, 10] each */
    double learning_rate_audio;
    double learning_rate_video;
    double learning_rate_other;
    double weight_decay_bert;      /* [0, 10] each */
    double weight_decay_audio;
    double weight_decay_video;
    double weight_decay_other;
    int a_lstm_hidden_size;        /* [1, 65536] each */
    int v_lstm_hidden_size;
    int audio_out;
    int video_out;
    int post_fusion_dim;
    int post_text_dim;
    int post_audio_dim;
    int post_video_dim;
    double post_fusion_dropout;    /* [0, 1) each */
    double post_text_dropout;
    double post_audio_dropout;
    double post_video_dropout;
    double a_lstm_dropout;
    double v_lstm_dropout;
    double H;                      /* label clamp, (0, 1e6] */
    int update_epochs;             /* batches per optimizer step, [1, 1000000] */
    int early_stop;                /* epochs without improvement, [1, 1000000] */
    int exclude_zero;              /* bool: positive center uses y > 0 instead of y >= 0 */
    int tail_step;                 /* bool: apply the final partial accumulation window */
    int valid_loss_decimals;       /* round valid Loss before comparing; -1 = off (MMSA: 4), [-1, 15] */
    int audio_dim;                 /* audio feature width D_a, [1, 1000000] */
    int video_dim;                 /* vision feature width D_v, [1, 1000000] */

    /* --- BERT (HuggingFace config.json keys) --- */
    int vocab_size;                /* [1, 10000000] */
    int hidden_size;               /* [1, 65536], divisible by num_attention_heads */
    int num_hidden_layers;         /* [1, 1000] */
    int num_attention_heads;       /* [1, 65536] */
    int intermediate_size;         /* [1, 1000000] */
    int max_position_embeddings;   /* [1, 1000000] */
    int type_vocab_size;           /* [1, 1000] */
    double layer_norm_eps;         /* (0, 1) */
    double hidden_dropout_prob;    /* [0, 1) */
    double attention_probs_dropout_prob; /* [0, 1) */
    double initializer_range;      /* [0, 10] */

    /* --- run settings --- */
    int64_t seed;                  /* [0, 2^53]: shuffling, dropout and initialisation */
    int threads;                   /* [0, 1024], 0 = all online CPUs; applied by selfmm-cli with
                                      selfmm_set_threads (the library never changes it itself) */
    int max_epochs;                /* [0, 1000000], 0 = until early stopping */
    int shuffle;                   /* bool: shuffle the training set each epoch */
    int nan_to_zero;               /* bool: replace NaN features by 0 instead of failing */
    int clamp_lengths;             /* bool: clamp bad sequence lengths (counted warning) instead of failing */
    char data_path[SELFMM_PATH_MAX];  /* "data_path": dataset file ("" = none) */
    char bert_path[SELFMM_PATH_MAX];  /* "bert_path": HuggingFace BERT folder ("" = none) */

    /* --- reference variants (appended) --- */
    /* The defaults of every preset are the reference as run today (thuiar/Self-MM at
     * HEAD on torch >= 1.3); docs/REFERENCE.md lists each with its file and line. */
    int adam_legacy;               /* bool, default false: torch <= 1.2's Adam (eps added to
                                      sqrt(v) before the bias correction), as pinned in the
                                      reference's requirements.txt; false is torch >= 1.3's */
    int f1_truth_weighted;         /* bool, default true: weighted F1 weights classes by their
                                      count in the truth (metricsTop.py's f1_score(truth, pred)
                                      since 2021-04-28); false is the order before that,
                                      f1_score(pred, truth) */
    double valid_min_delta;        /* a validation Loss is a new best when <= best - this;
                                      default 1e-6 as the reference trainer; [0, 1] */

    /* --- appended in 0.2 --- */
    int metrics_decimals;          /* reported metrics rounded to this many decimals (NumPy's
                                      round, docs/MODEL.md §4.1); -1 = not rounded. Presets: as metricsTop.py, 4
                                      for MOSI/MOSEI and -1 for SIMS (mmsa-*: 4 for all); the
                                      unrounded values stay available (selfmm_metrics.raw) */
    int need_data_aligned;         /* bool, default false: word-aligned data (MMSA's
                                      aligned_50.pkl): the audio and vision LSTMs run over the
                                      text length (sum of the text mask) instead of
                                      audio_lengths / vision_lengths, which may be absent */
    int metrics_mae_float64;       /* bool, default false: MMSA's metricsTop.py converts MAE to
                                      float64 before rounding it; thuiar/Self-MM's rounds (and
                                      run.py averages) NumPy's float32 MAE, which can differ in
                                      the last reported digit. mmsa-* presets: true */
    int fsync;                     /* bool, default true: a run setting, applied by selfmm-cli
                                      with selfmm_set_fsync (which see): false writes files
                                      without waiting for the disk, still atomically */
    int precision;                 /* selfmm_precision, JSON "fp32" (default) | "bf16": a run
                                      setting, the arithmetic of BERT's GEMMs
                                      (docs/MODEL.md §8). bf16 is mixed precision: bf16 GEMM inputs with fp32
                                      accumulation, everything else in fp32; it needs a CPU
                                      where bf16 GEMMs are native and faster than fp32
                                      (selfmm_precision_check). Model files always hold fp32
                                      weights, and a loaded model computes in fp32 until
                                      selfmm_model_set_precision says otherwise */
} selfmm_config;

/* Self-MM repository defaults for SIMS with a bert-base-chinese BERT and seed 1111.
 * Never fails. */
SELFMM_API void selfmm_config_default(selfmm_config *cfg);

/* Fill cfg with a named preset (docs/MODEL.md §5.1): "sims", "mosi", "mosei"
 * (Self-MM repository) or "mmsa-sims", "mmsa-mosi", "mmsa-mosei" (MMSA's
 * config_regression.json, with exclude_zero and the 4-decimal valid Loss). BERT
 * fields are bert-base (chinese for sims, uncased otherwise); run settings are the
 * defaults.
 * SELFMM_ERR_NOT_FOUND for an unknown name. cfg is untouched on failure. */
SELFMM_API selfmm_status selfmm_config_preset(selfmm_config *cfg, const char *name,
                                              selfmm_error *err);
/* The preset names, NULL-terminated. */
SELFMM_API const char *const *selfmm_config_preset_names(void);

/* Set one field by key name from its text form ("32", "5e-5", "true", "mosi").
 * Errors: SELFMM_ERR_UNKNOWN_KEY, SELFMM_ERR_TYPE (text does not parse as the
 * key's type), SELFMM_ERR_RANGE; the message names the key. cfg is untouched on
 * failure. */
SELFMM_API selfmm_status selfmm_config_set(selfmm_config *cfg, const char *key,
                                           const char *value, selfmm_error *err);

/* Apply a JSON object of keys to cfg (keys not present keep their value). Errors:
 * SELFMM_ERR_PARSE (malformed JSON, with line and column), SELFMM_ERR_UNKNOWN_KEY,
 * SELFMM_ERR_TYPE, SELFMM_ERR_RANGE, naming the key. cfg is untouched on failure. */
SELFMM_API selfmm_status selfmm_config_from_json(selfmm_config *cfg, const char *json,
                                                 selfmm_error *err);
/* The same from a file; SELFMM_ERR_NOT_FOUND / SELFMM_ERR_IO name the file. */
SELFMM_API selfmm_status selfmm_config_load_json(selfmm_config *cfg, const char *path,
                                                 selfmm_error *err);
/* Read the architecture and dropouts of a HuggingFace BERT config.json (a file, or a
 * folder holding one) into cfg's BERT fields. Only "bert" models with the "gelu"
 * activation are accepted. */
SELFMM_API selfmm_status selfmm_config_load_bert_json(selfmm_config *cfg, const char *path,
                                                      selfmm_error *err);
/* Every key as one JSON object (pretty-printed, stable key order). The caller frees
 * the string with selfmm_free_string(). */
SELFMM_API selfmm_status selfmm_config_to_json(const selfmm_config *cfg, char **json,
                                               selfmm_error *err);
/* Write selfmm_config_to_json() atomically (temp file, fsync, rename). */
SELFMM_API selfmm_status selfmm_config_save_json(const selfmm_config *cfg, const char *path,
                                                 selfmm_error *err);
/* Check every range and the cross-field rules (hidden_size % num_attention_heads).
 * The message names the first offending key. */
SELFMM_API selfmm_status selfmm_config_validate(const selfmm_config *cfg, selfmm_error *err);

/* ------------------------------------------------------------------------- */
/* Model                                                                     */
/* ------------------------------------------------------------------------- */
typedef struct selfmm_model selfmm_model;

/* Optimizer groups (docs/MODEL.md §3.6), as stored in the parameter table. */
typedef enum selfmm_param_group {
    SELFMM_GROUP_BERT_DECAY = 0,    /* BERT weights: lr_bert, wd_bert */
    SELFMM_GROUP_BERT_NO_DECAY = 1, /* BERT biases and LayerNorm weights: lr_bert, wd 0 */
    SELFMM_GROUP_AUDIO = 2,         /* audio LSTM + linear_1 */
    SELFMM_GROUP_VIDEO = 3,         /* vision LSTM + linear_1 */
    SELFMM_GROUP_OTHER = 4,         /* the four heads */
    SELFMM_GROUP_NONE = 5           /* never receives a gradient (BERT pooler): never updated */
} selfmm_param_group;

/* One tensor of the parameter table. data and grad point into the model's parameter
 * and gradient arenas (same layout); they stay valid until the model is freed. */
typedef struct selfmm_param_info {
    const char *name;     /* PyTorch state_dict name, e.g. "Model.post_fusion_layer_1.weight" */
    int ndim;             /* 1 or 2 */
    int64_t shape[4];
    int64_t numel;
    selfmm_param_group group;
    float *data;
    float *grad;
} selfmm_param_info;

/* Build a model from cfg (validated first) and initialise it as PyTorch initialises
 * a fresh model, from cfg->seed. Errors name the offending key. */
SELFMM_API selfmm_status selfmm_model_create(const selfmm_config *cfg, selfmm_model **out,
                                             selfmm_error *err);
/* What selfmm_model_create_ex initialises. Each tensor's initial values depend only
 * on (cfg->seed, the tensor), so a tensor it initialises has the values
 * selfmm_model_create gives it, and create_ex + a load equals create + the same load
 * bit for bit, without initialising what the load overwrites (2.5 s of the 2.7 s
 * selfmm_model_create takes for bert-base). */
typedef enum selfmm_init_mode {
    SELFMM_INIT_ALL = 0,          /* every tensor: selfmm_model_create */
    SELFMM_INIT_ALL_BUT_BERT = 1, /* all but BERT's embeddings and layers (0 until
                                     selfmm_model_load_bert, next, supplies them all or
                                     fails; BERT's pooler, which files may lack, is
                                     initialised) */
    SELFMM_INIT_NONE = 2          /* none: every weight 0, for a model whose weights all
                                     come next from selfmm_model_load_weights,
                                     selfmm_model_import_pth or selfmm_checkpoint_load */
} selfmm_init_mode;
/* selfmm_model_create initialising only what init says. */
SELFMM_API selfmm_status selfmm_model_create_ex(const selfmm_config *cfg, selfmm_init_mode init,
                                                selfmm_model **out, selfmm_error *err);
SELFMM_API void selfmm_model_free(selfmm_model *model);
/* The message of the model's last failed call ("" if none). Owned by the model;
 * valid until the next call on it. */
SELFMM_API const char *selfmm_model_errmsg(const selfmm_model *model);
/* A copy of the model's config. */
SELFMM_API selfmm_status selfmm_model_get_config(const selfmm_model *model, selfmm_config *cfg);
/* Number of tensors in the parameter table, and the total number of floats. */
SELFMM_API int selfmm_model_num_params(const selfmm_model *model);
SELFMM_API int64_t selfmm_model_num_floats(const selfmm_model *model);
/* Tensor i of the table (0 <= i < num_params). */
SELFMM_API selfmm_status selfmm_model_param(selfmm_model *model, int i,
                                            selfmm_param_info *info);
/* Tensor by PyTorch name; SELFMM_ERR_NOT_FOUND names it. */
SELFMM_API selfmm_status selfmm_model_find_param(selfmm_model *model, const char *name,
                                                 selfmm_param_info *info);

/* ---- Files: pretrained BERT, the native model file, reference .pth ---- */
/* Load pretrained BERT weights: a HuggingFace folder (config.json and
 * pytorch_model.bin or model.safetensors) or one weights file. The folder's
 * config.json must match the model's BERT fields. Accepts the key variants of
 * docs/MODEL.md §7.2; a missing tensor or a wrong shape is an error naming the key and both
 * shapes. On failure the model's weights are unchanged. */
SELFMM_API selfmm_status selfmm_model_load_bert(selfmm_model *model, const char *path);

/* The native model file: safetensors with the PyTorch names, and in its metadata
 * the format version, the complete config and the tokenizer when one is attached.
 * Written atomically. */
SELFMM_API selfmm_status selfmm_model_save(selfmm_model *model, const char *path);
/* Load a native model file; every name and shape is checked. */
SELFMM_API selfmm_status selfmm_model_load(const char *path, selfmm_model **out,
                                           selfmm_error *err);
/* Import a reference state_dict (.pth written by torch.save, docs/MODEL.md §7.3)
 * into a model whose config matches; every tensor must be present with its shape.
 * Extra tensors (e.g. a position_ids buffer) are ignored and reported as a warning
 * through the log callback. On failure the model's weights are unchanged. */
SELFMM_API selfmm_status selfmm_model_import_pth(selfmm_model *model, const char *path);
/* Export a .pth that torch.load reads and the reference model accepts with
 * load_state_dict(strict=True). Written atomically. */
SELFMM_API selfmm_status selfmm_model_export_pth(selfmm_model *model, const char *path);
/* A reference .pth holds no config: fit cfg to one before selfmm_model_create +
 * selfmm_model_import_pth. Sets audio_dim and video_dim from the LSTM weights
 * and checks every other tensor's shape against cfg (errors name the tensor,
 * both shapes and the config keys involved). cfg is untouched on failure. */
SELFMM_API selfmm_status selfmm_config_check_pth(selfmm_config *cfg, const char *path,
                                                 selfmm_error *err);

/* Load the weights of a native model file into an existing model whose config has
 * the same architecture; every name and shape is checked; on failure the model is
 * unchanged. */
SELFMM_API selfmm_status selfmm_model_load_weights(selfmm_model *model, const char *path);

/* ---- Compute: forward, loss, backward, timings ---- */
/* A batch of samples. Arrays are row-major and owned by the caller; they need to
 * stay valid only during the call that takes the batch. */
typedef struct selfmm_batch {
    int batch;                     /* B >= 1 */
    int text_len;                  /* L: padded text length of the arrays below */
    const int32_t *text_ids;       /* (B, L) token ids */
    const int32_t *text_mask;      /* (B, L) 1 = token, 0 = padding (padding at the end) */
    const int32_t *text_segment;   /* (B, L) token type ids; NULL = all 0 */
    int audio_len;                 /* T_a: padded audio length */
    int audio_dim;                 /* D_a: must equal the model's audio_dim */
    const float *audio;            /* (B, T_a, D_a) */
    const int32_t *audio_lengths;  /* (B) real lengths, 1 <= len <= T_a; ignored (may be NULL)
                                      when the model's config has need_data_aligned: the text
                                      length (sum of text_mask) is used for both modalities */
    int vision_len;                /* T_v */
    int vision_dim;                /* D_v: must equal the model's video_dim */
    const float *vision;           /* (B, T_v, D_v) */
    const int32_t *vision_lengths; /* (B); as audio_lengths */
} selfmm_batch;

typedef enum selfmm_mode {
    SELFMM_MODE_EVAL = 0,          /* no dropout, nothing kept for backward */
    SELFMM_MODE_TRAIN = 1          /* dropout on, activations kept for backward */
} selfmm_mode;

/* The four heads' outputs and the four feature vectors (docs/MODEL.md §2.3) of the last
 * forward. Owned by the model; valid until its next forward or free. */
typedef struct selfmm_outputs {
    int batch;
    const float *M, *T, *A, *V;    /* (B) each: fusion, text, audio, vision */
    const float *feature[4];       /* (B, dim[k]) h_f, h_t, h_a, h_v (after dropout and ReLU) */
    int dim[4];                    /* post_fusion_dim, post_text_dim, post_audio_dim, post_video_dim */
} selfmm_outputs;

/* Index of the four modalities in selfmm_outputs.feature, the ULGM state and the loss. */
enum { SELFMM_FUSION = 0, SELFMM_TEXT = 1, SELFMM_AUDIO = 2, SELFMM_VISION = 3 };

/* "fusion", "text", "audio", "vision" for SELFMM_FUSION .. SELFMM_VISION (the names
 * messages, the fit layer's labels.jsonl and the checkpoint's ulgm.* arrays use);
 * NULL for any other k. Thread-safe. */
SELFMM_API const char *selfmm_modality_name(int k);

/* Forward a batch. In SELFMM_MODE_TRAIN dropout masks come from a counter-based
 * generator keyed by (cfg.seed, the model's step counter, tensor), so results do not
 * depend on the thread count; the step counter is incremented after each training
 * forward. Bad lengths, widths or ids are SELFMM_ERR_DATA / SELFMM_ERR_SHAPE naming
 * the sample. out may be NULL. */
SELFMM_API selfmm_status selfmm_model_forward(selfmm_model *model, const selfmm_batch *batch,
                                              selfmm_mode mode, selfmm_outputs *out);
/* The dropout step counter (part of a resumable training state). */
/* Compute in that precision from the next forward on (config key "precision"):
 * selfmm_precision_check's errors, on the model, and the model is unchanged. A
 * model loaded from a file computes in fp32 until this is called. */
SELFMM_API selfmm_status selfmm_model_set_precision(selfmm_model *model, selfmm_precision precision);
SELFMM_API uint64_t selfmm_model_get_step(const selfmm_model *model);
SELFMM_API void selfmm_model_set_step(selfmm_model *model, uint64_t step);

/* The four parts of the weighted L1 loss (docs/MODEL.md §3.3) and their sum. */
typedef struct selfmm_loss {
    double total;
    double part[4];                /* loss_M, loss_T, loss_A, loss_V */
} selfmm_loss;

/* Loss of the last training forward against labels[k] (B floats each, k as in
 * SELFMM_FUSION...), and the output gradients for selfmm_model_backward(..., NULL).
 * SELFMM_ERR_STATE without a training forward. loss may be NULL. */
SELFMM_API selfmm_status selfmm_model_loss(selfmm_model *model, const float *const labels[4],
                                           selfmm_loss *loss);
/* Backward from the output gradients grad[k] (B floats each; a NULL entry is zero),
 * or, with grad == NULL, from those of the last selfmm_model_loss(). Adds into the
 * gradient arena (gradients accumulate until selfmm_model_zero_grad). */
SELFMM_API selfmm_status selfmm_model_backward(selfmm_model *model, const float *const *grad);
SELFMM_API void selfmm_model_zero_grad(selfmm_model *model);

/* Where the time of the model's last forward and last backward went. Seconds of
 * wall-clock time; flop counts are the GEMM floating-point operations (2 per
 * multiply-add) BERT's linear layers and attention actually did: the linear layers
 * on the real tokens and each [CLS] (text_tokens rows), attention at the batch's
 * longest real text length, and in the last layer only the [CLS] rows (keys and
 * values excepted). The audio/vision parts cover each subnet (LSTM, dropout,
 * linear_1); with two or more threads each LSTM's batch is split between two threads,
 * audio first, and the audio part is the longer audio half, the vision part the rest
 * of the LSTMs' wall time, so the two parts add up to the time spent. Not thread-safe
 * with calls on the same model (one handle per thread). */
typedef struct selfmm_timings {
    double forward_s, backward_s;               /* whole calls */
    double bert_forward_s, bert_backward_s;
    double audio_forward_s, audio_backward_s;
    double vision_forward_s, vision_backward_s;
    double bert_forward_flop, bert_backward_flop;
    int text_steps;                             /* text length run: the longest real one */
    int audio_steps, vision_steps;              /* LSTM steps run: the longest length */
    int text_tokens;                            /* rows BERT's layers ran: the real tokens
                                                   and each [CLS] (docs/MODEL.md §2.1) */
    double bert_forward_gemm_s, bert_backward_gemm_s; /* the part of bert_*_s spent inside
                                                   GEMM calls (oneDNN, OpenBLAS): every one of
                                                   BERT's flops above is a GEMM's, the rest of
                                                   its time is elementwise work */
} selfmm_timings;

/* The timings of the last forward and backward (zero before the first). */
SELFMM_API selfmm_status selfmm_model_timings(const selfmm_model *model, selfmm_timings *t);

/* ------------------------------------------------------------------------- */
/* Datasets (MMSA pickles, .npz)                                             */
/* ------------------------------------------------------------------------- */
typedef struct selfmm_dataset selfmm_dataset;

typedef enum selfmm_split {
    SELFMM_SPLIT_TRAIN = 0,
    SELFMM_SPLIT_VALID = 1,
    SELFMM_SPLIT_TEST = 2
} selfmm_split;

/* Everything of one split, converted to float32/int32. Owned by the dataset. */
typedef struct selfmm_split_view {
    int n;                         /* samples */
    int text_len;                  /* L */
    const int32_t *text_bert;      /* (n, 3, L): ids, mask, segment */
    int audio_len, audio_dim;
    const float *audio;            /* (n, T_a, D_a), -inf already set to 0 */
    const int32_t *audio_lengths;  /* (n), or NULL when the file has none (word-aligned data) */
    int vision_len, vision_dim;
    const float *vision;           /* (n, T_v, D_v) */
    const int32_t *vision_lengths; /* (n), or NULL as audio_lengths */
    const float *labels;           /* (n) regression_labels */
    const float *labels_unimodal[4]; /* [1..3]: SIMS human T/A/V labels, or NULL; [0] = labels */
    const char *const *ids;        /* (n) "video$_$clip", or NULL when absent */
    const char *const *raw_text;   /* (n) or NULL */
} selfmm_split_view;

typedef struct selfmm_data_options {
    int nan_to_zero;               /* replace NaN features by 0 (counted) instead of failing */
    int clamp_lengths;             /* clamp lengths to [1, T] (counted) instead of failing */
} selfmm_data_options;

/* Load an MMSA pickle or a .npz written by selfmm_dataset_save_npz (told apart by
 * their magic). opt may be NULL (both switches off). */
SELFMM_API selfmm_status selfmm_dataset_load(const char *path, const selfmm_data_options *opt,
                                             selfmm_dataset **out, selfmm_error *err);
SELFMM_API void selfmm_dataset_free(selfmm_dataset *data);
SELFMM_API const char *selfmm_dataset_errmsg(const selfmm_dataset *data);
SELFMM_API selfmm_status selfmm_dataset_split(selfmm_dataset *data, selfmm_split split,
                                              selfmm_split_view *view);
/* Gather samples idx[0..b) of a split into a batch. The arrays belong to the
 * dataset and stay valid until the next selfmm_dataset_batch on it. labels may be
 * NULL; otherwise it receives a pointer to b regression labels. */
SELFMM_API selfmm_status selfmm_dataset_batch(selfmm_dataset *data, selfmm_split split,
                                              const int *idx, int b, selfmm_batch *batch,
                                              const float **labels);
/* Build a dataset from arrays (copied): splits[SELFMM_SPLIT_TRAIN..TEST] filled as
 * selfmm_dataset_split() returns them (text_bert, features, lengths and labels
 * required, except the lengths of word-aligned data; labels_unimodal[1..3], ids and
 * raw_text optional; n >= 1 each). The
 * feature widths must agree across splits. Lengths and values are checked as on
 * load, -inf in audio becomes 0 (opt may be NULL). */
SELFMM_API selfmm_status selfmm_dataset_create(const selfmm_split_view splits[3],
                                               const selfmm_data_options *opt,
                                               selfmm_dataset **out, selfmm_error *err);
/* Write all splits as a NumPy .npz (atomically). */
SELFMM_API selfmm_status selfmm_dataset_save_npz(selfmm_dataset *data, const char *path);

/* ---- Describing files ---- */
typedef enum selfmm_info_format {
    SELFMM_INFO_TEXT = 0,          /* a report for people */
    SELFMM_INFO_JSON = 1           /* one JSON object (stable keys) */
} selfmm_info_format;

/* Describe any file libselfmm reads: a dataset (pickle or .npz: splits, shapes,
 * source dtypes, length and label statistics, NaN/-inf counts) or a checkpoint
 * (torch zip or legacy, safetensors, native model: format, config, tensors,
 * parameter count). Bad values are counted, not refused; a malformed file is an
 * error as for loading. The caller frees *out with selfmm_free_string(). */
SELFMM_API selfmm_status selfmm_file_info(const char *path, selfmm_info_format format, char **out,
                                          selfmm_error *err);

/* ---- The embedded demo ---- */
/* A SIMS-shaped synthetic dataset generated from seed (sentiment signal spread over
 * text, audio and vision, so the generated unimodal labels differ by modality), and
 * the config of the small randomly initialised model that trains on it in well
 * under a minute on 2 cores. selfmm_demo_config never fails (like
 * selfmm_config_default; a NULL cfg is ignored). */
SELFMM_API void selfmm_demo_config(selfmm_config *cfg);
SELFMM_API selfmm_status selfmm_demo_dataset(uint64_t seed, selfmm_dataset **out, selfmm_error *err);

/* ------------------------------------------------------------------------- */
/* Tokenizer: BERT's WordPiece, identical to HuggingFace's BertTokenizer     */
/* ------------------------------------------------------------------------- */
/* Text in, the token ids BertTokenizer.from_pretrained(folder) gives out, for the
 * same vocab.txt and settings: clean-up, spaces around CJK ideographs, optional
 * lower-casing and accent stripping, whitespace and punctuation split, greedy
 * longest-match-first WordPiece with "##" continuations, [UNK] for words of more
 * than 100 characters or without a match. Special tokens written in the text
 * ("[CLS]", "[SEP]", "[PAD]", "[UNK]", "[MASK]", exactly so) stay one token each.
 * Text is UTF-8; invalid UTF-8 is an error naming the byte offset. The Unicode
 * tables are utf8proc's. Details and the few known differences from particular
 * transformers versions: docs/ARCHITECTURE.md, "Tokenizer".
 *
 *     selfmm_tokenizer *tok;
 *     if (selfmm_tokenizer_load("bert_en", NULL, &tok, &err) != SELFMM_OK) ...
 *     int32_t ids[50], mask[50], seg[50];
 *     selfmm_tokenizer_encode(tok, "Hello, my dog is cute", SELFMM_NUL_TERMINATED,
 *                             50, ids, mask, seg, NULL);
 *     // ids = 101 7592 1010 2026 3899 2003 10140 102 0 0 ... with bert-base-uncased
 *     selfmm_tokenizer_free(tok);
 */
typedef struct selfmm_tokenizer selfmm_tokenizer;

/* A setting that is read from the folder's tokenizer_config.json unless forced. */
typedef enum selfmm_switch {
    SELFMM_SWITCH_AUTO = 0,   /* tokenizer_config.json's value, else the default */
    SELFMM_SWITCH_ON = 1,
    SELFMM_SWITCH_OFF = 2
} selfmm_switch;

/* Zero-initialised (or a NULL pointer): everything AUTO. */
typedef struct selfmm_tokenizer_options {
    selfmm_switch lowercase;      /* "do_lower_case"; default on (BertTokenizer's default) */
    selfmm_switch strip_accents;  /* "strip_accents"; default: strip when lower-casing */
    selfmm_switch chinese_chars;  /* "tokenize_chinese_chars"; default on */
} selfmm_tokenizer_options;

/* Pass as a text length when the text is NUL-terminated. */
#define SELFMM_NUL_TERMINATED ((size_t)-1)

/* Load a tokenizer from a vocab.txt file or from a BERT folder (its vocab.txt, and
 * tokenizer_config.json and special_tokens_map.json when present). opt may be NULL.
 * The vocabulary must hold [UNK], [SEP], [PAD] and [CLS]. Errors name the file:
 * SELFMM_ERR_NOT_FOUND, SELFMM_ERR_IO, SELFMM_ERR_PARSE (invalid UTF-8 with byte
 * offset and line, malformed JSON), SELFMM_ERR_FORMAT (empty vocabulary, NUL byte),
 * SELFMM_ERR_MISSING (a required special token), SELFMM_ERR_TYPE (a config key of
 * the wrong type), SELFMM_ERR_UNSUPPORTED (a config this tokenizer cannot honour:
 * other special-token strings, never_split or additional special tokens, no basic
 * tokenization, another tokenizer class). */
SELFMM_API selfmm_status selfmm_tokenizer_load(const char *path,
                                               const selfmm_tokenizer_options *opt,
                                               selfmm_tokenizer **out, selfmm_error *err);
SELFMM_API void selfmm_tokenizer_free(selfmm_tokenizer *tok);
/* The message of the tokenizer's last failed call ("" if none). Owned by tok. */
SELFMM_API const char *selfmm_tokenizer_errmsg(const selfmm_tokenizer *tok);
/* The settings in effect, each SELFMM_SWITCH_ON or SELFMM_SWITCH_OFF. */
SELFMM_API selfmm_status selfmm_tokenizer_get_options(const selfmm_tokenizer *tok,
                                                      selfmm_tokenizer_options *opt);

/* Number of ids: the lines of vocab.txt (what BERT's vocab_size must equal). When
 * a token appears on several lines HuggingFace's len(tokenizer.vocab) is smaller. */
SELFMM_API int selfmm_tokenizer_vocab_size(const selfmm_tokenizer *tok);
/* The id of a token (for a token on several lines, the last), or -1. */
SELFMM_API int32_t selfmm_tokenizer_token_id(const selfmm_tokenizer *tok, const char *token);
/* The token of an id (its line of vocab.txt), or NULL when out of range. Owned by
 * tok, valid until it is freed. */
SELFMM_API const char *selfmm_tokenizer_id_token(const selfmm_tokenizer *tok, int32_t id);

/* The tokens of one text, without [CLS]/[SEP]. */
typedef struct selfmm_tokens {
    int n;
    const char *const *tokens;    /* (n) NUL-terminated UTF-8, owned by the tokenizer */
    const int32_t *ids;           /* (n) */
} selfmm_tokens;

/* Tokenize text[0..len) (len may be SELFMM_NUL_TERMINATED). The arrays in out
 * belong to tok and stay valid until its next tokenize/encode call or its free;
 * the token strings stay valid until the free. SELFMM_ERR_PARSE for invalid UTF-8
 * (the message names the byte offset), SELFMM_ERR_NOMEM. */
SELFMM_API selfmm_status selfmm_tokenizer_tokenize(selfmm_tokenizer *tok, const char *text,
                                                   size_t len, selfmm_tokens *out);

/* Encode one text as the rows of a dataset's text_bert (3, L): ids = [CLS], the
 * first L-2 tokens, [SEP], then 0s up to L; mask = 1 for those tokens, 0 for the
 * padding; segment = 0. ids has room for max_len (L >= 2) values, and so do mask
 * and segment unless NULL. n_tokens (may be NULL) receives the number of tokens of
 * the text before truncation (so n_tokens > L - 2 means it was cut). */
SELFMM_API selfmm_status selfmm_tokenizer_encode(selfmm_tokenizer *tok, const char *text,
                                                 size_t len, int max_len, int32_t *ids,
                                                 int32_t *mask, int32_t *segment,
                                                 int *n_tokens);

/* The vocabulary of the embedded demo (selfmm_demo_dataset's ids: 0 [PAD],
 * 1 [CLS], 2 [SEP], 3-12 "pos1".."pos10", 13-22 "neg1".."neg10", 23 [UNK], then
 * "w24".."w63"), so that demo models can take text: selfmm-cli train --demo
 * attaches it. Free with selfmm_tokenizer_free. */
SELFMM_API selfmm_status selfmm_demo_tokenizer(selfmm_tokenizer **out, selfmm_error *err);

/* ------------------------------------------------------------------------- */
/* Metrics (docs/MODEL.md §4)                                               */
/* ------------------------------------------------------------------------- */
#define SELFMM_MAX_METRICS 16
typedef struct selfmm_metrics {
    int count;
    const char *name[SELFMM_MAX_METRICS];   /* static strings: "Mult_acc_2", "MAE", ... */
    double value[SELFMM_MAX_METRICS];       /* as the reference reports them: rounded when
                                               its metricsTop.py rounds (see below);
                                               Corr may be NaN (constant input) */
    /* --- appended in 0.2 --- */
    double raw[SELFMM_MAX_METRICS];         /* the same values before rounding */
} selfmm_metrics;

/* Variant bits of selfmm_metrics_compute_ex and selfmm_metrics_summary. 0 and 1 keep
 * the meaning of the former int f1_truth_weighted argument. */
#define SELFMM_METRICS_F1_TRUTH_WEIGHTED 1 /* f1_score(truth, pred): classes weighted by
                                              their count in the truth (metricsTop.py since
                                              2021-04-28); without it f1_score(pred, truth),
                                              the order before (config f1_truth_weighted) */
#define SELFMM_METRICS_MAE_FLOAT64 2       /* MMSA: MAE converted to float64 before it is
                                              rounded; without it MAE stays NumPy's float32
                                              mean, as Self-MM rounds and averages it
                                              (config metrics_mae_float64) */

/* Every metric of the dataset kind for n predictions against n truths, with NumPy
 * and scikit-learn semantics (half-to-even rounding, weighted F1), in the order the
 * reference returns them:
 *   SIMS:        Mult_acc_2, Mult_acc_3, Mult_acc_5, F1_score, MAE, Corr
 *   MOSI, MOSEI: Has0_acc_2, Has0_F1_score, Non0_acc_2, Non0_F1_score, Mult_acc_5,
 *                Mult_acc_7, MAE, Corr
 * as thuiar/Self-MM's utils/metricsTop.py computes them today: F1 truth-weighted,
 * MOSI/MOSEI values rounded to 4 decimals, SIMS values not rounded. Corr is NaN when
 * either side is constant or n = 1; Non0_* are NaN when every truth is 0. n >= 1;
 * a NaN or infinite value is SELFMM_ERR_DATA naming the sample. Thread-safe. */
SELFMM_API selfmm_status selfmm_metrics_compute(selfmm_dataset_kind kind, const float *pred,
                                                const float *truth, int n,
                                                selfmm_metrics *out, selfmm_error *err);
/* The same with the variant chosen: variant is a set of SELFMM_METRICS_* bits
 * (config f1_truth_weighted and metrics_mae_float64), decimals the rounding of the
 * reported values (config metrics_decimals; -1 = not rounded, else [0, 15]).
 * Rounding is the reference's round(x, decimals) on NumPy scalars: np.round's
 * rint(x * 10^d) / 10^d in float64, and in float32 for the MAE unless
 * SELFMM_METRICS_MAE_FLOAT64 (not Python's correctly rounded round(): 2.675 rounds to
 * 2.68 here, to 2.67 in Python). raw[] always holds the unrounded values. */
SELFMM_API selfmm_status selfmm_metrics_compute_ex(selfmm_dataset_kind kind, int variant, int decimals,
                                                   const float *pred, const float *truth, int n,
                                                   selfmm_metrics *out, selfmm_error *err);
/* The reference's summary of several seeds (run.py run_normal): for each reported
 * value, round(np.mean(values) * 100, 2) and round(np.std(values) * 100, 2) (the
 * population std) in NumPy's arithmetic, over runs[0..n): value[k] of every run, in
 * float32 for the entry named "MAE" unless variant has SELFMM_METRICS_MAE_FLOAT64
 * (NumPy averages Self-MM's float32 MAE in float32), in float64 otherwise. Any other
 * name may be added by the caller, e.g. "Loss" (a Python float in the reference:
 * unrounded in Self-MM, rounded to 4 decimals by MMSA). mean and std receive the
 * names of runs[0] with value = raw = the summary; a NaN value gives NaN. Every run
 * must list the same names in the same order (else SELFMM_ERR_INVALID_ARG). */
SELFMM_API selfmm_status selfmm_metrics_summary(const selfmm_metrics *runs, int n, int variant,
                                                selfmm_metrics *mean, selfmm_metrics *std,
                                                selfmm_error *err);
/* Python's round(x, decimals) on a float: the correctly rounded decimal of the exact
 * binary value, ties to even, read back as a double (MMSA's round(eval_loss, 4)).
 * decimals < 0 returns x. Thread-safe. */
SELFMM_API double selfmm_round(double x, int decimals);
/* The value of a named metric; SELFMM_ERR_NOT_FOUND naming it if absent. */
SELFMM_API selfmm_status selfmm_metrics_get(const selfmm_metrics *m, const char *name,
                                            double *value, selfmm_error *err);
/* Pearson's r of a[0..n) and b[0..n), computed as the metrics' Corr is: NumPy's
 * np.corrcoef(a, b)[0][1] on float32 arrays (in float64: means, centred values,
 * covariances scaled by 1 / (n - 1), r = (c_ab / sqrt(c_aa)) / sqrt(c_bb) clipped to
 * [-1, 1]). *r is NaN when either side is constant, when n = 1, or when a value is
 * NaN or infinite. n >= 1. Allocates 2n doubles (SELFMM_ERR_NOMEM). Thread-safe. */
SELFMM_API selfmm_status selfmm_pearson(const float *a, const float *b, int n, double *r,
                                        selfmm_error *err);

/* ------------------------------------------------------------------------- */
/* Training: optimizer, labels, shuffling, early stopping, checkpoints       */
/* ------------------------------------------------------------------------- */
typedef struct selfmm_optim selfmm_optim;

/* Adam with the five groups of docs/MODEL.md §3.6, bound to model (which must outlive it).
 * Learning rates, weight decays and the form (adam_legacy: torch 1.2 or >= 1.3) come
 * from cfg, or from the model's config when cfg is NULL. Allocates two moment arrays
 * the size of the parameter arena. */
SELFMM_API selfmm_status selfmm_optim_create(selfmm_model *model, const selfmm_config *cfg,
                                             selfmm_optim **out, selfmm_error *err);
SELFMM_API void selfmm_optim_free(selfmm_optim *opt);
SELFMM_API const char *selfmm_optim_errmsg(const selfmm_optim *opt);
/* One Adam step from the model's gradients: every tensor except group NONE moves,
 * also with a zero gradient (weight decay). The gradients are not modified. The
 * result does not depend on the thread count. */
SELFMM_API selfmm_status selfmm_optim_step(selfmm_optim *opt);

typedef struct selfmm_ulgm selfmm_ulgm;

/* Label state (docs/MODEL.md §3.1): labels y_m (initialised to labels), stored features F_m
 * (zero), centers. n training samples, feature widths dims[4]. */
SELFMM_API selfmm_status selfmm_ulgm_create(const selfmm_config *cfg, int n, const float *labels,
                                            const int dims[4], selfmm_ulgm **out,
                                            selfmm_error *err);
SELFMM_API void selfmm_ulgm_free(selfmm_ulgm *u);
SELFMM_API const char *selfmm_ulgm_errmsg(const selfmm_ulgm *u);
/* Gather the current labels of samples idx[0..b) into labels[k][0..b) (a NULL
 * labels[k] is skipped). Indices must be in [0, n). */
SELFMM_API selfmm_status selfmm_ulgm_gather(selfmm_ulgm *u, const int *idx, int b,
                                            float *const labels[4]);
/* Steps 2d-2f for one batch: in epoch > 1 update the unimodal labels of idx from
 * out's features and the current centers, store the features, recompute the
 * centers. SELFMM_ERR_NUMERIC when a label update needs the center of an empty set
 * (the message names modality and side) or features are not finite; _RANGE /
 * _INVALID_ARG for bad or repeated indices; _SHAPE when out's batch or widths do
 * not match. On any error nothing changes. */
SELFMM_API selfmm_status selfmm_ulgm_update(selfmm_ulgm *u, const int *idx, int b,
                                            const selfmm_outputs *out, int epoch);
/* The n current labels of modality k. Owned by u. */
SELFMM_API const float *selfmm_ulgm_labels(const selfmm_ulgm *u, int k);

/* A permutation of 0..n-1 that depends only on (seed, epoch): the shuffling the
 * fit layer uses, so that a run can be replayed or resumed exactly. perm has room
 * for n >= 0 values (else SELFMM_ERR_INVALID_ARG). Thread-safe. */
SELFMM_API selfmm_status selfmm_permutation(uint64_t seed, uint64_t epoch, int *perm, int n,
                                            selfmm_error *err);

/* ---- Early stopping: the reference trainer's decision, one epoch at a time ----
 * trains/multiTask/SELF_MM.py do_train keeps the weights of an epoch when its
 * validation Loss is <= best - 1e-6 (best starts at 1e8) and stops once early_stop
 * epochs have passed since the last such epoch (from the start when none). */
typedef struct selfmm_early_stop {
    int epoch;       /* epochs fed so far */
    int best_epoch;  /* 0 before the first improvement */
    double best;     /* best validation Loss; 1e8 before the first, as the reference */
} selfmm_early_stop;

/* Start: epoch 0, best_epoch 0, best 1e8. */
SELFMM_API void selfmm_early_stop_init(selfmm_early_stop *s);
/* Feed one epoch's validation Loss as the run reports it: the caller rounds it first
 * when cfg->valid_loss_decimals >= 0 (MMSA's do_test returns round(Loss, 4); use
 * selfmm_round), so that the value compared is the value logged. Counts the epoch;
 * returns 1 when it is the new best (loss <= best - cfg->valid_min_delta: best and
 * best_epoch take it), 0 otherwise (also for NaN). *stop (may be NULL) = 1 when
 * epoch - best_epoch >= cfg->early_stop (cfg->max_epochs is the caller's). Only
 * early_stop and valid_min_delta of cfg are read. s and cfg must not be NULL. */
SELFMM_API int selfmm_early_stop_update(selfmm_early_stop *s, const selfmm_config *cfg, double loss,
                                        int *stop);

/* ---- Training-state checkpoints ---- */

/* Everything needed to resume a run bit-identically: weights, the Adam moments and
 * step counts, the ULGM labels, features and centers, the model's dropout step
 * counter, and a caller's JSON string (epoch, best so far, ...). Written atomically. */
SELFMM_API selfmm_status selfmm_checkpoint_save(const selfmm_model *model, const selfmm_optim *opt,
                                                const selfmm_ulgm *ulgm, const char *user_json,
                                                const char *path, selfmm_error *err);
/* Restore a checkpoint into handles created with the same config and data size.
 * Only the run settings (seed, threads, max_epochs, paths, ...) may differ from the
 * config the checkpoint was written with; any other differing key is
 * SELFMM_ERR_STATE naming it. *user_json (may be NULL) receives the caller's string;
 * free it with selfmm_free_string. On failure the handles are unchanged. */
SELFMM_API selfmm_status selfmm_checkpoint_load(selfmm_model *model, selfmm_optim *opt,
                                                selfmm_ulgm *ulgm, const char *path,
                                                char **user_json, selfmm_error *err);

/* Evaluate a split in order (eval mode, batches of batch_size): the metrics of the
 * fusion output as the model's config says (dataset kind, f1_truth_weighted,
 * metrics_decimals, metrics_mae_float64), Loss (docs/MODEL.md §3.7: the mean over batches of
 * the batch-mean |M - y|, never rounded here: MMSA's do_test reports
 * selfmm_round(Loss, valid_loss_decimals)), and optionally all four outputs in preds
 * ((n, 4) floats M, T, A, V, caller-allocated). metrics, loss, preds and err may be
 * NULL. Written only on the public API (lib/train/evaluate.c). */
SELFMM_API selfmm_status selfmm_evaluate(selfmm_model *model, selfmm_dataset *data,
                                         selfmm_split split, int batch_size,
                                         selfmm_metrics *metrics, double *loss, float *preds,
                                         selfmm_error *err);

/* ------------------------------------------------------------------------- */
/* Several processes: data-parallel training over the caller's collectives   */
/* ------------------------------------------------------------------------- */
/* The library links no MPI. A program that runs N processes ("ranks") hands the
 * library a table of collective operations; selfmm-cli fills it from Open MPI,
 * loaded only when it runs under mpirun (docs/SCALING.md). With the table,
 * selfmm_fit and selfmm_evaluate_dist split every global batch of batch_size
 * samples into contiguous shares (selfmm_shard), each rank forwards its share, the
 * outputs and features are gathered so that every rank runs the same label update
 * on the whole batch, gradients are summed once per optimizer step (one allreduce
 * of the gradient arena), and rank 0 alone writes files. Dropout masks are keyed by
 * a sample's position in the global batch, the loss is a mean over the global batch
 * and BERT runs at the global batch's text length, so every sample's computation is
 * the one-process computation; only the order of float sums differs (weight
 * gradients, a few GEMM rows): results agree with one process to rounding, and runs
 * on the same number of ranks are bit-identical. The step-level calls below let a
 * program write the same loop itself (lib/train/fit.c and dist.c do it on this
 * header alone).
 *
 * A table describes one process of the group. Every rank makes the same calls in
 * the same order with the same sizes; a call returns when every rank has made it.
 * Each callback returns 0 on success and any other value on failure; the library
 * then returns SELFMM_ERR_COLLECTIVE ("allreduce of ... failed (code N): errmsg").
 * After a failed callback the group is unusable: end the job (MPI_Abort).
 * Requirements:
 *  - allreduce_sum_f32 leaves bit-identical sums on every rank (Open MPI's and
 *    MPICH's MPI_Allreduce do for a fixed communicator and count). selfmm_fit checks
 *    it: after every epoch the ranks compare a hash of their weights
 *    (SELFMM_ERR_COLLECTIVE when they differ).
 *  - Callbacks are called from the thread that called the library, never
 *    concurrently (MPI_THREAD_FUNNELED is enough).
 *  - Sizes can exceed 2^31: n up to the parameter arena (~110M floats for bert-base),
 *    bytes up to the Adam moments (~440 MB each); a transport with int counts splits
 *    them.
 * With size 1 nothing is ever called (the callbacks may be NULL), which is the same
 * as passing no table: one process. */
#define SELFMM_COLLECTIVES_VERSION 1

typedef struct selfmm_collectives {
    int version;               /* SELFMM_COLLECTIVES_VERSION */
    int rank;                  /* 0 <= rank < size; rank 0 writes every file */
    int size;                  /* >= 1 */
    void *user;                /* passed to every callback */
    /* buf[0..n) = the element-wise sum over the ranks of their buf[0..n), in place */
    int (*allreduce_sum_f32)(float *buf, int64_t n, void *user);
    /* recv[r * bytes .. (r + 1) * bytes) = rank r's send[0..bytes) on every rank;
     * every rank passes the same bytes; send and recv do not overlap */
    int (*allgather)(const void *send, size_t bytes, void *recv, void *user);
    /* buf[0..bytes) = rank root's buf on every rank */
    int (*broadcast)(void *buf, size_t bytes, int root, void *user);
    int (*barrier)(void *user);
    /* optional (may be NULL): a text for the last failure of a callback */
    const char *(*errmsg)(void *user);
} selfmm_collectives;

/* Check a table: version, 0 <= rank < size, the four operations set when size > 1.
 * NULL is a valid table (one process). SELFMM_ERR_INVALID_ARG naming the field.
 * Thread-safe. */
SELFMM_API selfmm_status selfmm_collectives_check(const selfmm_collectives *c, selfmm_error *err);

/* Rank r's share of a global batch of b samples over size ranks: samples
 * [*first, *first + *count), contiguous, *count = b / size or b / size + 1 (the
 * larger shares first); *count = 0 for ranks >= b (a tail batch smaller than the
 * number of ranks). Requires b >= 0, size >= 1, 0 <= rank < size (else both 0).
 * Pure, thread-safe. */
SELFMM_API void selfmm_shard(int b, int rank, int size, int *first, int *count);

/* How the model's next forwards and losses relate a local batch to the global batch
 * it is a share of. Kept by the model until changed; not saved. */
typedef struct selfmm_shard_info {
    int sample_offset;         /* local sample i is sample sample_offset + i of the global
                                  batch: its dropout masks are keyed by that position */
    int global_batch;          /* selfmm_model_loss returns this rank's part of the mean over
                                  global_batch samples (sum / global_batch) and output
                                  gradients scaled by 1 / global_batch, so the parts of all
                                  ranks add up to the one-process loss and gradients;
                                  0 = the local batch (one process) */
    int text_run_len;          /* BERT runs at least this many text positions: the global
                                  batch's (selfmm_dataset_text_run_len), so that attention
                                  dropout, laid out (heads, L, L) per sample, and every GEMM
                                  of BERT are the one-process ones; 0 = the local batch's */
} selfmm_shard_info;

/* Set the model's shard; NULL or a zeroed struct restores one-process behaviour.
 * SELFMM_ERR_RANGE for negative values, an offset without a global batch, or a
 * global batch above 65536; at the next forward, for offset + batch > global_batch
 * or a text_run_len above the batch's padded text length or
 * max_position_embeddings. */
SELFMM_API selfmm_status selfmm_model_set_shard(selfmm_model *model, const selfmm_shard_info *shard);

/* The text length BERT runs a batch of samples idx[0..b) of a split at: the largest
 * (last position whose text mask is 1) + 1, as selfmm_model_forward computes it.
 * Errors (on the dataset) as selfmm_dataset_batch's for bad indices. */
SELFMM_API selfmm_status selfmm_dataset_text_run_len(selfmm_dataset *data, selfmm_split split,
                                                     const int *idx, int b, int *run);

/* The parameter and gradient arenas as contiguous arrays of count floats, padding
 * between tensors included (always zero): what selfmm_param_info's data and grad
 * point into. One allreduce of grads per optimizer step sums a data-parallel
 * window. Owned by the model. */
typedef struct selfmm_arena {
    float *params;
    float *grads;
    int64_t count;
} selfmm_arena;
SELFMM_API selfmm_status selfmm_model_arena(selfmm_model *model, selfmm_arena *out);

/* A 64-bit hash of the parameter arena's bits (equal weights, equal hashes). Reads
 * ~0.4 GB for bert-base at memory speed. 0 for NULL. */
SELFMM_API uint64_t selfmm_model_hash(const selfmm_model *model);

/* Give every rank rank root's weights and dropout step counter (c NULL or size 1:
 * nothing to do). Collective: every rank calls it. The model must have the same
 * architecture on every rank (checked: SELFMM_ERR_COLLECTIVE names the ranks). */
SELFMM_API selfmm_status selfmm_model_broadcast(selfmm_model *model, int root, const selfmm_collectives *c,
                                                selfmm_error *err);

/* The same for the whole training state: weights, the Adam moments and step count,
 * the ULGM labels, features and centers, the model's dropout step counter, and,
 * when user_json is not NULL, a string (root's *user_json is sent; every other rank
 * receives a new string in *user_json, freed with selfmm_free_string). For a resume
 * where rank root alone read the checkpoint. Collective; the handles must have the
 * same sizes on every rank (checked). */
SELFMM_API selfmm_status selfmm_train_state_broadcast(selfmm_model *model, selfmm_optim *opt,
                                                      selfmm_ulgm *ulgm, int root,
                                                      const selfmm_collectives *c, char **user_json,
                                                      selfmm_error *err);

/* selfmm_evaluate over several ranks: each rank forwards its share of every batch,
 * the four outputs are gathered, and every rank returns the same metrics, Loss and
 * (all n rows of) preds, computed as selfmm_evaluate computes them from the whole
 * batch. c NULL or size 1: exactly selfmm_evaluate. Collective: every rank calls it
 * with the same split and batch size; a failure on any rank is returned by every
 * rank ("rank R: message", its status). The model's shard is reset on return. */
SELFMM_API selfmm_status selfmm_evaluate_dist(selfmm_model *model, selfmm_dataset *data,
                                              selfmm_split split, int batch_size,
                                              const selfmm_collectives *c, selfmm_metrics *metrics,
                                              double *loss, float *preds, selfmm_error *err);

/* ------------------------------------------------------------------------- */
/* The fit layer: one training run (one seed) as the reference does it       */
/* ------------------------------------------------------------------------- */
/* Written only on this header's functions (lib/train/fit.c): read it as the
 * step-by-step recipe, or copy and adapt it. Its logs (train_log.jsonl,
 * labels.jsonl; lib/train/fit_log.c) are written from the events below, the same
 * ones, in the same order, that the callback gets. */

typedef enum selfmm_fit_event_kind {
    SELFMM_EVENT_BATCH = 0,     /* after each training batch */
    SELFMM_EVENT_STEP = 1,      /* after each optimizer step (end of a window) */
    SELFMM_EVENT_EPOCH = 2      /* after each epoch's validation */
} selfmm_fit_event_kind;

typedef struct selfmm_fit_event {
    selfmm_fit_event_kind kind;
    int64_t seed;
    int epoch;                  /* 1-based */
    int batch;                  /* 1-based batch of the epoch (BATCH, STEP: the window's last) */
    int num_batches;            /* batches per epoch */
    int window;                 /* STEP: 1-based optimizer step of the epoch */
    selfmm_loss loss;           /* BATCH: this batch; STEP: sum over the window's batches */
    double elapsed_s;           /* since the run (or resume) started */
    /* EPOCH only: */
    double train_loss;          /* mean of the batch losses */
    const selfmm_metrics *train_metrics; /* [4]: each head against its current labels */
    double valid_loss;          /* docs/MODEL.md §3.7, rounded when cfg.valid_loss_decimals >= 0 */
    const selfmm_metrics *valid_metrics;
    int best_epoch;
    double best_valid_loss;
    int improved;               /* this epoch is the new best */
    int n_train;
    const float *const *labels; /* [4] (n_train) labels after the epoch, training-set order */
    /* --- appended in 0.2 --- */
    const float *const *labels_human; /* EPOCH: [4] (n_train) the train split's given labels
                                   in the same order (selfmm_split_view.labels_unimodal):
                                   [0] the multimodal labels, [1..3] the human T/A/V labels
                                   (SIMS) or NULL */
    /* EPOCH: where the wall-clock time since the previous EPOCH event (the first:
       since training started or resumed) went, in seconds. The only values of a
       run that are not reproducible. An epoch's checkpoint records the log's length
       after its EPOCH line, so it is written after the event went to the log: its
       time (and the log's write) count in the next event's files_s. */
    double epoch_s;             /* all of it: the sum below plus batch assembly, metrics,
                                   callbacks */
    double train_steps_s;       /* forward, loss and backward of the batches (with ranks:
                                   of this rank's shares, and gathering the outputs) */
    double optim_s;             /* optimizer steps (with ranks: and the gradients' sum) */
    double labels_s;            /* label updates (selfmm_ulgm_update) */
    double valid_s;             /* validation */
    double files_s;             /* writing: the logs, the best weights (model.safetensors)
                                   and the previous epoch's checkpoint */
    double checkpoint_s;        /* of files_s: the previous epoch's checkpoint */
    int rank, size;             /* with collectives: this process's rank and the ranks of
                                   the run (every rank gets every event); else 0 and 1 */
} selfmm_fit_event;

/* Return non-zero to stop the run: selfmm_fit then returns SELFMM_ERR_INTERRUPTED
 * (with out_dir, the last epoch's checkpoint stays usable for a resume; an EPOCH
 * event comes once its epoch's checkpoint is written). */
typedef int (*selfmm_fit_callback)(const selfmm_fit_event *event, void *user);

typedef struct selfmm_fit_options {
    const char *out_dir;        /* NULL: nothing on disk. Otherwise it receives
                                 * checkpoint.safetensors (each epoch end; it also holds the
                                 * best weights, as checkpoint-best.safetensors, until a
                                 * later epoch's replaces it), model.safetensors (the best
                                 * weights, at the end, when checkpoint-best.safetensors
                                 * goes), train_log.jsonl and labels.jsonl. Nothing locks
                                 * it: one run at a time (selfmm-cli locks its folder) */
    int resume;                 /* continue from out_dir's checkpoint when there is one */
    int save_labels;            /* write labels.jsonl (needs out_dir) */
    selfmm_fit_callback callback; /* may be NULL */
    void *user;
    /* --- appended in 0.2 --- */
    const selfmm_collectives *collectives; /* NULL (or size 1): one process. Otherwise a
                                 * data-parallel run over the ranks (see "Several
                                 * processes"): every rank calls selfmm_fit with the same
                                 * options, its own model and its own copy of the same
                                 * data. Rank 0's weights are broadcast at the start (only
                                 * rank 0 needs pretrained or initial weights) and rank 0
                                 * alone reads and writes out_dir; the others need no
                                 * access to it. Every rank gets every event; a failure on
                                 * any rank (or a callback's stop) ends the run on every
                                 * rank at the same point with the same status, the
                                 * message prefixed "rank R: " */
} selfmm_fit_options;

typedef struct selfmm_fit_result {
    int epochs;                 /* epochs trained */
    int best_epoch;
    double best_valid_loss;
    selfmm_metrics valid;       /* validation metrics of the best epoch */
    selfmm_metrics test;        /* test metrics with the best weights */
    double test_loss;
} selfmm_fit_result;

/* Train model on data's train split with the model's config (docs/MODEL.md §3): shuffling,
 * accumulation windows, ULGM labels, Adam, per-epoch validation, early stopping;
 * then restore the best weights and evaluate the test split. First it records the
 * data's padded lengths and normalisation in the model (selfmm_model_adopt_dataset),
 * so the saved model prepares raw inputs as its data was. The same seed and
 * thread count give bit-identical results (with collectives: also the same number
 * of ranks; another number agrees to float rounding); a resumed run finishes
 * exactly like an uninterrupted one. On return the model holds the best weights.
 * err may be NULL. */
SELFMM_API selfmm_status selfmm_fit(selfmm_model *model, selfmm_dataset *data,
                                    const selfmm_fit_options *opt, selfmm_fit_result *res,
                                    selfmm_error *err);

/* ------------------------------------------------------------------------- */
/* Your own data: label.csv + per-clip features, single samples              */
/* ------------------------------------------------------------------------- */
/* From MMSA's label.csv and feature files you extracted yourself to a dataset that
 * loads, trains and predicts like a released pickle, and from one new clip's text
 * and feature files to the four outputs of a trained model:
 *
 *     selfmm_build_options bo;
 *     selfmm_build_options_default(&bo);
 *     bo.labels = "label.csv", bo.audio_dir = "audio", bo.vision_dir = "vision";
 *     bo.tokenizer = tok;                       // selfmm_tokenizer_load("bert_en", ...)
 *     char *report = NULL;
 *     if (selfmm_dataset_build(&bo, &data, &report, &err) != SELFMM_OK)
 *         fprintf(stderr, "%s\n", report ? report : err.message);  // every bad row
 *     selfmm_free_string(report);
 *
 * Files: <audio_dir>/<video_id>/<clip_id>.npy or .csv (the same for vision), each
 * (T, D) per clip; see selfmm_features_load for the formats. */

/* Per-feature standardisation statistics (x' = (x - mean) / std on real time
 * steps; padding stays 0). Computed in float64 over the real steps of the training
 * split (population std; a feature with std < 1e-6 gets std 1, i.e. is only
 * centred) and kept as float32. */
typedef struct selfmm_norm {
    int audio_dim, vision_dim;
    const float *audio_mean, *audio_std;     /* (audio_dim) */
    const float *vision_mean, *vision_std;   /* (vision_dim) */
} selfmm_norm;

/* The statistics a dataset was built with (selfmm_build_options.normalize; stored
 * in its .npz as norm/{audio,vision}_{mean,std}.npy and read back exactly). The
 * arrays belong to the dataset. SELFMM_ERR_MISSING when it has none. */
SELFMM_API selfmm_status selfmm_dataset_norm(selfmm_dataset *data, selfmm_norm *out);

/* One clip's features from a file: a NumPy .npy of shape (T, D), float32 or
 * float64 (either byte order, C or Fortran order), or a numeric CSV with one row of
 * D comma-separated values per time step (told apart by the .npy magic). CSV: RFC
 * 4180 quoting, blank lines skipped, C-locale numbers; the first row is a header
 * when none of its cells is a number (all must be numbers otherwise). Refused, with
 * a message naming the file and the line and column (CSV) or step and feature
 * (.npy): no time step or no feature (SELFMM_ERR_DATA), ragged rows or another
 * shape (SELFMM_ERR_SHAPE), text or empty cells (SELFMM_ERR_PARSE), NaN, infinities
 * and float64 values beyond float32 (SELFMM_ERR_DATA, the first and the count),
 * other dtypes (SELFMM_ERR_UNSUPPORTED). *data (T * D floats, row-major) is freed
 * with selfmm_features_free. Thread-safe. */
SELFMM_API selfmm_status selfmm_features_load(const char *path, float **data, int *steps,
                                              int *dim, selfmm_error *err);
SELFMM_API void selfmm_features_free(float *data);

/* How selfmm_dataset_build reads the user's files. Fill with
 * selfmm_build_options_default(); new fields are only ever appended. */
typedef struct selfmm_build_options {
    const char *labels;            /* MMSA's label.csv (required) */
    const char *audio_dir;         /* <audio_dir>/<video_id>/<clip_id>.npy|.csv (required) */
    const char *vision_dir;        /* the same for vision (required) */
    selfmm_tokenizer *tokenizer;   /* turns text into text_bert (required; used, not kept) */
    int max_len;                   /* padded text length L >= 2, [CLS] and [SEP] included;
                                      0 = auto: int(mean + 3 std) of the texts' token counts
                                      + 2 over all rows (MMSA-FET's rule) */
    int max_positions;             /* cap for L (BERT's max_position_embeddings), 0 = none;
                                      an explicit max_len above it is SELFMM_ERR_RANGE, an
                                      auto one is lowered to it */
    int audio_len;                 /* padded audio length T_a >= 1; 0 = auto as above */
    int vision_len;                /* padded vision length T_v >= 1; 0 = auto */
    int normalize;                 /* bool: standardise features with the training split's
                                      statistics (selfmm_norm), kept in the dataset */
    int max_problems;              /* problems listed in the report (then a count); 0 = 50 */
} selfmm_build_options;

SELFMM_API void selfmm_build_options_default(selfmm_build_options *opt);

/* Build a dataset from label.csv (columns found by name: video_id, clip_id, text,
 * label, mode required; label_T, label_A, label_V and annotation optional, a
 * label_X column empty on every row counts as absent; other columns are ignored)
 * and the per-clip feature files. The CSV is RFC 4180 (quotes, commas, quotes and
 * line breaks inside quoted fields, a UTF-8 BOM, CRLF or LF); blank lines are
 * skipped; spaces around ids, modes, labels and header names are ignored. mode is
 * train, valid or test (MMSA-FET's values; rows keep the file's order within a
 * split); ids become "video_id$_$clip_id". Texts are encoded as
 * selfmm_tokenizer_encode does; sequences longer than the padded length are cut,
 * shorter ones padded with zeros at the end, and the lengths recorded (at most the
 * padded length).
 *
 * Every row is checked before anything is built, and every problem goes to one
 * report: bad CSV records or field counts, empty or unsafe ids, duplicate ids,
 * unknown modes, empty text, missing, non-numeric or non-finite labels, missing,
 * ambiguous (.npy and .csv) or unreadable feature files, feature widths that
 * differ from the other clips', and empty splits. Each line says "<label.csv>:<line>:"
 * and the problem (naming the feature file and its line/step when it is the
 * culprit); after max_problems lines a count of the rest follows. With any problem
 * the result is SELFMM_ERR_DATA (err names the count and the first problem) and
 * no dataset is made. Other failures (label.csv missing or without the required
 * columns, NOMEM) are reported in err only.
 *
 * report may be NULL; otherwise *report receives the listing of problems, or on
 * success a summary (rows per split, the lengths chosen and how many sequences
 * were cut, widths, unimodal labels, normalisation); it is NULL when a failure has
 * no listing. Free it with selfmm_free_string. The features of all clips are held
 * in memory while building (about twice the padded dataset at the peak). */
SELFMM_API selfmm_status selfmm_dataset_build(const selfmm_build_options *opt, selfmm_dataset **out,
                                              char **report, selfmm_error *err);

/* Record in the model how its training data was prepared, so that raw inputs can
 * later be prepared the same way: the train split's padded lengths (model metadata
 * "input.text_len", "input.audio_len", "input.vision_len") and the dataset's
 * normalisation (as selfmm_model_set_norm; removed when the dataset has none).
 * Saved with the model. selfmm_fit calls it, so a model trained on normalised data
 * normalises what selfmm_model_predict_one gets. SELFMM_ERR_SHAPE when the
 * dataset's feature widths differ from the model's. */
SELFMM_API selfmm_status selfmm_model_adopt_dataset(selfmm_model *model, const selfmm_dataset *data);

/* Keep normalisation statistics in the model (metadata "norm.audio.mean",
 * "norm.audio.std", "norm.vision.mean", "norm.vision.std": JSON arrays of float32
 * values printed with 9 significant digits, which read back to the same bits);
 * norm == NULL removes them. Widths must equal the model's audio_dim / video_dim
 * (SELFMM_ERR_SHAPE); means finite, stds finite and > 0 (SELFMM_ERR_DATA). */
SELFMM_API selfmm_status selfmm_model_set_norm(selfmm_model *model, const selfmm_norm *norm);
/* Copy the model's statistics into caller arrays of audio_dim / video_dim floats.
 * SELFMM_ERR_MISSING when the model has none, SELFMM_ERR_FORMAT when the stored
 * strings are damaged. */
SELFMM_API selfmm_status selfmm_model_get_norm(selfmm_model *model, float *audio_mean,
                                               float *audio_std, float *vision_mean,
                                               float *vision_std);

/* The outputs M, T, A, V (out[0..3]) of one new sample in evaluation mode: text
 * (UTF-8, NUL-terminated) through the model's tokenizer (selfmm_model_set_tokenizer;
 * SELFMM_ERR_MISSING without one) at the training data's text length
 * ("input.text_len", else max_position_embeddings), audio (audio_steps, audio_dim)
 * and vision (vision_steps, vision_dim) row-major features cut to the training
 * data's padded lengths when the model records them, then standardised with the
 * model's statistics when it has them. Exactly what selfmm_model_forward gives for
 * that sample in a dataset built from the same files. Errors: SELFMM_ERR_SHAPE
 * when a width differs from the model's (naming both), SELFMM_ERR_DATA for empty
 * text, fewer than one step or a non-finite value (naming step and feature),
 * SELFMM_ERR_PARSE for text that is not UTF-8. The
 * tokenizer is rebuilt from the model's metadata on each call (milliseconds for a
 * 30k vocabulary). Failures are reported on the model (selfmm_model_errmsg). */
SELFMM_API selfmm_status selfmm_model_predict_one(selfmm_model *model, const char *text,
                                                  const float *audio, int audio_steps,
                                                  int audio_dim, const float *vision,
                                                  int vision_steps, int vision_dim, float out[4]);

/* Keep a copy of the tokenizer (vocabulary and settings) in the model, saved with it
 * in the native model file's metadata (keys "tokenizer.*"); tok == NULL removes it.
 * SELFMM_ERR_SHAPE when the vocabulary size differs from the model's vocab_size. */
SELFMM_API selfmm_status selfmm_model_set_tokenizer(selfmm_model *model,
                                                    const selfmm_tokenizer *tok);
/* A new tokenizer rebuilt from the model's copy (free it with selfmm_tokenizer_free).
 * SELFMM_ERR_MISSING when the model has none; SELFMM_ERR_FORMAT when the stored
 * copy is damaged. The model is only read. */
SELFMM_API selfmm_status selfmm_model_get_tokenizer(const selfmm_model *model, selfmm_tokenizer **out,
                                                    selfmm_error *err);

/* ------------------------------------------------------------------------- */
/* Benchmarking (selfmm-cli bench)                                           */
/* ------------------------------------------------------------------------- */
/* *gflops = the GFLOP/s of one GEMM (row-major, no transposes) of m x k times k x n
 * in that precision, the median of reps timed runs after one untimed run, with the
 * library's thread setting: the yardstick selfmm-cli bench compares BERT's rate
 * with. FP32 is cblas_sgemm; BF16 a oneDNN matmul with bf16 inputs and a float32
 * output, SELFMM_ERR_UNSUPPORTED where selfmm_precision_check refuses bf16. Sizes
 * must be >= 1 and reps in [1, 10000] (SELFMM_ERR_RANGE); SELFMM_ERR_NOMEM when the
 * three matrices cannot be allocated. */
SELFMM_API selfmm_status selfmm_bench_gemm(selfmm_precision precision, int m, int n, int k, int reps,
                                           double *gflops, selfmm_error *err);

#ifdef __cplusplus
}
#endif
#endif /* SELFMM_H */
