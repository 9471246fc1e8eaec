"""Errors of the Dockerfile model: every one is an `InvalidArgument` that names the file and line."""

from __future__ import annotations

from pathlib import Path

from dockyard.errors import InvalidArgument


class DockerfileError(InvalidArgument):
    """A Dockerfile (or its `.dockerignore`) cannot be used; `line` is 1-based when known."""

    def __init__(self, message: str, *, line: int | None = None, end_line: int | None = None,
                 path: Path | str | None = None, hint: str | None = None) -> None:
        self.reason = message
        self.line = line
        self.end_line = end_line if end_line is not None else line
        self.path = str(path) if path is not None else None
        where = self.path or "Dockerfile"
        if line is not None:
            where += f":{line}"
        super().__init__(f"{where}: {message}", hint=hint)

    def at(self, path: Path | str) -> DockerfileError:
        """The same error, naming `path` (parsers raise before they know the file name)."""
        if self.path is not None:
            return self
        return type(self)(self.reason, line=self.line, end_line=self.end_line, path=path, hint=self.hint)


class DockerfileSyntaxError(DockerfileError):
    """The text is not a Dockerfile BuildKit accepts: bad directive, unterminated heredoc, unknown instruction,
    bad flag, wrong argument count, bad `${...}` substitution, empty file."""


class DockerfileReadError(DockerfileError):
    """The Dockerfile or `.dockerignore` cannot be read (missing, a directory, no permission)."""


class DockerIgnoreError(DockerfileError):
    """A `.dockerignore` pattern is malformed (bad `[` class, trailing `\\`, a lone `!`)."""


class StageError(DockerfileError):
    """The stage graph cannot be built: unknown `--target`, circular `--from`, duplicate stage name."""
