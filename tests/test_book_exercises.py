"""Every self-check the chapters' exercises ask for passes on the chapter's worked solution
(and, in test_check.py, catches wrong solutions)."""

from __future__ import annotations

import re

import pytest
import yaml
from conftest import REPO

from convlab import check

TOC = yaml.safe_load((REPO / "_toc.yml").read_text())
CHAPTERS = [e["file"] for p in TOC["parts"] if p["caption"] == "Chapters" for e in p["chapters"]]


def _exercises(docname: str) -> list[tuple[str, str]]:
    """(exercise text, its solution text) for each exercise of a chapter."""
    text = (REPO / f"{docname}.md").read_text(encoding="utf8")
    section = text.split("\n## Exercises\n", 1)[1]
    parts = re.split(
        r"^:::\{admonition\} Solution\n:class: dropdown\n(.*?)^:::$", section, flags=re.M | re.S
    )
    return list(zip(parts[0::2], parts[1::2], strict=False))


SELF_CHECKS = [
    (docname, i, name, fn)
    for docname in CHAPTERS
    for i, (exercise, _) in enumerate(_exercises(docname), 1)
    for name, fn in re.findall(r"check\.(\w+)\((\w+)\)", exercise)
]


def test_the_book_has_self_checks_for_every_check():
    assert {name for _, _, name, _ in SELF_CHECKS} == set(check.__all__) - {"CheckResult"}


@pytest.mark.parametrize("docname, number, name, fn", SELF_CHECKS)
def test_each_worked_solution_passes_its_self_check(docname, number, name, fn):
    solution = _exercises(docname)[number - 1][1]
    code = "\n".join(re.findall(r"```python\n(.*?)```", solution, flags=re.S))
    namespace: dict = {}
    exec(compile(code, f"{docname} exercise {number} solution", "exec"), namespace)
    assert fn in namespace, f"the solution does not define {fn}"
    result = getattr(check, name)(namespace[fn])
    assert result.passed, str(result)
