/* test_tokenizer.c -- the BERT WordPiece tokenizer (lib/text) against HuggingFace.
 *
 * Expected ids come from (1) HuggingFace's documentation and its own test suite
 * (cited per case), (2) cases worked out by hand against the vocab files (each id
 * checked with `grep -nFx TOKEN vocab.txt`, id = line - 1), (3) the fixtures of
 * tools/gen_tokenizer_fixture.py: ~1450 cases from an independent Python
 * re-statement of BertTokenizer (not HF itself), and Python's character classes for
 * every code point. */
#include "harness.h"

#include "model/model.h"
#include "text/tokenizer.h"
#include "text/unicode.h"
#include "text/utf8.h"
#include "support/testfile.h"

#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#define EN "tests/fixtures/shared/bert/bert_en"
#define CN "tests/fixtures/shared/bert/bert_cn"
#define JA "tests/fixtures/shared/checkpoints/camphr_bert_2019"
#define NER "tests/fixtures/shared/checkpoints/camphr_ner_bert"
#define COLDFIRE "tests/fixtures/shared/checkpoints/coldfire_tiny_bert_safetensors"
#define HF_VOCAB "tests/fixtures/tokenizer/hf_test_vocab.txt"
#define WORDS_VOCAB "tests/fixtures/tokenizer/words_vocab.txt"

static const selfmm_tokenizer_options LOWER = {SELFMM_SWITCH_ON, SELFMM_SWITCH_AUTO, SELFMM_SWITCH_AUTO};
static const selfmm_tokenizer_options KEEP = {SELFMM_SWITCH_OFF, SELFMM_SWITCH_AUTO, SELFMM_SWITCH_AUTO};

static selfmm_tokenizer *load(const char *path, const selfmm_tokenizer_options *opt)
{
    selfmm_error e = {0};
    selfmm_tokenizer *t = NULL;
    if (selfmm_tokenizer_load(path, opt, &t, &e) != SELFMM_OK) {
        printf("# load %s: %s\n", path, e.message);
        return NULL;
    }
    return t;
}

/* Tokenize text (len bytes, or SELFMM_NUL_TERMINATED) and compare the ids with
 * want[0..n) and, when toks is not NULL, the token strings. */
static void check_ids_(const char *file, int line, selfmm_tokenizer *t, const char *text, size_t len,
                       const int32_t *want, int n, const char *const *toks)
{
    selfmm_tokens out;
    selfmm_status st = selfmm_tokenizer_tokenize(t, text, len, &out);
    if (st != SELFMM_OK) {
        h_failf(file, line, "tokenize failed: %s", selfmm_tokenizer_errmsg(t));
        return;
    }
    int same = out.n == n;
    for (int i = 0; same && i < n; i++) same = out.ids[i] == want[i];
    for (int i = 0; same && toks && i < n; i++) same = strcmp(out.tokens[i], toks[i]) == 0;
    if (!same) {
        char got[2048];
        size_t k = 0;
        for (int i = 0; i < out.n && k < sizeof got - 64; i++)
            k += (size_t)snprintf(got + k, sizeof got - k, " %s=%d", out.tokens[i], out.ids[i]);
        got[k] = '\0';
        h_failf(file, line, "\"%s\": got %d tokens:%s; expected %d", text, out.n, got, n);
    }
}
#define IDS(...) ((const int32_t[]){__VA_ARGS__}), (int)(sizeof((const int32_t[]){__VA_ARGS__}) / sizeof(int32_t))
#define TOKS(...) ((const char *const[]){__VA_ARGS__})
#define CHECK_IDS(t, text, ids) check_ids_(__FILE__, __LINE__, t, text, SELFMM_NUL_TERMINATED, ids, NULL)
#define CHECK_TOKS(t, text, ids, toks) check_ids_(__FILE__, __LINE__, t, text, SELFMM_NUL_TERMINATED, ids, toks)
#define CHECK_NONE(t, text) check_ids_(__FILE__, __LINE__, t, text, SELFMM_NUL_TERMINATED, NULL, 0, NULL)

/* ---- documented examples ------------------------------------------------------ */

TEST(hf_documented_examples)
{
    selfmm_tokenizer *t = load(EN, NULL); /* bert_en has no tokenizer_config: lower-casing */
    REQUIRE(t);
    /* transformers docs (BertModel example): bert-base-uncased, with [CLS]/[SEP]. */
    int32_t ids[8], mask[8], seg[8];
    int n = -1;
    REQUIRE_OK(selfmm_tokenizer_encode(t, "Hello, my dog is cute", SELFMM_NUL_TERMINATED, 8, ids,
                                       mask, seg, &n),
               selfmm_tokenizer_errmsg(t));
    const int32_t want[8] = {101, 7592, 1010, 2026, 3899, 2003, 10140, 102};
    for (int i = 0; i < 8; i++) {
        CHECK_INT(ids[i], want[i]);
        CHECK_INT(mask[i], 1);
        CHECK_INT(seg[i], 0);
    }
    CHECK_INT(n, 6);
    /* tokenizers docs, Encoding: "Hello, world!" -> [101, 7592, 1010, 2088, 999, 102]. */
    CHECK_TOKS(t, "Hello, world!", IDS(7592, 1010, 2088, 999), TOKS("hello", ",", "world", "!"));
    /* HF course, chapter 2 (distilbert-base-uncased-finetuned-sst-2-english, which
     * uses bert-base-uncased's vocabulary). */
    CHECK_IDS(t, "I've been waiting for a HuggingFace course my whole life.",
              IDS(1045, 1005, 2310, 2042, 3403, 2005, 1037, 17662, 12172, 2607, 2026, 2878, 2166, 1012));
    CHECK_IDS(t, "I hate this.", IDS(1045, 5223, 2023, 1012));
    /* transformers tests (test_offsets_with_special_characters, bert-base-uncased):
     * tokens a , naive [MASK] allen ##nl ##p sentence . -- ids from the vocab. */
    CHECK_TOKS(t, "A, naïve [MASK] AllenNLP sentence.",
               IDS(1037, 1010, 15743, 103, 5297, 20554, 2361, 6251, 1012),
               TOKS("a", ",", "naive", "[MASK]", "allen", "##nl", "##p", "sentence", "."));
    /* transformers tests (test_basic_tokenizer_splits_on_punctuation). */
    CHECK_TOKS(t, "a\n'll !!to?'d of, can't.",
               IDS(1037, 1005, 2222, 999, 999, 2000, 1029, 1005, 1040, 1997, 1010, 2064, 1005, 1056, 1012),
               TOKS("a", "'", "ll", "!", "!", "to", "?", "'", "d", "of", ",", "can", "'", "t", "."));
    selfmm_tokenizer_free(t);
}

/* transformers' own test vocabulary and cases (tests/models/bert/test_tokenization_bert.py). */
TEST(hf_test_suite_vocab)
{
    selfmm_tokenizer *t = load(HF_VOCAB, NULL);
    REQUIRE(t);
    CHECK_INT(selfmm_tokenizer_vocab_size(t), 15);
    /* test_full_tokenizer */
    CHECK_TOKS(t, "UNwant\u00E9d,running", IDS(9, 6, 7, 12, 10, 11),
               TOKS("un", "##want", "##ed", ",", "runn", "##ing"));
    /* test_wordpiece_tokenizer */
    CHECK_NONE(t, "");
    CHECK_IDS(t, "unwanted running", IDS(9, 6, 7, 10, 11));
    CHECK_TOKS(t, "unwantedX running", IDS(0, 10, 11), TOKS("[UNK]", "runn", "##ing"));
    /* test_clean_text: "Test", soft hyphen alone, "test" */
    CHECK_IDS(t, "Test", IDS(0));
    CHECK_NONE(t, "\u00ad");
    CHECK_IDS(t, "test", IDS(0));
    selfmm_tokenizer_free(t);
}

/* The BasicTokenizer cases of transformers' tests, through a vocabulary that holds
 * each expected word whole (tests/fixtures/tokenizer/words_vocab.txt, ids = line - 1). */
TEST(hf_basic_tokenizer_cases)
{
    const char *text = " \tHeLLo!how  \n Are yoU?  ";
    const char *text2 = " \tHäLLo!how  \n Are yoU?  ";
    selfmm_tokenizer_options o = LOWER;
    selfmm_tokenizer *t = load(WORDS_VOCAB, &o); /* lower, strip_accents default */
    REQUIRE(t);
    CHECK_TOKS(t, text, IDS(11, 6, 7, 12, 13, 10), TOKS("hello", "!", "how", "are", "you", "?"));
    CHECK_TOKS(t, "H\u00E9llo", IDS(11), TOKS("hello"));
    CHECK_TOKS(t, text2, IDS(17, 6, 7, 12, 13, 10), TOKS("hallo", "!", "how", "are", "you", "?"));
    selfmm_tokenizer_free(t);

    o.strip_accents = SELFMM_SWITCH_OFF; /* lower, strip_accents=False */
    REQUIRE((t = load(WORDS_VOCAB, &o)));
    CHECK_TOKS(t, text2, IDS(16, 6, 7, 12, 13, 10), TOKS("hällo", "!", "how", "are", "you", "?"));
    CHECK_TOKS(t, "H\u00E9llo", IDS(18), TOKS("h\u00E9llo"));
    selfmm_tokenizer_free(t);

    o = KEEP; /* no lower */
    REQUIRE((t = load(WORDS_VOCAB, &o)));
    CHECK_TOKS(t, text, IDS(5, 6, 7, 8, 9, 10), TOKS("HeLLo", "!", "how", "Are", "yoU", "?"));
    CHECK_TOKS(t, text2, IDS(14, 6, 7, 8, 9, 10), TOKS("HäLLo", "!", "how", "Are", "yoU", "?"));
    /* test_chinese */
    CHECK_TOKS(t, "ah\u535A\u63A8zz", IDS(19, 20, 21, 22), TOKS("ah", "\u535A", "\u63A8", "zz"));
    selfmm_tokenizer_free(t);

    o.strip_accents = SELFMM_SWITCH_ON; /* no lower, strip_accents=True */
    REQUIRE((t = load(WORDS_VOCAB, &o)));
    CHECK_TOKS(t, text2, IDS(15, 6, 7, 8, 9, 10), TOKS("HaLLo", "!", "how", "Are", "yoU", "?"));
    selfmm_tokenizer_free(t);
}

/* ---- cases worked out against the vocab files ------------------------------------ */

TEST(accents_case_and_specials_en)
{
    selfmm_tokenizer *t = load(EN, NULL), *k = load(EN, &KEEP);
    REQUIRE(t && k);
    /* Lower-casing strips accents (NFD, drop Mn): cafe 7668, naive 15743, ang 17076 ##strom 15687. */
    CHECK_TOKS(t, "Café naïve Ångström", IDS(7668, 15743, 17076, 15687),
               TOKS("cafe", "naive", "ang", "##strom"));
    /* Without lower-casing the accents stay, and the uncased vocabulary has neither
     * "Café" nor any split of it: [UNK]. */
    CHECK_IDS(k, "Café naïve Ångström", IDS(100, 100, 100));
    /* Lower-case but keep accents: "café" is not in the vocabulary either. */
    selfmm_tokenizer_options o = {SELFMM_SWITCH_ON, SELFMM_SWITCH_OFF, SELFMM_SWITCH_AUTO};
    selfmm_tokenizer *ka = load(EN, &o);
    REQUIRE(ka);
    CHECK_IDS(ka, "Café naive", IDS(100, 15743));
    selfmm_tokenizer_free(ka);
    /* Verbatim special tokens stay whole (hi 7632); "[cls]" is ordinary text:
     * [ 1031, cl 18856, ##s 2015, ] 1033. */
    CHECK_TOKS(t, "[CLS] hi [SEP] [cls]", IDS(101, 7632, 102, 1031, 18856, 2015, 1033),
               TOKS("[CLS]", "hi", "[SEP]", "[", "cl", "##s", "]"));
    CHECK_IDS(t, "hi[SEP]hi", IDS(7632, 102, 7632));
    CHECK_IDS(k, "[PAD][UNK][MASK]", IDS(0, 100, 103));
    /* Greek capital letters lower-case character by character: ο ##δ ##ο ##σ
     * (1169 29722 29730 29733); the final capital sigma becomes σ, not ς. */
    CHECK_IDS(t, "ΟΔΟΣ", IDS(1169, 29722, 29730, 29733));
    selfmm_tokenizer_free(t);
    selfmm_tokenizer_free(k);
}

TEST(cleaning_punctuation_and_long_words)
{
    selfmm_tokenizer *t = load(EN, NULL);
    REQUIRE(t);
    /* Control characters (U+0001, U+200B) and U+FFFD vanish without splitting:
     * abc 5925, foo 29379 ##bar 8237. */
    CHECK_TOKS(t, "a\x01" "b\u200B" "c foo\uFFFDbar", IDS(5925, 29379, 8237), TOKS("abc", "foo", "##bar"));
    /* A NUL byte inside an explicit length is dropped like U+0000. */
    check_ids_(__FILE__, __LINE__, t, "ab\0c", 4, IDS(5925), NULL);
    /* Punctuation runs split into single characters: wow 10166 ! 999 ? 1029 . 1012. */
    CHECK_IDS(t, "wow!!!???...", IDS(10166, 999, 999, 999, 1029, 1029, 1029, 1012, 1012, 1012));
    /* No match anywhere: [UNK] (100). */
    CHECK_IDS(t, "\U0001F600", IDS(100));
    /* 100 characters still go through WordPiece: aaa 13360, 48 x ##aa 11057, ##a 2050;
     * 101 characters are [UNK]. */
    char word[102];
    memset(word, 'a', 101);
    word[100] = '\0';
    selfmm_tokens out;
    REQUIRE_OK(selfmm_tokenizer_tokenize(t, word, SELFMM_NUL_TERMINATED, &out), selfmm_tokenizer_errmsg(t));
    REQUIRE(out.n == 50);
    CHECK_INT(out.ids[0], 13360);
    for (int i = 1; i < 49; i++) CHECK_INT(out.ids[i], 11057);
    CHECK_INT(out.ids[49], 2050);
    word[100] = 'a', word[101] = '\0';
    CHECK_IDS(t, word, IDS(100));
    /* The limit counts code points, after accent stripping: 101 x "é" is 202 bytes
     * and 101 characters -> [UNK]; 100 x "e" + U+0301 lower-cases to 100 x "e". */
    char acc[400] = "";
    for (int i = 0; i < 101; i++) strcat(acc, "\u00e9");
    CHECK_IDS(t, acc, IDS(100));
    acc[0] = '\0';
    for (int i = 0; i < 100; i++) strcat(acc, "e\u0301");
    REQUIRE_OK(selfmm_tokenizer_tokenize(t, acc, SELFMM_NUL_TERMINATED, &out), selfmm_tokenizer_errmsg(t));
    CHECK(out.n > 1 && out.ids[0] != 100);
    /* Empty and whitespace-only texts have no tokens. */
    CHECK_NONE(t, "");
    CHECK_NONE(t, " \t\n\r\u3000\u00A0\u2028");
    CHECK_NONE(t, "\x01\u200B\uFFFD");
    selfmm_tokenizer_free(t);
}

TEST(separators)
{
    selfmm_tokenizer *t = load(WORDS_VOCAB, &KEEP);
    REQUIRE(t);
    /* a 23, b 24, ab 25. BERT's whitespace and Python's str.split separators split;
     * controls (even those Python calls whitespace, U+0085, U+001C) are dropped
     * first and so join; format characters (U+00AD, U+200B) are dropped. */
    CHECK_IDS(t, "a b", IDS(23, 24));
    CHECK_IDS(t, "a\tb\nb\rb", IDS(23, 24, 24, 24));
    CHECK_IDS(t, "a\u00A0b\u3000b\u2003b", IDS(23, 24, 24, 24));
    CHECK_IDS(t, "a\u2028b\u2029b", IDS(23, 24, 24));
    CHECK_IDS(t, "a\xC2\x85" "b", IDS(25));
    CHECK_IDS(t, "a\x1C" "b", IDS(25));
    CHECK_IDS(t, "a\u00ADb", IDS(25));
    CHECK_IDS(t, "a\u200Bb", IDS(25));
    /* Cased: a combining mark stays and nothing matches "a\u0301b" (no ##\u0301b). */
    CHECK_IDS(t, "a\u0301b", IDS(1));
    selfmm_tokenizer_free(t);
    selfmm_tokenizer_options o = LOWER;
    REQUIRE((t = load(WORDS_VOCAB, &o)));
    CHECK_IDS(t, "a\u0301b", IDS(25));
    /* U+0130 lower-cases to "i" + U+0307 (Python's full mapping), then loses the
     * mark; words_vocab has no "i": [UNK]. */
    CHECK_IDS(t, "\u0130", IDS(1));
    selfmm_tokenizer_free(t);
}

TEST(chinese_and_japanese)
{
    selfmm_tokenizer *t = load(CN, NULL);
    REQUIRE(t);
    /* Each CJK ideograph is a word; Latin runs go through WordPiece (lower-cased:
     * bert_cn has no tokenizer_config.json): 我 2769 爱 4263 n 156 ##lp 10986 和 1469
     * be 8815 ##rt 8716 ！ 8013. */
    CHECK_TOKS(t, "我爱NLP和BERT！", IDS(2769, 4263, 156, 10986, 1469, 8815, 8716, 8013),
               TOKS("我", "爱", "n", "##lp", "和", "be", "##rt", "！"));
    /* transformers tests (test_change_tokenize_chinese_chars): 的 4638 人 782 有 3300,
     * and without CJK spacing 的 ##人 13839 ##有 16357. */
    CHECK_IDS(t, "的人有", IDS(4638, 782, 3300));
    selfmm_tokenizer_options o = {SELFMM_SWITCH_AUTO, SELFMM_SWITCH_AUTO, SELFMM_SWITCH_OFF};
    selfmm_tokenizer *nc = load(CN, &o);
    REQUIRE(nc);
    CHECK_TOKS(nc, "的人有", IDS(4638, 13839, 16357), TOKS("的", "##人", "##有"));
    selfmm_tokenizer_free(nc);
    selfmm_tokenizer_free(t);

    /* camphr_bert_2019: tokenizer_config.json says do_lower_case false,
     * tokenize_chinese_chars false. 日本 49 ##語 3150 ##の 422 ##テ 750 ##キスト 23381
     * ##です 12323 。 7; 東京 133 ##都 4069. */
    REQUIRE((t = load(JA, NULL)));
    selfmm_tokenizer_options got;
    CHECK_OK(selfmm_tokenizer_get_options(t, &got), "");
    CHECK_INT(got.lowercase, SELFMM_SWITCH_OFF);
    CHECK_INT(got.strip_accents, SELFMM_SWITCH_OFF);
    CHECK_INT(got.chinese_chars, SELFMM_SWITCH_OFF);
    CHECK_IDS(t, "日本語のテキストです。", IDS(49, 3150, 422, 750, 23381, 12323, 7));
    CHECK_IDS(t, "東京都", IDS(133, 4069));
    selfmm_tokenizer_free(t);
}

TEST(encode_layout)
{
    selfmm_tokenizer *t = load(EN, NULL);
    REQUIRE(t);
    int32_t ids[12], mask[12], seg[12];
    int n = -1;
    /* Truncated to L - 2 tokens: [CLS] hello , my [SEP]. */
    REQUIRE_OK(selfmm_tokenizer_encode(t, "Hello, my dog is cute", SELFMM_NUL_TERMINATED, 5, ids,
                                       mask, seg, &n),
               selfmm_tokenizer_errmsg(t));
    const int32_t w5[5] = {101, 7592, 1010, 2026, 102};
    for (int i = 0; i < 5; i++) {
        CHECK_INT(ids[i], w5[i]);
        CHECK_INT(mask[i], 1);
        CHECK_INT(seg[i], 0);
    }
    CHECK_INT(n, 6);
    /* Padded with 0, mask 0. */
    for (int i = 0; i < 12; i++) ids[i] = mask[i] = seg[i] = -7;
    REQUIRE_OK(selfmm_tokenizer_encode(t, "Hello", SELFMM_NUL_TERMINATED, 12, ids, mask, seg, NULL), "");
    const int32_t w12[12] = {101, 7592, 102, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    for (int i = 0; i < 12; i++) {
        CHECK_INT(ids[i], w12[i]);
        CHECK_INT(mask[i], i < 3);
        CHECK_INT(seg[i], 0);
    }
    /* Empty text and L = 2: only [CLS] [SEP]; mask and segment may be NULL. */
    REQUIRE_OK(selfmm_tokenizer_encode(t, "", 0, 2, ids, NULL, NULL, &n), "");
    CHECK_INT(ids[0], 101);
    CHECK_INT(ids[1], 102);
    CHECK_INT(n, 0);
    REQUIRE_OK(selfmm_tokenizer_encode(t, "Hello world", SELFMM_NUL_TERMINATED, 2, ids, mask, seg, &n), "");
    CHECK_INT(ids[0], 101);
    CHECK_INT(ids[1], 102);
    CHECK_INT(n, 2);
    CHECK_STATUS(selfmm_tokenizer_encode(t, "x", 1, 1, ids, mask, seg, NULL), SELFMM_ERR_RANGE);
    CHECK_CONTAINS(selfmm_tokenizer_errmsg(t), "need >= 2");
    CHECK_STATUS(selfmm_tokenizer_encode(t, "x", 1, 4, NULL, mask, seg, NULL), SELFMM_ERR_INVALID_ARG);
    CHECK_STATUS(selfmm_tokenizer_encode(t, NULL, 0, 4, ids, mask, seg, NULL), SELFMM_ERR_INVALID_ARG);
    selfmm_tokenizer_free(t);
}

/* ---- the vocabulary file ---------------------------------------------------------- */

static char g_tmp[1024];

static const char *tmp_file(const char *name, const void *data, size_t n)
{
    static char path[1200];
    snprintf(path, sizeof path, "%s/%s", g_tmp, name);
    return tf_write(path, data, n) == 0 ? path : NULL;
}
#define TMP_FILE(name, lit) tmp_file(name, lit, sizeof(lit) - 1)

TEST(vocab_file_rules)
{
    selfmm_error e = {0};
    selfmm_tokenizer *t = NULL;
    /* "\r\n" and a lone "\r" end lines too (Python's universal newlines); U+2028 does
     * not; empty lines are tokens; a duplicate's later line wins; a last line
     * without "\n" counts. */
    const char *p = TMP_FILE("v1.txt", "[PAD]\r\n[UNK]\r[CLS]\n[SEP]\n\na\xE2\x80\xA8" "b\nhello\nworld\nhello\nlast");
    REQUIRE(p);
    REQUIRE_OK(selfmm_tokenizer_load(p, NULL, &t, &e), e.message);
    CHECK_INT(selfmm_tokenizer_vocab_size(t), 10);
    CHECK_INT(selfmm_tokenizer_token_id(t, "[UNK]"), 1);
    CHECK_INT(selfmm_tokenizer_token_id(t, "[CLS]"), 2);
    CHECK_INT(selfmm_tokenizer_token_id(t, ""), 4);
    CHECK_INT(selfmm_tokenizer_token_id(t, "a\u2028b"), 5);
    CHECK_INT(selfmm_tokenizer_token_id(t, "hello"), 8);
    CHECK_INT(selfmm_tokenizer_token_id(t, "last"), 9);
    CHECK_INT(selfmm_tokenizer_token_id(t, "nope"), -1);
    CHECK_STR(selfmm_tokenizer_id_token(t, 6), "hello");
    CHECK_STR(selfmm_tokenizer_id_token(t, 0), "[PAD]");
    CHECK(selfmm_tokenizer_id_token(t, 10) == NULL);
    CHECK(selfmm_tokenizer_id_token(t, -1) == NULL);
    CHECK_IDS(t, "Hello world last", IDS(8, 7, 9));
    /* [MASK] is not in this vocabulary: a verbatim [MASK] maps to [UNK]'s id. */
    CHECK_TOKS(t, "[MASK]", IDS(1), TOKS("[MASK]"));
    selfmm_tokenizer_free(t);

    /* The two real vocabularies: sizes, the specials, and bert_cn's tokens 343 and
     * 13502 that hold U+2028 (which text can never produce: it splits words). */
    REQUIRE((t = load(CN, NULL)));
    CHECK_INT(selfmm_tokenizer_vocab_size(t), 21128);
    const char *tk = selfmm_tokenizer_id_token(t, 343);
    CHECK(tk && strstr(tk, "\u2028"));
    tk = selfmm_tokenizer_id_token(t, 13502);
    CHECK(tk && strstr(tk, "\u2028"));
    CHECK_INT(selfmm_tokenizer_token_id(t, selfmm_tokenizer_id_token(t, 343)), 343);
    CHECK_INT(selfmm_tokenizer_token_id(t, "[CLS]"), 101);
    selfmm_tokenizer_free(t);
    REQUIRE((t = load(EN "/vocab.txt", NULL)));
    CHECK_INT(selfmm_tokenizer_vocab_size(t), 30522);
    CHECK_INT(selfmm_tokenizer_token_id(t, "[SEP]"), 102);
    CHECK_INT(selfmm_tokenizer_token_id(t, "[PAD]"), 0);
    selfmm_tokenizer_free(t);
}

TEST(bad_vocabularies)
{
    selfmm_error e = {0};
    selfmm_tokenizer *t = (selfmm_tokenizer *)&e; /* must stay untouched on failure */
    CHECK_STATUS(selfmm_tokenizer_load("/nonexistent/vocab.txt", NULL, &t, &e), SELFMM_ERR_NOT_FOUND);
    CHECK_CONTAINS(e.message, "/nonexistent/vocab.txt");
    CHECK_STATUS(selfmm_tokenizer_load("tests/fixtures", NULL, &t, &e), SELFMM_ERR_NOT_FOUND);
    CHECK_CONTAINS(e.message, "tests/fixtures/vocab.txt");
    CHECK_STATUS(selfmm_tokenizer_load(TMP_FILE("empty.txt", ""), NULL, &t, &e), SELFMM_ERR_FORMAT);
    CHECK_CONTAINS(e.message, "empty");
    CHECK_STATUS(selfmm_tokenizer_load(TMP_FILE("nocls.txt", "[PAD]\n[UNK]\n[SEP]\n[MASK]\n"), NULL, &t, &e),
                 SELFMM_ERR_MISSING);
    CHECK_CONTAINS(e.message, "[CLS]");
    CHECK_STATUS(selfmm_tokenizer_load(TMP_FILE("nosep.txt", "[PAD]\n[UNK]\n[CLS]\n"), NULL, &t, &e),
                 SELFMM_ERR_MISSING);
    CHECK_CONTAINS(e.message, "[SEP]");
    CHECK_STATUS(selfmm_tokenizer_load(TMP_FILE("nounk.txt", "[PAD]\n[CLS]\n[SEP]\n"), NULL, &t, &e),
                 SELFMM_ERR_MISSING);
    CHECK_CONTAINS(e.message, "[UNK]");
    CHECK_STATUS(selfmm_tokenizer_load(TMP_FILE("nopad.txt", "[UNK]\n[CLS]\n[SEP]\n"), NULL, &t, &e),
                 SELFMM_ERR_MISSING);
    CHECK_CONTAINS(e.message, "[PAD]");
    /* A byte-order mark stays in the first token (Python's "utf-8" codec), so
     * [PAD] is missing; the message says why. */
    CHECK_STATUS(selfmm_tokenizer_load(TMP_FILE("bom.txt", "\xEF\xBB\xBF[PAD]\n[UNK]\n[CLS]\n[SEP]\n"), NULL,
                                       &t, &e),
                 SELFMM_ERR_MISSING);
    CHECK_CONTAINS(e.message, "byte-order mark");
    /* Only "\n\n" lines: tokens "" exist but no specials. */
    CHECK_STATUS(selfmm_tokenizer_load(TMP_FILE("blank.txt", "\n\n"), NULL, &t, &e), SELFMM_ERR_MISSING);
    /* Invalid UTF-8 on line 3, byte offset 19 (a lone continuation byte). */
    CHECK_STATUS(selfmm_tokenizer_load(TMP_FILE("bad.txt", "[PAD]\n[UNK]\n[CLS]\nx\x80y\n[SEP]\n"), NULL,
                                       &t, &e),
                 SELFMM_ERR_PARSE);
    CHECK_CONTAINS(e.message, "byte offset 19 (line 4)");
    CHECK_CONTAINS(e.message, "bad.txt");
    CHECK_STATUS(selfmm_tokenizer_load(TMP_FILE("nul.txt", "[PAD]\n[UNK]\n[CLS]\n[SEP]\na\0b\n"), NULL, &t,
                                       &e),
                 SELFMM_ERR_FORMAT);
    CHECK_CONTAINS(e.message, "NUL byte at byte offset 25 (line 5)");
    CHECK(t == (selfmm_tokenizer *)&e);
    selfmm_tokenizer_options bad = {(selfmm_switch)7, SELFMM_SWITCH_AUTO, SELFMM_SWITCH_AUTO};
    CHECK_STATUS(selfmm_tokenizer_load(EN, &bad, &t, &e), SELFMM_ERR_INVALID_ARG);
    CHECK_STATUS(selfmm_tokenizer_load(NULL, NULL, &t, &e), SELFMM_ERR_INVALID_ARG);
    CHECK_STATUS(selfmm_tokenizer_load(EN, NULL, NULL, NULL), SELFMM_ERR_INVALID_ARG);
    selfmm_tokenizer_free(NULL);
    CHECK_STR(selfmm_tokenizer_errmsg(NULL), "NULL tokenizer");
    CHECK_INT(selfmm_tokenizer_vocab_size(NULL), 0);
    CHECK_INT(selfmm_tokenizer_token_id(NULL, "x"), -1);
}

/* A folder with vocab.txt copied from words_vocab and the given tokenizer_config.json. */
static selfmm_status load_folder(const char *config, const char *other_name, const char *other,
                                 const selfmm_tokenizer_options *opt, selfmm_tokenizer **t,
                                 selfmm_error *e)
{
    char dir[1100], path[1200];
    snprintf(dir, sizeof dir, "%s/folder", g_tmp);
    mkdir(dir, 0700);
    size_t n = 0;
    uint8_t *vocab = tf_read(WORDS_VOCAB, &n);
    if (!vocab) return SELFMM_ERR_IO;
    snprintf(path, sizeof path, "%s/vocab.txt", dir);
    int bad = tf_write(path, vocab, n);
    free(vocab);
    const char *names[3] = {"tokenizer_config.json", "special_tokens_map.json", "added_tokens.json"};
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unlink(path);
    }
    if (config) {
        snprintf(path, sizeof path, "%s/tokenizer_config.json", dir);
        bad |= tf_write(path, config, strlen(config));
    }
    if (other_name) {
        snprintf(path, sizeof path, "%s/%s", dir, other_name);
        bad |= tf_write(path, other, strlen(other));
    }
    if (bad) return SELFMM_ERR_IO;
    return selfmm_tokenizer_load(dir, opt, t, e);
}

static void expect_options(selfmm_tokenizer *t, int lower, int strip, int cjk)
{
    selfmm_tokenizer_options o;
    CHECK_OK(selfmm_tokenizer_get_options(t, &o), "");
    CHECK_INT(o.lowercase, lower ? SELFMM_SWITCH_ON : SELFMM_SWITCH_OFF);
    CHECK_INT(o.strip_accents, strip ? SELFMM_SWITCH_ON : SELFMM_SWITCH_OFF);
    CHECK_INT(o.chinese_chars, cjk ? SELFMM_SWITCH_ON : SELFMM_SWITCH_OFF);
}

TEST(tokenizer_config)
{
    selfmm_error e = {0};
    selfmm_tokenizer *t = NULL;
    /* No config: BertTokenizer's defaults. */
    REQUIRE_OK(load_folder(NULL, NULL, NULL, NULL, &t, &e), e.message);
    expect_options(t, 1, 1, 1);
    selfmm_tokenizer_free(t);
    /* The shared checkpoints' configs. */
    REQUIRE((t = load(NER, NULL)));
    expect_options(t, 1, 1, 1); /* strip_accents null: follows lower-casing */
    selfmm_tokenizer_free(t);
    REQUIRE((t = load(COLDFIRE, NULL)));
    expect_options(t, 0, 0, 1);
    selfmm_tokenizer_free(t);
    /* Options override the file. */
    selfmm_tokenizer_options o = {SELFMM_SWITCH_ON, SELFMM_SWITCH_OFF, SELFMM_SWITCH_ON};
    REQUIRE((t = load(JA, &o)));
    expect_options(t, 1, 0, 1);
    selfmm_tokenizer_free(t);
    /* strip_accents true without lower-casing. */
    REQUIRE_OK(load_folder("{\"do_lower_case\": false, \"strip_accents\": true}", NULL, NULL, NULL, &t, &e),
               e.message);
    expect_options(t, 0, 1, 1);
    CHECK_IDS(t, "HäLLo", IDS(15));
    selfmm_tokenizer_free(t);
    /* A modern file: AddedToken objects, added_tokens_decoder, ignored keys. */
    REQUIRE_OK(load_folder("{\"added_tokens_decoder\": {\"0\": {\"content\": \"[PAD]\", \"special\": true},"
                           " \"1\": {\"content\": \"[UNK]\"}}, \"additional_special_tokens\": [],"
                           " \"cls_token\": {\"content\": \"[CLS]\"}, \"do_lower_case\": true,"
                           " \"never_split\": null, \"model_max_length\": 512, \"strip_accents\": null,"
                           " \"tokenizer_class\": \"BertTokenizer\"}",
                           "special_tokens_map.json", "{\"unk_token\": \"[UNK]\", \"mask_token\": \"[MASK]\"}",
                           NULL, &t, &e),
               e.message);
    expect_options(t, 1, 1, 1);
    selfmm_tokenizer_free(t);

    /* A key twice takes its last value, as transformers' json.load does. */
    REQUIRE_OK(load_folder("{\"do_lower_case\": true, \"do_lower_case\": false}", NULL, NULL, NULL, &t, &e),
               e.message);
    expect_options(t, 0, 0, 1);
    selfmm_tokenizer_free(t);
    /* What cannot be honoured is refused, naming the file and key. */
    struct {
        const char *config, *other_name, *other, *needle;
        selfmm_status st;
    } bad[] = {
        {"{\"do_lower_case\": \"yes\"}", NULL, NULL, "\"do_lower_case\" must be a boolean", SELFMM_ERR_TYPE},
        {"{\"strip_accents\": 1}", NULL, NULL, "\"strip_accents\" must be a boolean or null", SELFMM_ERR_TYPE},
        {"{\"do_lower_case\": tru", NULL, NULL, "malformed JSON", SELFMM_ERR_PARSE},
        {"[1, 2]", NULL, NULL, "expected a JSON object", SELFMM_ERR_TYPE},
        {"{\"never_split\": [\"[FOO]\"]}", NULL, NULL, "never_split", SELFMM_ERR_UNSUPPORTED},
        {"{\"do_basic_tokenize\": false}", NULL, NULL, "do_basic_tokenize", SELFMM_ERR_UNSUPPORTED},
        {"{\"unk_token\": \"<unk>\"}", NULL, NULL, "\"unk_token\" is \"<unk>\"", SELFMM_ERR_UNSUPPORTED},
        {"{\"tokenizer_class\": \"BertJapaneseTokenizer\"}", NULL, NULL, "BertJapaneseTokenizer",
         SELFMM_ERR_UNSUPPORTED},
        {"{\"additional_special_tokens\": [\"[E1]\"]}", NULL, NULL, "additional_special_tokens",
         SELFMM_ERR_UNSUPPORTED},
        {"{\"added_tokens_decoder\": {\"30522\": {\"content\": \"<new>\"}}}", NULL, NULL, "<new>",
         SELFMM_ERR_UNSUPPORTED},
        {NULL, "special_tokens_map.json", "{\"sep_token\": \"</s>\"}", "special_tokens_map.json",
         SELFMM_ERR_UNSUPPORTED},
        {NULL, "added_tokens.json", "{\"<new>\": 27}", "added token \"<new>\"", SELFMM_ERR_UNSUPPORTED},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        t = NULL;
        selfmm_status st = load_folder(bad[i].config, bad[i].other_name, bad[i].other, NULL, &t, &e);
        CHECK_MSG(st == bad[i].st, "case %zu: %s, expected %s", i, selfmm_strerror(st),
                  selfmm_strerror(bad[i].st));
        CHECK_CONTAINS(e.message, bad[i].needle);
        CHECK(t == NULL);
        selfmm_tokenizer_free(t);
    }
}

/* ---- invalid UTF-8 in the text ------------------------------------------------------ */

TEST(invalid_utf8_text)
{
    selfmm_tokenizer *t = load(EN, NULL);
    REQUIRE(t);
    struct {
        const char *text;
        size_t len;
        const char *msg;
    } cases[] = {
        {"ab\x80", 3, "byte offset 2: unexpected continuation byte"},
        {"\xC0\x80", 2, "byte offset 0: overlong encoding"},
        {"x\xE0\x80\x80", 4, "byte offset 1: overlong encoding"},
        {"xy\xF0\x80\x80\x80", 6, "byte offset 2: overlong encoding"},
        {"\xED\xA0\x80", 3, "byte offset 0: surrogate code point"},
        {"\xED\xBF\xBF", 3, "byte offset 0: surrogate code point"},
        {"ok \xF4\x90\x80\x80", 7, "byte offset 3: code point above U+10FFFF"},
        {"\xE2\x82", 2, "byte offset 0: truncated sequence at end of input"},
        {"\xE2\x82" "A", 3, "byte offset 0: truncated sequence"},
        {"hello \xF0\x9F\x98", 9, "byte offset 6: truncated sequence"},
        {"\xFF", 1, "byte offset 0: invalid start byte"},
        {"\xF8\x88\x80\x80\x80", 5, "byte offset 0: invalid start byte"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        selfmm_tokens out = {0};
        selfmm_status st = selfmm_tokenizer_tokenize(t, cases[i].text, cases[i].len, &out);
        CHECK_MSG(st == SELFMM_ERR_PARSE, "case %zu: %s", i, selfmm_strerror(st));
        CHECK_CONTAINS(selfmm_tokenizer_errmsg(t), cases[i].msg);
        int32_t ids[4];
        CHECK_STATUS(selfmm_tokenizer_encode(t, cases[i].text, cases[i].len, 4, ids, NULL, NULL, NULL),
                     SELFMM_ERR_PARSE);
    }
    /* The tokenizer keeps working after a failure; the largest code points are fine. */
    CHECK_IDS(t, "hello \xF4\x8F\xBF\xBF", IDS(7592));
    CHECK_IDS(t, "hello \xEF\xBF\xBD\xEE\x80\x80", IDS(7592));
    selfmm_tokenizer_free(t);
}

/* ---- the Unicode layer against Python's, for every code point ----------------------- */

TEST(unicode_classes_all_code_points)
{
    FILE *f = fopen("tests/fixtures/tokenizer/unicode_props.txt", "r");
    REQUIRE(f);
    char line[512];
    long runs = 0, cps = 0, skipped = 0, maps = 0, bad = 0;
    while (fgets(line, sizeof line, f)) {
        unsigned a, b, bits;
        if (line[0] == 'R' && sscanf(line, "R %x %x %u", &a, &b, &bits) == 3) {
            runs++;
            if (bits & 64) {
                skipped += b - a + 1;
                continue;
            }
            for (uint32_t cp = a; cp <= b; cp++) {
                unsigned got = (unsigned)sm_uc_is_bert_control(cp) | (unsigned)sm_uc_is_bert_whitespace(cp) << 1 |
                               (unsigned)sm_uc_is_bert_punct(cp) << 2 | (unsigned)sm_uc_is_mn(cp) << 3 |
                               (unsigned)sm_uc_is_py_space(cp) << 4 | (unsigned)sm_uc_is_cjk(cp) << 5;
                cps++;
                if (got != bits && bad++ < 10)
                    h_failf(__FILE__, __LINE__, "U+%04X: classes %u, Python %u", cp, got, bits);
            }
        } else if (line[0] == 'L' || line[0] == 'D') {
            uint32_t want[8], got[SM_UC_NFD_CAP(1)];
            int nw = 0, off = 0, used;
            unsigned cp, v;
            sscanf(line + 2, "%x%n", &cp, &off);
            char *p = line + 2 + off;
            while (nw < 8 && sscanf(p, "%x%n", &v, &used) == 1) want[nw++] = v, p += used;
            long ng;
            if (line[0] == 'L') {
                ng = sm_uc_lower(cp, got);
            } else {
                uint32_t c = cp;
                ng = sm_uc_nfd(&c, 1, got, SM_UC_NFD_CAP(1));
            }
            maps++;
            int same = ng == nw;
            for (int i = 0; same && i < nw; i++) same = got[i] == want[i];
            if (!same && bad++ < 10) h_failf(__FILE__, __LINE__, "U+%04X: %c mapping differs", cp, line[0]);
        }
    }
    fclose(f);
    printf("# %ld runs, %ld code points compared, %ld skipped (Unicode versions differ), %ld mappings\n",
           runs, cps, skipped, maps);
    CHECK(cps > 1000000);
    CHECK(maps > 3000);
    CHECK_INT(bad, 0);
    /* Lower-casing maps every code point Python maps; the rest map to themselves
     * (spot checks; the fixture lists the changed ones). */
    uint32_t o[2];
    CHECK_INT(sm_uc_lower('A', o), 1);
    CHECK_INT(o[0], 'a');
    CHECK_INT(sm_uc_lower(0x3A3, o), 1); /* Σ -> σ, character by character */
    CHECK_INT(o[0], 0x3C3);
}

TEST(nfd_canonical_order)
{
    /* NFD reorders marks by combining class: U+0327 (202) before U+0301 (230), both
     * orders give the same sequence; a long run stays linear. */
    uint32_t in1[3] = {'e', 0x301, 0x327}, in2[3] = {'e', 0x327, 0x301}, o1[24], o2[24];
    long n1 = sm_uc_nfd(in1, 3, o1, 24), n2 = sm_uc_nfd(in2, 3, o2, 24);
    CHECK_INT(n1, 3);
    CHECK_INT(n2, 3);
    for (int i = 0; i < 3; i++) CHECK_INT(o1[i], o2[i]);
    CHECK_INT(o1[1], 0x327);
    /* Hangul syllable -> L V T jamo. */
    uint32_t h = 0xAC01;
    CHECK_INT(sm_uc_nfd(&h, 1, o1, 24), 3);
    CHECK_INT(o1[0], 0x1100);
    CHECK_INT(o1[1], 0x1161);
    CHECK_INT(o1[2], 0x11A8);
    enum { N = 1000 };
    static uint32_t run[N], out[SM_UC_NFD_CAP(N)];
    for (int i = 0; i < N; i++) run[i] = i % 2 ? 0x327 : 0x301;
    CHECK_INT(sm_uc_nfd(run, N, out, SM_UC_NFD_CAP(N)), N);
    CHECK_INT(out[0], 0x327);
    CHECK_INT(out[N / 2 - 1], 0x327);
    CHECK_INT(out[N / 2], 0x301);
    CHECK_INT(sm_uc_nfd(run, N, out, N / 2), -1);
}

/* ---- the broad cross-check ------------------------------------------------------------ */

TEST(crosscheck_python_restatement)
{
    FILE *f = fopen("tests/fixtures/tokenizer/crosscheck.txt", "r");
    REQUIRE(f);
    enum { MAXC = 16 };
    char names[MAXC][32];
    selfmm_tokenizer *toks[MAXC];
    int nc = 0, cases = 0, bad = 0;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, f)) > 0) {
        if (line[len - 1] == '\n') line[--len] = '\0';
        if (line[0] == 'C' && nc < MAXC) {
            char path[512];
            int lo, st, ch;
            if (sscanf(line, "C %31s %511s %d %d %d", names[nc], path, &lo, &st, &ch) != 5) continue;
            selfmm_tokenizer_options o = {lo ? SELFMM_SWITCH_ON : SELFMM_SWITCH_OFF,
                                          st ? SELFMM_SWITCH_ON : SELFMM_SWITCH_OFF,
                                          ch ? SELFMM_SWITCH_ON : SELFMM_SWITCH_OFF};
            toks[nc] = load(path, &o);
            if (!toks[nc]) {
                h_failf(__FILE__, __LINE__, "config %s", names[nc]);
                break;
            }
            nc++;
            continue;
        }
        if (line[0] != 'T') continue;
        char *save = NULL, *name = strtok_r(line + 2, " ", &save), *hex = strtok_r(NULL, " ", &save);
        char *want = strtok_r(NULL, "", &save);
        int k = 0;
        while (k < nc && strcmp(names[k], name)) k++;
        if (k == nc || !hex || !want) {
            h_failf(__FILE__, __LINE__, "malformed fixture line");
            continue;
        }
        size_t tl = strcmp(hex, "-") ? strlen(hex) / 2 : 0;
        char *text = malloc(tl + 1);
        for (size_t i = 0; i < tl; i++) {
            unsigned v;
            sscanf(hex + 2 * i, "%2x", &v);
            text[i] = (char)v;
        }
        selfmm_tokens out;
        cases++;
        if (selfmm_tokenizer_tokenize(toks[k], text, tl, &out) != SELFMM_OK) {
            if (bad++ < 10) h_failf(__FILE__, __LINE__, "%s %s: %s", name, hex, selfmm_tokenizer_errmsg(toks[k]));
            free(text);
            continue;
        }
        /* Compare against the space-separated ids ("-" for none). */
        int ok = 1, i = 0;
        char *p = strcmp(want, "-") ? want : want + 1;
        while (*p) {
            char *end;
            long v = strtol(p, &end, 10);
            if (end == p) break;
            if (i >= out.n || out.ids[i] != v) ok = 0;
            i++;
            p = end;
        }
        if (i != out.n) ok = 0;
        if (!ok && bad++ < 10) h_failf(__FILE__, __LINE__, "%s %s: %d tokens, expected ids %s", name, hex, out.n, want);
        free(text);
    }
    free(line);
    fclose(f);
    for (int k = 0; k < nc; k++) selfmm_tokenizer_free(toks[k]);
    printf("# %d cases, %d configurations, %d mismatches\n", cases, nc, bad);
    CHECK(cases > 1000);
    CHECK_INT(bad, 0);
}

/* ---- the model hook ------------------------------------------------------------------- */

static void tiny_config(selfmm_config *c, int vocab)
{
    selfmm_config_default(c);
    c->vocab_size = vocab, c->hidden_size = 8, c->num_hidden_layers = 1;
    c->num_attention_heads = 2, c->intermediate_size = 12, c->max_position_embeddings = 16;
    c->audio_dim = 5, c->video_dim = 7;
    c->a_lstm_hidden_size = 3, c->v_lstm_hidden_size = 4, c->audio_out = 2, c->video_out = 3;
    c->post_fusion_dim = 6, c->post_text_dim = 5, c->post_audio_dim = 4, c->post_video_dim = 3;
}

TEST(model_hook)
{
    selfmm_config c;
    selfmm_error e = {0};
    selfmm_model *m = NULL;
    tiny_config(&c, 405); /* camphr_ner_bert's vocab.txt has 405 lines */
    REQUIRE_OK(selfmm_model_create(&c, &m, &e), e.message);
    selfmm_tokenizer *t = load(NER, NULL), *back = (selfmm_tokenizer *)&e, *en = load(EN, NULL);
    REQUIRE(t && en);

    CHECK_STATUS(selfmm_model_get_tokenizer(m, &back, &e), SELFMM_ERR_MISSING);
    CHECK_CONTAINS(e.message, "no tokenizer");
    CHECK_STR(selfmm_model_errmsg(m), ""); /* the model is only read: err gets the message */
    CHECK(back == (selfmm_tokenizer *)&e);

    CHECK_STATUS(selfmm_model_set_tokenizer(m, en), SELFMM_ERR_SHAPE);
    CHECK_CONTAINS(selfmm_model_errmsg(m), "30522");
    CHECK(sm_model_meta_get(m, "tokenizer.vocab") == NULL);

    REQUIRE_OK(selfmm_model_set_tokenizer(m, t), selfmm_model_errmsg(m));
    CHECK_STR(sm_model_meta_get(m, "tokenizer.do_lower_case"), "true");
    CHECK_STR(sm_model_meta_get(m, "tokenizer.type"), "bert-wordpiece");
    REQUIRE_OK(selfmm_model_get_tokenizer(m, &back, &e), e.message);
    CHECK_INT(selfmm_tokenizer_vocab_size(back), 405);
    selfmm_tokenizer_options o1, o2;
    selfmm_tokenizer_get_options(t, &o1);
    selfmm_tokenizer_get_options(back, &o2);
    CHECK(memcmp(&o1, &o2, sizeof o1) == 0);
    const char *texts[] = {"Hello, my dog is cute", "Café [SEP] 東京 the end!!", "", "x\u2028y ©"};
    for (int i = 0; i < 4; i++) {
        selfmm_tokens a, b;
        REQUIRE_OK(selfmm_tokenizer_tokenize(t, texts[i], SELFMM_NUL_TERMINATED, &a), "");
        int na = a.n;
        int32_t ids[64];
        memcpy(ids, a.ids, (size_t)na * sizeof *ids);
        REQUIRE_OK(selfmm_tokenizer_tokenize(back, texts[i], SELFMM_NUL_TERMINATED, &b), "");
        CHECK_INT(b.n, na);
        for (int j = 0; j < na && j < b.n; j++) CHECK_INT(b.ids[j], ids[j]);
    }
    for (int id = 0; id < 405; id++) CHECK_STR(selfmm_tokenizer_id_token(back, id), selfmm_tokenizer_id_token(t, id));
    selfmm_tokenizer_free(back);

    /* A non-default setting survives the round trip. */
    selfmm_tokenizer_options keep = {SELFMM_SWITCH_OFF, SELFMM_SWITCH_ON, SELFMM_SWITCH_OFF};
    selfmm_tokenizer *k = load(NER, &keep);
    REQUIRE(k);
    REQUIRE_OK(selfmm_model_set_tokenizer(m, k), selfmm_model_errmsg(m));
    REQUIRE_OK(selfmm_model_get_tokenizer(m, &back, &e), e.message);
    selfmm_tokenizer_get_options(back, &o2);
    CHECK(memcmp(&keep, &o2, sizeof keep) == 0);
    selfmm_tokenizer_free(back);
    selfmm_tokenizer_free(k);

    /* Damaged metadata is reported. */
    sm_model_meta_set(m, "tokenizer.strip_accents", "maybe");
    back = NULL;
    CHECK_STATUS(selfmm_model_get_tokenizer(m, &back, &e), SELFMM_ERR_FORMAT);
    CHECK_CONTAINS(e.message, "tokenizer.strip_accents");
    CHECK(back == NULL);
    sm_model_meta_set(m, "tokenizer.strip_accents", "true");
    sm_model_meta_set(m, "tokenizer.vocab", "[PAD]\n[UNK]\n[CLS]\n[SEP]\n");
    CHECK_STATUS(selfmm_model_get_tokenizer(m, &back, &e), SELFMM_ERR_FORMAT);
    CHECK_CONTAINS(e.message, "4 tokens");
    sm_model_meta_set(m, "tokenizer.type", "sentencepiece");
    CHECK_STATUS(selfmm_model_get_tokenizer(m, &back, NULL), SELFMM_ERR_FORMAT);
    CHECK_STATUS(selfmm_model_get_tokenizer(m, &back, &e), SELFMM_ERR_FORMAT);
    CHECK_CONTAINS(e.message, "sentencepiece");

    /* NULL removes it. */
    CHECK_OK(selfmm_model_set_tokenizer(m, NULL), selfmm_model_errmsg(m));
    CHECK(sm_model_meta_get(m, "tokenizer.vocab") == NULL);
    CHECK(sm_model_meta_get(m, "tokenizer.do_lower_case") == NULL);
    CHECK_STATUS(selfmm_model_get_tokenizer(m, &back, &e), SELFMM_ERR_MISSING);

    selfmm_tokenizer_free(t);
    selfmm_tokenizer_free(en);
    selfmm_model_free(m);
}

int main(void)
{
    snprintf(g_tmp, sizeof g_tmp, "%s", tf_scratch("test_tokenizer"));
    RUN(hf_documented_examples);
    RUN(hf_test_suite_vocab);
    RUN(hf_basic_tokenizer_cases);
    RUN(accents_case_and_specials_en);
    RUN(cleaning_punctuation_and_long_words);
    RUN(separators);
    RUN(chinese_and_japanese);
    RUN(encode_layout);
    RUN(vocab_file_rules);
    RUN(bad_vocabularies);
    RUN(tokenizer_config);
    RUN(invalid_utf8_text);
    RUN(unicode_classes_all_code_points);
    RUN(nfd_canonical_order);
    RUN(crosscheck_python_restatement);
    RUN(model_hook);
    return h_finish();
}
