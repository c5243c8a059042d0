"""Servers the tests and benchmarks start as child processes: stopped the same way everywhere."""

import subprocess
from typing import Any

__all__ = ["stop"]


def stop(process: "subprocess.Popen[Any]", timeout: float) -> None:
    """SIGTERM (uvicorn's graceful shutdown), then SIGKILL if it has not ended within `timeout` seconds."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
