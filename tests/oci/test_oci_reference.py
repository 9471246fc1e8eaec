"""References against the distribution grammar and Docker's normalization (`busybox` -> docker.io/library/busybox)."""

from __future__ import annotations

import pytest

from dockyard.errors import InvalidArgument, InvalidReference, Unsupported
from dockyard.oci.digest import Digest
from dockyard.oci.reference import Reference, validate_tag

H64 = "86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa"
H128 = "f" * 128
D64 = f"sha256:{H64}"


@pytest.mark.parametrize(
    ("text", "registry", "repository", "tag", "digest"),
    [
        ("busybox", "docker.io", "library/busybox", "latest", None),
        ("busybox:1.36", "docker.io", "library/busybox", "1.36", None),
        ("docker.io/library/busybox:latest", "docker.io", "library/busybox", "latest", None),
        ("docker.io/busybox", "docker.io", "library/busybox", "latest", None),
        ("library/busybox", "docker.io", "library/busybox", "latest", None),
        ("index.docker.io/x/y", "docker.io", "x/y", "latest", None),
        ("index.docker.io/debian", "docker.io", "library/debian", "latest", None),
        ("dmcgowan/myapp", "docker.io", "dmcgowan/myapp", "latest", None),
        ("docker.io/library/foo/bar", "docker.io", "library/foo/bar", "latest", None),
        ("localhost:5000/a/b:1.0", "localhost:5000", "a/b", "1.0", None),
        ("localhost/a", "localhost", "a", "latest", None),
        ("localhost:5000", "docker.io", "library/localhost", "5000", None),  # no slash: a name and a tag
        ("127.0.0.1:5000/library/debian", "127.0.0.1:5000", "library/debian", "latest", None),
        ("[::1]:5000/a:1", "[::1]:5000", "a", "1", None),
        ("[2001:db8::1]/repo", "[2001:db8::1]", "repo", "latest", None),
        ("[2001:db8::]:5000/repo", "[2001:db8::]:5000", "repo", "latest", None),
        (f"example.com/a/b/c@{D64}", "example.com", "a/b/c", None, D64),
        (f"repo:tag@{D64}", "docker.io", "library/repo", "tag", D64),
        (f"repo@sha512:{H128}", "docker.io", "library/repo", None, f"sha512:{H128}"),
        (f"xn--7o8h.com/myimage:xn--7o8h.com@sha512:{H128}", "xn--7o8h.com", "myimage", "xn--7o8h.com",
         f"sha512:{H128}"),
        ("b.gcr.io/test.example.com/my-app:test.example.com", "b.gcr.io", "test.example.com/my-app",
         "test.example.com", None),
        ("test_com/foo", "docker.io", "test_com/foo", "latest", None),  # `_` is not a domain hint
        ("test:5000/repo", "test:5000", "repo", "latest", None),
        ("foo_bar.com:8080", "docker.io", "library/foo_bar.com", "8080", None),
        ("192.168.1.1", "docker.io", "library/192.168.1.1", "latest", None),
        ("lowercase:Uppercase", "docker.io", "library/lowercase", "Uppercase", None),
        ("a__b", "docker.io", "library/a__b", "latest", None),
        ("a--b", "docker.io", "library/a--b", "latest", None),
        ("docker---rules/docker", "docker.io", "docker---rules/docker", "latest", None),
        ("ab/c.d_e-f", "docker.io", "ab/c.d_e-f", "latest", None),
        ("d/t", "docker.io", "d/t", "latest", None),
        (f"docker.io/{'1a3f5e7d' * 8}", "docker.io", f"library/{'1a3f5e7d' * 8}", "latest", None),
        ("Example.COM/a", "Example.COM", "a", "latest", None),  # hostnames may be upper case
        ("repo:_x", "docker.io", "library/repo", "_x", None),
    ],
)
def test_parse_valid(text: str, registry: str, repository: str, tag: str | None, digest: str | None) -> None:
    ref = Reference.parse(text)
    assert ref.registry == registry
    assert ref.repository == repository
    assert ref.tag == tag
    assert ref.digest == (Digest.parse(digest) if digest else None)
    assert ref.name == f"{registry}/{repository}"


def test_a_dotted_first_component_is_a_domain() -> None:
    # As in distribution: "a.b_c-d/e" names the host a.b_c-d, which the domain grammar refuses.
    with pytest.raises(InvalidReference, match="registry host"):
        Reference.parse("a.b_c/e")


def test_string_forms() -> None:
    ref = Reference.parse(f"busybox:latest@{D64}")
    assert str(ref) == f"docker.io/library/busybox:latest@{D64}"
    assert ref.familiar == f"busybox:latest@{D64}"
    assert str(Reference.parse("busybox")) == "docker.io/library/busybox:latest"
    assert str(Reference.parse("localhost:5000/a/b:1.0")) == "localhost:5000/a/b:1.0"
    assert str(Reference.parse(f"example.com/a@{D64}")) == f"example.com/a@{D64}"


@pytest.mark.parametrize(
    ("text", "familiar_name", "familiar"),
    [
        ("busybox", "busybox", "busybox:latest"),
        ("docker.io/library/busybox:1", "busybox", "busybox:1"),
        ("index.docker.io/library/ubuntu-12.04-base", "ubuntu-12.04-base", "ubuntu-12.04-base:latest"),
        ("fooo/bar", "fooo/bar", "fooo/bar:latest"),
        ("other/library", "other/library", "other/library:latest"),
        ("docker.io/library/foo/bar", "library/foo/bar", "library/foo/bar:latest"),
        ("store/foo/bar", "store/foo/bar", "store/foo/bar:latest"),
        ("127.0.0.1:8000/privatebase", "127.0.0.1:8000/privatebase", "127.0.0.1:8000/privatebase:latest"),
        ("example.com/library/x", "example.com/library/x", "example.com/library/x:latest"),
    ],
)
def test_familiar(text: str, familiar_name: str, familiar: str) -> None:
    ref = Reference.parse(text)
    assert ref.familiar_name == familiar_name
    assert ref.familiar == familiar
    # The familiar form parses back to the same reference.
    assert Reference.parse(ref.familiar) == ref


def test_default_tag_can_be_off() -> None:
    ref = Reference.parse("busybox", default_tag=False)
    assert ref.tag is None and ref.digest is None
    assert str(ref) == "docker.io/library/busybox"
    assert Reference.parse(f"busybox@{D64}").tag is None  # a digest alone gets no default tag


def test_with_tag_and_digest() -> None:
    ref = Reference.parse(f"example.com/a:1@{D64}")
    assert str(ref.with_tag("2")) == "example.com/a:2"  # the digest named the old tag's content; dropped
    digest = Digest.of(b"x")
    assert str(Reference.parse("example.com/a:1").with_digest(digest)) == f"example.com/a:1@{digest}"
    with pytest.raises(InvalidReference):
        ref.with_tag("-bad")
    assert validate_tag("v1.0_rc-2") == "v1.0_rc-2"


def test_uppercase_repository_says_lowercase() -> None:
    for text in ("UPPER/Case:tag", "Busybox", "Uppercase:tag", "test:5000/Uppercase/lowercase:tag",
                 "docker.io/docker/Docker"):
        with pytest.raises(InvalidReference, match="lowercase"):
            Reference.parse(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        " busybox",
        "busybox ",
        "busybox\n",
        "\tbusybox",
        "busy box",
        "busybox\n:tag",  # `$` would match before the newline
        "example.com\n/foo",
        "a:b:c",
        "repo:",
        ":tag",
        ":justtag",
        f"@{D64}",
        "repo@",
        "repo@sha256:abc",
        f"repo@sha256:{H64.upper()}",
        f"repo@{D64}@{D64}",
        f"repo:tag@sha256:{H64[:-1]}",
        "a___b",
        "a.-b",
        "a_.b",
        "dock..er/docker",
        "-docker",
        "-docker/docker",
        "docker-/docker",
        "_docker/_docker",
        "____/____",
        "docker///docker",
        "docker/",
        "/docker",
        "https://github.com/docker/docker",
        "aa/asdf$$^/aa",
        "[2001:db8::1]",
        "[2001:db8::1]:5000",
        "[2001:db8::1]:tag",
        "[fe80::1%eth0]:5000/repo",
        "localhost:abc/repo",
        "-example.com/repo",
        "example-.com/repo",
        "repo:-tag",
        "repo:.tag",
        "repo:t@g",
        "repo:tag:again",
        H64,  # a bare 64-hex string is an image ID, not a repository
    ],
)
def test_parse_invalid(text: str) -> None:
    with pytest.raises(InvalidReference) as info:
        Reference.parse(text)
    assert isinstance(info.value, InvalidArgument)
    assert repr(text) in info.value.message  # the message quotes what was given


def test_hex_identifier_is_fine_with_a_tag_or_domain() -> None:
    assert Reference.parse(f"{H64}:tag").repository == f"library/{H64}"
    assert Reference.parse(f"docker.io/{H64}").repository == f"library/{H64}"
    assert Reference.parse(H64[:-1]).repository == f"library/{H64[:-1]}"


def test_unknown_digest_algorithm_is_unsupported() -> None:
    with pytest.raises(Unsupported, match="invaliddigest"):
        Reference.parse(f"validname@invaliddigest:{H64}")


def test_tag_length_limit() -> None:
    assert Reference.parse("repo:" + "t" * 128).tag == "t" * 128
    with pytest.raises(InvalidReference, match="tag"):
        Reference.parse("repo:" + "t" * 129)
    with pytest.raises(InvalidReference):
        validate_tag("t" * 129)
    with pytest.raises(InvalidReference):
        validate_tag("v1\n")


def test_name_length_limit() -> None:
    # 255 characters for registry/repository, counted after normalization (docker.io/ is 10).
    ok = "example.com/" + "a" * (255 - len("example.com/"))
    assert Reference.parse(ok).name == ok
    with pytest.raises(InvalidReference, match="255"):
        Reference.parse(ok + "a")
    with pytest.raises(InvalidReference, match="255"):
        Reference.parse("a/" * 128 + "a:tag")
    long_hub = "x/" + "a" * (255 - len("docker.io/x/"))
    assert Reference.parse(long_hub).name == f"docker.io/{long_hub}"
    with pytest.raises(InvalidReference, match="255"):
        Reference.parse(long_hub + "a")


def test_references_are_values() -> None:
    a = Reference.parse("busybox")
    b = Reference.parse("docker.io/library/busybox:latest")
    assert a == b
    assert hash(a) == hash(b)
    with pytest.raises(AttributeError):
        a.tag = "x"  # type: ignore[misc]
