"""Prometheus metrics of the web process.

With several granian workers each process has its own registry; set PROMETHEUS_MULTIPROC_DIR to a
shared directory to aggregate them (prometheus-client's multiprocess mode), as docs/operations.md says.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

REQUESTS = Counter("selfcare_http_requests_total", "HTTP requests served", ["method", "route", "status"])
LATENCY = Histogram(
    "selfcare_http_request_duration_seconds",
    "Time spent serving a request",
    ["route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
