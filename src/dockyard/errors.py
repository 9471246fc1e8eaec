"""The one error hierarchy of dockyard; the CLI and the registry each map it in exactly one place."""

from __future__ import annotations


class Error(Exception):
    """Root of every error dockyard raises on purpose.

    `message` is one line for a human; `hint` optionally says what to do about it.
    """

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def diagnostics(self) -> str:
        """The message plus the hint, for humans."""
        return self.message if not self.hint else f"{self.message} ({self.hint})"


class InvalidArgument(Error):
    """A user-supplied value (flag, option, path) is not acceptable."""

    exit_code = 2


class InvalidReference(InvalidArgument):
    """An image reference does not match the distribution name/tag/digest grammar."""


class NotFound(Error):
    """An image, tag, blob or file that was asked for does not exist."""

    exit_code = 3


class BlobUnknown(NotFound):
    """A blob a manifest references is missing from its source."""


class ManifestUnknown(NotFound):
    """A manifest (by tag or digest) is missing."""


class InvalidContent(Error):
    """Content (manifest, config, tar, archive) is malformed."""

    exit_code = 4


class InvalidManifest(InvalidContent):
    """A manifest or index is not valid JSON or violates the image spec."""


class InvalidLayer(InvalidContent):
    """A layer tar is truncated, corrupt or otherwise unreadable."""


class UnsafePath(InvalidLayer):
    """A tar entry would escape its root (`..`, absolute path, symlink or hardlink escape, device)."""


class DigestMismatch(InvalidContent):
    """Content does not hash to the digest that names it."""


class SizeMismatch(InvalidContent):
    """Content does not have the size its descriptor declares."""


class LimitExceeded(InvalidContent):
    """Content exceeds a safety limit (manifest size, decompression ratio, total size)."""


class Unsupported(Error):
    """A valid but unsupported feature, media type or algorithm."""

    exit_code = 5


class Conflict(Error):
    """The operation conflicts with current state (in use, exists, locked)."""

    exit_code = 6


class Unauthorized(Error):
    """The registry refused the credentials (or anonymous access) after authentication was tried: HTTP 401."""

    exit_code = 7


class Denied(Error):
    """The caller is authenticated but not allowed to do this (HTTP 403, DENIED): different credentials won't
    help unless they carry more rights."""

    exit_code = 8
