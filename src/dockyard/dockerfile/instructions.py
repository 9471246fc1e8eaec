"""Typed Dockerfile instructions: one frozen dataclass per instruction, all sharing `Instruction`'s source facts.

Arguments are kept as BuildKit keeps them after parsing: words still carry their quotes and escapes, `$VAR`s are
not expanded (see `dockyard.dockerfile.expand`), shell-form commands are one string.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from dockyard.dockerfile.flags import Flag, flag_bool, flag_value, flag_values
from dockyard.dockerfile.mounts import Mount
from dockyard.dockerfile.syntax import Heredoc


class Keyword(StrEnum):
    """The instruction keywords BuildKit knows (upper-case, as the linter and the builder name them)."""

    FROM = "FROM"
    RUN = "RUN"
    CMD = "CMD"
    ENTRYPOINT = "ENTRYPOINT"
    SHELL = "SHELL"
    ENV = "ENV"
    ARG = "ARG"
    LABEL = "LABEL"
    EXPOSE = "EXPOSE"
    VOLUME = "VOLUME"
    USER = "USER"
    WORKDIR = "WORKDIR"
    COPY = "COPY"
    ADD = "ADD"
    HEALTHCHECK = "HEALTHCHECK"
    ONBUILD = "ONBUILD"
    STOPSIGNAL = "STOPSIGNAL"
    MAINTAINER = "MAINTAINER"


@dataclass(frozen=True, slots=True, kw_only=True)
class Instruction:
    """What every instruction has: where it is, how it was written, its flags, comments and heredocs.

    `original` is the logical line (continuations joined, comment lines dropped) without heredoc bodies;
    `source` the physical lines `start_line..end_line` (1-based, inclusive, heredoc bodies included) as they are
    in the file; `raw_args` the parser's argument values (ENV/LABEL as key, value, separator triples);
    `comments` the comment lines right before it (BuildKit's PrevComment; a `#` line alone resets them).
    """

    keyword: Keyword
    keyword_text: str
    start_line: int
    end_line: int
    original: str
    source: tuple[str, ...]
    flags: tuple[Flag, ...] = ()
    raw_args: tuple[str, ...] = ()
    json: bool = False
    comments: tuple[str, ...] = ()
    heredocs: tuple[Heredoc, ...] = ()

    def flag(self, name: str) -> str | None:
        """The value of `--name=value` (`""` for a bare `--name`), None when absent."""
        return flag_value(self.flags, name)

    def flag_values(self, name: str) -> tuple[str, ...]:
        """All values of a repeatable flag (`--mount`, `--exclude`, `--device`)."""
        return flag_values(self.flags, name)

    def has_flag(self, name: str) -> bool:
        return any(f.name == name for f in self.flags)

    def flag_bool(self, name: str) -> bool:
        """A boolean flag (`--link`, `--link=true`)."""
        return flag_bool(self.flags, name)


@dataclass(frozen=True, slots=True)
class CommandLine:
    """The command of RUN, CMD, ENTRYPOINT or HEALTHCHECK CMD.

    Exec form (JSON array): `args` is the argv. Shell form: `args` is one string, run by the SHELL.
    """

    args: tuple[str, ...]
    exec_form: bool

    @property
    def text(self) -> str:
        """The shell script (shell form) or the argv joined by spaces (exec form)."""
        return self.args[0] if not self.exec_form and self.args else " ".join(self.args)


@dataclass(frozen=True, slots=True)
class KeyValue:
    """An ENV or LABEL pair, both words raw (quotes and escapes kept, `$VAR` unexpanded)."""

    key: str
    value: str


@dataclass(frozen=True, slots=True)
class ArgDecl:
    """One ARG declaration: `name` and its raw default (None for `ARG NAME` without `=`)."""

    name: str
    default: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class FromInstruction(Instruction):
    """`FROM [--platform=p] image [AS name]`; `stage_name` is lower-cased as BuildKit does, `alias` as written."""

    image: str
    stage_name: str | None = None
    alias: str | None = None
    platform: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RunInstruction(Instruction):
    """`RUN [--mount=...] [--network=...] [--security=...] command` (heredocs are in `heredocs`)."""

    command: CommandLine
    mounts: tuple[Mount, ...] = ()
    network: str | None = None
    security: str | None = None
    devices: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class CmdInstruction(Instruction):
    command: CommandLine


@dataclass(frozen=True, slots=True, kw_only=True)
class EntrypointInstruction(Instruction):
    command: CommandLine


@dataclass(frozen=True, slots=True, kw_only=True)
class ShellInstruction(Instruction):
    """`SHELL ["executable", "param"...]` (JSON form only)."""

    shell: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class EnvInstruction(Instruction):
    """`ENV K=V ...` or the legacy `ENV K V` (`legacy`: the whole rest of the line is the value)."""

    pairs: tuple[KeyValue, ...]
    legacy: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class LabelInstruction(Instruction):
    pairs: tuple[KeyValue, ...]
    legacy: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class ArgInstruction(Instruction):
    """`ARG NAME[=default] ...` (several declarations per line are allowed)."""

    args: tuple[ArgDecl, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class ExposeInstruction(Instruction):
    """`EXPOSE port[/proto] ...`, raw words in written order."""

    ports: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class VolumeInstruction(Instruction):
    paths: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class UserInstruction(Instruction):
    """`USER user[:group]` as written."""

    user: str

    @property
    def name(self) -> str:
        return self.user.partition(":")[0]

    @property
    def group(self) -> str | None:
        _, sep, group = self.user.partition(":")
        return group if sep else None


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkdirInstruction(Instruction):
    path: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CopyInstruction(Instruction):
    """`COPY [--from] [--chown] [--chmod] [--link] [--parents] [--exclude] src... dest`.

    `sources` are the path arguments as written; heredoc sources (`COPY <<EOF /dst`) are in `inline_sources`.
    """

    sources: tuple[str, ...]
    dest: str
    inline_sources: tuple[Heredoc, ...] = ()
    from_stage: str | None = None
    chown: str | None = None
    chmod: str | None = None
    link: bool = False
    parents: bool = False
    excludes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class AddInstruction(Instruction):
    """`ADD [--chown] [--chmod] [--link] [--checksum] [--keep-git-dir] [--unpack] [--exclude] src... dest`."""

    sources: tuple[str, ...]
    dest: str
    inline_sources: tuple[Heredoc, ...] = ()
    chown: str | None = None
    chmod: str | None = None
    link: bool = False
    checksum: str | None = None
    keep_git_dir: bool = False
    unpack: bool | None = None
    excludes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class HealthcheckInstruction(Instruction):
    """`HEALTHCHECK NONE` (`command` None) or `HEALTHCHECK [options] CMD command`.

    `test` is the image-config form: `("NONE",)`, `("CMD", argv...)` or `("CMD-SHELL", script)`.
    """

    test: tuple[str, ...]
    command: CommandLine | None = None
    interval: timedelta | None = None
    timeout: timedelta | None = None
    start_period: timedelta | None = None
    start_interval: timedelta | None = None
    retries: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class OnbuildInstruction(Instruction):
    """`ONBUILD <instruction>`: `trigger` is the typed instruction, `expression` its text as stored in the image."""

    trigger: Instruction
    expression: str


@dataclass(frozen=True, slots=True, kw_only=True)
class StopsignalInstruction(Instruction):
    signal: str


@dataclass(frozen=True, slots=True, kw_only=True)
class MaintainerInstruction(Instruction):
    """`MAINTAINER name` (deprecated; LABEL org.opencontainers.image.authors replaces it)."""

    maintainer: str


AnyInstruction = (FromInstruction | RunInstruction | CmdInstruction | EntrypointInstruction | ShellInstruction
                  | EnvInstruction | LabelInstruction | ArgInstruction | ExposeInstruction | VolumeInstruction
                  | UserInstruction | WorkdirInstruction | CopyInstruction | AddInstruction | HealthcheckInstruction
                  | OnbuildInstruction | StopsignalInstruction | MaintainerInstruction)
