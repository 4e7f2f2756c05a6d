"""Values that cross the sandbox boundary, as JSON, and how they are compared.

Student code runs in another process; what it returns comes back as JSON text
(never a pickle, which could run code when loaded). :func:`encode` turns
numbers, strings, lists, dicts, NumPy arrays and torch tensors into JSON-safe
data; the same function is applied to the reference's value, so both sides
are compared in one representation. Non-finite floats are spelled out
(``{"float": "nan"}``) because JSON has no NaN.

This module uses the standard library only: the sandbox runner imports a copy
of :func:`encode` from here without importing NumPy or torch itself.
"""

from __future__ import annotations

import math

MAX_ITEMS = 1_000_000


class UnsupportedValue(TypeError):
    """A returned value that cannot be sent back as JSON."""


def encode(value, _depth: int = 0):
    """Turn ``value`` into JSON-safe data (recursively).

    Arrays and tensors become nested lists of numbers; tuples become lists.
    Raises :class:`UnsupportedValue` naming the type for anything else.
    """
    if _depth > 20:
        raise UnsupportedValue("nesting deeper than 20 levels")
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        return {
            "float": "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
        }
    module = type(value).__module__
    if module.startswith("numpy") or module.startswith("torch"):
        if hasattr(value, "detach"):
            value = value.detach().cpu()
        if hasattr(value, "tolist"):
            return encode(value.tolist(), _depth + 1)
    if isinstance(value, list | tuple):
        if len(value) > MAX_ITEMS:
            raise UnsupportedValue(
                f"a list of {len(value)} items is too long to return"
            )
        return [encode(v, _depth + 1) for v in value]
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise UnsupportedValue("dict keys must be strings")
        return {k: encode(v, _depth + 1) for k, v in value.items()}
    raise UnsupportedValue(f"cannot return a value of type {type(value).__name__}")


def decode_float(value):
    """A number from JSON data, or None if it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, dict) and set(value) == {"float"}:
        return {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}.get(value["float"])
    return None


def _shape(value) -> tuple:
    if isinstance(value, list):
        inner = {_shape(v) for v in value}
        return (
            (len(value), *next(iter(inner)))
            if len(inner) == 1
            else (len(value), "ragged")
        )
    return ()


def _describe(value, limit: int = 120) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def compare(
    expected, got, *, rtol: float = 1e-6, atol: float = 1e-9, where: str = ""
) -> str | None:
    """``None`` if ``got`` matches ``expected``, else a message saying how it differs.

    Numbers match within ``atol + rtol·|expected|`` (NaN matches NaN);
    lists must have the same length, element by element; dicts the same keys;
    strings and booleans must be equal.
    """
    e_num, g_num = decode_float(expected), decode_float(got)
    if e_num is not None:
        if g_num is None:
            return f"{where}expected a number, got {_describe(got)}"
        if math.isnan(e_num) and math.isnan(g_num):
            return None
        if math.isinf(e_num) or math.isinf(g_num):
            return None if e_num == g_num else f"{where}expected {e_num}, got {g_num}"
        if abs(g_num - e_num) <= atol + rtol * abs(e_num):
            return None
        return f"{where}expected {e_num:.10g}, got {g_num:.10g}"
    if isinstance(expected, list):
        if not isinstance(got, list):
            return (
                f"{where}expected a list or array of shape {_shape(expected)}, "
                f"got {_describe(got)}"
            )
        if len(got) != len(expected):
            return f"{where}expected shape {_shape(expected)}, got shape {_shape(got)}"
        for i, (e, g) in enumerate(zip(expected, got, strict=True)):
            message = compare(e, g, rtol=rtol, atol=atol, where=f"{where}[{i}] ")
            if message:
                return message
        return None
    if isinstance(expected, dict):
        if not isinstance(got, dict) or set(got) != set(expected):
            return f"{where}expected a dict with keys {sorted(expected)}, got {_describe(got)}"
        for k in expected:
            message = compare(
                expected[k], got[k], rtol=rtol, atol=atol, where=f"{where}[{k!r}] "
            )
            if message:
                return message
        return None
    if type(got) is not type(expected) or got != expected:
        return f"{where}expected {_describe(expected)}, got {_describe(got)}"
    return None
