"""hadolint's apt rules: pinned versions (DL3008), deleted lists (DL3009), `-y` (DL3014),
`--no-install-recommends` (DL3015), `apt` vs `apt-get` (DL3027)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from dockyard.dockerfile import FromInstruction, Instruction, MountType, RunInstruction
from dockyard.lint.images import ImageName
from dockyard.lint.model import Severity
from dockyard.lint.rule import FunctionRule, LintContext, rule, run_rule
from dockyard.lint.shellcmd import Command, Script

_W, _I = Severity.WARNING, Severity.INFO


def apt_packages(script: Script) -> list[str]:
    """The package arguments of every `apt-get install` (without `-t`/`--target-release` values)."""
    return [arg for cmd in script.commands if cmd.is_("apt-get", "install")
            for arg in cmd.args_no_flags(("t", "target-release")) if arg != "install"]


@run_rule("DL3008", _W, "Pin versions in apt get install. Instead of `apt-get install <package>` use `apt-get "
          "install <package>=<version>`", "apt-get install pins versions (`pkg=1.2`)", onbuild=True)
def dl3008(script: Script) -> bool:
    return not all("=" in p or "/" in p or p.endswith(".deb") for p in apt_packages(script))


def _cache_mounted(inst: RunInstruction, directory: str) -> bool:
    return any(m.type == MountType.CACHE and (m.target or "").startswith(directory) for m in inst.mounts)


@rule("DL3009", _I, "Delete the apt lists (/var/lib/apt/lists) after installing something",
      "`apt-get update` is followed by `rm -rf /var/lib/apt/lists/*` (or a cache mount) in the final stage or a "
      "stage used as a base", onbuild=True)
def dl3009(instructions: Sequence[Instruction], ctx: LintContext) -> Iterator[int]:
    scratch = ("scratch", None, None)
    last: tuple[str, str | None, str | None] | None = None
    stage_names: set[str] = set()
    forgets: dict[int, tuple[str, str | None, str | None]] = {}
    for inst in instructions:
        if isinstance(inst, FromInstruction):
            last = (inst.image, inst.alias, inst.platform)
            stage_names.add(ImageName.parse(inst.image).repository)
        elif isinstance(inst, RunInstruction):
            script = ctx.script(inst)
            updates = script.any("apt-get", "update")
            cleans = script.any("rm", "-rf", "/var/lib/apt/lists/*")
            if not updates or cleans:
                continue
            if _cache_mounted(inst, "/var/lib/apt/lists") or (
                    _cache_mounted(inst, "/var/lib/apt") and _cache_mounted(inst, "/var/cache/apt")):
                continue
            if last is None:
                last = scratch
            forgets[inst.start_line] = last
    for line, stage in forgets.items():
        if stage == last or (stage[1] is not None and stage[1] in stage_names):
            yield line


@run_rule("DL3014", _W, "Use the `-y` switch to avoid manual input `apt-get -y install <package>`",
          "apt-get install runs with `-y`", onbuild=True)
def dl3014(script: Script) -> bool:
    return any(c.is_("apt-get", "install") and not _assumes_yes(c) for c in script.commands)


def _assumes_yes(cmd: Command) -> bool:
    """`-y`/`--yes`/`--assume-yes`, or quiet level 2 (`-qq`, `-q -q`, `-q=2`), which implies `-y`."""
    quiet = sum(1 for f, _ in cmd.flags if f == "q")
    return cmd.has_flag("y", "yes", "assume-yes") or quiet == 2 or cmd.has_arg("-q=2", "--quiet=2")


@run_rule("DL3015", Severity.INFO, "Avoid additional packages by specifying `--no-install-recommends`",
          "apt-get install runs with `--no-install-recommends`", onbuild=True)
def dl3015(script: Script) -> bool:
    return any(c.is_("apt-get", "install") and not c.has_flag("no-install-recommends")
               and not c.has_arg("APT::Install-Recommends=false") for c in script.commands)


@run_rule("DL3027", _W, "Do not use apt as it is meant to be an end-user tool, use apt-get or apt-cache instead",
          "apt-get, not apt", onbuild=True)
def dl3027(script: Script) -> bool:
    return "apt" in script.names()


RULES: tuple[FunctionRule, ...] = (dl3008, dl3009, dl3014, dl3015, dl3027)
