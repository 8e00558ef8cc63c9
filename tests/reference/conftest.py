"""Make ``fxsim.reference`` importable even while the rest of the package cannot be imported.

``fxsim.reference`` imports nothing of fxsim but ``fxsim.constants``. When ``fxsim/__init__.py``
fails (for example because the compiled extension ``fxsim._kernels`` is not built), install a
bare package object for ``fxsim`` whose ``__path__`` is the source directory, so that the
submodules ``fxsim.constants`` and ``fxsim.reference.*`` load without running the package's
``__init__``.
"""

import importlib
import pathlib
import sys
import types

_ROOT = pathlib.Path(__file__).resolve().parents[2]


def _install_bare_fxsim():
    for name in [n for n in sys.modules if n == "fxsim" or n.startswith("fxsim.")]:
        del sys.modules[name]
    pkg = types.ModuleType("fxsim")
    pkg.__path__ = [str(_ROOT / "fxsim")]
    pkg.__file__ = None
    sys.modules["fxsim"] = pkg


if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))
try:
    importlib.import_module("fxsim.reference")
except Exception:  # the package __init__ is broken or needs the extension
    _install_bare_fxsim()
    importlib.import_module("fxsim.reference")
