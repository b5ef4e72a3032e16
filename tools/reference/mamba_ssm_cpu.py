"""Runs mamba_ssm's Python modules on a CPU, for the golden scripts (the authors' forks import CUDA/Triton kernels).

install() puts the vendored fork (tools/reference/_vendor/mlmamba_fork/mamba_ssm, git-ignored) on sys.path, stubs the
Mamba-1 CUDA extension, restores two names transformers 5 removed that the fork imports, and makes
selective_scan_interface.selective_scan_fn the reference scan it ships (selective_scan_ref). causal_conv1d_ref is the
causal_conv1d package's reference (a depthwise F.conv1d with left padding).
"""
import os
import sys
import types
import warnings

import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))


def causal_conv1d_ref(x, weight, bias=None, activation=None):
    """causal_conv1d's reference: x (b, d, s), weight (d, w)."""
    seqlen, width = x.shape[-1], weight.shape[1]
    out = F.conv1d(x, weight.unsqueeze(1), bias, padding=width - 1, groups=x.shape[1])[..., :seqlen]
    return out if activation is None else F.silu(out)


def install():
    warnings.filterwarnings("ignore")
    sys.path.insert(0, os.path.join(HERE, "_vendor", "mlmamba_fork"))
    sys.modules.setdefault("selective_scan_cuda", types.ModuleType("selective_scan_cuda"))  # Mamba-1 CUDA op, unused
    import transformers.generation as tg
    for name in ("GreedySearchDecoderOnlyOutput", "SampleDecoderOnlyOutput"):  # removed in transformers 5
        if not hasattr(tg, name):
            setattr(tg, name, tg.GenerateDecoderOnlyOutput)
    import mamba_ssm.ops.selective_scan_interface as ssi
    ssi.selective_scan_fn = ssi.selective_scan_ref  # ssd_selective_scan imports it from there at call time
