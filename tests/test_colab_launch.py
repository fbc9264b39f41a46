"""Every paired notebook, run as Colab runs it.

A fresh virtual environment holds only what Colab preinstalls (TensorFlow, Keras, NumPy,
pandas, matplotlib, Pillow, tqdm, IPython; no myst-nb, no jupytext, no convlab) plus the
kernel and nbclient that execute the notebooks. Each notebook is copied to a working
directory outside the repository, its install cell pointed at a git repository of this
working tree (committed to a temporary clone, so the cell installs a pinned commit as the
published site's notebooks do), convlab is uninstalled before each one, and nbclient runs it
top to bottom. The reader's profile is smoke (``CONVLAB_PROFILE``), except for one chapter
that trains nothing, where the first cell chooses by itself. None may raise.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO

from convlab.book.paired import INSTALL_RE, notebook_sources

COLAB_PACKAGES = ("tensorflow-cpu", "keras", "numpy", "pandas", "matplotlib", "pillow", "tqdm",
                  "ipython")  # fmt: skip
RUNNER = ("ipykernel", "nbclient", "nbformat")
AUTO_CHAPTER = "why-convolution"  # trains nothing: the first cell picks the profile itself

EXECUTE = r"""
import json, subprocess, sys
import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

path, env_json = sys.argv[1], sys.argv[2]
subprocess.run([sys.executable, "-m", "pip", "uninstall", "-y", "-q", "convlab"],
               capture_output=True)
nb = nbformat.read(path, as_version=4)
client = NotebookClient(nb, timeout=1800, kernel_name="python3")
try:
    client.execute()
    error = None
except CellExecutionError as exc:
    error = str(exc)[-3000:]
first = nb.cells[[c.cell_type for c in nb.cells].index("code")]
text = " ".join(o.get("text", "") + json.dumps(o.get("data", {})) for o in first.outputs)
print(json.dumps({"error": error, "first_output": text}))
"""


def _git(*args: str, cwd: Path) -> str:
    out = subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True)
    return out.stdout.strip()


def _snapshot(dest: Path) -> str:
    """This working tree (tracked and untracked, not ignored files) as a one-commit repository."""
    files = _git("ls-files", "-co", "--exclude-standard", "-z", cwd=REPO).split("\0")
    for name in filter(None, files):
        src = REPO / name
        if src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)
    _git("init", "-q", cwd=dest)
    _git("add", "-A", cwd=dest)
    _git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "snapshot", cwd=dest)
    return _git("rev-parse", "HEAD", cwd=dest)


@pytest.fixture(scope="module")
def colab(tmp_path_factory):
    base = tmp_path_factory.mktemp("colab")
    source, work, venv = base / "convlab-src", base / "content", base / "venv"
    source.mkdir()
    work.mkdir()
    sha = _snapshot(source)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    py = venv / "bin" / "python"
    pip = [str(py), "-m", "pip", "install", "-q"]
    # Colab's pip is current; the one a venv starts with may be too old for a git+file URL.
    subprocess.run([*pip, "--upgrade", "pip"], check=True, capture_output=True)
    install = [*pip, "-c", str(REPO / "requirements.lock")]
    done = subprocess.run([*install, *COLAB_PACKAGES, *RUNNER], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    drop = ("CONVLAB_", "VIRTUAL_ENV", "PYTHON", "IPYTHON", "JUPYTER")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    env.update(PATH=f"{venv / 'bin'}:{env['PATH']}", HOME=str(base / "home"), MPLBACKEND="agg")
    return py, work, env, f"git+file://{source}@{sha}"


NOTEBOOKS = [md.with_suffix(".ipynb") for md in notebook_sources(REPO)]


@pytest.mark.parametrize("ipynb", NOTEBOOKS, ids=lambda p: p.stem)
def test_the_notebook_runs_as_colab_runs_it(colab, ipynb):
    py, work, env, spec = colab
    nb = json.loads(ipynb.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        source = "".join(cell["source"])
        cell["source"] = INSTALL_RE.sub(f'"convlab @ {spec}"', source)
    assert sum(spec in cell["source"] for cell in nb["cells"]) == 1  # the install cell
    target = work / ipynb.name
    target.write_text(json.dumps(nb), encoding="utf-8")
    run_env = dict(env)
    if ipynb.stem != AUTO_CHAPTER:
        run_env["CONVLAB_PROFILE"] = "smoke"  # the reader's choice: this is a test
    proc = subprocess.run([str(py), "-c", EXECUTE, str(target), "{}"], cwd=work, env=run_env,
                          capture_output=True, text=True, timeout=2400)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["error"] is None, result["error"]
    assert "This chapter uses the" in result["first_output"], result["first_output"][:500]
    if ipynb.stem == AUTO_CHAPTER:
        assert "largest profile that trains within" in result["first_output"]
    else:
        assert "`smoke` profile" in result["first_output"]
