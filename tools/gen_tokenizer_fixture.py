#!/usr/bin/python3
"""gen_tokenizer_fixture.py -- expected token ids for tests/test_tokenizer.c.

This is NOT HuggingFace's code: it is an independent re-statement in plain Python of
what transformers 2.10's BertTokenizer.from_pretrained(folder, do_lower_case=...)
does (PreTrainedTokenizer.tokenize, BertTokenizer._tokenize, BasicTokenizer,
WordpieceTokenizer, load_vocab), written from the facts of tokenization_bert.py and
tokenization_utils.py, with strip_accents as later versions define it. It runs on
Python's own unicodedata and str.lower/str.split, so it shares nothing with the C
implementation (which uses utf8proc) except the definitions.

The one thing taken from utf8proc here: random code points are drawn only where
Python's Unicode tables (14.0 in Python 3.11) and utf8proc's (15.0) agree, since
the two versions legitimately disagree on characters assigned in between.

Outputs (line-based text files, read by tests/test_tokenizer.c):
  tests/fixtures/tokenizer/crosscheck.txt
    C name vocab_path lower strip_accents chinese_chars     (a configuration)
    T name hex(UTF-8 text) id id id ...   or  "-" for no ids  (a case)
  tests/fixtures/tokenizer/unicode_props.txt: the character classes for every code
  point, as Python computes them, to check the utf8proc-based ones exhaustively
    R first last bits   (a run of code points with the same bits: 1 control,
                         2 whitespace, 4 punctuation, 8 Mn, 16 str.split separator,
                         32 CJK, 64 skipped: the Unicode versions disagree)
    L cp lower...       (str.lower() of cp where it is not cp itself, hex)
    D cp nfd...         (unicodedata.normalize("NFD") of cp where it is not cp)

usage: /usr/bin/python3 tools/gen_tokenizer_fixture.py   (from the source root)
"""
import ctypes
import random
import re
import sys
import unicodedata

SPECIAL = ["[UNK]", "[SEP]", "[PAD]", "[CLS]", "[MASK]"]


def load_vocab(path):
    vocab = {}
    with open(path, "r", encoding="utf-8") as f:
        for i, line in enumerate(f.readlines()):
            vocab[line.rstrip("\n")] = i  # a later duplicate wins
    return vocab


def is_whitespace(ch):
    return ch in " \t\n\r" or unicodedata.category(ch) == "Zs"


def is_control(ch):
    if ch in "\t\n\r":
        return False
    return unicodedata.category(ch).startswith("C")


def is_punctuation(ch):
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def is_chinese(cp):
    return any(a <= cp <= b for a, b in [
        (0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0x2A700, 0x2B73F),
        (0x2B740, 0x2B81F), (0x2B820, 0x2CEAF), (0xF900, 0xFAFF), (0x2F800, 0x2FA1F)])


class Bert:
    def __init__(self, vocab_path, lower, strip_accents, chinese):
        self.vocab = load_vocab(vocab_path)
        self.lower, self.strip, self.chinese = lower, strip_accents, chinese

    # -- BasicTokenizer ----------------------------------------------------------
    def basic(self, text):
        out = []
        for ch in text:
            if ord(ch) == 0 or ord(ch) == 0xFFFD or is_control(ch):
                continue
            out.append(" " if is_whitespace(ch) else ch)
        text = "".join(out)
        if self.chinese:
            text = "".join(" %s " % ch if is_chinese(ord(ch)) else ch for ch in text)
        words = []
        for tok in text.split():
            if tok in SPECIAL:          # never_split = the special tokens
                words.append(tok)
                continue
            if self.lower:
                tok = tok.lower()
            if self.strip:
                tok = "".join(c for c in unicodedata.normalize("NFD", tok)
                              if unicodedata.category(c) != "Mn")
            cur = []
            for ch in tok:
                if is_punctuation(ch):
                    words.append("".join(cur))
                    words.append(ch)
                    cur = []
                else:
                    cur.append(ch)
            words.append("".join(cur))
        return " ".join(words).split()

    # -- WordpieceTokenizer --------------------------------------------------------
    def wordpiece(self, word):
        if len(word) > 100:
            return ["[UNK]"]
        pieces, start = [], 0
        while start < len(word):
            end, found = len(word), None
            while start < end:
                sub = ("##" if start > 0 else "") + word[start:end]
                if sub in self.vocab:
                    found = sub
                    break
                end -= 1
            if found is None:
                return ["[UNK]"]
            pieces.append(found)
            start = end
        return pieces

    # -- PreTrainedTokenizer.tokenize (2.10) -------------------------------------
    def tokenize(self, text):
        if self.lower:  # do_lower_case given to from_pretrained: lower all but specials
            pat = "(" + "|".join(re.escape(s) for s in SPECIAL) + ")|(.+?)"
            text = re.sub(pat, lambda m: m.group(1) or m.group(2).lower(), text)
        if not text.strip():
            return []
        parts = [text]
        for tok in SPECIAL:
            nxt = []
            for part in parts:
                if part in SPECIAL:
                    nxt.append(part)
                    continue
                split = part.split(tok)
                for i, sub in enumerate(split):
                    sub = sub.rstrip()
                    if i == 0 and not sub:
                        nxt.append(tok)
                    elif i == len(split) - 1:
                        if sub:
                            nxt.append(sub)
                    else:
                        if sub:
                            nxt.append(sub)
                        nxt.append(tok)
            parts = nxt
        out = []
        for part in parts:
            if part in SPECIAL:
                out.append(part)
            else:
                for w in self.basic(part):
                    out.extend(self.wordpiece(w))
        return out

    def ids(self, text):
        unk = self.vocab["[UNK]"]
        return [self.vocab.get(t, unk) for t in self.tokenize(text)]


# -- the strings ---------------------------------------------------------------------
def unicode_props(stable, out):
    stable = set(stable)
    lines = ["# generated by tools/gen_tokenizer_fixture.py from Python %s's unicodedata %s"
             % (sys.version.split()[0], unicodedata.unidata_version)]
    run = None
    maps = []
    for cp in list(range(0xD800)) + list(range(0xE000, 0x110000)):
        ch = chr(cp)
        if cp not in stable:
            bits = 64
        else:
            bits = (is_control(ch) * 1 | is_whitespace(ch) * 2 | is_punctuation(ch) * 4
                    | (unicodedata.category(ch) == "Mn") * 8 | ch.isspace() * 16
                    | is_chinese(cp) * 32)
            if ch.lower() != ch:
                maps.append("L %x %s" % (cp, " ".join("%x" % ord(c) for c in ch.lower())))
            nfd = unicodedata.normalize("NFD", ch)
            # Hangul syllables decompose by formula: a sample of them is enough.
            if nfd != ch and not (0xAC00 <= cp <= 0xD7A3 and cp % 97):
                maps.append("D %x %s" % (cp, " ".join("%x" % ord(c) for c in nfd)))
        if run and run[2] == bits and run[1] + 1 == cp:
            run[1] = cp
        else:
            if run:
                lines.append("R %x %x %d" % tuple(run))
            run = [cp, cp, bits]
    lines.append("R %x %x %d" % tuple(run))
    with open(out, "w") as f:
        f.write("\n".join(lines + maps) + "\n")
    print("%s: %d runs, %d mappings" % (out, len(lines) - 1, len(maps)))


def version_stable_codepoints():
    """Code points whose category Python and utf8proc agree on (utf8proc via ctypes)."""
    try:
        lib = ctypes.CDLL("libutf8proc.so.2")
    except OSError:
        sys.exit("libutf8proc.so.2 not found (Debian: libutf8proc2)")
    lib.utf8proc_category_string.restype = ctypes.c_char_p
    ok = []
    for cp in range(0x110000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        if unicodedata.category(chr(cp)) == lib.utf8proc_category_string(cp).decode():
            ok.append(cp)
    return ok


POOLS = {
    "ascii": ["hello", "world", "Hello", "WORLD", "unaffable", "running", "don't", "can't",
              "I've", "it's", "e-mail", "U.S.A.", "3.14", "1,000", "$5", "100%", "C++",
              "foo_bar", "a/b", "https://example.com/x?y=1", "#tag", "@user", "...", "?!",
              "!!!", "--", "(x)", "[y]", "{z}", "<b>", "~", "^", "`", "|", "\\", "\"q\"",
              "sentiment", "movie", "really", "good", "bad", "not", "the", "a", "is"],
    "latin": ["café", "naïve", "Ångström", "résumé", "Straße", "ẞ", "İstanbul", "ı", "Ǆ",
              "ǅ", "ǆ", "ﬁ", "Å", "K", "Ω", "Œuvre", "ÀÉÎÕÜ", "àáâãäåæçèéêëìíîïñòóôõöøùúûüýÿ",
              "e\u0301", "A\u030a", "n\u0303o", "Ḕ", "ǘ"],
    "greek": ["ΟΔΟΣ", "Σ", "ΣΑΣ", "σς", "άέήίόύώ", "ΐ", "Ἀθῆναι", "\u1fef", "\u037e", "\u0387",
              "ΑΣ.Β"],
    "cyrillic": ["Привет", "мир", "ЁЖЗ", "й", "Ї"],
    "cjk": ["的人有", "我们", "中文测试", "情感分析", "真好", "很好吃！", "你好，世界。", "㐀", "𠀀",
            "豈", "丽", "\u2f80", "\U0002f800", "\U0002a700", "\U0002b820", "㊀", "〇", "々"],
    "kana": ["ひらがな", "カタカナ", "ｶﾀｶﾅ", "ＡＢＣ１２３", "！？（）", "日本語のテキスト", "ー"],
    "hangul": ["안녕하세요", "한국어", "각"],
    "rtl": ["مرحبا", "שָׁלוֹם", "עברית", "سلام"],
    "indic": ["नमस्ते", "हिन्दी", "สวัสดี", "ภาษาไทย", "ক্ষ"],
    "emoji": ["😀", "👍🏽", "👨\u200d👩\u200d👧", "❤\ufe0f", "🇫🇷", "☃", "♪", "€", "£", "¥", "©", "®",
              "™", "°", "±", "×", "÷", "§", "¶", "•", "…", "‰", "′", "″"],
    "control": ["\x00", "\x01", "\x07", "\x0b", "\x0c", "\x1c", "\x1f", "\x7f", "\x85", "\u200b",
                "\u200c", "\u200d", "\u200e", "\u00ad", "\ufeff", "\ufffd", "\ue000", "\U000f0000",
                "\u0378", "\ufdd0", "\uffff", "\U0001ffff", "\u2060", "\u061c"],
    "space": [" ", "\t", "\n", "\r", "\r\n", "\u00a0", "\u1680", "\u2000", "\u2003", "\u2028",
              "\u2029", "\u202f", "\u205f", "\u3000", "  "],
    "marks": ["\u0301", "\u0308", "\u0327", "\u20dd", "\u0903", "\u0345", "\u05bc", "\u0e49",
              "\u302a", "\ufe0f", "\U000e0100"],
    "special": ["[CLS]", "[SEP]", "[PAD]", "[UNK]", "[MASK]", "[cls]", "[CLS", "CLS]", "[ CLS]",
                "[[SEP]]", "x[MASK]y"],
    "punct": ["«", "»", "“", "”", "‘", "’", "—", "–", "¿", "¡", "、", "。", "「", "」", "《", "》",
              "・", "‧", "؟", "।", "჻", "‐", "_", "‿", "⁀"],
}


def random_string(rng, stable):
    kinds = list(POOLS)
    parts = []
    for _ in range(rng.randint(1, 8)):
        r = rng.random()
        if r < 0.12:
            parts.append("".join(chr(rng.choice(stable)) for _ in range(rng.randint(1, 4))))
        elif r < 0.2:
            # random BMP code point from a "busy" region
            parts.append("".join(chr(rng.choice(stable[:60000])) for _ in range(rng.randint(1, 3))))
        else:
            parts.append(rng.choice(POOLS[rng.choice(kinds)]))
        parts.append(rng.choice(["", " ", " ", " ", "\t", "\u3000", "\n"]))
    return "".join(parts)


HANDWRITTEN = [
    "", " ", "\t\n\r ", "\u3000\u00a0", "\x00", "\ufffd", "\u200b", "\x00\ufffd\x01",
    "Hello, my dog is cute", "UNwant\u00e9d,running", " \tHeLLo!how  \n Are yoU?  ",
    "H\u00e9llo", "a\n'll !!to?'d of, can't.", "ah\u535a\u63a8zz", "A, naïve [MASK] AllenNLP sentence.",
    "[CLS] hello [SEP]", "hello[SEP]world", "[cls] hello [sep]", "[UNK][PAD][MASK]",
    "\u0130stanbul \u0130I\u0307", "ΟΔΟΣ ΟΔΟΣ. Σ", "\u1fefhi \u037e \u0387",
    "a" * 99, "a" * 100, "a" * 101, "é" * 100, "é" * 101, "e\u0301" * 50, "e\u0301" * 51,
    "\u0301" * 120 + "a", "x" + "\u0301" * 200, "的" * 30, "的人有", "我爱自然语言处理。",
    "今天天气真好，我们去公园吧！", "这部电影真的很好看😀", "日本語のテキストです。", "안녕하세요 세계",
    "a\u2028b", "a\u2029b", "a\u0085b", "a\x1cb", "a\u180eb", "a\u200db",
    "\U0001f600\U0001f600", "ﬁnance", "ǅemal", "Straße STRASSE", "K\u212a \u2126",
    "\u1100\u1161\u11a8", "각", "ガ", "ｶﾞ", "1234567890", "3.5/5 stars!!!",
]


def main():
    out = "tests/fixtures/tokenizer/crosscheck.txt"
    en = "tests/fixtures/shared/bert/bert_en/vocab.txt"
    cn = "tests/fixtures/shared/bert/bert_cn/vocab.txt"
    ja = "tests/fixtures/shared/checkpoints/camphr_bert_2019/vocab.txt"
    tiny = "tests/fixtures/shared/checkpoints/camphr_ner_bert/vocab.txt"
    configs = {  # name: (vocab, lower, strip_accents, chinese_chars)
        "en": (en, 1, 1, 1), "en_cased": (en, 0, 0, 1), "en_keep_accents": (en, 1, 0, 1),
        "en_cased_strip": (en, 0, 1, 1), "cn": (cn, 1, 1, 1), "cn_nocjk": (cn, 1, 1, 0),
        "cn_cased": (cn, 0, 0, 1), "ja": (ja, 0, 0, 0), "tiny": (tiny, 1, 1, 1),
    }
    toks = {k: Bert(v[0], bool(v[1]), bool(v[2]), bool(v[3])) for k, v in configs.items()}
    rng = random.Random(20211126)
    stable = version_stable_codepoints()
    unicode_props(stable, "tests/fixtures/tokenizer/unicode_props.txt")
    texts = list(HANDWRITTEN) + [random_string(rng, stable) for _ in range(320)]
    rotating = ["en_cased", "en_keep_accents", "en_cased_strip", "cn_nocjk", "cn_cased", "ja", "tiny"]
    lines = ["# generated by tools/gen_tokenizer_fixture.py (a re-statement of BertTokenizer, not HF)"]
    for k, v in configs.items():
        lines.append("C %s %s %d %d %d" % (k, v[0], v[1], v[2], v[3]))
    n = 0
    for i, text in enumerate(texts):
        names = ["en", "cn"] + ([rotating[i % len(rotating)]] if i >= len(HANDWRITTEN) else rotating)
        for name in names:
            ids = toks[name].ids(text)
            lines.append("T %s %s %s" % (name, text.encode("utf-8").hex() or "-",
                                         " ".join(map(str, ids)) or "-"))
            n += 1
    with open(out, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("%s: %d texts, %d cases" % (out, len(texts), n))


if __name__ == "__main__":
    main()
