"""The export: artifact layout, SavedModel and .keras fidelity, and the shipped inference.py.

The shipped handlers are loaded from the extracted tarball the way the SageMaker container
loads them, and TensorFlow Serving is emulated by the SavedModel's serving_default
signature; their answers must equal the local server's for the same bodies.
"""

from __future__ import annotations

import ast
import importlib.util
import io
import json
import tarfile
from collections import namedtuple

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from convlab.data import dataset_info
from convlab.deploy import ExportError, Predictor, export_model, read_export
from convlab.deploy.contract import Contract, InputError

NAMES = dataset_info("fashion-mnist").class_names
# The container's Context namedtuple, reduced to the fields the handlers read.
Context = namedtuple("Context", "request_content_type accept_header custom_attributes")
TfsResponse = namedtuple("TfsResponse", "status_code content")


def tiny_model(shape=(28, 28, 1), classes=10) -> keras.Model:
    keras.utils.set_random_seed(0)
    return keras.Sequential(
        [
            keras.Input(shape),
            keras.layers.Conv2D(4, 3, activation="relu"),
            keras.layers.Flatten(),
            keras.layers.Dense(classes, activation="softmax"),
        ]
    )


@pytest.fixture(scope="module")
def model():
    return tiny_model()


@pytest.fixture(scope="module")
def exported(model, tmp_path_factory):
    return export_model(model, tmp_path_factory.mktemp("export"), dataset="fashion-mnist")


@pytest.fixture(scope="module")
def unpacked(exported, tmp_path_factory):
    root = tmp_path_factory.mktemp("unpacked")
    with tarfile.open(exported.tarball_path) as tar:
        # The "data" filter (safe extraction) exists from Python 3.10.12 and 3.11.4.
        safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
        tar.extractall(root, **safe)
    return root


@pytest.fixture(scope="module")
def serving(unpacked):
    """TensorFlow Serving's view: the serving_default signature of version 1."""
    signature = tf.saved_model.load(str(unpacked / "1")).signatures["serving_default"]
    (input_name,) = signature.structured_input_signature[1]
    (output_name,) = signature.structured_outputs

    def predict(instances) -> np.ndarray:
        x = tf.constant(np.asarray(instances, dtype=np.float32))
        return signature(**{input_name: x})[output_name].numpy()

    return predict


@pytest.fixture(scope="module")
def inference(unpacked):
    """code/inference.py, imported as the container does (not registered in sys.modules)."""
    spec = importlib.util.spec_from_file_location("inference", unpacked / "code" / "inference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def local(exported):
    return Predictor.from_export(exported)


def _png(pixels: np.ndarray, fmt="PNG") -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, fmt)
    return buffer.getvalue()


def _pixels(n=3) -> np.ndarray:
    return np.random.default_rng(1).integers(0, 256, size=(n, 28, 28), dtype=np.uint8)


def _assert_same_answer(a: dict, b: dict) -> None:
    assert len(a["predictions"]) == len(b["predictions"])
    for p, q in zip(a["predictions"], b["predictions"], strict=True):
        assert list(p["probabilities"]) == list(q["probabilities"]) == list(NAMES)
        np.testing.assert_allclose(
            list(p["probabilities"].values()), list(q["probabilities"].values()), atol=1e-6
        )
        assert p["class"] == q["class"]
        assert [t["class"] for t in p["top_k"]] == [t["class"] for t in q["top_k"]]


# ---------------------------------------------------------------- layout


def test_export_directory_and_metadata(exported):
    assert {p.name for p in exported.directory.iterdir()} == {
        "model.keras",
        "convlab.json",
        "model.tar.gz",
    }
    again = read_export(exported.directory)
    assert again == exported
    assert read_export(exported.keras_path) == exported
    assert again.class_names == NAMES and again.input_shape == (28, 28, 1)
    assert again.dataset == "fashion-mnist"


def test_tarball_has_the_sagemaker_layout(exported):
    with tarfile.open(exported.tarball_path, "r:gz") as tar:
        members = tar.getmembers()
    names = {m.name for m in members}
    assert {
        "1/saved_model.pb",
        "1/variables/variables.index",
        "1/variables/variables.data-00000-of-00001",
        "code/inference.py",
        "code/requirements.txt",
    } <= names
    # Only the model version and code at the top, relative paths, no local user names.
    assert {n.split("/")[0] for n in names} == {"1", "code"}
    assert all(not n.startswith(("/", ".")) and ".." not in n.split("/") for n in names)
    assert all(m.uname == "" and m.uid == 0 for m in members)


def test_requirements_and_self_contained_inference_py(unpacked):
    requirements = (unpacked / "code" / "requirements.txt").read_text().split()
    assert requirements == ["numpy", "pillow"]
    tree = ast.parse((unpacked / "code" / "inference.py").read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module.split(".")[0])
    assert imported <= {"__future__", "io", "json", "numpy", "PIL"}


# ---------------------------------------------------------------- model fidelity


def test_saved_model_predicts_like_keras(model, serving):
    x = np.random.default_rng(2).random((5, 28, 28, 1), dtype=np.float32)
    np.testing.assert_allclose(serving(x), keras.ops.convert_to_numpy(model(x)), atol=1e-6)


def test_keras_file_predicts_like_the_model(model, exported):
    x = np.random.default_rng(3).random((5, 28, 28, 1), dtype=np.float32)
    reloaded = exported.load_keras_model()
    np.testing.assert_allclose(reloaded.predict_on_batch(x), model.predict_on_batch(x), atol=1e-6)


# ---------------------------------------------------------------- shipped handlers


def _sagemaker(inference, serving, body: bytes, content_type: str, attributes=None) -> dict:
    """One request through input_handler -> TF Serving -> output_handler."""
    context = Context(content_type, "application/json", attributes)
    request = json.loads(inference.input_handler(io.BytesIO(body), context))
    probabilities = serving(request["instances"])
    response = TfsResponse(200, json.dumps({"predictions": probabilities.tolist()}).encode())
    text, content_type = inference.output_handler(response, context)
    assert content_type == "application/json"
    return json.loads(text)


def test_shipped_contract_is_the_exported_one(inference, exported):
    assert isinstance(inference.CONTRACT, inference.Contract)
    assert repr(inference.CONTRACT) == repr(Contract(exported.input_shape, exported.class_names))


@pytest.mark.parametrize("form", ["json-255", "json-unit", "png", "jpeg", "x-image"])
def test_shipped_handlers_answer_like_the_local_server(inference, serving, local, form):
    x = _pixels()
    body, content_type = {
        "json-255": (json.dumps({"instances": x.tolist()}).encode(), "application/json"),
        "json-unit": (
            json.dumps({"instances": (x[..., None] / 255).tolist()}).encode(),
            "application/json",
        ),
        "png": (_png(x[0]), "image/png"),
        "jpeg": (_png(x[0], "JPEG"), "image/jpeg"),
        "x-image": (_png(x[0]), "application/x-image"),
    }[form]
    # What reaches TF Serving is exactly what the local server feeds its model.
    context = Context(content_type, "application/json", None)
    request = json.loads(inference.input_handler(io.BytesIO(body), context))
    np.testing.assert_array_equal(
        np.asarray(request["instances"], np.float32), local.contract.decode(body, content_type)
    )
    _assert_same_answer(
        _sagemaker(inference, serving, body, content_type), local.answer(body, content_type, None)
    )


def test_shipped_handlers_honour_top_k(inference, serving, local):
    body = _png(_pixels()[0])
    answer = _sagemaker(inference, serving, body, "image/png", "top_k=7")
    assert len(answer["predictions"][0]["top_k"]) == 7
    _assert_same_answer(answer, local.answer(body, "image/png", 7))


@pytest.mark.parametrize(
    ("body", "content_type", "attributes"),
    [
        (b'{"instances": [[1, 2]]}', "application/json", None),
        (b"", "image/png", None),
        (b"a,b", "text/csv", None),
        (b'{"instances": [', "application/json", None),
        (json.dumps({"instances": _pixels(1).tolist()}).encode(), "application/json", "top_k=11"),
    ],
)
def test_shipped_input_handler_refuses_what_the_server_refuses(
    inference, local, body, content_type, attributes
):
    context = Context(content_type, "application/json", attributes)
    with pytest.raises(ValueError) as shipped:
        inference.input_handler(io.BytesIO(body), context)
    with pytest.raises(InputError) as here:
        top_k = inference.custom_attribute(attributes, "top_k")
        local.answer(body, content_type, top_k)
    assert str(shipped.value) == str(here.value)
    assert shipped.value.status == here.value.status


def test_shipped_output_handler_reports_tf_serving_errors(inference):
    context = Context("application/json", "application/json", None)
    with pytest.raises(ValueError, match="TensorFlow Serving answered 400: bad tensor"):
        inference.output_handler(TfsResponse(400, b"bad tensor"), context)


# ---------------------------------------------------------------- refusals


def test_export_refuses_an_existing_export_unless_asked(model, exported):
    with pytest.raises(ExportError, match="already holds an export"):
        export_model(model, exported.directory, dataset="fashion-mnist")


def test_export_overwrites_when_asked(model, tmp_path):
    export_model(model, tmp_path, class_names=list("abcdefghij"))
    again = export_model(model, tmp_path, class_names=NAMES, overwrite=True)
    assert read_export(tmp_path).class_names == NAMES == again.class_names
    assert not list(tmp_path.glob(".export-*"))  # the staging directory is gone


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"class_names": ["a", "b"]}, "does not match the 2 class names"),
        ({"class_names": list("abcdefghij"), "input_shape": (32, 32, 3)}, "does not match"),
        ({"dataset": "cifar10"}, "CIFAR-10 images are (32, 32, 3)"),
        ({}, "Pass class_names=... or dataset=..."),
        ({"class_names": list("aaaaaaaaaa")}, "unique"),
    ],
)
def test_export_refuses_mismatched_names_and_shapes(model, tmp_path, kwargs, needle):
    with pytest.raises(ExportError) as info:
        export_model(model, tmp_path, **kwargs)
    assert needle in str(info.value)
    assert not list(tmp_path.iterdir())


def test_read_export_explains_what_is_missing_or_damaged(tmp_path, exported):
    with pytest.raises(ExportError, match="convlab.json is missing"):
        read_export(tmp_path)
    (tmp_path / "convlab.json").write_text('{"input_shape": [28, 28]}')
    with pytest.raises(ExportError, match="is damaged"):
        read_export(tmp_path)
    document = json.loads(exported.metadata_path.read_text())
    (tmp_path / "convlab.json").write_text(json.dumps({**document, "format_version": 99}))
    with pytest.raises(ExportError, match="format_version 99"):
        read_export(tmp_path)
    (tmp_path / "convlab.json").write_text(json.dumps(document))
    with pytest.raises(ExportError, match="model.keras is missing"):
        read_export(tmp_path).load_keras_model()
