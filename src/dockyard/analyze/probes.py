"""Looks inside a few file bodies while layers stream past: ELF section tables (symbols, debug info) and likely
secrets (private keys, credential files). Only small windows of a body are kept, never a whole file."""

from __future__ import annotations

import functools
import re
import struct
from dataclasses import dataclass
from enum import StrEnum

from dockyard.analyze.tarscan import NameHint
from dockyard.layers.tarformat import TarEntry

ELF_MAGIC = b"\x7fELF"
#: ELF files smaller than this are not worth a look (and cannot hold a section table worth stripping).
ELF_MIN_SIZE = 1024
#: Bytes kept before the section header table, where linkers put the section-name table.
_WINDOW = 64 << 10
#: Bytes of a candidate secret file read to look for its markers.
_SECRET_HEAD = 64 << 10


class SecretKind(StrEnum):
    """What kind of secret a file holds."""

    PRIVATE_KEY = "private-key"
    ENV_FILE = "env-file"
    CLOUD_CREDENTIALS = "cloud-credentials"
    REGISTRY_CREDENTIALS = "registry-credentials"
    PACKAGE_TOKEN = "package-token"
    PASSWORD_FILE = "password-file"


_KEY_MARKER = rb"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"
#: (name pattern, kind, content marker or None when the name alone is enough), compiled on first use (`_rules`)
_RULE_SOURCES: tuple[tuple[str, SecretKind, bytes | None], ...] = (
    (r"(?:^|/)(?:id_(?:rsa|dsa|ecdsa|ed25519)|[^/]*\.(?:pem|key))$", SecretKind.PRIVATE_KEY, _KEY_MARKER),
    (r"(?:^|/)[^/]*\.(?:p12|pfx|ppk)$", SecretKind.PRIVATE_KEY, None),
    (r"(?:^|/)\.env(?:\.(?!example$|sample$|template$|dist$|defaults?$)[^/]+)?$", SecretKind.ENV_FILE,
     rb"(?m)^\s*(?:export\s+)?[A-Za-z_][A-Za-z0-9_]*\s*=\s*\S"),
    (r"(?:^|/)\.aws/credentials$", SecretKind.CLOUD_CREDENTIALS, rb"aws_secret_access_key|aws_session_token"),
    (r"(?:^|/)\.config/gcloud/(?:application_default_credentials\.json|credentials\.db|"
     r"access_tokens\.db|legacy_credentials/.+)$", SecretKind.CLOUD_CREDENTIALS, None),
    (r"(?:^|/)[^/]*(?:service[-_]?account|credentials)[^/]*\.json$", SecretKind.CLOUD_CREDENTIALS,
     rb'"(?:private_key|refresh_token|client_secret)"\s*:'),
    (r"(?:^|/)\.azure/(?:accessTokens|msal_token_cache)\.json$", SecretKind.CLOUD_CREDENTIALS, None),
    (r"(?:^|/)\.kube/config$", SecretKind.CLOUD_CREDENTIALS,
     rb"(?:client-key-data|token|password)\s*:\s*\S"),
    (r"(?:^|/)(?:\.docker/config\.json|\.dockercfg)$", SecretKind.REGISTRY_CREDENTIALS,
     rb'"(?:auth|identitytoken)"\s*:\s*"[^"]+'),
    (r"(?:^|/)\.(?:npmrc|yarnrc)$", SecretKind.PACKAGE_TOKEN,
     rb"(?:_authToken|_auth|_password|npmAuthToken)\s*[=:]\s*\S"),
    (r"(?:^|/)\.pypirc$", SecretKind.PACKAGE_TOKEN, rb"(?m)^\s*password\s*[:=]\s*\S"),
    (r"(?:^|/)(?:\.netrc|_netrc)$", SecretKind.PASSWORD_FILE, rb"\bpassword\s+\S"),
    (r"(?:^|/)\.git-credentials$", SecretKind.PASSWORD_FILE, rb"://[^:/\s]+:[^@\s]+@"),
)
_Rule = tuple[re.Pattern[str], SecretKind, re.Pattern[bytes] | None]


@functools.cache
def _rules() -> tuple[re.Pattern[str], tuple[_Rule, ...]]:
    """One pattern over all the names, and each rule compiled: on first use, as most images name no candidate file
    and compiling them costs about 3 ms of every start-up."""
    rules = tuple((re.compile(name), kind, re.compile(marker) if marker else None)
                  for name, kind, marker in _RULE_SOURCES)
    return re.compile("|".join(f"(?:{name})" for name, _, _ in _RULE_SOURCES)), rules


#: Name endings worth the regex; every regular file goes through this test, so it must cost next to nothing.
_ENDINGS = ("id_rsa", "id_dsa", "id_ecdsa", "id_ed25519", ".pem", ".key", ".p12", ".pfx", ".ppk", "/credentials",
            "/config", "config.json", ".dockercfg", "rc", "_netrc", ".git-credentials")


#: A cheaper necessary condition for `secret_candidate`, tested inline by the scanner (see `tarscan.NameHint`).
SECRET_HINT = NameHint((*_ENDINGS, ".json"), (".env", "/gcloud/"))


def secret_candidate(path: str) -> bool:
    """True when `path` may name a secret file (then `probe` decides by name and content)."""
    if path.endswith(_ENDINGS) or ".env" in path or "/gcloud/" in path or (
            path.endswith(".json") and ("credential" in path or "ccount" in path or "oken" in path)):
        return _rules()[0].search(path) is not None
    return False


@dataclass(frozen=True, slots=True)
class ElfInfo:
    """What an ELF file could lose to `strip`: its symbol tables and debug sections."""

    path: str
    layer: int
    size: int
    symtab_bytes: int
    debug_bytes: int

    @property
    def strippable(self) -> int:
        return self.symtab_bytes + self.debug_bytes


@dataclass(frozen=True, slots=True)
class SecretHit:
    """A file that looks like a secret, in the layer that added it."""

    path: str
    layer: int
    size: int
    kind: SecretKind


class Probes:
    """Collects ELF and secret findings for one image; `probe` is the scanner's hook for one layer at a time."""

    def __init__(self) -> None:
        self.layer = 0
        self.elves: list[ElfInfo] = []
        self.secrets: list[SecretHit] = []

    def probe(self, entry: TarEntry) -> _ElfSink | _SecretSink | None:
        names, rules = _rules()
        for pattern, kind, marker in rules if names.search(entry.path) else ():
            if pattern.search(entry.path):
                if marker is None:
                    self.secrets.append(SecretHit(entry.path, self.layer, entry.size, kind))
                    return None
                return _SecretSink(self, entry, kind, marker)
        if entry.size >= ELF_MIN_SIZE:
            return _ElfSink(self, entry)
        return None


class _SecretSink:
    __slots__ = ("_entry", "_head", "_kind", "_marker", "_owner")

    def __init__(self, owner: Probes, entry: TarEntry, kind: SecretKind, marker: re.Pattern[bytes]) -> None:
        self._owner, self._entry, self._kind, self._marker = owner, entry, kind, marker
        self._head = bytearray()

    def feed(self, data: bytes | memoryview) -> bool:
        self._head += data[: _SECRET_HEAD - len(self._head)]
        done = len(self._head) >= min(_SECRET_HEAD, self._entry.size)
        if done and self._marker.search(self._head):
            e = self._entry
            self._owner.secrets.append(SecretHit(e.path, self._owner.layer, e.size, self._kind))
        return not done


class _ElfSink:
    """Follows an ELF body to its section header table, keeping only the window the table and names need."""

    __slots__ = ("_entry", "_header", "_hi", "_lo", "_owner", "_pos", "_window")

    def __init__(self, owner: Probes, entry: TarEntry) -> None:
        self._owner, self._entry = owner, entry
        self._pos = 0
        self._header = b""
        self._lo = self._hi = -1
        self._window = bytearray()

    def feed(self, data: bytes | memoryview) -> bool:
        start, self._pos = self._pos, self._pos + len(data)
        if self._lo < 0:
            self._header += bytes(data[: 64 - len(self._header)])
            if len(self._header) < 64:
                return True
            bounds = _table_bounds(self._header, self._entry.size)
            if bounds is None:
                return False
            self._lo, self._hi = max(0, bounds[0] - _WINDOW), bounds[1]
        lo, hi = max(self._lo, start), min(self._hi, self._pos)
        if lo < hi:
            self._window += data[lo - start : hi - start]
        if self._pos < self._hi:
            return True
        info = _sections(self._header, bytes(self._window), self._lo)
        if info is not None and info[0] + info[1]:
            e = self._entry
            self._owner.elves.append(ElfInfo(e.path, self._owner.layer, e.size, info[0], info[1]))
        return False


def _layout(header: bytes) -> tuple[str, bool] | None:
    """(struct byte order, 64-bit) of an ELF header, or None when it is not a usable ELF file."""
    if header[:4] != ELF_MAGIC or header[4] not in (1, 2) or header[5] not in (1, 2):
        return None
    return ("<" if header[5] == 1 else ">"), header[4] == 2


def _table_bounds(header: bytes, size: int) -> tuple[int, int] | None:
    """Where the section header table lies, for executables and shared objects with one."""
    layout = _layout(header)
    if layout is None:
        return None
    order, is64 = layout
    e_type = struct.unpack_from(order + "H", header, 16)[0]
    if e_type not in (2, 3):  # executables and shared objects only: objects and archives need their symbols
        return None
    if is64:
        shoff, = struct.unpack_from(order + "Q", header, 40)
        shentsize, shnum = struct.unpack_from(order + "HH", header, 58)
    else:
        shoff, = struct.unpack_from(order + "I", header, 32)
        shentsize, shnum = struct.unpack_from(order + "HH", header, 46)
    end = shoff + shentsize * shnum
    if not shoff or not shnum or shentsize < (64 if is64 else 40) or end > size:
        return None
    return shoff, end


def _sections(header: bytes, window: bytes, lo: int) -> tuple[int, int] | None:
    """(symbol table bytes, debug section bytes) from the section headers in `window` (which starts at `lo`)."""
    layout = _layout(header)
    assert layout is not None
    order, is64 = layout
    if is64:
        shoff, = struct.unpack_from(order + "Q", header, 40)
        shentsize, shnum, shstrndx = struct.unpack_from(order + "HHH", header, 58)
        fmt = struct.Struct(order + "IIQQQQII")
    else:
        shoff, = struct.unpack_from(order + "I", header, 32)
        shentsize, shnum, shstrndx = struct.unpack_from(order + "HHH", header, 46)
        fmt = struct.Struct(order + "IIIIIIII")
    table = [fmt.unpack_from(window, shoff - lo + i * shentsize) for i in range(shnum)]
    # fields: name, type, flags, addr, offset, size, link, info
    names = b""
    if shstrndx < shnum:
        _, _, _, _, off, sz, _, _ = table[shstrndx]
        if lo <= off and off + sz <= lo + len(window):
            names = window[off - lo : off - lo + sz]
    symtab = debug = 0
    for name_at, kind, _, _, _, sz, link, _ in table:
        if kind == 2:  # SHT_SYMTAB, and the string table it links to
            symtab += sz + (table[link][5] if link < shnum else 0)
        elif names and kind != 8:  # SHT_NOBITS takes no file space
            name = names[name_at : names.find(b"\0", name_at)]
            if name.startswith((b".debug", b".zdebug")):
                debug += sz
    return symtab, debug
