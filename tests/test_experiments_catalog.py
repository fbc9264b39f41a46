"""The shipped studies: well formed on every dataset, shared arms trained once, and every
study runs end to end in the shipped smoke profile."""

import dataclasses
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
from convlab.experiments.catalog import CONFOUNDED
from convlab.experiments.design import arm_spec, unbuildable_arms
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
    *(f"{name}-matched" for name in CONFOUNDED),
]


def test_the_shipped_studies():
    assert list(STUDIES) == EXPECTED
    for study in STUDIES.values():
        assert study.question.endswith("?") and study.variable and study.fixed
        assert study.reference in study.arms
    assert list(get_study("kernel-size").arms) == ["3x3", "5x5", "7x7"]
    assert list(get_study("width").arms) == ["0.25x", "0.5x", "1x", "2x"]
    assert get_study("data-efficiency").pairs()[:5] == (
        ("CNN 1k", "MLP 1k"),
        ("CNN 5k", "MLP 5k"),
        ("CNN all", "MLP all"),
        ("CNN 1k, equal steps", "MLP 1k, equal steps"),
        ("CNN 5k, equal steps", "MLP 5k, equal steps"),
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
    # 65 arms, but the reference CNN appears in 16 arms and the MLP in 4: 40 configs
    # under quick (1k, 5k and the 6k cap differ; locality adds the two permuted models,
    # augmentation four augmented CNNs, capacity three deeper CNNs, data efficiency four
    # longer-trained subsets (its 'all, equal steps' arms are the 'all' ones), the matched studies
    # nine resized heads: their avg-pool and stride-2 arms already match, and the deeper
    # CNNs cannot be matched) and fewer under smoke (all capped to 300).
    assert sum(len(s.arms) for s in STUDIES.values()) == 65
    assert len(unique_runs(PROFILES["quick"], (0,))) == 40
    assert len(unique_runs(PROFILES["quick"], (0, 1, 2))) == 120
    assert len(unique_runs(PROFILES["smoke"], (0,))) == 32


def test_every_study_runs_in_the_smoke_profile(tmp_path, monkeypatch):
    """All shipped studies, the shipped smoke profile, its first seed, one shared store."""
    calls = []
    real = train_module.train
    monkeypatch.setattr(train_module, "train", lambda *a, **k: calls.append(1) or real(*a, **k))
    store = ResultsStore(tmp_path)
    smoke = PROFILES["smoke"]
    for study in STUDIES.values():
        result = run_study(study, smoke, store, "fashion-mnist", progress=False, seeds=1)
        full = result.table()
        assert list(full.index) == list(study.arms) and not result.missing
        # Arms that cannot be built are rows that say why, with no runs.
        unbuilt = full.loc[list(result.unbuildable)]
        assert (unbuilt["n_seeds"] == 0).all() and unbuilt["model"].str.startswith("cannot").all()
        table = full.drop(index=list(result.unbuildable))
        assert (table["n_seeds"] == 1).all()
        assert all(0.0 <= a <= 1.0 for a in table["mean_accuracy"])
        assert (table["train_size"] == smoke.train_size).all()
        assert all(math.isnan(v) for v in table["ci95_half_width"])  # one seed: no interval
        said = conclusion(result)
        assert "one seed" in said or "No comparison could be made" in said
        assert len(result.differences()) == len(study.pairs())
    assert len(calls) == 32  # each distinct configuration trained once across studies
    assert len(list(tmp_path.rglob("*.json"))) == 32


def test_each_augmentation_comparison_changes_one_thing():
    import dataclasses

    study = get_study("augmentation")
    quick = PROFILES["quick"]
    for arm, other in study.pairs():
        a = dataclasses.asdict(quick.train_config(**dict(study.arms[arm].train)))
        b = dataclasses.asdict(quick.train_config(**dict(study.arms[other].train)))
        changed = [k for k in a if a[k] != b[k]]
        assert len(changed) == 1, (arm, other, changed)


def test_every_study_with_a_parameter_confound_has_a_matched_twin_within_10_percent():
    info = dataset_info("fashion-mnist")
    for study in STUDIES.values():
        if study.name.endswith("-matched"):
            continue
        params = {
            a: count_params(arm_spec(study, a, "fashion-mnist"), info.image_shape, 10)
            for a in study.arms
        }
        ref = params[study.reference]
        confounded = any(abs(p / ref - 1) > 0.25 for p in params.values())
        assert confounded == (study.name in CONFOUNDED), study.name
        if not confounded:
            continue
        twin = get_study(f"{study.name}-matched")
        skip = unbuildable_arms(twin, "fashion-mnist")
        for arm in twin.arms:
            if arm in skip:
                assert skip[arm].startswith("cannot be built: no head")
                continue
            p = count_params(arm_spec(twin, arm, "fashion-mnist"), info.image_shape, 10)
            assert abs(p / ref - 1) <= 0.10, (twin.name, arm, p, ref)
    # The deeper CNNs' convolutions alone outweigh the reference CNN: reported, not dropped.
    assert set(unbuildable_arms(get_study("capacity-matched"), "fashion-mnist")) == {
        "deeper",
        "deeper + dropout",
        "deeper + dropout + shift",
    }


def test_equal_steps_arms_get_about_the_steps_of_the_whole_training_set():
    quick = PROFILES["quick"]
    runs = {r.arm: r for r in plan(get_study("data-efficiency"), quick, "fashion-mnist", (0,))}
    full_steps = quick.epochs * quick.train_size
    for size, label in ((1000, "1k"), (5000, "5k")):
        steps = runs[f"CNN {label}, equal steps"].config.epochs * size
        assert abs(steps / full_steps - 1) <= 0.15, label
        assert runs[f"CNN {label}"].config.epochs == quick.epochs
        # The pair differs in the epochs only.
        a = dataclasses.asdict(runs[f"CNN {label}, equal steps"].config)
        b = dataclasses.asdict(runs[f"CNN {label}"].config)
        assert [k for k in a if a[k] != b[k]] == ["epochs"]
    assert runs["CNN all, equal steps"].key == runs["CNN all"].key  # the same run
