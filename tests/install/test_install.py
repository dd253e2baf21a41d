"""The built wheel: what it holds, its layer contracts, and a real install in a fresh venv.

The wheel is built once per session from a copy of the sources (so that the build leaves no
``build/`` folder in the work tree and parallel runs never share one).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
# Top-level source folders and where setuptools puts them inside the package.
PACKAGE_DIRS = {
    "clientpay_tui": "clientpay_tui",
    "screens": "clientpay_tui/screens",
    "styles": "clientpay_tui/styles",
}
DATA_SUFFIXES = {".py", ".tcss", ".html", ".txt", ".mako", ".typed", ".css"}


def _source_files() -> dict[str, Path]:
    """Every file of the package in the source tree, keyed by its path inside the wheel."""
    expected: dict[str, Path] = {}
    for folder, target in PACKAGE_DIRS.items():
        for path in (REPO / folder).rglob("*"):
            if not path.is_file() or "__pycache__" in path.parts or path.suffix == ".pyc":
                continue
            relative = path.relative_to(REPO / folder)
            if path.suffix in DATA_SUFFIXES or relative.parts[0] == "data":
                expected[f"{target}/{relative.as_posix()}"] = path
    return expected


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md", "LICENSE", *PACKAGE_DIRS):
        origin = REPO / name
        if origin.is_dir():
            shutil.copytree(origin, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        elif origin.exists():
            shutil.copy(origin, source / name)
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(source)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    [built] = out.glob("clientpay_tui-*.whl")
    return built


@pytest.fixture(scope="session")
def unpacked(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("unpacked")
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(target)
    return target


def _names(wheel: Path) -> set[str]:
    with zipfile.ZipFile(wheel) as archive:
        return set(archive.namelist())


def test_screens_styles_templates_and_migrations_are_inside_the_package(wheel: Path) -> None:
    names = _names(wheel)
    assert "clientpay_tui/screens/__init__.py" in names
    assert "clientpay_tui/styles/__init__.py" in names
    assert "clientpay_tui/mail/templates/welcome.html" in names
    assert "clientpay_tui/db/migrations/env.py" in names
    assert "clientpay_tui/db/migrations/script.py.mako" in names
    assert any(n.startswith("clientpay_tui/db/migrations/versions/0001") for n in names)
    assert "clientpay_tui/py.typed" in names


def test_every_package_file_of_the_source_tree_is_in_the_wheel(wheel: Path) -> None:
    """A new subpackage missing from ``[tool.setuptools] packages`` or a new kind of data file
    missing from ``package-data`` fails here, not on a user's machine."""
    missing = sorted(set(_source_files()) - _names(wheel))
    assert missing == []


def test_no_top_level_strays(wheel: Path) -> None:
    tops = {name.split("/")[0] for name in _names(wheel)}
    dist_info = {top for top in tops if top.endswith(".dist-info")}
    assert len(dist_info) == 1
    assert tops - dist_info == {"clientpay_tui"}
    for stray in ("screens", "styles", "tests", "bench"):
        assert stray not in tops
    with zipfile.ZipFile(wheel) as archive:
        info = next(n for n in archive.namelist() if n.endswith(".dist-info/top_level.txt"))
        assert archive.read(info).decode().split() == ["clientpay_tui"]
        entry_points = archive.read(info.replace("top_level.txt", "entry_points.txt")).decode()
    assert "clientpay-tui = clientpay_tui.cli:main" in entry_points


def _lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [str(BIN / "lint-imports"), "--config", str(REPO / "pyproject.toml"), "--no-cache"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_layer_contracts_hold_in_the_unpacked_wheel(unpacked: Path) -> None:
    done = _lint_imports(unpacked)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "broken" in done.stdout and "0 broken" in done.stdout


def test_layer_contracts_see_the_screens_package(
    unpacked: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The linter must analyse ``clientpay_tui.screens`` (mapped from ./screens): a screen that
    imports SQLAlchemy must break the contract."""
    copy = tmp_path_factory.mktemp("violating") / "site"
    shutil.copytree(unpacked, copy)
    (copy / "clientpay_tui" / "screens" / "leaky_screen.py").write_text(
        "import sqlalchemy  # a screen must not do this\n"
    )
    done = _lint_imports(copy)
    assert done.returncode != 0
    assert "clientpay_tui.screens.leaky_screen -> sqlalchemy" in done.stdout


@pytest.mark.slow
def test_non_editable_install_runs_from_any_directory(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120
    )
    python = venv / "bin" / "python"
    # This environment's pip installs into the new one: no pip bootstrap, no byte-compiling,
    # and dependencies come from pip's configured indexes and cache.
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "-q",
            "--no-compile",
            str(wheel),
        ],
        check=True,
        capture_output=True,
        timeout=600,
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLIENTPAY_", "PYTHON"))}
    for command in (
        [str(venv / "bin" / "clientpay-tui"), "--help"],
        [str(python), "-m", "clientpay_tui", "--help"],
    ):
        done = subprocess.run(
            command,
            cwd=elsewhere,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith("Usage: clientpay-tui")
    site = next((venv / "lib").glob("python*/site-packages"))
    assert (site / "clientpay_tui" / "screens" / "__init__.py").is_file()
    assert not (site / "screens").exists() and not (site / "styles").exists()
    # The migrations ship inside the package: the installed app creates a database at head.
    env["CLIENTPAY_DATABASE_URL"] = f"sqlite:///{tmp_path / 'installed.db'}"
    done = subprocess.run(
        [str(venv / "bin" / "clientpay-tui"), "db", "upgrade"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "upgraded from empty to" in done.stdout
