"""hadolint's rules for other language package managers: pinned gems (DL3028) and Go modules (DL3062)."""

from __future__ import annotations

from dockyard.lint.model import Severity
from dockyard.lint.rule import FunctionRule, run_rule
from dockyard.lint.shellcmd import Script

_W = Severity.WARNING


def gems(script: Script) -> list[str]:
    out = []
    for cmd in script.commands:
        if not cmd.is_("gem", "install", "i") or cmd.has_arg("-v", "--version"):
            continue
        if any(a.startswith("--version=") for a in cmd.args):
            continue
        out += [a for a in cmd.args_no_flags() if a not in ("install", "i", "--")]
    return out


@run_rule("DL3028", _W, "Pin versions in gem install. Instead of `gem install <gem>` use `gem install "
          "<gem>:<version>`", "gem install pins versions (`gem:1.2` or `-v`)", onbuild=True)
def dl3028(script: Script) -> bool:
    return not all(":" in g for g in gems(script))


def go_packages(script: Script) -> list[str]:
    """`go run` targets (the package, not the program's arguments), else `go install`/`go get` arguments."""
    run = [arg for cmd in script.commands if cmd.is_("go", "run")
           for i, arg in enumerate(cmd.args_no_flags()) if arg != "run" and i <= 1]
    if run:
        return run
    return [arg for cmd in script.commands if cmd.is_("go", "install", "get")
            for arg in cmd.args_no_flags() if arg not in ("install", "get")]


def _go_pinned(package: str) -> bool:
    local = package == "." or package.startswith(("/", ".")) or package.endswith(".go")
    floating = package.endswith(("@latest", "@none"))
    return local or ("@" in package and not floating)


@run_rule("DL3062", _W, "Pin versions in go. Instead of `go install <package>` use `go install <package>@<version>`",
          "go install/get/run name a module version (`pkg@v1.2.3`)", onbuild=True)
def dl3062(script: Script) -> bool:
    return not all(_go_pinned(p) for p in go_packages(script))


RULES: tuple[FunctionRule, ...] = (dl3028, dl3062)
