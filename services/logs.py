"""Logging setup for entrypoints: one line per record, key=value context, to stderr."""

from __future__ import annotations

import logging
import sys


def configure(level: str) -> None:
    logging.basicConfig(
        level=level.upper(),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    for noisy in (
        "aiokafka",
        "kafka",
        "trafilatura",
        "htmldate",
        "courlan",
        "sqlalchemy.engine",
        "httpx",
        "httpcore",
    ):
        logging.getLogger(noisy).setLevel(logging.WARNING)
