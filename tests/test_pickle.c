/* test_pickle.c -- the safe pickle VM on values written by Python's pickler and on
 * hand-assembled byte strings: every opcode family, the bounds (sizes, marks,
 * memo, stack) and the refusals. */
#include "harness.h"

#include "data/dataset.h"
#include "io/pickle.h"
#include "support/testfile.h"

#define FX "tests/fixtures/io/"

/* The input of the last run: values point into it, so it lives until the next run. */
static uint8_t *g_input;

/* Run bytes; returns the status, the root through *root, the VM through *vm. */
static selfmm_status run(const void *bytes, size_t n, int torch, sm_pickle **vm, sm_pv **root,
                         selfmm_error *err)
{
    sm_pickle_opts o = {torch};
    memset(err, 0, sizeof *err);
    /* an exact-size copy, so that ASan sees any read past the end */
    uint8_t *copy = malloc(n ? n : 1);
    memcpy(copy, bytes, n);
    *root = NULL;
    free(g_input);
    g_input = copy;
    return sm_pickle_run(copy, n, &o, "t", vm, root, NULL, err);
}

#define RUN_BYTES(lit, torch, vm, root, err) run(lit, sizeof(lit) - 1, torch, vm, root, err)

static void expect_error(const char *bytes, size_t n, int torch, selfmm_status want, const char *frag)
{
    sm_pickle *vm;
    sm_pv *root;
    selfmm_error err;
    selfmm_status st = run(bytes, n, torch, &vm, &root, &err);
    CHECK_MSG(st == want, "got %s (%s), expected %s", selfmm_strerror(st), err.message,
              selfmm_strerror(want));
    CHECK_CONTAINS(err.message, frag);
    sm_pickle_free(vm);
}
#define EXPECT_ERROR(lit, torch, want, frag) expect_error(lit, sizeof(lit) - 1, torch, want, frag)

TEST(python_values)
{
    for (int proto = 2; proto <= 5; proto++) {
        if (proto == 3) continue;
        char path[128];
        snprintf(path, sizeof path, FX "vm_values_p%d.pkl", proto);
        size_t n;
        uint8_t *data = tf_read(path, &n);
        REQUIRE(data);
        sm_pickle *vm;
        sm_pv *root;
        selfmm_error err;
        REQUIRE_OK(run(data, n, 0, &vm, &root, &err), err.message);
        REQUIRE(root->kind == SM_PV_DICT);
        const sm_pv *v = sm_pv_dict_get(root, "f");
        CHECK(v && v->kind == SM_PV_FLOAT && v->u.f == 1.5);
        v = sm_pv_dict_get(root, "i");
        CHECK(v && v->kind == SM_PV_INT && v->u.i == -7);
        v = sm_pv_dict_get(root, "b");
        CHECK(v && v->kind == SM_PV_BOOL && v->u.b == 1);
        v = sm_pv_dict_get(root, "f32");
        CHECK(v && v->kind == SM_PV_FLOAT && v->u.f == 0.25);
        v = sm_pv_dict_get(root, "big"); /* 2**70 */
        CHECK(v && v->kind == SM_PV_BIGINT && v->u.big.len == 9 && v->u.big.p[8] == 0x40);
        v = sm_pv_dict_get(root, "neg");
        CHECK(v && v->kind == SM_PV_INT && v->u.i == -(1LL << 40));
        CHECK(sm_pv_str_eq(sm_pv_dict_get(root, "s"), "h\xc3\xa9llo"));
        v = sm_pv_dict_get(root, "by");
        size_t bn = 0;
        CHECK(v && v->kind == SM_PV_BYTES && sm_pbytes_size(&v->u.bytes, &bn, NULL) == SELFMM_OK && bn == 2);
        v = sm_pv_dict_get(root, "t");
        CHECK(v && v->kind == SM_PV_TUPLE && v->u.seq.n == 3 && v->u.seq.items[0]->u.i == 1 &&
              v->u.seq.items[1]->kind == SM_PV_NONE && v->u.seq.items[2]->kind == SM_PV_BOOL);
        v = sm_pv_dict_get(root, "l");
        CHECK(v && v->kind == SM_PV_LIST && v->u.seq.n == 2 && v->u.seq.items[1]->u.f == -2.5);
        v = sm_pv_dict_get(root, "od");
        CHECK(v && v->kind == SM_PV_DICT && sm_pv_dict_get(v, "a") && sm_pv_dict_get(v, "a")->u.i == 1);
        sm_pickle_free(vm);
        free(data);
    }
}

TEST(integers)
{
    sm_pickle *vm;
    sm_pv *root;
    selfmm_error err;
    /* (BININT -2, BININT1 255, BININT2 65535, LONG1 0 bytes, LONG1 0xff = -1,
     *  LONG1 9 bytes of sign extension = -1, LONG4 2 bytes 0x0100) */
    REQUIRE_OK(RUN_BYTES("\x80\x02(J\xfe\xff\xff\xffK\xffM\xff\xff\x8a\x00\x8a\x01\xff"
                         "\x8a\x09\xff\xff\xff\xff\xff\xff\xff\xff\xff\x8b\x02\x00\x00\x00\x00\x01t.",
                         0, &vm, &root, &err), err.message);
    REQUIRE(root->kind == SM_PV_TUPLE && root->u.seq.n == 7);
    static const int64_t want[7] = {-2, 255, 65535, 0, -1, -1, 256};
    for (int i = 0; i < 7; i++) {
        CHECK_INT(root->u.seq.items[i]->kind, SM_PV_INT);
        CHECK_INT(root->u.seq.items[i]->u.i, want[i]);
    }
    sm_pickle_free(vm);
    /* BINFLOAT is big-endian */
    REQUIRE_OK(RUN_BYTES("\x80\x02G\x3f\xf8\x00\x00\x00\x00\x00\x00.", 0, &vm, &root, &err), err.message);
    CHECK(root->kind == SM_PV_FLOAT && root->u.f == 1.5);
    sm_pickle_free(vm);
}

TEST(containers_memo_and_cycles)
{
    sm_pickle *vm;
    sm_pv *root;
    selfmm_error err;
    /* a list that contains itself: ] MEMOIZE BINGET 0 APPEND */
    REQUIRE_OK(RUN_BYTES("\x80\x04]\x94h\x00" "a.", 0, &vm, &root, &err), err.message);
    CHECK(root->kind == SM_PV_LIST && root->u.seq.n == 1 && root->u.seq.items[0] == root);
    sm_pickle_free(vm);
    /* DICT / LIST from a MARK, DUP, POP, POP_MARK, SETITEM replacing a key */
    REQUIRE_OK(RUN_BYTES("\x80\x02(X\x01\x00\x00\x00" "aK\x01X\x01\x00\x00\x00" "bK\x02" "d"
                         "X\x01\x00\x00\x00" "aK\x03s2\x30(NN1.", 0, &vm, &root, &err), err.message);
    CHECK(root->kind == SM_PV_DICT && root->u.dict.n == 3); /* "a" twice: the last one counts */
    CHECK(sm_pv_dict_get(root, "a")->u.i == 3 && sm_pv_dict_get(root, "b")->u.i == 2);
    sm_pickle_free(vm);
    /* LONG_BINPUT / LONG_BINGET */
    REQUIRE_OK(RUN_BYTES("\x80\x02K\x07r\x00\x00\x00\x00j\x00\x00\x00\x00\x86.", 0, &vm, &root, &err),
               err.message);
    CHECK(root->kind == SM_PV_TUPLE && root->u.seq.n == 2 && root->u.seq.items[1]->u.i == 7);
    sm_pickle_free(vm);
}

/* Dicts and lists of many items stay linear (a quadratic insert would make this
 * take minutes). */
TEST(many_keys)
{
    enum { N = 200000 };
    size_t cap = 8 + (size_t)N * 10, n = 0;
    char *b = malloc(cap);
    memcpy(b + n, "\x80\x04}(", 4), n += 4;
    for (int i = 0; i < N; i++) {
        b[n++] = (char)0x8c, b[n++] = 7;
        n += (size_t)snprintf(b + n, cap - n, "k%06d", i);
        b[n++] = 'N';
    }
    b[n++] = 'u', b[n++] = '.';
    sm_pickle *vm;
    sm_pv *root;
    selfmm_error err;
    REQUIRE_OK(run(b, n, 0, &vm, &root, &err), err.message);
    CHECK(root->kind == SM_PV_DICT && root->u.dict.n == N);
    CHECK(sm_pv_dict_get(root, "k199999") != NULL && sm_pv_dict_get(root, "k200000") == NULL);
    sm_pickle_free(vm);
    free(b);
}

TEST(bounds)
{
    /* declared sizes beyond the input are errors, not allocations */
    EXPECT_ERROR("\x80\x04\x8e\xff\xff\xff\xff\xff\xff\xff\x3f", 0, SELFMM_ERR_FORMAT, "needs 4611686018427387903 bytes");
    EXPECT_ERROR("\x80\x04\x8d\x00\x00\x00\x00\x00\x00\x00\x80", 0, SELFMM_ERR_FORMAT, "truncated");
    EXPECT_ERROR("\x80\x04\x96\x00\x00\x00\x00\x00\x00\x01\x00", 0, SELFMM_ERR_FORMAT, "truncated");
    EXPECT_ERROR("\x80\x02X\xff\xff\xff\xff", 0, SELFMM_ERR_FORMAT, "needs 4294967295 bytes");
    EXPECT_ERROR("\x80\x02\x8b\xff\xff\xff\xff", 0, SELFMM_ERR_FORMAT, "truncated");
    EXPECT_ERROR("\x80\x04\x95\x00\x00\x00\x00\x00\x00\x10\x00N.", 0, SELFMM_ERR_FORMAT, "truncated");
    /* memo indices must be given in order and exist */
    EXPECT_ERROR("\x80\x02Nq\x05.", 0, SELFMM_ERR_FORMAT, "memo index 5 skips ahead");
    EXPECT_ERROR("\x80\x02h\x00.", 0, SELFMM_ERR_FORMAT, "memo index 0 not set");
    EXPECT_ERROR("\x80\x02Nr\x00\x00\x00\x80.", 0, SELFMM_ERR_FORMAT, "skips ahead");
    /* stack discipline */
    EXPECT_ERROR("\x80\x02.", 0, SELFMM_ERR_FORMAT, "stack underflow");
    EXPECT_ERROR("\x80\x02(.", 0, SELFMM_ERR_FORMAT, "stack underflow");
    EXPECT_ERROR("\x80\x02N(a.", 0, SELFMM_ERR_FORMAT, "stack underflow");
    EXPECT_ERROR("\x80\x02t.", 0, SELFMM_ERR_FORMAT, "no MARK");
    EXPECT_ERROR("\x80\x02(Ne.", 0, SELFMM_ERR_FORMAT, "nothing below the MARK");
    EXPECT_ERROR("\x80\x02K\x01(Ne.", 0, SELFMM_ERR_TYPE, "APPENDS on a int");
    EXPECT_ERROR("\x80\x02}(Nu.", 0, SELFMM_ERR_FORMAT, "odd number");
    EXPECT_ERROR("\x80\x02\x85.", 0, SELFMM_ERR_FORMAT, "stack underflow");
    /* nesting depth */
    char marks[400];
    memcpy(marks, "\x80\x02", 2);
    memset(marks + 2, '(', sizeof marks - 2);
    expect_error(marks, sizeof marks, 0, SELFMM_ERR_RANGE, "MARKs nested deeper than 256");
    /* stack depth: 2^22 + 1 pushes */
    size_t n = 2 + (1u << 22) + 2;
    char *nones = malloc(n);
    memcpy(nones, "\x80\x02", 2);
    memset(nones + 2, 'N', n - 2);
    expect_error(nones, n, 0, SELFMM_ERR_RANGE, "stack deeper than");
    free(nones);
}

TEST(protocols_and_opcodes)
{
    EXPECT_ERROR("(lp0\n.", 0, SELFMM_ERR_FORMAT, "no PROTO opcode");
    EXPECT_ERROR("\x80\x06N.", 0, SELFMM_ERR_UNSUPPORTED, "protocol 6");
    EXPECT_ERROR("\x80\x01N.", 0, SELFMM_ERR_UNSUPPORTED, "protocol 1");
    EXPECT_ERROR("\x80\x02I1\n.", 0, SELFMM_ERR_UNSUPPORTED, "opcode 0x49 'I'");
    EXPECT_ERROR("\x80\x02S'a'\n.", 0, SELFMM_ERR_UNSUPPORTED, "opcode 0x53 'S'");
    EXPECT_ERROR("\x80\x02\x82\x01.", 0, SELFMM_ERR_UNSUPPORTED, "opcode 0x82"); /* EXT1 */
    EXPECT_ERROR("\x80\x05\x97.", 0, SELFMM_ERR_UNSUPPORTED, "out-of-band buffer");
    EXPECT_ERROR("\x80\x02", 0, SELFMM_ERR_FORMAT, "truncated");
    /* READONLY_BUFFER leaves bytes alone; GLOBAL needs two lines */
    sm_pickle *vm;
    sm_pv *root;
    selfmm_error err;
    REQUIRE_OK(RUN_BYTES("\x80\x05\x96\x02\x00\x00\x00\x00\x00\x00\x00" "ab\x98.", 0, &vm, &root, &err), err.message);
    CHECK(root->kind == SM_PV_BYTES && root->u.bytes.len == 2);
    sm_pickle_free(vm);
    EXPECT_ERROR("\x80\x02" "cnumpy\ndtype", 0, SELFMM_ERR_FORMAT, "GLOBAL without two");
}

TEST(globals)
{
    EXPECT_ERROR("\x80\x02" "cos\nsystem\n.", 0, SELFMM_ERR_UNSUPPORTED, "refusing global 'os.system'");
    EXPECT_ERROR("\x80\x04\x8c\x08" "builtins\x8c\x04" "eval\x93.", 0, SELFMM_ERR_UNSUPPORTED,
                 "refusing global 'builtins.eval'");
    EXPECT_ERROR("\x80\x04\x8c\x08" "builtins\x8c\x07getattr\x93.", 1, SELFMM_ERR_UNSUPPORTED,
                 "'builtins.getattr'");
    EXPECT_ERROR("\x80\x02" "cnumpy\nload\n.", 0, SELFMM_ERR_UNSUPPORTED, "'numpy.load'");
    EXPECT_ERROR("\x80\x02" "ctorch\nload\n.", 1, SELFMM_ERR_UNSUPPORTED, "'torch.load'");
    EXPECT_ERROR("\x80\x02" "ctorch\nFloatStorage\n.", 0, SELFMM_ERR_UNSUPPORTED, "'torch.FloatStorage'");
    /* non-printable names are escaped in the message */
    EXPECT_ERROR("\x80\x02\x63o\x01s\nsystem\n.", 0, SELFMM_ERR_UNSUPPORTED, "'o\\x01s.system'");
    /* an allowed global that is not callable, and calls with bad arguments */
    EXPECT_ERROR("\x80\x02\x63numpy\nndarray\n)R.", 0, SELFMM_ERR_UNSUPPORTED, "cannot be called");
    EXPECT_ERROR("\x80\x02\x63numpy\ndtype\nX\x03\x00\x00\x00" "c16\x85R.", 0, SELFMM_ERR_UNSUPPORTED,
                 "numpy.dtype \"c16\"");
    EXPECT_ERROR("\x80\x02\x63numpy\ndtype\nX\x01\x00\x00\x00<\x85R.", 0, SELFMM_ERR_UNSUPPORTED, "numpy.dtype");
    EXPECT_ERROR("\x80\x02\x63_codecs\nencode\nX\x01\x00\x00\x00" "aX\x04\x00\x00\x00utf8\x86R.", 0,
                 SELFMM_ERR_UNSUPPORTED, "other than latin1");
    EXPECT_ERROR("\x80\x02\x63\x63ollections\nOrderedDict\nK\x01\x85R.", 0, SELFMM_ERR_FORMAT,
                 "1 arguments, expected 0");
    EXPECT_ERROR("\x80\x02K\x01)R.", 0, SELFMM_ERR_TYPE, "not callable");
    EXPECT_ERROR("\x80\x02K\x01}b.", 0, SELFMM_ERR_UNSUPPORTED, "BUILD of a int");
}

/* _reconstruct + BUILD pieces, written like NumPy does. */
#define RECON "\x63numpy.core.multiarray\n_reconstruct\n\x63numpy\nndarray\nK\x00\x85\x43\x01\x62\x87R"
#define DTYPE(s) "\x63numpy\ndtype\n\x8c\x02" s "\x89\x88\x87R(K\x03\x8c\x01<NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb"

TEST(numpy_arrays)
{
    sm_pickle *vm;
    sm_pv *root;
    selfmm_error err;
    /* a (2,) float32 array */
    REQUIRE_OK(RUN_BYTES("\x80\x04" RECON "(K\x01K\x02\x85" DTYPE("f4") "\x89\x43\x08"
                         "\x00\x00\x80\x3f\x00\x00\x00\x40tb.", 0, &vm, &root, &err), err.message);
    REQUIRE(root->kind == SM_PV_NDARRAY);
    CHECK(root->u.arr->built && root->u.arr->ndim == 1 && root->u.arr->shape[0] == 2);
    CHECK(root->u.arr->dtype.dt == SM_DT_F32 && root->u.arr->data.len == 8);
    sm_pickle_free(vm);
    /* an empty array in protocol 2: its data is __builtin__.bytes() */
    REQUIRE_OK(RUN_BYTES("\x80\x02" RECON "(K\x01K\x02K\x00\x86" DTYPE("f4") "\x89"
                         "c__builtin__\nbytes\n)Rtb.", 0, &vm, &root, &err), err.message);
    REQUIRE(root->kind == SM_PV_NDARRAY);
    CHECK(root->u.arr->built && root->u.arr->ndim == 2 && root->u.arr->shape[1] == 0);
    CHECK(root->u.arr->data.len == 0);
    sm_pickle_free(vm);
    EXPECT_ERROR("\x80\x02" "c__builtin__\nbytes\nK\x05\x85R.", 0, SELFMM_ERR_FORMAT,
                 "bytes: 1 arguments, expected 0 to 0");
    /* negative dimension */
    EXPECT_ERROR("\x80\x04" RECON "(K\x01J\xff\xff\xff\xff\x85" DTYPE("f4") "\x89\x43\x00tb.", 0,
                 SELFMM_ERR_SHAPE, "numpy array shape[0] = -1 is negative");
    /* data of the wrong type, state of the wrong arity, state set twice */
    EXPECT_ERROR("\x80\x04" RECON "(K\x01K\x02\x85" DTYPE("f4") "\x89K\x00tb.", 0, SELFMM_ERR_TYPE,
                 "data is a int");
    EXPECT_ERROR("\x80\x04" RECON "(K\x01tb.", 0, SELFMM_ERR_FORMAT, "not the 5-tuple");
    EXPECT_ERROR("\x80\x04" RECON "(K\x01K\x00\x85" DTYPE("f4") "\x89\x43\x00t\x94" "bh\x00" "b.", 0,
                 SELFMM_ERR_FORMAT, "state set twice");
    /* too many dimensions */
    EXPECT_ERROR("\x80\x04" RECON "(K\x01(K\x01K\x01K\x01K\x01K\x01K\x01K\x01K\x01K\x01t" DTYPE("f4")
                 "\x89\x43\x00tb.", 0, SELFMM_ERR_UNSUPPORTED, "9 dimensions");
    /* structured dtype state */
    EXPECT_ERROR("\x80\x04\x63numpy\ndtype\n\x8c\x02V8\x89\x88\x87R.", 0, SELFMM_ERR_UNSUPPORTED,
                 "numpy.dtype \"V8\"");
    EXPECT_ERROR("\x80\x04\x63numpy\ndtype\n\x8c\x02" "f4\x89\x88\x87R(K\x03\x8c\x01<N)NJ\xff\xff\xff\xff"
                 "J\xff\xff\xff\xffK\x00tb.", 0, SELFMM_ERR_UNSUPPORTED, "structured");
    EXPECT_ERROR("\x80\x04\x63numpy\ndtype\n\x8c\x02" "f4\x89\x88\x87R(K\x03\x8c\x01\x00NNNJ\xff\xff\xff\xff"
                 "J\xff\xff\xff\xffK\x00tb.", 0, SELFMM_ERR_FORMAT, "bad byte order");
}

/* BINPERSID and torch's rebuild, as torch.save writes them. */
#define PERSID "(X\x07\x00\x00\x00storage\x63torch\nFloatStorage\nX\x01\x00\x00\x00" "0X\x03\x00\x00\x00" "cpuK\x06tQ"
#define REBUILD "\x63torch._utils\n_rebuild_tensor_v2\n("

TEST(torch_tensors)
{
    sm_pickle *vm;
    sm_pv *root;
    selfmm_error err;
    REQUIRE_OK(RUN_BYTES("\x80\x02" REBUILD PERSID "K\x01K\x02K\x02\x86K\x02K\x01\x86\x89"
                         "\x63\x63ollections\nOrderedDict\n)RtR.", 1, &vm, &root, &err), err.message);
    REQUIRE(root->kind == SM_PV_TENSOR);
    const sm_tensor_ref *t = root->u.tensor;
    CHECK(t->offset == 1 && t->ndim == 2 && t->size[0] == 2 && t->stride[0] == 2 && t->stride[1] == 1);
    CHECK(t->storage->u.storage->dtype == SM_DT_F32 && t->storage->u.storage->numel == 6);
    CHECK_STR(t->storage->u.storage->key, "0");
    CHECK_STR(t->storage->u.storage->location, "cpu");
    sm_pickle_free(vm);
    /* persistent ids are refused in data pickles */
    EXPECT_ERROR("\x80\x02NQ.", 0, SELFMM_ERR_UNSUPPORTED, "persistent id in a data pickle");
    EXPECT_ERROR("\x80\x02NQ.", 1, SELFMM_ERR_FORMAT, "not a ('storage', ...) tuple");
    EXPECT_ERROR("\x80\x02(X\x07\x00\x00\x00storageK\x01X\x01\x00\x00\x00" "0X\x03\x00\x00\x00" "cpuK\x06tQ.",
                 1, SELFMM_ERR_UNSUPPORTED, "not a torch storage type");
    /* negative sizes, mismatched strides */
    EXPECT_ERROR("\x80\x02" REBUILD PERSID "K\x00J\xff\xff\xff\xff\x85K\x01\x85\x89NtR.", 1,
                 SELFMM_ERR_SHAPE, "tensor size[0] = -1 is negative");
    EXPECT_ERROR("\x80\x02" REBUILD PERSID "K\x00K\x02\x85K\x01K\x01\x86\x89NtR.", 1, SELFMM_ERR_FORMAT,
                 "1 sizes but 2 strides");
}

TEST(latin1_bytes)
{
    sm_pbytes b = {(const uint8_t *)"a\xc3\xa9\xc2\x80", 5, 1};
    size_t n = 0;
    CHECK_OK(sm_pbytes_size(&b, &n, NULL), "");
    CHECK_INT(n, 3);
    sm_pbytes bad = {(const uint8_t *)"\xe4\xb8\xad", 3, 1}; /* U+4E2D is not latin-1 */
    selfmm_error err = {0};
    CHECK_STATUS(sm_pbytes_size(&bad, &n, &err), SELFMM_ERR_FORMAT);
    sm_pbytes cut = {(const uint8_t *)"\xc3", 1, 1};
    CHECK_STATUS(sm_pbytes_size(&cut, &n, &err), SELFMM_ERR_FORMAT);
}

TEST(big_endian_arrays)
{
    /* the MMSA fixture with '>f4' audio, '>f8' vision, '>i8' text_bert, '>U' ids */
    selfmm_error err = {0};
    selfmm_dataset *be = NULL, *le = NULL;
    REQUIRE_OK(selfmm_dataset_load(FX "mmsa_bigendian.pkl", NULL, &be, &err), err.message);
    REQUIRE_OK(selfmm_dataset_load(FX "mmsa_p4.pkl", NULL, &le, &err), err.message);
    for (int s = 0; s < 3; s++) {
        const sm_split_data *a = &be->split[s], *b = &le->split[s];
        CHECK(!memcmp(a->audio, b->audio, (size_t)a->n * 21 * 4));
        CHECK(!memcmp(a->vision, b->vision, (size_t)a->n * 20 * 4));
        CHECK(!memcmp(a->text_bert, b->text_bert, (size_t)a->n * 18 * 4));
        for (int i = 0; i < a->n; i++) CHECK_STR(a->ids[i], b->ids[i]);
    }
    selfmm_dataset_free(be);
    selfmm_dataset_free(le);
}

int main(void)
{
    RUN(python_values);
    RUN(integers);
    RUN(containers_memo_and_cycles);
    RUN(many_keys);
    RUN(bounds);
    RUN(protocols_and_opcodes);
    RUN(globals);
    RUN(numpy_arrays);
    RUN(torch_tensors);
    RUN(latin1_bytes);
    RUN(big_endian_arrays);
    free(g_input);
    return h_finish();
}
