"""Run keys: made of what changes a result, not of source text; the fingerprint guard.

Run as a script with ``--refresh`` to rewrite ``tests/results_fingerprint.json`` after
deciding that a change to the result-determining modules cannot change results.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from convlab.book.build import source_digest
from convlab.experiments import keys
from convlab.experiments.keys import (
    RESULTS_VERSION,
    core_inputs,
    fingerprint_changes,
    platform_inputs,
    recorded_fingerprint,
    result_fingerprints,
    run_inputs,
    run_key,
    stale_reason,
)
from convlab.experiments.profiles import PROFILES
from convlab.fingerprint import PACKAGE_DIR, module_fingerprints, normalised_source
from convlab.models import CNNSpec, ConvBlock
from convlab.variants import DataVariant, data_slice

FINGERPRINT_FILE = Path(__file__).with_name("results_fingerprint.json")
SPEC = CNNSpec(blocks=(ConvBlock(4),), dense=(8,))
SMOKE = PROFILES["smoke"]


def inputs(seed=0, platform=None, **changes):
    config = SMOKE.train_config(**changes)
    return run_inputs(SPEC, config, seed, "fashion-mnist", data_slice(SMOKE), "smoke", platform)


def test_the_checked_in_fingerprint_matches_the_result_determining_code():
    recorded = json.loads(FINGERPRINT_FILE.read_text())
    message = fingerprint_changes(recorded)
    assert message is None, message


def test_the_guard_fails_when_a_function_body_changes_and_names_the_module():
    recorded = recorded_fingerprint()
    assert fingerprint_changes(recorded) is None
    body = (
        (PACKAGE_DIR / "train.py")
        .read_text()
        .replace("patience: int | None = 3", "patience: int | None = 4")
    )
    assert body != (PACKAGE_DIR / "train.py").read_text()
    changed = {
        **result_fingerprints(),
        "train.py": hashlib.sha256(normalised_source(body).encode()).hexdigest(),
    }
    message = fingerprint_changes(recorded, changed)
    assert message is not None and "train.py" in message
    assert "bump RESULTS_VERSION" in message and "refresh the fingerprint" in message
    bumped = {**recorded, "results_version": RESULTS_VERSION - 1}
    assert "RESULTS_VERSION" in fingerprint_changes(bumped)


def test_key_changes_with_every_input_and_the_platform():
    base = run_key(inputs())
    assert run_key(inputs(seed=1)) != base
    assert run_key(inputs(learning_rate=5e-4)) != base
    assert run_key(inputs(precision="mixed_bfloat16")) != run_key(inputs(precision="float32"))
    other_data = run_inputs(
        SPEC,
        SMOKE.train_config(),
        0,
        "fashion-mnist",
        data_slice(SMOKE, DataVariant(permutation_seed=0)),
        "smoke",
    )
    assert run_key(other_data) != base
    assert run_key({**inputs(), "profile": "quick"}) != base
    here = platform_inputs()
    assert run_key(inputs(platform={**here, "keras_backend": "jax"})) != base
    minor = here["keras"].split(".")[0] + ".999"
    assert run_key(inputs(platform={**here, "keras": minor})) != base
    assert run_key({**inputs(), "results_version": RESULTS_VERSION + 1}) != base
    # key order does not matter: the JSON is sorted
    assert run_key(dict(reversed(list(inputs().items())))) == base


def test_platform_holds_backend_and_major_minor_versions():
    import keras

    p = platform_inputs()
    assert p["keras_backend"] == keras.backend.backend()
    assert p["keras"] == ".".join(keras.__version__.split(".")[:2])
    backend_module = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}[
        p["keras_backend"]
    ]
    assert p[backend_module].count(".") == 1
    assert inputs()["platform"] == p and inputs()["results_version"] == RESULTS_VERSION


def test_stale_reason_says_what_differs():
    now = inputs()
    old = {k: v for k, v in now.items() if k not in ("results_version", "platform")}
    old |= {"schema": 1, "code": "0" * 64}  # a key from before version 2
    assert core_inputs(old) == core_inputs(now)
    assert stale_reason(old, now) == f"results version 1 (now {RESULTS_VERSION})"
    jax = {**now, "platform": {**now["platform"], "keras_backend": "jax"}}
    assert stale_reason(jax, now) == f"keras_backend jax (now {now['platform']['keras_backend']})"


KEY_SCRIPT = """
import json, sys
from convlab.book.build import source_digest
from convlab.experiments.keys import run_inputs, run_key
from convlab.experiments.profiles import PROFILES
from convlab.variants import data_slice
from convlab.models import CNNSpec, ConvBlock
p = PROFILES["smoke"]
spec = CNNSpec(blocks=(ConvBlock(4),), dense=(8,))
key = run_key(run_inputs(spec, p.train_config(), 0, "fashion-mnist", data_slice(p), "smoke"))
print(json.dumps({"key": key, "book": source_digest()}))
"""


def _keys_of(package_parent: Path, hash_seed: str = "0") -> dict:
    env = {**os.environ, "PYTHONPATH": str(package_parent), "PYTHONHASHSEED": hash_seed}
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    out = subprocess.run(
        [sys.executable, "-c", KEY_SCRIPT],
        env=env,
        cwd=package_parent,
        capture_output=True,
        text=True,
        check=True,
        timeout=180,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_a_comment_or_docstring_edit_changes_no_run_key_nor_the_book_cache_key(tmp_path):
    """On a copy of the package: the keys it computes, in a fresh process."""
    copy = tmp_path / "convlab"
    shutil.copytree(PACKAGE_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    before = _keys_of(tmp_path, hash_seed="1")
    assert before["key"] == run_key(inputs()) and before["book"] == source_digest()
    train = copy / "train.py"
    text = train.read_text()
    edited = text.replace(
        '"""Seeded training and evaluation: one call from spec and data to a JSON-ready result."""',
        '"""Seeded training and evaluation (docstring edited)."""\n# a new comment',
        1,
    ).replace("    epochs: int = 10  #", "    epochs: int = (10)  # reformatted;", 1)
    assert edited != text
    train.write_text(edited)
    assert _keys_of(tmp_path, hash_seed="2") == before
    assert source_digest(copy) == source_digest()
    # A change to what the code does changes the book's cache key and fails the guard.
    train.write_text(edited.replace("epochs: int = (10)", "epochs: int = 11", 1))
    assert source_digest(copy) != source_digest()
    copied = module_fingerprints((copy / m for m in keys.RESULT_MODULES), root=copy)
    message = fingerprint_changes(recorded_fingerprint(), copied)
    assert message is not None and "train.py" in message


if __name__ == "__main__":
    if sys.argv[1:] != ["--refresh"]:
        sys.exit("usage: python tests/test_experiments_keys.py --refresh")
    FINGERPRINT_FILE.write_text(json.dumps(recorded_fingerprint(), indent=1, sort_keys=True) + "\n")
    print(f"wrote {FINGERPRINT_FILE}")
