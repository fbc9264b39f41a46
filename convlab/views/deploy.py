"""What the deployment chapter shows: the artifact's files and the endpoint's answers.

- :func:`artifact_table`: the members of a ``model.tar.gz``, with their sizes.
- :func:`predictions_figure`: each image beside the endpoint's answer for it (its best
  classes and their probabilities), titled with the true label.
- :func:`serving_check_sentence`: what the serving-version check verified, where and when.

Figures are made without pyplot, so nothing is shown or kept open behind the caller's
back: a notebook displays the returned figure once.

Example (against a running server; see the deployment chapter):
    >>> answers = [predict_local(url, encode_image(x))["predictions"][0] for x in x_test[:8]]
    >>> predictions_figure(x_test[:8], answers, y_test[:8], class_names)
"""

from __future__ import annotations

import os
import tarfile
from collections.abc import Sequence

import numpy as np
import pandas as pd

from convlab.errors import ConvlabError
from convlab.views.plot import grid, show_image

__all__ = ["RIGHT", "WRONG", "artifact_table", "predictions_figure", "serving_check_sentence"]

RIGHT, WRONG, OTHER = "tab:green", "tab:red", "0.7"  # bar colours


def artifact_table(tarball: str | os.PathLike) -> pd.DataFrame:
    """The files in a ``model.tar.gz``, in archive order: ``member`` (path) and ``bytes``."""
    try:
        with tarfile.open(tarball) as tar:
            rows = [(m.name, m.size) for m in tar.getmembers() if m.isfile()]
    except (OSError, tarfile.TarError) as exc:
        raise ConvlabError(f"{tarball} cannot be read as a tar archive ({exc}).") from None
    return pd.DataFrame(rows, columns=["member", "bytes"]).set_index("member")


def predictions_figure(
    images: Sequence[np.ndarray] | np.ndarray,
    predictions: Sequence[dict],
    labels: Sequence[int] | np.ndarray,
    class_names: Sequence[str],
    cols: int = 2,
):
    """Each image, and beside it the endpoint's most probable classes as bars.

    Args:
        images: ``(N, H, W[, C])`` in [0, 1] or uint8, the images that were sent.
        predictions: the endpoint's answer for each image, in order: an entry of
            ``answer["predictions"]`` with ``class``, ``probability`` and ``top_k``.
        labels: the true class index of each image.
        class_names: name of each class index.
        cols: image-and-answer pairs per row.

    Returns:
        A matplotlib ``Figure``. Image ``i``'s title is ``true: <class>``; its bar chart
        is titled with the predicted class and probability and draws the ``top_k``
        classes, best on top: green for the true class, red for a wrong best class.
    """
    n = len(predictions)
    if n == 0 or len(images) != n or len(labels) != n:
        raise ConvlabError(
            f"Need one image, one answer and one label per image; got {len(images)} images, "
            f"{n} answers and {len(labels)} labels."
        )
    if cols < 1:
        raise ConvlabError(f"cols must be at least 1; got {cols}.")
    cols = min(cols, n)
    rows = -(-n // cols)
    fig, axes = grid(rows, 2 * cols, cell=1.5)
    for ax in axes.flat[2 * n :]:
        ax.set_axis_off()
    for i, (image, answer, label) in enumerate(zip(images, predictions, labels, strict=True)):
        image_ax, bars_ax = axes.flat[2 * i], axes.flat[2 * i + 1]
        true = class_names[int(label)]
        show_image(image_ax, image, f"true: {true}")
        best = answer.get("top_k", [answer])
        names = [entry["class"] for entry in best][::-1]  # barh draws bottom-up
        probs = [entry["probability"] for entry in best][::-1]
        colours = [RIGHT if name == true else OTHER for name in names]
        if answer["class"] != true:
            colours[-1] = WRONG
        bars_ax.barh(range(len(names)), probs, color=colours)
        bars_ax.set_xlim(0, 1)
        bars_ax.set_yticks(range(len(names)), names, fontsize=7)
        bars_ax.set_title(f"{answer['class']} {answer['probability']:.0%}", fontsize=8)
    return fig


def serving_check_sentence(record: dict) -> str:
    """One Markdown sentence from :func:`convlab.deploy.serving_check.load_serving_check`."""
    worst = max(c["max_abs_difference"] for c in record["cases"].values())
    bodies = " and ".join(name.upper() for name in sorted(record["cases"]))
    served, wrote = record["serving_tensorflow"], record["exported_by"]["tensorflow"]
    where = f"on {record['verified']} ({record['machine']})"
    if not record["agrees"]:
        return (
            f"**Not verified**: {where}, TensorFlow {served} did not answer as Keras did for "
            f"an export written by TensorFlow {wrote}. Export with TensorFlow {served} instead."
        )
    return (
        f"Verified {where}: TensorFlow {served} loaded an export written by TensorFlow "
        f"{wrote} and, through `code/inference.py`, answered {bodies} requests as "
        f"the Keras model did (largest probability difference {worst:.1e}); "
        "`bash checks/serving_version.sh` repeats the check."
    )
