"""``smm-sheets serve`` for real: two worker processes answer pages and analyses, and stop on SIGTERM."""

from __future__ import annotations

import httpx
import pytest

from tests.web.server import serving


@pytest.mark.slow
def test_serve_with_two_workers(tmp_path, sample_set):
    server_tmp = tmp_path / "tmp"
    server_tmp.mkdir()
    # serving() raises ServerDidNotStop if SIGTERM does not end it.
    with serving(server_tmp, workers=2) as server:
        page = httpx.get(f"{server.base}/", headers={"accept-language": "fi"})
        assert page.status_code == 200 and '<html lang="fi">' in page.text
        files = [("files", (p.name, p.read_bytes())) for p in sample_set.values()]
        report = httpx.post(f"{server.base}/api/v1/analyse", files=files, timeout=120)
        assert report.status_code == 200 and report.json()["stats"]["files"] == 5
    assert [p.name for p in server_tmp.glob("smm-web-*")] == []
