"""A strict, incremental Jupyter Book build whose execution cache notices convlab changes.

``convlab book build`` runs Jupyter Book 1.x (Sphinx + myst-nb) in-process with warnings as
errors, nit-picky references and ``--keep-going``, so an execution error, a broken
reference, a missing glue key or stray stderr output all end in a non-zero exit code.

jupyter-cache keys notebooks on their cell sources only, so on its own it would keep
serving outputs computed by an older convlab, another profile or another dataset. Every
build therefore compares a key (a fingerprint of convlab's code, comments, docstrings and
formatting removed, see :mod:`convlab.fingerprint`, plus the settings the kernels see)
with the one stored beside the cache, and when it differs clears the cache and re-reads
every page. Re-executing is cheap: training results come from the experiments'
results store, which the key does not cover, so nothing is retrained.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

from convlab.errors import ConvlabError
from convlab.fingerprint import fingerprint, package_modules

__all__ = [
    "BookBuildError",
    "BuildResult",
    "BuildSettings",
    "build",
    "cache_key",
    "kernel_environment",
    "refresh_cache",
    "source_digest",
]

PACKAGE_DIR = Path(__file__).resolve().parent.parent
KEY_FILE = "convlab-key.json"  # inside the cache folder, so CI caches it with the cache


class BookBuildError(ConvlabError):
    """The book cannot be built as asked (missing files, unknown profile)."""


@dataclass(frozen=True)
class BuildSettings:
    """Everything a book build depends on besides the files themselves."""

    root: Path  # folder with _config.yml and _toc.yml
    build_dir: Path  # html/, .doctrees/, .jupyter_cache/ and jupyter_execute/ go here
    profile: str  # smoke | quick | full: how much the experiments compute
    dataset: str  # the book-level dataset (CONVLAB_DATASET)
    results_dir: Path  # the experiments' results store
    repository_url: str | None = None  # overrides _config.yml's repository.url
    branch: str | None = None  # overrides _config.yml's repository.branch
    fresh: bool = False  # clear the execution cache and re-read every page
    # dataset -> its edition's folder in the published site (CONVLAB_EDITIONS): every page
    # then links to the same page of the other editions.
    editions: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class BuildResult:
    returncode: int
    html_dir: Path
    wall_time_s: float
    cache_cleared: str | None  # why the execution cache was cleared, or None


def source_digest(package_dir: Path = PACKAGE_DIR) -> str:
    """Fingerprint of convlab's code: its modules without comments, docstrings, formatting."""
    return fingerprint(package_modules(package_dir), package_dir)


def cache_key(settings: BuildSettings) -> dict[str, str]:
    """What cached outputs depend on besides cell sources."""
    return {
        "convlab": source_digest(),
        "profile": settings.profile,
        "dataset": settings.dataset,
        "results_dir": str(Path(settings.results_dir).resolve()),
        "keras_backend": os.environ.get("KERAS_BACKEND", ""),
        "precision": os.environ.get("CONVLAB_PRECISION", ""),
    }


def refresh_cache(cache_dir: Path, key: dict[str, str], force: bool = False) -> str | None:
    """Clear ``cache_dir`` when its stored key differs from ``key``; store ``key``.

    Returns:
        Why the cache was cleared (for the log), or None if it was kept or did not exist.
    """
    import shutil

    cache_dir = Path(cache_dir)
    key_path = cache_dir / KEY_FILE
    reason = None
    if cache_dir.exists():
        try:
            old = json.loads(key_path.read_text())
        except (OSError, ValueError):
            old = None
        if force:
            reason = "asked for a fresh build"
        elif old is None:
            reason = "the cache has no convlab key"
        elif old != key:
            changed = sorted(k for k in key.keys() | old.keys() if key.get(k) != old.get(k))
            reason = f"changed since the last build: {', '.join(changed)}"
        if reason:
            shutil.rmtree(cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    key_path.write_text(json.dumps(key, indent=1, sort_keys=True))
    return reason


def kernel_environment(settings: BuildSettings, info_path: Path) -> dict[str, str]:
    """Environment variables the notebook kernels inherit from the build."""
    return {
        "CONVLAB_PROFILE": settings.profile,
        "CONVLAB_DATASET": settings.dataset,
        "CONVLAB_RESULTS_DIR": str(Path(settings.results_dir).resolve()),
        "CONVLAB_BOOK_INFO": str(info_path),
        # TensorFlow's C++ start-up messages would otherwise reach the pages as stderr,
        # which the strict build (stderr_output: warn, -W) rejects.
        "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2"),
        # ... and the lines it writes before reading that: see convlab.book.kernel.
        "IPYTHONDIR": str(info_path.parent / "ipython"),
        # tqdm.auto warns on import in a kernel without ipywidgets, even for a disabled bar.
        "PYTHONWARNINGS": ",".join(
            w for w in (os.environ.get("PYTHONWARNINGS"), "ignore:IProgress not found") if w
        ),
    }


def _always_executed(root: Path) -> list[Path]:
    """Pages whose front matter says ``mystnb: execution_mode: force`` (the build report).

    Sphinx re-reads only changed sources, so such a page would otherwise keep describing
    the build that last touched it.
    """
    pages = []
    for path in sorted((root / "book").rglob("*.md")):
        text = path.read_text(encoding="utf8")
        if not text.startswith("---"):
            continue
        front = yaml.safe_load(text.split("---", 2)[1]) or {}
        if (front.get("mystnb") or {}).get("execution_mode") == "force":
            pages.append(path)
    return pages


def _check(settings: BuildSettings) -> None:
    for name in ("_config.yml", "_toc.yml"):
        if not (settings.root / name).is_file():
            raise BookBuildError(
                f"{settings.root / name} not found: run `convlab book build` in the "
                "repository root or pass --root."
            )
    import importlib.util

    from convlab.book.kernel import start_backend_quietly
    from convlab.data import load

    missing = [
        m for m in ("jupyter_book", "myst_nb", "ipykernel") if not importlib.util.find_spec(m)
    ]
    if missing:
        raise BookBuildError(
            f"The book's tools are not installed ({', '.join(missing)}): "
            "pip install -e '.[book]' (or run `make book`, which installs them)."
        )
    # Every chapter loads the dataset: find and verify it once here, so that a missing or
    # corrupt copy is one message before Sphinx starts, not a traceback in every chapter.
    load(settings.dataset)
    # The profile and precision checks import Keras: start its backend without the native
    # start-up lines, so that a wrong name is the only thing printed.
    start_backend_quietly()
    from convlab.experiments import get_profile
    from convlab.settings import precision_name

    get_profile(settings.profile)  # raises a ConvlabError that names the valid profiles
    precision_name()  # ... and one that names the valid CONVLAB_PRECISION values


def build(settings: BuildSettings, quiet: bool = False) -> BuildResult:
    """Build the book's HTML strictly; the result's returncode is 0 only on a clean build."""
    from jupyter_book.sphinx import build_sphinx

    from convlab.book.kernel import write_startup
    from convlab.book.report import write_build_info

    _check(settings)
    t0 = time.perf_counter()
    root, build_dir = Path(settings.root).resolve(), Path(settings.build_dir).resolve()
    cache_dir = build_dir / ".jupyter_cache"
    cleared = refresh_cache(cache_dir, cache_key(settings), force=settings.fresh)
    info_path = build_dir / "book-info.json"
    kernel_env = kernel_environment(settings, info_path)
    os.environ.update(kernel_env)
    write_startup(Path(kernel_env["IPYTHONDIR"]))
    write_build_info(info_path, settings)
    for page in _always_executed(root):
        page.touch()

    theme: dict[str, str] = {}
    if settings.repository_url:
        theme["repository_url"] = settings.repository_url.rstrip("/")
    if settings.branch:
        theme["repository_branch"] = settings.branch
    overrides: dict = {
        "external_toc_path": (root / "_toc.yml").as_posix(),
        "nitpicky": True,
        "copyright": time.strftime("%Y"),  # the build's year, not the year the config was written
        "latex_individualpages": False,
        "nb_execution_cache_path": str(cache_dir),
    }
    if theme:
        overrides["html_theme_options"] = theme
    if settings.editions:
        overrides["convlab_editions"] = dict(settings.editions)
        overrides["convlab_edition"] = settings.dataset
    html_dir = build_dir / "html"
    status = build_sphinx(
        root,
        html_dir,
        noconfig=True,
        path_config=str(root / "_config.yml"),
        confoverrides=overrides,
        doctreedir=build_dir / ".doctrees",
        builder="html",
        warningiserror=True,
        keep_going=True,
        freshenv=cleared is not None,
        quiet=quiet,
    )
    returncode = 1 if isinstance(status, BaseException) else int(status or 0)
    return BuildResult(returncode, html_dir, time.perf_counter() - t0, cleared)
