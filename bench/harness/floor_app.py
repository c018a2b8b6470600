"""The floor of the hot-path benchmark: a bare FastAPI app that answers a constant JSON document.

    .venv/bin/python -m bench.harness.floor_app --port PORT

It runs as a process of its own, served by uvicorn from the project's venv with the options of
`promoforge serve --workers 1` that bear on the cost of a request: the same event loop and HTTP
implementation (uvicorn's `auto` choice in this venv), proxy headers off, and no access log (with
`--access-log`, uvicorn's own, as `promoforge serve` keeps it when its logs are text). `GET /` is a
plain `def` route, which FastAPI runs in its thread pool as it runs the service's routes; `GET /async` is the
same answer from an `async def` route, answered on the event loop. Neither has middleware, dependencies,
authentication or a database.
"""

from __future__ import annotations

import argparse
from typing import Any

import uvicorn
from fastapi import FastAPI

ANSWER: dict[str, Any] = {"data": {"type": "floor", "id": "floor", "status": "ok"}}

app = FastAPI(title="PromoForge bench floor")


@app.get("/", response_model=None)
def constant() -> dict[str, Any]:
    """The constant answer, from FastAPI's thread pool (as the service's routes answer)."""
    return ANSWER


@app.get("/async", response_model=None)
async def constant_on_the_loop() -> dict[str, Any]:
    """The constant answer, from the event loop."""
    return ANSWER


def main(argv: list[str] | None = None) -> None:
    """Serve the floor app on 127.0.0.1 until SIGTERM."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--access-log", action="store_true", help="log a line per request, as uvicorn does")
    options = parser.parse_args(argv)
    uvicorn.run(
        app,
        host=options.host,
        port=options.port,
        log_level="info",
        access_log=options.access_log,
        proxy_headers=False,
        timeout_graceful_shutdown=15,
    )


if __name__ == "__main__":
    main()
