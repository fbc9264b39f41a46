"""Images as request bodies: a NumPy image -> the PNG or JPEG bytes a client sends.

The inverse of what ``/invocations`` does with ``image/png`` and ``image/jpeg`` bodies
(:meth:`convlab.deploy.contract.Contract.decode_image`): a model-ready image in [0, 1]
goes out as 8-bit pixels, and a PNG comes back bit for bit (PNG is lossless; JPEG is not).

Example:
    >>> import numpy as np
    >>> body = encode_image(np.zeros((28, 28, 1), np.float32))
    >>> body[:4]
    b'\\x89PNG'
"""

from __future__ import annotations

import io

import numpy as np

from convlab.errors import ConvlabError

__all__ = ["IMAGE_FORMATS", "encode_image"]

# Pillow format -> the Content-Type that announces it.
IMAGE_FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg"}


def _to_uint8(image: np.ndarray) -> np.ndarray:
    """uint8 as it is; other integers in [0, 255]; floats in [0, 1] scaled by 255."""
    x = np.asarray(image)
    if x.dtype == np.uint8:
        return x
    if x.dtype.kind not in "iuf":
        raise ConvlabError(f"An image must hold numbers; got dtype {x.dtype}.")
    if not np.all(np.isfinite(x)):
        raise ConvlabError("The image contains NaN or infinity; send finite pixel values.")
    lo, hi = float(x.min()), float(x.max())
    if x.dtype.kind == "f":
        if lo < 0 or hi > 1:
            raise ConvlabError(
                f"A float image must lie in [0, 1] (model input); got {lo:g} to {hi:g}. "
                "Pass 0-255 pixels as uint8."
            )
        # Rounding undoes the division by 255 of preprocessing exactly.
        return np.rint(x * 255.0).astype(np.uint8)
    if lo < 0 or hi > 255:
        raise ConvlabError(f"Integer pixels must lie in [0, 255]; got {lo:g} to {hi:g}.")
    return x.astype(np.uint8)


def encode_image(image: np.ndarray, format: str = "PNG") -> bytes:
    """One image ``(H, W)``, ``(H, W, 1)`` or ``(H, W, 3)`` -> PNG or JPEG bytes.

    Args:
        image: uint8 pixels, integers in [0, 255], or floats in [0, 1] (a model-ready
            image, e.g. from :func:`convlab.preprocess.make_splits`).
        format: ``"PNG"`` (lossless) or ``"JPEG"``; the matching Content-Type is
            ``IMAGE_FORMATS[format]``.

    Returns:
        The encoded file: a grayscale (``L``) image for one channel, ``RGB`` for three.
    """
    from PIL import Image  # imported late: only image payloads need Pillow

    fmt = format.upper()
    if fmt == "JPG":
        fmt = "JPEG"
    if fmt not in IMAGE_FORMATS:
        raise ConvlabError(
            f"Unknown image format {format!r}; use one of {', '.join(IMAGE_FORMATS)}."
        )
    pixels = _to_uint8(image)
    if pixels.ndim == 3 and pixels.shape[-1] == 1:
        pixels = pixels[..., 0]
    if not (pixels.ndim == 2 or (pixels.ndim == 3 and pixels.shape[-1] == 3)) or 0 in pixels.shape:
        raise ConvlabError(
            f"An image must be (H, W), (H, W, 1) or (H, W, 3); got shape {np.shape(image)}."
        )
    buffer = io.BytesIO()
    # uint8 (H, W) is read as mode L and (H, W, 3) as RGB.
    Image.fromarray(pixels).save(buffer, fmt)
    return buffer.getvalue()
