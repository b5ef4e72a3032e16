"""Makes tests/fixtures/images/resize/: PIL 9.4 resize goldens, crop/pad/normalise goldens, preset goldens and the
InternVL grid table, from synthetic RGB sources stored as U8 tensors (no image decoder is needed to read them).

Large outputs are stored as every `row_step`-th row (about 8 rows of an image, 2 of each tensor plane) plus the SHA-256 of the full C-order bytes (in the "cases" JSON
metadata), so the tests check every byte while the folder stays small. Run with the system Python (PIL, numpy, torch):
    /usr/bin/python3 tools/reference/images/make_resize_fixtures.py
"""
import hashlib
import json
import os
import sys

import numpy as np
import PIL
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, HERE)
import st  # noqa: E402
import reference_pipelines as ref  # noqa: E402

OUT = os.path.join(HERE, "..", "..", "..", "tests", "fixtures", "images", "resize")
FILTERS = {"nearest": Image.NEAREST, "bilinear": Image.BILINEAR, "bicubic": Image.BICUBIC,
           "lanczos": Image.LANCZOS, "box": Image.BOX, "hamming": Image.HAMMING}
FULL_LIMIT = 6_000  # outputs with more values than this are stored as sampled rows + hash


def make_source(w, h, seed):
    """Gradients, a sine pattern, hard black/white edges, Gaussian noise and salt-and-pepper: every filter lobe and
    both clip ends get exercised."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    img = np.stack([255 * x / max(w - 1, 1), 255 * y / max(h - 1, 1), 127.5 + 127.5 * np.sin(0.7 * x + 0.3 * y)], -1)
    img[(x >= w // 3) & (x < w // 3 + 2)] = 0
    img[(y >= h // 2) & (y < h // 2 + 1)] = 255
    img[((x // 5 + y // 7) % 2 == 0) & (x > 2 * w // 3)] = [255, 0, 255]
    img += rng.normal(0, 20, img.shape)
    salt = rng.random((h, w)) < 0.04
    img[salt] = rng.choice([0.0, 255.0], size=(int(salt.sum()), 3))
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


SOURCES = {  # name -> (width, height, seed)
    "src_37x23": (37, 23, 1), "src_101x67": (101, 67, 2), "src_17x200": (17, 200, 3), "src_320x213": (320, 213, 4),
    "src_45x29": (45, 29, 5), "src_20x20": (20, 20, 6), "src_101x23": (101, 23, 7),
}


def rows_of(arr, step):
    """Every step-th row of the second-to-last axis of a (..., H, X) view; U8 images (H, W, 3) are viewed as (H, W*3)."""
    view = arr.reshape(arr.shape[0], -1) if arr.dtype == np.uint8 else arr
    return np.ascontiguousarray(view[..., ::step, :])


def add_case(tensors, cases, name, arr, **info):
    height = arr.shape[0] if arr.dtype == np.uint8 else arr.shape[-2]
    step = 1 if arr.size <= FULL_LIMIT else max(2, height // (8 if arr.dtype == np.uint8 else 2))
    tensors[name] = rows_of(arr, step)
    cases.append(dict(name=name, shape=list(arr.shape), row_step=step,
                      sha256=hashlib.sha256(np.ascontiguousarray(arr).tobytes()).hexdigest(), **info))


def resize_targets(w, h):
    """Up, down, one-axis-only, mixed and degenerate targets for a w x h source."""
    return [(29, 53), (7, 7), (1, 5), (w + 13, h), (w, h // 3 + 1), (w * 3 - 1 if w < 200 else w + 37, h // 2 + 1), (w // 2 + 1, h * 2 + 3)]


def resize_fixtures(src):
    tensors, cases = {}, []
    for sname, arr in src.items():
        if sname not in ("src_37x23", "src_101x67", "src_17x200", "src_320x213"):
            continue
        im = ref.pil(arr)
        for fname, f in FILTERS.items():
            targets = resize_targets(*im.size)
            if fname in ("nearest", "bilinear", "bicubic"):
                targets += [(384, 384), (448, 896)]
            for tw, th in targets:
                add_case(tensors, cases, f"{sname}/{fname}/{tw}x{th}", np.array(im.resize((tw, th), f)),
                         source=sname, filter=fname, width=tw, height=th)
    return tensors, cases


def geometry_fixtures(src):
    """torchvision vs HF centre crops (crop, pad, both), the ML-Mamba letterbox, and shortest-edge sizes."""
    tensors, cases = {}, []
    for sname in ("src_37x23", "src_17x200", "src_45x29"):
        arr = src[sname]
        h, w = arr.shape[:2]
        for ch, cw in ((11, 20), (h - 3, w - 3), (h - 1, w - 5), (h + 4, w + 7), (h + 3, w - 4), (h, w)):
            add_case(tensors, cases, f"{sname}/tv_center_crop/{cw}x{ch}", np.array(ref.tv_center_crop(ref.pil(arr), ch, cw)),
                     source=sname, op="tv_center_crop", width=cw, height=ch)
            add_case(tensors, cases, f"{sname}/hf_center_crop/{cw}x{ch}", ref.hf_center_crop(arr, ch, cw).copy(),
                     source=sname, op="hf_center_crop", width=cw, height=ch)
        for mname, mean in (("imagenet", ref.IMAGENET_MEAN), ("half", ref.HALF)):
            add_case(tensors, cases, f"{sname}/letterbox/{mname}",
                     np.array(ref.letterbox_pad(ref.pil(arr), ref.letterbox_fill(mean))),
                     source=sname, op="letterbox", mean=mname, fill=list(ref.letterbox_fill(mean)))
    sizes = []
    for w, h, s in ((640, 427, 336), (427, 640, 336), (101, 67, 336), (17, 200, 336), (333, 333, 336), (1, 1000, 7),
                    (1000, 1, 7), (999, 1001, 384), (37, 23, 23), (23, 37, 23), (500, 3, 224), (336, 500, 336)):
        tv = ref.tv_shortest_edge_size(w, h, s)
        hf = ref.hf_shortest_edge_size(h, w, s)
        assert tv == (hf[1], hf[0]), (w, h, s, tv, hf)
        sizes.append([w, h, s, tv[0], tv[1]])
    tensors["shortest_edge"] = np.array(sizes, dtype=np.int32)
    return tensors, cases


def normalize_fixtures(src):
    """ToTensor+Normalize (torchvision) and rescale+normalize (HF) on one source, full F32."""
    tensors, cases = {}, []
    arr = src["src_37x23"]
    for mname, mean, std in (("imagenet", ref.IMAGENET_MEAN, ref.IMAGENET_STD), ("half", ref.HALF, ref.HALF),
                             ("clip", ref.OPENAI_CLIP_MEAN, ref.OPENAI_CLIP_STD)):
        add_case(tensors, cases, f"torchvision/{mname}", ref.tv_normalize(ref.tv_to_tensor(ref.pil(arr)), mean, std).numpy(),
                 op="torchvision", norm=mname)
        add_case(tensors, cases, f"hf/{mname}", ref.hf_finish(arr, mean, std)[0], op="hf", norm=mname)
    return tensors, cases


def preset_fixtures(src):
    tensors, cases = {}, []
    runs = [("dinosiglip-384", "src_101x67", {}), ("dinosiglip-384", "src_17x200", {}),
            ("dinosiglip-384-letterbox", "src_101x67", {}), ("dinosiglip-384-letterbox", "src_17x200", {}),
            ("siglip-384", "src_101x67", {}), ("siglip-384", "src_17x200", {}),
            ("clip-336", "src_101x67", {}), ("clip-336", "src_17x200", {}), ("clip-336", "src_45x29", {}),
            ("internvl-448", "src_101x23", {}), ("internvl-448", "src_17x200", {}), ("internvl-448", "src_20x20", {}),
            ("internvl-448", "src_17x200", {"max_tiles": 6})]
    for preset, sname, opts in runs:
        arr, im = src[sname], ref.pil(src[sname])
        if preset == "dinosiglip-384":
            outputs = ref.dinosiglip_resize_naive(im)
        elif preset == "dinosiglip-384-letterbox":
            outputs = ref.dinosiglip_letterbox(im)
        elif preset == "siglip-384":
            outputs = {"pixels": ref.hf_siglip(arr)}
        elif preset == "clip-336":
            outputs = {"pixels": ref.hf_clip(arr)}
        else:
            outputs = {"pixels": ref.internvl_pixels(im, max_num=opts.get("max_tiles", 12))}
        tag = "".join(f"/{k}={v}" for k, v in opts.items())
        for oname, value in outputs.items():
            add_case(tensors, cases, f"{preset}{tag}/{sname}/{oname}", np.ascontiguousarray(value, dtype=np.float32),
                     preset=preset, source=sname, output=oname, **opts)
    return tensors, cases


def grid_table():
    """(width, height, max_num, cols, rows) from the set-ordered InternVL rule, over many aspect ratios, exact ratio
    ties (squares, multiples of a grid's shape at several areas) and midpoints between same-area grids. Also checks that
    the set's iteration order never decides a result, so a fixed (area, cols) order is equivalent."""
    rows, rng = [], np.random.default_rng(11)
    sizes = [(w, h) for w in (1, 2, 3, 17, 100, 448, 449, 1000, 4000) for h in (1, 3, 17, 100, 448, 896, 1000, 4000)]
    sizes += [(int(a), int(b)) for a, b in rng.integers(1, 3000, size=(300, 2))]
    sizes += [(448 * i * k // 2, 448 * j * k // 2) for i in range(1, 7) for j in range(1, 7) for k in (1, 2, 3)]
    for n in range(1, 41):  # midpoints between grids of the same area, scaled to small and large images
        pairs = [(i, n // i) for i in range(1, n + 1) if n % i == 0]
        for (a, b), (c, d) in zip(pairs, pairs[1:]):
            for k in (1, 40):
                sizes.append(((a * d + c * b) * k, 2 * b * d * k))
    for max_num in (1, 2, 6, 12, 40):
        for w, h in sizes:
            cols, rows_ = ref.internvl_grid(w, h, 1, max_num)
            assert (cols, rows_) == ordered_grid(w, h, max_num), (w, h, max_num)
            rows.append([w, h, max_num, cols, rows_])
    return np.array(rows, dtype=np.int32)


def ordered_grid(width, height, max_num, image_size=448):
    """The same rule over candidates in (area, cols) order: what the C# code does."""
    aspect, best_diff, best = width / height, float("inf"), (1, 1)
    candidates = sorted(((i, j) for i in range(1, max_num + 1) for j in range(1, max_num + 1) if i * j <= max_num),
                        key=lambda r: (r[0] * r[1], r[0]))
    for i, j in candidates:
        diff = abs(aspect - i / j)
        if diff < best_diff:
            best_diff, best = diff, (i, j)
        elif diff == best_diff and width * height > 0.5 * image_size * image_size * i * j:
            best = (i, j)
    return best


def save(name, tensors, cases):
    meta = {"generator": "tools/reference/images/make_resize_fixtures.py", "pillow": PIL.__version__,
            "numpy": np.__version__, "cases": json.dumps(cases, separators=(",", ":"))}
    st.save(os.path.join(OUT, name), tensors, metadata=meta)
    print(f"{name}: {len(cases)} cases, {os.path.getsize(os.path.join(OUT, name)) / 1024:.0f} KiB")


def main():
    assert PIL.__version__.startswith("9."), f"goldens are for Pillow 9.x, found {PIL.__version__}"
    os.makedirs(OUT, exist_ok=True)
    src = {name: make_source(w, h, seed) for name, (w, h, seed) in SOURCES.items()}
    save("sources.safetensors", src, [])
    save("resize.safetensors", *resize_fixtures(src))
    save("geometry.safetensors", *geometry_fixtures(src))
    save("normalize.safetensors", *normalize_fixtures(src))
    save("presets.safetensors", *preset_fixtures(src))
    save("internvl_grids.safetensors", {"grids": grid_table()}, [])


if __name__ == "__main__":
    main()
