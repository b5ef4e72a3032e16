"""End-to-end goldens of tiny random HoVLE (teacher), mmMamba-linear and mmMamba-hybrid models from the authors' code,
fp32 on the CPU of the GPU machine.

The teacher is the authors' InternVLChatModel (hustvl/mmMamba hovle/modeling_internvl_chat.py with its
modeling_holistic_embedding.py and modeling_internlm2.py, copied to tools/reference/_vendor/hovle/, git-ignored). The
students are that model with the attention of every "mamba2" layer replaced by the authors' Mamba2_Attention (stage-3
inference branch), as src/model/convert_model.py does, then exported in the HF key form of convert_weight.py
(wvkqgdt = cat[v, k, q, g, dt], g_norm_swish_gate). Every parameter is random.
Kernels that cannot run here are replaced by references (see make_mixer_goldens.py for the Mamba-2 ones);
flash_attn_func, which the holistic embedding's layers use (their eager path stops in pdb and has no causal mask),
is a plain causal softmax attention with grouped kv heads.

Tiny shapes: hidden 64, 4 heads of 16, 2 kv heads; embedding module 3 layers (FFN 80), LLM 4 layers (FFN 96); vocab
1200 text + 3 special-token rows (<img>, </img>, <IMG_CONTEXT> = 1200..1202) in special_text_embeddings, LLM vocab
1203; 84-px tiles (position grid 4 -> 6, 9 tokens per tile). Hybrid kinds: embedding [mha, mamba2, mamba2], LLM
[mamba2, mha, mamba2, mamba2] (global layers 0 and 4, the paper's interval); its kept embedding layer is stored as
wqkv/wo, its kept LLM layer in the Mamba form (both are accepted). The teacher is written as 2 fp32 shards with an
index, linear in bf16 (the model computes with the bf16-rounded values), hybrid fp32.
Input: the prompt ids of tests/fixtures/hovle/prompt.json (make_tokenizer_and_prompt.py) and 2 random tiles.
Writes OUT/{teacher,linear,hybrid}/: config.json, weights, the tokenizer files, goldens.safetensors with pixels,
ids, emb_hidden{i} / llm_hidden{i} (T, D) after each layer, logits (T, V) and greedy (8 ids, each from a full forward).
Usage: python make_model_goldens.py OUT
"""
import copy
import importlib.machinery
import json
import os
import shutil
import sys
import types

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.join(HERE, "..", "..", "..")
VENDOR = os.path.join(HERE, "..", "_vendor")
sys.path.insert(0, os.path.join(HERE, "..", "mmmamba"))
import make_mixer_goldens as mixer_env  # noqa: E402  (CPU stand-ins for the Mamba-2 kernels; imports Mamba2_Attention)

mm = mixer_env.mm
D, H, HKV, TILE, GREEDY = 64, 4, 2, 84, 8


def flash_attn_func(q, k, v, dropout_p=0.0, softmax_scale=None, causal=False):
    """flash_attn's contract: q (B, L, H, d), k/v (B, S, Hkv, d), query head h reads kv head h // (H / Hkv)."""
    rep = q.shape[2] // k.shape[2]
    k, v = (t.repeat_interleave(rep, dim=2).transpose(1, 2) for t in (k, v))
    y = F.scaled_dot_product_attention(q.transpose(1, 2), k, v, is_causal=causal and q.shape[1] > 1, scale=softmax_scale)
    return y.transpose(1, 2)


def install_stubs():
    fa = types.ModuleType("flash_attn")
    fa.flash_attn_func, fa.flash_attn_varlen_func = flash_attn_func, None
    bp = types.ModuleType("flash_attn.bert_padding")
    bp.index_first_axis = bp.pad_input = bp.unpad_input = None
    fa.__spec__ = importlib.machinery.ModuleSpec("flash_attn", None)
    bp.__spec__ = importlib.machinery.ModuleSpec("flash_attn.bert_padding", None)
    sys.modules["flash_attn"], sys.modules["flash_attn.bert_padding"] = fa, bp
    peft = types.ModuleType("peft")
    peft.LoraConfig = peft.get_peft_model = None
    sys.modules["peft"] = peft
    # the eager path of the vendored copy stops in the debugger; it is not used, but the line must not run
    path = os.path.join(VENDOR, "hovle", "modeling_holistic_embedding.py")
    with open(path) as f:
        text = f.read()
    if "import pdb;pdb.set_trace()" in text:
        with open(path, "w") as f:
            f.write(text.replace("import pdb;pdb.set_trace()", "pass"))
    sys.path.insert(0, VENDOR)


EMBEDDING = dict(num_hidden_layers=3, hidden_size=D, num_attention_heads=H, num_key_value_heads=HKV, intermediate_size=80,
                 rms_norm_eps=1e-5, rope_theta=10000.0, max_position_embeddings=4096,
                 rope_scaling={"type": "dynamic", "factor": 2.0}, patch_size=14, image_size=56, num_channels=3,
                 use_ls=False, special_token_maps={"<img>": 1200, "</img>": 1201, "<IMG_CONTEXT>": 1202},
                 llm_vocab_size=1200, llm_hidden_size=D, attn_implementation="flash_attention_2", downsample_ratio=0.5,
                 img_context_token_id=1202, pixel_shuffle_loc="pre", use_pixel_shuffle_proj=True,
                 use_2d_sincos_pos_embed=False, model_type="holistic_embedding")
LLM = dict(architectures=["InternLM2ForCausalLM"], vocab_size=1203, hidden_size=D, intermediate_size=96, num_hidden_layers=4,
           num_attention_heads=H, num_key_value_heads=HKV, rms_norm_eps=1e-5, rope_theta=1e6, max_position_embeddings=4096,
           rope_scaling={"type": "dynamic", "factor": 2.0}, bias=False, tie_word_embeddings=False,
           attn_implementation="eager", model_type="internlm2", bos_token_id=1, eos_token_id=2, pad_token_id=2)
TOP = dict(template="internlm2-chat", force_image_size=TILE, downsample_ratio=0.5, dynamic_image_size=True,
           use_thumbnail=True, min_dynamic_patch=1, max_dynamic_patch=12, ps_version="v2", select_layer=-1,
           normalize_encoder_output=False)
KINDS = {"teacher": None, "linear": (["mamba2"] * 3, ["mamba2"] * 4),
         "hybrid": (["mha", "mamba2", "mamba2"], ["mamba2", "mha", "mamba2", "mamba2"])}


def build_teacher():
    from hovle.configuration_internvl_chat import InternVLChatConfig
    from hovle.modeling_internvl_chat import InternVLChatModel
    config = InternVLChatConfig(embedding_config=dict(EMBEDDING), llm_config=dict(LLM), **TOP)
    config.embedding_config.attn_implementation = "flash_attention_2"
    config.llm_config.attn_implementation = "eager"
    model = InternVLChatModel(config).eval()
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for name, p in model.named_parameters():
            p.copy_(randomised(name, p, g))
    return model


def randomised(name, p, g):
    if name.endswith("norm.weight") or name.endswith("g_norm.weight"):
        return 1.0 + 0.3 * torch.randn(p.shape, generator=g)
    if name.endswith("dt_bias"):
        dt = torch.exp(torch.rand(p.shape, generator=g) * (torch.log(torch.tensor(0.1)) - torch.log(torch.tensor(1e-3))) + torch.log(torch.tensor(1e-3)))
        return dt + torch.log(-torch.expm1(-dt))
    if name.endswith("A_log_bias"):
        return torch.log(torch.rand(p.shape, generator=g) * 15 + 1)
    if p.dim() == 1 or "position_embedding" in name or "class_embedding" in name:
        return 0.3 * torch.randn(p.shape, generator=g)
    fan_in = p[0].numel() if p.dim() > 1 else 1
    return torch.randn(p.shape, generator=g) / fan_in ** 0.5


def to_student(teacher, kinds, seed):
    model = copy.deepcopy(teacher)
    g = torch.Generator().manual_seed(seed)
    layers = [(l, k) for l, k in zip(model.embedding_model.encoder, kinds[0])] + \
             [(l, k) for l, k in zip(model.language_model.model.layers, kinds[1])]
    for i, (layer, kind) in enumerate(layers):
        if kind != "mamba2":
            continue
        layer.attention = mm.Mamba2_Attention(layer.attention, layer_idx=i, use_conv=True, use_gnorm=True, use_A=True,
                                              use_D=False, inherit_qkv=True, mimic_init=True).eval()
        with torch.no_grad():  # trained students move every mixer weight away from the teacher's
            for name, p in layer.attention.named_parameters():
                p.copy_(randomised(name, p, g))
    return model.eval()


def exported(model, kinds, mamba_form_attention_llm_layers=()):
    """The state dict under convert_weight.py's names; kept LLM attention layers listed are written in the Mamba form."""
    sd = {k: v.detach().clone() for k, v in model.state_dict().items() if "rotary" not in k}
    out = {}
    prefixes = [f"embedding_model.encoder.{i}.attention." for i in range(3)] + [f"language_model.model.layers.{i}.attention." for i in range(4)]
    for prefix in prefixes:
        keys = {k[len(prefix):]: k for k in sd if k.startswith(prefix)}
        if "q_proj.weight" in keys:
            p = {n: sd.pop(k) for n, k in keys.items()}
            out[prefix + "wvkqgdt.weight"] = torch.cat([p["v_proj.weight"], p["k_proj.weight"], p["q_proj.weight"], p["g_proj.weight"], p["in_proj.weight"]])
            out[prefix + "g_norm_swish_gate.weight"] = p["g_norm.weight"]
            for n in ("conv1d.weight", "conv1d.bias", "dt_bias", "A_log_bias", "o_proj.weight"):
                out[prefix + n] = p[n]
        elif prefix.startswith("language_model") and int(prefix.split(".")[3]) in mamba_form_attention_llm_layers:
            # a kept attention layer as convert_weight.py may leave it: v | k | q rows of wqkv, then unused g and dt rows
            wqkv, wo = sd.pop(keys["wqkv.weight"]), sd.pop(keys["wo.weight"])
            blocks = wqkv.reshape(HKV, H // HKV + 2, D // H, D)
            q, k, v = blocks[:, :-2].reshape(-1, D), blocks[:, -2].reshape(-1, D), blocks[:, -1].reshape(-1, D)
            g = torch.Generator().manual_seed(7)
            out[prefix + "wvkqgdt.weight"] = torch.cat([v, k, q, torch.randn(D, D, generator=g), torch.randn(H, D, generator=g)])
            out[prefix + "o_proj.weight"] = wo
            out[prefix + "conv1d.weight"] = torch.randn(2 * HKV * (D // H) + D, 1, 2, generator=g)
            out[prefix + "conv1d.bias"] = torch.zeros(2 * HKV * (D // H) + D)
            out[prefix + "dt_bias"], out[prefix + "A_log_bias"] = torch.zeros(H), torch.ones(H)
            out[prefix + "g_norm_swish_gate.weight"] = torch.ones(D // H)
    out.update(sd)
    return out


def run(model, pixels, ids):
    hidden = {}
    hooks = [layer.register_forward_hook(lambda m, a, o, n=f"emb_hidden{i}": hidden.__setitem__(n, o[0][0].detach().clone()))
             for i, layer in enumerate(model.embedding_model.encoder)]
    hooks += [layer.register_forward_hook(lambda m, a, o, n=f"llm_hidden{i}": hidden.__setitem__(n, o[0][0].detach().clone()))
              for i, layer in enumerate(model.language_model.model.layers)]
    with torch.no_grad():
        logits = model(pixel_values=pixels, input_ids=ids, use_cache=False, return_dict=True).logits[0].float()
        for h in hooks:
            h.remove()
        greedy, seq = [], ids
        for _ in range(GREEDY):
            nxt = int(model(pixel_values=pixels, input_ids=seq, use_cache=False, return_dict=True).logits[0, -1].argmax())
            greedy.append(nxt)
            seq = torch.cat([seq, torch.tensor([[nxt]])], dim=1)
    return dict(hidden, logits=logits, greedy=torch.tensor(greedy, dtype=torch.int32))


def config_json(name, kinds):
    c = dict(TOP, architectures=["InternVLChatModel"], model_type="internvl_chat",
             embedding_config=dict(EMBEDDING, attn_implementation="flash_attention_2"), llm_config=dict(LLM))
    if kinds is not None:
        c.update(architectures="mmMambaChatModel", model_type="mmMamba_chat")
        c["embedding_config"].update(model_type="mmMamba_embedding", layers_block_type=kinds[0])
        c["llm_config"].update(architectures="mmMambaForCausalLM", model_type="mmMamba", layers_block_type=kinds[1])
    return c


def save(folder, name, weights, kinds, gold):
    from safetensors.torch import save_file
    os.makedirs(folder, exist_ok=True)
    weights = {k: v.contiguous() for k, v in weights.items()}
    if name == "teacher":  # two shards and an index, as the HoVLE release
        keys = sorted(weights)
        shards = {"model-00001-of-00002.safetensors": [k for k in keys if k.startswith("embedding_model")],
                  "model-00002-of-00002.safetensors": [k for k in keys if not k.startswith("embedding_model")]}
        for file, names in shards.items():
            save_file({k: weights[k] for k in names}, os.path.join(folder, file), metadata={"format": "pt"})
        index = dict(metadata=dict(total_size=sum(v.numel() * v.element_size() for v in weights.values())),
                     weight_map={k: f for f, names in shards.items() for k in names})
        with open(os.path.join(folder, "model.safetensors.index.json"), "w") as f:
            json.dump(index, f, indent=1)
    else:
        dtype = torch.bfloat16 if name == "linear" else torch.float32
        save_file({k: v.to(dtype) for k, v in weights.items()}, os.path.join(folder, "model.safetensors"), metadata={"format": "pt"})
    save_file({k: v.contiguous() for k, v in gold.items()}, os.path.join(folder, "goldens.safetensors"))
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(config_json(name, kinds), f, indent=1)
    tok = os.path.join(REPO, "tests", "fixtures", "hovle", "tokenizer")
    for file in os.listdir(tok):
        shutil.copy(os.path.join(tok, file), os.path.join(folder, file))


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "hovle_model_goldens"
    install_stubs()
    torch.manual_seed(0)
    with open(os.path.join(REPO, "tests", "fixtures", "hovle", "prompt.json")) as f:
        prompt = json.load(f)
    ids = torch.tensor([prompt["ids"]])
    pixels = torch.randn(prompt["tiles"], 3, TILE, TILE, generator=torch.Generator().manual_seed(5))
    teacher = build_teacher()
    for seed, (name, kinds) in enumerate(KINDS.items()):
        model = teacher if kinds is None else to_student(teacher, kinds, seed + 10)
        weights = exported(model, kinds or ([], []), mamba_form_attention_llm_layers=(1,) if name == "hybrid" else ())
        if name == "linear":  # the release is bf16: compute with the values the file holds
            with torch.no_grad():
                for p in model.parameters():
                    p.copy_(p.to(torch.bfloat16).float())
            weights = {k: v.to(torch.bfloat16).float() for k, v in weights.items()}
        gold = run(model, pixels, ids)
        gold.update(pixels=pixels, ids=ids[0].to(torch.int32))
        save(os.path.join(out, name), name, weights, kinds, gold)
        print(name, "logits", tuple(gold["logits"].shape), "greedy", gold["greedy"].tolist(), "weights", len(weights))
    print("torch", torch.__version__)


if __name__ == "__main__":
    main()
