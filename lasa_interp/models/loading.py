"""``load_model``: one model object for every stage, from an alias, a hub id, a path, a GGUF or a loaded model."""

from __future__ import annotations

import difflib
import hashlib
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Sequence

import torch
from torch import nn

from .bundled import BUNDLED, ensure_float_copy


def default_device() -> torch.device:
    """CUDA when available, else CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def default_dtype(device: torch.device | str) -> torch.dtype:
    """bfloat16 where the hardware runs it natively (bf16 is 3-4x faster than float32 on AVX512-BF16 CPUs), else float32."""
    device = torch.device(device)
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float32
    if device.type == "cpu":
        flags = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
        return torch.bfloat16 if ("avx512_bf16" in flags or "amx_bf16" in flags) else torch.float32
    return torch.float32


def find_decoder_layers(hf_model: nn.Module) -> tuple[str, nn.ModuleList]:
    """The module path and ModuleList of the decoder blocks (``model.layers``, ``transformer.h``, ...)."""
    config = getattr(hf_model, "config", None)
    text_config = config.get_text_config() if hasattr(config, "get_text_config") else config
    n_layers = getattr(text_config, "num_hidden_layers", None) or getattr(text_config, "n_layer", None)
    for name, module in hf_model.named_modules():
        if isinstance(module, nn.ModuleList) and len(module) > 0 and (n_layers is None or len(module) == n_layers):
            return name, module
    raise ValueError(
        f"{type(hf_model).__name__} has no decoder-layer list (an nn.ModuleList of {n_layers} blocks); "
        "lasa_interp supports decoder-only transformers such as Llama, Qwen2, Gemma3, Mistral, GPT-2 and GPT-NeoX."
    )


@dataclass(eq=False)
class LasaModel:
    """A causal LM with what every lasa_interp stage needs.

    Layer ``i`` always means the residual stream at the output of decoder block ``i``
    (0-indexed; TransformerLens ``blocks.{i}.hook_resid_post``; HF ``hidden_states[i + 1]``).
    """

    hf_model: nn.Module
    tokenizer: Any
    name: str
    layers_path: str = field(init=False)
    layers: nn.ModuleList = field(init=False, repr=False)
    backends: dict[str, Any] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.layers_path, self.layers = find_decoder_layers(self.hf_model)
        tok = self.tokenizer
        if tok.pad_token is None:
            tok.pad_token = tok.eos_token
        tok.padding_side = "left"  # decoder-only: left padding for generation

    @property
    def n_layers(self) -> int:
        return len(self.layers)

    @property
    def d_model(self) -> int:
        return self.hf_model.get_input_embeddings().embedding_dim

    @property
    def architecture(self) -> str:
        return self.hf_model.config.model_type

    @property
    def device(self) -> torch.device:
        return next(self.hf_model.parameters()).device

    @property
    def dtype(self) -> torch.dtype:
        return next(self.hf_model.parameters()).dtype

    @property
    def chat_template(self) -> str | None:
        return getattr(self.tokenizer, "chat_template", None)

    @property
    def decoder(self) -> nn.Module:
        """The decoder stack without the LM head (``LlamaModel``, ``GPT2Model``, ...)."""
        return self.hf_model.base_model

    def resolve_layers(self, layers: int | Sequence[int] | None) -> list[int]:
        """Normalise layer indices (negative allowed, ``None`` = all) to sorted unique ints in ``[0, n_layers)``."""
        if layers is None:
            return list(range(self.n_layers))
        items = [layers] if isinstance(layers, int) else list(layers)
        if not items:
            raise ValueError("layers is empty: pass None for all layers or at least one layer index.")
        out = set()
        for layer in items:
            if isinstance(layer, bool) or not isinstance(layer, int):
                raise TypeError(f"Layer indices must be ints, got {layer!r}.")
            if not -self.n_layers <= layer < self.n_layers:
                raise IndexError(
                    f"Layer {layer} is out of range for {self.name} with {self.n_layers} layers "
                    f"(valid: 0..{self.n_layers - 1}, or -{self.n_layers}..-1 from the end)."
                )
            out.add(layer % self.n_layers)
        return sorted(out)

    @staticmethod
    def hook_name(layer: int) -> str:
        """TransformerLens-style name of the residual stream after block ``layer``."""
        return f"blocks.{layer}.hook_resid_post"

    @cached_property
    def fingerprint(self) -> str:
        """A cheap identity of the weights and config (sampled parameter values), for cache keys."""
        h = hashlib.sha256()
        h.update(type(self.hf_model).__name__.encode())
        h.update(self.hf_model.config.to_json_string(use_diff=False).encode())
        with torch.no_grad():
            for pname, p in self.hf_model.named_parameters():
                flat = p.detach().reshape(-1)
                sample = flat[:: max(1, flat.numel() // 256)][:256].float().cpu()
                h.update(f"{pname}{tuple(p.shape)}{p.dtype}".encode())
                h.update(sample.numpy().tobytes())
        return h.hexdigest()

    def __repr__(self) -> str:
        return (
            f"LasaModel({self.name!r}, arch={self.architecture}, n_layers={self.n_layers}, "
            f"d_model={self.d_model}, dtype={self.dtype}, device={self.device})"
        )


def _unwrap(obj: Any) -> tuple[nn.Module, Any, str] | None:
    """The HF model, tokenizer and backend name of a TransformerLens bridge or an nnsight LanguageModel."""
    module = type(obj).__module__
    if module.startswith("transformer_lens"):
        return obj.original_model, obj.tokenizer, "transformer_lens"
    if module.startswith("nnsight"):
        return obj._module, obj.tokenizer, "nnsight"
    return None


def load_model(
    name_or_path: Any,
    dtype: torch.dtype | str | None = None,
    device: torch.device | str | None = None,
    tokenizer: Any = None,
    trust_remote_code: bool = False,
    **hf_kwargs: Any,
) -> LasaModel:
    """Load a causal LM as a :class:`LasaModel`.

    ``name_or_path`` is a bundled alias (see ``lasa_interp.BUNDLED``), a Hugging Face id or
    local directory, a ``.gguf`` file, an already-loaded HF model (pass ``tokenizer``), a
    TransformerLens ``TransformerBridge``, an nnsight ``LanguageModel`` or a ``LasaModel``.
    ``dtype`` defaults to bfloat16 where the hardware supports it, else float32.
    """
    if isinstance(name_or_path, LasaModel):
        model = name_or_path
        if dtype is not None or device is not None:
            model.hf_model.to(device=device, dtype=_as_dtype(dtype))
            model.__dict__.pop("fingerprint", None)  # the weights' identity changed with them
            model.backends.clear()  # wrappers built on the old copy
        return model
    wrapper = None
    if isinstance(name_or_path, str | Path):
        device = torch.device(device) if device is not None else default_device()
        dtype = _as_dtype(dtype) or default_dtype(device)
        hf_model, tok, name = _load_from_name(str(name_or_path), tokenizer, trust_remote_code, dtype, hf_kwargs)
    else:
        unwrapped = _unwrap(name_or_path)
        hf_model, tok, wrapper = unwrapped if unwrapped else (name_or_path, tokenizer, None)
        if not isinstance(hf_model, nn.Module):
            raise TypeError(f"Cannot load a model from {type(name_or_path).__name__}; pass an alias, id, path or model.")
        if tok is None:
            raise ValueError("Pass tokenizer= together with an already-loaded Hugging Face model.")
        name = getattr(hf_model.config, "_name_or_path", "") or type(hf_model).__name__
        first = next(hf_model.parameters())
        device = torch.device(device) if device is not None else first.device
        dtype = _as_dtype(dtype) or first.dtype
    hf_model.to(device=device, dtype=dtype)
    hf_model.eval()
    model = LasaModel(hf_model=hf_model, tokenizer=tok, name=name)
    if wrapper:
        model.backends[wrapper] = name_or_path  # reuse the caller's wrapper for that backend
    return model


def _as_dtype(dtype: torch.dtype | str | None) -> torch.dtype | None:
    if dtype is None or isinstance(dtype, torch.dtype):
        return dtype
    value = getattr(torch, str(dtype).removeprefix("torch."), None)
    if not isinstance(value, torch.dtype):
        raise ValueError(f"Unknown dtype {dtype!r}; use e.g. 'float32' or 'bfloat16'.")
    return value


def _load_from_name(
    name: str, tokenizer: Any, trust_remote_code: bool, dtype: torch.dtype, hf_kwargs: dict
) -> tuple[nn.Module, Any, str]:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    kwargs = {"trust_remote_code": trust_remote_code, **hf_kwargs}
    path = Path(name).expanduser()
    if name in BUNDLED:
        source, label = ensure_float_copy(BUNDLED[name]), name
    elif path.suffix == ".gguf":
        if not path.is_file():
            raise FileNotFoundError(f"GGUF file {path} does not exist.")
        source, label = path.parent, str(path)
        kwargs["gguf_file"] = path.name
    elif path.is_dir():
        source, label = path, str(path)
    elif "/" not in name or path.exists():
        close = difflib.get_close_matches(name, BUNDLED, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(
            f"Unknown model {name!r}: not a bundled alias ({', '.join(BUNDLED)}), a local directory, "
            f"a .gguf file or a Hugging Face id of the form 'org/name'.{hint}"
        )
    else:
        source, label = name, name
    try:
        tok = tokenizer or AutoTokenizer.from_pretrained(source, **kwargs)
        hf_model = AutoModelForCausalLM.from_pretrained(source, dtype=dtype, **kwargs)
    except OSError as exc:
        raise OSError(f"Could not load {name!r} from the Hugging Face hub or disk: {exc}") from exc
    if not hf_model.config.architectures:
        hf_model.config.architectures = [type(hf_model).__name__]
    return hf_model, tok, label
