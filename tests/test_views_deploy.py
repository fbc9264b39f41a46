"""convlab.views.deploy: the artifact table against tarfile, the figure against the answers
the serving contract writes."""

from __future__ import annotations

import io
import tarfile

import matplotlib.colors as mcolors
import numpy as np
import pytest

from convlab.deploy.contract import Contract
from convlab.errors import ConvlabError
from convlab.views.deploy import RIGHT, WRONG, artifact_table, predictions_figure

NAMES = ("zero", "one", "two", "three")


def test_artifact_table_lists_the_files_and_their_sizes(tmp_path):
    path = tmp_path / "model.tar.gz"
    files = {"1/saved_model.pb": b"x" * 10, "1/variables/variables.index": b"yz", "code/a.py": b""}
    with tarfile.open(path, "w:gz") as tar:
        for directory in ("1", "1/variables", "code"):
            info = tarfile.TarInfo(directory)
            info.type = tarfile.DIRTYPE
            tar.addfile(info)
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    table = artifact_table(path)
    assert list(table.index) == list(files)  # files only, in archive order
    assert list(table["bytes"]) == [len(d) for d in files.values()]


def test_artifact_table_of_a_file_that_is_not_a_tarball(tmp_path):
    path = tmp_path / "model.tar.gz"
    path.write_bytes(b"not a tar file")
    with pytest.raises(ConvlabError, match="cannot be read as a tar archive"):
        artifact_table(path)


def answers(probabilities: np.ndarray, k: int = 3) -> list[dict]:
    return Contract((4, 4, 1), NAMES).encode(probabilities, k)["predictions"]


@pytest.fixture
def two():
    images = np.random.default_rng(0).random((2, 4, 4, 1)).astype(np.float32)
    probs = np.array([[0.1, 0.7, 0.15, 0.05], [0.6, 0.1, 0.1, 0.2]])
    return images, answers(probs), np.array([1, 3])  # the first right, the second wrong


def colour(patch) -> str:
    return mcolors.to_hex(patch.get_facecolor())


def test_each_image_is_shown_beside_its_answer(two):
    images, preds, labels = two
    fig = predictions_figure(images, preds, labels, NAMES, cols=2)
    axes = fig.get_axes()
    assert len(axes) == 4
    image_axes, bar_axes = axes[0::2], axes[1::2]
    assert [a.get_title() for a in image_axes] == ["true: one", "true: three"]
    assert [a.get_title() for a in bar_axes] == ["one 70%", "zero 60%"]
    for ax, image in zip(image_axes, images, strict=True):
        np.testing.assert_array_equal(ax.images[0].get_array(), image[..., 0])
    # Best class on top: bars bottom-up are the top-3 reversed, widths are probabilities.
    first, second = bar_axes
    assert [t.get_text() for t in first.get_yticklabels()] == ["zero", "two", "one"]
    assert [p.get_width() for p in first.patches] == pytest.approx([0.1, 0.15, 0.7])
    assert colour(first.patches[-1]) == mcolors.to_hex(RIGHT)
    # Wrong: the best bar is red and the true class, if listed, is green.
    assert [t.get_text() for t in second.get_yticklabels()] == ["one", "three", "zero"]
    assert colour(second.patches[-1]) == mcolors.to_hex(WRONG)
    assert colour(second.patches[1]) == mcolors.to_hex(RIGHT)


def test_rgb_images_and_a_grid_with_empty_cells():
    images = np.random.default_rng(1).integers(0, 256, (3, 5, 5, 3), dtype=np.uint8)
    probs = np.eye(4)[[0, 1, 2]]
    fig = predictions_figure(images, answers(probs, k=1), [0, 1, 2], NAMES, cols=2)
    axes = fig.get_axes()
    assert len(axes) == 8  # 2 rows of 2 pairs; the last pair is switched off
    assert not axes[6].axison and not axes[7].axison
    np.testing.assert_array_equal(axes[4].images[0].get_array(), images[2])
    assert [len(a.patches) for a in axes[1:6:2]] == [1, 1, 1]


def test_mismatched_lengths_are_refused(two):
    images, preds, labels = two
    with pytest.raises(ConvlabError, match="one image, one answer and one label"):
        predictions_figure(images[:1], preds, labels, NAMES)
    with pytest.raises(ConvlabError, match="cols"):
        predictions_figure(images, preds, labels, NAMES, cols=0)
