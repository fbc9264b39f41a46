"""The serving contract: what ``POST /invocations`` accepts and what it answers.

One file, two uses. ``convlab serve`` imports it to decode requests and encode answers,
and :func:`convlab.deploy.export.export_model` ships this very file as
``code/inference.py`` in ``model.tar.gz``, with ``CONTRACT`` filled in, for the SageMaker
TensorFlow Serving container (which calls ``input_handler`` and ``output_handler``). So
it imports only the standard library, NumPy and, for images, Pillow.

Requests (``Content-Type``; parameters such as ``; charset=utf-8`` are ignored, and a
missing type means ``application/json``, as in the SageMaker container):

* ``application/json``: the TensorFlow Serving row format ``{"instances": [image, ...]}``,
  always a list of images, also for one image. For a model with input ``(H, W, 1)`` each
  image is ``H x W`` or ``H x W x 1`` numbers; for ``(H, W, 3)`` it is ``H x W x 3``.
  Numbers must be finite (no NaN or infinity) and lie in [0, 255]. Scale rule, applied
  to each image on its own: if its largest value is greater than 1 the image is read as
  0-255 pixels and divided by 255; otherwise it is read as already scaled to [0, 1] and
  used as it is. (An image sent as 0-255 whose pixels are all 0 or 1 is therefore read as
  0-1; such an image is black either way, and 0-1 floats avoid the ambiguity.)
* ``image/png``, ``image/jpeg`` (or ``application/x-image`` for either): one 8-bit image
  per request. It is converted to grayscale (``L``) for a 1-channel model or to ``RGB``
  for a 3-channel model (alpha is dropped, palettes are expanded), resized to ``W x H``
  with bilinear filtering when its size differs (the aspect ratio is not kept), and its
  0-255 pixels divided by 255. Colours are not inverted: Fashion-MNIST and MNIST show a
  light object on a black background.

Answers are JSON, one entry per image, in request order::

    {"predictions": [{"class": "Sneaker", "index": 7, "probability": 0.93,
                      "probabilities": {"T-shirt/top": 0.001, ...},
                      "top_k": [{"class": "Sneaker", "index": 7, "probability": 0.93}, ...]}]}

``top_k`` holds the ``k`` most probable classes, best first (ties by class index); ``k``
is 3 by default and is set by the ``top_k=K`` SageMaker custom attribute (header
``X-Amzn-SageMaker-Custom-Attributes: top_k=K``) or, locally, by ``?top_k=K``.

A request the contract cannot take raises :class:`InputError` with an HTTP status (400,
or 415 for an unsupported content type) and a message saying what is wrong and what to
send instead. ``convlab serve`` answers it as ``{"error": message}`` with that status; the
SageMaker container answers every handler error with status 500 and the same
``{"error": message}`` body.
"""

from __future__ import annotations

import io
import json

import numpy as np

JSON_TYPE = "application/json"
# Media type -> the Pillow format the body must be in (None: PNG or JPEG).
IMAGE_TYPES = {"image/png": "PNG", "image/jpeg": "JPEG", "application/x-image": None}
SUPPORTED_TYPES = (JSON_TYPE, *IMAGE_TYPES)
DEFAULT_TOP_K = 3
# Larger images are refused before they are decoded (a 4096 x 4096 PNG can be a few KB).
MAX_IMAGE_PIXELS = 4096 * 4096
CUSTOM_ATTRIBUTES_HEADER = "X-Amzn-SageMaker-Custom-Attributes"


class InputError(ValueError):
    """A request the contract cannot take; ``status`` is the HTTP status to answer."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def media_type(content_type: str | None) -> str:
    """``"Image/PNG; foo=bar"`` -> ``"image/png"``; missing -> ``application/json``."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    return media or JSON_TYPE


def custom_attribute(attributes: str | None, key: str) -> str | None:
    """The value of ``key`` in a SageMaker custom-attributes string ``"a=1,b=2"``."""
    for item in (attributes or "").split(","):
        name, sep, value = item.partition("=")
        if sep and name.strip() == key:
            return value.strip()
    return None


def parse_top_k(value: str | int | None, num_classes: int) -> int:
    """Validate a requested ``k``: an integer from 1 to ``num_classes`` (None -> default)."""
    if value is None or value == "":
        return min(DEFAULT_TOP_K, num_classes)
    try:
        k = int(value)
    except (TypeError, ValueError):
        k = 0
    if str(k) != str(value).strip() or not 1 <= k <= num_classes:
        raise InputError(f"top_k must be an integer from 1 to {num_classes}; got {value!r}.")
    return k


class Contract:
    """Decode requests to model input and encode probabilities, for one model.

    Args:
        input_shape: the model's input shape without the batch axis, ``(H, W, C)`` with
            ``C`` 1 (grayscale) or 3 (RGB).
        class_names: the name of each output class, in output order.
    """

    # A plain class, not a dataclass: the SageMaker container loads inference.py without
    # registering it in sys.modules, which dataclasses with string annotations need.
    def __init__(self, input_shape: tuple[int, ...], class_names: tuple[str, ...]) -> None:
        shape = tuple(int(d) for d in input_shape)
        if len(shape) != 3 or shape[2] not in (1, 3) or min(shape) < 1:
            raise ValueError(f"input_shape must be (H, W, 1) or (H, W, 3); got {input_shape}.")
        names = tuple(str(n) for n in class_names)
        if len(names) < 1 or len(set(names)) != len(names):
            raise ValueError(f"class_names must be unique and non-empty; got {class_names}.")
        self.input_shape = shape
        self.class_names = names

    def __repr__(self) -> str:
        return f"Contract(input_shape={self.input_shape!r}, class_names={self.class_names!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Contract) and repr(self) == repr(other)

    def __hash__(self) -> int:
        return hash(repr(self))

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def _shapes(self) -> str:
        h, w, c = self.input_shape
        return f"{h}x{w}" + (f" or {h}x{w}x1" if c == 1 else f"x{c}")

    # ------------------------------------------------------------------ requests

    def decode(self, body: bytes, content_type: str | None) -> np.ndarray:
        """A request body -> float32 batch ``(N, H, W, C)`` in [0, 1], or :class:`InputError`."""
        media = media_type(content_type)
        if media not in SUPPORTED_TYPES:
            raise InputError(
                f"Unsupported Content-Type {media!r}. Send application/json "
                '({"instances": [...]}), image/png or image/jpeg.',
                status=415,
            )
        if not body:
            raise InputError(
                f"Empty request body. Send a {media} body: "
                + ('{"instances": [image, ...]}.' if media == JSON_TYPE else "an image file.")
            )
        if media == JSON_TYPE:
            return self.decode_json(body)
        return self.decode_image(body, IMAGE_TYPES[media])

    def decode_json(self, body: bytes | str) -> np.ndarray:
        """``{"instances": [...]}`` -> float32 batch in [0, 1] (see the module docstring)."""
        try:
            text = body.decode("utf-8") if isinstance(body, bytes) else body
            document = json.loads(text)
        except UnicodeDecodeError as exc:
            raise InputError(f"The JSON body is not valid UTF-8 ({exc.reason}).") from None
        except json.JSONDecodeError as exc:
            raise InputError(
                f"Malformed JSON: {exc.msg} at line {exc.lineno} column {exc.colno}."
            ) from None
        except RecursionError:
            raise InputError("Malformed JSON: nested too deeply.") from None
        if not isinstance(document, dict) or "instances" not in document:
            raise InputError(
                'Expected a JSON object {"instances": [image, ...]} (TensorFlow Serving row '
                f"format); got a {type(document).__name__}"
                + (f" with keys {sorted(document)}." if isinstance(document, dict) else ".")
            )
        instances = document["instances"]
        if not isinstance(instances, list) or not instances:
            raise InputError(
                '"instances" must be a non-empty list of images, e.g. {"instances": [image]}.'
            )
        return self.to_batch(_numeric_array(instances))

    def to_batch(self, images: np.ndarray) -> np.ndarray:
        """A numeric array of images -> float32 ``(N, H, W, C)`` in [0, 1].

        Checks the shape, finiteness and range, and applies the per-image scale rule.
        """
        h, w, c = self.input_shape
        x = np.asarray(images)
        if x.ndim == 3 and c == 1:
            x = x[..., np.newaxis]
        if x.ndim != 4 or x.shape[1:] != self.input_shape:
            got = "x".join(map(str, x.shape[1:])) if x.ndim > 1 else "a single number"
            raise InputError(
                f"Each instance must be a {self._shapes()} image; got {got}. "
                'Send a list of images, also for one image: {"instances": [image]}.'
            )
        if not np.all(np.isfinite(x)):
            raise InputError("The instances contain NaN or infinity; send finite pixel values.")
        lo, hi = float(x.min()), float(x.max())
        if lo < 0 or hi > 255:
            raise InputError(
                f"Pixel values must lie in [0, 1] or [0, 255]; got values from {lo:g} to {hi:g}."
            )
        x = x.astype(np.float32)
        is_255 = x.reshape(len(x), -1).max(axis=1) > 1
        # The same float32 division as training (convlab.preprocess.scale), so an image
        # sent as JSON 0-255 integers and as a PNG give the same input, bit for bit.
        x[is_255] = x[is_255] / np.float32(255.0)
        return x

    def decode_image(self, body: bytes, fmt: str | None = None) -> np.ndarray:
        """PNG/JPEG bytes -> float32 batch ``(1, H, W, C)`` in [0, 1].

        Args:
            body: the encoded image.
            fmt: the Pillow format the body must be in (``"PNG"``/``"JPEG"``); None
                accepts either.
        """
        from PIL import Image  # imported late: JSON requests do not need Pillow

        wanted = f"a {fmt}" if fmt else "a PNG or JPEG"
        try:
            image = Image.open(io.BytesIO(body))
        except Exception as exc:  # Pillow raises many types for bad bytes
            raise InputError(f"The body is not {wanted} image Pillow can read ({exc}).") from None
        if image.format not in ((fmt,) if fmt else ("PNG", "JPEG")):
            raise InputError(
                f"The body is a {image.format} image but the Content-Type asks for {wanted}; "
                "send image/png for PNG and image/jpeg for JPEG files."
            )
        width, height = image.size
        if width * height > MAX_IMAGE_PIXELS:
            raise InputError(
                f"The image is {width}x{height} pixels; the limit is {MAX_IMAGE_PIXELS} pixels. "
                "Resize it first."
            )
        if image.mode.startswith(("I", "F")):
            raise InputError(
                f"{image.mode!r} images (16-bit or float) are not supported; save it as 8-bit."
            )
        h, w, c = self.input_shape
        try:
            image = image.convert("L" if c == 1 else "RGB")
            if image.size != (w, h):
                resampling = getattr(Image, "Resampling", Image)  # Pillow < 9.1 lacks it
                image = image.resize((w, h), resampling.BILINEAR)
            pixels = np.asarray(image, dtype=np.uint8)
        except Exception as exc:  # a truncated or corrupt file fails here, on decoding
            raise InputError(f"The {image.format} image cannot be decoded ({exc}).") from None
        pixels = pixels.reshape(1, h, w, c)
        return pixels.astype(np.float32) / np.float32(255.0)

    # ------------------------------------------------------------------ answers

    def encode(self, probabilities: np.ndarray, top_k: int = DEFAULT_TOP_K) -> dict:
        """Probabilities ``(N, num_classes)`` -> the JSON-ready answer (module docstring)."""
        probs = np.asarray(probabilities, dtype=np.float64)
        if probs.ndim != 2 or probs.shape[1] != self.num_classes:
            raise ValueError(
                f"The model answered shape {probs.shape}; expected (N, {self.num_classes})."
            )
        k = parse_top_k(top_k, self.num_classes)
        predictions = []
        for row in probs:
            order = np.argsort(-row, kind="stable")
            best = [
                {"class": self.class_names[i], "index": int(i), "probability": float(row[i])}
                for i in order[:k]
            ]
            predictions.append(
                {
                    **best[0],
                    "probabilities": {n: float(row[i]) for i, n in enumerate(self.class_names)},
                    "top_k": best,
                }
            )
        return {"predictions": predictions}


def _numeric_array(instances: list) -> np.ndarray:
    """Nested lists of numbers -> an int or float array, or :class:`InputError`."""
    try:
        x = np.asarray(instances)
    except ValueError:  # NumPy refuses nested lists of uneven lengths
        raise InputError(
            "The instances are ragged: every image must have the same shape and every row "
            "the same length."
        ) from None
    if x.dtype.kind not in "iuf":
        found = {"b": "true/false", "U": "strings"}.get(
            # NumPy < 1.24 (in older containers) also lands ragged lists here.
            x.dtype.kind,
            "null, objects, ragged rows or integers too large for 64 bits",
        )
        raise InputError(f"The instances must hold only numbers; found {found}.")
    return x


# ---------------------------------------------------------------------- SageMaker handlers
# The SageMaker TensorFlow Serving container imports code/inference.py, passes each
# request through input_handler, posts its result to TensorFlow Serving's REST API
# (serving_default signature) and passes that response through output_handler. The
# container answers any exception with status 500 and {"error": str(exception)}.

CONTRACT = None  # set by convlab.deploy.export when shipped as code/inference.py


def _contract() -> Contract:
    if CONTRACT is None:
        raise RuntimeError("CONTRACT is not set: this file is a template; export a model.")
    return CONTRACT


def input_handler(data, context) -> str:
    """Request stream -> TensorFlow Serving request ``{"instances": [...]}`` (JSON text)."""
    contract = _contract()
    body = data.read() if hasattr(data, "read") else data
    if isinstance(body, str):
        body = body.encode("utf-8")
    # Checked here too so that a bad top_k fails before the model runs.
    parse_top_k(_requested_top_k(context), contract.num_classes)
    batch = contract.decode(body, getattr(context, "request_content_type", None))
    return json.dumps({"instances": batch.tolist()})


def output_handler(response, context) -> tuple[str, str]:
    """TensorFlow Serving response -> (answer JSON text, ``application/json``)."""
    contract = _contract()
    if response.status_code != 200:
        content = response.content
        text = content.decode("utf-8", "replace") if isinstance(content, bytes) else content
        raise ValueError(f"TensorFlow Serving answered {response.status_code}: {text}")
    predictions = json.loads(response.content)["predictions"]
    top_k = parse_top_k(_requested_top_k(context), contract.num_classes)
    return json.dumps(contract.encode(np.asarray(predictions), top_k)), JSON_TYPE


def _requested_top_k(context) -> str | None:
    return custom_attribute(getattr(context, "custom_attributes", None), "top_k")
