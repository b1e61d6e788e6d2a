"""Structured logging on the standard library: dotted event names with key=value fields.

    log = get_logger(__name__)
    log.info("task.page.failed", task_id=tid, page=3, code="render_timeout")

`console` format prints `event key=value ...`; `json` prints one object a line for shippers.
"""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

from shared.clock import utcnow

_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


class EventLogger:
    """A thin wrapper so that fields go in as keywords and land in the record's `fields`."""

    def __init__(self, logger: logging.Logger, **bound: Any) -> None:
        self._logger = logger
        self._bound = bound

    def bind(self, **fields: Any) -> EventLogger:
        return EventLogger(self._logger, **{**self._bound, **fields})

    def _log(self, level: int, event: str, exc_info: bool, fields: dict[str, Any]) -> None:
        if self._logger.isEnabledFor(level):
            merged = {**self._bound, **fields}
            self._logger.log(level, event, exc_info=exc_info, extra={"fields": merged}, stacklevel=3)

    def debug(self, event: str, **fields: Any) -> None:
        self._log(logging.DEBUG, event, False, fields)

    def info(self, event: str, **fields: Any) -> None:
        self._log(logging.INFO, event, False, fields)

    def warning(self, event: str, **fields: Any) -> None:
        self._log(logging.WARNING, event, False, fields)

    def error(self, event: str, **fields: Any) -> None:
        self._log(logging.ERROR, event, False, fields)

    def exception(self, event: str, **fields: Any) -> None:
        self._log(logging.ERROR, event, True, fields)


def get_logger(name: str, **bound: Any) -> EventLogger:
    return EventLogger(logging.getLogger(name), **bound)


class ConsoleFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        fields = getattr(record, "fields", {})
        parts = [f"{self.formatTime(record, '%H:%M:%S')} {record.levelname:<7} {record.getMessage()}"]
        parts += [f"{k}={_short(v)}" for k, v in fields.items()]
        line = " ".join(parts)
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "ts": utcnow().isoformat(),
            "level": record.levelname.lower(),
            "event": record.getMessage(),
            "logger": record.name,
            **getattr(record, "fields", {}),
        }
        if record.exc_info:
            data["exc"] = self.formatException(record.exc_info)
        return json.dumps(data, default=str)


def _short(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 200 else text[:197] + "..."


def configure_logging(level: str = "INFO", fmt: str = "console") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else ConsoleFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("botocore", "boto3", "urllib3", "s3transfer", "httpx", "httpcore", "PIL"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
