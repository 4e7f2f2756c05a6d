"""Where each value of a JSON text starts: so that an error in a file an
instructor wrote names its line (``json`` itself only says where it failed
to parse)."""

from __future__ import annotations

import bisect
from json.decoder import JSONDecoder


def value_lines(text: str) -> dict[tuple, int]:
    """Line (1-based) of every value of a valid JSON ``text``, by its path:
    ``()`` for the whole, ``("key", 0)`` for the first item of ``key``."""
    newlines = [i for i, c in enumerate(text) if c == "\n"]
    decoder = JSONDecoder()
    out: dict[tuple, int] = {}

    def skip(i: int) -> int:
        while i < len(text) and text[i] in " \t\r\n":
            i += 1
        return i

    def value(i: int, path: tuple) -> int:
        i = skip(i)
        out[path] = bisect.bisect_left(newlines, i) + 1
        if text[i] not in "{[":
            return decoder.raw_decode(text, i)[1]
        close, index = ("}" if text[i] == "{" else "]"), 0
        i = skip(i + 1)
        while text[i] != close:
            if close == "}":
                key, i = decoder.raw_decode(text, i)
                i = value(skip(i) + 1, (*path, key))  # past the ':'
            else:
                i = value(i, (*path, index))
                index += 1
            i = skip(i)
            if text[i] == ",":
                i = skip(i + 1)
        return i + 1

    value(0, ())
    return out
