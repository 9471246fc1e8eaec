"""The `dockyard` command: a click group of lazily loaded verbs; each dockyard Error becomes one line and an exit code.

This is the only place that turns exceptions into exit codes (house rule 4). Start-up matters (`dockyard analyze`
is measured against dive, start-up included), so this module imports click and nothing heavy: each verb's module
is imported only when that verb runs (see cli/lazy.py), and verbs import their libraries inside their functions.
"""

from __future__ import annotations

import os
import sys

import click
from click import exceptions as click_exc

from dockyard.cli.commands import COMMANDS
from dockyard.cli.lazy import LazyGroup
from dockyard.cli.options import CONTEXT_SETTINGS
from dockyard.errors import Error

_state = {"debug": False}


@click.group("dockyard", cls=LazyGroup, lazy=COMMANDS, no_args_is_help=True, context_settings=CONTEXT_SETTINGS)
@click.option("--debug", is_flag=True, default=False, envvar="DOCKYARD_DEBUG", show_envvar=True,
              help="Show tracebacks for errors.")
def app(debug: bool) -> None:
    """dockyard: build, store, secure, ship and slim container images with no Docker daemon.

    Images are named by a transport reference:

      NAME[:TAG]                 the local store (also store:NAME[:TAG])
      oci:DIR[:TAG]              an OCI image layout directory
      docker-archive:FILE[:REF]  a `docker save` tar
      oci-archive:FILE[:TAG]     a tar of an OCI layout
      docker://REGISTRY/REPO:TAG a registry; so is a plain name that starts
                                 with a host (localhost:5000/app:1)

    The store lives in $DOCKYARD_HOME, else $XDG_DATA_HOME/dockyard, else ~/.local/share/dockyard.
    """
    _state["debug"] = debug


def _traceback() -> None:
    """With --debug or DOCKYARD_DEBUG=1, the traceback of the exception being handled."""
    if _state["debug"]:
        import traceback

        traceback.print_exc()


def _fail(message: str, code: int) -> None:
    print(f"dockyard: error: {message}", file=sys.stderr)
    sys.exit(code)


def _usage(exc: click_exc.UsageError) -> str:
    """A usage error as one line, with where to find help (click prints a usage block instead)."""
    message = exc.format_message().rstrip(".")
    path = exc.ctx.command_path if exc.ctx is not None else "dockyard"
    return f"{message} (see '{path} --help')"


def run(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    no_args = getattr(click_exc, "NoArgsIsHelpError", ())  # click >= 8.2 only
    try:
        result = app.main(args=argv, prog_name="dockyard", standalone_mode=False)
    except no_args as exc:
        exc.show()
        sys.exit(0)
    except click_exc.Exit as exc:  # click returns Exit's code with standalone_mode=False; kept for safety
        sys.exit(exc.exit_code)
    except click_exc.UsageError as exc:
        _fail(_usage(exc), exc.exit_code)
    except click_exc.ClickException as exc:
        _fail(exc.format_message(), exc.exit_code)
    except click_exc.Abort:
        _fail("aborted", 130)
    except KeyboardInterrupt:
        _fail("interrupted", 130)
    except Error as exc:
        _traceback()
        _fail(exc.diagnostics(), exc.exit_code)
    except BrokenPipeError:  # pragma: no cover - `dockyard images | head`; before OSError, its base class
        os._exit(0)
    except OSError as exc:
        _traceback()
        where = f": {exc.filename}" if exc.filename else ""
        _fail(f"{exc.strerror or exc}{where}", 1)
    except Exception as exc:  # a bug, not bad input: one line and a way to see more (EX_SOFTWARE)
        _traceback()
        hint = "" if _state["debug"] else "; run with --debug for the traceback"
        _fail(f"internal error: {type(exc).__name__}: {exc}{hint} (please report it)", 70)
    if isinstance(result, int) and not isinstance(result, bool):  # click.exceptions.Exit(n) comes back as n here
        sys.exit(result)


if __name__ == "__main__":
    run()
