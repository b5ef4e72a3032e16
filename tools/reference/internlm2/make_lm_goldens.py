"""Golden logits of a tiny random InternLM2ForCausalLM from HoVLE's own modeling code (hustvl/mmMamba hovle/
modeling_internlm2.py, eager attention, fp32, CPU of the GPU machine). The two files are copied to
tools/reference/_vendor/hovle/ (git-ignored, carried to the device).

The config exercises grouped-query attention (3 queries per kv head) and dynamic NTK RoPE: max_position_embeddings 16,
so the 20-token prompt runs with a raised base and the 10-token one without. Every parameter is randomised.
Writes OUT/: config.json (the llm_config fields), model.safetensors (the module's own names), logits.safetensors with
ids10/logits10 and ids20/logits20 (T, V) from one forward each (use_cache=False).
Usage: python make_lm_goldens.py OUT
"""
import json
import os
import sys
import warnings

import torch

warnings.filterwarnings("ignore")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "_vendor"))
from hovle.configuration_internlm2 import InternLM2Config  # noqa: E402
from hovle.modeling_internlm2 import InternLM2ForCausalLM  # noqa: E402

CONFIG = dict(vocab_size=61, hidden_size=48, intermediate_size=37, num_hidden_layers=2, num_attention_heads=6,
              num_key_value_heads=2, rms_norm_eps=1e-5, rope_theta=500, max_position_embeddings=16,
              rope_scaling={"type": "dynamic", "factor": 2.0}, bias=False, tie_word_embeddings=False,
              attn_implementation="eager")


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "internlm2_goldens"
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    config = InternLM2Config(**CONFIG)
    config._attn_implementation = "eager"
    model = InternLM2ForCausalLM(config).eval()
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for name, p in model.named_parameters():
            p.copy_((1.0 if name.endswith("norm.weight") else 0.0) + torch.randn(p.shape, generator=g) * (0.3 if p.dim() == 1 else 1 / p.shape[-1] ** 0.5))
    gold = {}
    with torch.no_grad():
        for n in (10, 20):
            ids = torch.tensor([[(i * 17 + 3) % 61 for i in range(n)]])
            gold[f"ids{n}"] = ids[0].to(torch.int32)
            gold[f"logits{n}"] = model(input_ids=ids, use_cache=False).logits[0].float()
    from safetensors.torch import save_file
    save_file({k: v.contiguous() for k, v in model.state_dict().items() if "rotary" not in k}, os.path.join(out, "model.safetensors"))
    save_file({k: v.contiguous() for k, v in gold.items()}, os.path.join(out, "logits.safetensors"))
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump({k: v for k, v in CONFIG.items() if k != "attn_implementation"}, f, indent=2)
    print("torch", torch.__version__, sorted(model.state_dict().keys())[:8])


if __name__ == "__main__":
    main()
