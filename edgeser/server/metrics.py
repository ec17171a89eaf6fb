"""Prometheus text exposition (format 0.0.4) of the server's counters, histogram and gauges.

Hand-written (no client library): requests by endpoint, method and status; errors by endpoint
and code; a latency histogram per endpoint; gauges read at scrape time (in flight, queue depth,
connections, streams, memory).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterable

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
LATENCY_BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(pairs: Iterable[tuple[str, str]]) -> str:
    inner = ",".join(f'{k}="{_escape(str(v))}"' for k, v in pairs)
    return "{" + inner + "}" if inner else ""


def _number(v: float) -> str:
    if v == float("inf"):
        return "+Inf"
    return repr(float(v)) if isinstance(v, float) and not float(v).is_integer() else str(int(v))


class Metrics:
    """Thread-safe counters; `render(gauges)` gives the exposition text."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: Counter[tuple[str, str, str]] = Counter()
        self.errors: Counter[tuple[str, str]] = Counter()
        self._buckets: dict[str, list[int]] = {}
        self._sum: dict[str, float] = {}
        self._count: Counter[str] = Counter()
        self.stream_chunks = 0
        self.stream_predictions = 0

    def observe(
        self, endpoint: str, method: str, status: int, seconds: float, error: str | None = None
    ) -> None:
        with self._lock:
            self.requests[(endpoint, method, str(status))] += 1
            if error:
                self.errors[(endpoint, error)] += 1
            counts = self._buckets.setdefault(endpoint, [0] * len(LATENCY_BUCKETS_S))
            for i, edge in enumerate(LATENCY_BUCKETS_S):
                if seconds <= edge:
                    counts[i] += 1
            self._sum[endpoint] = self._sum.get(endpoint, 0.0) + seconds
            self._count[endpoint] += 1

    def error(self, endpoint: str, code: str) -> None:
        with self._lock:
            self.errors[(endpoint, code)] += 1

    def stream(self, chunks: int = 0, predictions: int = 0) -> None:
        with self._lock:
            self.stream_chunks += chunks
            self.stream_predictions += predictions

    def render(self, gauges: dict[str, tuple[str, Callable[[], float]]]) -> str:
        lines: list[str] = []

        def family(name: str, kind: str, help_: str) -> None:
            lines.append(f"# HELP {name} {help_}")
            lines.append(f"# TYPE {name} {kind}")

        with self._lock:
            family(
                "edgeser_http_requests_total",
                "counter",
                "HTTP requests answered, by endpoint, method and status.",
            )
            for (ep, method, status), n in sorted(self.requests.items()):
                labels = _labels([("endpoint", ep), ("method", method), ("status", status)])
                lines.append(f"edgeser_http_requests_total{labels} {n}")
            family(
                "edgeser_errors_total",
                "counter",
                "Requests and streams answered with an error, by endpoint and error code.",
            )
            for (ep, code), n in sorted(self.errors.items()):
                lines.append(
                    f"edgeser_errors_total{_labels([('endpoint', ep), ('code', code)])} {n}"
                )
            family(
                "edgeser_http_request_duration_seconds",
                "histogram",
                "Time from request headers to the end of the response, by endpoint.",
            )
            for ep in sorted(self._buckets):
                for edge, n in zip(LATENCY_BUCKETS_S, self._buckets[ep]):
                    labels = _labels([("endpoint", ep), ("le", _number(edge))])
                    lines.append(f"edgeser_http_request_duration_seconds_bucket{labels} {n}")
                inf = _labels([("endpoint", ep), ("le", "+Inf")])
                lines.append(f"edgeser_http_request_duration_seconds_bucket{inf} {self._count[ep]}")
                ep_label = _labels([("endpoint", ep)])
                lines.append(
                    f"edgeser_http_request_duration_seconds_sum{ep_label} {self._sum[ep]!r}"
                )
                lines.append(
                    f"edgeser_http_request_duration_seconds_count{ep_label} {self._count[ep]}"
                )
            family("edgeser_stream_chunks_total", "counter", "Audio chunks received over streams.")
            lines.append(f"edgeser_stream_chunks_total {self.stream_chunks}")
            family(
                "edgeser_stream_predictions_total",
                "counter",
                "Window predictions sent over streams.",
            )
            lines.append(f"edgeser_stream_predictions_total {self.stream_predictions}")
        for name, (help_, read) in gauges.items():
            family(name, "gauge", help_)
            lines.append(f"{name} {_number(read())}")
        return "\n".join(lines) + "\n"
