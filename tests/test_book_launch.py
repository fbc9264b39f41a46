"""A chapter launched outside a build: the profile it picks, what it says, what it costs."""

import pytest

from convlab.book import launch
from convlab.book.launch import Probe, chapter_runs, choose_profile, plan_chapter
from convlab.experiments import STUDIES, get_profile, plan


@pytest.fixture
def outside_a_build(monkeypatch, tmp_path):
    monkeypatch.delenv("CONVLAB_BOOK_INFO", raising=False)
    monkeypatch.delenv("CONVLAB_PROFILE", raising=False)
    monkeypatch.setenv("CONVLAB_DATASET", "fashion-mnist")
    monkeypatch.setenv("CONVLAB_RESULTS_DIR", str(tmp_path / "results"))
    return tmp_path


def test_choose_the_largest_profile_within_the_budget():
    seconds = {"full": 7200.0, "quick": 300.0, "smoke": 20.0}
    assert choose_profile(seconds, 600) == "quick"
    assert choose_profile(seconds, 10_000) == "full"
    assert choose_profile(seconds, 5) == "smoke"  # nothing fits: the smallest


def test_chapter_runs_are_distinct_and_follow_the_mapping():
    smoke = get_profile("smoke")
    every = {r.key for s in STUDIES.values() for r in plan(s, smoke, "fashion-mnist", (0, 1))}
    assert {r.key for r in chapter_runs("experiments", "smoke", "fashion-mnist")} == every
    assert chapter_runs("why-convolution", "smoke", "fashion-mnist") == []
    runs = chapter_runs("deployment", "smoke", "fashion-mnist")  # the reference models, seed 0
    assert {(r.arm, r.seed) for r in runs} == {("MLP", 0), ("CNN", 0)}
    with pytest.raises(ValueError, match="Unknown chapter"):
        chapter_runs("appendix", "smoke", "fashion-mnist")


def test_in_a_build_the_cell_does_nothing(monkeypatch):
    monkeypatch.setenv("CONVLAB_BOOK_INFO", "/tmp/book-info.json")
    monkeypatch.setattr(launch, "probe", lambda d: pytest.fail("probed in a build"))
    assert plan_chapter("experiments") is None


def test_outside_a_build_it_picks_sets_and_says(outside_a_build, monkeypatch):
    # A slow machine, a minute of fixed cost a run: even smoke's 64 runs of the experiments
    # chapter exceed 10 minutes, so the smallest profile is chosen.
    monkeypatch.setattr(launch, "probe", lambda d: Probe(1e12, 60.0))
    result = plan_chapter("experiments")
    assert result.profile == "smoke" and result.chosen_by == "budget"
    import os

    assert os.environ["CONVLAB_PROFILE"] == "smoke"  # the rest of the chapter uses it
    text = result._repr_markdown_()
    assert "`smoke` profile" in text and "Keras backend `tensorflow`" in text
    assert "check that the code runs" in text and "%env CONVLAB_PROFILE" in text
    # A fast machine: quick fits in 10 minutes.
    monkeypatch.delenv("CONVLAB_PROFILE")
    monkeypatch.setattr(launch, "probe", lambda d: Probe(1e16, 0.5))
    assert plan_chapter("cnn").profile in ("full", "quick")


def test_the_readers_choice_wins_and_is_costed(outside_a_build, monkeypatch):
    monkeypatch.setenv("CONVLAB_PROFILE", "reference")
    monkeypatch.setattr(launch, "probe", lambda d: Probe(1e11, 2.0))
    result = plan_chapter("mlp-baseline")
    assert result.profile == "reference" and result.chosen_by == "CONVLAB_PROFILE"
    assert result.runs["reference"] == len(
        chapter_runs("mlp-baseline", "reference", "fashion-mnist")
    )
    assert "You chose it with `CONVLAB_PROFILE`" in result._repr_markdown_()


def test_stored_runs_cost_nothing_and_a_chapter_without_training_probes_nothing(
    outside_a_build, monkeypatch
):
    monkeypatch.setattr(launch, "probe", lambda d: pytest.fail("nothing to train"))
    result = plan_chapter("why-convolution")
    assert result.runs == {"full": 0, "quick": 0, "smoke": 0}
    assert "has nothing to train here" in result._repr_markdown_()


def test_the_probe_measures_this_machine():
    speed = launch.probe("fashion-mnist")
    assert speed.units_per_s > 1e8 and speed.seconds_per_run >= 0
    runs = chapter_runs("cnn", "smoke", "fashion-mnist")
    assert speed.seconds(runs, "fashion-mnist") > speed.seconds(runs[:1], "fashion-mnist")
