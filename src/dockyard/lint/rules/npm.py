"""hadolint's JavaScript package rules: pinned npm versions (DL3016) and `yarn cache clean` (DL3060)."""

from __future__ import annotations

from dockyard.lint.model import Severity
from dockyard.lint.rule import FunctionRule, run_rule
from dockyard.lint.shellcmd import Command, Script

_GIT_PREFIXES = ("git://", "git+ssh://", "git+http://", "git+https://")
_PATH_PREFIXES = ("/", "./", "../", "~/")
_TARBALLS = (".tar", ".tar.gz", ".tgz")


def _pinned(package: str) -> bool:
    if package.startswith(_GIT_PREFIXES):
        return "#" in package
    if package.endswith(_TARBALLS) or package.startswith(_PATH_PREFIXES):
        return True
    unscoped = package.lstrip("@").partition("/")[2] if package.startswith("@") else package
    return "@" in unscoped


def npm_packages(cmd: Command) -> list[str]:
    args = cmd.args_no_flags()
    rest = args[args.index("install"):] if "install" in args else []
    while rest and rest[0] == "install":
        rest.pop(0)
    return rest


@run_rule("DL3016", Severity.WARNING, "Pin versions in npm. Instead of `npm install <package>` use `npm install "
          "<package>@<version>`", "npm install pins versions (`pkg@1.2`)", onbuild=True)
def dl3016(script: Script) -> bool:
    return any(c.is_("npm", "install") and c.args_no_flags()[:1] == ["install"]
               and not all(_pinned(p) for p in npm_packages(c)) for c in script.commands)


@run_rule("DL3060", Severity.INFO, "`yarn cache clean` missing after `yarn install` was run.",
          "a RUN with `yarn install` also runs `yarn cache clean`", onbuild=True)
def dl3060(script: Script) -> bool:
    return script.any("yarn", "install") and not script.any("yarn", "cache", "clean")


RULES: tuple[FunctionRule, ...] = (dl3016, dl3060)
