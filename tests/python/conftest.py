"""Shared fixtures of the Python package tests (run by CTest with the build-tree package on PYTHONPATH).

``shared``: the development data folder, named by env GLAMM_SHARED, else by GLAMM_SHARED_DEFAULT (which CTest sets
from the build's configuration). Golden tests that need it are skipped with a message when it is missing, and fail
under ``CI=true``.
``cli``: runs the build's ``glamm-eval`` binary (env GLAMM_EVAL_BINARY) and returns its JSON record.
"""

import json
import os
import pathlib
import subprocess

import pytest


@pytest.fixture(scope="session")
def shared():
    root = os.environ.get("GLAMM_SHARED") or os.environ.get("GLAMM_SHARED_DEFAULT")
    path = pathlib.Path(root) if root else None
    if path is None or not (path / "golden").is_dir():
        message = f"shared data folder not found at {path} (set GLAMM_SHARED)"
        if os.environ.get("CI") == "true":
            pytest.fail(message + "; golden tests must run under CI")
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def glamm_eval_binary():
    binary = os.environ.get("GLAMM_EVAL_BINARY")
    if not binary or not os.path.exists(binary):
        pytest.fail(f"glamm-eval binary not found (GLAMM_EVAL_BINARY={binary!r}); run the tests through ctest")
    return binary


@pytest.fixture
def cli(glamm_eval_binary, tmp_path):
    """cli(args...) -> the JSON record written by ``glamm-eval <args> --json <tmp> -q``."""
    def run(*args):
        out = tmp_path / f"record_{len(list(tmp_path.iterdir()))}.json"
        cmd = [glamm_eval_binary, *map(str, args), "--json", str(out), "-q"]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        assert proc.returncode == 0, f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr}"
        with open(out) as f:
            return json.load(f)
    return run
