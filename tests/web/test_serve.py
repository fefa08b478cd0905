"""``smm-sheets serve`` for real: two worker processes answer pages and analyses, and stop on SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest

from tests.helpers import ROOT


@pytest.mark.slow
def test_serve_with_two_workers(tmp_path, sample_set):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server_tmp = tmp_path / "tmp"
    server_tmp.mkdir()
    process = subprocess.Popen(
        [sys.executable, "-m", "smm_sheets", "serve", "--port", str(port), "--workers", "2"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), "TMPDIR": str(server_tmp)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert process.poll() is None and time.monotonic() < deadline, "the server did not start"
            time.sleep(0.2)
        page = httpx.get(f"{base}/", headers={"accept-language": "fi"})
        assert page.status_code == 200 and '<html lang="fi">' in page.text
        files = [("files", (p.name, p.read_bytes())) for p in sample_set.values()]
        report = httpx.post(f"{base}/api/v1/analyse", files=files, timeout=120)
        assert report.status_code == 200 and report.json()["stats"]["files"] == 5
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            pytest.fail("the server did not stop on SIGTERM")
    assert [p.name for p in server_tmp.glob("smm-web-*")] == []
