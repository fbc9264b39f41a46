"""convlab.deploy.latency over real HTTP: a counting stub server, and convlab's own server."""

from __future__ import annotations

import http.server
import socket
import threading
import time

import numpy as np
import pytest

from convlab.deploy import latency
from convlab.deploy.latency import LatencyReport, measure_latency, time_request
from convlab.errors import ConvlabError


class _Stub(http.server.ThreadingHTTPServer):
    """Answers POST /invocations; every ``fail_every``-th request gets 500. Records what
    arrived and the most requests it was handling at once."""

    daemon_threads = True

    def __init__(self, fail_every: int = 0, delay: float = 0.0) -> None:
        super().__init__(("127.0.0.1", 0), _StubHandler)
        self.fail_every, self.delay = fail_every, delay
        self.seen: list[tuple[str, str, bytes]] = []
        self.in_flight = self.peak = 0
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _StubHandler(http.server.BaseHTTPRequestHandler):
    server: _Stub

    def do_POST(self) -> None:
        stub = self.server
        with stub.lock:
            stub.in_flight += 1
            stub.peak = max(stub.peak, stub.in_flight)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        time.sleep(stub.delay)
        with stub.lock:
            stub.in_flight -= 1
            stub.seen.append((self.path, self.headers["Content-Type"], body))
            n = len(stub.seen)
        status = 500 if stub.fail_every and n % stub.fail_every == 0 else 200
        self.send_response(status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def stub_factory():
    servers = []

    def start(**kwargs) -> _Stub:
        server = _Stub(**kwargs)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_every_request_arrives_as_sent_and_is_counted(stub_factory):
    stub = stub_factory()
    report = measure_latency(stub.url, b"abc", "image/png", requests=7, clients=3, warmup=2)
    assert len(stub.seen) == 2 + 7
    assert set(stub.seen) == {("/invocations", "image/png", b"abc")}
    assert (report.clients, report.requests, report.errors) == (3, 7, 0)
    assert 0 < report.p50_ms <= report.p99_ms
    assert report.requests_per_s == pytest.approx(7 / report.wall_time_s)


def test_answers_other_than_200_are_errors(stub_factory):
    stub = stub_factory(fail_every=3)
    report = measure_latency(stub.url, b"{}", "application/json", requests=12, warmup=0)
    assert report.errors == 4


def test_clients_send_at_the_same_time(stub_factory):
    stub = stub_factory(delay=0.02)
    measure_latency(stub.url, b"x", "image/png", requests=12, clients=4, warmup=0)
    assert stub.peak >= 2


def test_a_url_with_the_path_already_is_not_doubled(stub_factory):
    stub = stub_factory()
    seconds, status = time_request(f"{stub.url}/invocations/", b"x", "image/png")
    assert status == 200 and seconds > 0
    assert stub.seen[-1][0] == "/invocations"


def test_an_unreachable_server_counts_as_errors_not_an_exception():
    with socket.socket() as sock:  # a port that was free a moment ago and has no listener
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    assert time_request(url, b"x", "image/png", timeout=5)[1] is None
    report = measure_latency(url, b"x", "image/png", requests=3, warmup=0, timeout=5)
    assert (report.requests, report.errors) == (3, 3)


def test_percentiles_and_rate_are_computed_from_the_latencies(monkeypatch):
    seconds = iter(np.linspace(0.001, 0.1, 100))
    monkeypatch.setattr(latency, "_timed", lambda *args: (next(seconds), 200))
    report = measure_latency("http://127.0.0.1:1", b"x", "image/png", requests=100, warmup=0)
    ms = np.linspace(1, 100, 100)
    assert report.p50_ms == pytest.approx(np.percentile(ms, 50))
    assert report.p99_ms == pytest.approx(np.percentile(ms, 99))
    assert report.mean_ms == pytest.approx(ms.mean())
    assert set(report.as_dict()) == {f.name for f in LatencyReport.__dataclass_fields__.values()}


@pytest.mark.parametrize(
    ("url", "kwargs", "needle"),
    [
        ("http://127.0.0.1:1", {"requests": 0}, "at least 1"),
        ("http://127.0.0.1:1", {"clients": 0}, "at least 1"),
        ("http://127.0.0.1:1", {"warmup": -1}, "at least 0"),
        ("ftp://127.0.0.1:1", {}, "http://"),
        ("https://127.0.0.1:1", {}, "http://"),
    ],
)
def test_bad_arguments_are_refused(url, kwargs, needle):
    with pytest.raises(ConvlabError, match=None) as info:
        measure_latency(url, b"x", "image/png", **kwargs)
    assert needle in str(info.value)


def test_against_convlab_serve_with_a_real_png():
    import keras

    from convlab.deploy import Contract, Predictor, running_server
    from convlab.deploy.images import encode_image

    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            keras.layers.Conv2D(2, 3, activation="relu"),
            keras.layers.Flatten(),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    predictor = Predictor(model, Contract((28, 28, 1), tuple(f"c{i}" for i in range(10))))
    body = encode_image(np.zeros((28, 28), np.uint8))
    with running_server(predictor, workers=2) as server:
        report = measure_latency(server.url, body, "image/png", requests=20, clients=2, warmup=2)
        bad = time_request(server.url, b"not json", "text/plain")[1]
    assert (report.requests, report.errors) == (20, 0)
    assert bad == 415
