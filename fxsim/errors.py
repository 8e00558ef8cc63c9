"""The error hierarchy: every user-facing error is an ``FxsimError``.

Each error names the tensor, node, argument or file it is about and what was expected
(DESIGN.md "Errors"). ``FxsimError`` subclasses ``ValueError`` so that code written against
plain numpy conventions still catches bad-argument errors.
"""


class FxsimError(ValueError):
    """Base class of every error fxsim raises on bad input."""


class EncodingError(FxsimError):
    """An encoding (scale, offset, bitwidth, range, axis) is invalid or inconsistent."""


class GraphError(FxsimError):
    """A graph is malformed: missing tensors, shapes that do not match, cycles."""


class UnsupportedOpError(FxsimError):
    """An operator (or an attribute of one) that fxsim does not simulate."""


class TargetError(FxsimError):
    """A target profile is invalid, or an encoding violates a target's constraint."""


class FormatError(FxsimError):
    """A file or array does not have the format, dtype or layout that was expected."""


class KernelError(FxsimError):
    """A kernel rejected its arguments (raised from a C++ ``std::invalid_argument``)."""


class OverflowRangeError(FxsimError):
    """A value left the range an arithmetic step allows (raised from ``std::out_of_range``)."""
