"""Figures: built from a study result, returned (never shown), one element per arm."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from convlab.experiments import (  # noqa: E402
    PROFILES,
    ResultsStore,
    accuracy_plot,
    accuracy_vs_params,
    get_study,
    learning_curves,
    load_study,
)
from convlab.experiments.study import _plan  # noqa: E402
from convlab.train import TrainResult  # noqa: E402


def fake(spec, config, seed, acc):
    """A TrainResult without training: only what the figures read matters."""
    return TrainResult(
        spec=spec,
        config=config,
        seed=seed,
        class_names=("a", "b"),
        history={
            "loss": [1.0, 0.5],
            "accuracy": [0.5, acc],
            "val_loss": [1.1, 0.6],
            "val_accuracy": [0.4, acc - 0.01],
        },
        best_epoch=2,
        test_loss=0.3,
        test_accuracy=acc,
        per_class_accuracy=(acc, acc),
        confusion=((1, 0), (0, 1)),
        params=1000,
        macs_per_image=10,
        train_size=300,
        wall_time_s=1.0,
        images_per_s=100.0,
        backend="tensorflow",
        versions={},
    )


def stored_result(tmp_path, name, seeds=(0, 1, 2)):
    """A study whose runs are fake records written to a store, read back by load_study."""
    study, profile, store = get_study(name), PROFILES["smoke"], ResultsStore(tmp_path)
    for i, run in enumerate(_plan(study, profile, "fashion-mnist", seeds)):
        store.save(run.inputs, fake(run.spec, run.config, run.seed, 0.8 + 0.01 * (i % 5)))
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
    assert {t.get_text() for t in fig2.axes[0].texts} == {"3x3", "5x5", "7x7"}
    fig3 = learning_curves(result)
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
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["MLP", "CNN"]
    assert ax.get_xscale() == "log"


def test_learning_curves_without_runs(tmp_path):
    empty = load_study(get_study("padding"), "smoke", ResultsStore(tmp_path), "fashion-mnist")
    assert learning_curves(empty).axes[0].get_title() == "no finished runs yet"
