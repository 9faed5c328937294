from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass

import orjson
import pytest

from garrison.cli import state
from garrison.cli.main import run


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> object:
        return orjson.loads(self.out)


Invoke = Callable[..., Result]


@pytest.fixture
def garrison(capsys: pytest.CaptureFixture[str]) -> Invoke:
    """Run the CLI in this process, as `garrison ARGS…`, and capture what it prints."""

    def invoke(*args: str) -> Result:
        state.reset()
        capsys.readouterr()
        code = run(list(args))
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return invoke


@pytest.fixture
def garrison_process() -> Invoke:
    """Run the real CLI in a child process: exit codes and stderr exactly as a shell sees them."""

    def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
        completed = subprocess.run(
            [sys.executable, "-m", "garrison", *args],
            check=False,
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
        )
        return Result(completed.returncode, completed.stdout, completed.stderr)

    return invoke
