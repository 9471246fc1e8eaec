"""Platforms (`os/arch[/variant]`), their normalization, and matching against image indexes."""

from __future__ import annotations

import platform as _host
import re
from dataclasses import dataclass, field
from typing import Self

from dockyard.errors import InvalidArgument
from dockyard.oci.jsonvalue import JSONObject, JSONValue, opt_str, req_str

_ARCH_ALIASES = {"x86_64": "amd64", "x86-64": "amd64", "aarch64": "arm64", "armhf": "arm", "armel": "arm",
                 "armv7l": "arm", "armv6l": "arm", "i386": "386", "i686": "386"}
_DEFAULT_VARIANT = {"arm64": "v8", "arm": "v7"}
#: Some ARM names imply a variant: armhf is ARMv7, armel ARMv6 (as containerd normalizes them).
_ALIAS_VARIANT = {"armhf": "v7", "armel": "v6", "armv7l": "v7", "armv6l": "v6"}
_SPECIFIER = re.compile(r"[A-Za-z0-9_.-]+")
#: GOOS and GOARCH values (`go tool dist list`): what a platform a user types may name.
KNOWN_OS = frozenset({"aix", "android", "darwin", "dragonfly", "freebsd", "illumos", "ios", "js", "linux", "netbsd",
                      "openbsd", "plan9", "solaris", "wasip1", "windows"})
KNOWN_ARCH = frozenset({"386", "amd64", "arm", "arm64", "loong64", "mips", "mips64", "mips64le", "mipsle", "ppc64",
                        "ppc64le", "riscv64", "s390x", "wasm"})


@dataclass(frozen=True, slots=True)
class Platform:
    """The platform of an image, as in an index descriptor or image config."""

    os: str
    architecture: str
    variant: str | None = None
    os_version: str | None = None
    os_features: tuple[str, ...] = field(default=())

    @classmethod
    def parse(cls, text: str) -> Self:
        """Parse `os/arch[/variant]` (e.g. `linux/arm64/v8`); `arch` alone means linux/arch."""
        parts = text.strip().split("/")
        if len(parts) > 3 or not all(_SPECIFIER.fullmatch(p) for p in parts):
            raise InvalidArgument(f"invalid platform {text!r}: expected os/arch[/variant]")
        if len(parts) == 1:
            parts = ["linux", parts[0]]
        given = parts[1].lower()
        arch = _ARCH_ALIASES.get(given, given)
        variant = parts[2].lower() if len(parts) == 3 else _ALIAS_VARIANT.get(given)
        return cls(parts[0].lower(), arch, variant)

    @classmethod
    def parse_known(cls, text: str) -> Self:
        """`parse`, for a platform a user typed: the OS and architecture must be ones Go knows (as containerd's
        `platforms.Parse` insists), so a typo is an error instead of an image for `linux/amd46`."""
        found = cls.parse(text)
        if found.os not in KNOWN_OS or found.architecture not in KNOWN_ARCH:
            raise InvalidArgument(f"invalid platform {text!r}: unknown operating system or architecture",
                                  hint="examples: linux/amd64, linux/arm64, linux/arm/v7")
        return found

    @classmethod
    def host(cls) -> Self:
        """The platform of this machine."""
        arch = _ARCH_ALIASES.get(_host.machine().lower(), _host.machine().lower())
        return cls("linux", arch)

    @classmethod
    def from_json(cls, obj: JSONObject, what: str = "platform") -> Self:
        feats = obj.get("os.features")
        features = tuple(str(f) for f in feats) if isinstance(feats, list) else ()
        return cls(
            os=req_str(obj, "os", what),
            architecture=req_str(obj, "architecture", what),
            variant=opt_str(obj, "variant", what),
            os_version=opt_str(obj, "os.version", what),
            os_features=features,
        )

    def to_json(self) -> JSONObject:
        out: JSONObject = {"architecture": self.architecture, "os": self.os}
        if self.os_version:
            out["os.version"] = self.os_version
        if self.os_features:
            feats: list[JSONValue] = list(self.os_features)
            out["os.features"] = feats
        if self.variant:
            out["variant"] = self.variant
        return out

    def normalized(self) -> Platform:
        """Canonical spelling: amd64/arm64 aliases resolved, the default ARM variant filled in."""
        arch = _ARCH_ALIASES.get(self.architecture, self.architecture)
        variant = self.variant or _ALIAS_VARIANT.get(self.architecture) or _DEFAULT_VARIANT.get(arch)
        return Platform(self.os, arch, variant, self.os_version, self.os_features)

    def matches(self, other: Platform) -> bool:
        """True when `other` (an image's platform) satisfies this wanted platform."""
        want, have = self.normalized(), other.normalized()
        if (want.os, want.architecture) != (have.os, have.architecture):
            return False
        if self.variant and want.variant != have.variant:
            return False
        return not (self.os_version and self.os_version != other.os_version)

    @property
    def is_unknown(self) -> bool:
        """`unknown/unknown`: the platform BuildKit gives attestation manifests."""
        return self.os == "unknown" and self.architecture == "unknown"

    def __str__(self) -> str:
        return "/".join(p for p in (self.os, self.architecture, self.variant) if p)
