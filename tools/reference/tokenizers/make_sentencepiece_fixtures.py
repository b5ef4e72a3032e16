"""Fixtures for MambaVL.IO.Tokenizers.SentencePiece*: small SentencePiece models and their goldens.

Run with Debian's Python and sentencepiece (never a runtime dependency of the product):
    apt-get install -y sentencepiece python3-sentencepiece
    /usr/bin/python3 tools/reference/tokenizers/make_sentencepiece_fixtures.py            # goldens from the committed models
    /usr/bin/python3 tools/reference/tokenizers/make_sentencepiece_fixtures.py --retrain  # retrain every model first
(a model whose file is missing is always trained)

Writes tests/fixtures/tokenizers/sentencepiece/: the models (trained here on CORPUS with the sentencepiece trainer, or
derived from those by editing the ModelProto; stored as .model.gz), two Hugging Face style folders (tokenizer.model +
JSON files) and goldens.json.gz:
  strings                   the test strings (edge cases, CORPUS lines, seeded random mixtures)
  models[].ids / .decoded   sp.encode(text) and sp.decode(sp.encode(text)) for every string
  models[].decode_cases     sp.decode(ids) for seeded random id sequences (byte pieces that form invalid UTF-8,
                            control and unknown ids, pieces with and without a leading U+2581)
  hf[]                      the slow-tokenizer layer (HfLayer.encode / HfLayer.decode below) for every string plus
                            strings full of added and special tokens, and HfLayer.decode of random id sequences
"""
import gzip
import json
import os
import random
import shutil
import sys
import tempfile

import sentencepiece as spm

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
OUT = os.path.join(ROOT, "tests", "fixtures", "tokenizers", "sentencepiece")
SPACE = "\u2581"

# ---------------------------------------------------------------------------------------------------------------------
# Training corpus: several scripts, code, numbers, whitespace runs, mixed case. Characters that occur once or twice
# fall below the character coverage, which is what makes byte fallback / <unk> happen on them.
CORPUS = """The quick brown fox jumps over the lazy dog. THE QUICK BROWN FOX!
State space models process long sequences in linear time; attention is quadratic.
A multimodal model reads an image and a question, then answers in natural language.
Hello world, hello World, HELLO WORLD, hello-world, hello_world, helloWorld.
It's a beautiful day: isn't it? We're going to the park at 10:30 am.
Numbers: 0 1 2 3 4 5 6 7 8 9 10 42 100 256 1024 3.14159 2.71828 -17 +5 1e-5 0x1F 1,000,000
Dates like 2024-01-15, 15/01/2024 and times like 23:59:59 appear in logs.
Email me at someone@example.com or visit https://example.org/path?query=1&x=2#frag
    Indented line with four spaces.
\tTabbed line\twith\ttabs.
Multiple   spaces    between     words.
Trailing spaces here.   
def forward(self, x):
    return self.norm(self.mixer(x) + x)
for (int i = 0; i < n; ++i) { sum += a[i] * b[i]; }
if x == None: raise ValueError("x must not be None")
const tokens = text.split(/\\s+/).filter(Boolean);
SELECT id, name FROM users WHERE age >= 18 ORDER BY name;
<html><body><p class="note">Paragraph</p></body></html>
{"key": "value", "list": [1, 2, 3], "nested": {"a": true, "b": null}}
Le renard brun rapide saute par-dessus le chien paresseux. Ça va très bien, merci !
Der schnelle braune Fuchs springt über den faulen Hund. Grüße aus München.
El rápido zorro marrón salta sobre el perro perezoso. ¿Dónde está la biblioteca?
Быстрая коричневая лиса прыгает через ленивую собаку. Привет, мир!
Η γρήγορη καφέ αλεπού πηδάει πάνω από τον τεμπέλη σκύλο. Καλημέρα κόσμε.
我们的模型可以理解图像和文本。今天天气很好，我们去公园散步吧。
机器学习是人工智能的一个分支。状态空间模型在长序列上非常高效。
你好，世界！这是一个测试句子，用来训练分词器。中文没有空格。
多模态大模型能够同时处理图片、视频和文字。
日本語のテキストも含まれています。東京は日本の首都です。
ひらがなとカタカナ、そして漢字を使います。ありがとうございます。
今日はとても良い天気ですね。コンピュータ・サイエンス。
مرحبا بالعالم. هذه جملة باللغة العربية لاختبار المقسم.
اللغة العربية تكتب من اليمين إلى اليسار.
안녕하세요 세계. 한국어 문장도 포함되어 있습니다.
नमस्ते दुनिया। यह हिंदी में एक वाक्य है।
สวัสดีชาวโลก นี่คือประโยคภาษาไทย
Emoji: 😀 😂 🚀 🎉 ❤️ 👍 🐍 🔥 ✨ 🙂
Mixed: GPU内存 80GB, batch_size=32, 学习率 lr=3e-4, 精度 fp16/bf16.
camelCaseIdentifier snake_case_identifier SCREAMING_CASE kebab-case-id
Punctuation!!! Really??? Wait... (parentheses) [brackets] {braces} <angles> "quotes" 'single'
Line one
Line two

Line four after an empty line.
user: Describe the image.
assistant: The image shows a cat sitting on a windowsill in the sun.
user: What color is the cat?
assistant: The cat is orange with white paws.
Mamba uses a selective scan; Mamba-2 uses structured state space duality (SSD).
The vision encoder produces patch embeddings that a connector projects into the language model.
""".splitlines()


def synthetic_lines(rng):
    """Extra training text: words recombined, numbers, code; deterministic for a given rng."""
    words = " ".join(CORPUS).split()
    lines = []
    for _ in range(1500):
        n = rng.randint(3, 14)
        lines.append(" ".join(rng.choice(words) for _ in range(n)))
    for i in range(300):
        lines.append(f"x{i} = {rng.randint(0, 10**rng.randint(1, 9))} + y[{i % 7}]  # step {i}")
        lines.append(f"第{i}步：损失 {rng.random():.4f}，准确率 {rng.random() * 100:.2f}%")
    return CORPUS * 20 + lines


# ---------------------------------------------------------------------------------------------------------------------
# Models. Each varies the options the C# port has to honour.
MODELS = [
    dict(name="internlm2-style", file="internlm2-style/tokenizer.model",
         # Like InternLM2 / Llama: BPE, byte fallback, identity normalizer, dummy prefix, whitespace kept as is.
         train=dict(model_type="bpe", vocab_size=1200, byte_fallback=True, normalization_rule_name="identity",
                    add_dummy_prefix=True, remove_extra_whitespaces=False, split_digits=True,
                    allow_whitespace_only_pieces=True, user_defined_symbols=["<|im_start|>", "<|im_end|>"],
                    character_coverage=0.9995)),
    dict(name="bpe-suffix", file="bpe-suffix.model.gz",
         # Whitespace as suffix, no dummy prefix, extra whitespace removed, a user symbol that prefixes another.
         train=dict(model_type="bpe", vocab_size=800, byte_fallback=True, normalization_rule_name="identity",
                    add_dummy_prefix=False, remove_extra_whitespaces=True, treat_whitespace_as_suffix=True,
                    user_defined_symbols=["<sep>", "<sep2>", "@@"], character_coverage=0.999)),
    dict(name="bpe-nfkc-unk", file="bpe-nfkc-unk.model.gz",
         # NFKC precompiled charsmap, no byte fallback (runs of unknown characters become one <unk>), a control symbol.
         train=dict(model_type="bpe", vocab_size=700, byte_fallback=False, normalization_rule_name="nmt_nfkc",
                    user_defined_symbols=["<mask>"], control_symbols=["<ctrl>"], character_coverage=0.998)),
    dict(name="unigram-nfkc", file="unigram-nfkc.model.gz",
         # Unigram (Viterbi) with the NFKC charsmap, byte fallback and a user-defined symbol.
         train=dict(model_type="unigram", vocab_size=1000, byte_fallback=True, normalization_rule_name="nmt_nfkc",
                    user_defined_symbols=["<|im_start|>", "<|im_end|>"], character_coverage=0.9995,
                    hard_vocab_limit=False)),
    dict(name="unigram-identity-unk", file="unigram-identity-unk.model.gz",
         # Unigram without byte fallback on the identity normalizer, extra whitespace kept.
         train=dict(model_type="unigram", vocab_size=600, byte_fallback=False, normalization_rule_name="identity",
                    remove_extra_whitespaces=False, character_coverage=0.995, hard_vocab_limit=False)),
    dict(name="char", file="char.model.gz",
         # CHAR: one piece per character, byte fallback for the rest.
         train=dict(model_type="char", vocab_size=400, byte_fallback=True, normalization_rule_name="identity",
                    user_defined_symbols=["<|im_start|>"], character_coverage=0.995, hard_vocab_limit=False)),
    dict(name="bpe-denormalizer", file="bpe-denormalizer.model.gz",
         # A denormalizer (applied to decoded text): rules given as code points, source TAB target.
         denormalization_rules="41\t61\n3C 3C\t2039\n4F60\t2603\n",
         train=dict(model_type="bpe", vocab_size=900, byte_fallback=True, normalization_rule_name="identity",
                    character_coverage=0.99, hard_vocab_limit=False)),
    dict(name="word", file="word.model.gz",
         # WORD: whole whitespace-delimited words, <unk> for the others.
         train=dict(model_type="word", vocab_size=500, normalization_rule_name="identity", hard_vocab_limit=False,
                    character_coverage=0.995)),
]

# Models derived from trained ones by editing the ModelProto (what the trainers refuse or never do, but hand-edited
# models have): UNUSED pieces (BPE must undo merges into them, unigram must skip them) and other normalizer flags
# (appended as a second value of the field: protobuf keeps the last one).
DERIVED = [
    dict(name="bpe-unused", file="bpe-unused.model.gz", base="internlm2-style/tokenizer.model", unused_every=5),
    dict(name="unigram-unused", file="unigram-unused.model.gz", base="unigram-identity-unk.model.gz", unused_every=4),
    dict(name="bpe-no-dummy-prefix", file="bpe-no-dummy-prefix.model.gz", base="internlm2-style/tokenizer.model",
         normalizer=dict(add_dummy_prefix=False)),
    dict(name="bpe-suffix-dummy", file="bpe-suffix-dummy.model.gz", base="bpe-suffix.model.gz",
         normalizer=dict(add_dummy_prefix=True)),
    dict(name="bpe-no-escape", file="bpe-no-escape.model.gz", base="internlm2-style/tokenizer.model",
         normalizer=dict(escape_whitespaces=False, remove_extra_whitespaces=True)),
]
NORMALIZER_FIELDS = dict(add_dummy_prefix=3, remove_extra_whitespaces=4, escape_whitespaces=5)


def read_varint(data, pos):
    value, shift = 0, 0
    while True:
        b = data[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return value, pos


def write_varint(value):
    out = bytearray()
    while True:
        b = value & 0x7F
        value >>= 7
        out.append(b | (0x80 if value else 0))
        if not value:
            return bytes(out)


def derive(model_bytes, model):
    """Rewrites a ModelProto: every `unused_every`-th NORMAL piece of two or more characters gets type UNUSED (5);
    `normalizer` flags are appended to NormalizerSpec (field 3)."""
    out, pos, normal_seen = bytearray(), 0, 0
    while pos < len(model_bytes):
        key, body_start = read_varint(model_bytes, pos)
        assert key & 7 == 2, "ModelProto's top-level fields are all length-delimited"
        length, body_start = read_varint(model_bytes, body_start)
        body = model_bytes[body_start:body_start + length]
        if key >> 3 == 1 and "unused_every" in model:
            piece_len, p = read_varint(body, 1)  # field 1 (piece) comes first in what the trainer writes
            piece = body[p:p + piece_len].decode("utf-8")
            has_type = b"\x18" in body[p + piece_len:p + piece_len + 6]
            if not has_type and len(piece) >= 2:  # type absent = NORMAL
                normal_seen += 1
                if normal_seen % model["unused_every"] == 0:
                    body = body + b"\x18\x05"
        if key >> 3 == 3:
            for name, value in model.get("normalizer", {}).items():
                body = body + write_varint(NORMALIZER_FIELDS[name] << 3) + write_varint(int(value))
        out += write_varint(key) + write_varint(len(body)) + body
        pos = body_start + length
    return bytes(out)

# Hugging Face style folders for the slow-tokenizer layer; both use the internlm2-style model.
ADDED_DECODER = {  # tokenizer_config.json "added_tokens_decoder" (id -> AddedToken fields), as InternLM2 ships it
    "0": dict(content="<unk>", special=True), "1": dict(content="<s>", special=True),
    "2": dict(content="</s>", special=True),
    "1200": dict(content="<|action_start|>", special=True), "1201": dict(content="<|action_end|>", special=True),
    "1202": dict(content="<|plugin|>", special=True, lstrip=True),
    "1203": dict(content="<|interpreter|>", special=True, rstrip=True),
    "1204": dict(content="[NEW]", special=False, normalized=True),
    "1205": dict(content="[NEW]er", special=False, normalized=True),
    "1206": dict(content="<sw>", special=False, single_word=True),
}
HF_FOLDERS = [
    dict(name="internlm2-style", config=dict(
        add_bos_token=True, add_eos_token=False, bos_token="<s>", eos_token="</s>", unk_token="<unk>",
        pad_token="</s>", clean_up_tokenization_spaces=False, tokenizer_class="InternLM2Tokenizer",
        additional_special_tokens=["<|im_start|>", "<|im_end|>", "<|action_start|>", "<|action_end|>",
                                   "<|plugin|>", "<|interpreter|>"],
        added_tokens_decoder={k: dict(dict(lstrip=False, rstrip=False, single_word=False, normalized=False), **v)
                              for k, v in ADDED_DECODER.items()})),
    # The legacy layout: added_tokens.json (name -> id) and special_tokens_map.json, EOS appended.
    dict(name="legacy-added-tokens", config=dict(add_bos_token=True, add_eos_token=True),
         special_tokens_map=dict(bos_token="<s>", eos_token="</s>", unk_token="<unk>",
                                 additional_special_tokens=["<|im_start|>", "<|im_end|>", "<|act|>"]),
         added_tokens={"<|act|>": 1200, "<|note|>": 1201, "<|note|>!": 1202}),
]


def read_model(file):
    """Model bytes; standalone models are stored gzip-compressed (the charsmaps compress well)."""
    with open(os.path.join(OUT, file), "rb") as f:
        data = f.read()
    return gzip.decompress(data) if file.endswith(".gz") else data


def write_model(file, data):
    path = os.path.join(OUT, file)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as raw:
        if not file.endswith(".gz"):
            raw.write(data)
            return
        with gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=9, mtime=0) as f:
            f.write(data)


def load_sp(file):
    return spm.SentencePieceProcessor(model_proto=read_model(file))


def train(model):
    rng = random.Random(1234)
    with tempfile.TemporaryDirectory() as tmp:
        corpus = os.path.join(tmp, "corpus.txt")
        with open(corpus, "w", encoding="utf-8") as f:
            f.write("\n".join(synthetic_lines(rng)) + "\n")
        options = dict(model["train"])
        if "denormalization_rules" in model:
            options["denormalization_rule_tsv"] = os.path.join(tmp, "denormalization.tsv")
            with open(options["denormalization_rule_tsv"], "w", encoding="utf-8") as f:
                f.write(model["denormalization_rules"])
        spm.SentencePieceTrainer.train(input=corpus, model_prefix=os.path.join(tmp, "m"), num_threads=1,
                                       shuffle_input_sentence=False, minloglevel=2, **options)
        with open(os.path.join(tmp, "m.model"), "rb") as f:
            write_model(model["file"], f.read())


# ---------------------------------------------------------------------------------------------------------------------
# Test strings.
EDGE_CASES = [
    "", " ", "  ", "   ", "\t", "\n", "\r\n", " \n ", "a", " a", "a ", "  a  ", "a  b", "a\tb", "a\nb", "a\n\nb",
    "hello", "Hello", "HELLO", " hello", "hello ", "hello  world", "hello\tworld", "hello\nworld", "hello\r\nworld",
    "    def f():\n        return 1\n", "12345", "3.14159", "1,000,000", "0x1F", "v1.2.3-rc4", "2024-01-15",
    SPACE, SPACE + "hello", "hello" + SPACE + "world", SPACE * 3, "a" + SPACE + " " + SPACE + "b",
    "<|im_start|>", "<|im_end|>", "<|im_start|>user\nHi<|im_end|>", " <|im_start|> ", "x<|im_start|>y",
    "<|im_start|><|im_end|>", "<|im_", "<|im_start", "|im_end|>", "<sep>", "<sep2>", "<sep>2", "a@@b", "<mask>",
    "<s>", "</s>", "<unk>", "<0x41>", "<ctrl>", "<s> hello </s>",
    "你好", "你好世界", " 你好 ", "鬱", "龘靐齉", "日本語", "カタカナ", "مرحبا", "안녕", "नमस्ते", "สวัสดี",
    "😀", "👩‍💻", "👍🏽", "🇫🇷", "❤️", "🫠", "🀄", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "𠀀", "ﬁ", "①②③", "ＡＢＣ１２３", "ｶﾀｶﾅ", "㍿", "Ⅻ", "½",
    "e\u0301", "\u00e9", "A\u030a", "\u00a0", "a\u00a0b", "\u3000", "a\u3000b", "\u2003", "\u200b", "a\u200bb",
    "\ufeff", "\u00ad", "\u0001", "\u007f", "\u0000", "a\u0000b", "\u2028", "\u0085", "\x1c", "\ufffd", "\U0010fffd",
    "Ω", "Ohm Ω sign", "İstanbul", "straße", "ǅ", "ﷺ", "\u0644\u0627", "ÆØÅ æøå", "Ĳ",
    "!!!", "...", "???", "\"'`", "#$%&*+-/=@^_|~", "(){}[]<>", "\\", "a\\nb",
    "The quick brown fox jumps over the lazy dog.", "THE QUICK BROWN FOX",
    "state space models", "multimodal", "Mamba-2 SSD", "internationalization", "antidisestablishmentarianism",
    "a" * 50, "ab" * 40, " " * 20 + "x", "x" + " " * 20, "\n" * 5, "\t\t\tindent", "你" * 30, "😀" * 10,
]

POOLS = [
    "abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "0123456789", ".,;:!?'\"()[]{}<>-_=+*/\\@#$%^&|~`",
    "   \t\n", "的是不了在人有我他这中大来上国个到说们为子和你地出道也时年", "鬱龘靐齉麤灪爨鱻", "あいうえおかきくけこアイウエオ",
    "абвгдежзийклмнопрстуфхцчшщъыьэюя", "αβγδεζηθικλμνξοπρστυφχψω", "ابتثجحخدذرزسشصضطظعغفقكلمنهوي",
    "가나다라마바사아자차카타파하", "😀😂🚀🎉👍🐍🔥✨🙂🦀🧠", "\u0301\u0308\u0327", "ﬁﬂ①②ＡＢ１２ｶﾀ㍿Ⅻ½", "\u00a0\u3000\u2003\u200b",
    SPACE, "éèêëàâäôöùûüçñ",
]
SYMBOLS = ["<|im_start|>", "<|im_end|>", "<sep>", "<sep2>", "@@", "<mask>", "<ctrl>", "<s>", "</s>", "<unk>"]


def random_strings(rng, count):
    out = []
    for _ in range(count):
        parts = []
        for _ in range(rng.randint(1, 8)):
            roll = rng.random()
            if roll < 0.15:
                parts.append(rng.choice(SYMBOLS))
            elif roll < 0.55:
                parts.append(rng.choice(" ".join(CORPUS).split()))
            else:
                pool = rng.choice(POOLS)
                parts.append("".join(rng.choice(pool) for _ in range(rng.randint(1, 6))))
            if rng.random() < 0.6:
                parts.append(rng.choice([" ", " ", "  ", "\n", "\t", ""]))
        out.append("".join(parts))
    return out


def test_strings():
    rng = random.Random(20240607)
    strings = EDGE_CASES + [line for line in CORPUS] + random_strings(rng, 300)
    seen, unique = set(), []
    for s in strings:
        if s not in seen:
            seen.add(s)
            unique.append(s)
    return unique


def random_id_sequences(sp, rng, count):
    """Id sequences no encoder would produce: lone and broken UTF-8 byte pieces, control and unknown ids in between."""
    n = sp.get_piece_size()
    byte_ids = [i for i in range(n) if sp.is_byte(i)]
    special = [i for i in range(n) if sp.is_control(i) or sp.is_unknown(i)]
    space_ids = [i for i in range(n) if sp.id_to_piece(i).startswith(SPACE)]
    seqs = [[]]
    for _ in range(count):
        seq = []
        for _ in range(rng.randint(1, 10)):
            roll = rng.random()
            if byte_ids and roll < 0.35:
                seq.append(rng.choice(byte_ids))
            elif roll < 0.5:
                seq.append(rng.choice(special))
            elif roll < 0.75:
                seq.append(rng.choice(space_ids))
            else:
                seq.append(rng.randrange(n))
        seqs.append(seq)
    return seqs


# ---------------------------------------------------------------------------------------------------------------------
# The Hugging Face slow-tokenizer layer (transformers' PreTrainedTokenizer.tokenize as of 4.36+, with InternLM2's
# _tokenize = sp.encode(text, out_type=str) and _convert_token_to_id = sp.piece_to_id). Procedure:
#  1. The added tokens are every entry of tokenizer_config.json's "added_tokens_decoder"; without it, added_tokens.json
#     (lstrip/rstrip/single_word false) plus the special tokens (bos/eos/unk/pad/additional_special_tokens); a special
#     token whose text is a piece of the SentencePiece model gets that piece's id.
#  2. The text is cut at the added tokens with transformers' Trie.split (re-expressed in trie_split below).
#  3. For each segment equal to an added token, left to right: rstrip strips the whitespace (str.isspace) at the start
#     of the next segment, lstrip at the end of the previous one; single_word glues the token to a neighbour that does
#     not end/start with " " (the glued text is then SentencePiece-encoded as ordinary text).
#  4. Empty segments are dropped; added tokens give their id; every other segment is sp.encode(segment, out_type=str)
#     on its own (so the dummy prefix applies to each segment), each piece mapped to the added token of that text if
#     there is one, else sp.piece_to_id(piece).
#  5. BOS (sp.bos_id()) first when add_bos_token, EOS (sp.eos_id()) last when add_eos_token.


class HfTrie:
    """Semantics of transformers.tokenization_utils.Trie: scan left to right; when a match completes, take the longest
    match among the partial matches that start at or before it, cut there and restart after it. Quirk kept on purpose:
    a partial match that failed on the current character still takes part in that look-ahead from the next character,
    so tokens "b" and "abcd" leave "abXcd" whole (the C# splitter finds "b"; no test string here depends on it)."""

    END = ""

    def __init__(self, words):
        self.root = {}
        for w in words:
            node = self.root
            for ch in w:
                node = node.setdefault(ch, {})
            node[self.END] = True

    def split(self, text):
        states = {}  # start index -> trie node reached so far (insertion order = start order)
        cuts = [0]
        skip = 0
        for pos, ch in enumerate(text):
            if skip and pos < skip:
                continue
            found = None
            dead = []
            for start, node in states.items():
                if self.END in node:
                    found = self._longest_from(states, start, pos, text)
                    break
                if ch in node:
                    states[start] = node[ch]
                else:
                    dead.append(start)
            if found is not None:
                start, end = found
                cuts += [start, end]
                skip = end
                states = {}
            else:
                for start in dead:
                    del states[start]
            if pos >= skip and ch in self.root:
                states[pos] = self.root[ch]
        for start, node in states.items():
            if self.END in node:
                cuts += [start, len(text)]
                break
        cuts.append(len(text))
        pieces, begin = [], 0
        for end in cuts:
            if end > begin:
                pieces.append(text[begin:end])
                begin = end
        return pieces

    def _longest_from(self, states, matched_start, pos, text):
        best_start, best_end = matched_start, pos
        for start, node in states.items():
            if start > matched_start:
                break
            # states before matched_start were already advanced past text[pos]; matched_start's was not.
            look = pos + 1 if start < matched_start else pos
            if self.END in node:
                best_start, best_end = start, look
            while look < len(text) and text[look] in node:
                node = node[text[look]]
                look += 1
                if self.END in node:
                    best_start, best_end = start, look
            if best_start < matched_start:
                matched_start = best_start  # later states cannot win over an earlier start any more
        return best_start, best_end


class HfLayer:
    def __init__(self, folder, sp):
        self.sp = sp
        config = folder["config"]
        self.add_bos = config.get("add_bos_token", True)
        self.add_eos = config.get("add_eos_token", False)
        self.added = {}  # content -> (id, lstrip, rstrip, single_word, special)
        specials = self.special_token_texts(folder)
        if "added_tokens_decoder" in config:
            for idx, t in config["added_tokens_decoder"].items():
                special = t["special"] or t["content"] in specials
                self.added[t["content"]] = (int(idx), t["lstrip"], t["rstrip"], t["single_word"], special)
        if "added_tokens_decoder" not in config:
            for content, idx in folder.get("added_tokens", {}).items():
                self.added[content] = (idx, False, False, False, content in specials)
        # transformers numbers a new special token len(get_vocab()): the pieces and the added tokens, by text
        next_id = len({sp.id_to_piece(i) for i in range(sp.get_piece_size())} | set(self.added))
        for content in specials:
            if content in self.added:
                continue
            pid = sp.piece_to_id(content)
            if sp.id_to_piece(pid) != content:
                pid, next_id = next_id, next_id + 1
            self.added[content] = (pid, False, False, False, True)
        self.specials = specials
        self.trie = HfTrie(self.added.keys())

    @staticmethod
    def special_token_texts(folder):
        merged = dict(folder.get("special_tokens_map", {}))
        merged.update({k: v for k, v in folder["config"].items()
                       if k in ("bos_token", "eos_token", "unk_token", "pad_token", "additional_special_tokens")})
        defaults = dict(bos_token="<s>", eos_token="</s>", unk_token="<unk>", pad_token="</s>")  # InternLM2Tokenizer's
        out = []
        for key in ("bos_token", "eos_token", "unk_token", "pad_token"):
            value = merged.get(key) or defaults[key]
            out.append(value["content"] if isinstance(value, dict) else value)
        out += merged.get("additional_special_tokens", [])
        return list(dict.fromkeys(out))

    def encode(self, text, add_special):
        tokens = self.trie.split(text)
        for i, token in enumerate(tokens):
            if token not in self.added:
                continue
            _, lstrip, rstrip, single_word, _ = self.added[token]
            left = tokens[i - 1] if i > 0 else None
            right = tokens[i + 1] if i < len(tokens) - 1 else None
            if rstrip and right:
                tokens[i + 1] = right.lstrip()
            if lstrip and left:
                tokens[i - 1] = left.rstrip()
            if single_word and left and left[-1] != " ":
                tokens[i - 1] += token
                tokens[i] = ""
            elif single_word and right and right[0] != " ":
                tokens[i + 1] = token + tokens[i + 1]
                tokens[i] = ""
        ids = []
        for token in tokens:
            if not token:
                continue
            if token in self.added:
                ids.append(self.added[token][0])
                continue
            for piece in self.sp.encode(token, out_type=str):
                ids.append(self.added[piece][0] if piece in self.added else self.sp.piece_to_id(piece))
        if add_special and self.add_bos and self.sp.bos_id() >= 0:
            ids = [self.sp.bos_id()] + ids
        if add_special and self.add_eos and self.sp.eos_id() >= 0:
            ids = ids + [self.sp.eos_id()]
        return ids

    def decode(self, ids, skip_special):
        """The C# decoding contract (docs in SentencePieceTokenizer.cs): added and special tokens are emitted as their
        text (special ones dropped when skipping), the SentencePiece ids between them are sp.decode'd run by run.
        Unlike transformers, no space is put around added tokens and no clean-up of spaces is applied."""
        by_id = {v[0]: (k, v[4]) for k, v in self.added.items()}
        out, run = [], []
        for i in ids:
            if i in by_id:
                content, special = by_id[i]
                if skip_special and special:
                    continue
                out.append(self.sp.decode(run))
                run = []
                out.append(content)
            elif 0 <= i < self.sp.get_piece_size():
                run.append(i)
        out.append(self.sp.decode(run))
        return "".join(out)


HF_EXTRA_STRINGS = [
    "<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\nHello!<|im_end|>\n<|im_start|>assistant\n",
    "<s>", "<s><s>", " <s> ", "a<s>b", "</s>", "<unk>", "<s>hello</s>", "text <|plugin|>  after", "before   <|plugin|>",
    "x  <|interpreter|>   y", "<|interpreter|>\n\n z", "[NEW]", "a[NEW]b", "[NEW]er", "[NEW]e", "[NEW]err", "x [NEW]er y",
    "<sw>", "a<sw>b", "a <sw> b", "a<sw> b", "a <sw>b", "<sw><sw>", " <sw>", "<|action_start|><|action_end|>",
    "<|action_start|> tool <|action_end|>", "<|act|>", "<|note|>", "<|note|>!", "<|note|>!!", " <|note|> ! ",
    "<|im_start|>", "<|im_start|> ", " <|im_end|>", "<|im_end|><|im_start|>", "<|im_start|>你好<|im_end|>",
    "  <|im_start|>  ", "\n<|im_end|>\n", "<|im_start|>😀<|im_end|>", "<|plugin|><|interpreter|>",
]


def hf_decode_cases(layer, rng, count):
    ids_pool = [v[0] for v in layer.added.values()] + list(range(layer.sp.get_piece_size()))
    seqs = []
    for _ in range(count):
        seqs.append([rng.choice(ids_pool) for _ in range(rng.randint(1, 12))])
    return seqs


def write_hf_folder(folder, model_file):
    path = os.path.join(OUT, folder["name"])
    os.makedirs(path, exist_ok=True)
    if os.path.join(folder["name"], "tokenizer.model") != model_file:
        shutil.copyfile(os.path.join(OUT, model_file), os.path.join(path, "tokenizer.model"))

    def dump(name, obj):
        with open(os.path.join(path, name), "w", encoding="utf-8") as f:
            json.dump(obj, f, ensure_ascii=False, indent=2)
            f.write("\n")

    dump("tokenizer_config.json", folder["config"])
    if "special_tokens_map" in folder:
        dump("special_tokens_map.json", folder["special_tokens_map"])
    if "added_tokens" in folder:
        dump("added_tokens.json", folder["added_tokens"])


def main():
    for model in MODELS:  # models already committed are kept unless --retrain
        if "--retrain" in sys.argv or not os.path.exists(os.path.join(OUT, model["file"])):
            train(model)
    for model in DERIVED:
        write_model(model["file"], derive(read_model(model["base"]), model))
    strings = test_strings()
    rng = random.Random(77)
    goldens = dict(strings=strings, models=[], hf=[])
    for model in MODELS + DERIVED:
        sp = load_sp(model["file"])
        ids = [sp.encode(s) for s in strings]
        decode_cases = [dict(ids=seq, text=sp.decode(seq)) for seq in random_id_sequences(sp, rng, 80)]
        goldens["models"].append(dict(name=model["name"], file=model["file"], piece_size=sp.get_piece_size(),
                                      ids=ids, decoded=[sp.decode(x) for x in ids], decode_cases=decode_cases))
    base = MODELS[0]
    sp = load_sp(base["file"])
    for folder in HF_FOLDERS:
        write_hf_folder(folder, base["file"])
        layer = HfLayer(folder, sp)
        hf_strings = strings + [s for s in HF_EXTRA_STRINGS if s not in strings]
        cases = []
        for s in hf_strings:
            with_special = layer.encode(s, True)
            cases.append(dict(ids=with_special, ids_no_special=layer.encode(s, False),
                              decoded=layer.decode(with_special, False),
                              decoded_skip_special=layer.decode(with_special, True)))
        decode_cases = [dict(ids=seq, text=layer.decode(seq, False), text_skip_special=layer.decode(seq, True))
                        for seq in hf_decode_cases(layer, rng, 100)]
        vocab_size = max(sp.get_piece_size(), max(v[0] for v in layer.added.values()) + 1)
        goldens["hf"].append(dict(folder=folder["name"], strings=hf_strings, cases=cases, decode_cases=decode_cases,
                                  vocab_size=vocab_size))
    text = json.dumps(goldens, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    with open(os.path.join(OUT, "goldens.json.gz"), "wb") as raw:  # mtime 0: the same goldens give the same bytes
        with gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=9, mtime=0) as f:
            f.write(text)
    total = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(OUT) for f in fs)
    print(f"wrote {OUT}: {len(strings)} strings, {len(MODELS) + len(DERIVED)} models, {total} bytes in all")


if __name__ == "__main__":
    main()
