"""Python re-implementations of the reference image pipelines the C# presets match, built only on PIL 9.4, numpy and torch.

torchvision, timm and HF transformers are not installed here, so each function below reproduces the arithmetic of the
named upstream function line for line (same dtypes, same rounding, same operation order). Resizing is always PIL's own
Image.resize, as it is upstream.
"""
import math

import numpy as np
import torch
from PIL import Image, ImageOps

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
HALF = (0.5, 0.5, 0.5)
OPENAI_CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
OPENAI_CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


def pil(arr):
    return Image.fromarray(np.ascontiguousarray(arr, dtype=np.uint8), "RGB")


# ---- torchvision (transforms/functional.py, functional_pil.py; 0.15+) ----

def tv_shortest_edge_size(w, h, size):
    """torchvision functional._compute_resized_output_size for an int size, no max_size: returns (new_w, new_h)."""
    short, long = (w, h) if w <= h else (h, w)
    new_short, new_long = size, int(size * long / short)
    return (new_short, new_long) if w <= h else (new_long, new_short)


def tv_resize(img, size, resample):
    """torchvision F.resize on a PIL image: size int (shortest edge) or (h, w); returns img when the size is unchanged,
    otherwise functional_pil.resize -> img.resize((w, h), resample)."""
    if isinstance(size, int):
        new_w, new_h = tv_shortest_edge_size(img.width, img.height, size)
    else:
        new_h, new_w = size
    if (new_w, new_h) == img.size:
        return img
    return img.resize((new_w, new_h), resample)


def tv_pad(img, left, top, right, bottom, fill):
    """torchvision functional_pil.pad, constant mode: ImageOps.expand(img, border=(l, t, r, b), fill=fill)."""
    return ImageOps.expand(img, border=(left, top, right, bottom), fill=fill)


def tv_center_crop(img, crop_h, crop_w):
    """torchvision F.center_crop on a PIL image: zero-pad (floor before, ceil after) where the crop is larger, then
    crop at int(round((size - crop) / 2.0)) (Python's round: half to even)."""
    w, h = img.size
    if crop_w > w or crop_h > h:
        pad = [(crop_w - w) // 2 if crop_w > w else 0, (crop_h - h) // 2 if crop_h > h else 0,
               (crop_w - w + 1) // 2 if crop_w > w else 0, (crop_h - h + 1) // 2 if crop_h > h else 0]
        img = tv_pad(img, *pad, fill=0)
        w, h = img.size
        if crop_w == w and crop_h == h:
            return img
    top = int(round((h - crop_h) / 2.0))
    left = int(round((w - crop_w) / 2.0))
    return img.crop((left, top, left + crop_w, top + crop_h))


def tv_to_tensor(img):
    """torchvision F.to_tensor for an RGB PIL image: uint8 HWC -> CHW, .to(float32).div(255)."""
    t = torch.from_numpy(np.array(img, np.uint8, copy=True)).view(img.height, img.width, 3)
    return t.permute((2, 0, 1)).contiguous().to(dtype=torch.float32).div(255)


def tv_normalize(t, mean, std):
    """torchvision F.normalize: mean/std as float32 tensors, tensor.sub_(mean).div_(std)."""
    m = torch.as_tensor(mean, dtype=t.dtype).view(-1, 1, 1)
    s = torch.as_tensor(std, dtype=t.dtype).view(-1, 1, 1)
    return t.sub_(m).div_(s)


# ---- ML-Mamba (mlmamba/models/backbones/vision/base_vision.py, dinosiglip_vit.py) ----

def letterbox_fill(mean):
    """dinosiglip_vit.py: fill = tuple(int(x * 255) for x in mean) (truncation, not rounding)."""
    return tuple(int(x * 255) for x in mean)


def letterbox_pad(img, fill):
    """base_vision.LetterboxPad: int((max_wh - w) / 2) on both sides of each axis (one short of square when odd)."""
    (w, h), max_wh = img.size, max(img.size)
    hp, vp = int((max_wh - w) / 2), int((max_wh - h) / 2)
    return tv_pad(img, hp, vp, hp, vp, fill)


def dinosiglip_resize_naive(img, size=384):
    """DinoSigLIPViTBackbone, image_resize_strategy "resize-naive": per branch Resize((size, size), BICUBIC),
    CenterCrop(size) (timm eval transform, a no-op here), ToTensor, Normalize (timm data_cfg mean/std)."""
    out = {}
    for name, (mean, std) in (("dino", (IMAGENET_MEAN, IMAGENET_STD)), ("siglip", (HALF, HALF))):
        x = tv_center_crop(tv_resize(img, (size, size), Image.BICUBIC), size, size)
        out[name] = tv_normalize(tv_to_tensor(x), mean, std).numpy()
    return out


def dinosiglip_letterbox(img, size=384):
    """DinoSigLIPViTBackbone, image_resize_strategy "letterbox": per branch LetterboxPad(int(mean * 255) fill), then the
    timm eval transform (transforms_imagenet_eval, crop_pct 1.0): Resize(size) shortest edge BICUBIC, CenterCrop(size),
    ToTensor, Normalize."""
    out = {}
    for name, (mean, std) in (("dino", (IMAGENET_MEAN, IMAGENET_STD)), ("siglip", (HALF, HALF))):
        x = tv_resize(letterbox_pad(img, letterbox_fill(mean)), size, Image.BICUBIC)
        out[name] = tv_normalize(tv_to_tensor(tv_center_crop(x, size, size)), mean, std).numpy()
    return out


# ---- HF transformers (image_transforms.py, image_processing_{siglip,clip}.py; slow numpy processors) ----

def hf_shortest_edge_size(h, w, size):
    """image_transforms.get_resize_output_image_size(default_to_square=False, max_size=None): returns (new_h, new_w)."""
    short, long = (w, h) if w <= h else (h, w)
    new_short, new_long = size, int(size * long / short)
    return (new_long, new_short) if w <= h else (new_short, new_long)


def hf_resize(arr, h, w, resample):
    """image_transforms.resize on a uint8 HWC array: to_pil_image (no rescale for uint8), PIL resize, np.array."""
    return np.array(pil(arr).resize((w, h), resample=resample))


def hf_center_crop(arr, crop_h, crop_w):
    """image_transforms.center_crop on HWC: works in CHW; top = (h - crop_h) // 2 (floor); when the image is smaller,
    zero-pads with ceil((new - orig) / 2) before and slices the padded image."""
    image = arr.transpose(2, 0, 1)
    orig_h, orig_w = image.shape[-2:]
    top = (orig_h - crop_h) // 2
    bottom = top + crop_h
    left = (orig_w - crop_w) // 2
    right = left + crop_w
    if top >= 0 and bottom <= orig_h and left >= 0 and right <= orig_w:
        return image[..., top:bottom, left:right].transpose(1, 2, 0)
    new_h, new_w = max(crop_h, orig_h), max(crop_w, orig_w)
    new_image = np.zeros_like(image, shape=image.shape[:-2] + (new_h, new_w))
    top_pad = math.ceil((new_h - orig_h) / 2)
    left_pad = math.ceil((new_w - orig_w) / 2)
    new_image[..., top_pad:top_pad + orig_h, left_pad:left_pad + orig_w] = image
    top, bottom, left, right = top + top_pad, bottom + top_pad, left + left_pad, right + left_pad
    cropped = new_image[..., max(0, top):min(new_h, bottom), max(0, left):min(new_w, right)]
    return cropped.transpose(1, 2, 0)


def hf_rescale(arr, scale=1 / 255):
    """image_transforms.rescale: image.astype(float64) * scale, then astype(float32)."""
    return (arr.astype(np.float64) * scale).astype(np.float32)


def hf_normalize(arr, mean, std):
    """image_transforms.normalize on a float32 HWC image: (image - mean) / std with float32 mean/std arrays."""
    return (arr - np.array(mean, dtype=arr.dtype)) / np.array(std, dtype=arr.dtype)


def hf_finish(arr, mean, std):
    """rescale, normalize, to channels-first, batch of one (BatchFeature pixel_values)."""
    return hf_normalize(hf_rescale(arr), mean, std).transpose(2, 0, 1)[None].copy()


def hf_siglip(arr, size=384):
    """SiglipImageProcessor.preprocess with google/siglip-so400m-patch14-384's preprocessor_config.json: resize to
    {"height": 384, "width": 384} with resample 3 (BICUBIC), rescale 1/255, normalize 0.5/0.5."""
    return hf_finish(hf_resize(arr, size, size, Image.BICUBIC), HALF, HALF)


def hf_clip(arr, size=336):
    """CLIPImageProcessor.preprocess for openai/clip-vit-large-patch14-336: shortest_edge 336 BICUBIC, center_crop
    336x336, rescale 1/255, normalize with the OpenAI CLIP mean/std."""
    h, w = hf_shortest_edge_size(arr.shape[0], arr.shape[1], size)
    return hf_finish(hf_center_crop(hf_resize(arr, h, w, Image.BICUBIC), size, size), OPENAI_CLIP_MEAN, OPENAI_CLIP_STD)


# ---- InternVL dynamic tiling (OpenGVLab/InternVL: find_closest_aspect_ratio, dynamic_preprocess, build_transform) ----

def internvl_grid(width, height, min_num=1, max_num=12, image_size=448):
    """The (cols, rows) grid InternVL picks. The candidates are a Python set sorted by area (stable sort, so equal
    areas keep the set's iteration order, as upstream); the first strictly closer ratio wins; an equally close one
    replaces it when width*height > 0.5 * image_size^2 * cols * rows."""
    aspect = width / height
    candidates = set((i, j) for n in range(min_num, max_num + 1) for i in range(1, n + 1) for j in range(1, n + 1)
                     if min_num <= i * j <= max_num)
    best_diff, best = float("inf"), (1, 1)
    for ratio in sorted(candidates, key=lambda r: r[0] * r[1]):
        diff = abs(aspect - ratio[0] / ratio[1])
        if diff < best_diff:
            best_diff, best = diff, ratio
        elif diff == best_diff and width * height > 0.5 * image_size * image_size * ratio[0] * ratio[1]:
            best = ratio
    return best


def internvl_tiles(img, max_num=12, image_size=448, use_thumbnail=True):
    """dynamic_preprocess: resize to the grid with Image.resize's default filter (BICUBIC for RGB in Pillow >= 7),
    crop tiles row-major, and append a thumbnail resize to (image_size, image_size) last when there is more than one."""
    cols, rows = internvl_grid(img.width, img.height, 1, max_num, image_size)
    resized = img.resize((image_size * cols, image_size * rows))
    tiles = [resized.crop(((i % cols) * image_size, (i // cols) * image_size,
                           (i % cols + 1) * image_size, (i // cols + 1) * image_size)) for i in range(cols * rows)]
    if use_thumbnail and len(tiles) != 1:
        tiles.append(img.resize((image_size, image_size)))
    return tiles


def internvl_pixels(img, max_num=12, image_size=448):
    """load_image: build_transform per tile (Resize((448, 448), BICUBIC), a no-op on tiles; ToTensor; Normalize
    ImageNet), torch.stack -> (N, 3, 448, 448)."""
    tiles = internvl_tiles(img, max_num, image_size)
    return torch.stack([tv_normalize(tv_to_tensor(tv_resize(t, (image_size, image_size), Image.BICUBIC)),
                                     IMAGENET_MEAN, IMAGENET_STD) for t in tiles]).numpy()
