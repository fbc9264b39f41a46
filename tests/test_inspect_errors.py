"""Per-class tables, confused pairs and mistakes, from hand-made confusion matrices."""

import numpy as np
import pytest

from convlab.inspect import (
    InspectError,
    confused_pairs,
    confused_pairs_figure,
    misclassified_gallery,
    misclassified_indices,
    per_class_figure,
    per_class_table,
    predict_classes,
)

NAMES = ("cat", "dog", "fox")
# rows: true, columns: predicted
A = [[8, 2, 0], [1, 9, 0], [0, 0, 10]]
B = [[6, 1, 3], [4, 5, 1], [0, 2, 8]]


def test_per_class_table_is_recall_per_model_and_their_difference():
    t = per_class_table({"MLP": A, "CNN": B}, NAMES)
    assert list(t.index) == list(NAMES)
    np.testing.assert_allclose(t["MLP"], [0.8, 0.9, 1.0])
    np.testing.assert_allclose(t["CNN"], [0.6, 0.5, 0.8])
    np.testing.assert_allclose(t["difference"], [-0.2, -0.4, -0.2])
    assert len(per_class_figure(t).axes[0].patches) == 6
    assert "difference" not in per_class_table({"a": A, "b": A, "c": B}, NAMES)


def test_confused_pairs_count_both_directions_most_first():
    p = confused_pairs(B, NAMES, top=5)
    # cat<->dog 1+4=5, cat<->fox 3+0=3, dog<->fox 1+2=3 (tie: class order)
    assert list(zip(p["a"], p["b"], p["total"], strict=True)) == [
        ("cat", "dog", 5),
        ("cat", "fox", 3),
        ("dog", "fox", 3),
    ]
    assert (p.loc[0, "a_as_b"], p.loc[0, "b_as_a"]) == (1, 4)
    np.testing.assert_allclose(p["share"], np.array([5, 3, 3]) / 11)
    assert len(confused_pairs(A, NAMES)) == 1  # pairs never confused are left out


def test_a_confusion_matrix_of_the_wrong_size_is_refused():
    with pytest.raises(InspectError, match="3x3"):
        confused_pairs([[1, 0], [0, 1]], NAMES)


def test_mistakes_are_only_wrong_predictions_and_seeded():
    y = np.array([0, 1, 2, 0, 1, 2, 0, 1])
    pred = np.array([0, 2, 2, 1, 1, 0, 0, 0])
    wrong = {1, 3, 5, 7}
    assert set(misclassified_indices(y, pred, n=10)) == wrong
    a, b = misclassified_indices(y, pred, n=2, seed=3), misclassified_indices(y, pred, 2, seed=3)
    np.testing.assert_array_equal(a, b)
    assert set(a) <= wrong and len(a) == 2
    with pytest.raises(InspectError, match="every prediction is right"):
        misclassified_indices(y, y)


def test_figures_show_the_chosen_images():
    rng = np.random.default_rng(0)
    x = rng.random((8, 5, 5, 1))
    y = np.array([0, 1, 2, 0, 1, 2, 0, 1])
    pred = np.array([0, 2, 2, 1, 1, 0, 0, 0])
    fig = misclassified_gallery(x, y, pred, NAMES, n=3, cols=2)
    assert sum(len(ax.images) for ax in fig.axes) == 3
    conf = np.zeros((3, 3), dtype=int)
    np.add.at(conf, (y, pred), 1)
    pairs = confused_pairs(conf, NAMES)
    fig = confused_pairs_figure(x, y, pred, pairs, per_direction=2)
    # each wrong image belongs to exactly one direction of one pair and fits in 2 slots
    assert sum(len(ax.images) for ax in fig.axes) == 4


def test_predict_classes_is_the_argmax():
    class Fixed:  # a "model" whose probabilities we choose, called as train.predict_proba does
        def __call__(self, x, training):
            return np.array([[0.1, 0.9], [0.7, 0.3], [0.2, 0.8]])[: len(x)]

    np.testing.assert_array_equal(predict_classes(Fixed(), np.zeros(3)), [1, 0, 1])
