"""HTTPS endpoints: the guarded transport connects to the vetted address and still
verifies the certificate for the host name."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from services.webhooks.payload import headers
from services.webhooks.send import post
from services.webhooks.transport import make_webhook_client
from tests.servers import local_server
from tests.webhookkit import Receiver, webhook_settings


def _certificate(directory: Path) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


async def test_https_is_verified_for_the_host_name(tmp_path: Path) -> None:
    cert, key = _certificate(tmp_path)
    receiver = Receiver()
    # "localhost" may resolve to both loopback addresses: allow both.
    settings = webhook_settings(
        "sqlite+aiosqlite:///unused.db", webhook_allowed_networks="127.0.0.1/32,::1/128"
    )
    trusted = ssl.create_default_context(cafile=str(cert))
    body = b'{"type":"webhook.test"}'
    async with local_server(tls=(cert, key)) as server:
        receiver.mount(server)
        url = f"https://localhost:{server.port}/hook"
        signed = headers(receiver.secret, "msg_tls", body, datetime.now(UTC))
        async with make_webhook_client(settings, ssl_context=trusted) as client:
            ok = await post(client, url, body, signed, timeout=5, max_bytes=4096)
        async with make_webhook_client(settings) as client:  # the CA bundle: not trusted
            untrusted = await post(client, url, body, signed, timeout=5, max_bytes=4096)
        mismatch = f"https://127.0.0.1:{server.port}/hook"  # certificate is for localhost
        async with make_webhook_client(settings, ssl_context=trusted) as client:
            wrong_name = await post(client, mismatch, body, signed, timeout=5, max_bytes=4096)
    assert ok.status == 200, ok.error
    assert receiver.received[0].payload == {"type": "webhook.test"}
    assert untrusted.status is None
    assert "CERTIFICATE_VERIFY_FAILED" in (untrusted.error or "")
    assert wrong_name.status is None
    assert "CERTIFICATE_VERIFY_FAILED" in (wrong_name.error or "")
    assert len(receiver.received) == 1
