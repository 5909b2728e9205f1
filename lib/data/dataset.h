/* dataset.h -- the selfmm_dataset handle: every split of an MMSA dataset converted
 * to float32 / int32 (docs/MODEL.md §6), plus what `selfmm-cli info` reports about the
 * source arrays.
 *
 * Loading is split in two: a format reader (dataset_pickle.c, dataset_npz.c) finds
 * each field of each split and hands over an sm_array_src (dtype, shape and a byte
 * stream); dataset_load.c validates shapes and converts array by array
 * (dataset_convert.c), so that no format ever holds more than one array's bytes
 * beyond the converted result. */
#ifndef SM_DATA_DATASET_H
#define SM_DATA_DATASET_H

#include "io/mapped_file.h"
#include "io/pickle.h"

#include <zip.h>

#define SM_MAX_FIELDS 64

/* The fields of docs/MODEL.md §6.1 that libselfmm reads, in the order it reads them; those
 * up to SM_F_LABELS are required. */
typedef enum sm_field {
    SM_F_TEXT_BERT, SM_F_AUDIO, SM_F_VISION, SM_F_AUDIO_LENGTHS, SM_F_VISION_LENGTHS,
    SM_F_LABELS, SM_F_LABELS_T, SM_F_LABELS_A, SM_F_LABELS_V, SM_F_CLASS_LABELS,
    SM_F_ID, SM_F_RAW_TEXT, SM_F_ANNOTATIONS,
    SM_F_COUNT
} sm_field;

/* The key of a field in the pickle / npz ("text_bert", "audio_lengths", ...). */
const char *sm_field_key(sm_field f);
extern const char *const sm_split_names[3];

/* Where one array's bytes come from. */
typedef enum sm_src_kind {
    SM_SRC_BYTES,    /* bytes in memory (a pickle's bytes, possibly latin-1 text) */
    SM_SRC_ZIP,      /* a libzip member stream (npz) */
    SM_SRC_LIST,     /* a Python list of numbers or str */
    SM_SRC_OBJECTS,  /* a NumPy object array: a list of str */
    SM_SRC_CSTRINGS  /* a caller's array of NUL-terminated UTF-8 strings (selfmm_dataset_create) */
} sm_src_kind;

typedef struct sm_array_src {
    char name[64];             /* "train/audio" */
    sm_src_kind kind;
    sm_dtype dtype;            /* element type (list sources: SM_DT_OBJECT) */
    int itemsize;              /* bytes per element (unicode: 4 * chars) */
    int swap;                  /* big-endian data */
    int ndim;
    int64_t shape[SM_PICKLE_MAX_DIMS];
    /* SM_SRC_BYTES */
    sm_pbytes bytes;
    size_t pos;                /* read position in bytes.p */
    const sm_mapped_file *mf;  /* to drop converted pages (may be NULL) */
    /* SM_SRC_ZIP */
    zip_file_t *zf;
    uint64_t remaining;        /* bytes of element data left in the member */
    /* SM_SRC_LIST / SM_SRC_OBJECTS */
    const sm_pv *list;
    /* SM_SRC_CSTRINGS */
    const char *const *cstr;
} sm_array_src;

/* What info reports about one source array. */
typedef struct sm_field_info {
    char name[64];             /* "train/audio" */
    char dtype[24];            /* "float32", "<U23", "list", "object" */
    int ndim;
    int64_t shape[SM_PICKLE_MAX_DIMS];
    int64_t nan, neg_inf, pos_inf; /* counted in float features */
    int64_t out_of_range;      /* lengths outside [1, T] */
    int has_stats;             /* lengths and labels: statistics of the values as read */
    double min, max, mean, std;
    int64_t negative, zero, positive;
} sm_field_info;

typedef struct sm_split_data {
    int n, text_len, audio_len, audio_dim, vision_len, vision_dim;
    int32_t *text_bert;        /* (n, 3, L) */
    float *audio;              /* (n, Ta, Da); NULL when loaded for info only */
    float *vision;             /* (n, Tv, Dv); idem */
    int32_t *audio_lengths;    /* (n) */
    int32_t *vision_lengths;   /* (n) */
    float *labels;             /* (n) regression_labels */
    float *labels_tav[3];      /* (n) each, or NULL: SIMS human T/A/V labels */
    float *class_labels;       /* (n) or NULL */
    char **ids;                /* (n) or NULL; one block: pointers then text */
    char **raw_text;
    char **annotations;
} sm_split_data;

struct selfmm_dataset {
    selfmm_error err;
    char format[32];           /* "MMSA pickle (protocol 4)", "npz" */
    int has_config;            /* the pickle had a `config` entry (ignored) */
    sm_split_data split[3];
    /* Feature standardisation applied when the dataset was built (data/norm.h), kept in
     * a .npz as norm/<audio|vision>_<mean|std>.npy; NULL when there is none.
     * [0] audio (audio_dim floats), [1] vision (vision_dim). */
    float *norm_mean[2], *norm_std[2];
    sm_field_info field[SM_MAX_FIELDS];
    int n_field;
    /* selfmm_dataset_batch's buffers */
    int32_t *b_ids, *b_mask, *b_seg, *b_alen, *b_vlen;
    float *b_audio, *b_vision, *b_labels;
    size_t b_cap[8];           /* elements allocated in each, in that order */
};

/* A format reader: open(split, field) fills src or sets *found = 0. */
typedef struct sm_dataset_reader {
    void *ctx;
    selfmm_status (*open)(void *ctx, int split, sm_field f, sm_array_src *src, int *found,
                          selfmm_error *err);
    void (*close)(void *ctx, sm_array_src *src);
    /* Describe a field that is not converted (the unused `text`) for info. */
    void (*describe_extra)(void *ctx, int split, selfmm_dataset *ds);
} sm_dataset_reader;

typedef struct sm_load_opts {
    int nan_to_zero;
    int clamp_lengths;
    int info_only;             /* convert audio/vision for statistics only, keep nothing,
                                  and never fail on NaN or bad lengths */
} sm_load_opts;

/* Fill ds from a reader (all three splits). */
selfmm_status sm_dataset_fill(selfmm_dataset *ds, const sm_dataset_reader *r,
                              const sm_load_opts *opts, const char *path, selfmm_error *err);
/* Open a dataset file (pickle or npz by magic) into a new handle. */
selfmm_status sm_dataset_open(const char *path, const sm_load_opts *opts, selfmm_dataset **out,
                              selfmm_error *err);
/* The same from a buffer (fuzzing); path names it in messages. */
selfmm_status sm_dataset_open_mem(const uint8_t *data, size_t size, const char *path,
                                  const sm_load_opts *opts, selfmm_dataset **out,
                                  selfmm_error *err);

/* Format readers (dataset_pickle.c, dataset_npz.c). */
selfmm_status sm_dataset_read_pickle(selfmm_dataset *ds, const uint8_t *data, size_t size,
                                     const sm_mapped_file *mf, const char *path,
                                     const sm_load_opts *opts, selfmm_error *err);
/* data, size: the whole file (its zip directory is checked there); fd >= 0: the
 * members are streamed from that open file (the caller keeps and closes it),
 * otherwise from data. */
selfmm_status sm_dataset_read_npz(selfmm_dataset *ds, const uint8_t *data, size_t size, int fd,
                                  const char *path, const sm_load_opts *opts, selfmm_error *err);

/* ---- array conversion (dataset_convert.c) ---- */

/* What every format reader checks of an array it found (src->ndim, shape and,
 * for element data, itemsize set): the element count fits (*count), the order is
 * C (Fortran order only when at most one dimension exceeds 1: the same bytes), and
 * unless the elements are objects, exactly `bytes` bytes of data hold them. */
selfmm_status sm_src_layout(const sm_array_src *src, int fortran, uint64_t bytes, uint64_t *count,
                            selfmm_error *err);

/* Read the next n bytes of a byte source (bytes or zip) into dst. */
selfmm_status sm_src_read(sm_array_src *src, void *dst, size_t n, selfmm_error *err);

/* Statistics of a float conversion. first_* is a flat element index or -1. */
typedef struct sm_float_stats {
    int64_t nan, neg_inf, pos_inf;
    int64_t first_nan, first_neg_inf, first_pos_inf;
} sm_float_stats;

/* count elements to float32 into dst (NULL: statistics only). NaN, -inf and +inf
 * are written as 0 and counted; the caller decides which of them are an error
 * (audio's -inf is the reference's "set to 0"). */
selfmm_status sm_src_to_f32(sm_array_src *src, float *dst, int64_t count, sm_float_stats *stats,
                            selfmm_error *err);
/* count elements to int32; each must be an integer in int32 range (the message
 * names the element's flat index). */
selfmm_status sm_src_to_i32(sm_array_src *src, int32_t *dst, int64_t count, selfmm_error *err);
/* count strings into one malloc'd block (pointer array, then the UTF-8 text). */
selfmm_status sm_src_to_strings(sm_array_src *src, int64_t count, char ***out, selfmm_error *err);

#endif
