"""convlab.deploy.images against Pillow and the serving contract that decodes its bytes."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from convlab.deploy.contract import Contract
from convlab.deploy.images import IMAGE_FORMATS, encode_image
from convlab.errors import ConvlabError

NAMES = tuple(f"c{i}" for i in range(10))


def decoded(body: bytes) -> Image.Image:
    return Image.open(io.BytesIO(body))


@pytest.mark.parametrize("shape", [(28, 28, 1), (32, 32, 3), (5, 7, 3)])
def test_a_model_ready_image_comes_back_bit_for_bit_through_the_contract(shape):
    """floats k/255, as preprocessing makes them -> PNG -> the server's decoding -> same."""
    pixels = np.random.default_rng(0).integers(0, 256, size=shape, dtype=np.uint8)
    image = pixels.astype(np.float32) / np.float32(255.0)
    body = encode_image(image)
    batch = Contract(shape, NAMES).decode(body, IMAGE_FORMATS["PNG"])
    np.testing.assert_array_equal(batch[0], image)


@pytest.mark.parametrize(
    ("image", "mode"),
    [
        (np.arange(12, dtype=np.uint8).reshape(3, 4), "L"),
        (np.arange(12, dtype=np.uint8).reshape(3, 4, 1), "L"),
        (np.arange(36, dtype=np.uint8).reshape(3, 4, 3), "RGB"),
        (np.arange(12, dtype=np.int64).reshape(3, 4) * 20, "L"),
    ],
)
def test_pixels_and_mode_as_pillow_reads_them(image, mode):
    png = decoded(encode_image(image))
    assert png.format == "PNG" and png.mode == mode and png.size == (4, 3)
    np.testing.assert_array_equal(np.asarray(png), image.reshape(png.size[::-1] + (-1,)).squeeze())


@pytest.mark.parametrize("fmt", ["JPEG", "jpeg", "JPG"])
def test_jpeg(fmt):
    image = np.full((8, 8, 3), 128, dtype=np.uint8)
    body = encode_image(image, fmt)
    assert body.startswith(b"\xff\xd8\xff")
    jpeg = decoded(body)
    assert jpeg.format == "JPEG" and jpeg.size == (8, 8)
    # JPEG is lossy, but a flat grey survives it almost unchanged.
    assert np.abs(np.asarray(jpeg, dtype=int) - 128).max() <= 2


@pytest.mark.parametrize(
    ("image", "needle"),
    [
        (np.full((4, 4), 1.5, np.float32), "[0, 1]"),
        (np.full((4, 4), -0.1), "[0, 1]"),
        (np.full((4, 4), np.nan), "NaN"),
        (np.full((4, 4), 256, np.int32), "[0, 255]"),
        (np.zeros((4, 4, 2), np.uint8), "(H, W, 3)"),
        (np.zeros((2, 4, 4, 1), np.uint8), "(H, W, 3)"),
        (np.zeros((0, 4), np.uint8), "(H, W, 3)"),
        (np.array([["a", "b"]]), "numbers"),
    ],
)
def test_images_it_cannot_encode_say_why(image, needle):
    with pytest.raises(ConvlabError, match=None) as info:
        encode_image(image)
    assert needle in str(info.value)


def test_an_unknown_format_names_the_known_ones():
    with pytest.raises(ConvlabError, match="PNG, JPEG"):
        encode_image(np.zeros((4, 4), np.uint8), "GIF")
