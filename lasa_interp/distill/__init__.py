"""Stage 6: distil an intervention into the weights — a plain Hugging Face model that needs no hooks.

``method="exact"`` writes closed-form edits (weight orthogonalisation, an MLP bias; see
:mod:`.exact`); ``method="trained"`` trains the model to imitate the hooked one (see
:mod:`.trained`); ``method="kto"`` is the LASA recipe: KTO towards refusing what the
intervention's bottleneck probe flags (see :mod:`.kto`; optional, needs ``trl``). :func:`save_distilled` writes the result with a model card.
"""

from __future__ import annotations

import warnings
from typing import Any

from torch import nn

from ..models import LasaModel, load_model
from ..steer import Intervention
from .export import describe, save_distilled
from .report import DistillReport, distill_report

METHODS = ("exact", "trained", "kto")


def distill(model: Any, intervention: Intervention, method: str = "exact", **kwargs: Any) -> nn.Module:
    """A copy of ``model``'s Hugging Face model whose weights carry ``intervention`` (``model`` is left untouched).

    ``intervention`` is what :func:`lasa_interp.steer` takes, e.g.
    ``Intervention(direction, mode="ablate", layers="all")``. ``method="exact"`` takes no options;
    ``method="trained"`` passes ``kwargs`` to :func:`lasa_interp.distill.trained.distill_trained`,
    ``method="kto"`` to :func:`lasa_interp.distill.kto.distill_kto` (a gated intervention).
    The result has no hooks and a ``lasa_interp_card`` dict (what was edited); save it with
    :func:`save_distilled` or ``save_pretrained``.
    """
    model = model if isinstance(model, LasaModel) else load_model(model)
    if not isinstance(intervention, Intervention):
        raise TypeError(
            f"intervention must be a lasa_interp Intervention, not {type(intervention).__name__}; e.g. "
            "Intervention(direction, mode='ablate', layers='all') or Intervention(direction, alpha=0.5)."
        )
    if method not in METHODS:
        raise ValueError(f"Unknown method {method!r}; choose from {METHODS}.")
    direction = intervention.direction
    intervention.layer_ids(model)  # d_model and layers fit the model, before any work
    if direction.fingerprint and direction.fingerprint != model.fingerprint:
        warnings.warn(
            f"The direction was computed on {direction.model} with other weights or dtype than {model.name} "
            "(fingerprints differ); check it belongs to this model.", stacklevel=2,
        )
    if method == "exact":
        if kwargs:
            raise TypeError(f"method='exact' takes no options, got {sorted(kwargs)}.")
        from .exact import distill_exact

        edited = distill_exact(model, intervention)
    elif method == "trained":
        from .trained import distill_trained

        edited = distill_trained(model, intervention, **kwargs)
    else:
        from .kto import distill_kto

        edited = distill_kto(model, intervention, **kwargs)
    edited.lasa_interp_card = {**describe(model, intervention, method), **getattr(edited, "lasa_interp_card", {})}
    return edited


__all__ = ["METHODS", "DistillReport", "describe", "distill", "distill_report", "save_distilled"]
