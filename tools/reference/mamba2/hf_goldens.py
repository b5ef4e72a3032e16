"""Golden logits from HF transformers' own Mamba2ForCausalLM (torch_forward path, fp32, CPU) for the fixture models.

Runs where transformers is installed (the GPU machine; see docs/MODELS.md for the command). For each HF-layout fixture
folder it loads config.json + model.safetensors into Mamba2ForCausalLM, runs the prompts of recurrence.safetensors and
12 greedy tokens (full re-forward, no cache), and writes <out>/<name>_hf.safetensors. It also prints how far HF's logits
are from the float64 recurrence, with mamba_ssm's grouped gate norm and with HF's whole-d_inner gate norm.
Usage: python3 tools/reference/mamba2/hf_goldens.py OUT_DIR
"""
import json
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, HERE)
import st  # noqa: E402
import recurrence as rec  # noqa: E402
import make_goldens as mg  # noqa: E402

FIXTURES = os.path.join(HERE, "..", "..", "..", "tests", "fixtures", "mamba2")
MODELS = ["g1_tied", "g2_untied"]


def load_hf(folder):
    import transformers
    from safetensors.torch import load_file
    with open(os.path.join(folder, "config.json")) as f:
        d = json.load(f)
    lim = d["time_step_limit"]
    d["time_step_limit"] = tuple(float(v["__float__"]) if isinstance(v, dict) else float(v) for v in lim)
    model = transformers.Mamba2ForCausalLM(transformers.Mamba2Config(**d)).float().eval()
    missing, unexpected = model.load_state_dict(load_file(os.path.join(folder, "model.safetensors")), strict=False)
    assert not unexpected, unexpected
    assert set(missing) <= ({"lm_head.weight"} if d["tie_word_embeddings"] else set()), missing
    model.tie_weights()
    if d["tie_word_embeddings"]:
        assert torch.equal(model.lm_head.weight, model.backbone.embeddings.weight)
    return model


def fast_path():
    import transformers.models.mamba2.modeling_mamba2 as modeling
    return bool(getattr(modeling, "is_fast_path_available", False))


def logits_of(model, ids):
    with torch.no_grad():
        return model(torch.tensor([ids]), use_cache=False).logits[0].float()


def main(out_dir):
    import transformers
    torch.manual_seed(0)
    summary = {"transformers": transformers.__version__, "torch": torch.__version__}
    for name in MODELS:
        folder = os.path.join(FIXTURES, name)
        golden = st.load(os.path.join(folder, "recurrence.safetensors"))
        model = load_hf(folder)
        try:
            from_pretrained_ok = transformers.Mamba2ForCausalLM.from_pretrained(folder) is not None
        except Exception as e:  # records whether HF reads its own {"__float__": "Infinity"} config quirk
            from_pretrained_ok = f"{type(e).__name__}: {e}"[:300]
        res, info = {}, {"from_pretrained": from_pretrained_ok, "cuda_kernels": fast_path()}
        c = mg.CONFIGS[name]
        cfg = mg.rec_cfg(c)
        W64 = {k: torch.from_numpy(np.array(v)).double() for k, v in st.load(os.path.join(folder, "model.safetensors")).items()}
        for T in mg.PROMPT_LENGTHS:
            ids = golden[f"ids_T{T}"].astype(np.int64).tolist()
            hf = logits_of(model, ids)
            res[f"ids_T{T}"] = np.array(ids, dtype=np.int32)
            res[f"logits_T{T}"] = hf.numpy().astype(np.float32)
            ref = torch.from_numpy(golden[f"logits_T{T}"].astype(np.float64))
            whole, _ = rec.forward(cfg, W64, ids, rec.fresh_state(cfg), gate_norm_whole=True)
            scale = float(ref.abs().max())
            info[f"T{T}_relerr_vs_recurrence"] = float((hf.double() - ref).abs().max()) / scale
            info[f"T{T}_relerr_vs_recurrence_whole_dinner_gate_norm"] = float((hf.double() - whole).abs().max()) / float(whole.abs().max())
        ids = golden["ids_T11"].astype(np.int64).tolist()
        greedy = []
        for _ in range(len(golden["greedy_ids"])):
            tok = int(torch.argmax(logits_of(model, ids + greedy)[-1]))
            greedy.append(tok)
        res["greedy_ids"] = np.array(greedy, dtype=np.int32)
        info["greedy"] = greedy
        info["greedy_recurrence"] = golden["greedy_ids"].tolist()
        try:  # HF's cached decode path (Mamba2 cache + torch step), for the record
            with torch.no_grad():
                gen = model.generate(torch.tensor([ids]), max_new_tokens=len(greedy), do_sample=False,
                                     eos_token_id=None, pad_token_id=0, min_new_tokens=len(greedy))
            info["greedy_generate_cached"] = gen[0, len(ids):].tolist()
        except Exception as e:
            info["greedy_generate_cached"] = f"{type(e).__name__}: {e}"[:300]
        st.save(os.path.join(out_dir, f"{name}_hf.safetensors"), res,
                metadata={"made_by": "tools/reference/mamba2/hf_goldens.py",
                          "transformers": transformers.__version__, "torch": torch.__version__})
        summary[name] = info
    print(json.dumps(summary, indent=2))
    with open(os.path.join(out_dir, "hf_summary.json"), "w") as f:
        json.dump(summary, f, indent=2)


if __name__ == "__main__":
    main(sys.argv[1])
