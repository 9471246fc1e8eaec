"""The 29 real Dockerfiles: every one parses fast into typed stages; spot checks of what the linter will read."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from dockyard.dockerfile import (
    BuildOptions,
    CopyInstruction,
    RunInstruction,
    ShellInstruction,
    StageGraph,
    parse_file,
    resolve,
)
from dockyard.oci.platform import Platform

CORPUS = sorted((Path(__file__).parents[1] / "assets" / "dockerfiles").iterdir())


@pytest.mark.parametrize("path", CORPUS, ids=[p.name[:60] for p in CORPUS])
def test_dockerfile_corpus_parses_resolves_and_plans(path: Path) -> None:
    df = parse_file(path)
    assert df.stages and not df.unstaged
    spans = [(i.start_line, i.end_line) for i in df.instructions]
    assert all(a <= b for a, b in spans) and spans == sorted(spans)
    for inst in df.instructions:
        assert inst.source[0].lstrip().upper().startswith(inst.keyword_text.upper())
        assert len(inst.source) == inst.end_line - inst.start_line + 1
    options = BuildOptions(target_platform=Platform.parse("linux/amd64"), build_platform=Platform.parse("linux/amd64"))
    resolution = resolve(df, options)
    assert len(resolution.stages) == len(df.stages)
    assert StageGraph.build(df, options).plan().order[-1] == len(df.stages) - 1


def test_dockerfile_corpus_parse_is_fast() -> None:
    texts = [p.read_text() for p in CORPUS]
    from dockyard.dockerfile import parse

    start = time.perf_counter()
    for text in texts:
        parse(text)
    per_file = (time.perf_counter() - start) / len(texts)
    assert per_file < 0.02, f"{per_file * 1000:.1f} ms per file"


def test_dockerfile_corpus_spot_checks() -> None:
    by_name = {p.name: parse_file(p) for p in CORPUS}
    windows = by_name["docker-library_golang__1.26_windows_nanoserver-ltsc2022_Dockerfile.Dockerfile"]
    shell = next(i for i in windows.instructions if isinstance(i, ShellInstruction))
    assert shell.shell == ("cmd", "/S", "/C")
    copy = next(i for i in windows.instructions if isinstance(i, CopyInstruction))
    assert copy.json and copy.from_stage == "golang:1.26.7-windowsservercore-ltsc2022"
    assert copy.sources == ("C:\\\\Program Files\\\\Go",)
    buildx = by_name["docker_buildx__Dockerfile.Dockerfile"]
    heredoc_runs = [i for i in buildx.instructions if isinstance(i, RunInstruction) and i.heredocs]
    assert heredoc_runs and all(i.heredocs[0].name == "EOT" for i in heredoc_runs)
    mounts = [m for i in buildx.instructions if isinstance(i, RunInstruction) for m in i.mounts]
    assert {m.type for m in mounts} >= {"cache", "bind"} and any(m.from_stage == "buildx-version" for m in mounts)
