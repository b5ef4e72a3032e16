"""Golden image features of HoVLE's holistic embedding module, vision path only, from the authors' own code
(hustvl/mmMamba hovle/modeling_holistic_embedding.py: VisionEmbeddings, HolisticEmbedding.pixel_shuffle and the
pixel_shuffle_proj Sequential as its __init__ builds it), fp32 on the CPU of the GPU machine. The two hovle files are
copied to tools/reference/_vendor/hovle/ (git-ignored, carried to the device).

Tiny config: hidden 32, patch 14, stored position grid 4×4 (image_size 56), tiles of 84 px (a 6×6 patch grid: the
position embedding is interpolated 4 → 6 by torch's plain bicubic, align_corners=False), 2 tiles, downsample 0.5.
Writes OUT/vision.safetensors: the module's weights (embedding_model.* names), pixels (2, 3, 84, 84), features (18, 32).
Usage: python make_vision_goldens.py OUT
"""
import importlib.machinery
import os
import sys
import types
import warnings

import torch
import torch.nn as nn

warnings.filterwarnings("ignore")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "_vendor"))
# the module imports flash_attn at load time; the vision path never calls it
_fa = types.ModuleType("flash_attn")
_fa.flash_attn_func = _fa.flash_attn_varlen_func = None
_bp = types.ModuleType("flash_attn.bert_padding")
_bp.index_first_axis = _bp.pad_input = _bp.unpad_input = None
_fa.__spec__ = importlib.machinery.ModuleSpec("flash_attn", None)
_bp.__spec__ = importlib.machinery.ModuleSpec("flash_attn.bert_padding", None)
sys.modules["flash_attn"], sys.modules["flash_attn.bert_padding"] = _fa, _bp
from hovle.modeling_holistic_embedding import HolisticEmbedding, VisionEmbeddings  # noqa: E402

D, PATCH, STORED, TILE, RATIO = 32, 14, 56, 84, 0.5


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "hovle_goldens"
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    cfg = types.SimpleNamespace(hidden_size=D, image_size=STORED, patch_size=PATCH, num_channels=3, use_2d_sincos_pos_embed=False,
                                pixel_shuffle_loc="pre", downsample_ratio=RATIO)
    vision = VisionEmbeddings(cfg).eval()
    proj = nn.Sequential(nn.Linear(int(D / (RATIO * RATIO)), D), nn.GELU(), nn.Linear(D, D)).eval()
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for m in (vision, proj):
            for p in m.parameters():
                p.copy_(torch.randn(p.shape, generator=g) * (0.3 if p.dim() == 1 else 1 / p[0].numel() ** 0.5))
        pixels = torch.randn(2, 3, TILE, TILE, generator=g)
        x = vision(pixels, use_cls_token=False)                                  # (2, 36, D)
        fake = types.SimpleNamespace(config=cfg, num_img_tokens=(STORED // PATCH) ** 2)
        x = HolisticEmbedding.pixel_shuffle(fake, x, scale_factor=RATIO)         # (2, 9, 4D)
        features = proj(x).reshape(-1, D)                                        # tile by tile, as replace_img_tokens flattens
    weights = {"embedding_model.vision_embeddings." + k: v for k, v in vision.state_dict().items()}
    weights.update({"embedding_model.pixel_shuffle_proj." + k: v for k, v in proj.state_dict().items()})
    weights["pixels"], weights["features"] = pixels, features
    from safetensors.torch import save_file
    save_file({k: v.contiguous() for k, v in weights.items()}, os.path.join(out, "vision.safetensors"))
    print("torch", torch.__version__, {k: tuple(v.shape) for k, v in weights.items()})


if __name__ == "__main__":
    main()
