"""Frozen dataclasses to and from the nested dictionaries of a TOML file.

Used by :class:`ketex.simulate.TrialDesign` for its ``[design]`` section. Field types are
read from the annotations, so a nested dataclass, a tuple of dataclasses, a date or an
optional value needs no special code in the design classes. Errors are ``ValueError``
naming the file and the dotted key.
"""

from __future__ import annotations

import dataclasses
import datetime
import types
import typing
from collections.abc import Mapping
from typing import Any

__all__ = ["from_dict", "to_dict"]


def to_dict(obj: Any) -> Any:
    """A dataclass as nested dicts and lists (None values left out, as TOML has no null)."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        out = {}
        for spec in dataclasses.fields(obj):
            value = getattr(obj, spec.name)
            if value is not None:
                out[spec.name] = to_dict(value)
        return out
    if isinstance(obj, tuple | list):
        return [to_dict(v) for v in obj]
    if isinstance(obj, Mapping):
        return {k: to_dict(v) for k, v in obj.items()}
    return obj


def from_dict(cls: type, data: Any, path: str, source: str) -> Any:
    """Build dataclass ``cls`` from ``data``, checking keys and types against its fields."""
    return _Builder(source).dataclass(cls, data, path)


class _Builder:
    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, path: str, what: str) -> ValueError:
        return ValueError(f"{self.source}: {path}: {what}")

    def dataclass(self, cls: type, data: Any, path: str) -> Any:
        if not isinstance(data, Mapping):
            raise self.fail(path, f"must be a table, got {data!r}")
        hints = typing.get_type_hints(cls)
        known = {spec.name: spec for spec in dataclasses.fields(cls)}
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise self.fail(
                path, f"unknown key(s) {', '.join(unknown)}; known keys: {', '.join(known)}"
            )
        missing = [
            name
            for name, spec in known.items()
            if name not in data
            and spec.default is dataclasses.MISSING
            and spec.default_factory is dataclasses.MISSING
        ]
        if missing:
            raise self.fail(path, f"missing required key(s) {', '.join(missing)}")
        kwargs = {name: self.value(hints[name], v, f"{path}.{name}") for name, v in data.items()}
        try:
            return cls(**kwargs)
        except ValueError as exc:
            raise self.fail(path, str(exc)) from None

    def value(self, hint: Any, value: Any, path: str) -> Any:
        origin = typing.get_origin(hint)
        if origin in (typing.Union, types.UnionType):
            options = [a for a in typing.get_args(hint) if a is not type(None)]
            return self.value(options[0], value, path)
        if origin is tuple:
            if not isinstance(value, list | tuple):
                raise self.fail(path, f"must be an array, got {value!r}")
            args = typing.get_args(hint)
            if len(args) == 2 and args[1] is Ellipsis:
                kinds = [args[0]] * len(value)
            elif len(args) != len(value):
                raise self.fail(path, f"must be an array of {len(args)} values, got {value!r}")
            else:
                kinds = list(args)
            return tuple(
                self.value(kind, v, f"{path}[{i}]")
                for i, (kind, v) in enumerate(zip(kinds, value, strict=True))
            )
        if isinstance(hint, type) and dataclasses.is_dataclass(hint):
            return self.dataclass(hint, value, path)
        return self.scalar(hint, value, path)

    def scalar(self, hint: Any, value: Any, path: str) -> Any:
        if hint is bool:
            if not isinstance(value, bool):
                raise self.fail(path, f"must be true or false, got {value!r}")
            return value
        if hint in (int, float):
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise self.fail(path, f"must be a number, got {value!r}")
            if hint is int and value != int(value):
                raise self.fail(path, f"must be a whole number, got {value!r}")
            return hint(value)
        if hint is str:
            if not isinstance(value, str):
                raise self.fail(path, f"must be a string, got {value!r}")
            return value
        if hint is datetime.date:
            if isinstance(value, datetime.datetime):
                return value.date()
            if isinstance(value, datetime.date):
                return value
            try:
                return datetime.date.fromisoformat(str(value))
            except ValueError:
                raise self.fail(path, f"must be a date like 2024-01-07, got {value!r}") from None
        return value
