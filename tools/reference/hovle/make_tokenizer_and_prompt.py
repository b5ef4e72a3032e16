"""The tiny HoVLE / mmMamba tokenizer folder and the golden chat prompt, built the way the authors' chat() builds it.

Tokenizer: the internlm2-style SentencePiece model of the tokenizer fixtures (BPE, byte fallback; <|im_start|> = 3 and
<|im_end|> = 4 are user-defined pieces) plus HoVLE's image tokens in added_tokens.json (<img> 1200, </img> 1201,
<IMG_CONTEXT> 1202), add_bos_token as InternLM2Tokenizer. Written to OUT/tokenizer/.

Prompt (hovle/modeling_internvl_chat.py InternVLChatModel.chat, hovle/conversation.py 'internlm2-chat', both vendored
in tools/reference/_vendor/hovle): '<image>\\n' is prepended to the question, the template adds the system message and
roles, '<image>' becomes <img> + <IMG_CONTEXT> x (tokens per tile x tiles) + </img>. Ids as transformers' slow
tokenizer makes them: added tokens split out first, every other piece of text SentencePiece-encoded (with its dummy
prefix), BOS in front. Written to OUT/prompt.json.
Runs locally (Debian python3-sentencepiece): /usr/bin/python3 make_tokenizer_and_prompt.py tests/fixtures/hovle
"""
import json
import os
import re
import shutil
import sys

import sentencepiece as spm

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "_vendor"))
from hovle.conversation import get_conv_template  # noqa: E402

SP_MODEL = os.path.join(HERE, "..", "..", "..", "tests", "fixtures", "tokenizers", "sentencepiece", "internlm2-style", "tokenizer.model")
ADDED = {"<img>": 1200, "</img>": 1201, "<IMG_CONTEXT>": 1202}
TOKENS_PER_TILE, TILES = 9, 2   # 84-px tiles of 14-px patches, pixel shuffle 0.5: (6 x 6) / 4
QUESTION = "Describe the picture in a few words."


def write_tokenizer(folder):
    os.makedirs(folder, exist_ok=True)
    shutil.copy(SP_MODEL, os.path.join(folder, "tokenizer.model"))
    config = dict(add_bos_token=True, add_eos_token=False, bos_token="<s>", eos_token="</s>", unk_token="<unk>",
                  pad_token="</s>", clean_up_tokenization_spaces=False, tokenizer_class="InternLM2Tokenizer")
    specials = dict(bos_token="<s>", eos_token="</s>", unk_token="<unk>", pad_token="</s>",
                    additional_special_tokens=["<|im_start|>", "<|im_end|>", "<img>", "</img>", "<IMG_CONTEXT>"])
    for name, value in (("tokenizer_config.json", config), ("special_tokens_map.json", specials), ("added_tokens.json", ADDED)):
        with open(os.path.join(folder, name), "w") as f:
            json.dump(value, f, indent=2)


def encode(sp, text):
    """transformers' slow tokenizer: split on the added / special tokens, SentencePiece the rest, BOS first."""
    specials = {**ADDED, "<|im_start|>": sp.piece_to_id("<|im_start|>"), "<|im_end|>": sp.piece_to_id("<|im_end|>"), "<s>": 1, "</s>": 2}
    pattern = "(" + "|".join(re.escape(t) for t in sorted(specials, key=len, reverse=True)) + ")"
    ids = [sp.bos_id()]
    for part in re.split(pattern, text):
        if part in specials:
            ids.append(specials[part])
        elif part:
            ids.extend(sp.encode(part))
    return ids


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "hovle_fixtures"
    write_tokenizer(os.path.join(out, "tokenizer"))
    sp = spm.SentencePieceProcessor(model_file=SP_MODEL)
    template = get_conv_template("internlm2-chat")
    question = "<image>\n" + QUESTION
    template.append_message(template.roles[0], question)
    template.append_message(template.roles[1], None)
    query = template.get_prompt()
    query = query.replace("<image>", "<img>" + "<IMG_CONTEXT>" * (TOKENS_PER_TILE * TILES) + "</img>", 1)
    ids = encode(sp, query)
    with open(os.path.join(out, "prompt.json"), "w") as f:
        json.dump(dict(question=QUESTION, tiles=TILES, tokens_per_tile=TOKENS_PER_TILE, query=query, ids=ids), f, ensure_ascii=False, indent=1)
    print(len(ids), "ids;", query[:80].replace("\n", "\\n"), "...")


if __name__ == "__main__":
    main()
