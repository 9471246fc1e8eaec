"""Build arguments and variable scopes: predefined platform/proxy ARGs and the global (pre-FROM) scope."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from dockyard.dockerfile.errors import DockerfileSyntaxError
from dockyard.dockerfile.lexer import ShellLex
from dockyard.dockerfile.model import Dockerfile
from dockyard.oci.platform import Platform

#: Proxy build args: passed to RUN when given with --build-arg, even undeclared; never stored in the image.
PROXY_ARGS = frozenset({"HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY", "ftp_proxy",
                        "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"})
#: Automatic platform args: set in the global scope (usable in FROM); a stage sees them after `ARG NAME`.
PLATFORM_ARGS = ("BUILDPLATFORM", "BUILDOS", "BUILDARCH", "BUILDVARIANT",
                 "TARGETPLATFORM", "TARGETOS", "TARGETARCH", "TARGETVARIANT")

EMPTY: Mapping[str, str] = MappingProxyType({})


def frozen(values: Mapping[str, str]) -> Mapping[str, str]:
    """A read-only copy (scopes are shared between resolved steps, so they must not change)."""
    return MappingProxyType(dict(values))


def format_platform(platform: Platform) -> tuple[str, str, str, str]:
    """(`os/arch[/variant]`, os, arch, variant) as BuildKit formats a normalized platform (arm64's v8 is dropped)."""
    norm = platform.normalized()
    variant = "" if norm.architecture == "arm64" and norm.variant == "v8" else (norm.variant or "")
    text = "/".join(p for p in (norm.os, norm.architecture, variant) if p)
    return text, norm.os, norm.architecture, variant


def platform_args(target: Platform | None = None, build: Platform | None = None) -> dict[str, str]:
    """The eight automatic platform ARGs for a target platform (default: the build platform, default: this host)."""
    build = build or Platform.host()
    out: dict[str, str] = {}
    for prefix, plat in (("BUILD", build), ("TARGET", target or build)):
        text, os_, arch, variant = format_platform(plat)
        out.update({f"{prefix}PLATFORM": text, f"{prefix}OS": os_, f"{prefix}ARCH": arch, f"{prefix}VARIANT": variant})
    return out


@dataclass(frozen=True, slots=True)
class BuildOptions:
    """What a build supplies: `--build-arg` values and the target/build platforms (None: this host)."""

    build_args: Mapping[str, str] = field(default_factory=lambda: EMPTY)
    target_platform: Platform | None = None
    build_platform: Platform | None = None

    def automatic(self) -> dict[str, str]:
        """The platform ARGs, overridden by same-named build args as BuildKit allows."""
        auto = platform_args(self.target_platform, self.build_platform)
        return {k: self.build_args.get(k, v) for k, v in auto.items()}


@dataclass(frozen=True, slots=True)
class GlobalScope:
    """The scope of FROM lines: platform ARGs, then the ARGs before the first FROM in order.

    `values` maps every global name to its value (a declared ARG without value maps to "", as in BuildKit's FROM
    expansion); `declared` maps a declared meta ARG to its value or None (what `ARG NAME` in a stage inherits).
    """

    values: Mapping[str, str]
    declared: Mapping[str, str | None]


def global_scope(dockerfile: Dockerfile, options: BuildOptions) -> GlobalScope:
    """Evaluate the meta ARGs: a build arg (or an automatic platform ARG) wins, else the default expanded with
    the globals so far; a default never overrides a platform ARG (it is only a fallback, as in BuildKit)."""
    lex = ShellLex(dockerfile.escape)
    automatic = options.automatic()
    values = dict(automatic)
    declared: dict[str, str | None] = dict(automatic)
    for inst in dockerfile.meta_args:
        for decl in inst.args:
            if decl.name in options.build_args or decl.name in automatic:
                value: str | None = options.build_args.get(decl.name, automatic.get(decl.name))
            elif decl.default is not None:
                value = expand_or_raise(lex, decl.default, values, inst.start_line)
            else:
                value = None
            values[decl.name] = value or ""
            declared[decl.name] = value
    return GlobalScope(frozen(values), MappingProxyType(declared))


def expand_or_raise(lex: ShellLex, word: str, env: Mapping[str, str], line: int) -> str:
    """Expand one word, turning a lexer error into a `DockerfileSyntaxError` at `line`."""
    try:
        return lex.word(word, env)
    except DockerfileSyntaxError as err:
        raise DockerfileSyntaxError(err.reason, line=line) from None
