"""Where lasa_interp keeps what it builds on first use (float model copies, activation shards)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

CACHE_ENV = "LASA_INTERP_CACHE"


def cache_dir() -> Path:
    """The root cache directory: ``$LASA_INTERP_CACHE`` or ``~/.cache/lasa_interp``."""
    root = os.environ.get(CACHE_ENV)
    return Path(root).expanduser() if root else Path.home() / ".cache" / "lasa_interp"


def ensure_writable(path: Path) -> Path:
    """Create ``path`` if needed and check that files can be written there, with a clear error if not."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".write-test-"):
            pass
    except OSError as exc:
        raise PermissionError(
            f"Cannot write to the cache directory {path} ({exc.strerror or exc}). "
            f"Point {CACHE_ENV} (or the out_dir argument) at a writable directory."
        ) from exc
    return path
