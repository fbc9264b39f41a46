"""Send the same payloads to ``convlab serve`` and to a SageMaker endpoint.

Example:
    >>> body, ctype = payload_from_file("shoe.png")  # doctest: +SKIP
    >>> predict_local("http://127.0.0.1:8080", body, ctype)["predictions"][0]["class"]
    'Sneaker'
    >>> predict_sagemaker("convlab-cnn", body, ctype, region="eu-west-1")  # same answer
"""

from __future__ import annotations

import http.client
import json
import os
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np

from convlab.deploy.contract import CUSTOM_ATTRIBUTES_HEADER, JSON_TYPE
from convlab.errors import ConvlabError

__all__ = [
    "ServingError",
    "encode_payload",
    "payload_from_file",
    "predict_local",
    "predict_sagemaker",
]

_SUFFIX_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".json": JSON_TYPE,
}
Payload = bytes | str | dict | list | np.ndarray


class ServingError(ConvlabError):
    """The endpoint refused a request or could not be reached; ``status`` is its HTTP status."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def payload_from_file(path: str | os.PathLike) -> tuple[bytes, str]:
    """A ``.png``, ``.jpg``/``.jpeg`` or ``.json`` file -> (body, content type)."""
    path = Path(path)
    content_type = _SUFFIX_TYPES.get(path.suffix.lower())
    if content_type is None:
        raise ConvlabError(
            f"{path}: cannot tell its content type from the suffix {path.suffix!r}; use a "
            f"file ending in {', '.join(_SUFFIX_TYPES)}."
        )
    try:
        return path.read_bytes(), content_type
    except OSError as exc:
        raise ConvlabError(f"{path}: cannot be read ({exc.strerror}).") from None


def encode_payload(payload: Payload, content_type: str | None = None) -> tuple[bytes, str]:
    """A payload -> (body bytes, content type).

    Bytes and strings go as they are (type: ``content_type``, else sniffed: PNG, JPEG or
    JSON). A dict goes as JSON. A list or array is a batch of images and goes as
    ``{"instances": ...}``.
    """
    if isinstance(payload, np.ndarray | list):
        payload = {"instances": np.asarray(payload).tolist()}
    if isinstance(payload, dict):
        return json.dumps(payload).encode("utf-8"), content_type or JSON_TYPE
    if isinstance(payload, str):
        return payload.encode("utf-8"), content_type or JSON_TYPE
    if isinstance(payload, bytes | bytearray):
        return bytes(payload), content_type or _sniff(payload)
    raise TypeError(f"Cannot send a {type(payload).__name__}; send bytes, str, dict or arrays.")


def _sniff(body: bytes) -> str:
    if body.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if body.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    return JSON_TYPE


def _top_k_header(top_k: int | None) -> dict[str, str]:
    return {} if top_k is None else {CUSTOM_ATTRIBUTES_HEADER: f"top_k={int(top_k)}"}


def predict_local(
    url: str,
    payload: Payload,
    content_type: str | None = None,
    *,
    top_k: int | None = None,
    timeout: float = 60.0,
) -> dict:
    """POST a payload to a ``convlab serve`` endpoint; return its JSON answer.

    Args:
        url: the server (``http://127.0.0.1:8080``) or its ``/invocations`` URL.
        payload: see :func:`encode_payload`.
        content_type: the body's type; sniffed or JSON when None.
        top_k: how many best classes to list (sent as the SageMaker custom attribute
            ``top_k=K``, as :func:`predict_sagemaker` does).
        timeout: seconds to wait for the server.

    Raises:
        ServingError: the server answered an error (its message included) or is unreachable.
    """
    body, content_type = encode_payload(payload, content_type)
    parts = urlsplit(url if "://" in url else f"http://{url}")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConvlabError(f"{url!r} is not an http:// URL like http://127.0.0.1:8080.")
    path = parts.path.rstrip("/")
    if not path.endswith("/invocations"):
        path += "/invocations"
    connection_type = (
        http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    )
    connection = connection_type(parts.hostname, parts.port, timeout=timeout)
    headers = {"Content-Type": content_type, "Accept": JSON_TYPE, **_top_k_header(top_k)}
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        status, text = response.status, response.read().decode("utf-8", "replace")
    except (OSError, http.client.HTTPException) as exc:
        raise ServingError(
            f"Cannot reach {parts.scheme}://{parts.netloc} ({exc}). Is `convlab serve` running "
            "there?"
        ) from None
    finally:
        connection.close()
    return _parse_answer(text, status, f"{parts.netloc}{path}")


def _parse_answer(text: str, status: int, where: str) -> dict:
    try:
        document = json.loads(text)
    except json.JSONDecodeError:
        document = None
    if status != 200:
        message = document.get("error") if isinstance(document, dict) else None
        raise ServingError(f"{where} answered {status}: {message or text.strip()}", status)
    if not isinstance(document, dict) or "predictions" not in document:
        raise ServingError(f"{where} answered something that is not a prediction: {text[:200]}")
    return document


def predict_sagemaker(
    endpoint_name: str,
    payload: Payload,
    content_type: str | None = None,
    region: str | None = None,
    *,
    top_k: int | None = None,
) -> dict:
    """Invoke a SageMaker endpoint serving a convlab ``model.tar.gz``; same payloads and answer.

    Needs ``boto3`` (not a convlab dependency: ``pip install boto3``) and AWS credentials
    allowed to ``sagemaker:InvokeEndpoint``. A refused request raises :class:`ServingError`
    with the endpoint's message (the container reports bad input as status 500).
    """
    try:
        import boto3
    except ImportError:
        raise ConvlabError(
            "predict_sagemaker needs boto3, which convlab does not install. Run "
            "`pip install boto3` and configure AWS credentials (`aws configure`)."
        ) from None
    body, content_type = encode_payload(payload, content_type)
    runtime = boto3.client("sagemaker-runtime", region_name=region)
    request = {
        "EndpointName": endpoint_name,
        "ContentType": content_type,
        "Accept": JSON_TYPE,
        "Body": body,
    }
    if top_k is not None:
        request["CustomAttributes"] = f"top_k={int(top_k)}"
    try:
        response = runtime.invoke_endpoint(**request)
    except Exception as exc:  # botocore's ClientError, ModelError, credential errors...
        raise ServingError(f"SageMaker endpoint {endpoint_name!r}: {exc}") from exc
    text = response["Body"].read().decode("utf-8", "replace")
    return _parse_answer(text, 200, f"SageMaker endpoint {endpoint_name!r}")
