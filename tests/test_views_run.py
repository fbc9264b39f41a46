"""convlab.views.run: figures of one run, drawn from its history and confusion matrix."""

from __future__ import annotations

import conftest
import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

from convlab import models  # noqa: E402
from convlab.errors import ConvlabError  # noqa: E402
from convlab.train import TrainConfig, TrainResult  # noqa: E402
from convlab.views.run import confusion_figure, run_curves  # noqa: E402


def result(history=None, confusion=((8, 2, 0), (1, 9, 0), (0, 0, 0))) -> TrainResult:
    history = history or {
        "loss": [1.0, 0.6, 0.5],
        "accuracy": [0.5, 0.7, 0.8],
        "val_loss": [0.9, 0.7, 0.75],
        "val_accuracy": [0.55, 0.72, 0.74],
    }
    return conftest.fake_result(
        models.reference("mlp"),
        TrainConfig(),
        7,
        0.85,
        class_names=("cat", "dog", "emu"),
        history=history,
        best_epoch=2,
        test_loss=0.7,
        per_class_accuracy=(0.8, 0.9, 0.0),
        confusion=confusion,
    )


def test_run_curves_plot_training_and_validation_per_epoch():
    before = plt.get_fignums()
    fig = run_curves(result())
    loss, acc = fig.get_axes()
    lines = {line.get_label(): line for line in loss.get_lines()}
    np.testing.assert_allclose(lines["training"].get_ydata(), [1.0, 0.6, 0.5])
    np.testing.assert_allclose(lines["validation"].get_ydata(), [0.9, 0.7, 0.75])
    lines = {line.get_label(): line for line in acc.get_lines()}
    np.testing.assert_allclose(lines["validation"].get_ydata(), [55, 72, 74])  # percent
    marks = [line for line in acc.get_lines() if list(line.get_xdata()) == [2, 2]]
    assert marks, "the kept epoch is marked"
    assert "epoch 2" in fig._suptitle.get_text()
    assert plt.get_fignums() == before  # nothing left open in pyplot


def test_run_curves_need_a_history():
    with pytest.raises(ConvlabError, match="no history"):
        run_curves(result(history={"loss": []}))


def test_confusion_figure_labels_rows_and_columns_with_shares():
    fig = confusion_figure(result())
    ax = fig.get_axes()[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["cat", "dog", "emu"]
    np.testing.assert_allclose(
        ax.images[0].get_array(), [[80, 20, 0], [10, 90, 0], [np.nan, np.nan, np.nan]]
    )
    assert {t.get_text() for t in ax.texts} == {"80", "20", "10", "90"}
