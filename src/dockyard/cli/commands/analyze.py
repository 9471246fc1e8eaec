"""`dockyard analyze`: what each layer holds, dive's efficiency numbers, the truly reclaimable bytes, findings
with fixes, and a CI gate that reads `.dive-ci`."""

from __future__ import annotations

from pathlib import Path

import click

from dockyard.cli.options import argument, output_option, path_type, verb
from dockyard.cli.render import Output


@verb("analyze")
@argument("ref", help="Image: NAME[:TAG], oci:DIR[:TAG], docker-archive:FILE, oci-archive:FILE, ...")
@click.option("--platform", default=None, help="Pick this platform out of an index (os/arch or os/arch/variant).")
@click.option("--base", default=None, help="The base image, to report the app's own size and waste.")
@click.option("--ci", is_flag=True, default=False,
              help="Gate: check the rules of --ci-config, print PASS/FAIL, exit 1 on failure.")
@click.option("--ci-config", type=path_type(), default=None,
              help="dive's .dive-ci rules file (default: ./.dive-ci, else dive's defaults).")
@output_option()
@click.option("--html", type=path_type(), default=None, help="Also write a self-contained HTML report to this file.")
@click.option("--tui", is_flag=True, default=False,
              help="Browse the layers and their file trees interactively (dive-like).")
def analyze(ref: str, platform: str | None, base: str | None, ci: bool, ci_config: Path | None, output: Output,
            html: Path | None, tui: bool) -> None:
    """Analyze an image: layers, wasted and reclaimable bytes, findings and how to fix them.

    Examples:

      dockyard analyze myapp:1.0

      dockyard analyze docker-archive:app.tar --ci --ci-config .dive-ci

      dockyard analyze oci:./layout:1.0 --platform linux/arm64 -o json > report.json

      dockyard analyze myapp:1.0 --base debian:bookworm --html report.html
    """
    import sys

    from dockyard.analyze import analyze as run_analysis
    from dockyard.cli.progress import byte_progress
    from dockyard.image.select import select_image
    from dockyard.oci.platform import Platform
    from dockyard.oci.protocols import Image
    from dockyard.transports.resolve import narrow, open_location

    if tui:
        from dockyard.analyze.formats.tui_check import check_tui

        check_tui(ci=ci, json=output is Output.JSON)
    rules = None
    if ci:  # the gate's modules load only with --ci
        from dockyard.analyze.ciconfig import load_rules

        rules = load_rules(ci_config)  # a bad config fails before the long part
    wanted = Platform.parse_known(platform) if platform else None
    image = narrow(open_location(ref), wanted, ref)
    here = image.config().platform

    def open_base(name: str) -> Image:
        return select_image(open_location(name), here)

    base_image = open_base(base) if base else None
    with byte_progress("analyzing") as bar:
        if bar is not None:
            bar.start(sum(d.size for d in image.manifest().layers))

        def progress(index: int, count: int, size: int) -> None:
            if bar is not None:
                bar.advance(size)

        report = run_analysis(image, reference=ref, base=base_image, base_ref=base, open_base=open_base,
                              progress=progress)
    evaluation = None
    if rules is not None:
        from dockyard.analyze.ci import evaluate

        evaluation = evaluate(report, rules)
    if html is not None:
        from dockyard.analyze.formats.html import render_html

        html.write_text(render_html(report, evaluation), encoding="utf-8")
    if tui:
        from dockyard.analyze.formats.tui import run_tui

        run_tui(report)
    elif output is Output.JSON:
        from dockyard.analyze.formats.json import write_json

        write_json(report, sys.stdout, evaluation)
    elif rules is not None and evaluation is not None:
        from dockyard.analyze.ci import render

        sys.stdout.write(render(report, evaluation, rules, color=sys.stdout.isatty()))
    else:
        from dockyard.analyze.formats.tty import print_summary
        from dockyard.cli.render import console

        print_summary(report, console())
    if not tui:  # the process ends right after the report: skip the collector's pass over every entry
        from dockyard.analyze import freeze_for_exit

        freeze_for_exit()
    if evaluation is not None and not evaluation.passed:
        # A failed gate is a verdict, not an Error: exit 1 with the report already printed.
        raise SystemExit(1)
