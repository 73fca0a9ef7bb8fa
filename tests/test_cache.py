"""cache_activations on real bundled models: exactness, pooling, skipped work, hooks, shards, bad input."""

from __future__ import annotations


import pytest
import torch

import lasa_interp as li
from lasa_interp.cache import CorruptShardError
from tests.conftest import PARALLEL, TEXTS, hook_snapshot, rel_err


def _one_at_a_time(model, texts, **kw):
    return [li.cache_activations(model, [t], **kw) for t in texts]


@pytest.mark.parametrize("fixture", ["smollm", "gemma"])
@pytest.mark.parametrize("side", ["left", "right"])
def test_batched_equals_one_at_a_time(fixture, side, request):
    model = request.getfixturevalue(fixture)
    kw = dict(pooling=("last", "mean", "tokens"))
    batched = li.cache_activations(model, TEXTS, batch_size=4, padding_side=side, **kw)
    single = _one_at_a_time(model, TEXTS, **kw)
    for name in ("last", "mean"):
        assert rel_err(batched[name], torch.cat([s[name] for s in single], dim=1)) < 1e-4
    for i, s in enumerate(single):
        assert rel_err(batched.token_states(i), s.token_states(0)) < 1e-4


def test_states_are_block_outputs_and_pooling_is_right(smollm):
    text = "The museum opens at nine in the morning."
    cache = li.cache_activations(smollm, [text], pooling=("last", "mean", "tokens"))
    ids = smollm.tokenizer(text, return_tensors="pt")
    with torch.no_grad():
        hidden = smollm.hf_model(**ids, output_hidden_states=True).hidden_states
    tokens = cache.token_states(0)
    assert tokens.shape == (30, ids["input_ids"].shape[1], 576)
    for layer in range(29):
        assert rel_err(tokens[layer], hidden[layer + 1][0]) < 1e-5
    assert torch.equal(cache["last"][:, 0], tokens[:, -1])
    assert rel_err(cache["mean"][:, 0], tokens[:, 1:].mean(1)) < 1e-6
    with_sink = li.cache_activations(smollm, [text], pooling="mean", skip_first=False)
    assert rel_err(with_sink["mean"][:, 0], tokens.mean(1)) < 1e-6
    assert rel_err(with_sink["mean"][:, 0], cache["mean"][:, 0]) > 0.01  # the first token matters
    assert cache.info["hook_names"][3] == "blocks.3.hook_resid_post"


def test_layer_selection_and_negative_indices(smollm):
    full = li.cache_activations(smollm, TEXTS[:3], pooling="last")
    some = li.cache_activations(smollm, TEXTS[:3], layers=[-1, 2, 2, 10], pooling="last")
    assert some.layers == [2, 10, 29]
    assert torch.equal(some["last"], full["last"][[2, 10, 29]])
    assert torch.equal(some.at(-1), full.at(29))


def test_only_needed_blocks_run_and_never_the_lm_head(smollm):
    calls = {"late": 0, "head": 0, "norm": 0}
    handles = [
        smollm.layers[6].register_forward_hook(lambda *a: calls.__setitem__("late", calls["late"] + 1)),
        smollm.hf_model.lm_head.register_forward_hook(lambda *a: calls.__setitem__("head", calls["head"] + 1)),
        smollm.hf_model.model.norm.register_forward_hook(lambda *a: calls.__setitem__("norm", calls["norm"] + 1)),
    ]
    try:
        li.cache_activations(smollm, TEXTS, layers=[1, 5], batch_size=4)
        assert calls == {"late": 0, "head": 0, "norm": 0}
        li.cache_activations(smollm, TEXTS, layers=[-1], batch_size=4)
        assert calls["head"] == 0 and calls["late"] == -(-len(TEXTS) // 4)  # once per batch
    finally:
        for h in handles:
            h.remove()


@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
def test_hooks_removed_after_an_exception_mid_batch(smollm, error):
    seen = {"n": 0}

    def explode(*_):
        seen["n"] += 1
        if seen["n"] == 2:
            raise error("boom")

    before = hook_snapshot(smollm)
    handle = smollm.layers[3].register_forward_pre_hook(explode)
    try:
        with pytest.raises(error):
            li.cache_activations(smollm, TEXTS, batch_size=2)
    finally:
        handle.remove()
    assert seen["n"] == 2 and hook_snapshot(smollm) == before


def test_chat_template_and_truncation(smollm):
    raw = li.cache_activations(smollm, TEXTS[:2], pooling="last")
    chat = li.cache_activations(smollm, TEXTS[:2], pooling="last", chat_template=True)
    assert (chat.meta["n_tokens"] > raw.meta["n_tokens"]).all()
    assert not torch.allclose(chat["last"], raw["last"])
    cut = li.cache_activations(smollm, TEXTS, pooling="last", max_length=5)
    assert cut.n_truncated == int((raw_lengths := li.cache_activations(smollm, TEXTS, layers=0).meta["n_tokens"]).gt(5).sum())
    assert cut.n_truncated > 0 and cut.meta["n_tokens"].max() == 5 and raw_lengths.max() > 5


def test_dataframe_metadata_survives(smollm):
    import pandas as pd

    frame = pd.DataFrame(
        [(lang, i, t) for lang, ts in PARALLEL.items() for i, t in enumerate(ts)], columns=["lang", "item_id", "text"]
    )
    cache = li.cache_activations(smollm, frame, layers=[0, 1])
    assert list(cache.meta["lang"]) == list(frame["lang"]) and list(cache.meta["text"]) == list(frame["text"])
    by_list = li.cache_activations(smollm, frame["text"].tolist(), layers=[0, 1], meta=frame[["lang"]])
    assert torch.equal(by_list["last"], cache["last"]) and list(by_list.meta["lang"]) == list(frame["lang"])


def test_save_load_roundtrip(smollm, tmp_path):
    cache = li.cache_activations(smollm, TEXTS, layers=[0, 7], pooling=("last", "mean", "tokens"))
    cache.save(tmp_path / "c")
    back = li.ActivationCache.load(tmp_path / "c")
    assert back.layers == [0, 7] and back.poolings == cache.poolings
    for name in cache.poolings:
        assert torch.equal(back[name], cache[name])
    assert back.meta.equals(cache.meta) and back.info["fingerprint"] == cache.info["fingerprint"]
    assert back.numpy("last").shape == (2, len(TEXTS), 576)
    with pytest.raises(FileExistsError, match="overwrite=True"):
        cache.save(tmp_path / "c")
    assert [p.name for p in tmp_path.iterdir()] == ["c"]


def test_sharded_run_resumes_after_interruption(smollm, tmp_path):
    kw = dict(layers=[0, 4, 9], pooling=("last", "mean"), batch_size=2, shard_size=3)
    reference = li.cache_activations(smollm, TEXTS, **kw)
    batches = {"n": 0}

    def die_in_third_shard(*_):
        batches["n"] += 1
        if batches["n"] == 5:  # shards 0 and 1 (2 batches each) are done
            raise KeyboardInterrupt

    handle = smollm.layers[0].register_forward_pre_hook(die_in_third_shard)
    try:
        with pytest.raises(KeyboardInterrupt):
            li.cache_activations(smollm, TEXTS, out_dir=tmp_path, **kw)
    finally:
        handle.remove()
    (run_dir,) = tmp_path.iterdir()
    assert sorted(p.name for p in run_dir.glob("shard-*.safetensors")) == ["shard-00000.safetensors", "shard-00001.safetensors"]
    assert not list(run_dir.glob(".*tmp*"))
    counted = {"n": 0}
    handle = smollm.layers[0].register_forward_pre_hook(lambda *_: counted.__setitem__("n", counted["n"] + 1))
    try:
        resumed = li.cache_activations(smollm, TEXTS, out_dir=tmp_path, **kw)
    finally:
        handle.remove()
    assert counted["n"] == 3  # only shards 2 and 3 run again (11 texts in shards of 3, 3, 3, 2; batches of 2)
    for name in ("last", "mean"):
        assert rel_err(resumed[name], reference[name]) < 1e-4
    again = li.cache_activations(smollm, TEXTS, out_dir=tmp_path, **kw)
    assert all(torch.equal(again[n], resumed[n]) for n in ("last", "mean"))


def test_changed_setting_never_reuses_shards(smollm, tmp_path):
    li.cache_activations(smollm, TEXTS, layers=[1], out_dir=tmp_path, shard_size=4)
    li.cache_activations(smollm, TEXTS, layers=[1], out_dir=tmp_path, shard_size=4, max_length=6)
    li.cache_activations(smollm, TEXTS[::-1], layers=[1], out_dir=tmp_path, shard_size=4)
    assert len(list(tmp_path.iterdir())) == 3


def test_corrupted_shard_is_reported(smollm, tmp_path):
    li.cache_activations(smollm, TEXTS, layers=[1], out_dir=tmp_path, shard_size=4)
    shard = next(tmp_path.glob("*/shard-00001.safetensors"))
    data = bytearray(shard.read_bytes())
    data[-10] ^= 0xFF
    shard.write_bytes(bytes(data))
    with pytest.raises(CorruptShardError, match="delete it"):
        li.cache_activations(smollm, TEXTS, layers=[1], out_dir=tmp_path, shard_size=4)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(texts=[]), ValueError, "No texts"),
        (dict(texts=["fine", "  "]), ValueError, "Text 1 is empty"),
        (dict(texts="just a string"), TypeError, "list of texts"),
        (dict(layers=30), IndexError, "out of range.*30 layers"),
        (dict(layers=[-31]), IndexError, "out of range"),
        (dict(pooling="max"), ValueError, "Unknown pooling"),
        (dict(batch_size=0), ValueError, "batch_size"),
        (dict(meta={"lang": ["en"]}), ValueError, "meta has 1 rows"),
        (dict(backend="jax"), ValueError, "Unknown backend"),
        (dict(max_length=0), ValueError, "max_length"),
    ],
)
def test_bad_input_is_a_clear_error(smollm, kwargs, error, match):
    args = {"texts": ["one", "two"], **kwargs}
    with pytest.raises(error, match=match):
        li.cache_activations(smollm, **args)


def test_unwritable_cache_directory(smollm, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(PermissionError, match="writable directory"):
        li.cache_activations(smollm, TEXTS, layers=[0], out_dir=blocker / "sub")


def test_chat_template_missing(gemma):
    if gemma.chat_template:
        pytest.skip("this gemma build ships a chat template")
    with pytest.raises(ValueError, match="no chat template"):
        li.cache_activations(gemma, ["hi"], chat_template=True)
