"""Layers are scanned two at a time: results keep layer order, the first failing layer's error wins, no thread leaks."""

from __future__ import annotations

import io
import tarfile
import threading
import time
from typing import BinaryIO

import pytest

from dockyard.analyze.report import _scan_all
from dockyard.errors import DigestMismatch, InvalidLayer
from dockyard.oci.descriptor import Descriptor
from dockyard.oci.digest import Digest
from dockyard.oci.mediatype import MediaType


def _tar(n: int) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as t:
        for i in range(n):
            info = tarfile.TarInfo(f"d/f{i}")
            info.size = 3
            t.addfile(info, io.BytesIO(b"abc"))
    return buf.getvalue()


class _Layer:
    def __init__(self, data: bytes, fail: Exception | None = None, delay: float = 0.0) -> None:
        self.data, self.fail, self.delay = data, fail, delay
        self.descriptor = Descriptor(MediaType.OCI_LAYER, Digest.of(data), len(data))

    def open(self) -> BinaryIO:
        time.sleep(self.delay)
        if self.fail is not None:
            raise self.fail
        return io.BytesIO(self.data)


def _threads() -> set[str]:
    return {t.name for t in threading.enumerate()}


def test_results_keep_layer_order() -> None:
    before = _threads()
    counts = [len(entries) for entries, _ in _scan_all([_Layer(_tar(5)), _Layer(_tar(7)), _Layer(_tar(1))])]
    assert counts == [5, 7, 1]  # one entry per tar member, in layer order
    assert _threads() <= before


@pytest.mark.parametrize(("layers", "kind", "text"), [
    ([_Layer(_tar(5), delay=0.2), _Layer(_tar(1), fail=DigestMismatch("layer1 bad")),
      _Layer(_tar(2), fail=InvalidLayer("layer2 bad"))], DigestMismatch, "layer1 bad"),
    ([_Layer(_tar(5), fail=InvalidLayer("layer0 bad"), delay=0.2),
      _Layer(_tar(1), fail=DigestMismatch("layer1 bad")), _Layer(_tar(2))], InvalidLayer, "layer0 bad"),
])
def test_the_first_failing_layer_decides(layers: list[_Layer], kind: type[Exception], text: str) -> None:
    before = _threads()
    with pytest.raises(kind, match=text):
        list(_scan_all(layers))
    assert _threads() <= before
