"""The parsed Dockerfile: typed instructions grouped into stages, with directives, comments and source lines."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dockyard.dockerfile.convert import to_instruction
from dockyard.dockerfile.directives import Directives
from dockyard.dockerfile.errors import DockerfileError, DockerfileReadError, DockerfileSyntaxError
from dockyard.dockerfile.instructions import AnyInstruction, ArgInstruction, FromInstruction
from dockyard.dockerfile.syntax import Comment, parse_nodes

#: Larger Dockerfiles are refused before parsing (BuildKit's frontend caps its input at a few MiB too).
MAX_DOCKERFILE_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Stage:
    """One build stage: `FROM` and the instructions up to the next `FROM`.

    `name` is the lower-cased `AS` name (None when unnamed), `base` the image text as written (may hold `$VAR`),
    `platform` the raw `--platform` value.
    """

    index: int
    name: str | None
    base: str
    platform: str | None
    from_instruction: FromInstruction
    instructions: tuple[AnyInstruction, ...]

    @property
    def ref(self) -> str:
        """How other stages refer to it: its name, else its index."""
        return self.name if self.name is not None else str(self.index)

    @property
    def start_line(self) -> int:
        return self.from_instruction.start_line

    @property
    def end_line(self) -> int:
        return self.instructions[-1].end_line if self.instructions else self.from_instruction.end_line


@dataclass(frozen=True, slots=True)
class ParseWarning:
    """A non-fatal parser finding (BuildKit's `no-empty-continuation`)."""

    line: int
    message: str


@dataclass(frozen=True, slots=True)
class Dockerfile:
    """A whole Dockerfile.

    `instructions` holds every instruction in file order; `meta_args` the ARGs before the first FROM (the global
    scope); `unstaged` any other instruction before the first FROM (BuildKit refuses to build those: "no build
    stage in current context"); `lines` the physical lines without their newlines.
    """

    path: Path | None
    lines: tuple[str, ...]
    directives: Directives
    instructions: tuple[AnyInstruction, ...]
    meta_args: tuple[ArgInstruction, ...]
    unstaged: tuple[AnyInstruction, ...]
    stages: tuple[Stage, ...]
    comments: tuple[Comment, ...]
    warnings: tuple[ParseWarning, ...]

    @property
    def escape(self) -> str:
        """The escape token (`\\` or a backtick from `# escape=`)."""
        return self.directives.escape

    def stage(self, ref: str | int) -> Stage:
        """The stage named `ref` (case-insensitive) or with index `ref`; raises `KeyError` when there is none."""
        if isinstance(ref, int) or ref.isdigit():
            index = int(ref)
            if 0 <= index < len(self.stages):
                return self.stages[index]
        else:
            for stage in self.stages:
                if stage.name == ref.lower():
                    return stage
        raise KeyError(ref)

    def line(self, number: int) -> str:
        """Physical line `number` (1-based)."""
        return self.lines[number - 1]


def parse(text: str, path: Path | str | None = None) -> Dockerfile:
    """Parse Dockerfile text; raises `DockerfileSyntaxError` (a `dockyard.errors.InvalidArgument`) with the line."""
    where = Path(path) if path is not None else None
    try:
        raw = parse_nodes(text)
        instructions = tuple(to_instruction(node, raw.lines) for node in raw.nodes)
    except DockerfileError as err:
        raise err.at(where) if where is not None else err from None
    stages: list[Stage] = []
    meta: list[ArgInstruction] = []
    unstaged: list[AnyInstruction] = []
    current: FromInstruction | None = None
    body: list[AnyInstruction] = []
    for inst in instructions:
        if isinstance(inst, FromInstruction):
            if current is not None:
                stages.append(_stage(len(stages), current, body))
            current, body = inst, []
        elif current is not None:
            body.append(inst)
        elif isinstance(inst, ArgInstruction):
            meta.append(inst)
        else:
            unstaged.append(inst)
    if current is not None:
        stages.append(_stage(len(stages), current, body))
    warnings = tuple(ParseWarning(n, "empty continuation line") for n in raw.empty_continuations)
    return Dockerfile(where, raw.lines, raw.directives, instructions, tuple(meta), tuple(unstaged), tuple(stages),
                      raw.comments, warnings)


def _stage(index: int, inst: FromInstruction, body: list[AnyInstruction]) -> Stage:
    return Stage(index, inst.stage_name, inst.image, inst.platform, inst, tuple(body))


def read_text(path: Path | str, what: str = "Dockerfile") -> str:
    """Read a Dockerfile (or ignore file) as text: UTF-8, undecodable bytes replaced; bounded in size."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_DOCKERFILE_BYTES + 1)
    except OSError as err:
        raise DockerfileReadError(f"cannot read {what}: {err.strerror or err}", path=path) from None
    if len(data) > MAX_DOCKERFILE_BYTES:
        raise DockerfileReadError(f"{what} is larger than {MAX_DOCKERFILE_BYTES} bytes", path=path)
    return data.decode("utf-8", errors="replace")


def parse_file(path: Path | str) -> Dockerfile:
    """Read and parse a Dockerfile; unreadable files raise `DockerfileReadError`, bad ones `DockerfileSyntaxError`."""
    return parse(read_text(path), path)


__all__ = ["Dockerfile", "DockerfileSyntaxError", "ParseWarning", "Stage", "parse", "parse_file", "read_text"]
