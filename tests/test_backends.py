"""The three backends agree on real bundled models and leave the model as they found it."""

from __future__ import annotations

import warnings

import pytest
import torch

import lasa_interp as li
from tests.conftest import TEXTS, rel_err

BACKENDS = ["transformer_lens", "nnsight"]


@pytest.fixture(scope="module", params=["smollm2-135m-instruct", "gemma-3-270m"])
def eager_model(request):
    # TransformerLens runs eager attention; with the same kernels all backends agree bit for bit.
    return li.load_model(request.param, dtype=torch.float32, attn_implementation="eager")


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("side", ["left", "right"])
def test_backend_parity(eager_model, backend, side):
    kw = dict(layers=[0, 3, -2, -1], pooling=("last", "mean", "tokens"), batch_size=4, padding_side=side)
    ref = li.cache_activations(eager_model, TEXTS, **kw)
    got = li.cache_activations(eager_model, TEXTS, backend=backend, **kw)
    for name in ref.poolings:
        assert (got[name] - ref[name]).abs().max().item() <= 1e-4


@pytest.mark.parametrize("backend", BACKENDS)
def test_backend_parity_with_sdpa_attention(smollm, backend):
    """Against the default (sdpa) model, only kernel rounding separates them."""
    ref = li.cache_activations(smollm, TEXTS, batch_size=4)
    got = li.cache_activations(smollm, TEXTS, batch_size=4, backend=backend)
    assert rel_err(got["last"], ref["last"]) < 1e-5


def test_transformer_lens_works_on_a_copy(smollm):
    before = smollm.hf_model.config._attn_implementation
    li.cache_activations(smollm, TEXTS[:2], layers=[1], backend="transformer_lens")
    bridge = smollm.backends["transformer_lens"]
    assert bridge.original_model is not smollm.hf_model
    assert smollm.hf_model.config._attn_implementation == before
    assert type(smollm.layers[0]).__name__ == "LlamaDecoderLayer"


@pytest.mark.parametrize("backend", BACKENDS)
def test_wrapped_models_are_accepted(smollm, backend):
    """A TransformerBridge or nnsight LanguageModel passed in is unwrapped and reused as that backend."""
    from lasa_interp.cache.backends import nnsight_model, transformer_lens_bridge

    wrapper = (transformer_lens_bridge if backend == "transformer_lens" else nnsight_model)(smollm)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = li.load_model(wrapper)
    assert model.backends[backend] is wrapper and model.n_layers == 30 and model.tokenizer is wrapper.tokenizer
    ref = li.cache_activations(model, TEXTS[:3], layers=[2, 20])
    got = li.cache_activations(model, TEXTS[:3], layers=[2, 20], backend=backend)
    assert (got["last"] - ref["last"]).abs().max().item() <= 1e-4


@pytest.mark.parametrize("backend", BACKENDS)
def test_hooks_gone_after_errors(smollm, backend):
    from lasa_interp.cache.backends import nnsight_model, transformer_lens_bridge

    wrapper = (transformer_lens_bridge if backend == "transformer_lens" else nnsight_model)(smollm)
    hf = wrapper.original_model if backend == "transformer_lens" else smollm.hf_model
    li.cache_activations(smollm, TEXTS[:2], layers=[1], backend=backend)  # let wrappers install their fixtures

    def count():
        return sum(len(m._forward_hooks) + len(m._forward_pre_hooks) for m in hf.modules())

    before = count()
    target = hf.model.layers[2]
    handle = target.register_forward_pre_hook(lambda *_: (_ for _ in ()).throw(RuntimeError("boom")))
    try:
        with pytest.raises(RuntimeError, match="boom"):
            li.cache_activations(smollm, TEXTS, layers=[1, 5], backend=backend, batch_size=2)
    finally:
        handle.remove()
    assert count() == before
    ok = li.cache_activations(smollm, TEXTS[:2], layers=[1], backend=backend)
    assert rel_err(ok["last"], li.cache_activations(smollm, TEXTS[:2], layers=[1])["last"]) < 1e-5
