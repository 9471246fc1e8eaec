"""Go's character classes and `strconv.Quote`, so that parsing and AST dumps match BuildKit byte for byte."""

from __future__ import annotations

import unicodedata

_LATIN1_SPACE = frozenset("\t\n\v\f\r \x85\xa0")


def go_isspace(ch: str) -> bool:
    """`unicode.IsSpace`: the ASCII blanks, NEL, NBSP and the Unicode White_Space characters."""
    if ord(ch) < 0x100:
        return ch in _LATIN1_SPACE
    return ch.isspace()


def go_isdigit(ch: str) -> bool:
    """`unicode.IsDigit`: decimal digits (category Nd) only."""
    if ch.isascii():
        return "0" <= ch <= "9"
    return unicodedata.category(ch) == "Nd"


def go_isletter(ch: str) -> bool:
    """`unicode.IsLetter`: category L."""
    return ch.isalpha()


def lstrip_space(text: str) -> str:
    """`strings.TrimLeftFunc(s, unicode.IsSpace)`."""
    i = 0
    while i < len(text) and go_isspace(text[i]):
        i += 1
    return text[i:]


def strip_space(text: str) -> str:
    """`strings.TrimSpace`."""
    text = lstrip_space(text)
    j = len(text)
    while j > 0 and go_isspace(text[j - 1]):
        j -= 1
    return text[:j]


_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v",
            "\\": "\\\\", '"': '\\"'}


def go_quote(text: str) -> str:
    """`strconv.Quote`: a double-quoted Go string literal (printable runes kept, others escaped)."""
    out = ['"']
    for ch in text:
        esc = _ESCAPES.get(ch)
        if esc is not None:
            out.append(esc)
        elif ch == " " or (ch.isprintable() and not ch.isspace()):
            out.append(ch)
        elif ord(ch) < 0x80 or 0xDC80 <= ord(ch) <= 0xDCFF:
            out.append(f"\\x{ord(ch) & 0xFF:02x}")
        elif ord(ch) < 0x10000:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    out.append('"')
    return "".join(out)
