"""structlog as the one log format: JSON lines in production, readable console lines in demo/debug.

Standard-library loggers (Django, huey, granian) go through the same processors, so every line has the
same shape and the request id bound by the web middleware.
"""

from __future__ import annotations

import logging
import logging.config
from typing import Any

import structlog


def _drop_secrets(_: Any, __: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    # Defence in depth: code must never log secrets, but if a careless key slips in, mask it.
    for key in list(event_dict):
        lowered = key.lower()
        if any(
            word in lowered for word in ("password", "secret", "token", "otp", "code_plain", "pan", "cvv")
        ):
            event_dict[key] = "***"
    return event_dict


def configure_logging(*, json: bool, level: str) -> None:
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _drop_secrets,
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    logging.config.dictConfig(
        {
            "version": 1,
            "disable_existing_loggers": False,
            "formatters": {
                "structured": {
                    "()": structlog.stdlib.ProcessorFormatter,
                    "processors": [
                        structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                        structlog.processors.format_exc_info,
                        renderer,
                    ],
                    "foreign_pre_chain": shared,
                }
            },
            "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "structured"}},
            "root": {"handlers": ["console"], "level": level},
            "loggers": {
                "django.db.backends": {"level": "WARNING"},
                "huey": {"level": "INFO"},
            },
        }
    )
