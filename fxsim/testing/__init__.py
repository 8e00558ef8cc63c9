"""Tools for property-testing quantized arithmetic: fxsim's and your own.

``fxsim.testing.strategies`` holds hypothesis strategies in the domain's vocabulary (encodings,
quantized tensors, multipliers, ties and saturation edges). It needs the ``testing`` extra:
``pip install "fxsim[testing]"``; importing it without hypothesis raises an ``ImportError``
that says so.
"""

import importlib

_SUBMODULES = ("strategies",)


def __getattr__(name):
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def require(module):
    """Import an optional dependency of ``fxsim.testing`` or explain how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError as err:
        raise ImportError(
            f"fxsim.testing needs {module!r}, which is not installed; install the testing extra: "
            f'pip install "fxsim[testing]"'
        ) from err
