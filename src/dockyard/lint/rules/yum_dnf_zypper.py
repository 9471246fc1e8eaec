"""hadolint's RPM-family rules: yum (DL3030, DL3032, DL3033), zypper (DL3034-DL3037), dnf/microdnf (DL3038,
DL3040, DL3041)."""

from __future__ import annotations

import re

from dockyard.lint.model import Severity
from dockyard.lint.rule import FunctionRule, run_rule
from dockyard.lint.shellcmd import Command, Script

_W = Severity.WARNING
_DNF = ("dnf", "microdnf")
_VERSION_PART = re.compile(r"[0-9A-Za-z.~^_:+]*")


@run_rule("DL3030", _W, "Use the -y switch to avoid manual input `yum install -y <package>`",
          "yum install runs with `-y`", onbuild=True)
def dl3030(script: Script) -> bool:
    return any(c.is_("yum", "install", "groupinstall", "localinstall") and not c.has_flag("y", "assumeyes")
               for c in script.commands)


@run_rule("DL3032", _W, "`yum clean all` missing after yum command.", "a RUN with yum install runs `yum clean all`",
          onbuild=True)
def dl3032(script: Script) -> bool:
    return script.any("yum", "install") and not script.any("yum", "clean", "all")


def _installed(cmd: Command, names: tuple[str, ...]) -> list[str]:
    if cmd.name not in names or not cmd.has_arg("install"):
        return []
    return [a for a in cmd.args_no_flags() if a not in ("install", "module")]


@run_rule("DL3033", _W, "Specify version with `yum install -y <package>-<version>`.",
          "yum install pins versions (`pkg-1.2`)", onbuild=True)
def dl3033(script: Script) -> bool:
    for cmd in script.commands:
        module = cmd.has_arg("module")
        for package in _installed(cmd, ("yum",)):
            if (":" not in package) if module else not _dnf_version_fixed(package):
                return True
    return False


@run_rule("DL3034", _W, "Non-interactive switch missing from `zypper` command: `zypper install -y`",
          "zypper install/remove/patch runs with `-y`", onbuild=True)
def dl3034(script: Script) -> bool:
    return any(c.is_("zypper", "install", "in", "remove", "rm", "source-install", "si", "patch")
               and not c.has_flag("no-confirm", "y", "non-interactive", "n") for c in script.commands)


@run_rule("DL3035", _W, "Do not use `zypper dist-upgrade`.", "no `zypper dist-upgrade`", onbuild=True)
def dl3035(script: Script) -> bool:
    return script.any("zypper", "dist-upgrade", "dup")


def _cleaned_after(script: Script, install: int | None, clean: int | None) -> bool:
    return install is None or (clean is not None and install < clean)


@run_rule("DL3036", _W, "`zypper clean` missing after zypper use.", "zypper install is followed by `zypper clean`",
          onbuild=True)
def dl3036(script: Script) -> bool:
    return not _cleaned_after(script, script.index("zypper", "install", "in"), script.index("zypper", "clean", "cc"))


@run_rule("DL3037", _W, "Specify version with `zypper install -y <package>=<version>`.",
          "zypper install pins versions (`pkg=1.2`)", onbuild=True)
def dl3037(script: Script) -> bool:
    packages = [a for c in script.commands if c.is_("zypper", "install", "in")
                for a in c.args_no_flags() if a not in ("install", "in")]
    return not all(any(s in p for s in ("=", ">", "<")) or p.endswith(".rpm") for p in packages)


@run_rule("DL3038", _W, "Use the -y switch to avoid manual input `dnf install -y <package>`",
          "dnf install runs with `-y`", onbuild=True)
def dl3038(script: Script) -> bool:
    return any(c.name in _DNF and c.has_arg("install", "groupinstall", "localinstall")
               and not c.has_flag("y", "assumeyes") for c in script.commands)


@run_rule("DL3040", _W, "`dnf clean all` missing after dnf command.", "dnf install is followed by `dnf clean all`",
          onbuild=True)
def dl3040(script: Script) -> bool:
    for name in _DNF:
        install = script.index(name, "install")
        clean = next((i for i, c in enumerate(script.commands)
                      if c.is_(name, "clean", "all") or c.is_("rm", "-rf", "/var/cache/yum/*")), None)
        if not _cleaned_after(script, install, clean):
            return True
    return False


def _dnf_version_fixed(package: str) -> bool:
    parts = package.split("-")
    if len(parts) <= 1:
        return False
    if package.endswith(".rpm"):
        return True
    rest = parts[1:]
    return all(_VERSION_PART.fullmatch(p) for p in rest) and any(p[:1].isdigit() for p in rest)


@run_rule("DL3041", _W, "Specify version with `dnf install -y <package>-<version>`.",
          "dnf install pins versions (`pkg-1.2`)", onbuild=True)
def dl3041(script: Script) -> bool:
    for cmd in script.commands:
        module = cmd.name in _DNF and cmd.has_arg("module")
        group = cmd.name in _DNF and cmd.has_arg("group")
        for package in _installed(cmd, _DNF):
            if module and ":" not in package:
                return True
            if not module and not group and not _dnf_version_fixed(package):
                return True
    return False


RULES: tuple[FunctionRule, ...] = (dl3030, dl3032, dl3033, dl3034, dl3035, dl3036, dl3037, dl3038, dl3040, dl3041)
