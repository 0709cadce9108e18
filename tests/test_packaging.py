"""What the distributions carry. The fast checks read pyproject.toml against the tree; the slow one builds the
sdist and the wheel (as `python -m build` does, in an isolated environment), unpacks the sdist and collects
and runs tests from it, and finds the resources through an unpacked wheel the way an installed one does."""

from __future__ import annotations

import email.parser
import os
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from fnmatch import fnmatch
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
SETUPTOOLS = PYPROJECT["tool"]["setuptools"]
SOURCE_PACKAGES = ("mixnet", "engine", "wire", "server", "client", "gui")  # the top-level folders under mixscope/


def tree_packages() -> set[str]:
    found = {"mixscope", "mixscope.resources"}
    for top in SOURCE_PACKAGES:
        for init in (ROOT / top).rglob("__init__.py"):
            found.add(".".join(("mixscope", *init.parent.relative_to(ROOT).parts)))
    return found


def test_the_namespace_views_are_relative_symlinks_to_the_top_level_folders():
    if not (ROOT / "mixnet").is_dir():
        pytest.skip("an sdist carries the packages under mixscope/ only")
    for top in (*SOURCE_PACKAGES, "resources"):
        view = ROOT / "mixscope" / top
        assert view.is_symlink() and os.readlink(view) == f"../{top}", f"mixscope/{top} must link to ../{top}"


def test_every_package_of_the_tree_is_listed_for_the_wheel():
    listed = set(SETUPTOOLS["packages"])
    assert tree_packages() <= listed, f"add to [tool.setuptools] packages: {sorted(tree_packages() - listed)}"


def test_every_resource_file_is_package_data():
    globs = SETUPTOOLS["package-data"]["mixscope.resources"]
    for path in (ROOT / "mixscope" / "resources").rglob("*"):
        if path.is_file():
            relative = path.relative_to(ROOT / "mixscope" / "resources").as_posix()
            assert any(fnmatch(relative, g) and relative.count("/") == g.count("/") for g in globs), relative


def test_licence_is_an_spdx_expression_with_its_file():
    project = PYPROJECT["project"]
    assert project["license"] == "MIT" and project["license-files"] == ["LICENSE"]
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")


def run(args: list[str], cwd: Path, env: dict[str, str], timeout: float = 600) -> subprocess.CompletedProcess:
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{args}: {done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


@pytest.mark.slow
def test_sdist_runs_its_own_tests_and_the_wheel_finds_its_resources(tmp_path):
    env = {**os.environ}
    env.pop("PYTHONPATH", None)
    dist = tmp_path / "dist"
    # the wheel is built from the sdist, as pip does from an sdist download
    run([sys.executable, "-m", "build", "--outdir", str(dist), str(ROOT)], tmp_path, env)
    sdist, = dist.glob("mixscope-*.tar.gz")
    wheel, = dist.glob("mixscope-*.whl")

    with tarfile.open(sdist) as archive:
        archive.extractall(tmp_path / "sdist", filter="data")
    unpacked, = (tmp_path / "sdist").iterdir()
    for needed in ("tests/conftest.py", "tests/board_writer.py", "tests/web_election.py", "docs/architecture.md",
                   "mixscope/resources/mixscope.svg", "mixscope/resources/mixscope.desktop",
                   "mixscope/mixnet/_native.c", "LICENSE", "MANIFEST.in"):
        assert (unpacked / needed).is_file(), needed
    from_sdist = {**env, "PYTHONPATH": str(unpacked)}
    collected = run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"], unpacked,
                    from_sdist)
    here = run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"], ROOT, env)
    test_ids = [{line for line in done.stdout.splitlines() if "::" in line} for done in (collected, here)]
    assert test_ids[0] == test_ids[1] and len(test_ids[0]) > 500  # every test of the checkout, none failing to import
    run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_election_states.py",
         "tests/test_gui_resources.py", "tests/test_packaging.py", "-m", "not slow"], unpacked, from_sdist)

    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        archive.extractall(tmp_path / "site")
    tops = {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")}
    assert tops == {"mixscope"}  # one namespace in site-packages
    assert {f"mixscope/{top}/__init__.py" for top in SOURCE_PACKAGES} <= names
    assert {"mixscope/resources/mixscope.svg", "mixscope/resources/mixscope.desktop",
            "mixscope/resources/icons/mix.svg", "mixscope/server/templates/base.html"} <= names
    metadata_name = next(n for n in names if n.endswith(".dist-info/METADATA"))
    metadata = email.parser.Parser().parsestr((tmp_path / "site" / metadata_name).read_text())
    assert metadata["License-Expression"] == "MIT"
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    found = run([sys.executable, "-c", "from mixscope.gui import icons; icon = icons.resource('mixscope.svg'); "
                 "print(icon); print(len(icon.read_bytes()))"], tmp_path, {**env, "PYTHONPATH": str(tmp_path / "site")})
    where, size = found.stdout.split()
    assert Path(where) == tmp_path / "site" / "mixscope" / "resources" / "mixscope.svg" and int(size) > 100
