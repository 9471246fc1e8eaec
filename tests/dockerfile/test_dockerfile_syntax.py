"""The line-level parser: directives, continuations, comments, heredocs, JSON form, flags, spans, bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from dockyard.dockerfile import (
    CopyInstruction,
    DockerfileReadError,
    DockerfileSyntaxError,
    RunInstruction,
    parse,
    parse_file,
    parse_nodes,
)
from dockyard.errors import InvalidArgument


def test_dockerfile_directives_only_at_the_top() -> None:
    df = parse("# syntax=docker/dockerfile:1.7\n# escape=`\n# check=skip=JSONArgsRecommended\nFROM a\n")
    assert (df.directives.syntax, df.escape, df.directives.check) == ("docker/dockerfile:1.7", "`",
                                                                       "skip=JSONArgsRecommended")
    assert [(d.name, d.line) for d in df.directives.all] == [("syntax", 1), ("escape", 2), ("check", 3)]
    assert [c.directive for c in df.comments] == [True, True, True]
    late = parse("FROM a\n# escape=`\nRUN x \\\n  y\n")
    assert late.escape == "\\" and late.directives.all == ()
    assert late.instructions[1].original == "RUN x   y"


def test_dockerfile_directive_after_comment_or_blank_line_is_a_comment() -> None:
    assert parse("# hello\n# escape=`\nFROM a\n").escape == "\\"
    assert parse("\n# escape=`\nFROM a\n").escape == "\\"
    assert parse("#escape = ` \nFROM a\n").escape == "`"
    assert parse("# unknown=1\n# escape=`\nFROM a\n").escape == "\\"


def test_dockerfile_bad_directives() -> None:
    with pytest.raises(DockerfileSyntaxError, match="only one syntax parser directive") as info:
        parse("# syntax=a\n# syntax=b\nFROM a\n")
    assert info.value.line == 2
    with pytest.raises(DockerfileSyntaxError, match="invalid escape token"):
        parse("# escape=x\nFROM a\n")


def test_dockerfile_backtick_escape_continues_lines() -> None:
    df = parse("# escape=`\nFROM mcr.microsoft.com/windows\nRUN dir c:\\ `\n  /b\nCOPY a\\b c:\\dst\\\n")
    run = df.instructions[1]
    assert isinstance(run, RunInstruction)
    assert run.command.text == "dir c:\\   /b" and (run.start_line, run.end_line) == (3, 4)
    copy = df.instructions[2]
    assert isinstance(copy, CopyInstruction) and copy.dest == "c:\\dst\\"


def test_dockerfile_continuation_skips_comments_and_empty_lines_with_a_warning() -> None:
    text = "FROM a\nRUN echo a \\\n  # a comment inside\n\n  b \\\n\\\n  c\nRUN d\n"
    df = parse(text)
    run = df.instructions[1]
    assert run.original == "RUN echo a   b   c"
    assert (run.start_line, run.end_line) == (2, 7)
    assert run.source == ("RUN echo a \\", "  # a comment inside", "", "  b \\", "\\", "  c")
    assert [w.line for w in df.warnings] == [4]
    assert [c.line for c in df.comments] == [3]
    assert df.instructions[2].start_line == 8


def test_dockerfile_escaped_escape_does_not_continue() -> None:
    df = parse("FROM a\nENV C trailing\\\\\nENV D x\n")
    assert [i.start_line for i in df.instructions] == [1, 2, 3]


def test_dockerfile_continuation_at_end_of_file() -> None:
    df = parse("FROM a\nRUN something \\")
    assert df.instructions[-1].original == "RUN something " and df.instructions[-1].end_line == 2


def test_dockerfile_comments_before_instruction() -> None:
    df = parse("# hadolint ignore=DL3008\n# second\nFROM a\n#\n# reset above\nRUN x\n\n# kept across blank\n\nRUN y\n")
    assert df.instructions[0].comments == ("hadolint ignore=DL3008", "second")
    assert df.instructions[1].comments == ("reset above",)
    assert df.instructions[2].comments == ("kept across blank",)
    assert [(c.line, c.text) for c in df.comments][:2] == [(1, "hadolint ignore=DL3008"), (2, "second")]


def test_dockerfile_heredocs() -> None:
    text = ("FROM a\nRUN <<EOF\n  echo $HOME\nEOF\n"
            "COPY <<-\"A\" <<B /dst/\n\tquoted $X\n\tA\nplain $Y\nB\n"
            "RUN 3<<IN cat <&3 && echo <<'NOT'\nline\nIN\nnot\nNOT\nRUN after\n")
    df = parse(text)
    run, copy, fd_run, after = df.instructions[1:]
    assert isinstance(run, RunInstruction) and run.command.text == "<<EOF"
    (doc,) = run.heredocs
    assert (doc.name, doc.content, doc.expand, doc.chomp, doc.start_line, doc.end_line) == (
        "EOF", "  echo $HOME\n", True, False, 3, 4)
    assert (run.start_line, run.end_line) == (2, 4)
    assert isinstance(copy, CopyInstruction) and copy.sources == () and copy.dest == "/dst/"
    quoted, plain = copy.inline_sources
    assert (quoted.name, quoted.expand, quoted.chomp, quoted.content_chomped) == ("A", False, True, "quoted $X\n")
    assert (plain.name, plain.expand, plain.content) == ("B", True, "plain $Y\n")
    assert [(h.name, h.fd) for h in fd_run.heredocs] == [("IN", 3), ("NOT", 0)]
    assert after.start_line == 15 and after.original == "RUN after"


def test_dockerfile_heredoc_needs_run_copy_add_in_shell_form() -> None:
    df = parse('FROM a\nRUN ["cat", "<<EOF"]\nENV X <<EOF\nRUN b\n')
    assert [i.heredocs for i in df.instructions] == [(), (), (), ()]
    onbuild = parse("FROM a\nONBUILD RUN <<EOF\nx\nEOF\n").instructions[1]
    assert onbuild.end_line == 4 and [h.name for h in onbuild.heredocs] == ["EOF"]


def test_dockerfile_unterminated_heredoc_is_an_error_with_the_line() -> None:
    with pytest.raises(DockerfileSyntaxError, match="unterminated heredoc") as info:
        parse("FROM a\nRUN <<EOF\necho\n", "df")
    assert info.value.line == 2 and info.value.path == "df"
    assert str(info.value).startswith("df:2: ")


def test_dockerfile_json_form_and_fallback() -> None:
    df = parse('FROM a\nCMD ["a", "b c"]\nCMD [\'a\']\nENTRYPOINT ["x",\nCMD []\nCMD ["a"] junk\n')
    cmd, single, bad, empty, junk = (i.command for i in df.instructions[1:])  # type: ignore[attr-defined]
    assert (cmd.exec_form, cmd.args) == (True, ("a", "b c"))
    assert (single.exec_form, single.args) == (False, ("['a']",))
    assert (bad.exec_form, bad.text) == (False, '["x",')
    assert (empty.exec_form, empty.args) == (True, ())
    assert (junk.exec_form, junk.args) == (True, ("a",))
    with pytest.raises(DockerfileSyntaxError, match="comprised of strings only"):
        parse("FROM a\nCMD [1]\n")


def test_dockerfile_flags_are_extracted_before_arguments() -> None:
    (node,) = parse_nodes('COPY --from=b --chown="a b" -- --not-a-flag /x\n').nodes
    assert node.flags == ("--from=b", "--chown=a b") and node.values == ("--not-a-flag", "/x")


def test_dockerfile_keyword_case_and_spans() -> None:
    df = parse("from alpine AS Build\n  run echo\n")
    first, second = df.instructions
    assert (first.keyword, first.keyword_text) == ("FROM", "from")
    assert (second.keyword, second.keyword_text, second.start_line) == ("RUN", "run", 2)
    assert second.source == ("  run echo",)


def test_dockerfile_unknown_instruction_is_an_error_with_the_line() -> None:
    with pytest.raises(DockerfileSyntaxError, match="unknown instruction: RUNN") as info:
        parse("FROM a\nRUNN x\n")
    assert info.value.line == 2 and info.value.hint == "did you mean RUN?"
    assert isinstance(info.value, InvalidArgument)


@pytest.mark.parametrize("text", ["", "\n\n", "# only\n# comments\n", "\ufeff"])
def test_dockerfile_without_instructions_is_an_error(text: str) -> None:
    with pytest.raises(DockerfileSyntaxError, match="file with no instructions"):
        parse(text)


def test_dockerfile_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(DockerfileReadError, match="cannot read Dockerfile") as info:
        parse_file(tmp_path / "missing")
    assert info.value.path == str(tmp_path / "missing")
    with pytest.raises(DockerfileReadError):
        parse_file(tmp_path)
    binary = tmp_path / "Dockerfile"
    binary.write_bytes(b"FROM a\nRUN echo \xff\xfe\n")
    assert parse_file(binary).instructions[1].original == "RUN echo \ufffd\ufffd"


def test_dockerfile_errors_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text("FROM a\nHEALTHCHECK CMD\n")
    with pytest.raises(DockerfileSyntaxError) as info:
        parse_file(path)
    assert (info.value.path, info.value.line) == (str(path), 2)
    assert "Missing command after HEALTHCHECK CMD" in str(info.value)
