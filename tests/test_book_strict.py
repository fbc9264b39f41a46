"""`convlab book build` on a throwaway book: it must exit non-zero on every kind of mistake.

A build that prints a traceback and exits 0 is the classic failure of executable books, so
each mistake gets its own build here, with the repository's real _config.yml.
"""

from __future__ import annotations

import shutil

import pytest
from conftest import REPO, run_book_build

FRONT = """---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  display_name: Python 3 (ipykernel)
  language: python
  name: python3
---
"""
GOOD_CELL = """
```{code-cell} ipython3
from convlab.book import glue

glue("answer", 6 * 7)
```
"""
GOOD_PROSE = "The answer is {glue:text}`answer`. Back to {doc}`index`.\n"


def make_book(root, cell: str = GOOD_CELL, prose: str = GOOD_PROSE):
    (root / "book").mkdir(parents=True)
    shutil.copy(REPO / "_config.yml", root / "_config.yml")
    (root / "_toc.yml").write_text(
        "format: jb-book\nroot: book/index\nchapters:\n  - file: book/chapter\n"
    )
    (root / "book" / "index.md").write_text("# Home\n\nSee {doc}`chapter`.\n")
    (root / "book" / "chapter.md").write_text(f"{FRONT}\n# Chapter\n{cell}\n{prose}")
    return root


def build(root, *extra, env=None):
    proc = run_book_build(root, root / "_build", *extra, env=env)
    return proc.returncode, proc.stdout + proc.stderr


def test_a_clean_book_builds_incrementally_and_notices_a_change_in_convlab(tmp_path):
    # The build and its kernels import a private copy of convlab, so that changing it here
    # (and nothing else) is what the execution cache must notice.
    copy = tmp_path / "site" / "convlab"
    shutil.copytree(REPO / "convlab", copy, ignore=shutil.ignore_patterns("__pycache__"))
    env = {"PYTHONPATH": str(copy.parent)}
    root = make_book(tmp_path / "repo")
    fork = ("--repository-url", "https://github.com/someone/fork", "--branch", "dev")
    code, log = build(root, *fork, env=env)
    assert code == 0, log
    assert "without encryption" not in log  # ipykernel's start-up warning (convlab.book.kernel)
    page = (root / "_build" / "html" / "book" / "chapter.html").read_text()
    assert '<span class="pasted-text">42</span>' in page
    # The launch buttons and live code follow the repository given on the command line.
    assert "colab.research.google.com/github/someone/fork/blob/dev/book/chapter" in page
    assert 'repo: "someone/fork"' in page and 'ref: "dev"' in page

    executed = root / "_build" / "jupyter_execute" / "book" / "chapter.ipynb"
    stamp = executed.stat().st_mtime_ns
    code, log = build(root, *fork, env=env)
    assert code == 0, log
    assert "cache cleared" not in log
    assert executed.stat().st_mtime_ns == stamp  # nothing re-read, nothing re-executed

    with (copy / "chapters.py").open("a") as f:
        f.write("\n# a comment: not a change to what convlab computes\n")
    code, log = build(root, *fork, env=env)
    assert code == 0, log
    assert "cache cleared" not in log
    assert executed.stat().st_mtime_ns == stamp

    with (copy / "chapters.py").open("a") as f:
        f.write("\nEDITED = True\n")
    code, log = build(root, *fork, env=env)
    assert code == 0, log
    assert "execution cache cleared: changed since the last build: convlab" in log
    assert executed.stat().st_mtime_ns != stamp  # executed again


def test_a_glued_sentence_reads_as_prose_and_a_glued_number_stands_out(tmp_path):
    cell = GOOD_CELL.replace(
        'glue("answer", 6 * 7)',
        'glue("answer", 6 * 7)\nglue_markdown("reading", "The answer is *even*, like 6.")',
    ).replace("import glue", "import glue, glue_markdown")
    root = make_book(tmp_path, cell=cell, prose=GOOD_PROSE + "\n{glue:md}`reading`\n")
    code, log = build(root)
    assert code == 0, log
    page = (root / "_build" / "html" / "book" / "chapter.html").read_text()
    assert '<span class="pasted-text">42</span>' in page  # myst-nb sets it in bold
    assert "The answer is <em>even</em>, like 6." in page  # Markdown, in the paragraph's type
    assert page.count('class="pasted-text"') == 1


def test_an_exception_in_a_cell_fails_the_build(tmp_path):
    root = make_book(tmp_path, cell=GOOD_CELL.replace("6 * 7", "6 * 7 / 0"))
    code, log = build(root)
    assert code != 0
    assert "ZeroDivisionError" in log  # the traceback reaches the log (show_tb)
    assert "FAILED" in log


def test_a_broken_reference_fails_the_build(tmp_path):
    root = make_book(tmp_path, prose=GOOD_PROSE.replace("{doc}`index`", "{doc}`no-such-page`"))
    code, log = build(root)
    assert code != 0
    assert "unknown document" in log and "no-such-page" in log


@pytest.mark.parametrize(
    ("cell", "prose", "message"),
    [
        (GOOD_CELL, GOOD_PROSE.replace("`answer`", "`no_such_key`"), "No key 'no_such_key'"),
        (
            GOOD_CELL.replace(
                'glue("answer"', 'print("oops", file=__import__("sys").stderr)\nglue("answer"'
            ),
            GOOD_PROSE,
            "stderr was found",
        ),
    ],
    ids=["missing-glue-value", "stderr-output"],
)
def test_a_warning_fails_the_build(tmp_path, cell, prose, message):
    code, log = build(make_book(tmp_path, cell=cell, prose=prose))
    assert code != 0
    assert message in log


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"CONVLAB_DATA_DIR": "PARTIAL"}, "holds only part of the dataset"),
        ({"CONVLAB_DATASET": "imagenet"}, "Unknown dataset 'imagenet'"),
        ({"CONVLAB_PROFILE": "huge"}, "Unknown profile 'huge'"),
        ({"CONVLAB_PRECISION": "float16"}, "CONVLAB_PRECISION must be one of"),
    ],
    ids=["dataset-missing-files", "unknown-dataset", "unknown-profile", "unknown-precision"],
)
def test_a_build_that_cannot_work_fails_fast_with_one_message(tmp_path, env, message):
    import os
    import subprocess
    import sys

    root = make_book(tmp_path / "book")
    partial = tmp_path / "partial"
    partial.mkdir()
    (partial / "train-images-idx3-ubyte.gz").write_bytes(b"not all of it")
    env = {k: str(partial) if v == "PARTIAL" else v for k, v in env.items()}
    cmd = [sys.executable, "-m", "convlab", "book", "build", "--root", str(root), "--quiet"]
    proc = subprocess.run(
        cmd, cwd=root, env={**os.environ, **env}, capture_output=True, text=True, timeout=120
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 2, out
    assert message in out and out.count("convlab: error:") == 1
    assert "Traceback" not in out and "Running Sphinx" not in out
    assert not (root / "_build" / "html").exists()
