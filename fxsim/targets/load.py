"""Reading target profiles: the built-in TOML files and users' own.

A profile file is TOML. Top-level keys: ``name``, ``description``, ``extends`` (a built-in
name or a path relative to the file), ``isa``; one table per section of TARGETS.md
(``[activations]``, ``[weights]``, ``[bias]``, ``[quantize]``, ``[multiplier]``,
``[requant]``, ``[accumulator]``, ``[output_stage]``, ``[elementwise]``, ``[average_pool]``,
``[resize]``, ``[nonlinear]``, ``[float_ops]``, ``[qdq]``) and ``[overrides.<scope>.<section>]`` tables, where the scope
is an op stem (``conv2d``...), ``a16`` (16-bit activations) or the name of a route: a
``[routing.<name>]`` table (``ops``, ``weight_zero_points``, ``max_groups``; labelled like a
section) selects the weighted layers that run with the ``[overrides.<name>.<section>]`` tables,
for an engine that picks its kernel per layer.

Labels: in every section table, ``status`` / ``source`` / ``note`` give the label of the
fields the table sets, and ``labels = { field = { status = ..., source = ..., note = ... } }``
overrides it per field (also for an inherited field, to relabel it). The top-level ``[labels]``
table labels ``isa``. A field a user file sets without a status is ``assumed``, with the file
as its source.

``extends``: the parent's fields and labels, then the file's. Setting ``requant.method``
clears the parent's method-specific fields (``requant.rounding``, ``product_precision``,
``zero_point_in_float``); setting ``elementwise.add`` clears ``add_left_shift``.

Every error is a ``TargetError`` naming the file and the dotted key.
"""

from __future__ import annotations

import functools
import os
import pathlib

from fxsim.errors import TargetError

from .target import (
    FIELDS,
    OVERRIDE_SECTIONS,
    ROUTE_FIELDS,
    STATUSES,
    Label,
    Target,
    parse_field,
)

__all__ = ["load_target", "list_targets", "BUILTIN_DIR"]

#: Where the built-in profiles live (shipped as package data).
BUILTIN_DIR = pathlib.Path(__file__).resolve().parent / "builtin"

# TARGETS.md's order of the built-in profiles.
_BUILTIN_ORDER = ("tflite-int8", "tflite-xnnpack", "tflite-int8-opt", "tflite-int16x8",
                  "onnxruntime", "onnxruntime-vnni", "onnx-reference", "fbgemm", "fbgemm-vnni", "tosa",
                  "tosa-single-round", "cmsis-nn", "xilinx-dpu", "fpga-zebra", "hexagon-dsp",
                  "htp", "exact")

_ROOT_KEYS = ("name", "description", "extends", "isa", "labels", "overrides", "routing")
_TABLE_SECTIONS = ("activations", "weights", "bias", "quantize", "multiplier", "requant",
                   "accumulator", "output_stage", "elementwise", "average_pool", "resize", "nonlinear",
                   "float_ops", "qdq")
_LABEL_KEYS = ("status", "source", "note")
_REQUANT_DEPENDENT = ("requant.rounding", "requant.product_precision",
                      "requant.zero_point_in_float")


def _toml_loads():
    try:
        import tomllib  # Python 3.11+
    except ImportError:  # pragma: no cover - exercised on Python < 3.11 only
        try:
            import tomli as tomllib
        except ImportError:
            raise TargetError("reading TOML target profiles needs Python 3.11+ (tomllib) or "
                              "the 'tomli' package (pip install tomli)") from None
    return tomllib.loads, tomllib.TOMLDecodeError


def list_targets() -> tuple:
    """The names of the built-in profiles, in TARGETS.md's order."""
    found = {p.stem for p in BUILTIN_DIR.glob("*.toml")}
    ordered = [n for n in _BUILTIN_ORDER if n in found]
    return tuple(ordered + sorted(found - set(ordered)))


def load_target(name_or_path) -> Target:
    """Load a target profile: a built-in name (``"tflite-int8"``, see ``list_targets()``), a
    ``Target`` (returned as is), or the path of a ``.toml`` file.

    Raises ``TargetError`` naming the file and the dotted key for unknown keys, bad values,
    impossible combinations, malformed TOML, a missing file or an ``extends`` cycle.
    """
    if isinstance(name_or_path, Target):
        return name_or_path
    if isinstance(name_or_path, str) and name_or_path in list_targets():
        return _load_builtin(name_or_path)
    if not isinstance(name_or_path, (str, os.PathLike)):
        raise TargetError(f"load_target: expected a built-in name or a .toml path, got "
                          f"{type(name_or_path).__name__} {name_or_path!r}")
    path = pathlib.Path(name_or_path)
    if path.suffix != ".toml" and not path.exists():
        raise TargetError(f"{str(name_or_path)!r}: not a built-in target (one of "
                          f"{', '.join(list_targets())}) nor a .toml file")
    return _load_file(path, ())


@functools.lru_cache(maxsize=None)
def _load_builtin(name):
    return _load_file(BUILTIN_DIR / f"{name}.toml", ())


def _fail(path, key, message):
    where = f"{path}: {key}" if key else f"{path}"
    err = TargetError(f"{where}: {message}")
    err.key = key
    err.path = str(path)
    return err


def _load_file(path, stack):
    path = pathlib.Path(path)
    shown = str(path)
    try:
        real = path.resolve()
    except OSError:
        real = path
    if real in stack:
        chain = " -> ".join(str(p) for p in stack + (real,))
        raise _fail(shown, "extends", f"circular extends: {chain}")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise _fail(shown, None, "no such target file") from None
    except (OSError, UnicodeDecodeError) as err:
        raise _fail(shown, None, f"cannot read the target file: {err}") from None
    loads, decode_error = _toml_loads()
    try:
        doc = loads(text)
    except decode_error as err:
        raise _fail(shown, None, f"malformed TOML: {err}") from None
    try:
        return _build(doc, path, stack + (real,))
    except TargetError as err:
        if getattr(err, "path", None):
            raise  # already names its file (a parent profile)
        raise _fail(shown, getattr(err, "key", None),
                    str(err).split(": ", 1)[1] if getattr(err, "key", None) else str(err)) from None


def _build(doc, path, stack):
    is_builtin = path.resolve().parent == BUILTIN_DIR
    unknown = [k for k in doc if k not in _ROOT_KEYS and k not in _TABLE_SECTIONS]
    if unknown:
        raise _key_error(unknown[0], "unknown key")
    for key in ("name", "description", "extends"):
        if key in doc and not isinstance(doc[key], str):
            raise _key_error(key, f"expected a string, got {doc[key]!r}")

    default_source = f"{'builtin/' if is_builtin else ''}{path.name}"
    values, labels, explicit = {}, {}, {}

    def take_table(table, prefix, section):
        """Fields and labels of one section table; ``prefix`` is the dotted prefix."""
        if not isinstance(table, dict):
            raise _key_error(prefix.rstrip("."), "expected a table")
        defaults = {}
        for k in _LABEL_KEYS:
            if k in table:
                defaults[k] = _label_part(f"{prefix}{k}", table[k], k)
        for k, raw in table.items():
            if k in _LABEL_KEYS or k == "labels":
                continue
            key = f"{prefix}{k}"
            values[key] = parse_field(key, raw)
            labels[key] = dict(defaults)
        per_field = table.get("labels", {})
        if not isinstance(per_field, dict):
            raise _key_error(f"{prefix}labels", "expected a table of field = { status, source, "
                                                "note }")
        for k, entry in per_field.items():
            key = f"{prefix}{k}"
            field_key = key if not prefix.startswith("overrides.") else ".".join(
                key.split(".")[2:])
            if section == "nonlinear":
                parse_field(f"nonlinear.{k}", "lut")  # validates the op name
            elif section == "routing":
                if k not in ROUTE_FIELDS:
                    raise _key_error(f"{prefix}labels.{k}", "labels an unknown field")
            elif field_key not in FIELDS:
                raise _key_error(f"{prefix}labels.{k}", "labels an unknown field")
            if not isinstance(entry, dict):
                raise _key_error(f"{prefix}labels.{k}", "expected { status, source, note }")
            bad = [x for x in entry if x not in _LABEL_KEYS]
            if bad:
                raise _key_error(f"{prefix}labels.{k}.{bad[0]}", "unknown key")
            merged = dict(labels.get(key, defaults))
            merged.update({x: _label_part(f"{prefix}labels.{k}.{x}", v, x)
                           for x, v in entry.items()})
            explicit[key] = merged

    for section in _TABLE_SECTIONS:
        if section in doc:
            take_table(doc[section], f"{section}.", section)
    if "isa" in doc:
        values["isa"] = parse_field("isa", doc["isa"])
        labels["isa"] = {}
    root_labels = doc.get("labels", {})
    if not isinstance(root_labels, dict):
        raise _key_error("labels", "expected a table")
    for k, entry in root_labels.items():
        if k != "isa":
            raise _key_error(f"labels.{k}", "the top-level [labels] table labels 'isa' only; "
                                            "label a section's fields in its own table")
        if not isinstance(entry, dict) or any(x not in _LABEL_KEYS for x in entry):
            raise _key_error(f"labels.{k}", "expected { status, source, note }")
        explicit["isa"] = {x: _label_part(f"labels.{k}.{x}", v, x) for x, v in entry.items()}
    routing = doc.get("routing", {})
    if not isinstance(routing, dict):
        raise _key_error("routing", "expected [routing.<name>] tables")
    for route, table in routing.items():
        take_table(table, f"routing.{route}.", "routing")
    overrides = doc.get("overrides", {})
    if not isinstance(overrides, dict):
        raise _key_error("overrides", "expected a table of [overrides.<scope>.<section>]")
    for scope, sections in overrides.items():
        # a scope that is neither an op, a16 nor a route (here or in the parent) is named by
        # Target.check once the routes are merged
        if not isinstance(sections, dict):
            raise _key_error(f"overrides.{scope}", "expected [overrides.<scope>.<section>] tables")
        for section, table in sections.items():
            if section not in OVERRIDE_SECTIONS:
                raise _key_error(f"overrides.{scope}.{section}",
                                 f"not a section an override may change; expected one of "
                                 f"{', '.join(OVERRIDE_SECTIONS)}")
            take_table(table, f"overrides.{scope}.{section}.", section)

    # the parent profile, then this file's fields
    parent = None
    if "extends" in doc:
        ref = doc["extends"]
        if ref in list_targets():
            parent_path = BUILTIN_DIR / f"{ref}.toml"
            if parent_path.resolve() in stack:
                chain = " -> ".join(str(p) for p in stack + (parent_path.resolve(),))
                raise _key_error("extends", f"circular extends: {chain}")
            parent = _load_file(parent_path, stack)
        else:
            parent_path = pathlib.Path(ref)
            if not parent_path.is_absolute():
                parent_path = path.parent / parent_path
            if parent_path.resolve() in stack:
                chain = " -> ".join(str(p) for p in stack + (parent_path.resolve(),))
                raise _key_error("extends", f"circular extends: {chain}")
            if not parent_path.exists():
                raise _key_error("extends", f"{ref!r} is neither a built-in target (one of "
                                            f"{', '.join(list_targets())}) nor an existing file")
            parent = _load_file(parent_path, stack)
    merged_values, merged_labels = {}, {}
    if parent is not None:
        merged_values = parent.fields()
        merged_labels = {k: parent.labels[k] for k in merged_values}
        if "requant.method" in values:
            for key in _REQUANT_DEPENDENT:
                merged_values.pop(key, None)
        if "elementwise.add" in values:
            merged_values.pop("elementwise.add_left_shift", None)
        for scope in {k.split(".")[1] for k in values if k.startswith("overrides.")}:
            prefix = f"overrides.{scope}."
            if f"{prefix}requant.method" in values:
                for key in _REQUANT_DEPENDENT:
                    merged_values.pop(prefix + key, None)
    for key, value in values.items():
        merged_values[key] = value
        parts = explicit.get(key, labels[key])
        merged_labels[key] = _make_label(key, parts, default_source, is_builtin)
    for key, parts in explicit.items():
        if key in values:
            continue
        if key not in merged_labels:
            raise _key_error(key, "labels a field that is not set (here or in the parent)")
        old = merged_labels[key]
        merged_labels[key] = Label(parts.get("status", old.status), parts.get("source",
                                   old.source), parts.get("note", old.note))

    name = doc.get("name", path.stem)
    if is_builtin and name != path.stem:
        raise _key_error("name", f"a built-in profile's name must be its file name "
                                 f"{path.stem!r}, got {name!r}")
    description = doc.get("description")
    if description is None:
        description = (f"{parent.description} (extended by {path.name})" if parent
                       else f"user profile {path.name}")
    return Target.from_fields(name, description, merged_values, merged_labels,
                              path=str(path), extends=doc.get("extends"))


def _key_error(key, message):
    err = TargetError(f"{key}: {message}")
    err.key = key
    return err


def _label_part(key, value, what):
    if not isinstance(value, str):
        raise _key_error(key, f"expected a string, got {value!r}")
    if what == "status" and value not in STATUSES:
        raise _key_error(key, f"unknown status {value!r}; expected one of "
                              f"{', '.join(STATUSES)}")
    return value


def _make_label(key, parts, default_source, is_builtin):
    if "status" not in parts:
        if is_builtin:
            raise _key_error(key, "a built-in profile must label every field with a status")
        return Label("assumed", parts.get("source", default_source),
                     parts.get("note", "set by a user profile without a status"))
    return Label(parts["status"], parts.get("source", default_source), parts.get("note", ""))
