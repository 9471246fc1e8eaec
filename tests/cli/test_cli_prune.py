"""`prune` (dangling, --all, --dry-run, --filter until=) and `version`."""

from __future__ import annotations

import re

from cli_testkit import Cli, store_state

from dockyard import __version__

REPORT_FIELDS = {"images", "blobs", "bytes_reclaimed", "temp_files", "dry_run"}


def _dangling(cli: Cli, rootfs) -> str:
    """Import twice under one tag: the first image is left without a name. Returns its digest."""
    first = cli.json("import", rootfs.tar, "-t", "app:1", "-c", "USER 1")
    cli.ok("import", rootfs.tar, "-t", "app:1", "-c", "USER 2")
    assert isinstance(first, dict)
    return str(first["digest"])


def test_dry_run_reports_and_changes_nothing(cli: Cli, rootfs) -> None:
    dangling = _dangling(cli, rootfs)
    before = store_state(cli)
    report = cli.json("prune", "--dry-run")
    assert isinstance(report, dict) and set(report) == REPORT_FIELDS
    assert report["dry_run"] is True
    assert [i["digest"] for i in report["images"]] == [dangling]
    assert report["images"][0]["names"] == []
    # the layer is shared with app:1, so only the dangling manifest and config go
    assert len(report["blobs"]) == 2 and report["bytes_reclaimed"] > 0
    assert store_state(cli) == before
    text = cli.ok("prune", "--dry-run").text
    assert f"Would delete image: {dangling}" in text and "Would delete 2 blob(s)" in text


def test_prune_removes_dangling_only(cli: Cli, rootfs) -> None:
    dangling = _dangling(cli, rootfs)
    report = cli.json("prune")
    assert isinstance(report, dict) and report["dry_run"] is False
    assert [i["digest"] for i in report["images"]] == [dangling]
    listed = cli.json("images")
    assert isinstance(listed, list) and [(r["repository"], r["tag"]) for r in listed] == [("app", "1")]
    assert cli.json("prune")["images"] == []  # type: ignore[index]
    assert cli.ok("inspect", "app:1", "--raw").code == 0


def test_prune_all_with_until_filter(cli: Cli, rootfs) -> None:
    _dangling(cli, rootfs)
    kept = cli.json("prune", "--all", "--filter", "until=24h")
    assert isinstance(kept, dict) and kept["images"] == [] and kept["blobs"] == []
    assert len(cli.json("images")) == 2  # type: ignore[arg-type]
    gone = cli.json("prune", "--all")
    assert isinstance(gone, dict)
    assert len(gone["images"]) == 2 and ["app:1"] in [i["names"] for i in gone["images"]]
    assert len(gone["blobs"]) == 5  # two manifests, two configs, one shared layer
    assert cli.json("images") == []
    assert store_state(cli)[1] == []


def test_prune_all_text(cli: Cli, busybox: str) -> None:
    text = cli.ok("prune", "--all").text
    assert text.startswith(f"Untagged: busybox:1.0\nDeleted image: {busybox}\nDeleted 3 blob(s)\n")
    assert re.search(r"Total reclaimed space: [0-9.]+MB", text)


def test_version(cli: Cli) -> None:
    assert cli.ok("version").text.startswith(f"dockyard {__version__} (python ")
    info = cli.json("version")
    assert isinstance(info, dict) and set(info) == {"version", "python", "platform"}
    assert info["version"] == __version__


def test_every_verb_has_help(cli: Cli) -> None:
    for verb in ("import", "images", "inspect", "tag", "rmi", "copy", "save", "load", "prune", "version"):
        shown = cli(verb, "--help")
        assert shown.code == 0 and "Traceback" not in shown.err, (verb, shown.err)
        assert f"dockyard {verb}" in shown.text, verb
    assert "os/arch[/variant]" in cli("import", "--help").text  # not eaten as rich markup
