"""hadolint's pip rules: pinned versions (DL3013) and `--no-cache-dir` (DL3042)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from dockyard.dockerfile import EnvInstruction, FromInstruction, Instruction, MountType, RunInstruction
from dockyard.lint.model import Severity
from dockyard.lint.rule import FunctionRule, LintContext, drop_quotes, rule, run_rule
from dockyard.lint.rules.stages import StageFlag
from dockyard.lint.shellcmd import Command, Script

_VERSION_SYMBOLS = ("==", ">=", "<=", ">", "<", "!=", "~=", "===")
_VCS_SCHEMES = ("git+file", "git+https", "git+ssh", "git+http", "git+git", "git", "hg+file", "hg+http", "hg+https",
                "hg+ssh", "hg+static-http", "svn", "svn+svn", "svn+http", "svn+https", "svn+ssh", "bzr+http",
                "bzr+https", "bzr+ssh", "bzr+sftp", "bzr+ftp", "bzr+lp")
#: pip options whose value is the next word (hadolint's list).
_VALUE_FLAGS = ("abi", "b", "build", "e", "editable", "extra-index-url", "f", "find-links", "i", "index-url",
                "implementation", "no-binary", "only-binary", "platform", "prefix", "progress-bar", "proxy",
                "python-version", "root", "src", "t", "target", "trusted-host", "upgrade-strategy")
TRUTHY = frozenset({"1", "true", "True", "TRUE", "on", "On", "ON", "yes", "Yes", "YES"})


def _contains(args: tuple[str, ...], seq: tuple[str, ...]) -> bool:
    n = len(seq)
    return any(args[i:i + n] == seq for i in range(len(args) - n + 1))


def is_pip_install(cmd: Command) -> bool:
    """hadolint's `isPipInstall`: `pip* ... install ...` or `python* ... -m pip install ...`."""
    return (cmd.name.startswith("pip") and "install" in cmd.args) or (
        cmd.name.startswith("python") and _contains(cmd.args, ("-m", "pip", "install")))


def pip_packages(cmd: Command) -> list[str]:
    args = cmd.args_no_flags(_VALUE_FLAGS)
    rest = args[args.index("install"):] if "install" in args else []
    while rest and rest[0] == "install":
        rest.pop(0)
    return rest


def _pinned(package: str) -> bool:
    vcs = package.startswith(_VCS_SCHEMES)
    return (any(s in package for s in _VERSION_SYMBOLS) or (vcs and "@" in package)
            or package.endswith((".whl", ".tar.gz")) or (not vcs and "/" in package))


@run_rule("DL3013", Severity.WARNING, "Pin versions in pip. Instead of `pip install <package>` use `pip install "
          "<package>==<version>` or `pip install --requirement <requirements file>`",
          "pip install pins versions (or installs from a requirements file)", onbuild=True)
def dl3013(script: Script) -> bool:
    for cmd in script.commands:
        if not is_pip_install(cmd) or cmd.has_flag("constraint", "c"):
            continue
        if "--requirement" in cmd.args or "-r" in cmd.args or "." in cmd.args:
            continue
        if not all(_pinned(p) for p in pip_packages(cmd)):
            return True
    return False


def _wrapper(cmd: Command) -> bool:
    return any(w in cmd.name or (cmd.name.startswith("python") and _contains(cmd.args, ("-m", w)))
               for w in ("pipx", "pipenv"))


def _no_cache_in_text(text: str) -> bool:
    _, found, after = text.partition("PIP_NO_CACHE_DIR=")
    return bool(found) and any(after.startswith(t) for t in TRUTHY)


@rule("DL3042", Severity.WARNING, "Avoid use of cache directory with pip. Use `pip install --no-cache-dir "
      "<package>`", "pip install runs with `--no-cache-dir` (or PIP_NO_CACHE_DIR, or a cache mount)", onbuild=True)
def dl3042(instructions: Sequence[Instruction], ctx: LintContext) -> Iterator[int]:
    no_cache = StageFlag()
    for inst in instructions:
        if isinstance(inst, FromInstruction):
            no_cache.enter(inst)
        elif isinstance(inst, EnvInstruction):
            if any(p.key == "PIP_NO_CACHE_DIR" and drop_quotes(p.value) in TRUTHY for p in inst.pairs):
                no_cache.set()
        elif isinstance(inst, RunInstruction) and not no_cache.get():
            script = ctx.script(inst)
            if _no_cache_in_text(script.original) or any(
                    m.type == MountType.CACHE and (m.target or "").rstrip("/").endswith(".cache/pip")
                    for m in inst.mounts):
                continue
            if any(is_pip_install(c) and "--no-cache-dir" not in c.args and not _wrapper(c)
                   for c in script.commands):
                yield inst.start_line


RULES: tuple[FunctionRule, ...] = (dl3013, dl3042)
