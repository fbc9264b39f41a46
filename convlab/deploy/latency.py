"""Client-side latency and throughput of a running endpoint, over real HTTP.

Each request opens a connection, posts one body to ``/invocations`` and reads the whole
answer; its latency runs from before the connect to the last byte, as a client sees it.
After a warm-up, ``requests`` requests are spread over ``clients`` threads that each send
theirs one after another; the report gives the 50th and 99th percentile latency and the
throughput (requests / wall time of the measured phase).

The clients run in the calling process. Against :func:`convlab.deploy.running_server`,
whose server runs in the same process, they share its interpreter lock; run the server
in its own process (``convlab serve``, as ``benchmarks/serve_latency.py`` does) to time
the server alone.

Example:
    >>> report = measure_latency("http://127.0.0.1:8080", body, "image/png")  # doctest: +SKIP
    >>> report.p50_ms, report.p99_ms, report.requests_per_s  # doctest: +SKIP
"""

from __future__ import annotations

import http.client
import threading
import time
from dataclasses import asdict, dataclass
from urllib.parse import urlsplit

import numpy as np

from convlab.errors import ConvlabError

__all__ = ["LatencyReport", "measure_latency", "time_request"]


@dataclass(frozen=True)
class LatencyReport:
    """What :func:`measure_latency` measured.

    Attributes:
        clients: threads sending requests at the same time.
        requests: requests measured (warm-up excluded).
        errors: measured requests that did not get a 200 answer.
        p50_ms: median latency, milliseconds.
        p99_ms: 99th percentile latency, milliseconds (linear interpolation).
        mean_ms: mean latency, milliseconds.
        requests_per_s: requests / wall time of the measured phase.
        wall_time_s: wall time of the measured phase, seconds.
    """

    clients: int
    requests: int
    errors: int
    p50_ms: float
    p99_ms: float
    mean_ms: float
    requests_per_s: float
    wall_time_s: float

    def as_dict(self) -> dict:
        return asdict(self)


def _address(url: str) -> tuple[str, int, str]:
    """``http://host:port[/path]`` -> (host, port, the ``/invocations`` path)."""
    parts = urlsplit(url if "://" in url else f"http://{url}")
    if parts.scheme != "http" or not parts.hostname:
        raise ConvlabError(f"{url!r} is not an http:// URL like http://127.0.0.1:8080.")
    path = parts.path.rstrip("/")
    if not path.endswith("/invocations"):
        path += "/invocations"
    return parts.hostname, parts.port or 80, path


def time_request(
    url: str, body: bytes, content_type: str, timeout: float = 60.0
) -> tuple[float, int | None]:
    """POST one body to ``url``'s ``/invocations``; return (seconds, HTTP status).

    The status is None when the server could not be reached or hung up.
    """
    host, port, path = _address(url)
    return _timed(host, port, path, body, content_type, timeout)


def _timed(host, port, path, body, content_type, timeout) -> tuple[float, int | None]:
    start = time.perf_counter()
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        connection.request("POST", path, body=body, headers={"Content-Type": content_type})
        response = connection.getresponse()
        response.read()
        status = response.status
    except (OSError, http.client.HTTPException):
        status = None
    finally:
        connection.close()
    return time.perf_counter() - start, status


def measure_latency(
    url: str,
    body: bytes,
    content_type: str,
    *,
    requests: int = 100,
    clients: int = 1,
    warmup: int = 20,
    timeout: float = 60.0,
) -> LatencyReport:
    """Send ``requests`` copies of one body, spread over ``clients`` threads; time them.

    Args:
        url: the server, e.g. ``http://127.0.0.1:8080`` (``/invocations`` is added).
        body: the request body, e.g. a PNG from :func:`convlab.deploy.images.encode_image`.
        content_type: its Content-Type, e.g. ``image/png``.
        requests: how many requests to measure; client ``i`` sends
            ``requests // clients`` of them, the first ``requests % clients`` one more.
        clients: how many threads send at the same time.
        warmup: requests sent (one at a time) and not measured before the clock starts:
            connections, caches and the model's first calls.
        timeout: seconds a request may take before it counts as an error.

    Raises:
        ConvlabError: ``requests`` or ``clients`` below 1, or ``url`` not http://.
    """
    if requests < 1 or clients < 1 or warmup < 0:
        raise ConvlabError(
            f"requests and clients must be at least 1 and warmup at least 0; got "
            f"requests={requests}, clients={clients}, warmup={warmup}."
        )
    host, port, path = _address(url)
    for _ in range(warmup):
        _timed(host, port, path, body, content_type, timeout)
    shares = [requests // clients + (i < requests % clients) for i in range(clients)]
    results: list[tuple[float, int | None]] = []
    lock = threading.Lock()

    def client(share: int) -> None:
        mine = [_timed(host, port, path, body, content_type, timeout) for _ in range(share)]
        with lock:
            results.extend(mine)

    threads = [threading.Thread(target=client, args=(share,)) for share in shares if share]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - start
    ms = np.array([seconds for seconds, _ in results]) * 1e3
    return LatencyReport(
        clients=clients,
        requests=len(results),
        errors=sum(status != 200 for _, status in results),
        p50_ms=float(np.percentile(ms, 50)),
        p99_ms=float(np.percentile(ms, 99)),
        mean_ms=float(ms.mean()),
        requests_per_s=len(results) / wall,
        wall_time_s=wall,
    )
