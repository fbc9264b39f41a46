"""The MyST chapters and their paired .ipynb: in sync, output-free, thin, and runnable on Colab.

Colab and Binder open the .ipynb beside each MyST source (the launch buttons point at it),
so the two must not drift; `convlab book sync` rewrites the .ipynb files.
"""

from __future__ import annotations

import re

import jupytext
import pytest
import yaml
from conftest import REPO

from convlab.book.paired import drift, install_urls, notebook_sources

NOTEBOOKS = notebook_sources(REPO)
TOC = yaml.safe_load((REPO / "_toc.yml").read_text())
CHAPTERS = [
    entry["file"]
    for part in TOC["parts"]
    if part["caption"] == "Chapters"
    for entry in part["chapters"]
]


def test_every_notebook_has_an_output_free_pair_in_sync():
    assert NOTEBOOKS, "no MyST notebooks under book/"
    assert drift(REPO) == []


def test_every_chapter_is_a_notebook_with_a_python3_kernel():
    names = {p.relative_to(REPO).with_suffix("").as_posix() for p in NOTEBOOKS}
    assert set(CHAPTERS) <= names
    for path in NOTEBOOKS:
        assert jupytext.read(path).metadata["kernelspec"]["name"] == "python3", path


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_the_first_cell_installs_convlab_only_outside_the_repository(path):
    code = [c.source for c in jupytext.read(path).cells if c.cell_type == "code"]
    first = code[0]
    assert 'importlib.util.find_spec("convlab") is None' in first, "install cell must be first"
    assert len(first.strip().splitlines()) <= 3
    url = yaml.safe_load((REPO / "_config.yml").read_text())["repository"]["url"]
    assert install_urls(path) == [url.rstrip("/")]
    assert "convlab" in code[1] and "import" in code[1], "the second cell imports convlab"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_chapters_stay_thin(path):
    text = path.read_text(encoding="utf8")
    # The before-stop hook's rule: logic belongs in convlab, with a test.
    assert not re.search(r"^\s*(def|class) ", text, re.M), "define functions in convlab"
    for cell in jupytext.read(path).cells:
        if cell.cell_type == "code":
            lines = [
                line
                for line in cell.source.splitlines()
                if line.strip() and not re.match(r"\s*(import |from \S+ import |%)", line)
            ]
            assert len(lines) <= 6, f"{len(lines)} lines besides imports: move logic to convlab"


@pytest.mark.parametrize("docname", CHAPTERS)
def test_chapters_open_with_aims_and_close_with_evidence(docname):
    text = (REPO / f"{docname}.md").read_text(encoding="utf8")
    headings = re.findall(r"^#+ (.+)$", text, re.M)
    assert "**You will learn**" in text.split("\n## ", 1)[0], "aims before the first section"
    assert headings[-1] == "What the evidence showed"


@pytest.mark.parametrize("docname", CHAPTERS)
def test_numbers_in_prose_are_glued_not_typed(docname):
    """Outside code, math and glue roles, no number with a decimal point or a percent sign:
    results in the prose come from execution."""
    text = (REPO / f"{docname}.md").read_text(encoding="utf8").split("\n---\n", 1)[1]
    text = re.sub(r"```.*?```", "", text, flags=re.S)  # code cells and blocks
    text = re.sub(r"\$\$.*?\$\$|\$[^$\n]+\$", "", text, flags=re.S)  # math
    text = re.sub(r"\{glue:\w+\}`[^`]*`|`[^`]*`", "", text)  # glue roles, inline code
    text = re.sub(r"95%(?=\s)", "", text)  # the confidence level, a choice not a result
    typed = re.findall(r"\d+\.\d+|\d+\s?%", text)
    assert not typed, f"typed results in {docname}: {typed}"


def test_the_experiments_chapter_runs_every_shipped_study():
    from convlab.experiments import STUDIES

    text = (REPO / "book" / "experiments.md").read_text(encoding="utf8")
    run = set(re.findall(r'run_study\(get_study\("([\w-]+)"\)', text))
    assert run == set(STUDIES), f"missing: {set(STUDIES) - run}, unknown: {run - set(STUDIES)}"
