"""The package works when installed from its wheel, not only from a checkout.

The wheel is built from a clean copy of the checkout (the files git tracks or would track),
installed without `-e` into a fresh virtual environment, and `briefing demo` runs from an
unrelated folder. The fresh environment borrows the dependencies of this one through a
`.pth` line, so nothing is downloaded; the project itself comes only from the wheel.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]


def _clean_copy(target: Path) -> None:
    listed = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"],
        cwd=ROOT, capture_output=True, check=True,
    ).stdout.decode().split("\0")  # fmt: skip
    for name in filter(None, listed):
        source, copy = ROOT / name, target / name
        if not source.exists() and not source.is_symlink():
            continue  # deleted in the working tree
        copy.parent.mkdir(parents=True, exist_ok=True)
        if source.is_symlink():
            copy.symlink_to(os.readlink(source))
        else:
            shutil.copy2(source, copy)


def _run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [str(arg) for arg in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, f"{args}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs a git checkout to make a clean copy")
    work = tmp_path_factory.mktemp("wheel")
    _clean_copy(work / "src")
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "--wheel-dir", work / "dist", work / "src", cwd=work)  # fmt: skip
    (built,) = (work / "dist").glob("news_briefing-*.whl")
    return built


def test_the_wheel_carries_templates_seeds_and_migrations(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in (
        "briefing/templates/briefing.html.j2",
        "briefing/templates/print.css",
        "briefing/templates/web/web.css",
        "briefing/seeds/aliases.toml",
        "briefing/seeds/demo/outlets.toml",
        "briefing/store/migrations/env.py",
        "briefing/starter.toml",
        "scraper/settings.py",
    ):
        assert needed in names, needed


def test_briefing_demo_runs_from_the_installed_wheel(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=tmp_path)
    python = venv / "bin" / "python"
    site = Path(_run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])",
                     cwd=tmp_path).strip())  # fmt: skip
    (site / "borrowed_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    _run(sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index",
         wheel, cwd=tmp_path)  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "BRIEFING_CONFIG")}
    where = _run(python, "-c", "import briefing; print(briefing.__file__)", cwd=tmp_path, env=env)
    assert where.startswith(str(site)), where
    _run(venv / "bin" / "briefing", "demo", "--workdir", tmp_path / "demo", cwd=tmp_path, env=env)
    assert list((tmp_path / "demo" / "archive").glob("*/*/*/briefing.pdf"))
    assert len(list((tmp_path / "demo" / "outbox").glob("*.eml"))) == 2  # briefing + editor
