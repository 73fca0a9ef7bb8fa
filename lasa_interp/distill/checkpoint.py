"""Resumable distillation: the teacher's data and the training state, each one file written atomically."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from ..atomic import atomic_file

DATA, STATE = "data.pt", "state.pt"


def save(folder: Path, name: str, payload: dict[str, Any]) -> None:
    """Write ``payload`` (tensors, numbers, strings, lists and dicts of them) to ``folder/name`` atomically."""
    folder.mkdir(parents=True, exist_ok=True)
    atomic_file(folder / name, lambda path: torch.save(payload, path))


def load(folder: Path, name: str, settings: dict[str, Any]) -> dict[str, Any] | None:
    """The payload at ``folder/name`` (``None`` if absent); raises if it was written with other ``settings``."""
    path = folder / name
    if not path.is_file():
        return None
    payload = torch.load(path, map_location="cpu", weights_only=True)
    if payload.get("settings") != settings:
        theirs = payload.get("settings") or {}
        changed = sorted(k for k in {*settings, *theirs} if settings.get(k) != theirs.get(k))
        raise ValueError(
            f"{folder} holds a distillation run with other settings ({', '.join(changed)} differ); "
            "pass another checkpoint_dir, or delete that folder to start afresh."
        )
    return payload
