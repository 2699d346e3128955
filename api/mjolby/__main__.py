"""Run the API with uvicorn on API_HOST:API_PORT:  python -m mjolby"""
from __future__ import annotations

import uvicorn

from mjolby.config import get_settings


def main() -> None:
    settings = get_settings()
    uvicorn.run(
        "mjolby.main:app",
        host=settings.api_host,
        port=settings.api_port,
        log_level=settings.log_level.lower(),
        proxy_headers=True,
        server_header=False,
    )


if __name__ == "__main__":
    main()
