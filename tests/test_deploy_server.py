"""``convlab serve``'s server over real HTTP on a free loopback port: answers, errors, load."""

from __future__ import annotations

import http.client
import io
import json
import socket
import threading
from urllib.parse import urlsplit

import keras
import numpy as np
import pytest
from PIL import Image

from convlab.deploy import InferenceServer, Predictor, export_model, running_server
from convlab.errors import ConvlabError

NAMES = tuple(f"item{i}" for i in range(10))
MAX_BODY = 100_000


def tiny_model() -> keras.Model:
    keras.utils.set_random_seed(0)
    return keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            keras.layers.Conv2D(4, 3, activation="relu"),
            keras.layers.Flatten(),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )


@pytest.fixture(scope="module")
def model():
    return tiny_model()


@pytest.fixture(scope="module")
def predictor(model, tmp_path_factory):
    exported = export_model(model, tmp_path_factory.mktemp("export"), class_names=NAMES)
    return Predictor.from_export(exported)


@pytest.fixture(scope="module")
def server(predictor):
    with running_server(predictor, max_body_bytes=MAX_BODY, workers=4) as server:
        yield server


def call(url, method="POST", path="/invocations", body=None, headers=None):
    """One HTTP request -> (status, parsed JSON body, response headers)."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, json.loads(response.read()), dict(response.getheaders())
    finally:
        connection.close()


def post_json(url, document, path="/invocations", **headers):
    body = json.dumps(document).encode() if not isinstance(document, bytes) else document
    return call(url, body=body, path=path, headers={"Content-Type": "application/json", **headers})


def raw(url, data: bytes, hold: bool = False) -> tuple[int, dict]:
    """Send raw bytes on a socket; parse the status line and JSON body of the answer.

    The sending side is shut down after ``data`` unless ``hold``: a stalled client.
    """
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
        sock.sendall(data)
        if not hold:
            sock.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body)


def pixels(n, seed=0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(n, 28, 28), dtype=np.uint8)


def png(image: np.ndarray, fmt="PNG") -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, fmt)
    return buffer.getvalue()


def probabilities(answer: dict) -> np.ndarray:
    return np.array([list(p["probabilities"].values()) for p in answer["predictions"]])


# ---------------------------------------------------------------- good requests


def test_ping(server):
    status, body, headers = call(server.url, "GET", "/ping")
    assert status == 200 and body["status"] == "ready"
    assert body["class_names"] == list(NAMES) and body["input_shape"] == [28, 28, 1]
    assert headers["Content-Type"] == "application/json"


def test_json_batch_is_classified_like_keras(server, model):
    x = pixels(3)
    status, answer, _ = post_json(server.url, {"instances": x.tolist()})
    assert status == 200 and len(answer["predictions"]) == 3
    expected = keras.ops.convert_to_numpy(model(x[..., None] / np.float32(255)))
    np.testing.assert_allclose(probabilities(answer), expected, atol=1e-6)
    for prediction, row in zip(answer["predictions"], expected, strict=True):
        assert prediction["class"] == NAMES[int(np.argmax(row))]
        assert prediction["probability"] == pytest.approx(row.max(), abs=1e-6)
        assert len(prediction["top_k"]) == 3


def test_every_json_convention_and_png_give_the_same_answer(server):
    x = pixels(1, seed=5)
    answers = [
        post_json(server.url, {"instances": x.tolist()}),
        post_json(server.url, {"instances": x[..., None].tolist()}),
        post_json(server.url, {"instances": (x / np.float32(255)).tolist()}),
        call(server.url, body=png(x[0]), headers={"Content-Type": "image/png"}),
    ]
    assert {status for status, _, _ in answers} == {200}
    for _, answer, _ in answers[1:]:
        np.testing.assert_allclose(probabilities(answer), probabilities(answers[0][1]), atol=1e-6)
        assert answer["predictions"][0]["class"] == answers[0][1]["predictions"][0]["class"]


def test_jpeg(server):
    status, answer, _ = call(
        server.url, body=png(pixels(1)[0], "JPEG"), headers={"Content-Type": "image/jpeg"}
    )
    assert status == 200 and answer["predictions"][0]["class"] in NAMES


def test_top_k_from_query_and_custom_attributes(server):
    body = {"instances": pixels(1).tolist()}
    _, by_query, _ = post_json(server.url, body, path="/invocations?top_k=5")
    _, by_header, _ = post_json(
        server.url, body, **{"X-Amzn-SageMaker-Custom-Attributes": "top_k=1"}
    )
    assert len(by_query["predictions"][0]["top_k"]) == 5
    assert len(by_header["predictions"][0]["top_k"]) == 1


# ---------------------------------------------------------------- bad requests


def _bad_cases():
    good = pixels(1).tolist()
    with_nan = np.array(good, dtype=float)
    with_nan[0, 5, 5] = np.nan
    nan = json.dumps({"instances": with_nan.tolist()}).encode()  # Python writes NaN
    return {
        "wrong shape": (
            json.dumps({"instances": np.zeros((1, 32, 32, 3)).tolist()}).encode(),
            "application/json",
            400,
            "28x28 or 28x28x1 image; got 32x32x3",
        ),
        "wrong dtype": (
            json.dumps({"instances": [[["x"] * 28] * 28]}).encode(),
            "application/json",
            400,
            "only numbers; found strings",
        ),
        "NaN": (nan, "application/json", 400, "NaN or infinity"),
        "out of range": (
            json.dumps({"instances": (np.array(good) + 300).tolist()}).encode(),
            "application/json",
            400,
            "[0, 1] or [0, 255]",
        ),
        "ragged": (b'{"instances": [[[1, 2], [3]]]}', "application/json", 400, "ragged"),
        "malformed JSON": (b'{"instances": [[1, 2]', "application/json", 400, "Malformed JSON"),
        "no instances": (b'{"images": []}', "application/json", 400, '{"instances"'),
        "empty body": (b"", "application/json", 400, "Empty request body"),
        "broken PNG": (b"\x89PNG\r\n\x1a\nbroken", "image/png", 400, "not a PNG image"),
        "unsupported type": (b"1,2,3", "text/csv", 415, "Unsupported Content-Type 'text/csv'"),
        "over the limit": (b"[" * (MAX_BODY + 1), "application/json", 413, f"at most {MAX_BODY}"),
    }


@pytest.mark.parametrize("case", list(_bad_cases()))
def test_bad_input_gets_a_clear_4xx_and_the_server_keeps_serving(server, case):
    body, content_type, expected_status, needle = _bad_cases()[case]
    status, answer, headers = call(server.url, body=body, headers={"Content-Type": content_type})
    assert status == expected_status
    assert set(answer) == {"error"} and needle in answer["error"]
    assert headers["Content-Type"] == "application/json"
    assert call(server.url, "GET", "/ping")[0] == 200
    assert post_json(server.url, {"instances": pixels(1).tolist()})[0] == 200


@pytest.mark.parametrize(
    ("method", "path", "status", "needle"),
    [
        ("GET", "/nowhere", 404, "No path '/nowhere'"),
        ("POST", "/predict", 404, "GET /ping and POST /invocations"),
        ("GET", "/invocations", 405, "GET is not allowed on /invocations; use POST"),
        ("POST", "/ping", 405, "use GET"),
        ("DELETE", "/invocations", 405, "DELETE is not allowed"),
    ],
)
def test_unknown_paths_and_wrong_methods(server, method, path, status, needle):
    got, answer, headers = call(server.url, method, path, body=b"{}")
    assert got == status and needle in answer["error"]
    if status == 405:
        assert headers["Allow"] in ("GET", "POST")


def test_bad_top_k(server):
    status, answer, _ = post_json(
        server.url, {"instances": pixels(1).tolist()}, path="/invocations?top_k=0"
    )
    assert status == 400 and "top_k must be an integer from 1 to 10" in answer["error"]


def test_missing_content_length_is_411(server):
    head = b"POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\r\n"
    status, answer = raw(server.url, head)
    assert status == 411 and "Content-Length" in answer["error"]


def test_oversized_body_is_refused_before_it_is_sent(server):
    head = (
        f"POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\n"
        f"Content-Length: {10 * MAX_BODY}\r\nExpect: 100-continue\r\n\r\n"
    ).encode()
    status, answer = raw(server.url, head)
    assert status == 413 and f"this server takes at most {MAX_BODY}" in answer["error"]


def test_a_stalled_body_times_out_with_408(predictor):
    head = b"POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"
    with running_server(predictor, request_timeout=0.3) as server:
        status, answer = raw(server.url, head, hold=True)
    assert status == 408 and "did not arrive within 0.3 s" in answer["error"]


def test_garbage_request_line_is_answered_in_json(server):
    status, answer = raw(server.url, b"GET /ping HTTP/one\r\n\r\n")
    assert status == 400 and "Bad request version" in answer["error"]


# ---------------------------------------------------------------- lifecycle and load


def test_ping_is_503_until_the_model_is_loaded(predictor):
    server = InferenceServer(("127.0.0.1", 0))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        status, answer, _ = call(server.url, "GET", "/ping")
        assert status == 503 and answer["status"] == "loading"
        status, answer, _ = post_json(server.url, {"instances": pixels(1).tolist()})
        assert status == 503 and "still loading" in answer["error"]
        server.predictor = predictor
        assert call(server.url, "GET", "/ping")[0] == 200
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def test_a_taken_port_is_a_clear_error(server):
    port = urlsplit(server.url).port
    with pytest.raises(ConvlabError, match=f"Port {port} on 127.0.0.1 is in use"):
        InferenceServer(("127.0.0.1", port))


def test_concurrent_clients_get_consistent_answers(predictor):
    """8 clients x 50 requests on 3 workers: no errors, each answer as when sent alone."""
    x = pixels(8, seed=9)
    payloads = [
        (json.dumps({"instances": x[i : i + 2].tolist()}).encode(), "application/json")
        for i in range(0, 8, 2)
    ] + [(png(x[i]), "image/png") for i in range(4)]
    with running_server(predictor, workers=3) as server:
        expected = []
        for body, content_type in payloads:
            status, answer, _ = call(server.url, body=body, headers={"Content-Type": content_type})
            assert status == 200
            expected.append(answer)
        failures: list[str] = []

        def client(seed: int) -> None:
            for n in range(50):
                i = (seed + n) % len(payloads)
                body, content_type = payloads[i]
                try:
                    status, answer, _ = call(
                        server.url, body=body, headers={"Content-Type": content_type}
                    )
                    assert status == 200, answer
                    np.testing.assert_allclose(
                        probabilities(answer), probabilities(expected[i]), atol=1e-6
                    )
                    classes = [p["class"] for p in answer["predictions"]]
                    assert classes == [p["class"] for p in expected[i]["predictions"]]
                except Exception as exc:  # collected: an assert in a thread would be lost
                    failures.append(f"client {seed} request {n}: {exc!r}")

        threads = [threading.Thread(target=client, args=(seed,)) for seed in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert not any(thread.is_alive() for thread in threads)
    assert failures == []
