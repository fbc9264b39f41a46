"""convlab.book: glue, the execution-cache key, paired notebooks and the build report."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from conftest import REPO

from convlab.book import build, kernel, paired, prose, report, sphinx_ext

FRONT = """---
jupytext:
  formats: ipynb,md:myst
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  display_name: Python 3 (ipykernel)
  language: python
  name: python3
---
"""
CHAPTER = (
    FRONT
    + """
# A chapter

```{code-cell} ipython3
:tags: [hide-input]

import importlib.util
if importlib.util.find_spec("convlab") is None:
    %pip install -q --no-deps "convlab @ git+https://github.com/someone/convlab"
```

```{code-cell} ipython3
x = 1
```

Prose.
"""
)


# --------------------------------------------------------------------------- glue


def test_plain_turns_numpy_scalars_into_python_numbers():
    assert type(prose.plain(np.float32(0.5))) is float
    assert type(prose.plain(np.int64(3))) is int
    assert prose.plain("text") == "text"


def test_glue_without_myst_nb_runs_and_displays_only_when_asked(monkeypatch, capsys):
    shown = []
    monkeypatch.setitem(sys.modules, "myst_nb", None)  # import now raises ImportError
    monkeypatch.setattr("IPython.display.display", shown.append)
    prose.glue("hidden", np.float64(1.5))
    prose.glue("shown", np.float64(2.5), display=True)
    assert shown == [2.5] and type(shown[0]) is float


def test_glue_all_glues_each_keyword(monkeypatch):
    glued = []
    monkeypatch.setattr(prose, "glue", lambda name, value: glued.append((name, value)))
    prose.glue_all(a=1, b="two")
    assert glued == [("a", 1), ("b", "two")]


def test_glue_with_myst_nb_emits_a_scrapbook_output(monkeypatch):
    emitted = []
    monkeypatch.setattr("myst_nb.ext.glue.ipy_display", lambda *a, **k: emitted.append((a, k)))
    prose.glue("answer", np.int64(42))
    ((bundle,), kwargs) = emitted[0]
    assert kwargs["metadata"]["scrapbook"]["name"] == "answer"
    (plain_text,) = [v for k, v in bundle.items() if k.endswith("text/plain")]
    assert plain_text == "42"  # a repr the {glue:text} format spec can read


# --------------------------------------------------------------------------- cache key


def _settings(tmp_path, **changes):
    base = dict(
        root=tmp_path,
        build_dir=tmp_path / "_build",
        profile="smoke",
        dataset="fashion-mnist",
        results_dir=tmp_path / "results",
    )
    return build.BuildSettings(**{**base, **changes})


def test_source_digest_changes_with_any_source_file(tmp_path):
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "a.py").write_text("x = 1\n")
    (pkg / "sub" / "b.py").write_text("y = 2\n")
    first = build.source_digest(pkg)
    assert build.source_digest(pkg) == first
    (pkg / "sub" / "b.py").write_text("y = 3\n")
    assert build.source_digest(pkg) != first


def test_cache_key_covers_convlab_profile_dataset_results_and_precision(tmp_path, monkeypatch):
    monkeypatch.delenv("CONVLAB_PRECISION", raising=False)
    key = build.cache_key(_settings(tmp_path))
    assert key["convlab"] == build.source_digest()
    for change in ({"profile": "quick"}, {"dataset": "cifar10"}, {"results_dir": tmp_path}):
        assert build.cache_key(_settings(tmp_path, **change)) != key
    monkeypatch.setenv("CONVLAB_PRECISION", "float32")
    assert build.cache_key(_settings(tmp_path)) != key


def test_refresh_cache_keeps_a_matching_cache_and_clears_a_stale_one(tmp_path):
    cache = tmp_path / ".jupyter_cache"
    key = {"convlab": "abc", "profile": "smoke"}
    assert build.refresh_cache(cache, key) is None  # nothing to clear yet
    (cache / "global.db").write_text("cached outputs")
    assert build.refresh_cache(cache, key) is None
    assert (cache / "global.db").exists()

    reason = build.refresh_cache(cache, {**key, "convlab": "def"})
    assert reason == "changed since the last build: convlab"
    assert not (cache / "global.db").exists()
    assert json.loads((cache / build.KEY_FILE).read_text())["convlab"] == "def"


def test_refresh_cache_clears_a_cache_without_key_and_on_request(tmp_path):
    cache = tmp_path / ".jupyter_cache"
    cache.mkdir()
    (cache / "global.db").write_text("made by a plain jupyter-book build")
    assert build.refresh_cache(cache, {"a": "1"}) == "the cache has no convlab key"
    (cache / "global.db").write_text("x")
    assert build.refresh_cache(cache, {"a": "1"}, force=True) == "asked for a fresh build"
    assert not (cache / "global.db").exists()


def test_kernel_environment_passes_the_settings_to_the_notebooks(tmp_path):
    env = build.kernel_environment(_settings(tmp_path), tmp_path / "info.json")
    assert env["CONVLAB_PROFILE"] == "smoke"
    assert env["CONVLAB_DATASET"] == "fashion-mnist"
    assert env["CONVLAB_RESULTS_DIR"] == str((tmp_path / "results").resolve())
    assert env["CONVLAB_BOOK_INFO"] == str(tmp_path / "info.json")
    assert env["IPYTHONDIR"] == str(tmp_path / "ipython")  # its start-up file: write_startup


def test_kernel_startup_silences_native_stderr_only_while_the_backend_starts(tmp_path):
    startup = kernel.write_startup(tmp_path / "ipython")
    assert startup.parent == tmp_path / "ipython" / "profile_default" / "startup"
    # As a kernel runs it, then native writes inside and after a silenced block.
    code = startup.read_text() + (
        "import os, sys\n"
        "from convlab.book.kernel import native_stderr_silenced\n"
        "with native_stderr_silenced():\n"
        "    os.write(2, b'inside\\n')\n"
        "os.write(2, b'after\\n')\n"
        "print('keras' in sys.modules)\n"
    )
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "KERAS_BACKEND": "tensorflow"}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "True"  # the backend started
    # Nothing from TensorFlow's start-up (e.g. "oneDNN custom operations are on" on CPUs
    # where those kernels are on by default), nothing from inside, and stderr works after.
    assert proc.stderr == "after\n"


def test_pages_that_force_execution_are_found(tmp_path):
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "a.md").write_text(CHAPTER)
    forced = FRONT.replace("---\n", "---\nmystnb:\n  execution_mode: force\n", 1)
    (tmp_path / "book" / "report.md").write_text(forced.rstrip("-\n") + "\n---\n# R\n")
    (tmp_path / "book" / "plain.md").write_text("# Plain page\n")
    assert build._always_executed(tmp_path) == [tmp_path / "book" / "report.md"]


def test_an_unknown_profile_is_refused_with_the_valid_names(tmp_path):
    (tmp_path / "_config.yml").write_text("title: t\n")
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: index\n")
    with pytest.raises(Exception, match="smoke"):
        build._check(_settings(tmp_path, profile="huge"))


def test_a_missing_toc_says_where_to_run(tmp_path):
    (tmp_path / "_config.yml").write_text("title: t\n")
    with pytest.raises(build.BookBuildError, match="_toc.yml"):
        build._check(_settings(tmp_path))


# --------------------------------------------------------------------------- paired notebooks


@pytest.fixture
def book_root(tmp_path):
    (tmp_path / "_config.yml").write_text("repository:\n  url: https://github.com/me/convlab/\n")
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "chapter.md").write_text(CHAPTER)
    (tmp_path / "book" / "plain.md").write_text("# Not a notebook\n")
    return tmp_path


def test_sync_writes_output_free_pairs_and_points_installs_at_the_repository(book_root):
    md, ipynb = book_root / "book" / "chapter.md", book_root / "book" / "chapter.ipynb"
    assert paired.drift(book_root)  # no pair yet, install URL differs
    written = paired.sync(book_root)
    assert written == [md, ipynb]
    assert paired.install_urls(md) == ["https://github.com/me/convlab"]
    assert paired.drift(book_root) == []
    assert paired.sync(book_root) == []  # idempotent
    nb = json.loads(ipynb.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert len(code) == 2 and all(c["outputs"] == [] for c in code)
    assert code[0]["metadata"]["tags"] == ["hide-input"]
    assert not (book_root / "book" / "plain.ipynb").exists()


def test_sync_pins_install_cells_to_a_commit_for_the_launch_notebooks(book_root):
    md, ipynb = book_root / "book" / "chapter.md", book_root / "book" / "chapter.ipynb"
    sha = "0123456789abcdef0123456789abcdef01234567"
    paired.sync(book_root, url="https://github.com/org/repo", pin=sha)
    assert paired.install_urls(md) == ["https://github.com/org/repo"]
    assert paired.install_pins(md) == [sha]
    assert paired.install_pins(ipynb) == [sha]  # JSON escapes the quotes: read the same
    assert f"git+https://github.com/org/repo@{sha}" in ipynb.read_text()
    paired.sync(book_root)  # back to the repository of _config.yml, unpinned
    assert paired.install_pins(md) == [None]
    with pytest.raises(ValueError, match="Not a git commit"):
        paired.sync(book_root, pin="main; rm -rf /")


def test_drift_names_edits_outputs_and_orphans(book_root):
    paired.sync(book_root)
    md, ipynb = book_root / "book" / "chapter.md", book_root / "book" / "chapter.ipynb"
    md.write_text(md.read_text().replace("x = 1", "x = 2"))
    assert any("differs" in p for p in paired.drift(book_root))

    paired.sync(book_root)
    nb = json.loads(ipynb.read_text())
    nb["cells"][-2]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "1"}]
    ipynb.write_text(json.dumps(nb))
    assert any("has outputs" in p for p in paired.drift(book_root))

    paired.sync(book_root)
    (book_root / "book" / "orphan.ipynb").write_text(ipynb.read_text())
    problems = paired.drift(book_root)
    assert any("orphan.ipynb: no MyST source" in p for p in problems)
    assert problems[-1].startswith("Fix: run `convlab book sync`")
    paired.sync(book_root)
    assert not (book_root / "book" / "orphan.ipynb").exists()


# --------------------------------------------------------------------------- build report


def test_benchmarks_markdown_includes_each_file_with_headings_flattened(tmp_path):
    assert "make bench" in report.benchmarks_markdown(tmp_path)
    results = tmp_path / "benchmarks" / "results"
    results.mkdir(parents=True)
    (results / "throughput.md").write_text("# Throughput\n\n| a | b |\n|---|---|\n| 1 | 2 |\n")
    text = report.benchmarks_markdown(tmp_path)
    assert "**throughput**" in text and "**Throughput**" in text and "| 1 | 2 |" in text
    assert not any(line.startswith("#") for line in text.splitlines())
    assert "does not record when, where or how" in text


def test_each_benchmark_table_says_when_where_and_how_it_was_measured(tmp_path):
    import json

    results = tmp_path / "benchmarks" / "results"
    results.mkdir(parents=True)
    (results / "book.md").write_text("| a |\n|---|\n| 1 |\n")
    measured = {
        "date": "2026-12-06 10:00 UTC",
        "machine": "Some CPU (AVX2), 2 CPUs",
        "command": "python -m benchmarks.run --only book",
        "revision": "abc",
    }
    (results / "book.json").write_text(json.dumps({"rows": [], "measured": measured}))
    text = report.benchmarks_markdown(tmp_path)
    assert "not measured by this build" in text
    for value in measured.values():
        assert value in text


def test_the_shipped_benchmark_results_record_their_measurement():
    from conftest import REPO

    for path in sorted((REPO / "benchmarks" / "results").glob("*.md")):
        assert "Measured" in report.measured_line(path), path.name


def test_info_rows_lists_settings_then_versions():
    info = {
        "profile": "quick",
        "dataset": "cifar10",
        "backend": "tensorflow",
        "device": "CPU",
        "revision": "abc123",
        "versions": {"keras": "3.0", "numpy": "2.0"},
    }
    table = report.info_rows(info)
    assert list(table.index) == [
        "profile",
        "dataset",
        "Keras backend",
        "device",
        "code revision",
        "keras",
        "numpy",
    ]
    assert table.loc["dataset", "value"] == "cifar10"
    vouched = report.info_rows({**info, "vouched_data": ["ab" * 32]})
    assert "not the official ones" in vouched.loc["dataset", "value"]


def test_load_build_info_reads_what_the_build_wrote(tmp_path, monkeypatch):
    path = tmp_path / "info.json"
    path.write_text(json.dumps({"profile": "full"}))
    monkeypatch.setenv("CONVLAB_BOOK_INFO", str(path))
    assert report.load_build_info() == {"profile": "full"}


def test_code_revision_outside_git_says_so(tmp_path):
    assert report.code_revision(tmp_path).startswith("unknown")


# --------------------------------------------------------------------------- sphinx extension


def test_duplicate_inline_scripts_are_dropped_once_each():
    from sphinx.builders.html._assets import _JavaScript

    body = 'const THEBE_JS_URL = "x"'
    shared = [
        _JavaScript(None, body=body),
        _JavaScript("_static/a.js"),
        _JavaScript("", body=body),  # the same script, registered by the other path
        _JavaScript("_static/a.js", **{"async": "async"}),  # different attributes: kept
    ]
    context = {"script_files": shared}
    sphinx_ext.dedupe_scripts(None, "page", "page.html", context, None)
    assert [(s.filename, s.attributes) for s in context["script_files"]] == [
        (None, {"body": body}),
        ("_static/a.js", {}),
        ("_static/a.js", {"async": "async"}),
    ]
    assert len(shared) == 4  # the builder's own list is left alone


# --------------------------------------------------------------------------- command line


def test_book_sync_check_reports_drift_and_sync_fixes_it(book_root, capsys):
    from convlab.cli import main

    assert main(["book", "sync", "--check", "--root", str(book_root)]) == 1
    assert "no paired chapter.ipynb" in capsys.readouterr().out
    assert main(["book", "sync", "--root", str(book_root)]) == 0
    assert "wrote book/chapter.ipynb" in capsys.readouterr().out
    assert main(["book", "sync", "--check", "--root", str(book_root)]) == 0


def test_book_build_outside_a_book_says_where_to_run(tmp_path, capsys):
    from convlab.cli import main

    assert main(["book", "build", "--root", str(tmp_path), "--profile", "smoke"]) == 2
    assert "No _config.yml" in capsys.readouterr().err


def test_a_wrong_setting_is_one_message_without_tensorflow_start_up_lines(tmp_path):
    """The default profile asks Keras for a GPU before the build starts: TensorFlow's native
    start-up lines must not bury the one message (exit 2, before Sphinx)."""
    env = {
        k: v for k, v in os.environ.items() if k not in ("CONVLAB_PROFILE", "TF_CPP_MIN_LOG_LEVEL")
    }
    cmd = [sys.executable, "-m", "convlab", "book", "build", "--root", str(REPO)]
    cmd += ["--build-dir", str(tmp_path / "_build"), "--dataset", "cifar100"]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 2
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("convlab: error:"), proc.stderr
    assert "cifar100" in lines[0] and "fashion-mnist" in lines[0]
    assert not (tmp_path / "_build").exists()  # nothing built, nothing started
