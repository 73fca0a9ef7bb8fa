"""Describe a distilled model (what was edited, from which direction) and save it as a plain Hugging Face directory."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from torch import nn

from ..atomic import atomic_dir
from ..models import BUNDLED, LasaModel
from ..steer import Intervention

CARD_FILE = "lasa_interp.json"
DESCRIBED = (  # the keys of describe(); model_card renders any others as details
    "lasa_interp_version", "method", "base_model", "base_model_id", "base_fingerprint", "architecture", "dtype",
    "intervention", "direction",
)


def describe(model: LasaModel, intervention: Intervention, method: str) -> dict[str, Any]:
    """The machine-readable card of ``intervention`` distilled into ``model`` by ``method`` (JSON-ready)."""
    from .. import __version__

    d = intervention.direction
    layers = intervention.layer_ids(model)
    if intervention.every_write:
        hooks = ["blocks.0.hook_resid_pre", "blocks.*.hook_attn_out", "blocks.*.hook_mlp_out"]
    else:
        hooks = [model.hook_name(i) for i in layers]
    probe = intervention.probe
    return {
        "lasa_interp_version": __version__,
        "method": method,
        "base_model": model.name,
        "base_model_id": BUNDLED[model.name].upstream_id if model.name in BUNDLED else model.name,
        "base_fingerprint": model.fingerprint,
        "architecture": model.architecture,
        "dtype": str(model.dtype).removeprefix("torch."),
        "intervention": {
            "mode": intervention.mode, "alpha": float(intervention.alpha), "amount": intervention.amount,
            "layers": "all" if intervention.layers == "all" else layers, "positions": intervention.positions,
            "hooks": hooks, "probe": None if probe is None else {"type": type(probe).__name__, "layer": probe.layer},
            "threshold": intervention.threshold,
        },
        "direction": {
            "layer": d.layer, "hook": d.hook, "method": d.method, "model": d.model, "fingerprint": d.fingerprint,
            "d_model": d.d_model, "norm": d.norm, "mean_norm": d.mean_norm, "info": d.info,
        },
    }


def save_distilled(edited: nn.Module, out_dir: str | Path, *, tokenizer: Any, overwrite: bool = False) -> Path:
    """Write ``edited`` (from :func:`lasa_interp.distill`) as a Hugging Face directory, atomically.

    The directory holds safetensors weights, config and ``tokenizer`` (it loads with plain
    ``transformers.AutoModelForCausalLM.from_pretrained``), a ``README.md`` model card saying what
    was edited and ``lasa_interp.json`` with the same facts. A non-empty ``out_dir`` is replaced
    only with ``overwrite=True``; on error nothing is left half-written.
    """
    card = getattr(edited, "lasa_interp_card", None)
    if card is None:
        raise ValueError("This model has no lasa_interp card: save the output of lasa_interp.distill(...).")
    out_dir = Path(out_dir)
    non_empty = out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir()))
    if non_empty and not overwrite:
        raise FileExistsError(f"{out_dir} exists and is not empty; pass overwrite=True to replace it.")
    with atomic_dir(out_dir, overwrite=True) as tmp:
        edited.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        (tmp / CARD_FILE).write_text(json.dumps(card, indent=2, default=str) + "\n")
        (tmp / "README.md").write_text(model_card(card))
    return out_dir


def model_card(card: dict[str, Any]) -> str:
    """A Markdown model card (with Hugging Face metadata) for a ``lasa_interp.json`` card."""
    act, d = card["intervention"], card["direction"]
    edit = card.get("edit", {})
    what = {
        "add": f"adds alpha={act['alpha']:g} x mean norm ({act['amount']:.4g}) along the direction",
        "ablate": "projects the direction out", "clamp": f"clamps the projection to {act['amount']:.4g}",
        "conditional": f"adds {act['amount']:.4g} along the direction for prompts the probe flags",
    }[act["mode"]]
    lines = [
        "---", "library_name: transformers", f"base_model: {card['base_model_id']}", "tags:", "- lasa_interp",
        f"- {act['mode']}", "---", "",
        f"# {card['base_model']} with a distilled {act['mode']} intervention", "",
        f"This model is `{card['base_model']}` ({card['architecture']}, {card['dtype']}) with a residual-stream "
        f"intervention written into its weights by lasa_interp {card['lasa_interp_version']} "
        f"(`lasa_interp.distill(..., method=\"{card['method']}\")`). It loads with plain `transformers` and needs "
        "no hooks.", "",
        "## What was edited", "",
        f"- Intervention: {what}; layers: {act['layers']}; positions: {act['positions']}.",
        f"- Hook sites (TransformerLens names): {', '.join(act['hooks'])}.",
        f"- Direction: `{d['method']}` at layer {d['layer']} (`{d['hook']}`), d_model {d['d_model']}, "
        f"mean activation norm {d['mean_norm']:.4g}, computed on `{d['model']}`.",
        f"- Source data: `{json.dumps(d['info'], default=str)}`.",
    ]
    if "weights" in edit:
        lines.append(f"- Weights: {edit['kind']} of {', '.join(f'`{w}`' for w in edit['weights'])}.")
    details = {k: v for k, v in edit.items() if k not in ("kind", "weights")}
    details |= {k: v for k, v in card.items() if k not in (*DESCRIBED, "edit")}
    lines += [f"- {key}: `{json.dumps(value, default=str)}`." for key, value in details.items()]
    lines += ["", f"Everything above, machine-readable: `{CARD_FILE}`.", ""]
    return "\n".join(lines)
