"""hadolint's rules about what RUN scripts do: pointless commands (DL3001), `cd` (DL3003), `sudo` (DL3004),
archives copied then extracted (DL3010), `useradd` (DL3046), `wget` (DL3047), wget and curl (DL4001), `ln` of
/bin/sh (DL4005), pipes without `pipefail` (DL4006)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from dockyard.dockerfile import CopyInstruction, FromInstruction, Instruction, RunInstruction, ShellInstruction
from dockyard.lint.model import Severity
from dockyard.lint.rule import FunctionRule, LintContext, drop_quotes, rule, run_rule
from dockyard.lint.rules.instructions import is_archive
from dockyard.lint.shellcmd import Script, parse_script

_W, _I, _E = Severity.WARNING, Severity.INFO, Severity.ERROR
_POINTLESS = frozenset({"free", "kill", "mount", "ps", "service", "shutdown", "ssh", "top", "vim"})
_UNZIP = frozenset({"unzip", "gunzip", "bunzip2", "unlzma", "unxz", "zgz", "uncompress", "zcat", "gzcat"})
_PIPEFAIL_SHELLS = frozenset({"bash", "zsh", "ash", "/bin/bash", "/bin/zsh", "/bin/ash"})
_NON_POSIX = ("pwsh", "powershell", "cmd")


@run_rule("DL3001", _I, "For some bash commands it makes no sense running them in a Docker container like `ssh`, "
          "`vim`, `shutdown`, `service`, `ps`, `free`, `top`, `kill`, `mount`, `ifconfig`",
          "no interactive or host-management commands (ssh, vim, service, ps, top, kill, mount...)", onbuild=True)
def dl3001(script: Script) -> bool:
    return any(name in _POINTLESS for name in script.names())


@run_rule("DL3003", _W, "Use WORKDIR to switch to a directory", "WORKDIR, not `cd`")
def dl3003(script: Script) -> bool:
    return "cd" in script.names()


@run_rule("DL3004", _E, "Do not use sudo as it leads to unpredictable behavior. Use a tool like gosu to enforce root",
          "no sudo", onbuild=True)
def dl3004(script: Script) -> bool:
    return "sudo" in script.names()


def _basename(path: str) -> str:
    text = drop_quotes(path)
    cut = max(text.rfind("/"), text.rfind("\\"))
    return text[cut + 1:]


@rule("DL3010", _I, "Use `ADD` for extracting archives into an image",
      "an archive COPYed in is not extracted by a later RUN (ADD extracts it)")
def dl3010(instructions: Sequence[Instruction], ctx: LintContext) -> Iterator[int]:
    archives: set[tuple[int, str]] = set()
    extracted: set[tuple[int, str]] = set()
    for inst in instructions:
        if isinstance(inst, FromInstruction):
            archives, extracted = set(), set()
        elif isinstance(inst, CopyInstruction) and inst.from_stage is None:
            if is_archive(inst.dest):
                archives.add((inst.start_line, _basename(inst.dest)))
            else:
                archives.update((inst.start_line, _basename(s)) for s in inst.sources if is_archive(_basename(s)))
        elif isinstance(inst, RunInstruction) and archives:
            for cmd in ctx.script(inst).commands:
                tar = cmd.name == "tar" and any(a in ("--extract", "--get") or (a.startswith("-") and "x" in a)
                                                for a in cmd.args)
                if tar or cmd.name in _UNZIP:
                    names = {_basename(a) for a in cmd.args_no_flags()}
                    extracted.update(a for a in archives if a[1] in names)
    yield from sorted(line for line, _ in extracted)


@run_rule("DL3046", _W, "`useradd` without flag `-l` and high UID will result in excessively large Image.",
          "useradd with a large `-u` uid also passes `-l`", onbuild=True)
def dl3046(script: Script) -> bool:
    return any(c.name == "useradd" and not c.has_flag("l", "no-log-init") and c.has_flag("u", "uid")
               and any(len(v) > 5 for v in c.flag_values("u")) for c in script.commands)


@run_rule("DL3047", _I, "Avoid use of wget without progress bar. Use `wget --progress=dot:giga <url>`. Or consider "
          "using `-q` or `-nv` (shorthands for `--quiet` or `--no-verbose`).",
          "wget runs with `--progress`, `-q` or `-nv`", onbuild=True)
def dl3047(script: Script) -> bool:
    return any(c.name == "wget" and not c.has_flag("progress", "q", "quiet", "o", "output-file", "a",
                                                   "append-output", "no-verbose") and not c.has_arg("-nv")
               for c in script.commands)


@rule("DL4001", _W, "Either use Wget or Curl but not both", "a stage uses wget or curl, not both", onbuild=True)
def dl4001(instructions: Sequence[Instruction], ctx: LintContext) -> Iterator[int]:
    used: set[str] = set()
    for inst in instructions:
        if isinstance(inst, FromInstruction):
            used = set()
        elif isinstance(inst, RunInstruction):
            found = {n for n in ctx.script(inst).names() if n in ("curl", "wget")}
            used |= found
            if found and len(used) >= 2:
                yield inst.start_line


@run_rule("DL4005", _W, "Use SHELL to change the default shell", "SHELL, not `ln -s ... /bin/sh`", onbuild=True)
def dl4005(script: Script) -> bool:
    return script.any("ln", "/bin/sh")


def _pipefail(shell: Script) -> bool:
    return any(c.name in _PIPEFAIL_SHELLS and c.has_flag("o") and "pipefail" in c.args for c in shell.commands)


@rule("DL4006", _W, "Set the SHELL option -o pipefail before RUN with a pipe in it. If you are using /bin/sh in an "
      "alpine image or if your shell is symlinked to busybox then consider explicitly setting your SHELL to /bin/ash, "
      "or disable this check", "a RUN with a pipe runs under `SHELL [..., \"-o\", \"pipefail\", ...]`")
def dl4006(instructions: Sequence[Instruction], ctx: LintContext) -> Iterator[int]:
    safe = False
    for inst in instructions:
        if isinstance(inst, FromInstruction):
            safe = False
        elif isinstance(inst, ShellInstruction):
            text = " ".join(inst.shell)
            safe = text.startswith(_NON_POSIX) or _pipefail(parse_script(text))
        elif isinstance(inst, RunInstruction) and not safe and ctx.script(inst).has_pipes:
            yield inst.start_line


RULES: tuple[FunctionRule, ...] = (dl3001, dl3003, dl3004, dl3010, dl3046, dl3047, dl4001, dl4005, dl4006)
