"""pycrdt-websocket with its defaults (no store), served by uvicorn on loopback.

Run by ``python -m bench --compare`` with the Python of ``bench/.peers/pycrdt-websocket``:
``python pycrdt_websocket_server.py HOST PORT``.
"""

from __future__ import annotations

import asyncio
import sys

import uvicorn
from pycrdt.websocket import (  # type: ignore[import-not-found,unused-ignore]
    ASGIServer,
    WebsocketServer,
)


async def main(host: str, port: int) -> None:
    websocket_server = WebsocketServer()
    app = ASGIServer(websocket_server)
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="on")
    async with websocket_server:
        await uvicorn.Server(config).serve()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
