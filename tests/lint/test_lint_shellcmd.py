"""The RUN-script analyzer: commands in lists, pipes, substitutions, compound commands, quotes and heredocs."""

from __future__ import annotations

import pytest

from dockyard.lint.shellcmd import parse_script, split_flags


@pytest.mark.parametrize(("script", "names", "pipes"), [
    ("apt-get update && apt-get install -y x | cat", ["apt-get", "apt-get", "cat"], True),
    ("a || b; c & d", ["a", "b", "c", "d"], False),
    ('echo "$(sudo x)" `top`', ["echo", "sudo", "top"], False),
    ("X=$(ps) Y=1", ["ps"], False),
    ("[[ $(free) ]]", ["free"], False),
    ("case $x in a) sudo x;; b|c) y z;; esac", ["sudo", "y"], False),
    ("for i in $(seq 3); do cd /; done", ["seq", "cd"], False),
    ("if [ -f x ]; then rm x; elif true; then :; else echo; fi", ["[", "rm", "true", ":", "echo"], False),
    ("cat <<EOF > /x && apk add b\nnot | a command\nEOF\necho done", ["cat", "apk", "echo"], False),
    ("f() { ps; }; f", ["ps", "f"], False),
    ("command -v x || exec su-exec u app", ["command", "su-exec"], False),
    ("busybox wget -q x", ["wget"], False),
    ("(cd /x && make) | tee log", ["cd", "make", "tee"], True),
    ("echo 'a | b' \"c && d\" e\\|f", ["echo"], False),
    ("$CMD arg", [], False),
    ("echo 'unterminated", [], False),
    ("echo ok # cd is a comment", ["echo"], False),
    ("while read -r l; do echo; done < /etc/passwd", ["read", "echo"], False),
])
def test_lint_shellcmd_commands(script: str, names: list[str], pipes: bool) -> None:
    parsed = parse_script(script)
    assert parsed.names() == names
    assert parsed.has_pipes is pipes


def test_lint_shellcmd_words_and_flags() -> None:
    cmd = parse_script("apt-get -yq install --no-install-recommends 'a b' \"$V\" c=1 >/dev/null 2>&1").commands[0]
    assert cmd.args == ("-yq", "install", "--no-install-recommends", "a b", "${VAR}", "c=1")
    assert cmd.has_flag("y") and cmd.has_flag("q") and cmd.has_flag("no-install-recommends")
    assert cmd.args_no_flags() == ["install", "a b", "${VAR}", "c=1"]
    assert split_flags(("-", "--", "--x=1", "-ab")) == (("x", 2), ("a", 3), ("b", 3))
    drop = parse_script("apk add -t .deps --virtual=.v x y").commands[0]
    assert drop.args_no_flags(("t", "virtual")) == ["add", "y"]
    assert parse_script("useradd -u 12345 app").commands[0].flag_values("u") == ["12345"]
