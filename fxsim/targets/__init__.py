"""Target profiles: the arithmetic of each engine or device as validated data (TARGETS.md).

``load_target(name_or_path)`` reads a built-in profile or a user TOML file (which may
``extends`` a built-in one), ``list_targets()`` names the built-in profiles, and a ``Target``
holds every field with its status label (verified / documented / assumed) and source;
``Target.describe()`` prints them.
"""

from .target import Label, Target
from .load import list_targets, load_target

__all__ = ["Label", "Target", "list_targets", "load_target"]
