"""convlab.views.study: a study's design, tables, summary and conclusion, checked against
the numbers they are made of."""

from __future__ import annotations

import dataclasses
import math

import conftest

from convlab import models
from convlab.experiments import (
    PROFILES,
    ResultsStore,
    get_study,
    load_study,
    plan,
)
from convlab.train import TrainResult
from convlab.views.study import (
    agreement_counts,
    conclusion,
    differences_table,
    matched_table,
    regime_table,
    studies_summary,
    study_intro,
    study_table,
    study_text,
)

SMOKE = PROFILES["smoke"]


def fake(spec, config, seed: int, acc: float) -> TrainResult:
    """A TrainResult without training; the tables read accuracy and the spec."""
    return conftest.fake_result(
        spec,
        config,
        seed,
        acc,
        test_loss=0.5,
        params=1,
        macs_per_image=1,
        train_size=300,
        wall_time_s=1.0,
        images_per_s=1.0,
    )


def stored(tmp_path, name: str, accuracy, seeds=(0, 1, 2)):
    """A study read back from a store of fake records; ``accuracy(arm_index, seed)``."""
    study, store = get_study(name), ResultsStore(tmp_path)
    index = {label: i for i, label in enumerate(study.arms)}
    for run in plan(study, SMOKE, "fashion-mnist", seeds):
        acc = accuracy(index[run.arm], run.seed)
        store.save(run.inputs, fake(run.spec, run.config, run.seed, acc))
    return load_study(study, SMOKE, store, "fashion-mnist", seeds)


def test_study_intro_states_question_fixed_settings_and_seeds(tmp_path):
    result = stored(tmp_path, "kernel-size", lambda i, s: 0.8)
    text = study_intro(result)
    assert result.study.question in text
    assert all(f"- {item}" in text for item in result.study.fixed)
    assert "3x3, 5x5, 7x7 (each compared with 3x3)" in text
    assert "3 seeds per arm, smoke profile, fashion-mnist" in text
    paired = stored(tmp_path / "d", "data-efficiency", lambda i, s: 0.8)
    assert "comparisons: CNN 1k vs MLP 1k; CNN 5k vs MLP 5k" in study_intro(paired)


def test_study_table_shows_each_arm_with_its_interval(tmp_path):
    result = stored(tmp_path, "kernel-size", lambda i, s: 0.80 + 0.01 * i + 0.002 * s)
    table = study_table(result)
    assert list(table.index) == ["3x3", "5x5", "7x7"]
    assert table.loc["3x3", "accuracy %"] == "80.20"
    ref = result.interval("3x3")
    assert table.loc["3x3", "95% CI"] == f"[{100 * ref.low:.2f}, {100 * ref.high:.2f}]"
    assert table.loc["7x7", "seeds"] == 3
    k5 = models.count_params(models.reference("cnn-k5"), (28, 28, 1), 10)
    assert table.loc["5x5", "parameters"] == f"{k5:,}"


def test_differences_table_has_one_row_per_comparison(tmp_path):
    # Arm i is i points better on every seed: differences are exact, intervals zero-width.
    result = stored(tmp_path, "kernel-size", lambda i, s: 0.80 + 0.01 * i + 0.002 * s)
    table = differences_table(result)
    assert list(table.index) == ["5x5 - 3x3", "7x7 - 3x3"]
    assert table.loc["7x7 - 3x3", "difference (points)"] == "+2.00"
    assert table.loc["7x7 - 3x3", "95% CI"] == "[+2.00, +2.00]"
    assert table.loc["7x7 - 3x3", "verdict"] == "better than 3x3 at 3 seeds"
    # An arm may take part in several comparisons (locality: CNN permuted vs two others).
    locality = stored(tmp_path / "l", "locality", lambda i, s: 0.8 + 0.001 * (i + s))
    assert list(differences_table(locality).index) == [
        f"{a} - {b}" for a, b in get_study("locality").pairs()
    ]


def test_studies_summary_lists_only_distinguishable_differences(tmp_path):
    clear = stored(tmp_path / "a", "kernel-size", lambda i, s: 0.80 + 0.01 * i + 0.002 * s)
    noisy = stored(tmp_path / "b", "padding", lambda i, s: 0.80 + 0.01 * ((i + s) % 2))
    summary = studies_summary([clear, noisy])
    assert summary.loc["kernel-size", "highest mean accuracy"] == "7x7 (82.20%)"
    assert summary.loc["kernel-size", "distinguishable differences (points)"] == (
        "5x5 vs 3x3 (+1.00); 7x7 vs 3x3 (+2.00)"
    )
    assert summary.loc["padding", "distinguishable differences (points)"] == "none"


def test_conclusion_by_hand(tmp_path):
    accs = {"3x3": [0.80, 0.82, 0.84], "5x5": [0.85, 0.86, 0.90], "7x7": [0.81, 0.83, 0.82]}
    result = stored(tmp_path, "kernel-size", lambda i, s: list(accs.values())[i][s])
    text = conclusion(result)
    # 5x5: mean 0.87, deviations -0.02, -0.01, 0.03 -> std sqrt(0.0014 / 2)
    half5 = 4.302653 * math.sqrt(0.0014 / 2) / math.sqrt(3)
    assert f"highest for 5x5 (87.00% ± {100 * half5:.2f})" in text and "6.57" in text
    assert "lowest for 3x3 (82.00%" in text
    assert "5x5 vs 3x3 +5.00 points [+2.52, +7.48]" in text
    assert "not distinguishable: 7x7 vs 3x3" in text


def test_nothing_distinguishable_is_said_in_words(tmp_path):
    accs = {"3x3": [0.80, 0.82, 0.84], "5x5": [0.81, 0.82, 0.83], "7x7": [0.79, 0.84, 0.82]}
    result = stored(tmp_path, "kernel-size", lambda i, s: list(accs.values())[i][s])
    text = conclusion(result)  # fake runs keep no test predictions: intervals over seeds
    assert "no difference is distinguishable from the noise of seeds (every 95%" in text
    assert text.startswith("In this build's regime (300 training images, 1 epoch, 3 seeds): ")


def test_one_seed_and_no_results_are_said_in_words(tmp_path):
    one = stored(tmp_path / "one", "padding", lambda i, s: 0.8, seeds=(0,))
    assert "With one seed nothing can be told apart" in conclusion(one)
    empty = load_study(get_study("padding"), SMOKE, ResultsStore(tmp_path / "e"), "fashion-mnist")
    assert "No results yet" in conclusion(empty)


def test_study_text_has_the_tables_numbers_and_the_conclusion(tmp_path):
    result = stored(tmp_path, "kernel-size", lambda i, s: 0.80 + 0.01 * i + 0.002 * s)
    text = study_text(result)
    table = study_table(result)
    for arm in ("3x3", "5x5", "7x7"):
        assert table.loc[arm, "accuracy %"] in text
    assert "7x7 - 3x3" in text and "+2.00" in text and "[+2.00, +2.00]" in text
    assert text.endswith(conclusion(result))
    assert f"{models.count_params(models.reference('cnn-k5'), (28, 28, 1), 10):,}" in text


def test_matched_table_puts_naive_and_matched_side_by_side(tmp_path):
    naive = stored(tmp_path / "n", "padding", lambda i, s: 0.80 + 0.01 * i + 0.002 * s)
    twin = stored(tmp_path / "m", "padding-matched", lambda i, s: 0.80 - 0.005 * i + 0.002 * s)
    table = matched_table(naive, twin)
    row = table.loc["valid - same"]
    assert row["difference (naive)"] == "+1.00 [+1.00, +1.00]"
    assert row["difference (matched)"] == "-0.50 [-0.50, -0.50]"
    p = twin.table()["params"]
    assert row["parameters (matched)"] == f"{int(p['valid']):,} vs {int(p['same']):,}"
    assert row["parameters (naive)"].startswith(f"{int(naive.table()['params']['valid']):,}")
    cap = stored(tmp_path / "c", "capacity", lambda i, s: 0.8)
    cap_twin = stored(tmp_path / "cm", "capacity-matched", lambda i, s: 0.8)
    text = matched_table(cap, cap_twin).loc["deeper - reference", "difference (matched)"]
    assert text.startswith("deeper cannot be built: no head matches")


def test_conclusion_names_arms_that_cannot_be_built(tmp_path):
    twin = stored(tmp_path, "capacity-matched", lambda i, s: 0.8)
    text = conclusion(twin)
    assert "No comparison could be made." in text
    assert "Not trained, since they cannot be built: deeper cannot be built: no head" in text
    assert "not distinguishable" not in text
    rows = regime_table(
        [(twin, _reference_of(tmp_path / "r", "capacity-matched", lambda i, s: 0.9))]
    )
    assert set(rows["this build"]) == set(rows["reference regime"]) == {"cannot be built"}
    assert set(rows["agree"]) == {"-"}


def _reference_of(tmp_path, name, accuracy):
    """A study in the reference regime as the reference file would hold it (fake runs)."""
    from convlab.experiments.reference import export_reference, reference_study

    study, store = get_study(name), ResultsStore(tmp_path)
    index = {label: i for i, label in enumerate(study.arms)}
    for run in plan(study, PROFILES["reference"], "fashion-mnist", (0, 1, 2)):
        store.save(
            run.inputs, fake(run.spec, run.config, run.seed, accuracy(index[run.arm], run.seed))
        )
    return reference_study(study, export_reference(store, [study]))


def test_regime_table_and_conclusion_say_where_the_reference_regime_differs(tmp_path):
    # quick: 5x5 better than 3x3; reference: 5x5 worse; 7x7 alike in both
    quick = stored(
        tmp_path / "q", "kernel-size", lambda i, s: (0.80, 0.85, 0.80)[i] + (0, 0.01, -0.01)[s]
    )
    ref = _reference_of(
        tmp_path / "r",
        "kernel-size",
        lambda i, s: (0.90, 0.88, 0.90)[i] + (0, 0.002, -0.002)[s] + (i == 2) * (0, 1e-3, -1e-3)[s],
    )
    table = regime_table([(quick, ref)])
    assert list(table.index) == [("kernel-size", "5x5 - 3x3"), ("kernel-size", "7x7 - 3x3")]
    assert list(table["agree"]) == ["NO", "yes"]
    assert agreement_counts(table) == {"n_measured": 2, "n_agree": 1}
    assert table.iloc[0]["this build"].endswith("better")
    assert "worse (3 seeds)" in table.iloc[0]["reference regime"]
    text = conclusion(quick, ref)
    assert "In the reference regime (54,000 training images, 15 epochs, 3 seeds)" in text
    assert "5x5 vs 3x3 is -2.00 points" in text and "(here: better)" in text
    assert "It agrees on the other comparison measured." in text
    same = conclusion(quick, quick)  # a regime always agrees with itself
    assert "the verdicts are the same for the 2 comparisons measured." in same
    none = _reference_of(tmp_path / "none", "padding", lambda i, s: 0.9)
    none = dataclasses.replace(
        none, runs=tuple(dataclasses.replace(r, result=None) for r in none.runs)
    )
    padding = stored(tmp_path / "p", "padding", lambda i, s: 0.8 + s / 100)
    assert set(regime_table([(padding, none)])["reference regime"]) == {"not yet measured"}
    assert "Not yet measured in the reference regime: valid vs same." in conclusion(padding, none)
    # An arm no regime can build is said with its reason, never as "not yet measured".
    unbuilt = dataclasses.replace(padding, unbuildable={"valid": "cannot be built: no head fits"})
    assert "Not yet measured" not in conclusion(unbuilt, none)
