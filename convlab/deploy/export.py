"""Export a trained model: native ``model.keras`` plus a SageMaker ``model.tar.gz``.

An export directory holds::

    model.keras     the Keras model, as trained (input float32 in [0, 1], softmax out)
    convlab.json    class names, input shape and the preprocessing contract
    model.tar.gz    for the SageMaker TensorFlow Serving container:
                      1/                 SavedModel with a ``serving_default`` signature
                      code/inference.py  input_handler/output_handler (contract.py, filled in)
                      code/requirements.txt  numpy and pillow, installed by the container

``convlab serve --model DIR`` serves ``model.keras`` with the same contract that
``code/inference.py`` implements in the container.
"""

from __future__ import annotations

import contextlib
import json
import os
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from convlab import __version__
from convlab.deploy import contract as contract_module
from convlab.deploy.contract import Contract
from convlab.errors import ConvlabError

if TYPE_CHECKING:
    import keras

__all__ = [
    "ExportError",
    "ExportedModel",
    "check_target",
    "export_model",
    "read_export",
    "render_inference_py",
]

KERAS_FILE = "model.keras"
METADATA_FILE = "convlab.json"
TARBALL_FILE = "model.tar.gz"
MODEL_VERSION = "1"  # TensorFlow Serving loads the highest numbered version directory
FORMAT_VERSION = 1
# The container pip-installs these at start-up (needs internet access from the endpoint;
# in network isolation put the wheels in code/lib instead). NumPy is normally present.
REQUIREMENTS = "numpy\npillow\n"
_CONTRACT_LINE = "CONTRACT = None  # set by convlab.deploy.export when shipped as code/inference.py"


class ExportError(ConvlabError, ValueError):
    """An export that cannot be made or read; the message says how to fix it."""


@dataclass(frozen=True)
class ExportedModel:
    """An export directory and what its ``convlab.json`` says.

    Attributes:
        directory: the export directory.
        input_shape: the model's input shape ``(H, W, C)``.
        class_names: output ``i`` is ``class_names[i]``.
        dataset: the dataset the model was trained on, if known.
    """

    directory: Path
    input_shape: tuple[int, int, int]
    class_names: tuple[str, ...]
    dataset: str | None = None

    @property
    def keras_path(self) -> Path:
        return self.directory / KERAS_FILE

    @property
    def tarball_path(self) -> Path:
        return self.directory / TARBALL_FILE

    @property
    def metadata_path(self) -> Path:
        return self.directory / METADATA_FILE

    @property
    def contract(self) -> Contract:
        return Contract(self.input_shape, self.class_names)

    def load_keras_model(self) -> keras.Model:
        """The native Keras model, loaded for inference (not compiled)."""
        import keras  # imported late: Keras is slow to import

        if not self.keras_path.is_file():
            raise ExportError(f"{self.keras_path} is missing; export the model again.")
        return keras.saving.load_model(self.keras_path, compile=False)


def _resolve(model, class_names, input_shape, dataset) -> tuple[tuple, tuple, str | None]:
    info = None
    if dataset is not None:
        from convlab.data import dataset_info

        info = dataset_info(dataset)
    if class_names is None:
        if info is None:
            raise ExportError(
                "Pass class_names=... or dataset=... so the answers can name classes."
            )
        class_names = info.class_names
    model_shape = tuple(model.input_shape[1:]) if len(model.inputs) == 1 else None
    if input_shape is None:
        input_shape = model_shape
    input_shape = tuple(int(d) for d in input_shape)
    if model_shape != input_shape:
        raise ExportError(
            f"input_shape {input_shape} does not match the model's single input "
            f"{model.input_shape}; export a model with one (H, W, C) input."
        )
    if info is not None and input_shape != info.image_shape:
        raise ExportError(
            f"The model takes {input_shape} but {info.title} images are {info.image_shape}."
        )
    outputs = model.output_shape
    if not (isinstance(outputs, tuple) and len(outputs) == 2 and outputs[1] == len(class_names)):
        raise ExportError(
            f"The model's output shape {outputs} does not match the {len(class_names)} class "
            "names; the model must end in a Dense(num_classes, softmax) layer."
        )
    try:
        Contract(input_shape, class_names)
    except ValueError as exc:
        raise ExportError(str(exc)) from None
    return input_shape, tuple(class_names), info.name if info else None


def render_inference_py(contract: Contract) -> str:
    """The text of ``code/inference.py``: contract.py with ``CONTRACT`` filled in."""
    source = Path(contract_module.__file__).read_text(encoding="utf-8")
    if source.count(_CONTRACT_LINE) != 1:
        raise RuntimeError(f"contract.py must hold the line {_CONTRACT_LINE!r} exactly once.")
    filled = f"CONTRACT = Contract(input_shape={contract.input_shape!r}, class_names={contract.class_names!r})"  # noqa: E501
    header = (
        f"# code/inference.py for the SageMaker TensorFlow Serving container, written by\n"
        f"# convlab {__version__} from convlab/deploy/contract.py. Do not edit: export again.\n"
    )
    return header + source.replace(_CONTRACT_LINE, filled)


def _tar_filter(info: tarfile.TarInfo) -> tarfile.TarInfo:
    # No local user names or ids inside the artifact.
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


@contextlib.contextmanager
def _quiet_tensorflow_logger():
    """Inside Jupyter, TensorFlow logs at INFO ("Assets written to ..."), to stdout and
    stderr; a strict book build counts stderr as a failure."""
    import tensorflow as tf

    logger = tf.get_logger()
    level = logger.level
    logger.setLevel("WARNING")
    try:
        yield
    finally:
        logger.setLevel(level)


def _write_tarball(model: keras.Model, contract: Contract, path: Path) -> None:
    with tempfile.TemporaryDirectory(prefix=".export-", dir=path.parent) as tmp:
        stage = Path(tmp)
        with _quiet_tensorflow_logger():
            model.export(str(stage / MODEL_VERSION), format="tf_saved_model", verbose=False)
        code = stage / "code"
        code.mkdir()
        (code / "inference.py").write_text(render_inference_py(contract), encoding="utf-8")
        (code / "requirements.txt").write_text(REQUIREMENTS, encoding="utf-8")
        partial = stage / TARBALL_FILE
        with tarfile.open(partial, "w:gz") as tar:
            # Members are "1/..." and "code/...", no "./" prefix: the layout SageMaker wants.
            for top in (MODEL_VERSION, "code"):
                tar.add(stage / top, arcname=top, filter=_tar_filter)
        os.replace(partial, path)


def _write_json(path: Path, document: dict) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    os.replace(partial, path)


def check_target(out_dir: str | os.PathLike, overwrite: bool = False) -> None:
    """Raise :class:`ExportError` if ``out_dir`` holds an export and ``overwrite`` is off."""
    out = Path(out_dir)
    existing = [f for f in (KERAS_FILE, METADATA_FILE, TARBALL_FILE) if (out / f).exists()]
    if existing and not overwrite:
        raise ExportError(
            f"{out} already holds an export ({', '.join(existing)}). Pick another directory "
            "or pass overwrite=True (--overwrite)."
        )


def export_model(
    model: keras.Model,
    out_dir: str | os.PathLike,
    *,
    class_names: tuple[str, ...] | list[str] | None = None,
    input_shape: tuple[int, int, int] | None = None,
    dataset: str | None = None,
    overwrite: bool = False,
) -> ExportedModel:
    """Write ``model.keras``, ``convlab.json`` and ``model.tar.gz`` to ``out_dir``.

    Args:
        model: a built Keras model with one ``(H, W, 1|3)`` float input in [0, 1] and a
            softmax output over the classes.
        out_dir: the export directory (created if missing).
        class_names: output ``i``'s name; defaults to the dataset's class names.
        input_shape: checked against the model's; defaults to it.
        dataset: a convlab dataset name, recorded and used for the defaults.
        overwrite: replace an earlier export in ``out_dir``.

    Returns:
        The :class:`ExportedModel` describing ``out_dir``.
    """
    import keras

    input_shape, class_names, dataset = _resolve(model, class_names, input_shape, dataset)
    out = Path(out_dir)
    check_target(out, overwrite)
    out.mkdir(parents=True, exist_ok=True)
    exported = ExportedModel(out, input_shape, class_names, dataset)
    contract = exported.contract
    # Metadata goes last, so a directory with convlab.json holds a complete export.
    exported.metadata_path.unlink(missing_ok=True)
    model.save(exported.keras_path)
    _write_tarball(model, contract, exported.tarball_path)
    _write_json(
        exported.metadata_path,
        {
            "format_version": FORMAT_VERSION,
            "convlab_version": __version__,
            "keras_version": keras.__version__,
            "dataset": dataset,
            "input_shape": list(input_shape),
            "class_names": list(class_names),
            "files": {"keras": KERAS_FILE, "sagemaker": TARBALL_FILE},
            "preprocessing": {
                "model_input": "float32 in [0, 1], shape (N, H, W, C)",
                "json": (
                    '{"instances": [image, ...]}; per image: values in [0, 255] are divided '
                    "by 255 when the largest is > 1, else used as 0-1"
                ),
                "images": (
                    f"PNG/JPEG converted to {'L' if input_shape[2] == 1 else 'RGB'}, "
                    f"resized bilinear to {input_shape[1]}x{input_shape[0]}, divided by 255"
                ),
                "contract": "convlab/deploy/contract.py (shipped as code/inference.py)",
            },
        },
    )
    return exported


def read_export(directory: str | os.PathLike) -> ExportedModel:
    """Read an export directory (or the ``model.keras`` file inside one)."""
    path = Path(directory)
    if path.is_file() and path.suffix == ".keras":
        path = path.parent
    meta = path / METADATA_FILE
    if not meta.is_file():
        raise ExportError(
            f"{path} is not a convlab export: {METADATA_FILE} is missing. Create one with "
            "convlab.deploy.export_model(...) or `convlab export`."
        )
    try:
        document = json.loads(meta.read_text(encoding="utf-8"))
        exported = ExportedModel(
            directory=path,
            input_shape=tuple(int(d) for d in document["input_shape"]),
            class_names=tuple(document["class_names"]),
            dataset=document.get("dataset"),
        )
        exported.contract  # noqa: B018 - validates shape and names
    except (ValueError, KeyError, TypeError) as exc:
        raise ExportError(f"{meta} is damaged ({exc}); export the model again.") from None
    if document.get("format_version") != FORMAT_VERSION:
        raise ExportError(
            f"{meta} has format_version {document.get('format_version')}; this convlab reads "
            f"{FORMAT_VERSION}. Export the model again with this version."
        )
    return exported
