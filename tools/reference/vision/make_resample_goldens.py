"""Golden antialiased bicubic resampling of position grids (what timm's resample_abs_pos_embed calls), with Debian's
torch: F.interpolate(grid (1, D, H, W), size, mode="bicubic", antialias=True, align_corners=False) in float32.

Writes ../../../tests/fixtures/vision/pos_resample.safetensors: for each case "in.HxW>OxP" (H, W, D) and "out.HxW>OxP".
"""
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import st  # noqa: E402

CASES = [((7, 7), (5, 5)), ((37, 37), (27, 27)), ((5, 5), (9, 9)), ((6, 4), (3, 7)), ((2, 2), (1, 1)), ((3, 3), (16, 16))]


def main():
    g = torch.Generator().manual_seed(0)
    out = {}
    for (h, w), (oh, ow) in CASES:
        d = 5
        grid = torch.randn(1, h, w, d, generator=g)
        res = F.interpolate(grid.permute(0, 3, 1, 2), size=(oh, ow), mode="bicubic", antialias=True, align_corners=False)
        key = f"{h}x{w}>{oh}x{ow}"
        out["in." + key] = grid[0].numpy().astype(np.float32)
        out["out." + key] = res.permute(0, 2, 3, 1)[0].contiguous().numpy().astype(np.float32)
    path = os.path.join(os.path.dirname(__file__), "../../../tests/fixtures/vision/pos_resample.safetensors")
    st.save(path, out, metadata={"torch": torch.__version__})
    print("wrote", path, "torch", torch.__version__)


if __name__ == "__main__":
    main()
