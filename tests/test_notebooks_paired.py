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
SOLUTION = re.compile(r"^:::\{admonition\} Solution\n:class: dropdown\n.*?^:::$", re.M | re.S)
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
    assert len(first.strip().splitlines()) <= 5
    # ... and then says what the chapter will train, where, and for how long (a launch).
    assert f'plan_chapter("{path.stem}")' in first
    url = yaml.safe_load((REPO / "_config.yml").read_text())["repository"]["url"]
    assert install_urls(path) == [url.rstrip("/")]
    assert "convlab" in code[1] and "import" in code[1], "the second cell imports convlab"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_chapters_stay_thin(path):
    text = path.read_text(encoding="utf8")
    # Exercises' worked solutions are the reader's code, not the chapter's: tests run them
    # (test_book_exercises.py); everything the chapter executes stays thin.
    text = re.sub(SOLUTION, "", text)
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
    assert headings[-2:] == ["What the evidence showed", "Exercises"]


@pytest.mark.parametrize("docname", CHAPTERS)
def test_chapters_end_with_two_to_four_exercises_each_with_a_collapsed_solution(docname):
    text = (REPO / f"{docname}.md").read_text(encoding="utf8")
    exercises = text.split("\n## Exercises\n", 1)[1]
    numbered = re.findall(r"^(\d+)\. \*\*", exercises, re.M)
    assert 2 <= len(numbered) <= 4, f"{len(numbered)} exercises"
    assert numbered == [str(i) for i in range(1, len(numbered) + 1)]
    solutions = re.findall(r"^:::\{admonition\} Solution\n:class: dropdown\n", exercises, re.M)
    assert len(solutions) == len(numbered), "one collapsed solution per exercise"


# What may stand in prose: code cells and code blocks (not directives such as notes,
# admonitions or figures, whose text is prose), math, glue roles and inline code.
CODE_FENCE = re.compile(r"^(`{3,})(?:\{code-cell\}[^\n]*|[\w+-]*)\n.*?^\1\s*$", re.M | re.S)
# The confidence level is a choice, not a result, where it names an interval or a level.
CONFIDENCE = re.compile(r"95%(?=\s+(?:confidence|interval|intervals|CI|level)\b)|\(95%\)")
TYPED = [
    re.compile(r"\d+\.\d+"),  # 91.2, 0.05
    re.compile(r"\d+\s?%"),  # 91 %, 95% accuracy
    re.compile(r"\b\d[\d,]*\s+(?:out\s+)?of\s+(?:the\s+)?\d[\d,]*\b"),  # errs on 83 of 1000
    re.compile(
        r"\b\d+(?:\.\d+)?\s?(?:x|times)\s+(?:fewer|more|faster|slower|smaller|larger|less|as)\b"
    ),
]


def typed_numbers(text: str) -> list[str]:
    """Results typed into MyST prose instead of computed: decimals, percentages, counts
    out of a total and ratios, outside code, math, glue roles and inline code."""
    if text.startswith("---\n"):
        text = text.split("\n---\n", 1)[1]  # the front matter
    text = CODE_FENCE.sub("", text)
    text = re.sub(r"\$\$.*?\$\$|\$[^$\n]+\$", "", text, flags=re.S)  # math
    text = re.sub(r"^(`{3,}|:{3,}).*$", "", text, flags=re.M)  # directive fences, not their text
    text = re.sub(r"\{glue:\w+\}`[^`\n]*`|`[^`\n]*`", "", text)  # glue roles, inline code
    text = CONFIDENCE.sub("", text)
    return [m.group(0) for pattern in TYPED for m in pattern.finditer(text)]


PAGES = [TOC["root"], *(e["file"] for p in TOC["parts"] for e in p["chapters"])]


@pytest.mark.parametrize("docname", PAGES)
def test_numbers_in_prose_are_glued_not_typed(docname):
    """Every page, the landing, rebuild and build-report pages included: results in the
    prose come from execution (glue) or from a file the code wrote."""
    typed = typed_numbers((REPO / f"{docname}.md").read_text(encoding="utf8"))
    assert not typed, f"typed results in {docname}: {typed}"


@pytest.mark.parametrize(
    "prose",
    [
        "The CNN reaches 95% accuracy on the test images.",
        "```{note}\nThe CNN reached 91.2 on the test set.\n```",
        ":::{admonition} Solution\nIt comes out at 0.93.\n:::",
        "```{figure} plot.png\nAccuracy rose from 88 % to 91 %.\n```",
        "The CNN errs on 83 of 1000 images.",
        "That is 3x fewer mistakes than the MLP.",
        "The MLP needs 2 times more parameters.",
    ],
)
def test_the_guard_catches_typed_results(prose):
    assert typed_numbers(prose), prose


@pytest.mark.parametrize(
    "prose",
    [
        "Each comparison has a 95% confidence interval; the 95% interval covers zero.",
        "A 3x3 kernel over a 28 x 28 image, with 32 filters.",
        "```{code-cell} ipython3\nx = 0.5 * 91.2\n```",
        "```python\nprint(83 / 1000)\n```",
        "Accuracy {glue:text}`acc:.2%` and `lr = 0.001`, with $p = 0.05$.",
    ],
)
def test_the_guard_lets_inputs_code_and_glue_pass(prose):
    assert typed_numbers(prose) == [], prose


def test_the_experiments_chapter_runs_every_shipped_study():
    from convlab.experiments import STUDIES

    text = (REPO / "book" / "experiments.md").read_text(encoding="utf8")
    run = set(re.findall(r'run_study\(get_study\("([\w-]+)"\)', text))
    assert run == set(STUDIES), f"missing: {set(STUDIES) - run}, unknown: {run - set(STUDIES)}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_the_launch_plan_knows_what_each_chapter_trains(path):
    """convlab.book.launch.CHAPTER_STUDIES against the studies the chapter's code runs."""
    from convlab.book.launch import ALL, CHAPTER_STUDIES

    text = path.read_text(encoding="utf8")
    named = set(re.findall(r'get_study\("([a-z0-9-]+)"\)', text))
    planned = CHAPTER_STUDIES[path.stem]
    from convlab.experiments import STUDIES

    if "STUDIES.values()" in text or named == set(STUDIES):
        assert planned == ALL, path.stem
        return
    assert planned != ALL, path.stem
    studies = {entry.partition(":")[0] for entry in planned}
    assert studies - {"mlp-vs-cnn"} == named - {"mlp-vs-cnn"}, path.stem
    if "train_one(" in text or "mlp-vs-cnn" in named:
        assert "mlp-vs-cnn" in studies, f"{path.stem} trains the reference models"
