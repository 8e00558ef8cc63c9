"""Target profiles: the arithmetic of each engine or device as validated data (TARGETS.md).

``load_target(name_or_path)`` reads a built-in profile or a user TOML file (which may
``extends`` a built-in one), ``list_targets()`` names the built-in profiles, and a ``Target``
holds every field with its status label (verified / documented / assumed) and source;
``Target.describe()`` prints them. ``Layer`` is what an engine's per-layer kernel choice (a
profile's routes, ``Route``) looks at in one weighted layer.
"""

from .target import Label, Layer, Route, Target
from .load import list_targets, load_target

__all__ = ["Label", "Layer", "Route", "Target", "list_targets", "load_target"]
