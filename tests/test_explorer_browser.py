"""The run explorer in Chromium: the numbers it shows are the results store's.

A store is filled with records (fake runs with known accuracies and learning curves, written
through the store's own code), read back with ``load_study`` as the book reads it, and the
page holding only the explorer is served over loopback HTTP. Each study is picked through
the page's control; every run the page lists is compared with the store's record of it.
"""

from __future__ import annotations

import conftest
import numpy as np
import pytest
from conftest import NEEDS_CHROMIUM, figure_page

from convlab.experiments import get_study
from convlab.experiments.profiles import PROFILES
from convlab.experiments.runner import load_study, plan
from convlab.experiments.store import ResultsStore
from convlab.views.explorer import run_explorer

pytestmark = NEEDS_CHROMIUM
SMOKE, DATASET, SEEDS = PROFILES["smoke"], "fashion-mnist", (0, 1, 2)

READ = """root => ({
  options: Array.from(root.querySelectorAll("select[name=study] option")).map(o => o.text),
  runs: Array.from(root.querySelectorAll(".cx-runs tbody tr")).map(tr => ({
    key: tr.dataset.key, arm: tr.children[0].textContent, seed: Number(tr.children[1].textContent),
    accuracy: Number(tr.children[2].dataset.value)})),
  dots: root.querySelectorAll(".cx-dot").length,
  bars: root.querySelectorAll(".cx-plot line[stroke='#555']").length / 2,
  selected: root.dataset.selected || null,
  curves: Array.from(root.querySelectorAll(".cx-curve polyline")).map(
    p => p.getAttribute("points").trim().split(" ").length),
})"""


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """Records for two studies; run i has accuracy 0.8 + i / 1000 and a 4-epoch curve.
    The padding study gets only the reference arm's runs, which it shares with them."""
    store = ResultsStore(tmp_path_factory.mktemp("store"))
    rng = np.random.default_rng(1)
    for name in ("depth", "kernel-size"):
        for i, run in enumerate(plan(get_study(name), SMOKE, DATASET, SEEDS)):
            acc = 0.8 + i / 1000
            curve = sorted(rng.uniform(0.5, acc, size=4).tolist())
            history = {"loss": [1.0, 0.8, 0.6, 0.5], "accuracy": curve, "val_loss": [1.0] * 4}
            history["val_accuracy"] = [c - 0.01 for c in curve]
            result = conftest.fake_result(
                run.spec, run.config, run.seed, acc, history=history, best_epoch=3
            )
            store.save(run.inputs, result)
    return store


@pytest.fixture(scope="module")
def explorer_page(store, browser, tmp_path_factory):
    results = [
        load_study(get_study(n), SMOKE, store, DATASET, SEEDS)
        for n in ("depth", "padding", "kernel-size")
    ]
    site = tmp_path_factory.mktemp("explorer")
    with figure_page(browser, run_explorer(results), "explorer", site) as (tab, errors):
        yield tab, errors, site


def test_explorer_shows_every_run_of_the_store_with_its_number(store, explorer_page):
    tab, errors, site = explorer_page
    records = {r["key"]: r for r in store.records()}
    root = tab.locator(".convlab-explorer")
    seen = root.evaluate(READ)
    assert seen["options"] == ["depth", "padding", "kernel-size"]
    shown = {}
    for name in seen["options"]:
        tab.select_option("select[name=study]", label=name)
        seen = root.evaluate(READ)
        finished = load_study(get_study(name), SMOKE, store, DATASET, SEEDS)
        done = [r for r in finished.runs if r.result is not None]
        assert len(seen["runs"]) == len(done) == seen["dots"]
        assert seen["bars"] == len({r.arm for r in done})  # an interval per arm with runs
        for run in seen["runs"]:
            record = records[run["key"]]
            assert run["accuracy"] == record["result"]["test_accuracy"]
            assert run["seed"] == record["result"]["seed"]
            shown[run["key"]] = run
        tab.screenshot(path=str(site / f"explorer-{name}.png"), full_page=True)
    assert set(shown) == set(records)  # every run of the store, once
    assert not errors, errors


def test_a_dot_shows_its_runs_learning_curves_by_mouse_and_keyboard(explorer_page):
    tab, errors, _ = explorer_page
    tab.select_option("select[name=study]", label="depth")
    root = tab.locator(".convlab-explorer")
    dots = tab.locator(".cx-dot")
    dots.nth(4).hover()
    seen = root.evaluate(READ)
    arm, seed = dots.nth(4).get_attribute("data-arm"), dots.nth(4).get_attribute("data-seed")
    assert seen["selected"] == f"{arm}|{seed}"
    assert seen["curves"] == [4, 4]  # validation and training accuracy, one point per epoch
    dots.nth(7).focus()
    seen = root.evaluate(READ)
    assert seen["selected"] == f"{dots.nth(7).get_attribute('data-arm')}|" + str(
        dots.nth(7).get_attribute("data-seed")
    )
    label = tab.locator("label[for]").first
    assert label.inner_text().strip() == "Study"
    assert not errors, errors


def test_explorer_leaves_out_studies_without_runs(store, tmp_path):
    empty = load_study(get_study("padding"), SMOKE, ResultsStore(tmp_path), DATASET, SEEDS)
    assert run_explorer([empty]).studies == ()
    one = load_study(get_study("depth"), SMOKE, store, DATASET, SEEDS)
    data = run_explorer([one]).data()["studies"][0]
    assert data["covers"] == "seeds"  # fake runs keep no per-image predictions
    assert [a["label"] for a in data["arms"]] == list(get_study("depth").arms)
    assert all(a["low"] < a["mean"] < a["high"] for a in data["arms"])
