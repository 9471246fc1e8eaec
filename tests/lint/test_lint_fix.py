"""`--fix` rewrites: only insertions, only where safe, idempotent, and the result lints clean for those rules."""

from __future__ import annotations

from dockyard.dockerfile import parse
from dockyard.lint.fix import fix_dockerfile
from dockyard.lint.runner import lint_text

FIXED_RULES = {"DL3009", "DL3014", "DL3015", "DL3019", "DL3025", "DL3042"}


def test_lint_fix_rewrites_and_is_idempotent() -> None:
    text = ("FROM debian:12\n"
            "RUN apt-get update \\\n    # keep me\n    && apt-get install curl=1 \\\n    && pip install flask==3\n"
            "RUN apk add bash=5\n"
            "CMD python app.py --port 80\n"
            "ENTRYPOINT echo $HOME\n"
            "RUN pipx install black==24\n")
    result = fix_dockerfile(parse(text), text)
    assert "    # keep me\n" in result.text
    assert "apt-get install -y --no-install-recommends curl=1" in result.text
    assert "pip install --no-cache-dir flask==3 && rm -rf /var/lib/apt/lists/*" in result.text
    assert "apk add --no-cache bash=5" in result.text and 'CMD ["python", "app.py", "--port", "80"]' in result.text
    assert "ENTRYPOINT echo $HOME" in result.text and "pipx install black==24\n" in result.text
    left = {f.code for f in lint_text(result.text).findings}
    assert not (FIXED_RULES - {"DL3025"}) & left
    again = fix_dockerfile(parse(result.text), result.text)
    assert again.edits == 0 and again.text == result.text
    assert result.diff(text, "Dockerfile").startswith("--- a/Dockerfile\n+++ b/Dockerfile\n")


def test_lint_fix_leaves_unsafe_alone() -> None:
    text = "FROM a:1\nRUN if true; then apt-get update; fi\nCMD [\"ok\"]\nCMD a | b\n"
    result = fix_dockerfile(parse(text), text)
    assert "fi && rm" not in result.text and "CMD a | b" in result.text
