"""The `dockyard` command: builds the Typer app and maps every dockyard Error to one line and an exit code.

This is the only place that turns exceptions into exit codes (house rule 4).
"""

from __future__ import annotations

import os
import sys
import traceback

import typer

try:  # typer >= 0.20 vendors click as typer._click
    from typer._click import exceptions as click_exc  # type: ignore[import-not-found,unused-ignore]
except ImportError:  # pragma: no cover
    from click import exceptions as click_exc  # type: ignore[no-redef,unused-ignore]

from dockyard.cli.commands import register
from dockyard.errors import Error

app = typer.Typer(
    name="dockyard",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    rich_markup_mode="rich",
)

_state = {"debug": False}


@app.callback()
def _main(
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks for errors.", envvar="DOCKYARD_DEBUG"),
) -> None:
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


register(app)


_CLICK_EXIT: type[Exception] = getattr(click_exc, "Exit", typer.Exit)
_CLICK_ABORT: type[Exception] = getattr(click_exc, "Abort", typer.Abort)


def _fail(message: str, code: int) -> None:
    print(f"dockyard: error: {message}", file=sys.stderr)
    sys.exit(code)


def _usage(exc: click_exc.UsageError) -> str:
    """A usage error as one line, with where to find help (click prints a usage block instead)."""
    message = exc.format_message().replace("Value error, ", "").rstrip(".")
    path = exc.ctx.command_path if exc.ctx is not None else "dockyard"
    return f"{message} (see '{path} --help')"


def run(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    no_args = getattr(click_exc, "NoArgsIsHelpError", ())  # click >= 8.2 only
    try:
        result = app(args=argv, prog_name="dockyard", standalone_mode=False)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except no_args as exc:
        exc.show()
        sys.exit(0)
    except _CLICK_EXIT as exc:  # click's own Exit (older typer raises it from --help paths)
        sys.exit(getattr(exc, "exit_code", 0))
    except click_exc.UsageError as exc:
        _fail(_usage(exc), exc.exit_code)
    except click_exc.ClickException as exc:
        _fail(exc.format_message(), exc.exit_code)
    except (typer.Abort, _CLICK_ABORT):
        _fail("aborted", 130)
    except KeyboardInterrupt:
        _fail("interrupted", 130)
    except Error as exc:
        if _state["debug"]:
            traceback.print_exc()
        _fail(exc.diagnostics(), exc.exit_code)
    except BrokenPipeError:  # pragma: no cover - `dockyard images | head`; before OSError, its base class
        os._exit(0)
    except OSError as exc:
        if _state["debug"]:
            traceback.print_exc()
        where = f": {exc.filename}" if exc.filename else ""
        _fail(f"{exc.strerror or exc}{where}", 1)
    if isinstance(result, int) and not isinstance(result, bool):  # typer.Exit(n) comes back as n here
        sys.exit(result)


if __name__ == "__main__":
    run()
