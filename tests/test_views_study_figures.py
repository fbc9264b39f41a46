"""Study figures: returned (never shown), and plotting the numbers they stand for."""

import matplotlib

matplotlib.use("Agg")

import conftest  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from convlab.experiments import PROFILES, ResultsStore, get_study, load_study, plan  # noqa: E402
from convlab.views.study_figures import (  # noqa: E402
    accuracy_plot,
    accuracy_vs_params,
    forest_plot,
    study_curves,
)


def fake(spec, config, seed, acc):
    """A TrainResult without training: only what the figures read matters."""
    history = {
        "loss": [1.0, 0.5],
        "accuracy": [0.5, acc],
        "val_loss": [1.1, 0.6],
        "val_accuracy": [0.4, acc - 0.01],
    }
    return conftest.fake_result(
        spec, config, seed, acc, history=history, best_epoch=2, params=1000, images_per_s=100.0
    )


def stored_result(tmp_path, name, seeds=(0, 1, 2)):
    """A study whose runs are fake records written to a store, read back by load_study."""
    study, profile, store = get_study(name), PROFILES["smoke"], ResultsStore(tmp_path)
    for i, run in enumerate(plan(study, profile, "fashion-mnist", seeds)):
        store.save(
            run.inputs,
            fake(run.spec, run.config, run.seed, 0.8 + 0.01 * (i % 5) + 0.003 * run.seed),
        )
    return load_study(study, profile, store, "fashion-mnist", seeds)


def test_figures_are_returned_not_shown(tmp_path):
    result = stored_result(tmp_path, "kernel-size")
    assert not result.missing
    before = plt.get_fignums()
    fig = accuracy_plot(result)
    assert isinstance(fig, Figure)
    (ax,) = fig.axes
    assert [t.get_text() for t in ax.get_xticklabels()] != []  # numeric x: kernel sizes
    assert ax.get_ylabel() == "test accuracy (%)"
    assert "3 seeds" in ax.get_title()
    fig2 = accuracy_vs_params(result)
    assert fig2.axes[0].get_xscale() == "log"
    assert {t.get_text() for t in fig2.axes[0].get_legend().get_texts()} == {"3x3", "5x5", "7x7"}
    fig3 = study_curves(result)
    legend = [t.get_text() for t in fig3.axes[0].get_legend().get_texts()]
    assert legend == ["3x3", "5x5", "7x7"]
    # one mean line + one thin line per seed, per arm
    assert len(fig3.axes[0].lines) == 3 * (1 + 3)
    assert plt.get_fignums() == before  # nothing registered with pyplot
    fig.savefig(tmp_path / "k.png")
    assert (tmp_path / "k.png").stat().st_size > 0


def test_categorical_and_grouped_variables(tmp_path):
    down = stored_result(tmp_path, "downsampling", seeds=(0, 1))
    ax = accuracy_plot(down).axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == list(get_study("downsampling").arms)
    eff = stored_result(tmp_path, "data-efficiency", seeds=(0, 1))
    ax = accuracy_plot(eff).axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "MLP",
        "CNN",
        "MLP, equal steps",
        "CNN, equal steps",
    ]
    assert ax.get_xscale() == "log"


def test_learning_curves_without_runs(tmp_path):
    empty = load_study(get_study("padding"), "smoke", ResultsStore(tmp_path), "fashion-mnist")
    assert study_curves(empty).axes[0].get_title() == "no finished runs yet"


def _bars(container):
    """(x, y, low, high) of an errorbar container: the points and their bars' ends."""
    points, _caps, (segments,) = container.lines
    ends = np.array([seg[:, 1] for seg in segments.get_segments()])
    return points.get_xdata(), points.get_ydata(), ends.min(axis=1), ends.max(axis=1)


def test_accuracy_plot_draws_each_mean_its_interval_and_every_seed(tmp_path):
    result = stored_result(tmp_path, "kernel-size")
    ax = accuracy_plot(result).axes[0]
    (container,) = ax.containers
    x, y, low, high = _bars(container)
    assert list(x) == [3.0, 5.0, 7.0]
    for i, arm in enumerate(result.study.arms):
        iv = result.interval(arm)
        assert y[i] == pytest.approx(100 * iv.mean)
        assert low[i] == pytest.approx(100 * iv.low) and high[i] == pytest.approx(100 * iv.high)
    dots = [
        line for line in ax.lines if line.get_linestyle() == "None" and line.get_marker() == "."
    ]
    seeds = sorted(round(v, 6) for line in dots for v in line.get_ydata())
    expected = sorted(
        round(100 * a, 6) for arm in result.study.arms for a in result.accuracies(arm).values()
    )
    assert seeds == expected


def test_accuracy_vs_params_puts_each_arm_at_its_parameter_count(tmp_path):
    result = stored_result(tmp_path, "kernel-size")
    ax = accuracy_vs_params(result).axes[0]
    bars = [_bars(c) for c in ax.containers]  # one per arm
    x, y, low, high = (np.concatenate(parts) for parts in zip(*bars, strict=True))
    table = result.table()
    assert list(x) == list(table["params"])
    assert list(y) == pytest.approx(list(100 * table["mean_accuracy"]))
    assert list(high - y) == pytest.approx(list(100 * table["ci95_half_width"]))
    # named in a legend, not by text beside the points (which overlapped)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [str(a) for a in table.index]
    assert len(ax.texts) == 0


def test_study_curves_plot_the_mean_over_seeds(tmp_path):
    result = stored_result(tmp_path, "kernel-size")
    ax = study_curves(result).axes[0]
    means = [line for line in ax.lines if line.get_marker() == "o"]
    curves = result.curves()
    for line, arm in zip(means, result.study.arms, strict=True):
        expected = curves[curves["arm"] == arm].groupby("epoch")["val_accuracy"].mean() * 100
        assert list(line.get_ydata()) == pytest.approx(list(expected))


def test_forest_plot_draws_each_paired_difference_and_the_references_below_it(tmp_path):
    result = stored_result(tmp_path / "a", "kernel-size")
    reference = stored_result(tmp_path / "b", "kernel-size", seeds=(0, 1))
    ax = forest_plot([("k", result, reference)]).axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["k: 5x5 - 3x3", "", "k: 7x7 - 3x3", ""]
    bars = [line for line in ax.lines if len(line.get_xdata()) == 2]  # interval lines
    d, ref = result.differences(), reference.differences()
    expected = [
        (100 * d.iloc[0]["ci95_low"], 100 * d.iloc[0]["ci95_high"]),
        (100 * ref.iloc[0]["ci95_low"], 100 * ref.iloc[0]["ci95_high"]),
        (100 * d.iloc[1]["ci95_low"], 100 * d.iloc[1]["ci95_high"]),
        (100 * ref.iloc[1]["ci95_low"], 100 * ref.iloc[1]["ci95_high"]),
    ]
    drawn = [x for b in bars if b.get_linestyle() == "-" for x in b.get_xdata()]
    assert drawn == pytest.approx([x for pair in expected for x in pair])
    assert [t.get_text() for t in ax.figure.legends[0].get_texts()] == [
        "this build",
        "reference regime",
    ]
    main = forest_plot([("k", result, None)], main_only=True).axes[0]
    assert [t.get_text() for t in main.get_yticklabels()] == ["k: 5x5 - 3x3"]
    assert main.get_legend() is None and not main.figure.legends


def test_forest_plot_says_why_a_row_has_no_interval(tmp_path):
    import dataclasses

    result = stored_result(tmp_path / "a", "kernel-size")
    broken = dataclasses.replace(
        result,
        runs=tuple(r for r in result.runs if r.arm != "7x7"),
        unbuildable={"7x7": "cannot be built: no head matches"},
    )
    missing = dataclasses.replace(result, runs=tuple(r for r in result.runs if r.arm != "5x5"))
    texts = [t.get_text().strip() for t in forest_plot([("k", broken, None)]).axes[0].texts]
    assert texts == ["cannot be built"]
    texts = [t.get_text().strip() for t in forest_plot([("k", missing, None)]).axes[0].texts]
    assert texts == ["not measured"]
    nothing = dataclasses.replace(result, runs=tuple(r for r in result.runs if r.arm != "7x7"))
    texts = [t.get_text().strip() for t in forest_plot([("k", result, nothing)]).axes[0].texts]
    assert texts == ["reference regime: not yet measured"]
