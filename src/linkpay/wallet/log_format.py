"""Log output for `link-wallet serve`: readable lines by default, one JSON object per
line with `LINKPAY_LOG_FORMAT=json` (for log shippers).

Domain events (`linkpay.events`, written after each audit-log commit) carry their entry
in the record; the JSON form puts its fields at the top level (`event`, `seq`, `actor`,
`subject`, `data`, …). Everything passes the redaction filter first (wallet/logging.py):
records are scrubbed at birth, and event data is scrubbed again here.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from linkpay.wallet.logging import redact_value

_ACCESS_FIELDS = ("client_addr", "request_line", "status_code")


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, plus the audit entry
    of a domain event or the fields of an access line."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry = getattr(record, "linkpay_event", None)
        if isinstance(entry, dict):
            line["event"] = entry.get("type")
            for key in ("seq", "actor", "subject", "user_id", "data", "hash"):
                line[key] = entry.get(key)
        if record.name == "uvicorn.access" and isinstance(record.args, tuple):
            if len(record.args) == 5:  # client, method, path, http version, status
                client, method, path, version, status = record.args
                line.update(client=client, method=method, path=path, status=status)
                line["http_version"] = version
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(redact_value(line), ensure_ascii=False, default=str)


class EventTextFormatter(logging.Formatter):
    """Readable form of a domain event: `event spend_request.approved lsrq_… by …`."""

    def format(self, record: logging.LogRecord) -> str:
        return f"{record.levelname}:     event {record.getMessage()}"


def uvicorn_log_config(fmt: str) -> dict[str, Any]:
    """A `logging.config.dictConfig` for `uvicorn.run(log_config=…)` that also shows
    domain events (`linkpay.events`)."""
    from uvicorn.config import LOGGING_CONFIG

    config: dict[str, Any] = json.loads(json.dumps(LOGGING_CONFIG))
    if fmt == "json":
        for name in ("default", "access"):
            config["formatters"][name] = {"()": f"{__name__}.JsonFormatter"}
        config["handlers"]["events"] = {
            "formatter": "default",
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stderr",
        }
    else:
        config["formatters"]["events"] = {"()": f"{__name__}.EventTextFormatter"}
        config["handlers"]["events"] = {
            "formatter": "events",
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stderr",
        }
    config["loggers"]["linkpay.events"] = {
        "handlers": ["events"],
        "level": "INFO",
        "propagate": False,
    }
    return config
