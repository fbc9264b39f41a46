"""Does the TensorFlow of SageMaker's newest TensorFlow Serving container read our export?

convlab's export (``model.tar.gz``: a SavedModel ``1/`` and ``code/inference.py``) is
written by the project's TensorFlow; the container serves an older one, and TensorFlow
promises only that newer versions read older models. This check runs the artifact the way
the container would, under the container's TensorFlow, and compares the answers with the
Keras model's. Two steps, in two virtual environments (``checks/serving_version.sh`` makes
the second and runs both):

    python checks/serving_version.py prepare DIR   # the project's venv: export + answers
    python checks/serving_version.py verify DIR    # a venv with only tensorflow-cpu==2.20.*,
                                                   # Pillow (and NumPy): no convlab

``prepare`` exports the book's reference CNN (seeded weights; the format, not the accuracy,
is on trial) and writes the request bodies (a PNG of a real test image, a JSON batch) and
the local server's answers to them. ``verify`` loads ``1/`` with ``tf.saved_model.load``,
imports ``code/inference.py`` as the container does, sends each body through
``input_handler`` -> ``serving_default`` -> ``output_handler`` with a container-like context,
and compares every probability with the prepared answer (at most 1e-5 apart, the same
class and top-k). It writes ``DIR/verified.json`` and, with ``--record FILE``, the same
record for the deployment chapter (``convlab/deploy/serving_check.json``). Exit status 0
only if every answer agrees.
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import json
import platform
import sys
import tarfile
import time
from collections import namedtuple
from pathlib import Path

TOLERANCE = 1e-5
# The container's Context and TensorFlow Serving's response, with the fields the handlers read.
Context = namedtuple("Context", "request_content_type accept_header custom_attributes")
TfsResponse = namedtuple("TfsResponse", "status_code content")


def prepare(out: Path) -> None:
    import keras
    from PIL import Image

    from convlab import data, models
    from convlab.deploy import Predictor, export_model

    ds = data.load("fashion-mnist", download=False)
    spec = models.reference(models.reference_models("fashion-mnist")[1])
    keras.utils.set_random_seed(0)
    model = models.build(spec, ds.info.image_shape, ds.info.num_classes)
    exported = export_model(model, out / "export", dataset="fashion-mnist", overwrite=True)
    png = io.BytesIO()
    Image.fromarray(ds.x_test[0]).save(png, "PNG")
    bodies = {
        "png": (png.getvalue(), "image/png", None),
        "json": (
            json.dumps({"instances": ds.x_test[1:4].tolist()}).encode(),
            "application/json",
            "top_k=3",
        ),
    }
    local = Predictor.from_export(exported)
    cases = {}
    for name, (body, content_type, attributes) in bodies.items():
        (out / f"{name}.body").write_bytes(body)
        top_k = None if attributes is None else int(attributes.split("=")[1])
        cases[name] = {
            "content_type": content_type,
            "custom_attributes": attributes,
            "expected": local.answer(body, content_type, top_k),
        }
    import tensorflow as tf

    meta = {"exported_by": {"tensorflow": tf.__version__, "keras": keras.__version__}}
    meta["model"] = models.describe(spec)
    meta["cases"] = cases
    (out / "prepared.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
    print(f"exported with TensorFlow {tf.__version__} to {exported.tarball_path}")


def _inference_module(code: Path):
    """code/inference.py imported as the container imports it (its folder on sys.path)."""
    sys.path.insert(0, str(code))
    spec = importlib.util.spec_from_file_location("inference", code / "inference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _differences(got: dict, want: dict) -> tuple[float, list[str]]:
    worst, problems = 0.0, []
    if len(got["predictions"]) != len(want["predictions"]):
        return float("inf"), ["a different number of predictions"]
    for i, (p, q) in enumerate(zip(got["predictions"], want["predictions"], strict=True)):
        if list(p["probabilities"]) != list(q["probabilities"]):
            problems.append(f"image {i}: different class names")
            continue
        worst = max(
            worst, *(abs(p["probabilities"][c] - q["probabilities"][c]) for c in q["probabilities"])
        )
        if p["class"] != q["class"]:
            problems.append(f"image {i}: class {p['class']!r}, expected {q['class']!r}")
        if [t["class"] for t in p.get("top_k", [])] != [t["class"] for t in q.get("top_k", [])]:
            problems.append(f"image {i}: a different top-k")
    return worst, problems


def _machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            cpu = next(ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{cpu}, {platform.system()}, Python {platform.python_version()}"


def verify(out: Path, record: Path | None) -> int:
    import numpy as np
    import tensorflow as tf

    meta = json.loads((out / "prepared.json").read_text(encoding="utf-8"))
    unpacked = out / "unpacked"
    with tarfile.open(out / "export" / "model.tar.gz") as tar:
        safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
        tar.extractall(unpacked, **safe)
    signature = tf.saved_model.load(str(unpacked / "1")).signatures["serving_default"]
    (input_name,) = signature.structured_input_signature[1]
    (output_name,) = signature.structured_outputs
    inference = _inference_module(unpacked / "code")
    results, ok = {}, True
    for name, case in meta["cases"].items():
        context = Context(case["content_type"], "application/json", case["custom_attributes"])
        body = (out / f"{name}.body").read_bytes()
        request = json.loads(inference.input_handler(io.BytesIO(body), context))
        x = tf.constant(np.asarray(request["instances"], dtype=np.float32))
        probabilities = signature(**{input_name: x})[output_name].numpy()
        response = TfsResponse(200, json.dumps({"predictions": probabilities.tolist()}).encode())
        text, content_type = inference.output_handler(response, context)
        worst, problems = _differences(json.loads(text), case["expected"])
        agrees = not problems and worst <= TOLERANCE and content_type == "application/json"
        ok &= agrees
        results[name] = {"max_abs_difference": worst, "problems": problems, "agrees": agrees}
        print(
            f"{name} ({case['content_type']}): max |difference| {worst:.1e}, "
            f"{'agrees' if agrees else 'DIFFERS: ' + '; '.join(problems)}"
        )
    verified = {
        "verified": time.strftime("%Y-%m-%d"),
        "machine": _machine(),
        "serving_tensorflow": tf.__version__,
        "exported_by": meta["exported_by"],
        "model": meta["model"],
        "tolerance": TOLERANCE,
        "cases": results,
        "agrees": ok,
        "command": "bash checks/serving_version.sh",
    }
    text = json.dumps(verified, indent=1) + "\n"
    (out / "verified.json").write_text(text, encoding="utf-8")
    if record is not None:
        record.write_text(text, encoding="utf-8")
    exported = meta["exported_by"]["tensorflow"]
    print(
        f"TensorFlow {tf.__version__} {'serves' if ok else 'does NOT serve'} the export "
        f"of TensorFlow {exported} as Keras predicts it"
    )
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("step", choices=("prepare", "verify"))
    parser.add_argument("dir", type=Path, help="where the export and the answers go")
    parser.add_argument("--record", type=Path, default=None, help="also write the result here")
    args = parser.parse_args(argv)
    args.dir.mkdir(parents=True, exist_ok=True)
    if args.step == "prepare":
        prepare(args.dir)
        return 0
    return verify(args.dir, args.record)


if __name__ == "__main__":
    sys.exit(main())
