"""`.dockerignore`: moby/patternmatcher's cases (their tables, rewritten), reading rules and file precedence."""

from __future__ import annotations

from pathlib import Path

import pytest

from dockyard.dockerfile import DockerIgnore, DockerIgnoreError, PatternMatcher, read_patterns

EXACT, INEXACT, FAIL = "exact", "inexact", "fail"

#: (pattern, path, expected): EXACT matches the path itself, INEXACT only through a parent directory.
SINGLE = [
    ("**", "file", EXACT), ("**", "file/", EXACT), ("**/", "file", EXACT), ("**", "/", EXACT),
    ("**", "dir/file", EXACT), ("**/", "dir/file/", EXACT), ("**/**", "dir/file", EXACT),
    ("dir/**", "dir/file", EXACT), ("dir/**", "dir/dir2/file/", EXACT), ("**/dir", "dir", EXACT),
    ("**/dir", "dir/file", INEXACT), ("**/dir2/*", "dir/dir2/file", EXACT), ("**/dir2/*", "dir/dir2/file/", INEXACT),
    ("**/dir2/**", "dir/dir2/dir3/file", EXACT), ("**file", "dir/dir/file", EXACT),
    ("**/file*", "dir/dir/file.txt", EXACT),
    ("**/file*.txt*", "dir/dir/file.txt", EXACT), ("**/**/*.txt", "dir/dir/file.txt", EXACT),
    ("**/**/*.txt2", "dir/dir/file.txt", FAIL), ("**/*.txt", "file.txt", EXACT), ("**/**/*.txt", "file.txt", EXACT),
    ("a**/*.txt", "a/dir/dir/file.txt", EXACT), ("a/*.txt", "a/dir/file.txt", FAIL), ("a/*.txt**", "a/file.txt", EXACT),
    ("a[b-d]e", "ae", FAIL), ("a[b-d]e", "ace", EXACT), ("a[^b-d]e", "aze", EXACT), (".*", ".foo", EXACT),
    (".*", "foo", FAIL), ("abc.def", "abcdef", FAIL), ("abc?def", "abcZdef", EXACT), ("abc?def", "abcdef", FAIL),
    ("**/foo/bar", "dir/dir2/foo/bar", EXACT), ("abc/**", "abc", FAIL), ("abc/**", "abc/def/ghi", EXACT),
    ("**/.foo", ".foo", EXACT), ("**/.foo", "bar.foo", FAIL), ("a(b)c/def", "a(b)c/def", EXACT),
    ("a.|)$(}+{bc", "a.|)$(}+{bc", EXACT),
    ("dist/*.whl", "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", EXACT),
    ("a\\\\", "a\\", EXACT), ("a\\*b", "a*b", EXACT), ("a\\*b", "ab", FAIL), ("a?b", "a☺b", EXACT),
    ("a???b", "a☺b", FAIL), ("[a-ζ]*", "\u03b1", EXACT), ("*[a-ζ]", "A", FAIL), ("a*b", "a/b", FAIL),
    ("[\\]a]", "]", EXACT), ("[x\\-]", "-", EXACT), ("[x\\-]", "z", FAIL), ("[\\-x]", "a", FAIL),
    ("a*b*c*d*e*/f", "axbxcxdxexxx/f", EXACT), ("a*b*c*d*e*/f", "axbxcxdxe/xxx/f", FAIL),
    ("docs", "docs/README.md", INEXACT), ("*.log", "logs/app.log", FAIL),
]


@pytest.mark.parametrize(("pattern", "path", "expected"), SINGLE)
def test_dockerfile_ignore_single_patterns(pattern: str, path: str, expected: str) -> None:
    matcher = PatternMatcher([pattern])
    assert matcher.matches_exact(path) is (expected == EXACT)
    assert matcher.matches_or_parent_matches(path) is (expected != FAIL)
    assert DockerIgnore.parse(pattern).matches(path.rstrip("/") or "/") is (expected != FAIL) or path == "/"


@pytest.mark.parametrize(("patterns", "path", "excluded"), [
    (["**", "!util/docker/web"], "util/docker/web/foo", False),
    (["**", "!util/docker/web", "util/docker/web/foo"], "util/docker/web/foo", True),
    (["**", "!dist/*.whl"], "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", False),
    (["docs", "!docs/README.md"], "docs/README.md", False),
    (["docs/", "!docs/README.md"], "docs/README.md", False),
    (["docs/*", "!docs/README.md"], "docs/README.md", False),
    (["*.go", "!fileutils.go"], "fileutils.go", False),
    (["!fileutils.go", "*.go"], "fileutils.go", True),
    (["node_modules", "!node_modules/keep"], "node_modules/other/x.js", True),
    (["*", "!keep", "keep/tmp"], "keep/tmp/x", True),
    (["/abs/path", "./rel/"], "abs/path/x", True),
    (["/abs/path", "./rel/"], "rel", True),
])
def test_dockerfile_ignore_last_match_wins(patterns: list[str], path: str, excluded: bool) -> None:
    assert DockerIgnore.parse("\n".join(patterns)).matches(path) is excluded


def test_dockerfile_ignore_walk_semantics_differ_from_parent_matching() -> None:
    """An exception matching only a parent does not re-include a child the walker already excluded."""
    rules = DockerIgnore.parse("a/b\n!a\n")
    assert rules.matcher.matches_or_parent_matches("a/b") is False
    assert rules.matches("a/b") is True and rules.matches("a/c") is False


@pytest.mark.parametrize("pattern", ["[", "[^", "[^bc", "a[", "[]a]", "[-]", "[x-]", "[-x]", "\\", "[a-b-c]", "!"])
def test_dockerfile_ignore_malformed_patterns(pattern: str) -> None:
    with pytest.raises(DockerIgnoreError):
        DockerIgnore.parse(pattern)


def test_dockerfile_ignore_read_patterns() -> None:
    text = ("\ufefftest1\n/test2\n/a/file/here\n\nlastfile\n# this is a comment\n  # not a comment\n"
            "! /inverted/abs/path\n!\n! \n./x/../y/\ntrailing   \r\n")
    assert read_patterns(text) == ("test1", "test2", "a/file/here", "lastfile", "# not a comment",
                                   "!inverted/abs/path", "!", "!", "y", "trailing")


def test_dockerfile_ignore_load_precedence(tmp_path: Path) -> None:
    ctx = tmp_path / "ctx"
    (ctx / "build").mkdir(parents=True)
    dockerfile = ctx / "build" / "app.Dockerfile"
    dockerfile.write_text("FROM scratch\n")
    assert DockerIgnore.load(ctx, dockerfile) == DockerIgnore()
    (ctx / ".dockerignore").write_text(".git\nnode_modules\n")
    rules = DockerIgnore.load(ctx, dockerfile)
    assert rules.path == ctx / ".dockerignore" and rules.matches(".git/HEAD")
    (ctx / "build" / "app.Dockerfile.dockerignore").write_text("*.tmp\n")
    rules = DockerIgnore.load(ctx, dockerfile)
    assert rules.path == ctx / "build" / "app.Dockerfile.dockerignore"
    assert rules.matches("x.tmp") and not rules.matches(".git/HEAD")
    assert DockerIgnore.load(ctx).path == ctx / ".dockerignore"
    (ctx / ".dockerignore").write_text("[\n")
    with pytest.raises(DockerIgnoreError) as info:
        DockerIgnore.load(ctx)
    assert info.value.path == str(ctx / ".dockerignore")


def test_dockerfile_ignore_never_excludes_the_root() -> None:
    rules = DockerIgnore.parse("**\n*\n.\n")
    assert not rules.matches(".") and not rules.matches("") and rules.matches("x")
    assert rules.matches("./x") and rules.matches("/x")


def test_dockerfile_ignore_many_stars_stay_fast() -> None:
    rules = DockerIgnore.parse("**/**/**/**/**/**/**/**/x*y*z*w*v\n")
    assert not rules.matches("/".join(["d"] * 40) + "/x" + "y" * 500)
