"""The serving contract: request decoding, answers and errors, checked against NumPy and Pillow."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from PIL import Image

from convlab.deploy import contract as c
from convlab.deploy.contract import Contract, InputError
from convlab.preprocess import scale

NAMES = tuple(f"class{i}" for i in range(10))
GRAY = Contract((28, 28, 1), NAMES)
RGB = Contract((32, 32, 3), NAMES)


def _pixels(shape, seed=0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=shape, dtype=np.uint8)


def _encode(array: np.ndarray, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, fmt, **options)
    return buffer.getvalue()


def _json(instances) -> bytes:
    return json.dumps({"instances": instances}).encode()


def _error(contract: Contract, body, content_type="application/json") -> InputError:
    with pytest.raises(InputError) as info:
        contract.decode(body, content_type)
    return info.value


# ---------------------------------------------------------------- JSON


def test_json_0_255_integers_scale_like_training():
    x = _pixels((3, 28, 28))
    batch = GRAY.decode(_json(x.tolist()), "application/json")
    assert batch.dtype == np.float32 and batch.shape == (3, 28, 28, 1)
    np.testing.assert_array_equal(batch, scale(x)[..., None])


def test_json_channel_axis_and_0_1_floats_give_the_same_batch():
    x = _pixels((2, 28, 28))
    expected = scale(x)[..., None]
    as_hw1 = GRAY.decode(_json(x[..., None].tolist()), None)
    as_unit = GRAY.decode(_json(expected.tolist()), "application/json; charset=utf-8")
    np.testing.assert_array_equal(as_hw1, expected)
    np.testing.assert_array_equal(as_unit, expected)


def test_scale_rule_applies_to_each_image_on_its_own():
    bright = np.full((28, 28), 200)
    unit = np.full((28, 28), 0.5)
    dark_255 = np.ones((28, 28), dtype=int)  # max 1: read as 0-1, as documented
    batch = GRAY.decode(_json([bright.tolist(), unit.tolist(), dark_255.tolist()]), None)
    np.testing.assert_allclose(batch[0], 200 / 255, rtol=1e-6)
    np.testing.assert_array_equal(batch[1], 0.5)
    np.testing.assert_array_equal(batch[2], 1.0)


def test_json_rgb_instances():
    x = _pixels((2, 32, 32, 3))
    np.testing.assert_array_equal(RGB.decode(_json(x.tolist()), None), scale(x))


@pytest.mark.parametrize(
    ("instances", "needle"),
    [
        (np.zeros((1, 28, 27)).tolist(), "28x28 or 28x28x1 image; got 28x27"),
        (np.zeros((1, 28, 28, 3)).tolist(), "got 28x28x3"),
        (np.zeros((28, 28)).tolist(), '{"instances": [image]}'),
        (np.zeros(784).tolist(), "got a single number"),
        ([[[0] * 28] * 28, [[0] * 28] * 27], "ragged"),
        ([[["a"] * 28] * 28], "found strings"),
        ([[[None] * 28] * 28], "found null"),
        ([[[True] * 28] * 28], "found true/false"),
        ([[[2**70] * 28] * 28], "too large"),
        ([], "non-empty list"),
        ("pixels", "non-empty list"),
    ],
)
def test_json_bad_instances_name_the_problem(instances, needle):
    error = _error(GRAY, _json(instances))
    assert error.status == 400 and needle in str(error)


def test_rgb_contract_refuses_grayscale_json():
    assert "32x32x3 image; got 32x32" in str(_error(RGB, _json(np.zeros((1, 32, 32)).tolist())))


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_json_non_finite_values(value):
    row = ", ".join(["0"] * 27 + [value])
    body = ('{"instances": [[' + ", ".join([f"[{row}]"] * 28) + "]]}").encode()
    assert "NaN or infinity" in str(_error(GRAY, body))


@pytest.mark.parametrize(("bad", "shown"), [(-1, "from -1 to 0"), (256, "from 0 to 256")])
def test_json_values_out_of_range(bad, shown):
    x = np.zeros((1, 28, 28), dtype=int)
    x[0, 3, 4] = bad
    error = str(_error(GRAY, _json(x.tolist())))
    assert "[0, 1] or [0, 255]" in error and shown in error


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        (b'{"instances": [1, 2', "Malformed JSON"),
        (b"\xff\xfe{}", "not valid UTF-8"),
        (b"[1, 2, 3]", 'Expected a JSON object {"instances"'),
        (b'{"inputs": []}', "with keys ['inputs']"),
        (b"[" * 100_000 + b"]" * 100_000, "Malformed JSON"),
    ],
)
def test_malformed_json(body, needle):
    assert needle in str(_error(GRAY, body))


@pytest.mark.parametrize("content_type", [None, "application/json", "image/png"])
def test_empty_body(content_type):
    assert "Empty request body" in str(_error(GRAY, b"", content_type))


@pytest.mark.parametrize("content_type", ["text/csv", "application/x-npy", "image/gif"])
def test_unsupported_content_type_is_415(content_type):
    error = _error(GRAY, b"1,2,3", content_type)
    assert error.status == 415 and repr(content_type) in str(error)
    assert "application/json" in str(error) and "image/png" in str(error)


# ---------------------------------------------------------------- images


def test_png_matches_json_bit_for_bit():
    x = _pixels((28, 28))
    from_png = GRAY.decode(_encode(x, "PNG"), "image/png")
    from_json = GRAY.decode(_json([x.tolist()]), "application/json")
    assert from_png.shape == (1, 28, 28, 1)
    np.testing.assert_array_equal(from_png, from_json)


def test_jpeg_decodes_like_pillow():
    x = _pixels((28, 28))
    body = _encode(x, "JPEG", quality=90)
    reference = np.asarray(Image.open(io.BytesIO(body)).convert("L"))
    for content_type in ("image/jpeg", "application/x-image"):
        batch = GRAY.decode(body, content_type)
        np.testing.assert_array_equal(batch[0, ..., 0], reference / np.float32(255))


def test_colour_image_is_converted_and_resized_as_documented():
    rgba = _pixels((56, 40, 4))
    body = _encode(rgba, "PNG")
    reference = Image.open(io.BytesIO(body)).convert("L").resize((28, 28), Image.BILINEAR)
    batch = GRAY.decode(body, "image/png")
    np.testing.assert_array_equal(batch[0, ..., 0], np.asarray(reference) / np.float32(255))


def test_grayscale_image_for_rgb_model_repeats_the_channel():
    x = _pixels((32, 32))
    batch = RGB.decode(_encode(x, "PNG"), "image/png")
    assert batch.shape == (1, 32, 32, 3)
    for channel in range(3):
        np.testing.assert_array_equal(batch[0, ..., channel], scale(x))


@pytest.mark.parametrize(
    ("body", "content_type", "needle"),
    [
        (b"not an image at all", "image/png", "not a PNG image"),
        (_encode(_pixels((28, 28)), "JPEG"), "image/png", "is a JPEG image but"),
        (_encode(_pixels((28, 28)), "GIF"), "application/x-image", "is a GIF image"),
        (_encode(_pixels((28, 28)), "PNG")[:60], "image/png", "cannot be decoded"),
        (_encode(np.zeros((28, 28), np.uint16), "PNG"), "image/png", "save it as 8-bit"),
    ],
)
def test_bad_images(body, content_type, needle):
    error = _error(GRAY, body, content_type)
    assert error.status == 400 and needle in str(error)


def test_huge_image_is_refused_before_decoding(monkeypatch):
    monkeypatch.setattr(c, "MAX_IMAGE_PIXELS", 30 * 30)
    assert "31x31 pixels; the limit is 900" in str(
        _error(GRAY, _encode(_pixels((31, 31)), "PNG"), "image/png")
    )


# ---------------------------------------------------------------- answers and options


def test_encode_lists_classes_best_first_with_ties_by_index():
    probs = np.array([[0.1, 0.3, 0.1, 0.3, 0.2, 0, 0, 0, 0, 0]])
    (answer,) = GRAY.encode(probs, top_k=4)["predictions"]
    assert answer["class"] == "class1" and answer["index"] == 1
    assert [p["class"] for p in answer["top_k"]] == ["class1", "class3", "class4", "class0"]
    assert list(answer["probabilities"]) == list(NAMES)
    assert answer["probabilities"]["class4"] == pytest.approx(0.2)
    json.dumps(answer)  # JSON-ready: plain floats and ints


def test_encode_refuses_the_wrong_number_of_classes():
    with pytest.raises(ValueError, match=r"expected \(N, 10\)"):
        GRAY.encode(np.ones((1, 9)))


@pytest.mark.parametrize(("value", "k"), [(None, 3), ("", 3), ("1", 1), (10, 10), (" 4", 4)])
def test_parse_top_k(value, k):
    assert c.parse_top_k(value, 10) == k


@pytest.mark.parametrize("value", ["0", "11", "-1", "two", "2.5"])
def test_parse_top_k_refuses(value):
    with pytest.raises(InputError, match="top_k must be an integer from 1 to 10"):
        c.parse_top_k(value, 10)


def test_custom_attributes_and_media_type():
    assert c.custom_attribute("tfs-method=predict, top_k=5", "top_k") == "5"
    assert c.custom_attribute("top_k", "top_k") is None
    assert c.custom_attribute(None, "top_k") is None
    assert c.media_type(" Image/PNG ; q=1") == "image/png"
    assert c.media_type(None) == c.media_type("") == "application/json"


def test_contract_validates_its_arguments():
    with pytest.raises(ValueError, match="input_shape"):
        Contract((28, 28), NAMES)
    with pytest.raises(ValueError, match="unique"):
        Contract((28, 28, 1), ("a", "a"))
    assert Contract((28, 28, 1), NAMES) == GRAY != RGB


def test_handlers_in_the_template_refuse_to_run():
    with pytest.raises(RuntimeError, match="template"):
        c.input_handler(io.BytesIO(b"{}"), None)
