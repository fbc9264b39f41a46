"""``convlab serve``: a local HTTP endpoint with the SageMaker container contract.

``GET /ping`` answers 200 once the model is loaded (503 before). ``POST /invocations``
takes what :mod:`convlab.deploy.contract` accepts and answers its JSON; ``?top_k=K`` or
the header ``X-Amzn-SageMaker-Custom-Attributes: top_k=K`` sets ``k``. Every error is JSON
``{"error": "..."}``: 400 bad input, 404 unknown path, 405 wrong method, 408 a body that
stalls, 411 no Content-Length, 413 body over the limit, 415 unsupported content type, 503
model still loading, 500 a server bug; the server keeps serving after each.

Requests run on a pool of ``workers`` threads, one request per connection (the server
closes it after answering, so an idle client never holds a worker). Model calls are
serialised by a lock; on a CPU, TensorFlow already spreads one call over the cores.
"""

from __future__ import annotations

import errno
import http.server
import json
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qs

import numpy as np

from convlab import __version__
from convlab.deploy.contract import (
    CUSTOM_ATTRIBUTES_HEADER,
    Contract,
    InputError,
    custom_attribute,
    parse_top_k,
)
from convlab.deploy.export import ExportedModel, read_export
from convlab.errors import ConvlabError

if TYPE_CHECKING:
    import keras

__all__ = ["DEFAULT_MAX_BODY_BYTES", "InferenceServer", "Predictor", "running_server", "serve"]

# SageMaker's own limit for a real-time invocation payload is 6 MB.
DEFAULT_MAX_BODY_BYTES = 6 * 1024 * 1024
DEFAULT_WORKERS = 8
# A body over the limit is read and discarded up to this size before the 413 goes out, so
# the client sees the answer instead of a connection reset; beyond it the server hangs up.
_DRAIN_LIMIT = 64 * 1024 * 1024
_ROUTES = {"/ping": ("GET",), "/invocations": ("POST",)}


class Predictor:
    """A model and its contract; :meth:`predict` may be called from many threads."""

    def __init__(self, model: keras.Model, contract: Contract) -> None:
        self.model = model
        self.contract = contract
        self._lock = threading.Lock()
        # The first call traces the predict function; do it now, so that /ping's 200
        # means the first request is as fast as the rest.
        self.predict(np.zeros((1, *contract.input_shape), np.float32))

    @classmethod
    def from_export(cls, exported: ExportedModel | str | Path) -> Predictor:
        if not isinstance(exported, ExportedModel):
            exported = read_export(exported)
        return cls(exported.load_keras_model(), exported.contract)

    def predict(self, batch: np.ndarray) -> np.ndarray:
        """float32 ``(N, H, W, C)`` in [0, 1] -> probabilities ``(N, num_classes)``."""
        with self._lock:
            # predict_on_batch runs Keras' compiled predict function (a tf.function on the
            # TensorFlow backend): ~0.7 ms for a small CNN against ~5 ms for an eager
            # model(x) call, and no per-call setup like model.predict. Keras builds it
            # lazily and promises no thread safety, hence the lock.
            return np.asarray(self.model.predict_on_batch(batch))

    def answer(self, body: bytes, content_type: str | None, top_k: str | int | None) -> dict:
        """One request -> its JSON-ready answer, or :class:`InputError`."""
        k = parse_top_k(top_k, self.contract.num_classes)
        batch = self.contract.decode(body, content_type)
        return self.contract.encode(self.predict(batch), k)


class InferenceServer(http.server.HTTPServer):
    """The HTTP server; ``predictor`` may be set after it starts (``/ping`` is 503 till then).

    Args:
        address: ``(host, port)``; port 0 picks a free port (see :attr:`url`).
        predictor: the model to serve, or None to set it later.
        max_body_bytes: larger request bodies get 413.
        workers: requests handled at the same time; more wait in a queue.
        request_timeout: seconds a client may stall mid-request before its worker is freed.
        verbose: log every request to stderr.
    """

    def __init__(
        self,
        address: tuple[str, int],
        predictor: Predictor | None = None,
        *,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        workers: int = DEFAULT_WORKERS,
        request_timeout: float = 30.0,
        verbose: bool = False,
    ) -> None:
        if max_body_bytes < 1 or workers < 1:
            raise ConvlabError("max_body_bytes and workers must be at least 1.")
        # Before binding: a failed bind calls server_close(), which shuts the pool down.
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="convlab-serve")
        try:
            super().__init__(address, _Handler)
        except OSError as exc:
            host, port = address
            if exc.errno == errno.EADDRINUSE:
                raise ConvlabError(
                    f"Port {port} on {host} is in use. Pick another with --port, or stop the "
                    "program using it."
                ) from None
            raise ConvlabError(f"Cannot listen on {host}:{port} ({exc.strerror}).") from None
        self.predictor = predictor
        self.max_body_bytes = max_body_bytes
        self.request_timeout = request_timeout
        self.verbose = verbose

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def process_request(self, request, client_address) -> None:
        self._pool.submit(self._process, request, client_address)

    def _process(self, request, client_address) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
        finally:
            self.shutdown_request(request)

    def handle_error(self, request, client_address) -> None:
        # A client that hangs up before reading its answer is routine, not a server error.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)

    def server_close(self) -> None:
        super().server_close()
        self._pool.shutdown(wait=True, cancel_futures=True)


class _Handler(http.server.BaseHTTPRequestHandler):
    server: InferenceServer
    protocol_version = "HTTP/1.1"
    server_version = f"convlab-serve/{__version__}"

    def setup(self) -> None:
        self.timeout = self.server.request_timeout  # applied to the socket by setup()
        super().setup()

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    def _dispatch(self, method: str) -> None:
        path, _, query = self.path.partition("?")
        allowed = _ROUTES.get(path)
        if allowed is None:
            self._discard_body()
            self._send_json(
                404,
                {"error": f"No path {path!r}; this server has GET /ping and POST /invocations."},
            )
        elif method not in allowed:
            self._discard_body()
            self._send_json(
                405,
                {"error": f"{method} is not allowed on {path}; use {' or '.join(allowed)}."},
                {"Allow": ", ".join(allowed)},
            )
        elif path == "/ping":
            self._ping()
        else:
            self._invocations(parse_qs(query))

    def _ping(self) -> None:
        predictor = self.server.predictor
        if predictor is None:
            self._send_json(503, {"status": "loading", "error": "The model is still loading."})
            return
        contract = predictor.contract
        self._send_json(
            200,
            {
                "status": "ready",
                "input_shape": list(contract.input_shape),
                "class_names": list(contract.class_names),
            },
        )

    def _invocations(self, query: dict[str, list[str]]) -> None:
        predictor = self.server.predictor
        try:
            body = self._read_body()
            if predictor is None:
                self._send_json(503, {"error": "The model is still loading; retry after /ping."})
                return
            top_k = query.get("top_k", [None])[-1]
            if top_k is None:
                top_k = custom_attribute(self.headers.get(CUSTOM_ATTRIBUTES_HEADER), "top_k")
            answer = predictor.answer(body, self.headers.get("Content-Type"), top_k)
        except InputError as exc:
            self._send_json(exc.status, {"error": str(exc)})
            return
        except TimeoutError:
            self._send_json(408, {"error": f"The body did not arrive within {self.timeout} s."})
            return
        except Exception as exc:  # a bug, not bad input: say so and keep serving
            traceback.print_exc(file=sys.stderr)
            self._send_json(500, {"error": f"Internal server error ({type(exc).__name__}: {exc})."})
            return
        self._send_json(200, answer)

    def _content_length(self) -> int:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            raise InputError("Chunked bodies are not supported; send a Content-Length.", 411)
        value = self.headers.get("Content-Length")
        if value is None:
            raise InputError("The request has no Content-Length header; send one.", 411)
        try:
            length = int(value)
        except ValueError:
            length = -1
        if length < 0:
            raise InputError(f"Invalid Content-Length {value!r}.")
        if length > self.server.max_body_bytes:
            raise InputError(
                f"The body is {length} bytes; this server takes at most "
                f"{self.server.max_body_bytes} (--max-body-bytes). Send a smaller image or "
                "fewer instances per request.",
                413,
            )
        return length

    def _read_body(self) -> bytes:
        try:
            length = self._content_length()
        except InputError as exc:
            if exc.status == 413:
                self._discard_body()
            raise
        body = self.rfile.read(length)
        if len(body) < length:
            raise InputError(f"The body ended after {len(body)} of {length} bytes.")
        return body

    def _discard_body(self) -> None:
        """Read and drop a body we will not use, so the client can read our answer."""
        try:
            remaining = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            return
        if remaining > _DRAIN_LIMIT:
            return
        while remaining > 0:
            chunk = self.rfile.read(min(remaining, 1 << 16))
            if not chunk:
                break
            remaining -= len(chunk)

    def handle_expect_100(self) -> bool:
        # Refuse an oversized body before the client sends it.
        try:
            self._content_length()
        except InputError as exc:
            self._send_json(exc.status, {"error": str(exc)})
            return False
        return super().handle_expect_100()

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        # http.server's own errors (malformed request line, unknown method) as JSON too.
        # Before the request line parses it assumes HTTP/0.9, which has no status line or
        # headers; nobody speaks 0.9 today, so answer as HTTP/1.x.
        if self.request_version == "HTTP/0.9":
            self.request_version = "HTTP/1.0"
        default = self.responses.get(code, ("Error",))[0]
        self._send_json(code, {"error": message or explain or default})

    def _send_json(self, status: int, document: dict, headers: dict | None = None) -> None:
        body = json.dumps(document).encode("utf-8")
        self.close_connection = True
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, format: str, *args) -> None:
        if self.server.verbose:
            super().log_message(format, *args)


def _log(message: str) -> None:
    print(f"convlab serve: {message}", file=sys.stderr, flush=True)


@contextmanager
def running_server(
    model: ExportedModel | Predictor | str | Path,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    **options,
) -> Iterator[InferenceServer]:
    """Serve in a background thread for the duration of a ``with`` block.

    Example:
        >>> with running_server("exports/cnn") as server:  # doctest: +SKIP
        ...     print(server.url)  # http://127.0.0.1:PORT, a free port
    """
    predictor = model if isinstance(model, Predictor) else Predictor.from_export(model)
    server = InferenceServer((host, port), predictor, **options)
    thread = threading.Thread(target=server.serve_forever, name="convlab-serve", daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def serve(
    model_dir: str | Path,
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    workers: int = DEFAULT_WORKERS,
    verbose: bool = False,
    log: Callable[[str], None] = _log,
) -> None:
    """Serve an export until Ctrl-C (or SIGTERM); prints a ``ready at URL`` line."""
    exported = read_export(model_dir)
    # Listen first: a taken port fails at once, and /ping says 503 while the model loads.
    server = InferenceServer(
        (host, port), max_body_bytes=max_body_bytes, workers=workers, verbose=verbose
    )
    thread = threading.Thread(target=server.serve_forever, name="convlab-serve", daemon=True)
    thread.start()
    restore = _stop_on_signals()
    try:
        log(f"loading {exported.keras_path}")
        server.predictor = Predictor.from_export(exported)
        h, w, c = exported.input_shape
        log(
            f"ready at {server.url} (POST {server.url}/invocations, GET {server.url}/ping; "
            f"input {h}x{w}x{c}, {len(exported.class_names)} classes). Press Ctrl-C to stop."
        )
        while thread.is_alive():
            thread.join(timeout=0.5)
    except KeyboardInterrupt:
        pass
    finally:
        restore()
        server.shutdown()
        server.server_close()
        log("stopped")


def _stop_on_signals() -> Callable[[], None]:
    """Make Ctrl-C (SIGINT) and SIGTERM stop the server; returns a function undoing that.

    SIGINT is set explicitly because a shell starts background jobs with it ignored, and
    Python then leaves it ignored.
    """
    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGINT, signal.SIGTERM)}

    def restore() -> None:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

    return restore
