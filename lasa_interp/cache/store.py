"""Shards on disk for large runs: atomic writes, checksums, and a key that covers every setting."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from ..atomic import atomic_file
from ..paths import ensure_writable


class CorruptShardError(RuntimeError):
    """A shard on disk does not match its recorded checksum."""


def cache_key(fingerprint: str, texts: list[str], settings: dict[str, Any]) -> str:
    """Hash of the model's identity, the texts (in order) and every setting that changes the result."""
    h = hashlib.sha256(fingerprint.encode())
    h.update(json.dumps(settings, sort_keys=True, default=str).encode())
    for text in texts:
        h.update(hashlib.sha256(text.encode()).digest())
    return h.hexdigest()


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(1 << 22):
            h.update(block)
    return h.hexdigest()


class ShardStore:
    """Shards ``shard-00000.safetensors`` (+ ``.sha256``) under ``root/<key>``; a shard counts once both exist."""

    def __init__(self, root: str | Path, key: str, settings: dict[str, Any]) -> None:
        self.dir = ensure_writable(Path(root).expanduser() / key[:24])
        manifest = self.dir / "manifest.json"
        if not manifest.exists():
            atomic_file(manifest, lambda p: p.write_text(json.dumps({"key": key, **settings}, indent=2, default=str)))

    def _paths(self, k: int) -> tuple[Path, Path]:
        shard = self.dir / f"shard-{k:05d}.safetensors"
        return shard, shard.with_suffix(".sha256")

    def load(self, k: int) -> dict[str, torch.Tensor] | None:
        """Shard ``k`` if it was completed earlier, else ``None``; a damaged shard raises ``CorruptShardError``."""
        shard, digest = self._paths(k)
        if not (shard.exists() and digest.exists()):
            return None
        if _sha256(shard) != digest.read_text().strip():
            raise CorruptShardError(f"{shard} does not match its checksum; delete it and re-run to recompute it.")
        try:
            return load_file(shard)
        except (SafetensorError, OSError) as exc:
            raise CorruptShardError(f"{shard} cannot be read ({exc}); delete it and re-run to recompute it.") from exc

    def save(self, k: int, tensors: dict[str, torch.Tensor]) -> None:
        """Write shard ``k`` atomically, then its checksum."""
        shard, digest = self._paths(k)
        atomic_file(shard, lambda p: save_file({n: t.contiguous() for n, t in tensors.items()}, p))
        atomic_file(digest, lambda p: p.write_text(_sha256(shard)))
