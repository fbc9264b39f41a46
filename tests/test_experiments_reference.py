"""Reference results: exported from a store per study, arm and seed, with provenance."""

import json

import conftest

from convlab.cli import main
from convlab.experiments import PROFILES, STUDIES, ResultsStore, get_study, load_study, plan
from convlab.experiments.reference import (
    REFERENCE_FILE,
    export_reference,
    load_reference,
    outcome,
    reference_study,
    regime_comparison,
)
from convlab.train import decode_classes
from convlab.variants import data_slice
from convlab.variants import test_labels as labels_of

REF = PROFILES["reference"]


def fill(store, name, seeds=(0, 1, 2)):
    for run in plan(get_study(name), REF, "fashion-mnist", seeds):
        acc = 0.9 if run.spec.kind == "cnn" else 0.88
        preds = (1, 2, 3) if run.spec.kind == "cnn" else (0, 0, 1)
        fake = conftest.fake_result(run.spec, run.config, run.seed, acc, test_predictions=preds)
        store.save(run.inputs, fake)


def test_export_lists_finished_runs_and_what_is_missing(tmp_path):
    store = ResultsStore(tmp_path)
    fill(store, "mlp-vs-cnn")
    fill(store, "padding", seeds=(0,))  # reuses the reference CNN and adds 'valid'
    data = export_reference(store, [get_study("mlp-vs-cnn"), get_study("padding")])
    keys = data["studies"]["mlp-vs-cnn"]
    assert set(keys) == {"MLP", "CNN"} and set(keys["CNN"]) == {"0", "1", "2"}
    run = data["runs"][keys["CNN"]["0"]]
    assert run["test_accuracy"] == 0.9
    assert decode_classes(data["runs"][keys["CNN"]["1"]]["test_predictions"]) == (1, 2, 3)
    assert run["precision"] == "float32" and run["created"] and "revision" in run
    assert "mlp-vs-cnn" not in data["missing"]
    assert data["missing"]["padding"] == [["valid", 1], ["valid", 2]]
    assert data["profile"]["epochs"] == REF.epochs and data["machines"] == [run["machine"]]
    assert data["studies"]["padding"]["same"]["2"] == keys["CNN"]["2"]  # one shared run
    assert len(data["runs"]) == 6 + 1  # MLP and CNN at 3 seeds, 'valid' at one


def test_the_command_writes_the_file_and_load_reads_it(tmp_path, capsys):
    fill(ResultsStore(tmp_path / "store"), "mlp-vs-cnn")
    out = tmp_path / "ref.json"
    assert (
        main(["study", "export-reference", "--results", str(tmp_path / "store"), "--out", str(out)])
        == 0
    )
    assert "wrote" in capsys.readouterr().out
    ref = load_reference(out)
    assert ref["runs"][ref["studies"]["mlp-vs-cnn"]["MLP"]["2"]]["test_accuracy"] == 0.88
    assert json.loads(out.read_text())["dataset"] == "fashion-mnist"
    empty = {"runs": {}, "studies": {}, "missing": {}, "machines": []}
    assert load_reference(tmp_path / "none.json") == empty
    old = tmp_path / "old.json"  # a file from before runs named their machine
    old.write_text(json.dumps({"machine": "AMD EPYC", "runs": {}, "studies": {}}))
    assert load_reference(old)["machines"] == ["AMD EPYC"]
    assert main(["study", "export-reference", "--results", str(tmp_path / "nope")]) != 0


def test_an_export_keeps_the_previous_files_current_runs_and_drops_stale_ones(tmp_path):
    first = ResultsStore(tmp_path / "first")
    fill(first, "mlp-vs-cnn")
    earlier = export_reference(first, [get_study("mlp-vs-cnn")])
    # a file from before runs named their machine, holding one run no study asks for
    earlier["runs"]["0" * 64] = {"test_accuracy": 0.5}
    earlier["machine"] = "Old CPU"
    del earlier["machines"]
    for run in earlier["runs"].values():
        run.pop("machine", None)
    later = ResultsStore(tmp_path / "later")  # a new session: the first store is gone
    fill(later, "padding", seeds=(0,))
    data = export_reference(
        later, [get_study("mlp-vs-cnn"), get_study("padding")], previous=earlier
    )
    assert "0" * 64 not in data["runs"]
    mlp = data["runs"][data["studies"]["mlp-vs-cnn"]["MLP"]["1"]]
    assert mlp["test_accuracy"] == 0.88 and mlp["machine"] == "Old CPU"
    assert "mlp-vs-cnn" not in data["missing"]
    assert data["missing"]["padding"] == [["valid", 1], ["valid", 2]]
    assert "Old CPU" in data["machines"] and len(data["machines"]) == 2
    fresh = export_reference(later, [get_study("mlp-vs-cnn")])
    # without the earlier file only padding's seed-0 reference CNN is there
    missing = {tuple(m) for m in fresh["missing"]["mlp-vs-cnn"]}
    assert missing == {("MLP", 0), ("MLP", 1), ("MLP", 2), ("CNN", 1), ("CNN", 2)}


def _with_predictions(store, accuracy_of):
    """mlp-vs-cnn in the reference profile, each run right on a known share of the test set."""
    labels = labels_of("fashion-mnist", data_slice(REF, None))
    for run in plan(get_study("mlp-vs-cnn"), REF, "fashion-mnist", (0, 1, 2)):
        n_right = round(accuracy_of(run.arm, run.seed) * len(labels))
        preds = labels.copy()
        preds[n_right:] = (preds[n_right:] + 1) % 10  # the first n_right images right
        acc = n_right / len(labels)
        fake = conftest.fake_result(run.spec, run.config, run.seed, acc, test_predictions=preds)
        store.save(run.inputs, fake)
    return labels


def test_reference_study_reads_the_file_into_a_study_with_intervals(tmp_path):
    store = ResultsStore(tmp_path)
    _with_predictions(store, lambda arm, seed: {"MLP": 0.88, "CNN": 0.91}[arm] + seed / 1000)
    data = export_reference(store, [get_study("mlp-vs-cnn")])
    result = reference_study(get_study("mlp-vs-cnn"), data)
    assert not result.missing and result.profile.name == "reference"
    assert result.accuracies("CNN") == {0: 0.91, 1: 0.911, 2: 0.912}
    diff = result.differences().loc["CNN"]  # CNN - MLP
    assert diff["interval_over"] == "seeds and test images"
    assert abs(diff["mean_difference"] - 0.03) < 1e-12
    assert diff["ci95_low"] > 0 and outcome(diff) == "better"
    # a file measured on another dataset says nothing about this one
    other = reference_study(get_study("mlp-vs-cnn"), {**data, "dataset": "cifar10"})
    assert len(other.missing) == 6
    assert outcome(other.differences().loc["CNN"]) == "unmeasured"


def test_regime_comparison_says_where_two_regimes_agree(tmp_path):
    quick, ref = ResultsStore(tmp_path / "q"), ResultsStore(tmp_path / "r")
    study = get_study("mlp-vs-cnn")
    for run in plan(study, PROFILES["smoke"], "fashion-mnist", (0, 1, 2)):
        acc = {"MLP": 0.80, "CNN": 0.70}[run.arm] + run.seed / 100
        quick.save(run.inputs, conftest.fake_result(run.spec, run.config, run.seed, acc))
    _with_predictions(ref, lambda arm, seed: {"MLP": 0.88, "CNN": 0.91}[arm])
    ours = load_study(study, "smoke", quick, "fashion-mnist")
    theirs = reference_study(study, export_reference(ref, [study]))
    row = regime_comparison(ours, theirs).iloc[0]
    assert (row["arm"], row["vs"]) == ("CNN", "MLP")
    assert row["outcome"] == "worse" and row["reference_outcome"] == "better"
    assert row["agree"] == False  # noqa: E712 (a NumPy bool)
    empty = reference_study(study, {"runs": {}, "studies": {}})
    assert regime_comparison(ours, empty).iloc[0]["agree"] is None


def test_the_committed_file_accounts_for_every_comparison_the_book_makes():
    """Each run of every shipped study in the reference profile is in the committed file
    (under its current key) or listed there as missing: a study whose keys changed (a new
    arm, a new results version) must be re-exported with ``convlab study
    export-reference``, not read silently as unmeasured."""
    data = load_reference(REFERENCE_FILE)
    assert data["runs"], "no reference results committed"
    for name, study in STUDIES.items():
        held = data["studies"].get(name, {})
        missing = {(a, s) for a, s in data["missing"].get(name, [])}
        for run in plan(study, REF, "fashion-mnist", REF.seed_list(study.seeds)):
            key = held.get(run.arm, {}).get(str(run.seed))
            if key is None:
                assert (run.arm, run.seed) in missing, f"{name}: {run.arm} seed {run.seed}"
            else:
                assert key == run.key, f"{name}: {run.arm} seed {run.seed} has a stale key"
                assert data["runs"][key]["test_predictions"], "runs keep their predictions"


def test_a_run_trained_again_keeps_its_earlier_training_as_a_rerun(tmp_path):
    from convlab.experiments.reference import rerun_summary
    from convlab.train import encode_classes

    first, second = ResultsStore(tmp_path / "a"), ResultsStore(tmp_path / "b")
    fill(first, "mlp-vs-cnn")
    earlier = export_reference(first, [get_study("mlp-vs-cnn")])
    keys = earlier["studies"]["mlp-vs-cnn"]
    for entry in earlier["runs"].values():  # as if another CPU trained them, long ago
        entry.update(machine="Other CPU", created="2026-01-01T00:00:00+0000")
    moved = earlier["runs"][keys["CNN"]["1"]]
    moved.update(test_accuracy=0.89, test_predictions=encode_classes((1, 0, 0)))
    fill(second, "mlp-vs-cnn", seeds=(0, 1))  # here: two seeds of each arm again
    data = export_reference(second, [get_study("mlp-vs-cnn")], previous=earlier)
    cnn1 = data["runs"][keys["CNN"]["1"]]
    assert cnn1["machine"] != "Other CPU" and cnn1["test_accuracy"] == 0.9
    assert [r["machine"] for r in cnn1["reruns"]] == ["Other CPU"]
    assert data["runs"][keys["CNN"]["2"]]["machine"] == "Other CPU"  # kept, not rerun
    assert "reruns" not in data["runs"][keys["CNN"]["2"]]
    again = export_reference(second, [get_study("mlp-vs-cnn")], previous=data)
    assert again["runs"][keys["CNN"]["1"]]["reruns"] == cnn1["reruns"]  # not counted twice

    summary = rerun_summary(again, [get_study("mlp-vs-cnn")])
    assert summary["machines"] == sorted({cnn1["machine"], "Other CPU"})
    assert summary["mixed"] == [("mlp-vs-cnn", "CNN", "MLP")] and summary["comparisons"] == 1
    # A comparison the file cannot make (an arm without runs) is not counted.
    lone = {**again, "studies": {"mlp-vs-cnn": {"CNN": keys["CNN"]}}}
    assert rerun_summary(lone, [get_study("mlp-vs-cnn")])["comparisons"] == 0
    by_run = {(r["arm"], r["seed"]): r for r in summary["reruns"]}
    assert set(by_run) == {("MLP", 0), ("MLP", 1), ("CNN", 0), ("CNN", 1)}
    assert by_run["CNN", 1]["differ"] == 2 and abs(by_run["CNN", 1]["change"] - 0.01) < 1e-12
    assert by_run["CNN", 0]["differ"] == 0 and by_run["CNN", 0]["other"] == "Other CPU"
