"""convlab.views.readings: the sentence for each outcome, chosen by the numbers."""

from __future__ import annotations

import re

import conftest
import pytest

from convlab.experiments import PROFILES, STUDIES, ResultsStore, get_study, load_study, plan
from convlab.views.readings import READINGS, matched_reading, reading, verdict_markdown

SMOKE = PROFILES["smoke"]


def stored(path, name, accuracy, seeds=(0, 1, 2)):
    """A smoke study read back from fake records; ``accuracy(arm, seed)``."""
    study, store = get_study(name), ResultsStore(path)
    for run in plan(study, SMOKE, "fashion-mnist", seeds):
        acc = accuracy(run.arm, run.seed)
        store.save(run.inputs, conftest.fake_result(run.spec, run.config, run.seed, acc))
    return load_study(study, SMOKE, store, "fashion-mnist", seeds)


@pytest.mark.parametrize("name", sorted(READINGS))
def test_every_reading_is_a_comparison_of_its_study_with_each_outcome(name):
    assert name in STUDIES
    for pair, texts in READINGS[name].items():
        assert pair in STUDIES[name].pairs(), f"{name}: {pair} is not one of its comparisons"
        assert set(texts) == {"better", "worse", "alike"}
        for text in texts.values():
            assert not re.search(r"\d+\.\d+|\d\s?%", text), "no typed results in a reading"
            assert text.endswith(".")


def test_every_base_study_has_a_reading():
    base = [n for n in STUDIES if not n.endswith("-matched")]
    assert sorted(base) == sorted(READINGS)


NOISE = {0: 0.0, 1: 0.002, 2: -0.002}


def test_the_sentence_follows_the_outcome(tmp_path):
    # 5x5 clearly better than 3x3; 7x7 like 3x3 up to noise that differs by seed
    def acc(arm, seed):
        return {"3x3": 0.80, "5x5": 0.85, "7x7": 0.80 + NOISE[seed]}[arm]

    text = reading(stored(tmp_path / "a", "kernel-size", acc))
    texts = READINGS["kernel-size"]
    assert text == f"{texts[('5x5', '3x3')]['better']} {texts[('7x7', '3x3')]['alike']}"

    def worse(arm, seed):
        return {"3x3": 0.80, "5x5": 0.75 + NOISE[seed], "7x7": 0.80 + NOISE[seed]}[arm]

    reference = stored(tmp_path / "b", "kernel-size", worse)
    both = reading(stored(tmp_path / "a", "kernel-size", acc), reference)
    says = texts[("5x5", "3x3")]["worse"]
    assert f"The reference regime finds it worse; there, {says[0].lower()}{says[1:]}" in both
    assert both.count("The reference regime finds it") == 1  # 7x7 is alike in both


def test_matched_reading_says_which_verdicts_move(tmp_path):
    def naive(arm, seed):
        return {"3x3": 0.80, "5x5": 0.85, "7x7": 0.80 + NOISE[seed]}[arm] + NOISE[seed] / 4

    def matched(arm, seed):
        return {"3x3": 0.80, "5x5": 0.80 + NOISE[seed], "7x7": 0.80 + NOISE[seed]}[arm]

    text = matched_reading(
        stored(tmp_path / "n", "kernel-size", naive),
        stored(tmp_path / "m", "kernel-size-matched", matched),
    )
    assert "At equal parameters 7x7 vs 3x3 keeps its verdict" in text
    assert "Matching moves 5x5 vs 3x3 goes from better to alike" in text
    assert "kernel size" in text
    one_seed = stored(tmp_path / "o", "kernel-size-matched", matched, seeds=(0,))
    assert matched_reading(one_seed, one_seed) == ""


def test_verdict_markdown_puts_the_reading_under_the_conclusion(tmp_path):
    from convlab.views.study import conclusion

    def acc(arm, seed):
        return {"3x3": 0.80, "5x5": 0.85, "7x7": 0.80 + NOISE[seed]}[arm]

    kernel = stored(tmp_path / "k", "kernel-size", acc)
    text = verdict_markdown(kernel)
    assert text == f"**Conclusion.** {conclusion(kernel)}\n\n**Reading.** {reading(kernel)}"
    matched = stored(tmp_path / "m", "kernel-size-matched", acc)
    assert verdict_markdown(matched, naive=kernel) == (
        f"**At equal parameters.** {conclusion(matched)} {matched_reading(kernel, matched)}"
    )


def test_the_machines_reading_says_where_runs_were_made_and_what_a_rerun_changed():
    from convlab.views.readings import machines_reading

    one = {"machines": ["CPU A"], "comparisons": 3, "mixed": [], "reruns": []}
    assert machines_reading(one) == "Every reference run was made on one machine (CPU A)."
    assert machines_reading({**one, "machines": []}).startswith("No reference run")
    mixed = {**one, "machines": ["CPU A", "CPU B"], "mixed": [("width", "2x", "1x")]}
    text = machines_reading(mixed)
    assert "1 of the 3 comparisons pair arms trained on different ones (width: 2x vs 1x)" in text
    assert text.endswith("so what the machine changes is not measured.")
    same = {"study": "width", "arm": "2x", "seed": 0, "change": 0.0, "differ": 0}
    text = machines_reading({**mixed, "reruns": [same, same]})
    assert "2 of 2 runs predicted every test image the same: for those runs" in text
    moved = {**same, "arm": "on", "study": "batch-norm", "change": 0.0012, "differ": 243}
    text = machines_reading({**mixed, "reruns": [same, moved]})
    assert "1 of 2 runs" in text
    assert "the other did not (batch-norm on, seed 0: 243 images differ, accuracy +0.12" in text
    assert text.endswith("the machine is a second difference between the arms.")
    assert "the others did not" in machines_reading({**mixed, "reruns": [moved, moved]})
    apart = machines_reading({**mixed, "mixed": [], "reruns": [moved]})
    assert "each comparison's arms on one of them" in apart
    assert apart.endswith("No comparison mixes machines, so this changes no verdict.")
