"""Garrison: an enterprise AI security program as working software."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("garrison")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
