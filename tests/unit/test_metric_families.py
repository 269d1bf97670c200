"""The pure parts of /metrics: multi-label families and how webhook attempts are classed."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from services.api import exposition
from services.api.metrics import ATTEMPT_OUTCOMES, attempt_outcome


def test_a_table_has_one_sample_per_row_with_every_label() -> None:
    text = exposition.render(
        [
            exposition.table(
                "drawdown_consumer_lag",
                "gauge",
                "Lag.",
                ("group", "topic", "partition"),
                [(("g", "t", "0"), 4), (("g", "t", "1"), 0)],
            ),
            exposition.table("x_total", "counter", "X.", ("source", "name"), [(("1", 'a "b"'), 2)]),
        ]
    )
    (lag, x) = text_string_to_metric_families(text)
    assert lag.type == "gauge"
    assert [(s.labels, s.value) for s in lag.samples] == [
        ({"group": "g", "topic": "t", "partition": "0"}, 4.0),
        ({"group": "g", "topic": "t", "partition": "1"}, 0.0),
    ]
    assert x.type == "counter"
    assert [(s.name, s.labels, s.value) for s in x.samples] == [
        ("x_total", {"source": "1", "name": 'a "b"'}, 2.0)
    ]


@pytest.mark.parametrize(
    ("status", "outcome"),
    [(200, "2xx"), (204, "2xx"), (301, "3xx"), (410, "4xx"), (429, "4xx"), (503, "5xx")],
)
def test_attempts_are_classed_by_status(status: int, outcome: str) -> None:
    assert attempt_outcome(status) == outcome
    assert outcome in ATTEMPT_OUTCOMES


def test_an_attempt_without_an_answer_is_no_response() -> None:
    assert attempt_outcome(None) == "no_response"
