"""`dockyard lint --fix`: safe, mechanical rewrites of the rules whose fix never changes what gets installed.

- DL3014/DL3015: `apt-get install` gains `-y` and `--no-install-recommends`;
- DL3042: `pip install` gains `--no-cache-dir`; DL3019: `apk add` gains `--no-cache`;
- DL3009: a RUN that runs `apt-get update` ends with `&& rm -rf /var/lib/apt/lists/*`;
- DL3025: a one-line shell-form CMD/ENTRYPOINT without shell syntax becomes the JSON form.

Edits are insertions into the RUN's own text, so comments, continuations and indentation stay as written.
"""

from __future__ import annotations

import difflib
import json
import re
import shlex
from dataclasses import dataclass

from dockyard.dockerfile import CmdInstruction, Dockerfile, EntrypointInstruction, RunInstruction

_APT_INSTALL = re.compile(r"(?:^|\s)apt-get\s(?:[^\n]*?\s)?install(?=\s|$)")
_PIP_INSTALL = re.compile(r"(?:^|\s)(?:pip3?|python3?\s+-m\s+pip)\s(?:[^\n]*?\s)?install(?=\s|$)")
_APK_ADD = re.compile(r"(?:^|\s)apk\s(?:[^\n]*?\s)?add(?=\s|$)")
_YES = re.compile(r"\s(?:-[a-zA-Z]*y[a-zA-Z]*|--yes|--assume-yes|-qq|-q=2)(?=\s|$)")
_SHELL_SYNTAX = frozenset("$`|&;<>*?(){}[]\\'\"~#")


@dataclass(frozen=True, slots=True)
class FixResult:
    """The rewritten text and how many edits were made."""

    text: str
    edits: int

    def diff(self, original: str, path: str) -> str:
        return "".join(difflib.unified_diff(original.splitlines(keepends=True), self.text.splitlines(keepends=True),
                                            f"a/{str(path).lstrip('/')}", f"b/{str(path).lstrip('/')}"))


def _segments(text: str) -> list[tuple[int, int]]:
    """Spans of `text` between top-level `&&`, `||`, `;`, `|` (outside quotes)."""
    spans, start, i, quote = [], 0, 0, ""
    while i < len(text):
        c = text[i]
        if quote:
            if c == quote:
                quote = ""
            elif c == "\\" and quote == '"':
                i += 1
        elif c in "'\"":
            quote = c
        elif c == "\\":
            i += 1
        elif c in ";|&":
            spans.append((start, i))
            while i + 1 < len(text) and text[i + 1] in "|&":
                i += 1
            start = i + 1
        i += 1
    spans.append((start, len(text)))
    return spans


def _run_inserts(text: str) -> list[tuple[int, str]]:
    inserts: list[tuple[int, str]] = []
    for start, end in _segments(text):
        seg = text[start:end]
        apt = _APT_INSTALL.search(seg)
        if apt:
            added = ("" if _YES.search(seg) else " -y") + (
                "" if "--no-install-recommends" in seg or "Install-Recommends=false" in seg
                else " --no-install-recommends")
            if added:
                inserts.append((start + apt.end(), added))
        pip = _PIP_INSTALL.search(seg)
        if pip and "--no-cache-dir" not in seg and not re.search(r"pipx|pipenv", seg):
            inserts.append((start + pip.end(), " --no-cache-dir"))
        apk = _APK_ADD.search(seg)
        if apk and "--no-cache" not in seg:
            inserts.append((start + apk.end(), " --no-cache"))
    if re.search(r"(?:^|\s)apt-get\s(?:[^\n]*?\s)?update(?=\s|$)", text) and "/var/lib/apt/lists" not in text:
        tail = text.rstrip()
        if not tail.endswith(("\\", ";", "&", "|", "fi", "done", "esac", "}")):
            inserts.append((len(tail), " && rm -rf /var/lib/apt/lists/*"))
    return inserts


def _json_form(inst: CmdInstruction | EntrypointInstruction) -> str | None:
    if inst.command.exec_form or inst.start_line != inst.end_line or inst.heredocs:
        return None
    script = inst.command.text
    if not script.strip() or any(c in _SHELL_SYNTAX for c in script):
        return None
    return f"{inst.keyword_text} {json.dumps(shlex.split(script))}"


def fix_dockerfile(df: Dockerfile, text: str) -> FixResult:
    """Apply every safe fix to `text` (the source `df` was parsed from)."""
    lines = text.split("\n")
    edits = 0
    for inst in reversed(df.instructions):
        first, last = inst.start_line - 1, inst.end_line - 1
        if isinstance(inst, RunInstruction) and not inst.command.exec_form and not inst.heredocs:
            block = "\n".join(lines[first:last + 1])
            inserts = _run_inserts(block)
            for offset, added in sorted(inserts, reverse=True):
                block = block[:offset] + added + block[offset:]
            if inserts:
                lines[first:last + 1] = block.split("\n")
                edits += len(inserts)
        elif isinstance(inst, (CmdInstruction, EntrypointInstruction)):
            replacement = _json_form(inst)
            if replacement is not None:
                indent = lines[first][:len(lines[first]) - len(lines[first].lstrip())]
                lines[first] = indent + replacement
                edits += 1
    return FixResult("\n".join(lines), edits)
