"""Fingerprints of Python source that ignore comments, docstrings and formatting.

A fingerprint is the SHA-256 of each module's syntax tree with its docstrings removed,
written back as normalised source (``ast.unparse``): reformatting a file, editing a comment
or a docstring leaves it unchanged, while any change to what the code does changes it.
The results store does not key runs on it (see :mod:`convlab.experiments.keys`); a test
compares the fingerprint of the result-determining modules with the one checked into the
repository, and the book's execution cache is keyed on the fingerprint of the package.

Example:
    >>> normalised_source("x = (1)  # one") == normalised_source("x = 1")
    True
"""

from __future__ import annotations

import ast
import hashlib
import json
from collections.abc import Iterable
from pathlib import Path

__all__ = ["PACKAGE_DIR", "fingerprint", "module_fingerprints", "normalised_source"]

PACKAGE_DIR = Path(__file__).resolve().parent


def _drop_docstrings(tree: ast.AST) -> ast.AST:
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if (
                body
                and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)
            ):
                node.body = body[1:] or [ast.Pass()]
    return tree


def normalised_source(text: str) -> str:
    """``text`` parsed, without docstrings, unparsed: what the code does, not how it looks."""
    return ast.unparse(_drop_docstrings(ast.parse(text)))


def module_fingerprints(paths: Iterable[Path], root: Path = PACKAGE_DIR) -> dict[str, str]:
    """Relative path (POSIX) -> SHA-256 of the module's normalised source."""
    out = {}
    for path in sorted(Path(p) for p in paths):
        text = normalised_source(path.read_text(encoding="utf-8"))
        out[path.relative_to(root).as_posix()] = hashlib.sha256(text.encode()).hexdigest()
    return out


def fingerprint(paths: Iterable[Path], root: Path = PACKAGE_DIR) -> str:
    """One SHA-256 over :func:`module_fingerprints` (names included, so a move counts)."""
    text = json.dumps(module_fingerprints(paths, root), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def package_modules(root: Path = PACKAGE_DIR) -> list[Path]:
    """Every ``.py`` file of the package under ``root``."""
    return sorted(p for p in root.rglob("*.py") if "__pycache__" not in p.parts)
