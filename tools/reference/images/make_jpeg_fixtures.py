"""Makes the JPEG decoder fixtures in tests/fixtures/images/jpeg/ with libjpeg-turbo's cjpeg/jpegtran, PIL and numpy.

Each X.jpg has X.expected.safetensors beside it: "rgb", the U8 (H, W, 3) pixels of PIL's
Image.open(X.jpg).convert("RGB"), and metadata mode/width/height/orientation as PIL reports them. The orient_N.jpg
files also carry "transposed", ImageOps.exif_transpose of those pixels. Refusal fixtures (arithmetic coding) have no
expected file. Everything is deterministic (fixed seeds); rerun to regenerate:
    /usr/bin/python3 tools/reference/images/make_jpeg_fixtures.py
Needs Debian 12's python3-pil 9.4 (libjpeg-turbo 2.1.5), python3-numpy, libjpeg-turbo-progs and libturbojpeg0.
"""
import ctypes
import os
import shutil
import struct
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image, ImageOps

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import st  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "..", "tests", "fixtures", "images", "jpeg")
TMP = tempfile.mkdtemp(prefix="jpegfix-")


def content(w, h, seed, channels=3):
    """Gradients, a sine texture, saturated blocks, thin lines and noise: every stage of the decoder gets exercised."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    img = np.stack([255 * x / max(w - 1, 1), 255 * y / max(h - 1, 1), 128 + 100 * np.sin(x / 3.0 + y / 5.0)], -1)
    img[(x > w // 3) & (x < 2 * w // 3) & (y > h // 4) & (y < 3 * h // 4)] = [250, 10, 20]   # saturated red
    img[(x > w // 2) & (y > h // 2)] = [10, 20, 250]                                       # saturated blue
    img[(x + 2 * y) % 11 == 0] = [0, 0, 0]                                                # sharp diagonal lines
    img[(x * 3 + y) % 17 == 0] = [255, 255, 255]
    img += rng.normal(0, 14, img.shape)
    img = np.clip(np.rint(img), 0, 255).astype(np.uint8)
    if channels == 1:
        return img[:, :, 1]
    if channels == 4:
        k = np.clip(np.rint(255 * (x + y) / max(w + h - 2, 1) + rng.normal(0, 10, x.shape)), 0, 255).astype(np.uint8)
        return np.concatenate([img, k[:, :, None]], -1)
    return img


def source(w, h, seed, gray=False):
    """A PPM/PGM of content() for cjpeg."""
    path = os.path.join(TMP, f"src_{w}x{h}_{seed}_{int(gray)}.{'pgm' if gray else 'ppm'}")
    Image.fromarray(content(w, h, seed, 1 if gray else 3)).save(path)
    return path


def run(*args):
    subprocess.run([str(a) for a in args], check=True)


def golden(name, extra=None):
    """Writes name.expected.safetensors from what PIL makes of name.jpg."""
    path = os.path.join(OUT, name + ".jpg")
    with Image.open(path) as im:
        assert im.format == "JPEG", name
        mode, (w, h) = im.mode, im.size
        orientation = im.getexif().get(0x0112, 1)
        rgb = np.asarray(im.convert("RGB"))
    tensors = {"rgb": rgb}
    tensors.update(extra or {})
    st.save(os.path.join(OUT, name + ".expected.safetensors"), tensors,
            {"mode": mode, "width": w, "height": h, "orientation": orientation})


def cjpeg(name, w, h, seed, *opts, gray=False):
    run("cjpeg", *opts, "-outfile", os.path.join(OUT, name + ".jpg"), source(w, h, seed, gray))
    golden(name)


def jpegtran(name, src_name, *opts, expected=True):
    run("jpegtran", *opts, "-outfile", os.path.join(OUT, name + ".jpg"), os.path.join(OUT, src_name + ".jpg"))
    if expected:
        golden(name)


def scans_file(name, text):
    path = os.path.join(TMP, name + ".txt")
    with open(path, "w") as f:
        f.write(text)
    return path


def pil_save(name, array, mode, **kw):
    Image.fromarray(array, mode).save(os.path.join(OUT, name + ".jpg"), "JPEG", **kw)
    golden(name)


def turbojpeg_ycck(name, w, h, seed, subsamp, quality):
    """A YCCK JPEG: TurboJPEG compresses TJPF_CMYK input as YCCK (cjpeg and PIL cannot)."""
    tj = ctypes.CDLL("libturbojpeg.so.0")
    tj.tjInitCompress.restype = ctypes.c_void_p
    handle = ctypes.c_void_p(tj.tjInitCompress())
    cmyk = np.ascontiguousarray(content(w, h, seed, 4))
    out, size = ctypes.POINTER(ctypes.c_ubyte)(), ctypes.c_ulong(0)
    tjpf_cmyk = 11
    rc = tj.tjCompress2(handle, cmyk.ctypes.data_as(ctypes.POINTER(ctypes.c_ubyte)), w, 0, h, tjpf_cmyk,
                        ctypes.byref(out), ctypes.byref(size), subsamp, quality, 0)
    assert rc == 0, "tjCompress2 failed"
    data = ctypes.string_at(out, size.value)
    tj.tjFree(out)
    tj.tjDestroy(handle)
    assert b"Adobe" in data[:64]
    with open(os.path.join(OUT, name + ".jpg"), "wb") as f:
        f.write(data)
    golden(name)


def with_app1(name, src_name, app1_payload):
    """src_name.jpg with an APP1 segment inserted right after SOI."""
    with open(os.path.join(OUT, src_name + ".jpg"), "rb") as f:
        data = f.read()
    seg = b"\xff\xe1" + struct.pack(">H", len(app1_payload) + 2) + app1_payload
    with open(os.path.join(OUT, name + ".jpg"), "wb") as f:
        f.write(data[:2] + seg + data[2:])
    golden(name)


def big_endian_exif(orientation):
    """An "Exif\\0\\0" block with a Motorola-order TIFF header (PIL only writes Intel order)."""
    ifd = struct.pack(">H", 1) + struct.pack(">HHIHH", 0x0112, 3, 1, orientation, 0) + struct.pack(">I", 0)
    return b"Exif\x00\x00" + b"MM\x00\x2a" + struct.pack(">I", 8) + ifd


def orientation_fixtures():
    """orient_1..8: a 13x7 image tagged with each orientation, plus PIL's exif_transpose of its pixels."""
    base = content(13, 7, 80)
    for n in range(1, 9):
        exif = Image.Exif()
        exif[0x0112] = n
        name = f"orient_{n}"
        Image.fromarray(base, "RGB").save(os.path.join(OUT, name + ".jpg"), "JPEG", quality=90, exif=exif.tobytes())
        with Image.open(os.path.join(OUT, name + ".jpg")) as im:
            transposed = np.asarray(ImageOps.exif_transpose(im.convert("RGB")))
        golden(name, {"transposed": transposed})


def main():
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)

    # Baseline chroma subsampling modes (cjpeg -sample gives luma's factors; chroma stays 1x1).
    cjpeg("baseline_444", 48, 32, 1, "-sample", "1x1")
    cjpeg("baseline_422", 48, 32, 2, "-sample", "2x1")
    cjpeg("baseline_420", 64, 48, 3, "-sample", "2x2")
    cjpeg("baseline_440", 48, 32, 4, "-sample", "1x2")
    cjpeg("baseline_411", 48, 32, 5, "-sample", "4x1")
    # Odd combinations: h2v1 on a 2x2 component, int_upsample (x3 / x4), chroma with different factors.
    cjpeg("sample_22_12_21", 40, 30, 6, "-sample", "2x2,1x2,2x1")
    separate = scans_file("separate", "0;\n1;\n2;\n")  # MCUs of more than 10 blocks cannot be interleaved
    cjpeg("sample_42_22_11", 44, 26, 7, "-sample", "4x2,2x2,1x1", "-scans", separate)
    cjpeg("sample_44_22_11", 45, 35, 44, "-sample", "4x4,2x2,1x1", "-scans", separate)
    cjpeg("sample_31_11_11", 37, 21, 8, "-sample", "3x1,1x1,1x1")
    cjpeg("sample_14_11_11", 23, 37, 9, "-sample", "1x4,1x1,1x1")
    cjpeg("sample_32_11_11", 29, 19, 10, "-sample", "3x2,1x1,1x1")
    cjpeg("sample_12_11_12", 31, 27, 11, "-sample", "1x2,1x1,1x2")
    # Grayscale, RGB colour space (Adobe transform 0), quality extremes (q10 has 16-bit DQT entries and SOF1).
    cjpeg("gray", 48, 32, 12, gray=True)
    cjpeg("gray_sampled_22", 41, 23, 13, "-sample", "2x2", gray=True)
    cjpeg("rgb_colorspace", 48, 32, 14, "-rgb")
    cjpeg("quality_100", 48, 32, 15, "-quality", "100", "-sample", "2x2")
    cjpeg("quality_10", 48, 32, 16, "-quality", "10", "-sample", "2x2")
    cjpeg("optimized", 48, 32, 17, "-optimize", "-sample", "2x1")
    # Odd sizes.
    cjpeg("size_1x1_420", 1, 1, 18, "-sample", "2x2")
    cjpeg("size_1x1_444", 1, 1, 19, "-sample", "1x1")
    cjpeg("size_2x2_420", 2, 2, 20, "-sample", "2x2")
    cjpeg("size_7x5_422", 7, 5, 21, "-sample", "2x1")
    cjpeg("size_17x9_420", 17, 9, 22, "-sample", "2x2")
    cjpeg("size_37x29_411", 37, 29, 23, "-sample", "4x1")
    cjpeg("size_64x48_440", 64, 48, 24, "-sample", "1x2")
    cjpeg("size_129x65_420", 129, 65, 25, "-sample", "2x2")
    cjpeg("size_3x33_420", 3, 33, 26, "-sample", "2x2")
    # Restart intervals: in MCU rows and in MCUs, baseline and progressive.
    cjpeg("restart_rows", 48, 40, 27, "-restart", "1", "-sample", "2x2")
    cjpeg("restart_mcus", 45, 31, 28, "-restart", "5B", "-sample", "2x1")
    cjpeg("restart_progressive", 50, 34, 29, "-restart", "3B", "-progressive", "-sample", "2x2")
    # Progressive.
    cjpeg("progressive_420", 64, 48, 30, "-progressive", "-sample", "2x2")
    cjpeg("progressive_444", 40, 24, 31, "-progressive", "-sample", "1x1")
    cjpeg("progressive_422", 35, 27, 32, "-progressive", "-sample", "2x1", "-optimize")
    cjpeg("progressive_gray", 39, 25, 33, "-progressive", gray=True)
    cjpeg("progressive_411_odd", 53, 19, 34, "-progressive", "-sample", "4x1")
    # Multi-scan sequential (non-interleaved components) and incomplete progressive files, where libjpeg's
    # inter-block smoothing stays on for the final output.
    cjpeg("sequential_multiscan", 42, 30, 35, "-sample", "2x2", "-scans", scans_file("seq", "0;\n2;\n1;\n"))
    cjpeg("progressive_partial_bits", 47, 33, 36, "-sample", "2x2", "-scans", scans_file("partial", (
        "0,1,2: 0-0, 0, 1;\n0: 1-5, 0, 2;\n2: 1-63, 0, 1;\n1: 1-63, 0, 1;\n0: 6-63, 0, 2;\n0: 1-63, 2, 1;\n")))
    cjpeg("progressive_dc_only", 45, 35, 37, "-sample", "2x2", "-scans", scans_file("dconly", "0,1,2: 0-0, 0, 0;\n"))
    cjpeg("progressive_luma_ac_only", 43, 29, 38, "-sample", "2x1", "-scans", scans_file("lumaac", (
        "0,1,2: 0-0, 0, 0;\n0: 1-9, 0, 0;\n")))
    cjpeg("progressive_dc_refined", 36, 36, 39, "-sample", "1x1", "-scans", scans_file("dcref", (
        "0: 0-0, 0, 2;\n1,2: 0-0, 0, 1;\n0: 0-0, 2, 1;\n0: 0-0, 1, 0;\n1: 1-63, 0, 0;\n0: 1-63, 0, 0;\n"
        "2: 1-63, 0, 0;\n2: 0-0, 1, 0;\n1: 0-0, 1, 0;\n")))
    # Transcoded with jpegtran: progressive from baseline, restart in a progressive 4:2:0.
    jpegtran("jpegtran_progressive_restart", "size_129x65_420", "-progressive", "-restart", "2B")
    # Arithmetic coding (refused: SOF9 and SOF10).
    jpegtran("arithmetic_sequential", "baseline_420", "-arithmetic", expected=False)
    jpegtran("arithmetic_progressive", "baseline_420", "-arithmetic", "-progressive", expected=False)

    # PIL-written files: Adobe CMYK (inverted), EXIF orientation, JFIF with comment and 4:2:0 default.
    pil_save("cmyk_adobe", content(40, 28, 40, 4), "CMYK", quality=85)
    pil_save("cmyk_adobe_progressive", content(33, 21, 41, 4), "CMYK", quality=80, progressive=True)
    turbojpeg_ycck("ycck_420", 38, 26, 42, 2, 85)
    turbojpeg_ycck("ycck_444", 21, 17, 43, 0, 90)
    for orientation in (6, 3):
        exif = Image.Exif()
        exif[0x0112] = orientation
        pil_save(f"exif_orientation_{orientation}", content(30, 20, 43 + orientation), "RGB", quality=80,
                 exif=exif.tobytes(), comment=b"made by make_jpeg_fixtures.py")
    with_app1("exif_bigendian_8", "baseline_444", big_endian_exif(8))
    orientation_fixtures()

    total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT))
    print(f"{len(os.listdir(OUT))} files, {total} bytes in {os.path.normpath(OUT)}")
    shutil.rmtree(TMP)


if __name__ == "__main__":
    main()
