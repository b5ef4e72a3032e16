"""Makes the checkpoint-loading fixtures in tests/fixtures/io/ with torch.save (Debian torch 1.13) and tools/reference/st.py.

Each PyTorch fixture X.pt has X.expected.safetensors beside it: the flattened dotted names and contiguous values the C#
reader must produce, byte for byte. Run: /usr/bin/python3 tools/reference/io/make_io_fixtures.py
"""
import collections
import json
import os
import sys
import zipfile

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import st  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "..", "tests", "fixtures", "io")
torch.manual_seed(1234)


ST_NAMES = {torch.float32: "F32", torch.float16: "F16", torch.float64: "F64", torch.int64: "I64", torch.int32: "I32",
            torch.uint8: "U8", torch.bool: "BOOL", torch.bfloat16: "BF16"}


def to_numpy(t):
    """st.py's (dtype, contiguous ndarray) form. Always a tuple: st.py's plain-array path turns 0-d arrays into 1-d."""
    t = t.detach().contiguous()
    arr = t.view(torch.int16).numpy().view(np.uint16) if t.dtype == torch.bfloat16 else t.numpy()
    return (ST_NAMES[t.dtype], arr.copy())


def flatten(obj, prefix=""):
    """The dotted names of every tensor under nested dicts/lists, as the C# reader names them."""
    out = {}
    if isinstance(obj, torch.Tensor):
        out[prefix] = obj
    elif isinstance(obj, dict):
        for k, v in obj.items():
            out.update(flatten(v, f"{prefix}.{k}" if prefix else str(k)))
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            out.update(flatten(v, f"{prefix}.{i}" if prefix else str(i)))
    return out


def save_pt(name, obj):
    path = os.path.join(OUT, name + ".pt")
    torch.save(obj, path)
    st.save(os.path.join(OUT, name + ".expected.safetensors"), {k: to_numpy(v) for k, v in flatten(obj).items()})
    return path


def all_dtypes():
    return {
        "f32": torch.randn(3, 5),
        "f16": torch.randn(7).half(),
        "bf16": torch.randn(2, 3).bfloat16(),
        "f64": torch.randn(2, 2, dtype=torch.float64),
        "i64": torch.tensor([-(2 ** 40), -1, 0, 7, 2 ** 62], dtype=torch.int64),
        "i32": torch.tensor([-5, 0, 123456], dtype=torch.int32),
        "u8": torch.tensor([0, 1, 200, 255], dtype=torch.uint8),
        "bool": torch.tensor([True, False, True, True, False]),
        "scalar": torch.tensor(2.5),
        "empty": torch.zeros(0, 4),
    }


def views():
    base = torch.randn(4, 6)
    tied = torch.randn(5, 3)
    col = torch.randn(3, 1)
    return {
        "base": base,
        "rows": base[1:3],              # storage offset 6, contiguous: shares base's storage
        "cols": base[:, 2:5],           # offset 2, strides (6, 1): non-contiguous
        "transposed": base.t(),         # strides (1, 6)
        "strided": base[::2, 1::2],     # strides (12, 2), offset 1
        "embed.weight": tied,           # a tied weight saved twice: one storage
        "lm_head.weight": tied,
        "expanded": col.expand(3, 4),   # stride 0
        "bf16_t": torch.randn(3, 4).bfloat16().t(),
    }


class Evil:
    """Runs a shell command when unpickled by a plain pickle.load: the reader must refuse it."""

    def __reduce__(self):
        return (os.system, ("echo pwned > /tmp/mambavl-pwned",))


def repack_deflated(src, dst):
    """Rewrites a torch zip with every entry deflated (torch itself always stores)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, zin.read(info.filename))


def make_pytorch(dtypes):
    flat = save_pt("flat", dtypes)
    repack_deflated(flat, os.path.join(OUT, "deflated.pt"))
    save_pt("nested", {
        "model": {
            "llm_backbone": {"embed.weight": torch.randn(6, 4), "layers": {"0": {"w": torch.randn(2, 3)}}},
            "mlp": collections.OrderedDict([("fc1.weight", torch.randn(4, 3).half()), ("fc1.bias", torch.randn(4))]),
        },
        "epoch": 3, "lr": 0.125, "name": "ckpt", "flags": [True, False, None], "big": 2 ** 70,
        "pair": (1.5, "x"), "blob": b"\x00\x01raw",
    })
    save_pt("views", views())
    module = torch.nn.Sequential(torch.nn.Linear(5, 3), torch.nn.LayerNorm(3), torch.nn.BatchNorm1d(3))
    with torch.no_grad():
        for p in module.parameters():
            p.normal_()
    save_pt("module", module.state_dict())
    save_pt("params", {"p": torch.nn.Parameter(torch.randn(2, 2)), "q": torch.nn.Parameter(torch.randn(3).half(), requires_grad=False)})
    torch.save({"x": torch.ones(2), "evil": Evil()}, os.path.join(OUT, "malicious.pt"))
    torch.save({"x": torch.ones(2)}, os.path.join(OUT, "legacy.pt"), _use_new_zipfile_serialization=False)


def make_sharded_bin():
    folder = os.path.join(OUT, "sharded_bin")
    os.makedirs(folder, exist_ok=True)
    shards = [{"a.weight": torch.randn(3, 2), "b.weight": torch.randn(4).half()}, {"c.weight": torch.randn(2, 2).bfloat16()}]
    weight_map, expected = {}, {}
    for i, shard in enumerate(shards):
        fname = f"pytorch_model-{i + 1:05d}-of-{len(shards):05d}.bin"
        torch.save(shard, os.path.join(folder, fname))
        for k, v in shard.items():
            weight_map[k] = fname
            expected[k] = to_numpy(v)
    write_index(os.path.join(folder, "pytorch_model.bin.index.json"), weight_map)
    st.save(os.path.join(OUT, "sharded_bin.expected.safetensors"), expected)  # outside: it would count as weights


def make_safetensors(dtypes):
    """The same tensors as flat.pt (less f64), so the two readers can be checked against each other."""
    tensors = {k: to_numpy(v) for k, v in dtypes.items() if k != "f64"}
    st.save(os.path.join(OUT, "single.safetensors"), tensors, metadata={"format": "pt"})
    folder = os.path.join(OUT, "sharded_st")
    os.makedirs(folder, exist_ok=True)
    names = sorted(tensors)
    parts = [names[: len(names) // 2], names[len(names) // 2:]]
    weight_map = {}
    for i, part in enumerate(parts):
        fname = f"model-{i + 1:05d}-of-{len(parts):05d}.safetensors"
        st.save(os.path.join(folder, fname), {k: tensors[k] for k in part})
        weight_map.update({k: fname for k in part})
    write_index(os.path.join(folder, "model.safetensors.index.json"), weight_map)


def write_index(path, weight_map):
    with open(path, "w") as f:
        json.dump({"metadata": {"total_size": 0}, "weight_map": weight_map}, f, indent=2)


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    dtypes = all_dtypes()
    make_pytorch(dtypes)
    make_sharded_bin()
    make_safetensors(dtypes)
    print("wrote", sorted(os.listdir(OUT)))
