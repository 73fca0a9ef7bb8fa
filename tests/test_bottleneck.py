"""find_bottleneck / locate_bottleneck: a planted known answer, invariances, the result object, real models."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

import lasa_interp as li
from lasa_interp.bottleneck import locate_bottleneck

N_LAYERS, PLANTED = 10, 6
LANGS = ["en", "zh", "sw", "ar"]


def planted_states(seed: int = 0, n_items: int = 15, d: int = 48) -> tuple[torch.Tensor, pd.DataFrame]:
    """Language identity dominates every layer but ``PLANTED``, where item identity dominates."""
    g = torch.Generator().manual_seed(seed)
    lang_vec = torch.randn(len(LANGS), d, generator=g)
    item_vec = torch.randn(n_items, d, generator=g)
    meta = pd.DataFrame([(lang, i) for lang in LANGS for i in range(n_items)], columns=["lang", "item_id"])
    li_idx = torch.tensor(pd.factorize(meta["lang"])[0])
    it_idx = torch.tensor(meta["item_id"].to_numpy())
    layers = []
    for layer in range(N_LAYERS):
        meaning = 3.0 if layer == PLANTED else 0.4 + 0.1 * layer
        language = 0.5 if layer == PLANTED else 3.0
        noise = 0.6 * torch.randn(len(meta), d, generator=g)
        layers.append(language * lang_vec[li_idx] + meaning * item_vec[it_idx] + noise)
    return torch.stack(layers), meta


@pytest.fixture(scope="module")
def planted():
    states, meta = planted_states()
    return states, meta, locate_bottleneck(states, meta, n_boot=100)


@pytest.mark.parametrize("criterion", ["lasa", "combined"])
def test_recovers_the_planted_layer(criterion):
    states, meta = planted_states(seed=1)
    result = locate_bottleneck(states, meta, criterion=criterion, n_boot=100)
    assert result.layer == PLANTED and result.stability >= 0.95
    assert result.depth == pytest.approx((PLANTED + 1) / N_LAYERS)
    assert result.scores.loc[result.scores["selected"], "layer"].item() == PLANTED


def test_invariant_to_permutation_relabelling_and_scale(planted):
    states, meta, ref = planted
    perm = np.random.default_rng(3).permutation(len(meta))
    renamed = meta.iloc[perm].reset_index(drop=True).assign(
        lang=lambda f: f["lang"].map({"en": "en", "zh": "ko", "sw": "jv", "ar": "th"}),
        item_id=lambda f: 1000 - f["item_id"],
    )
    for st, mt in [(states[:, perm] * 7.5, renamed), (states * 0.01, meta)]:
        other = locate_bottleneck(st, mt, n_boot=100)
        assert other.layer == ref.layer
        np.testing.assert_allclose(other.scores["lasa"], ref.scores["lasa"], atol=1e-5)


def test_result_object_roundtrip_and_plot(planted, tmp_path):
    _, _, result = planted
    assert set(result.metrics.columns) == {"layer", "depth", "metric", "lang", "value", "ci_low", "ci_high"}
    assert f"layer {PLANTED} of {N_LAYERS}" in result.summary()
    per_lang = result.per_language()
    assert sorted(per_lang["lang"]) == sorted(LANGS)
    result.save(tmp_path / "r")
    back = li.BottleneckResult.load(tmp_path / "r")
    assert (back.layer, back.criterion, back.stability) == (result.layer, result.criterion, result.stability)
    pd.testing.assert_frame_equal(back.metrics, result.metrics)
    fig = result.plot()
    names = {t.name for t in fig.data}
    assert "LASA score (meaning − language)" in names and len(fig.data) >= 6
    html = result.to_html(tmp_path / "map.html", include_plotlyjs="cdn")
    assert "plotly" in html.read_text()[:5000].lower()


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(criterion="median"), "Unknown criterion"),
    ],
)
def test_bad_arguments(planted, kwargs, match):
    states, meta, _ = planted
    with pytest.raises(ValueError, match=match):
        locate_bottleneck(states, meta, **kwargs)


def test_bad_states_and_data(planted):
    states, meta, _ = planted
    broken = states.clone()
    broken[2, 5, 3] = float("nan")
    with pytest.raises(ValueError, match="NaN|finite"):
        locate_bottleneck(broken, meta)
    with pytest.raises(ValueError, match="2 languages"):
        locate_bottleneck(states[:, meta["lang"] == "en"], meta[meta["lang"] == "en"].reset_index(drop=True))
    missing = meta.drop(index=3).reset_index(drop=True)
    with pytest.raises(ValueError, match="have no text|every item needs"):
        locate_bottleneck(states[:, [i for i in range(len(meta)) if i != 3]], missing)


def test_find_bottleneck_on_a_real_multilingual_model(gemma):
    result = li.find_bottleneck(gemma, languages="en,zh,fr,es", n_items=12, n_boot=50, metrics=("silhouette", "retrieval"))
    assert 0 <= result.layer < gemma.n_layers and result.info["languages"] == ["en", "zh", "fr", "es"]
    assert result.metrics["value"].notna().all() and result.info["n_items"] == 12
    with pytest.raises(ValueError, match="n_items"):
        li.find_bottleneck(gemma, languages="en,zh", n_items=5000)


def test_cli_writes_the_layer_map_and_metrics(gemma, tmp_path, capsys):
    from lasa_interp.cli import main

    main(["bottleneck", "--model", "gemma-3-270m", "--languages", "en,zh,sw", "--n-items", "8", "--n-boot", "20",
          "--out", str(tmp_path)])
    printed = capsys.readouterr().out
    assert "Semantic bottleneck of gemma-3-270m" in printed and "Per language" in printed
    metrics = pd.read_csv(tmp_path / "metrics.csv")
    assert set(metrics["lang"]) == {"all", "en", "zh", "sw"}
    assert (tmp_path / "layer_map.html").stat().st_size > 10_000
    back = li.BottleneckResult.load(tmp_path / "result")
    assert back.layer == int(pd.read_csv(tmp_path / "scores.csv").query("selected")["layer"].item())
