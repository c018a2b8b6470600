"""Log lines for people (text) or for machines (one JSON object a line), carrying the request or job that
each line belongs to. Standard library only: every command configures logging before anything else."""

from __future__ import annotations

import json
import logging
import logging.config
import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

LOG_FORMAT_VARIABLE = "PROMOFORGE_LOG_FORMAT"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Fields an access line carries beside the message (logged as `extra`).
ACCESS_FIELDS = ("method", "route", "status", "duration_ms")


@dataclass
class RequestLogContext:
    """The request a line is logged for; the store is filled in once the caller's token is verified."""

    request_id: str
    store_id: str | None = None


@dataclass(frozen=True)
class JobLogContext:
    """The job a worker line is logged for."""

    job_id: str
    job_type: str


current_request: ContextVar[RequestLogContext | None] = ContextVar("promoforge_request", default=None)
current_job: ContextVar[JobLogContext | None] = ContextVar("promoforge_job", default=None)


def note_store(store_id: str) -> None:
    """Name the store of the request being served in its log lines."""
    context = current_request.get()
    if context is not None:
        context.store_id = store_id


@contextmanager
def job_logging(job_id: str, job_type: str) -> Iterator[None]:
    """Name the job in every line this thread logs inside the block."""
    token = current_job.set(JobLogContext(job_id, job_type))
    try:
        yield
    finally:
        current_job.reset(token)


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, the request or job, access fields, exception."""

    def format(self, record: logging.LogRecord) -> str:
        """Render the record as one line of JSON."""
        created = datetime.fromtimestamp(record.created, UTC)
        document: dict[str, Any] = {
            "time": created.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request = current_request.get()
        if request is not None:
            document["request_id"] = request.request_id
            if request.store_id is not None:
                document["store_id"] = request.store_id
        job = current_job.get()
        if job is not None:
            document["job_id"] = job.job_id
            document["job_type"] = job.job_type
        for name in ACCESS_FIELDS:
            if name in record.__dict__:
                document[name] = record.__dict__[name]
        if record.exc_info:
            document["exception"] = self.formatException(record.exc_info)
        return json.dumps(document, ensure_ascii=False, default=str)


def log_format_from_environment() -> str:
    """`json` when PROMOFORGE_LOG_FORMAT says so, else `text` (Settings validates the value itself)."""
    return "json" if os.environ.get(LOG_FORMAT_VARIABLE, "").strip().lower() == "json" else "text"


def logging_config(log_format: str) -> dict[str, Any]:
    """A dictConfig for the process's loggers in `log_format`, on stderr.

    In json mode uvicorn's loggers are included and its access log is off: the API logs one access line per
    request itself. In text mode uvicorn keeps its own configuration.
    """
    formatter: dict[str, Any] = (
        {"()": f"{__name__}.JsonFormatter"} if log_format == "json" else {"format": TEXT_FORMAT}
    )
    loggers: dict[str, Any] = {
        # Alembic reports its context on every schema check; only `migrate` has something to say.
        "alembic": {"level": "WARNING"},
    }
    if log_format == "json":
        loggers["uvicorn"] = {"handlers": [], "level": "INFO", "propagate": True}
        loggers["uvicorn.error"] = {"handlers": [], "level": "INFO", "propagate": True}
        loggers["uvicorn.access"] = {"handlers": [], "level": "WARNING", "propagate": False}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"promoforge": formatter},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "promoforge",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"handlers": ["stderr"], "level": "INFO"},
        "loggers": loggers,
    }


def configure_logging(log_format: str) -> None:
    """Configure this process's logging in `log_format`."""
    logging.config.dictConfig(logging_config(log_format))
