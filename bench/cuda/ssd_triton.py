# Times mamba_ssm's Triton SSD forward (`mamba_chunk_scan_combined`) on mamba2-2.7b mixer shapes, to set beside
# `mambavl bench ssd --device cuda`. mamba_ssm itself is not part of this repository: pass the folder that holds a copy
# of its package (mamba_ssm/ops/triton/*.py, mamba_ssm/utils/{torch,determinism}.py, empty __init__.py files).
#   python3 bench/cuda/ssd_triton.py /path/to/folder [--lengths 2048,8192,32768]
# Batch 1, H=80, P=64, N=128, G=1, chunk 256, dt fp32 with dt_bias and softplus, D per head; x, B, C in bf16 and in
# fp32 (Triton's dots then run as TF32). triton.testing.do_bench median (warmup 200 ms, rep 1000 ms), warm.
import argparse
import sys

import torch
import triton.testing

parser = argparse.ArgumentParser()
parser.add_argument("folder", help="folder containing the mamba_ssm package copy")
parser.add_argument("--lengths", default="2048,8192,32768")
args = parser.parse_args()
sys.path.insert(0, args.folder)
from mamba_ssm.ops.triton.ssd_combined import mamba_chunk_scan_combined  # noqa: E402

H, P, N, G, CHUNK = 80, 64, 128, 1, 256
torch.manual_seed(0)
print(f"device: {torch.cuda.get_device_name()}, torch {torch.__version__}, triton {triton.__version__}")
print("| L | inputs | ms | tokens/s | min-bytes GB/s |")
print("| ---: | --- | ---: | ---: | ---: |")
for length in [int(v) for v in args.lengths.split(",")]:
    for dtype, name in ((torch.bfloat16, "bf16"), (torch.float32, "fp32")):
        dev = "cuda"
        x = torch.empty(1, length, H, P, device=dev, dtype=dtype).uniform_(-1, 1)
        dt = torch.empty(1, length, H, device=dev, dtype=torch.float32).uniform_(-3, 1)
        b = torch.empty(1, length, G, N, device=dev, dtype=dtype).uniform_(-1, 1)
        c = torch.empty(1, length, G, N, device=dev, dtype=dtype).uniform_(-1, 1)
        a = -torch.empty(H, device=dev).uniform_(1, 8)
        dt_bias = torch.empty(H, device=dev).uniform_(-4, -2)
        d = torch.rand(H, device=dev)

        def call():
            return mamba_chunk_scan_combined(x, dt, a, b, c, CHUNK, D=d, dt_bias=dt_bias, dt_softplus=True)

        call()  # autotuning and JIT before timing
        ms = triton.testing.do_bench(call, warmup=200, rep=1000, return_mode="median")
        size = x.element_size()
        min_bytes = 2 * length * H * P * size + length * H * 4 + 2 * length * G * N * size
        print(f"| {length} | {name} | {ms:.3f} | {length / ms * 1e3 / 1e6:.2f} M | {min_bytes / (ms * 1e-3) / 1e9:.0f} |", flush=True)
        del x, dt, b, c
