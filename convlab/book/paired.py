"""Paired notebooks: an output-free ``.ipynb`` beside every MyST notebook in ``book/``.

The MyST ``.md`` file is the source (readable diffs, what the book builds from); Colab
opens only ``.ipynb``, and the book's launch buttons point at it. :func:`sync` rewrites
each ``.ipynb`` from its ``.md`` (and points each chapter's install cell at the repository
named in ``_config.yml``); :func:`drift` lists every way the two have come apart.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import jupytext
import yaml

__all__ = ["drift", "install_pins", "install_urls", "notebook_sources", "repository_url", "sync"]

# The first cell of a chapter installs convlab from here when it is not importable.
INSTALL_RE = re.compile(r'"convlab @ git\+(?P<url>[^"@\\]+)(?:@(?P<pin>[^"\\]*))?\\?"')


def notebook_sources(root: Path) -> list[Path]:
    """MyST notebooks under ``book/``: Markdown files with a ``jupytext`` front matter."""
    found = []
    for path in sorted((Path(root) / "book").rglob("*.md")):
        text = path.read_text(encoding="utf8")
        if text.startswith("---") and "\njupytext:" in text.split("\n---", 1)[0]:
            found.append(path)
    return found


def repository_url(root: Path) -> str:
    """``repository.url`` of the book's ``_config.yml``."""
    config = yaml.safe_load((Path(root) / "_config.yml").read_text(encoding="utf8"))
    return str(config["repository"]["url"]).rstrip("/")


def install_urls(md: Path) -> list[str]:
    """Repository URLs a notebook's install cell installs convlab from."""
    return [m["url"] for m in INSTALL_RE.finditer(md.read_text(encoding="utf8"))]


def install_pins(md: Path) -> list[str | None]:
    """The commit or tag each install cell pins (``None``: the default branch)."""
    return [m["pin"] for m in INSTALL_RE.finditer(md.read_text(encoding="utf8"))]


def _ipynb_text(md: Path) -> str:
    notebook = jupytext.read(md)
    # nbformat gives new cells random ids; derive them from the cells so that a sync of
    # an unchanged chapter rewrites nothing.
    for index, cell in enumerate(notebook.cells):
        cell["id"] = hashlib.sha1(f"{index}:{cell.source}".encode()).hexdigest()[:8]
    return jupytext.writes(notebook, fmt="ipynb")


def _orphans(root: Path, sources: list[Path]) -> list[Path]:
    """``.ipynb`` files under ``book/`` that no MyST notebook pairs with."""
    paired = {md.with_suffix(".ipynb") for md in sources}
    return [
        p
        for p in sorted((Path(root) / "book").rglob("*.ipynb"))
        if p not in paired and ".ipynb_checkpoints" not in p.parts
    ]


def sync(root: Path, url: str | None = None, pin: str | None = None) -> list[Path]:
    """Make every paired ``.ipynb`` match its ``.md``; return the files rewritten.

    Install cells are first pointed at ``url`` (default ``repository.url`` of
    ``_config.yml``) and, with ``pin``, at that commit or tag of it (what the book workflow
    does for the notebooks its launch buttons open); ``.ipynb`` files whose ``.md`` is gone
    are removed.
    """
    url = (url or repository_url(root)).rstrip("/")
    if pin is not None and not re.fullmatch(r"[A-Za-z0-9._/-]+", pin):
        raise ValueError(f"Not a git commit or tag name: {pin!r}.")
    spec = f"git+{url}@{pin}" if pin else f"git+{url}"
    written = []
    sources = notebook_sources(root)
    for md in sources:
        text = md.read_text(encoding="utf8")
        fixed = INSTALL_RE.sub(f'"convlab @ {spec}"', text)
        if fixed != text:
            md.write_text(fixed, encoding="utf8")
            written.append(md)
        ipynb = md.with_suffix(".ipynb")
        new = _ipynb_text(md)
        if not ipynb.is_file() or ipynb.read_text(encoding="utf8") != new:
            ipynb.write_text(new, encoding="utf8")
            written.append(ipynb)
    for ipynb in _orphans(root, sources):
        ipynb.unlink()
        written.append(ipynb)
    return written


def _cells(notebook) -> list[tuple[str, str, tuple[str, ...]]]:
    return [
        (c.cell_type, c.source.strip(), tuple(sorted(c.metadata.get("tags", []))))
        for c in notebook.cells
    ]


def drift(root: Path) -> list[str]:
    """Every difference between the ``.md`` notebooks and their ``.ipynb`` pairs.

    Compares cell types, sources and tags as jupytext reads both files, and requires the
    ``.ipynb`` to carry no outputs. An empty list means in sync.
    """
    problems = []
    url = repository_url(root)
    sources = notebook_sources(root)
    for md in sources:
        rel = md.relative_to(root)
        for found in install_urls(md):
            if found != url:
                problems.append(f"{rel}: installs convlab from {found}, _config.yml says {url}")
        ipynb = md.with_suffix(".ipynb")
        if not ipynb.is_file():
            problems.append(f"{rel}: no paired {ipynb.name}")
            continue
        text_nb, pair_nb = jupytext.read(md), jupytext.read(ipynb)
        a, b = _cells(text_nb), _cells(pair_nb)
        if a != b:
            index = next(
                (i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y),
                min(len(a), len(b)),
            )
            problems.append(
                f"{rel}: {ipynb.name} differs from it ({len(a)} vs {len(b)} cells, "
                f"first difference at cell {index})"
            )
        if any(c.get("outputs") or c.get("execution_count") for c in pair_nb.cells):
            problems.append(f"{rel.with_suffix('.ipynb')}: has outputs; pairs stay output-free")
        if text_nb.metadata.get("kernelspec") != pair_nb.metadata.get("kernelspec"):
            problems.append(f"{rel.with_suffix('.ipynb')}: kernelspec differs from {rel.name}")
    for ipynb in _orphans(root, sources):
        problems.append(f"{ipynb.relative_to(root)}: no MyST source beside it")
    if problems:
        problems.append("Fix: run `convlab book sync` and commit both files.")
    return problems
