"""``smm-sheets serve``: the web application under uvicorn, in one or several worker processes."""

from __future__ import annotations

import uvicorn

from smm_sheets.web.app import create_app

app = create_app()


def serve(host: str = "127.0.0.1", port: int = 8000, workers: int = 1) -> None:
    """Serve until interrupted; with ``workers`` > 1 uvicorn starts that many processes."""
    uvicorn.run(
        "smm_sheets.web.server:app",
        host=host,
        port=port,
        workers=workers,
        proxy_headers=True,
        server_header=False,
        log_level="info",
        access_log=False,  # nothing about people's files or requests is kept
    )
