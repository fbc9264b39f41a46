"""The Python client against a real local server, and its SageMaker path with a stand-in boto3."""

from __future__ import annotations

import http.client
import io
import json
import socket
import sys
import types
from urllib.parse import urlsplit

import keras
import numpy as np
import pytest
from PIL import Image

from convlab.deploy import (
    Predictor,
    ServingError,
    encode_payload,
    export_model,
    payload_from_file,
    predict_local,
    predict_sagemaker,
    running_server,
)
from convlab.errors import ConvlabError

NAMES = tuple("abcdefghij")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            keras.layers.Conv2D(4, 3),
            keras.layers.Flatten(),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    exported = export_model(model, tmp_path_factory.mktemp("export"), class_names=NAMES)
    with running_server(Predictor.from_export(exported)) as server:
        yield server


def _pixels(n=2) -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, size=(n, 28, 28), dtype=np.uint8)


def _png(image: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, "PNG")
    return buffer.getvalue()


def test_predict_local_with_arrays_bytes_and_files(server, tmp_path):
    x = _pixels()
    from_array = predict_local(server.url, x)
    assert len(from_array["predictions"]) == 2
    (tmp_path / "one.png").write_bytes(_png(x[0]))
    from_file = predict_local(server.url + "/invocations", *payload_from_file(tmp_path / "one.png"))
    from_bytes = predict_local(server.url.removeprefix("http://"), _png(x[0]), top_k=5)
    assert from_file["predictions"][0]["class"] == from_array["predictions"][0]["class"]
    assert from_bytes["predictions"][0]["class"] == from_array["predictions"][0]["class"]
    assert len(from_bytes["predictions"][0]["top_k"]) == 5


def test_predict_local_raises_the_servers_message(server):
    with pytest.raises(ServingError, match="answered 415: Unsupported Content-Type") as info:
        predict_local(server.url, b"1,2", "text/csv")
    assert info.value.status == 415
    with pytest.raises(ServingError, match="answered 400: .*top_k"):
        predict_local(server.url, _pixels(), top_k=99)


def test_predict_local_says_when_nothing_listens():
    with socket.socket() as sock:  # a port that was free a moment ago and is closed now
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(ServingError, match="Cannot reach http://127.0.0.1.*convlab serve"):
        predict_local(f"http://127.0.0.1:{port}", _pixels(), timeout=5)
    with pytest.raises(ConvlabError, match="not an http:// URL"):
        predict_local("ftp://127.0.0.1/", _pixels())


def test_encode_payload():
    png = _png(_pixels()[0])
    assert encode_payload(png) == (png, "image/png")
    assert encode_payload(b"\xff\xd8\xff\xe0rest")[1] == "image/jpeg"
    assert encode_payload(b'{"instances": []}')[1] == "application/json"
    assert encode_payload(png, "application/x-image") == (png, "application/x-image")
    body, content_type = encode_payload(np.zeros((1, 2, 2), np.uint8))
    assert json.loads(body) == {"instances": [[[0, 0], [0, 0]]]}
    assert content_type == "application/json"
    assert json.loads(encode_payload({"instances": [1]})[0]) == {"instances": [1]}
    with pytest.raises(TypeError, match="Cannot send a float"):
        encode_payload(1.5)


def test_payload_from_file_refuses_unknown_suffixes(tmp_path):
    (tmp_path / "x.bmp").write_bytes(b"BM")
    with pytest.raises(ConvlabError, match="suffix '.bmp'"):
        payload_from_file(tmp_path / "x.bmp")
    with pytest.raises(ConvlabError, match="cannot be read"):
        payload_from_file(tmp_path / "missing.png")


# ---------------------------------------------------------------- SageMaker path


class _Endpoint:
    """A stand-in for boto3's sagemaker-runtime client whose 'endpoint' is the local server.

    Like the SageMaker container it answers refused requests as errors (boto3 raises
    ModelError); the answer body is passed through unchanged.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.calls: list[dict] = []

    def invoke_endpoint(self, **request) -> dict:
        self.calls.append(request)
        headers = {"Content-Type": request["ContentType"], "Accept": request["Accept"]}
        if "CustomAttributes" in request:
            headers["X-Amzn-SageMaker-Custom-Attributes"] = request["CustomAttributes"]
        parts = urlsplit(self.url)
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        connection.request("POST", "/invocations", body=request["Body"], headers=headers)
        response = connection.getresponse()
        body = response.read()
        connection.close()
        if response.status != 200:
            raise RuntimeError(f"An error occurred (ModelError): {body.decode()}")
        return {"Body": io.BytesIO(body), "ContentType": "application/json"}


@pytest.fixture
def fake_boto3(monkeypatch, server):
    endpoint = _Endpoint(server.url)
    clients = []

    def client(service, region_name=None):
        clients.append((service, region_name))
        return endpoint

    monkeypatch.setitem(sys.modules, "boto3", types.SimpleNamespace(client=client))
    return endpoint, clients


def test_predict_sagemaker_sends_the_same_payload_and_reads_the_same_answer(server, fake_boto3):
    endpoint, clients = fake_boto3
    png = _png(_pixels()[0])
    answer = predict_sagemaker("convlab-cnn", png, region="eu-west-1", top_k=4)
    assert clients == [("sagemaker-runtime", "eu-west-1")]
    (call,) = endpoint.calls
    assert call == {
        "EndpointName": "convlab-cnn",
        "ContentType": "image/png",
        "Accept": "application/json",
        "Body": png,
        "CustomAttributes": "top_k=4",
    }
    assert answer == predict_local(server.url, png, top_k=4)


def test_predict_sagemaker_wraps_endpoint_errors(fake_boto3):
    with pytest.raises(ServingError, match="SageMaker endpoint 'ep': .*ModelError.*Unsupported"):
        predict_sagemaker("ep", b"1,2", "text/csv")


def test_predict_sagemaker_without_boto3_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "boto3", None)  # makes `import boto3` fail
    with pytest.raises(ConvlabError, match="pip install boto3"):
        predict_sagemaker("ep", b"{}")
