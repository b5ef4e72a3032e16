"""Tiny safetensors reader/writer on numpy (Debian has no `safetensors` package). Used by every golden script.

save(path, {"name": np.ndarray, ...}, metadata=None); load(path) -> dict of np.ndarray.
bfloat16 arrays are passed as ("BF16", uint16 ndarray) tuples.
"""
import json
import struct

import numpy as np

_NP_TO_ST = {np.float32: "F32", np.float16: "F16", np.float64: "F64", np.int32: "I32", np.int64: "I64",
             np.uint8: "U8", np.bool_: "BOOL"}
_ST_TO_NP = {v: k for k, v in _NP_TO_ST.items()}
_ST_TO_NP["BF16"] = np.uint16


def save(path, tensors, metadata=None):
    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    for name, value in tensors.items():
        if isinstance(value, tuple):
            dtype, arr = value
        else:
            arr = np.asarray(value)
            dtype = _NP_TO_ST[arr.dtype.type]
        data = arr.tobytes(order="C")  # not ascontiguousarray: it turns 0-d arrays into shape (1,)
        header[name] = {"dtype": dtype, "shape": list(arr.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def load(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        a, b = e["data_offsets"]
        out[name] = np.frombuffer(data[a:b], dtype=_ST_TO_NP[e["dtype"]]).reshape(e["shape"])
    return out
