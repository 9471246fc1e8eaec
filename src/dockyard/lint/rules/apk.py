"""hadolint's apk rules: pinned versions (DL3018) and `--no-cache` (DL3019)."""

from __future__ import annotations

from dockyard.lint.model import Severity
from dockyard.lint.rule import FunctionRule, run_rule
from dockyard.lint.shellcmd import Script


def apk_packages(script: Script) -> list[str]:
    """The package arguments of every `apk add` (without the values of `-t`/`--virtual`/`--repository`/`-X`)."""
    return [arg for cmd in script.commands if cmd.is_("apk", "add")
            for arg in cmd.args_no_flags(("t", "virtual", "repository", "X")) if arg != "add"]


@run_rule("DL3018", Severity.WARNING, "Pin versions in apk add. Instead of `apk add <package>` use `apk add "
          "<package>=<version>`", "apk add pins versions (`pkg=1.2` or `pkg~1.2`)", onbuild=True)
def dl3018(script: Script) -> bool:
    return not all("=" in p or "~" in p or p.endswith(".apk") for p in apk_packages(script))


@run_rule("DL3019", Severity.INFO, "Use the `--no-cache` switch to avoid the need to use `--update` and remove "
          "`/var/cache/apk/*` when done installing packages", "apk add runs with `--no-cache`", onbuild=True)
def dl3019(script: Script) -> bool:
    return any(c.is_("apk", "add") and not c.has_flag("no-cache") for c in script.commands)


RULES: tuple[FunctionRule, ...] = (dl3018, dl3019)
