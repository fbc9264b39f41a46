"""Reference results: exported from a store per study, arm and seed, with provenance."""

import json

import conftest

from convlab.cli import main
from convlab.experiments import PROFILES, ResultsStore, get_study, plan
from convlab.experiments.reference import export_reference, load_reference
from convlab.train import decode_classes

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
    assert data["profile"]["epochs"] == REF.epochs and data["machine"]
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
    assert load_reference(tmp_path / "none.json") == {"runs": {}, "studies": {}, "missing": {}}
    assert main(["study", "export-reference", "--results", str(tmp_path / "nope")]) != 0
