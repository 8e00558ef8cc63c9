"""Build of fxsim's compiled parts.

* ``fxsim._kernels``: the C++17 integer core (``csrc/fxsim``) and its pybind11 binding
  (``csrc/bindings``). Sources are compiled in sorted order with ``-O3``, never
  ``-ffast-math``, and ``-ffp-contract=off`` so float paths are IEEE step by step (an FMA
  would change the rounding of ``acc * scale + zp``).
* ``fxsim.calib._stats``: the calibration statistics hot loops (min/max, histograms,
  per-channel moments), Cython (``fxsim/calib/_stats.pyx`` with C loops in
  ``_stats_simd.h``: an AVX2 min/max picked at run time by CPU detection), compiled with the same
  ``-O3 -ffp-contract=off`` and no ``-ffast-math`` (NaN/Inf detection relies on IEEE
  comparisons). ``Cython`` is a build requirement (pyproject.toml).
* Per-ISA translation units: a source whose name ends in a suffix of ``csrc/isa_flags.txt``
  (``_avx2.cc``, ``_avx512bw.cc``, ``_avx512vnni.cc``, ``_avx512vbmi.cc``) is compiled with
  that instruction set enabled; everything else targets the portable x86-64
  baseline. The core picks a variant at run time by CPU detection
  (``csrc/fxsim/kernels/dispatch.cc``), so one wheel runs anywhere and is fast where it can be.
  Off x86-64 the per-ISA units compile to nothing (they guard on ``__x86_64__``) and no ISA
  flag is passed.
"""

import glob
import os
import platform

from Cython.Build import cythonize
from pybind11.setup_helpers import ParallelCompile, Pybind11Extension, build_ext
from setuptools import Extension, setup

# Translation units compiled in parallel, one per CPU (FXSIM_BUILD_JOBS=N to choose N): compiled
# one by one, the vector kernels took ~10 minutes of a 2-core machine's install. Each unit still
# goes through BuildExtPerIsa's compile_one, so its ISA flags are unchanged.
ParallelCompile("FXSIM_BUILD_JOBS").install()

HERE = os.path.dirname(os.path.abspath(__file__))

IS_X86_64 = platform.machine().lower() in ("x86_64", "amd64")


def _isa_flags():
    """{file-name suffix: flags} from csrc/isa_flags.txt (shared with csrc/tests/build_and_run.sh)."""
    flags = {}
    with open(os.path.join(HERE, "csrc", "isa_flags.txt")) as f:
        for line in f:
            words = line.split("#", 1)[0].split()
            if words:
                flags[words[0]] = words[1:]
    return flags


ISA_FLAGS = _isa_flags()

COMMON_FLAGS = ["-O3", "-ffp-contract=off", "-fno-math-errno", "-fvisibility=hidden", "-Wall", "-Wextra"]


def _sources():
    """Every .cc under csrc/fxsim and csrc/bindings, relative and sorted (reproducible builds)."""
    found = []
    for sub in ("csrc/fxsim", "csrc/bindings"):
        found += glob.glob(os.path.join(sub, "**", "*.cc"), recursive=True)
    return sorted(found)


class BuildExtPerIsa(build_ext):
    """build_ext that adds the instruction-set flags to the per-ISA translation units."""

    def build_extensions(self):
        compiler = self.compiler
        original_compile = compiler._compile

        def compile_one(obj, src, ext, cc_args, extra_postargs, pp_opts):
            extra = list(extra_postargs or [])
            if IS_X86_64:
                for suffix, flags in ISA_FLAGS.items():
                    if src.endswith(suffix):
                        extra += flags
            return original_compile(obj, src, ext, cc_args, extra, pp_opts)

        compiler._compile = compile_one
        try:
            super().build_extensions()
        finally:
            compiler._compile = original_compile


ext_modules = [
    Pybind11Extension(
        "fxsim._kernels",
        _sources(),
        include_dirs=["csrc"],
        # the headers and .inc bodies too: without them an edit to gemm_kernels.inc alone left
        # the extension "up to date" and a rebuild silently kept the old code
        depends=sorted(glob.glob("csrc/**/*.h", recursive=True) + glob.glob("csrc/**/*.inc", recursive=True)),
        cxx_std=17,
        extra_compile_args=COMMON_FLAGS,
    ),
] + cythonize(
    [Extension("fxsim.calib._stats", ["fxsim/calib/_stats.pyx"], depends=["fxsim/calib/_stats_simd.h"],
               extra_compile_args=["-O3", "-ffp-contract=off", "-fno-math-errno"])],
    compiler_directives={"language_level": 3},
)

setup(
    ext_modules=ext_modules,
    cmdclass={"build_ext": BuildExtPerIsa},
)
