"""convlab.experiments.family: the book's comparisons counted once, Holm-adjusted."""

from __future__ import annotations

import dataclasses
import math

import conftest
import pytest

from convlab.experiments import PROFILES, ResultsStore, get_study, load_study, plan
from convlab.experiments.family import comparisons, family_counts
from convlab.experiments.intervals import holm

SMOKE = PROFILES["smoke"]


def stored(store, name, accuracy, seeds=(0, 1, 2)):
    """A smoke study from fake records; ``accuracy(arm, seed)``."""
    study = get_study(name)
    for run in plan(study, SMOKE, "fashion-mnist", seeds):
        fake = conftest.fake_result(run.spec, run.config, run.seed, accuracy(run.arm, run.seed))
        store.save(run.inputs, fake)
    return load_study(study, SMOKE, store, "fashion-mnist", seeds)


def test_each_comparison_counts_once_and_holm_adjusts_over_all(tmp_path):
    store = ResultsStore(tmp_path)
    # the CNN clearly better, every other arm like the reference up to a little noise
    noise = {0: 0.001, 1: -0.002, 2: 0.0015}

    def acc(arm, seed):
        return 0.9 if arm in ("CNN", "3x3") else 0.8 + noise[seed] * (1 + len(arm) % 3)

    mlp_vs_cnn = stored(store, "mlp-vs-cnn", acc)
    kernel = stored(store, "kernel-size", acc)
    family = comparisons([mlp_vs_cnn, kernel, kernel])  # the same study twice counts once
    assert len(family) == len(mlp_vs_cnn.differences()) + len(kernel.differences())
    assert list(family["p_holm"]) == pytest.approx(holm(list(family["p_value"])), nan_ok=True)
    assert (family["p_holm"] >= family["p_value"]).all()
    first = family.iloc[0]
    assert (first["study"], first["arm"], first["vs"]) == ("mlp-vs-cnn", "CNN", "MLP")
    assert first["distinguishable"] and first["after_holm"]
    assert family["after_holm"].sum() <= family["distinguishable"].sum()
    counts = family_counts(family)
    assert counts["n_comparisons"] == len(family) and counts["n_holm"] >= 1
    assert counts["n_apart"] == int(family["distinguishable"].sum())


def test_a_comparison_two_studies_share_is_counted_under_the_first(tmp_path):
    """Same runs under another study's name (as a matched study shares the reference arm):
    one comparison, listed under the study that comes first."""
    result = stored(ResultsStore(tmp_path), "mlp-vs-cnn", lambda arm, seed: 0.8 + seed / 100)
    twin = dataclasses.replace(result, study=dataclasses.replace(result.study, name="twin"))
    family = comparisons([twin, result])
    assert list(family["study"]) == ["twin"]
    assert len(comparisons([result, twin])) == 1


def test_a_comparison_with_one_seed_is_listed_but_not_counted(tmp_path):
    result = stored(ResultsStore(tmp_path), "mlp-vs-cnn", lambda a, s: 0.8, seeds=(0,))
    family = comparisons([result])
    assert len(family) == 1 and math.isnan(family.iloc[0]["p_value"])
    assert math.isnan(family.iloc[0]["p_holm"]) and not family.iloc[0]["after_holm"]
    assert family_counts(family) == {"n_comparisons": 0, "n_apart": 0, "n_holm": 0}
