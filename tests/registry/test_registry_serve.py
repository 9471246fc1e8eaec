"""`dockyard serve` and its settings: config files, the bind-safety rule, and the real process."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from dockyard.errors import InvalidArgument
from dockyard.oci.digest import Digest
from dockyard.registry.config import RegistryConfig, StorageKind, check_bind, is_loopback
from dockyard.registry.meta.base import ManifestRecord, ManifestRef, RefKind, UploadRecord
from dockyard.registry.meta.sqlite import SQLiteMetadata


def test_config_file(tmp_path: Path) -> None:
    path = tmp_path / "registry.toml"
    path.write_text('data_dir = "data"\nhtpasswd = "users"\nstorage = "inmemory"\ndelete_enabled = false\n'
                    'access_log = "off"\nupload_workers = 4\n')
    config = RegistryConfig.load(path, data_dir=tmp_path / "default")
    assert config.data_dir == (tmp_path / "data").resolve()
    assert config.htpasswd == (tmp_path / "users").resolve()
    assert config.storage is StorageKind.INMEMORY
    assert not config.delete_enabled and config.upload_workers == 4 and config.auth_enabled
    for bad in ('nope = 1', 'metrics = "yes"', 'storage = "s3"', 'upload_workers = 0', "not toml ["):
        path.write_text(bad + "\n")
        with pytest.raises(InvalidArgument):
            RegistryConfig.load(path, data_dir=tmp_path)


def test_bind_safety() -> None:
    """No auth is fine on loopback; elsewhere it needs --htpasswd or --insecure-no-auth."""
    open_config = RegistryConfig(Path("/tmp/x"))
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost") and is_loopback("127.1.2.3")
    assert not is_loopback("0.0.0.0") and not is_loopback("example.com")
    check_bind("127.0.0.1", open_config, insecure_no_auth=False)
    check_bind("0.0.0.0", open_config, insecure_no_auth=True)
    check_bind("0.0.0.0", RegistryConfig(Path("/tmp/x"), htpasswd=Path("/etc/users")), insecure_no_auth=False)
    with pytest.raises(InvalidArgument, match="without authentication"):
        check_bind("0.0.0.0", open_config, insecure_no_auth=False)


def test_sqlite_metadata_round_trip(tmp_path: Path) -> None:
    meta = SQLiteMetadata(tmp_path / "registry.db")
    blob = Digest.of(b"blob")
    manifest = ManifestRecord(Digest.of(b"m"), "application/vnd.oci.image.manifest.v1+json", 1,
                              subject=blob, artifact_type="x/y", annotations={"k": "v"})
    meta.link_blob("app", blob, 4, actor="alice")
    meta.put_manifest("app", manifest, [ManifestRef(RefKind.LAYER, blob, 4, "l")], ["v1", "v2"], actor="alice")
    meta.create_upload(UploadRecord("u", "app", 1.0), actor="alice")
    meta.close()
    meta = SQLiteMetadata(tmp_path / "registry.db")
    assert meta.blob_size("app", blob) == 4
    assert meta.manifest("app", manifest.digest) == manifest
    assert meta.tags("app", last="v1") == ["v2"]
    assert meta.referrers("app", blob) == [manifest]
    assert meta.referrers("app", blob, artifact_type="other") == []
    assert meta.uploads_before(2.0) == [UploadRecord("u", "app", 1.0)]
    assert meta.delete_manifest("app", manifest.digest, actor="bob")
    assert meta.tag("app", "v1") is None
    assert [e.action for e in meta.audit_log(limit=2)] == ["manifest.delete", "upload.start"]
    meta.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _dockyard(*args: str, **kw: object) -> subprocess.Popen[str]:
    code = "from dockyard.cli.main import run; run()"
    return subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, **kw)  # type: ignore[call-overload]


def test_serve_refuses_open_registry_off_loopback(tmp_path: Path) -> None:
    proc = _dockyard("serve", "--host", "0.0.0.0", "--port", str(_free_port()), "--data-dir", str(tmp_path))
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert "without authentication" in err


def test_serve_process(tmp_path: Path) -> None:
    """The real `dockyard serve` process answers /v2/ and stops cleanly on SIGINT."""
    port = _free_port()
    proc = _dockyard("serve", "--port", str(port), "--data-dir", str(tmp_path / "data"))
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/v2/", timeout=2)
                break
            except httpx.TransportError:
                assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read() if proc.stderr else ""
                time.sleep(0.1)
        assert response.status_code == 200
        assert (tmp_path / "data" / "registry.db").exists()
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode in (0, -signal.SIGINT, 130), err
    assert f"http://127.0.0.1:{port}" in err
    assert os.path.isdir(tmp_path / "data" / "storage")
