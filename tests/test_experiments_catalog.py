"""The shipped studies: well formed on every dataset, shared arms trained once, and every
study runs end to end in the shipped smoke profile."""

import math

import pytest

from convlab import train as train_module
from convlab.data import DATASETS, dataset_info
from convlab.experiments import (
    PROFILES,
    STUDIES,
    ResultsStore,
    StudyError,
    get_study,
    plan,
    resolve_spec,
    run_study,
)
from convlab.models import CNNSpec, count_params, reference
from convlab.views.study import conclusion

EXPECTED = [
    "mlp-vs-cnn",
    "kernel-size",
    "depth",
    "width",
    "downsampling",
    "padding",
    "batch-norm",
    "augmentation",
    "capacity",
    "data-efficiency",
    "locality",
]


def test_the_shipped_studies():
    assert list(STUDIES) == EXPECTED
    for study in STUDIES.values():
        assert study.question.endswith("?") and study.variable and study.fixed
        assert study.reference in study.arms
    assert list(get_study("kernel-size").arms) == ["3x3", "5x5", "7x7"]
    assert list(get_study("width").arms) == ["0.25x", "0.5x", "1x", "2x"]
    assert get_study("data-efficiency").pairs() == (
        ("CNN 1k", "MLP 1k"),
        ("CNN 5k", "MLP 5k"),
        ("CNN all", "MLP all"),
    )
    with pytest.raises(StudyError, match="Valid studies: mlp-vs-cnn, kernel-size"):
        get_study("kernel")


@pytest.mark.parametrize("dataset", list(DATASETS))
def test_every_arm_builds_on_every_dataset(dataset):
    info = dataset_info(dataset)
    for study in STUDIES.values():
        for label, arm in study.arms.items():
            spec = resolve_spec(arm, dataset, study.base)
            assert count_params(spec, info.image_shape, 10) > 0, (study.name, label)


def test_the_reference_arms_are_the_reference_cnn():
    base = reference("cnn")
    for name, arm in [
        ("kernel-size", "3x3"),
        ("depth", "2 blocks"),
        ("width", "1x"),
        ("downsampling", "max pool"),
        ("padding", "same"),
        ("batch-norm", "off"),
        ("augmentation", "none"),
        ("capacity", "reference"),
        ("mlp-vs-cnn", "CNN"),
    ]:
        study = get_study(name)
        assert resolve_spec(study.arms[arm], "fashion-mnist", study.base) == base, name
    k7 = resolve_spec(get_study("kernel-size").arms["7x7"], "fashion-mnist")
    assert k7 == reference("cnn-k7")
    wide = resolve_spec(get_study("width").arms["2x"], "fashion-mnist")
    assert [b.filters for b in wide.blocks] == [64, 128]
    deeper = resolve_spec(get_study("capacity").arms["deeper + dropout"], "fashion-mnist")
    assert [(b.filters, b.convs, b.dropout) for b in deeper.blocks] == [
        (32, 2, 0.25),
        (64, 2, 0.25),
        (128, 2, 0.25),
    ]
    assert deeper.dense == base.dense and deeper.dense_dropout == base.dense_dropout
    stride = resolve_spec(get_study("downsampling").arms["stride-2 conv"], "fashion-mnist")
    assert isinstance(stride, CNNSpec) and {(b.pool, b.stride) for b in stride.blocks} == {
        ("none", 2)
    }


def unique_runs(profile, seeds):
    keys = set()
    for study in STUDIES.values():
        keys |= {r.key for r in plan(study, profile, "fashion-mnist", seeds)}
    return keys


def test_shared_arms_are_one_configuration():
    # 39 arms, but the reference CNN appears in 10 studies and the MLP in 3: 27 configs
    # under quick (1k, 5k and the 6k cap differ; locality adds the two permuted models,
    # augmentation four augmented CNNs, capacity three deeper CNNs) and fewer under smoke
    # (all capped to 300).
    assert sum(len(s.arms) for s in STUDIES.values()) == 39
    assert len(unique_runs(PROFILES["quick"], (0,))) == 27
    assert len(unique_runs(PROFILES["quick"], (0, 1, 2))) == 81
    assert len(unique_runs(PROFILES["smoke"], (0,))) == 23


def test_every_study_runs_in_the_smoke_profile(tmp_path, monkeypatch):
    """All shipped studies, the shipped smoke profile, its first seed, one shared store."""
    calls = []
    real = train_module.train
    monkeypatch.setattr(train_module, "train", lambda *a, **k: calls.append(1) or real(*a, **k))
    store = ResultsStore(tmp_path)
    smoke = PROFILES["smoke"]
    for study in STUDIES.values():
        result = run_study(study, smoke, store, "fashion-mnist", progress=False, seeds=1)
        table = result.table()
        assert list(table.index) == list(study.arms) and not result.missing
        assert (table["n_seeds"] == 1).all()
        assert all(0.0 <= a <= 1.0 for a in table["mean_accuracy"])
        assert (table["train_size"] == smoke.train_size).all()
        assert all(math.isnan(v) for v in table["ci95_half_width"])  # one seed: no interval
        assert "one seed" in conclusion(result)
        assert len(result.differences()) == len(study.pairs())
    assert len(calls) == 23  # each distinct configuration trained once across studies
    assert len(list(tmp_path.rglob("*.json"))) == 23


def test_each_augmentation_comparison_changes_one_thing():
    import dataclasses

    study = get_study("augmentation")
    quick = PROFILES["quick"]
    for arm, other in study.pairs():
        a = dataclasses.asdict(quick.train_config(**dict(study.arms[arm].train)))
        b = dataclasses.asdict(quick.train_config(**dict(study.arms[other].train)))
        changed = [k for k in a if a[k] != b[k]]
        assert len(changed) == 1, (arm, other, changed)
