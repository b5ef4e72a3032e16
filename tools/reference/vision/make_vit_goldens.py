"""Golden features of tiny random ViT towers from timm and HF transformers (run on the GPU machine, which has both).

Writes, under OUT/ (default ./vit_goldens):
  dino/     timm folder (config.json with architecture + model_args, model.safetensors) of a tiny
            vit_large_patch14_reg4_dinov2 stored at img_size 98 (7x7 position grid), like the real 37x37 checkpoint
  siglip/   timm folder of a tiny vit_so400m_patch14_siglip_384 (no class token, attention-pool head present but unused)
  clip/     HF folder (config.json, model.safetensors) of a tiny CLIPVisionModel (quick_gelu, pre_layrnorm)
  goldens.safetensors:
    pixels                  (3, 70, 70) the input image for every tower
    dino.pos_embed          (1, 25, D) the position embedding timm builds when loading the 7x7 checkpoint at img_size 70
    dino.block{i}           (25, D) get_intermediate_layers(n={i}) at img_size 70: no final norm, prefix tokens dropped
    siglip.block{i}         (25, D)
    dino.final / siglip.final  forward_features (all tokens, final norm)
    fused                   (25, Dd + Ds) ML-Mamba's featurizer: cat([dino block depth-2, siglip block depth-2], dim=-1)
    clip.hidden{i}          (10, D) CLIPVisionModel hidden_states[i] (0 = embeddings after pre_layrnorm; CLS included)
Every parameter is randomised (norm weights, LayerScale gammas, biases): default inits hide bugs. Float32 on the CPU.
"""
import argparse
import json
import os

import torch
import timm
from safetensors.torch import save_file
from transformers import CLIPVisionConfig, CLIPVisionModel

IMG = 70


def randomise(model, seed):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            scale = 0.5 if p.dim() == 1 else 1.0 / max(1, p.shape[-1]) ** 0.5
            p.copy_(torch.randn(p.shape, generator=g) * scale + (1.0 if name.endswith("norm1.weight") or name.endswith("norm2.weight") else 0.0))


def save_timm_folder(model, out, architecture, model_args, stored_img):
    os.makedirs(out, exist_ok=True)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, os.path.join(out, "model.safetensors"))
    cfg = {"architecture": architecture, "num_classes": 0, "num_features": model_args["embed_dim"],
           "global_pool": model.global_pool, "model_args": model_args,
           "pretrained_cfg": {"input_size": [3, stored_img, stored_img], "interpolation": "bicubic", "crop_pct": 1.0,
                              "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225], "num_classes": 0}}
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)


def timm_tower(architecture, model_args, stored_img, seed, out):
    """The tower as saved at stored_img, then re-created at IMG and loaded through timm's checkpoint filter."""
    stored = timm.create_model(architecture, pretrained=False, num_classes=0, img_size=stored_img, **model_args)
    randomise(stored, seed)
    save_timm_folder(stored, out, architecture, model_args, stored_img)
    model = timm.create_model(architecture, pretrained=False, num_classes=0, img_size=IMG, **model_args)
    from timm.models.vision_transformer import checkpoint_filter_fn
    model.load_state_dict(checkpoint_filter_fn(stored.state_dict(), model))
    return model.eval()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="vit_goldens")
    args = ap.parse_args()
    torch.manual_seed(0)
    goldens = {}
    pixels = torch.randn(1, 3, IMG, IMG, generator=torch.Generator().manual_seed(1))
    goldens["pixels"] = pixels[0]

    dino_args = dict(embed_dim=48, depth=4, num_heads=3)
    dino = timm_tower("vit_large_patch14_reg4_dinov2", dino_args, 98, 11, os.path.join(args.out, "dino"))
    siglip_args = dict(embed_dim=40, depth=3, num_heads=4)
    siglip = timm_tower("vit_so400m_patch14_siglip_384", siglip_args, IMG, 12, os.path.join(args.out, "siglip"))
    goldens["dino.pos_embed"] = dino.pos_embed.detach()

    with torch.no_grad():
        for name, model, depth in (("dino", dino, 4), ("siglip", siglip, 3)):
            for i in range(depth):
                goldens[f"{name}.block{i}"] = model.get_intermediate_layers(pixels, n={i})[0][0]
            goldens[f"{name}.final"] = model.forward_features(pixels)[0]
        goldens["fused"] = torch.cat([dino.get_intermediate_layers(pixels, n={2})[0],
                                      siglip.get_intermediate_layers(pixels, n={1})[0]], dim=2)[0]

        cfg = CLIPVisionConfig(hidden_size=32, intermediate_size=37, num_attention_heads=4, num_hidden_layers=3,
                               image_size=IMG, patch_size=14, hidden_act="quick_gelu", layer_norm_eps=1e-5)
        clip = CLIPVisionModel(cfg).eval()
        randomise(clip, 13)
        clip.save_pretrained(os.path.join(args.out, "clip"), safe_serialization=True)
        hidden = clip(pixel_values=pixels, output_hidden_states=True).hidden_states
        for i, h in enumerate(hidden):
            goldens[f"clip.hidden{i}"] = h[0]

    save_file({k: v.contiguous().float() for k, v in goldens.items()}, os.path.join(args.out, "goldens.safetensors"))
    print("timm", timm.__version__, "torch", torch.__version__)
    for k, v in goldens.items():
        print(k, tuple(v.shape))


if __name__ == "__main__":
    main()
