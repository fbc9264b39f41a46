"""The serving-version check (checks/serving_version.py) and its committed record.

The check proper runs TensorFlow Serving's TensorFlow in a virtual environment of its own
(`bash checks/serving_version.sh`, in the book workflow); here both steps run under the
project's TensorFlow, to show that the check passes on a faithful export and catches an
answer that differs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from conftest import REPO

from convlab.deploy.serving_check import load_serving_check
from convlab.errors import ConvlabError
from convlab.views.deploy import serving_check_sentence

CHECK = REPO / "checks" / "serving_version.py"


def _step(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    cmd = [sys.executable, str(CHECK), *args]
    return subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)


def test_the_check_passes_on_the_export_and_catches_a_different_answer(tmp_path):
    prepared = _step("prepare", str(tmp_path))
    assert prepared.returncode == 0, prepared.stderr[-3000:]
    verified = _step("verify", str(tmp_path))
    assert verified.returncode == 0, verified.stdout + verified.stderr[-3000:]
    record = json.loads((tmp_path / "verified.json").read_text())
    assert record["agrees"] and set(record["cases"]) == {"png", "json"}
    assert max(c["max_abs_difference"] for c in record["cases"].values()) <= 1e-5

    meta = json.loads((tmp_path / "prepared.json").read_text())
    answer = meta["cases"]["png"]["expected"]["predictions"][0]["probabilities"]
    first = next(iter(answer))
    answer[first] += 1e-3  # as if the older TensorFlow computed something else
    (tmp_path / "prepared.json").write_text(json.dumps(meta))
    tampered = _step("verify", str(tmp_path))
    assert tampered.returncode == 1
    assert "png (image/png): max |difference| 1.0e-03, DIFFERS" in tampered.stdout


def test_the_committed_record_is_of_this_tensorflow_and_agrees():
    import tensorflow as tf

    record = load_serving_check()
    assert record["agrees"], "the last serving-version check failed: see the record"
    major_minor = ".".join(tf.__version__.split(".")[:2])
    assert record["exported_by"]["tensorflow"].startswith(major_minor + "."), (
        f"The record was made with TensorFlow {record['exported_by']['tensorflow']}; the lock "
        f"now has {tf.__version__}: run `bash checks/serving_version.sh` again."
    )
    assert record["serving_tensorflow"].startswith("2.20.")


def test_the_sentence_says_what_was_verified_or_that_it_failed():
    record = load_serving_check()
    text = serving_check_sentence(record)
    assert text.startswith(f"Verified on {record['verified']} ({record['machine']})")
    assert f"TensorFlow {record['serving_tensorflow']} loaded" in text and "JSON and PNG" in text
    failed = {**record, "agrees": False}
    assert serving_check_sentence(failed).startswith("**Not verified**")


def test_a_missing_or_incomplete_record_says_how_to_make_one(tmp_path):
    with pytest.raises(ConvlabError, match="checks/serving_version.sh"):
        load_serving_check(tmp_path / "none.json")
    (tmp_path / "part.json").write_text('{"verified": "2026-12-06"}')
    with pytest.raises(ConvlabError, match="lacks machine"):
        load_serving_check(tmp_path / "part.json")
