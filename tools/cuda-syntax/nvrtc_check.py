#!/usr/bin/env python3
"""Compiles every embedded kernel (src/MambaVL.Cuda/Kernels/*.cu, common.cuh in front, its #include "X.cuh" headers, the
options KernelCompiler uses) with a local NVRTC for sm_90 and prints ptxas' register / spill report per kernel. Needs only libnvrtc (e.g. the
Debian package libnvrtc11.2, NVRTC 11.8): no GPU, no CUDA toolkit. A real compile: stronger than check.sh's clang
syntax pass, and the register counts say what occupancy to expect. Usage: nvrtc_check.py [kernel.cu ...]"""
import ctypes, ctypes.util, glob, os, sys

def load():
    for name in ["libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so.11.2", "libnvrtc.so"]:
        try:
            return ctypes.CDLL(name)
        except OSError:
            pass
    sys.exit("no libnvrtc found (apt-get install libnvrtc11.2 from Debian non-free, or a CUDA toolkit)")

def compile_one(nvrtc, path, common, arch):
    src = (common + "\n" + open(path, encoding="utf-8").read()).encode()
    prog = ctypes.c_void_p()
    name = os.path.basename(path).encode()
    if nvrtc.nvrtcCreateProgram(ctypes.byref(prog), src, name, 0, None, None) != 0:
        return False, "nvrtcCreateProgram failed"
    # #include "X.cuh" from the kernels' folder (KernelCompiler pastes those headers in itself)
    include = "--include-path=" + os.path.dirname(os.path.abspath(path))
    opts = [f"--gpu-architecture={arch}".encode(), b"--std=c++17", b"-default-device", b"--ptxas-options=-v", include.encode()]
    arr = (ctypes.c_char_p * len(opts))(*opts)
    rc = nvrtc.nvrtcCompileProgram(prog, len(opts), arr)
    size = ctypes.c_size_t()
    nvrtc.nvrtcGetProgramLogSize(prog, ctypes.byref(size))
    log = ctypes.create_string_buffer(size.value)
    nvrtc.nvrtcGetProgramLog(prog, log)
    nvrtc.nvrtcDestroyProgram(ctypes.byref(prog))
    return rc == 0, log.value.decode(errors="replace")

def main():
    here = os.path.dirname(os.path.abspath(__file__))
    kernels = os.path.join(here, "..", "..", "src", "MambaVL.Cuda", "Kernels")
    common = open(os.path.join(kernels, "common.cuh"), encoding="utf-8").read()
    files = sys.argv[1:] or sorted(glob.glob(os.path.join(kernels, "*.cu")))
    nvrtc = load()
    major, minor = ctypes.c_int(), ctypes.c_int()
    nvrtc.nvrtcVersion(ctypes.byref(major), ctypes.byref(minor))
    arch = "sm_90" if (major.value, minor.value) >= (11, 8) else "sm_80"
    print(f"NVRTC {major.value}.{minor.value}, {arch}")
    failed = 0
    for f in files:
        ok, log = compile_one(nvrtc, f, common, arch)
        print(("ok    " if ok else "FAIL  ") + os.path.basename(f))
        for line in log.splitlines():
            if not ok or "Used" in line or "spill" in line and " 0 bytes spill" not in line or "Compiling entry" in line:
                print("      " + line.strip())
        failed += not ok
    sys.exit(1 if failed else 0)

main()
