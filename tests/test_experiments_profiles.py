"""Profiles: data, not branches; the default follows CONVLAB_PROFILE."""

import dataclasses

import pytest

from convlab.experiments.profiles import PROFILES, Profile, ProfileError, get_profile
from convlab.train import TrainConfig


def test_shipped_profiles():
    assert list(PROFILES) == ["smoke", "quick", "full", "reference"]
    smoke, quick, full = PROFILES["smoke"], PROFILES["quick"], PROFILES["full"]
    assert smoke.epochs == 1 and smoke.seeds >= 2 and smoke.train_size <= 500
    assert quick.train_size is not None and quick.seeds >= 3 and quick.epochs > smoke.epochs
    assert full.train_size is None and full.test_size is None and full.seeds >= 5
    assert quick.test_size is None  # the whole test set: the noise we measure is training's
    ref = PROFILES["reference"]  # the reference regime, the same on every machine
    assert ref.train_size is None and ref.epochs >= 15 and ref.seeds >= 3
    assert ref.train_config().precision == "float32"
    for p in PROFILES.values():
        assert p.description
        with pytest.raises(dataclasses.FrozenInstanceError):
            p.epochs = 2


def test_train_config_comes_from_the_profile_and_arm_changes():
    p = PROFILES["quick"]
    c = p.train_config()
    assert isinstance(c, TrainConfig)
    assert (c.epochs, c.batch_size, c.schedule, c.patience) == (
        p.epochs,
        p.batch_size,
        p.schedule,
        p.patience,
    )
    assert p.train_config(learning_rate=3e-3).learning_rate == 3e-3
    with pytest.raises(ProfileError, match="Not TrainConfig fields: lr"):
        p.train_config(lr=1)


def test_seed_list():
    assert PROFILES["full"].seed_list() == (0, 1, 2, 3, 4)
    assert PROFILES["smoke"].seed_list(3) == (0, 1, 2)
    with pytest.raises(ProfileError):
        PROFILES["smoke"].seed_list(0)


def test_get_profile_default_and_errors(monkeypatch):
    monkeypatch.setenv("CONVLAB_PROFILE", "smoke")
    assert get_profile() is PROFILES["smoke"]
    assert get_profile("full") is PROFILES["full"]
    custom = dataclasses.replace(PROFILES["smoke"], name="mine")
    assert get_profile(custom) is custom
    with pytest.raises(ProfileError, match="Valid profiles: smoke, quick, full, reference"):
        get_profile("fast")
    with pytest.raises(ProfileError):
        Profile("bad", "", 10, 10, 10, epochs=0, seeds=1)


def test_precision_follows_convlab_precision(monkeypatch):
    from convlab.settings import PrecisionError
    from convlab.train import machine_precision

    monkeypatch.delenv("CONVLAB_PRECISION", raising=False)
    quick = PROFILES["quick"]
    assert quick.train_config().precision == machine_precision()  # "auto" by default
    for name in ("float32", "mixed_bfloat16"):
        monkeypatch.setenv("CONVLAB_PRECISION", name)
        assert quick.train_config().precision == name
    monkeypatch.setenv("CONVLAB_PRECISION", "mixed_bfloat16")
    assert PROFILES["reference"].train_config().precision == "float32"  # pinned by the profile
    monkeypatch.setenv("CONVLAB_PRECISION", "float16")
    with pytest.raises(PrecisionError, match="must be one of auto, float32, mixed_bfloat16"):
        quick.train_config()
