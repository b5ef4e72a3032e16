"""Makes the PNG, BMP and PNM decoder fixtures in tests/fixtures/images/{png,bmp,pnm}/ with Debian 12's PIL 9.4 and numpy.

Each folder gets small image files (gradients + noise, fixed seeds) and expected.safetensors: for every file a U8 tensor
named after it, (H, W, 3), the pixels of PIL's Image.open(f).convert("RGB"), and a metadata entry (same name) holding
PIL's format, mode and size and the EXIF orientation as JSON.

Files PIL cannot write (2/4-bit grey, 16-bit RGBA, interlaced, tRNS variants, every filter type, split IDATs, BMP
bitfields/RLE/OS2 headers, plain and odd-maxval PNM) are written byte by byte here (zlib + struct).

Exception, on purpose: 16-bit samples. The C# decoders map them to 8 bits with round(v / 257), which PIL does not do
(RGB;16B keeps the high byte; mode "I" clips at 255 when converted to RGB). For 16-bit PNGs the expected pixels are
computed in numpy from the 16-bit samples written into the file; for PGM files PIL opens as mode "I", from the 16-bit
values PIL decodes (its scaling of maxval to 65535 included). PIL's mode and size are still checked for those files.

Run: /usr/bin/python3 tools/reference/images/make_png_fixtures.py
"""
import io
import json
import os
import struct
import sys
import warnings
import zlib

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import st  # noqa: E402

ROOT = os.path.join(os.path.dirname(__file__), "..", "..", "..", "tests", "fixtures", "images")
SIZES = [(1, 1), (3, 7), (13, 5), (33, 17)]  # (width, height)


class Folder:
    """One fixture folder: writes files and collects their expected pixels and PIL metadata."""

    def __init__(self, name):
        self.dir = os.path.join(ROOT, name)
        os.makedirs(self.dir, exist_ok=True)
        for f in os.listdir(self.dir):
            os.remove(os.path.join(self.dir, f))
        self.tensors, self.meta = {}, {}

    def add(self, name, data, expected=None):
        """Writes `data` as `name`; expected pixels are PIL's convert("RGB") unless given (16-bit files)."""
        path = os.path.join(self.dir, name)
        with open(path, "wb") as f:
            f.write(data)
        with Image.open(path) as im:
            info = {"format": im.format, "mode": im.mode, "width": im.size[0], "height": im.size[1]}
            with warnings.catch_warnings():  # palette tRNS as bytes: PIL warns that convert("RGB") drops it
                warnings.simplefilter("ignore", UserWarning)
                pil_rgb = np.asarray(im.convert("RGB"))
            info["orientation"] = int(im.getexif().get(0x0112, 1))
        rgb = pil_rgb if expected is None else np.asarray(expected, dtype=np.uint8)
        assert rgb.shape == (info["height"], info["width"], 3), (name, rgb.shape, info)
        self.tensors[name] = np.ascontiguousarray(rgb)
        self.meta[name] = json.dumps(info, sort_keys=True)
        return path

    def add_pil(self, name, image, **save_args):
        buf = io.BytesIO()
        image.save(buf, **save_args)
        return self.add(name, buf.getvalue())

    def save(self):
        st.save(os.path.join(self.dir, "expected.safetensors"), self.tensors, metadata=self.meta)


def narrow16(v):
    """round(v / 257), the C# decoders' 16-to-8-bit mapping ((v + 128) // 257 is exact: v / 257 is never a tie)."""
    return ((np.asarray(v, dtype=np.int64) + 128) // 257).astype(np.uint8)


def content(rng, w, h, channels, maxval):
    """Gradients in different directions per channel plus noise, in 0..maxval."""
    y, x = np.mgrid[0:h, 0:w]
    out = np.empty((h, w, channels), dtype=np.int64)
    for c in range(channels):
        ramp = (x * (c + 1) * 37 + y * (3 - c % 3) * 23 + c * 11) / max(1, w * 37 + h * 23) * maxval
        noise = rng.integers(-maxval // 8 - 1, maxval // 8 + 2, size=(h, w))
        out[..., c] = np.clip(ramp.astype(np.int64) + noise, 0, maxval)
    return out


# ----------------------------------------------------------------------------------------------------------- PNG

CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


def chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def pack_rows(samples, bits):
    """(h, w, c) samples to a list of row byte strings: MSB-first packing below 8 bits, big-endian at 16."""
    rows = []
    for row in samples:
        flat = row.reshape(-1)
        if bits == 16:
            rows.append(flat.astype(">u2").tobytes())
        elif bits == 8:
            rows.append(flat.astype(np.uint8).tobytes())
        else:
            per = 8 // bits
            padded = np.zeros((len(flat) + per - 1) // per * per, dtype=np.int64)
            padded[: len(flat)] = flat
            groups = padded.reshape(-1, per)
            packed = np.zeros(len(groups), dtype=np.int64)
            for k in range(per):
                packed |= groups[:, k] << (8 - bits * (k + 1))
            rows.append(packed.astype(np.uint8).tobytes())
    return rows


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else b if pb <= pc else c


def filter_row(kind, row, prev, bpp):
    out = bytearray([kind])
    for i, v in enumerate(row):
        a = row[i - bpp] if i >= bpp else 0
        b = prev[i]
        c = prev[i - bpp] if i >= bpp else 0
        pred = [0, a, b, (a + b) // 2, paeth(a, b, c)][kind]
        out.append((v - pred) & 0xFF)
    return bytes(out)


def filtered_stream(samples, bits, ct, filter_offset):
    """Filter bytes + rows, filter type (row + offset) % 5 so that every type appears in every file of 5+ rows."""
    bpp = max(1, CHANNELS[ct] * bits // 8)
    rows = pack_rows(samples, bits)
    out, prev = b"", bytes(len(rows[0]))
    for r, row in enumerate(rows):
        out += filter_row((r + filter_offset) % 5, row, prev, bpp)
        prev = row
    return out


def png_bytes(samples, bits, ct, interlace=False, palette=None, trns=None, before=(), after=(), idat_pieces=1,
              filter_offset=0, iend=True, level=9):
    h, w = samples.shape[:2]
    if interlace:
        raw = b""
        for p, (x0, y0, dx, dy) in enumerate(ADAM7):
            sub = samples[y0::dy, x0::dx]
            if sub.shape[0] and sub.shape[1]:
                raw += filtered_stream(sub, bits, ct, filter_offset + p)
    else:
        raw = filtered_stream(samples, bits, ct, filter_offset)
    z = zlib.compress(raw, level)
    out = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, bits, ct, 0, 0, int(interlace)))
    for c in before:
        out += c
    if palette is not None:
        out += chunk(b"PLTE", np.asarray(palette).astype(np.uint8).tobytes())
    if trns is not None:
        out += chunk(b"tRNS", trns)
    step = -(-len(z) // idat_pieces)
    for i in range(idat_pieces):
        out += chunk(b"IDAT", z[i * step:(i + 1) * step])
    for c in after:
        out += c
    return out + (chunk(b"IEND", b"") if iend else b"")


def expected16(samples, ct):
    rgb = samples[..., [0, 0, 0]] if ct in (0, 4) else samples[..., :3]
    return narrow16(rgb)


def make_png(rng):
    f = Folder("png")
    add_png_formats(f, rng)
    add_png_variants(f, rng)
    add_pil_pngs(f, rng)
    f.save()


def add_png_formats(f, rng):
    """Every colour type × bit depth, plain and Adam7, with the filter type changing from row to row."""
    combos = [(0, 1), (0, 2), (0, 4), (0, 8), (0, 16), (2, 8), (2, 16), (3, 1), (3, 2), (3, 4), (3, 8),
              (4, 8), (4, 16), (6, 8), (6, 16)]
    kind_names = {0: "grey", 2: "rgb", 3: "pal", 4: "greyalpha", 6: "rgba"}
    for i, (ct, bits) in enumerate(combos):
        for interlace in (False, True):
            w, h = SIZES[(i + (1 if interlace else 3)) % 4]
            maxval = (1 << bits) - 1
            palette = None
            if ct == 3:
                samples = content(rng, w, h, 1, maxval)
                palette = rng.integers(0, 256, size=3 * (1 << bits))
            else:
                samples = content(rng, w, h, CHANNELS[ct], maxval)
            name = f"{kind_names[ct]}{bits}{'_adam7' if interlace else ''}_{w}x{h}.png"
            data = png_bytes(samples, bits, ct, interlace, palette=palette, filter_offset=i)
            if bits == 16:
                path = f.add(name, data, expected16(samples, ct))
                check_pil_reads_16bit(path, samples, ct)
            else:
                f.add(name, data)


def add_png_variants(f, rng):
    # tRNS never changes convert("RGB"): palette alpha (bytes, and PIL's single-transparent-entry form), grey, RGB.
    s = content(rng, 13, 5, 1, 255)
    pal = rng.integers(0, 256, size=768)
    f.add("pal8_trns_alphas_13x5.png", png_bytes(s, 8, 3, palette=pal, trns=bytes(rng.integers(0, 256, size=200).astype(np.uint8))))
    s = content(rng, 33, 17, 1, 15)
    f.add("pal4_trns_single_33x17.png", png_bytes(s, 4, 3, palette=rng.integers(0, 256, size=48), trns=b"\xff\xff\x00\xff"))
    f.add("grey8_trns_13x5.png", png_bytes(content(rng, 13, 5, 1, 255), 8, 0, trns=struct.pack(">H", 77)))
    f.add("grey2_trns_adam7_13x5.png", png_bytes(content(rng, 13, 5, 1, 3), 2, 0, interlace=True, trns=struct.pack(">H", 2)))
    f.add("rgb8_trns_33x17.png", png_bytes(content(rng, 33, 17, 3, 255), 8, 2, trns=struct.pack(">HHH", 10, 20, 30)))
    s = content(rng, 13, 5, 3, 65535)
    f.add("rgb16_trns_13x5.png", png_bytes(s, 16, 2, trns=struct.pack(">HHH", 1000, 2000, 3000)), expected16(s, 2))
    s = content(rng, 3, 7, 1, 65535)
    f.add("grey16_trns_adam7_3x7.png", png_bytes(s, 16, 0, interlace=True, trns=struct.pack(">H", 513)), expected16(s, 0))

    # Palette edge cases PIL accepts: a short PLTE (indices past it show PIL's grey ramp) and none at all.
    s = content(rng, 33, 17, 1, 255)
    f.add("pal8_short_plte_33x17.png", png_bytes(s, 8, 3, palette=rng.integers(0, 256, size=15)))
    f.add("pal2_no_plte_13x5.png", png_bytes(content(rng, 13, 5, 1, 3), 2, 3))

    # Chunk layout: split IDATs (one of them empty), ancillary chunks before and after IDAT, eXIf, no IEND.
    s = content(rng, 33, 17, 3, 255)
    f.add("rgb8_split_idat_33x17.png", png_bytes(s, 8, 2, idat_pieces=9))
    empty_idat = chunk(b"IDAT", b"")
    data = png_bytes(s, 8, 2, idat_pieces=3)
    first = data.index(b"IDAT") - 4
    f.add("rgb8_empty_idat_33x17.png", data[:first] + empty_idat + data[first:])
    exif_be = b"MM\x00*\x00\x00\x00\x08\x00\x01\x01\x12\x00\x03\x00\x00\x00\x01\x00\x06\x00\x00\x00\x00\x00\x00"
    ancillary = [chunk(b"gAMA", struct.pack(">I", 45455)), chunk(b"tEXt", b"Comment\x00fixture"),
                 chunk(b"zTXt", b"Title\x00\x00" + zlib.compress(b"zipped text")), chunk(b"prVt", b"private"),
                 chunk(b"pHYs", struct.pack(">IIB", 2835, 2835, 1)), chunk(b"eXIf", exif_be)]
    f.add("rgba8_ancillary_exif6_13x5.png", png_bytes(content(rng, 13, 5, 4, 255), 8, 6, before=ancillary,
                                                      after=[chunk(b"tEXt", b"After\x00idat")]))
    exif_le = b"II*\x00\x08\x00\x00\x00\x01\x00\x12\x01\x03\x00\x01\x00\x00\x00\x03\x00\x00\x00\x00\x00\x00\x00"
    f.add("grey8_exif3_after_idat_3x7.png", png_bytes(content(rng, 3, 7, 1, 255), 8, 0, after=[chunk(b"eXIf", exif_le)]))
    f.add("pal8_no_iend_13x5.png", png_bytes(content(rng, 13, 5, 1, 255), 8, 3, palette=pal, iend=False))
    f.add("rgb8_stored_zlib_13x5.png", png_bytes(content(rng, 13, 5, 3, 255), 8, 2, level=0))


def add_pil_pngs(f, rng):
    """Files from PIL's own encoder (its adaptive filters, its zlib settings)."""
    rgb = content(rng, 33, 17, 3, 255).astype(np.uint8)
    f.add_pil("pil_rgb_33x17.png", Image.fromarray(rgb), format="PNG")
    f.add_pil("pil_rgb_optimize_33x17.png", Image.fromarray(rgb), format="PNG", optimize=True)
    f.add_pil("pil_rgba_13x5.png", Image.fromarray(content(rng, 13, 5, 4, 255).astype(np.uint8)), format="PNG")
    f.add_pil("pil_l_33x17.png", Image.fromarray(rgb[..., 0]), format="PNG")
    f.add_pil("pil_la_13x5.png", Image.fromarray(content(rng, 13, 5, 2, 255).astype(np.uint8), "LA"), format="PNG")
    f.add_pil("pil_1_33x17.png", Image.fromarray(rgb[..., 1]).convert("1"), format="PNG")
    f.add_pil("pil_p_33x17.png", Image.fromarray(rgb).quantize(37), format="PNG")
    g16 = content(rng, 13, 5, 1, 65535)[..., 0].astype(np.uint16)
    buf = io.BytesIO()
    Image.fromarray(g16).save(buf, format="PNG")
    path = f.add("pil_i16_13x5.png", buf.getvalue(), expected16(g16[..., None], 0))
    check_pil_reads_16bit(path, g16[..., None], 0)
    frames = [Image.fromarray(content(rng, 13, 5, 3, 255).astype(np.uint8)) for _ in range(2)]
    buf = io.BytesIO()
    frames[0].save(buf, format="PNG", save_all=True, append_images=frames[1:])
    f.add("pil_apng_13x5.png", buf.getvalue())


def check_pil_reads_16bit(path, samples, ct):
    """The 16-bit files hold what we think: PIL's grey values equal them, its RGB keeps their high bytes."""
    with Image.open(path) as im:
        if ct == 0:
            assert im.mode == "I" and np.array_equal(np.asarray(im), samples[..., 0]), path
        else:
            hi = (samples[..., [0, 0, 0]] if ct == 4 else samples[..., :3]) >> 8
            assert np.array_equal(np.asarray(im.convert("RGB")), hi), path


# ----------------------------------------------------------------------------------------------------------- BMP

def bmp_bytes(w, h, bits, pixels, palette=None, compression=0, header=40, colors=None, topdown=False, masks=None):
    """A BMP file; `pixels` is the pixel array as stored (rows already bottom-up or top-down, padded)."""
    pal = b""
    if palette is not None:
        entry = (lambda r, g, b: bytes([b, g, r])) if header == 12 else (lambda r, g, b: bytes([b, g, r, 0]))
        pal = b"".join(entry(*rgb) for rgb in palette)
    if header == 12:
        info = struct.pack("<IHHHH", 12, w, h, 1, bits)
    else:
        ncolors = colors if colors is not None else (len(palette) if palette is not None else 0)
        info = struct.pack("<IiiHHIIiiII", header, w, -h if topdown else h, 1, bits, compression, len(pixels),
                           2835, 2835, ncolors, 0)
        if header > 40:
            info += struct.pack("<IIII", *(masks or (0, 0, 0, 0))) + bytes(header - 56)
        elif masks is not None:
            pal = struct.pack("<III", *masks[:3]) + pal
    offset = 14 + len(info) + len(pal)
    return b"BM" + struct.pack("<IHHI", offset + len(pixels), 0, 0, offset) + info + pal + pixels


def bmp_rows(rows, topdown):
    """Row byte strings (top row first) padded to 4 bytes, in file order."""
    ordered = rows if topdown else rows[::-1]
    return b"".join(r + bytes(-len(r) % 4) for r in ordered)


def indexed_bmp(rng, w, h, bits, ncolors, topdown=False, header=40, colors=None, maxindex=None):
    idx = content(rng, w, h, 1, (maxindex if maxindex is not None else ncolors - 1))
    palette = [tuple(int(v) for v in rng.integers(0, 256, size=3)) for _ in range(ncolors)]
    return bmp_bytes(w, h, bits, bmp_rows(pack_rows(idx, bits), topdown), palette, header=header, colors=colors,
                     topdown=topdown)


def packed16(rng, w, h, red_bits, topdown=False, **kw):
    g_bits = 6 if red_bits == 5 and kw.get("masks", (0, 0x7E0))[1] == 0x7E0 else 5
    r = content(rng, w, h, 3, 31)
    g = r[..., 1] if g_bits == 5 else content(rng, w, h, 1, 63)[..., 0]
    value = (r[..., 0] << (5 + g_bits)) | (g << 5) | r[..., 2]
    rows = [row.astype("<u2").tobytes() for row in value]
    return bmp_bytes(w, h, 16, bmp_rows(rows, topdown), topdown=topdown, **kw)


def packed32(rng, w, h, masks, header, compression=3, topdown=False):
    """32-bit pixels with channels where the masks say (all-zero masks: PIL reads B, G, R, A bytes)."""
    c = content(rng, w, h, 4, 255)
    shifts = [(m & -m).bit_length() - 1 if m else s for m, s in zip(masks, (16, 8, 0, 24))]
    value = sum(c[..., i].astype(np.uint64) << shifts[i] for i in range(4))
    rows = [row.astype("<u4").tobytes() for row in value]
    return bmp_bytes(w, h, 32, bmp_rows(rows, topdown), compression=compression, header=header, masks=masks,
                     topdown=topdown)


def rle_encode(rows, rle4):
    """RLE8/RLE4 data (rows in file order): encoded runs, absolute runs, end-of-line and end-of-bitmap; no deltas,
    and RLE4 absolute runs of even length only (PIL 9.4 misreads odd ones; see BmpRle.cs)."""
    out = bytearray()
    for row in rows:
        i, n = 0, len(row)
        while i < n:
            j = i
            while j < n and j - i < 255 and row[j] == row[i]:
                j += 1
            if j - i >= 3 or j == n:
                out += bytes([j - i, (row[i] << 4 | row[i]) if rle4 else row[i]])
                i = j
                continue
            k = i  # literal stretch: up to the next run of 3
            while k < n and k - i < 254 and not (k + 2 < n and row[k] == row[k + 1] == row[k + 2]):
                k += 1
            count = k - i - ((k - i) % 2 if rle4 else 0)
            if count >= 4 or (not rle4 and count >= 3):
                out += bytes([0, count])
                lit = row[i:i + count]
                out += bytes((lit[m] << 4 | lit[m + 1]) for m in range(0, count, 2)) if rle4 else bytes(lit)
                if len(out) % 2:
                    out.append(0)
                i += count
            else:
                second = row[i + 1] if rle4 and i + 1 < n else row[i]
                take = 2 if rle4 and i + 1 < n else 1
                out += bytes([take, (row[i] << 4 | second) if rle4 else row[i]])
                i += take
        out += b"\x00\x00"
    return bytes(out + b"\x00\x01")


def rle_bmp(rng, w, h, rle4, topdown=False):
    ncolors = 16 if rle4 else 256
    idx = content(rng, w, h, 1, ncolors - 1)[..., 0]
    idx[:, : w // 2] = (idx[:, : w // 2] // 4) * 4 if not rle4 else idx[:, : w // 2] // 8 * 8  # runs on the left
    rows = [list(int(v) for v in row) for row in (idx if topdown else idx[::-1])]
    palette = [tuple(int(v) for v in rng.integers(0, 256, size=3)) for _ in range(ncolors)]
    return bmp_bytes(w, h, 4 if rle4 else 8, rle_encode(rows, rle4), palette, compression=2 if rle4 else 1,
                     topdown=topdown)


def make_bmp(rng):
    f = Folder("bmp")
    rgb = content(rng, 33, 17, 3, 255).astype(np.uint8)
    f.add_pil("pil_1_33x17.bmp", Image.fromarray(rgb[..., 0]).convert("1"), format="BMP")
    f.add_pil("pil_l_13x5.bmp", Image.fromarray(rgb[:5, :13, 1]), format="BMP")
    f.add_pil("pil_p_33x17.bmp", Image.fromarray(rgb).quantize(50), format="BMP")
    f.add_pil("pil_rgb_13x5.bmp", Image.fromarray(rgb[:5, :13]), format="BMP")
    f.add_pil("pil_rgba_3x7.bmp", Image.fromarray(content(rng, 3, 7, 4, 255).astype(np.uint8)), format="BMP")

    f.add("pal1_colour_33x17.bmp", indexed_bmp(rng, 33, 17, 1, 2))
    f.add("pal1_1x1.bmp", indexed_bmp(rng, 1, 1, 1, 2))
    f.add("pal4_13x5.bmp", indexed_bmp(rng, 13, 5, 4, 16))
    f.add("pal4_colors10_33x17.bmp", indexed_bmp(rng, 33, 17, 4, 10, maxindex=15))  # indices past the palette
    f.add("pal8_colors100_13x5.bmp", indexed_bmp(rng, 13, 5, 8, 100, maxindex=255))
    f.add("pal8_topdown_33x17.bmp", indexed_bmp(rng, 33, 17, 8, 256, topdown=True))
    f.add("pal8_v5_3x7.bmp", indexed_bmp(rng, 3, 7, 8, 256, header=124))

    f.add("rgb555_13x5.bmp", packed16_rgb(rng, 13, 5))
    f.add("rgb565_bitfields_33x17.bmp", packed16(rng, 33, 17, 5, compression=3, masks=(0xF800, 0x7E0, 0x1F)))
    f.add("rgb555_bitfields_v5_3x7.bmp", packed16(rng, 3, 7, 5, compression=3, header=124,
                                                  masks=(0x7C00, 0x3E0, 0x1F, 0)))
    f.add("rgb565_v4_topdown_13x5.bmp", packed16(rng, 13, 5, 5, compression=3, header=108, topdown=True,
                                                 masks=(0xF800, 0x7E0, 0x1F, 0)))

    for name, (w, h), header, topdown in [("rgb24_1x1.bmp", (1, 1), 40, False),
                                          ("rgb24_topdown_33x17.bmp", (33, 17), 40, True),
                                          ("rgb24_v4_13x5.bmp", (13, 5), 108, False),
                                          ("rgb24_v5_3x7.bmp", (3, 7), 124, False)]:
        c = content(rng, w, h, 3, 255)
        rows = [row[:, ::-1].astype(np.uint8).tobytes() for row in c]
        f.add(name, bmp_bytes(w, h, 24, bmp_rows(rows, topdown), header=header, topdown=topdown))
    c = content(rng, 3, 7, 3, 255)
    f.add("rgb24_bitfields_3x7.bmp", bmp_bytes(3, 7, 24, bmp_rows([r[:, ::-1].astype(np.uint8).tobytes() for r in c], False),
                                               compression=3, masks=(0xFF0000, 0xFF00, 0xFF)))

    f.add("bgrx32_13x5.bmp", packed32(rng, 13, 5, (0xFF0000, 0xFF00, 0xFF, 0xFF000000), 40, compression=0))
    f.add("bgrx32_bitfields40_13x5.bmp", packed32(rng, 13, 5, (0xFF0000, 0xFF00, 0xFF, 0), 40))
    f.add("bgra32_v5_33x17.bmp", packed32(rng, 33, 17, (0xFF0000, 0xFF00, 0xFF, 0xFF000000), 124))
    f.add("rgba32_v5_13x5.bmp", packed32(rng, 13, 5, (0xFF, 0xFF00, 0xFF0000, 0xFF000000), 124))
    f.add("xbgr32_v4_3x7.bmp", packed32(rng, 3, 7, (0xFF000000, 0xFF0000, 0xFF00, 0), 108))
    f.add("abgr32_v5_topdown_13x5.bmp", packed32(rng, 13, 5, (0xFF000000, 0xFF0000, 0xFF00, 0xFF), 124, topdown=True))
    f.add("zero_masks32_v5_3x7.bmp", packed32(rng, 3, 7, (0, 0, 0, 0), 124))

    c = content(rng, 13, 5, 3, 255)
    f.add("os2_rgb24_13x5.bmp", bmp_bytes(13, 5, 24, bmp_rows([r[:, ::-1].astype(np.uint8).tobytes() for r in c], False),
                                          header=12))
    f.add("os2_pal8_33x17.bmp", indexed_bmp(rng, 33, 17, 8, 256, header=12))
    f.add("os2_pal1_13x5.bmp", indexed_bmp(rng, 13, 5, 1, 2, header=12))

    f.add("rle8_33x17.bmp", rle_bmp(rng, 33, 17, rle4=False))
    f.add("rle8_topdown_13x5.bmp", rle_bmp(rng, 13, 5, rle4=False, topdown=True))
    f.add("rle8_1x1.bmp", rle_bmp(rng, 1, 1, rle4=False))
    f.add("rle4_33x17.bmp", rle_bmp(rng, 33, 17, rle4=True))
    f.add("rle4_13x5.bmp", rle_bmp(rng, 13, 5, rle4=True))
    f.save()


def packed16_rgb(rng, w, h):
    """16-bit BI_RGB: 5-5-5 with no masks in the file."""
    c = content(rng, w, h, 3, 31)
    value = (c[..., 0] << 10) | (c[..., 1] << 5) | c[..., 2]
    return bmp_bytes(w, h, 16, bmp_rows([row.astype("<u2").tobytes() for row in value], False))


# ----------------------------------------------------------------------------------------------------------- PNM

def pnm_header(magic, w, h, maxval=None, sep=b"\n"):
    return magic + sep + b"%d %d" % (w, h) + sep + (b"%d" % maxval + sep if maxval is not None else b"")


def plain_body(values, per_line):
    flat = [b"%d" % v for v in np.asarray(values).reshape(-1)]
    return b"\n".join(b" ".join(flat[i:i + per_line]) for i in range(0, len(flat), per_line)) + b"\n"


def binary_body(values, maxval):
    return np.asarray(values).astype(">u2" if maxval > 255 else np.uint8).tobytes()


def pnm_i_expected(path):
    """Mode "I" files: the C# decoder narrows PIL's 0..65535 values with round(v / 257) instead of clipping."""
    with Image.open(path) as im:
        assert im.mode == "I", path
        return narrow16(np.asarray(im))[..., None].repeat(3, axis=2)


def add_pnm(f, name, data):
    path = os.path.join(f.dir, name)
    with open(path, "wb") as fh:
        fh.write(data)
    with Image.open(path) as im:
        mode_i = im.mode == "I"
    f.add(name, data, pnm_i_expected(path) if mode_i else None)


def make_pnm(rng):
    f = Folder("pnm")
    rgb = content(rng, 33, 17, 3, 255).astype(np.uint8)
    f.add_pil("pil_p4_33x17.pbm", Image.fromarray(rgb[..., 0]).convert("1"), format="PPM")
    f.add_pil("pil_p5_13x5.pgm", Image.fromarray(rgb[:5, :13, 1]), format="PPM")
    f.add_pil("pil_p6_33x17.ppm", Image.fromarray(rgb), format="PPM")
    g16 = content(rng, 13, 5, 1, 65535)[..., 0].astype(np.int32)
    buf = io.BytesIO()
    Image.fromarray(g16, "I").save(buf, format="PPM")
    add_pnm(f, "pil_p5_65535_13x5.pgm", buf.getvalue())

    bits = content(rng, 13, 5, 1, 1)
    body = b"# a comment line\n" + plain_body(bits, 7).replace(b"\n", b" # trailing comment\n", 2)
    add_pnm(f, "p1_comments_13x5.pbm", pnm_header(b"P1", 13, 5) + body)
    add_pnm(f, "p1_packed_3x7.pbm", pnm_header(b"P1", 3, 7) + b"".join(b"%d" % v for v in content(rng, 3, 7, 1, 1).reshape(-1)) + b"\n")
    add_pnm(f, "p2_255_13x5.pgm", pnm_header(b"P2", 13, 5, 255) + plain_body(content(rng, 13, 5, 1, 255), 13))
    add_pnm(f, "p2_15_33x17.pgm", pnm_header(b"P2", 33, 17, 15) + plain_body(content(rng, 33, 17, 1, 15), 17))
    add_pnm(f, "p2_1000_3x7.pgm", pnm_header(b"P2", 3, 7, 1000) + plain_body(content(rng, 3, 7, 1, 1000), 5))
    body = plain_body(content(rng, 13, 5, 3, 255), 12).replace(b"\n", b"\n# comment in the data\n", 1)
    add_pnm(f, "p3_255_comments_13x5.ppm", pnm_header(b"P3", 13, 5, 255) + body)
    add_pnm(f, "p3_1000_3x7.ppm", pnm_header(b"P3", 3, 7, 1000) + plain_body(content(rng, 3, 7, 3, 1000), 9))
    add_pnm(f, "p3_7_1x1.ppm", pnm_header(b"P3", 1, 1, 7) + b"1 5 7\n")

    clipped = content(rng, 13, 5, 1, 120)  # values above maxval 100: PIL clips them to 255
    add_pnm(f, "p5_100_clipped_13x5.pgm", pnm_header(b"P5", 13, 5, 100) + binary_body(clipped, 100))
    add_pnm(f, "p5_1_33x17.pgm", pnm_header(b"P5", 33, 17, 1) + binary_body(content(rng, 33, 17, 1, 1), 1))
    add_pnm(f, "p5_300_13x5.pgm", pnm_header(b"P5", 13, 5, 300) + binary_body(content(rng, 13, 5, 1, 300), 300))
    add_pnm(f, "p5_4095_3x7.pgm", pnm_header(b"P5", 3, 7, 4095) + binary_body(content(rng, 3, 7, 1, 4095), 4095))
    add_pnm(f, "p6_100_13x5.ppm", pnm_header(b"P6", 13, 5, 100) + binary_body(content(rng, 13, 5, 3, 100), 100))
    add_pnm(f, "p6_65535_33x17.ppm", pnm_header(b"P6", 33, 17, 65535) + binary_body(content(rng, 33, 17, 3, 65535), 65535))
    add_pnm(f, "p6_4095_3x7.ppm", pnm_header(b"P6", 3, 7, 4095) + binary_body(content(rng, 3, 7, 3, 4095), 4095))
    header = b"P6\n# made by a fixture script\n13 # width\n5\n# maxval next\n255\n"
    add_pnm(f, "p6_header_comments_13x5.ppm", header + binary_body(content(rng, 13, 5, 3, 255), 255))
    add_pnm(f, "p5_crlf_1x1.pgm", b"P5\r\n1 1\r\n255\r" + b"\x80")
    add_pnm(f, "p4_13x5.pbm", pnm_header(b"P4", 13, 5) + b"".join(pack_rows(content(rng, 13, 5, 1, 1), 1)))
    f.save()


if __name__ == "__main__":
    make_png(np.random.default_rng(20240601))
    make_bmp(np.random.default_rng(20240602))
    make_pnm(np.random.default_rng(20240603))
    total = sum(os.path.getsize(os.path.join(d, n)) for d, _, ns in os.walk(ROOT) for n in ns)
    print(f"wrote {ROOT}: {total} bytes")
