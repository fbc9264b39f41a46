"""Shift robustness of a study's arms, on models whose answers are known.

An *invariant* model classifies by the image's total brightness (unchanged by a shift
that keeps the object in the frame); a *positional* one by the value of one pixel. On
images with a black border wider than the shift, the first retains exactly its accuracy
and the second loses what :func:`accuracy_vs_shift` (the trusted reference) says it does.
"""

from types import SimpleNamespace

import keras
import numpy as np
import pytest

from convlab.inspect import InspectError, accuracy_vs_shift, shift_robustness

SIDE, BORDER = 12, 3


def _model(kind: str):
    inputs = keras.Input((SIDE, SIDE, 1))
    if kind == "invariant":  # class 1 iff mean brightness > 0.25
        h = keras.layers.GlobalAveragePooling2D()(inputs)
        dense = keras.layers.Dense(2)
        out = dense(h)
        dense.set_weights([np.array([[-1.0, 1.0]]), np.array([0.25, -0.25])])
    else:  # class 1 iff the centre pixel > 0.5
        h = keras.layers.Flatten()(inputs)
        dense = keras.layers.Dense(2)
        out = dense(h)
        w = np.zeros((SIDE * SIDE, 2))
        w[(SIDE // 2) * SIDE + SIDE // 2] = [-1.0, 1.0]
        dense.set_weights([w, np.array([0.5, -0.5])])
    return keras.Model(inputs, out)


def _images(n=200, seed=0):
    rng = np.random.default_rng(seed)
    x = np.zeros((n, SIDE, SIDE, 1), dtype="float32")
    inner = SIDE - 2 * BORDER
    x[:, BORDER:-BORDER, BORDER:-BORDER, 0] = rng.random((n, inner, inner)) * rng.random((n, 1, 1))
    return x


def _study(models):
    runs = [
        SimpleNamespace(arm=arm, seed=seed, result=SimpleNamespace(model=m))
        for arm, per_seed in models.items()
        for seed, m in per_seed.items()
    ]
    return SimpleNamespace(study=SimpleNamespace(name="toy"), runs=runs)


@pytest.fixture(scope="module")
def measured():
    x = _images()
    inv, pos = _model("invariant"), _model("positional")
    y = np.argmax(np.asarray(pos(x)), axis=1)  # the positional model is right unshifted
    study = _study({"invariant": {0: inv, 1: inv}, "positional": {0: pos, 1: pos}})
    return x, y, inv, pos, shift_robustness(study, x, y, shifts=(1, 2))


def test_an_invariant_model_retains_all_its_accuracy(measured):
    *_, robust = measured
    for k in (1, 2):
        est = robust.retained("invariant", k)
        assert est.mean == pytest.approx(0.0, abs=1e-12)


def test_a_positional_model_loses_what_accuracy_vs_shift_says(measured):
    x, y, _, pos, robust = measured
    reference = accuracy_vs_shift({"pos": pos}, x, y, shifts=(0, 1, 2))["pos"]
    for k in (1, 2):
        assert robust.retained("positional", k).mean == pytest.approx(
            reference[k] - reference[0], abs=1e-9
        )
        assert robust.retained("positional", k).mean < -0.05
    diff = robust.difference("invariant", "positional", 2)
    assert diff.mean == pytest.approx(-robust.retained("positional", 2).mean)
    assert diff.low > 0  # the invariant arm loses distinguishably less


def test_table_has_a_row_per_arm_and_shift(measured):
    *_, robust = measured
    table = robust.table()
    assert len(table) == 4
    row = table[table["shift (pixels)"] == 2].loc["invariant"]
    assert row["accuracy %"] == row["shifted accuracy %"] and row["seeds"] == 2
    assert row["retained (points)"] == "+0.00"


def test_the_reading_follows_the_interval(measured):
    *_, robust = measured
    assert "distinguishably better" in robust.reading("invariant", "positional", 2)
    assert "distinguishably worse" in robust.reading("positional", "invariant", 2)
    d = robust.difference("invariant", "positional", 2)
    assert f"{100 * d.mean:+.2f} points" in robust.reading("invariant", "positional", 2)


def test_clear_errors(measured):
    x, y, inv, _, robust = measured
    with pytest.raises(InspectError, match="keep_models=True"):
        shift_robustness(_study({"a": {0: None}}), x, y)
    with pytest.raises(InspectError, match="must be > 0"):
        shift_robustness(_study({"a": {0: inv}}), x, y, shifts=(0,))
    with pytest.raises(InspectError, match="not measured"):
        robust.retained("invariant", 3)
    with pytest.raises(InspectError, match="No arm"):
        robust.retained("nope", 1)


def test_equal_arms_cannot_be_told_apart(measured):
    *_, robust = measured
    assert "cannot tell them apart" in robust.reading("invariant", "invariant", 1)
