"""SHA-crypt (`$5$` SHA-256 and `$6$` SHA-512 password hashes, Ulrich Drepper's scheme), in pure Python.

What `htpasswd -2`/`-5`, `openssl passwd -5/-6` and glibc `crypt(3)` write; Python 3.13 dropped the
`crypt` module, so the registry verifies these hashes itself.
"""

from __future__ import annotations

import hashlib
import hmac

from dockyard.errors import InvalidArgument

_ITOA64 = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_DEFAULT_ROUNDS = 5000
_MIN_ROUNDS, _MAX_ROUNDS = 1000, 999_999_999

_ORDER_256 = ((0, 10, 20), (21, 1, 11), (12, 22, 2), (3, 13, 23), (24, 4, 14), (15, 25, 5), (6, 16, 26),
              (27, 7, 17), (18, 28, 8), (9, 19, 29))
_ORDER_512 = ((0, 21, 42), (22, 43, 1), (44, 2, 23), (3, 24, 45), (25, 46, 4), (47, 5, 26), (6, 27, 48),
              (28, 49, 7), (50, 8, 29), (9, 30, 51), (31, 52, 10), (53, 11, 32), (12, 33, 54), (34, 55, 13),
              (56, 14, 35), (15, 36, 57), (37, 58, 16), (59, 17, 38), (18, 39, 60), (40, 61, 19), (62, 20, 41))


def _b64(b2: int, b1: int, b0: int, n: int) -> str:
    w = (b2 << 16) | (b1 << 8) | b0
    out = []
    for _ in range(n):
        out.append(_ITOA64[w & 0x3F])
        w >>= 6
    return "".join(out)


def _repeat(block: bytes, length: int) -> bytes:
    return (block * (length // len(block) + 1))[:length]


def _digest(algorithm: str, password: bytes, salt: bytes, rounds: int) -> bytes:
    def new(data: bytes = b"") -> hashlib._Hash:
        return hashlib.new(algorithm, data)

    size = new().digest_size
    b = new(password + salt + password).digest()
    a = new(password + salt)
    a.update(_repeat(b, len(password)))
    i = len(password)
    while i > 0:
        a.update(b if i & 1 else password)
        i >>= 1
    c = a.digest()
    p = _repeat(new(password * len(password)).digest(), len(password))
    s = _repeat(new(salt * (16 + c[0])).digest(), len(salt))
    for r in range(rounds):
        h = new(p if r & 1 else c)
        if r % 3:
            h.update(s)
        if r % 7:
            h.update(p)
        h.update(c if r & 1 else p)
        c = h.digest()
    assert len(c) == size
    return c


def sha_crypt(password: bytes, setting: str) -> str:
    """Hash `password` with the scheme, rounds and salt of `setting` (`$5$[rounds=N$]salt[$...]`)."""
    parts = setting.split("$")
    if len(parts) < 3 or parts[0] != "" or parts[1] not in ("5", "6"):
        raise InvalidArgument("not a SHA-crypt hash: expected $5$ or $6$")
    algorithm = "sha256" if parts[1] == "5" else "sha512"
    rest = parts[2:]
    rounds, explicit = _DEFAULT_ROUNDS, False
    if rest[0].startswith("rounds="):
        value = rest[0].removeprefix("rounds=")
        if not value.isdigit() or len(rest) < 2:
            raise InvalidArgument("SHA-crypt hash: bad rounds= field")
        rounds, explicit = min(max(int(value), _MIN_ROUNDS), _MAX_ROUNDS), True
        rest = rest[1:]
    salt = rest[0][:16]
    c = _digest(algorithm, password, salt.encode(), rounds)
    if algorithm == "sha256":
        encoded = "".join(_b64(c[x], c[y], c[z], 4) for x, y, z in _ORDER_256) + _b64(0, c[31], c[30], 3)
    else:
        encoded = "".join(_b64(c[x], c[y], c[z], 4) for x, y, z in _ORDER_512) + _b64(0, 0, c[63], 2)
    prefix = f"${parts[1]}$" + (f"rounds={rounds}$" if explicit else "")
    return f"{prefix}{salt}${encoded}"


def verify(password: bytes, stored: str) -> bool:
    """True when `password` hashes to `stored` (compared in constant time)."""
    return hmac.compare_digest(sha_crypt(password, stored).encode(), stored.encode())
