"""Geometry metrics: known answers on constructed states, sklearn/numpy references, invariances, bad input, real states."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import sklearn.metrics
import torch

import lasa_interp as li
from lasa_interp.geometry import (
    COLUMNS, cka, cka_by_language, cka_matrix, language_probe, layer_metrics, prepare, retrieval_accuracy,
    silhouette_samples,
)

LANGS = ["de", "en", "es", "fr"]
SENTENCES = {
    "en": ["The cat sleeps on the sofa.", "It will rain tomorrow.", "My brother bought a bicycle.",
           "The shop opens at nine.", "She reads a book every night.", "We ate bread and cheese."],
    "fr": ["Le chat dort sur le canapé.", "Il pleuvra demain.", "Mon frère a acheté un vélo.",
           "Le magasin ouvre à neuf heures.", "Elle lit un livre chaque soir.", "Nous avons mangé du pain et du fromage."],
    "es": ["El gato duerme en el sofá.", "Mañana va a llover.", "Mi hermano compró una bicicleta.",
           "La tienda abre a las nueve.", "Ella lee un libro cada noche.", "Comimos pan y queso."],
    "de": ["Die Katze schläft auf dem Sofa.", "Morgen wird es regnen.", "Mein Bruder hat ein Fahrrad gekauft.",
           "Der Laden öffnet um neun.", "Sie liest jeden Abend ein Buch.", "Wir aßen Brot und Käse."],
}


def make_states(lang_scale: float, item_scale: float, n_items: int = 40, n_layers: int = 2, d: int = 32, noise: float = 0.3):
    """States ``lang_scale * lang_vector + item_scale * item_vector + noise``; rows ordered language-major."""
    g = torch.Generator().manual_seed(0)
    langs = np.repeat(LANGS, n_items)
    items = np.tile(np.arange(n_items), len(LANGS))
    lang_vec = torch.randn(n_layers, len(LANGS), d, generator=g, dtype=torch.float64)
    item_vec = torch.randn(n_layers, n_items, d, generator=g, dtype=torch.float64)
    codes = np.repeat(np.arange(len(LANGS)), n_items)
    states = lang_scale * lang_vec[:, codes] + item_scale * item_vec[:, items]
    return states + noise * torch.randn(states.shape, generator=g, dtype=torch.float64), langs, items


def summary(table: pd.DataFrame, lang: str = "all") -> pd.Series:
    """Mean value per metric over layers for one ``lang``."""
    return table[table["lang"] == lang].groupby("metric")["value"].mean()


# ---- silhouette ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-10), (np.float32, 1e-5)])
def test_silhouette_equals_sklearn(dtype, tol):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 70, 16)).astype(dtype)
    x[1] += 2 * rng.normal(size=(1, 16)).astype(dtype)  # far from the origin: cosine distances near 0
    labels = rng.choice(["a", "b", "c", "d", "e"], size=70)
    labels[0] = "singleton"
    ours = silhouette_samples(torch.from_numpy(x), labels)
    assert ours.shape == (3, 70) and ours[:, 0].eq(0).all()
    for layer in range(3):
        ref = sklearn.metrics.silhouette_samples(x[layer].astype(np.float64), labels, metric="cosine")
        assert np.abs(ours[layer].numpy() - ref).max() < tol


def test_silhouette_needs_two_to_n_minus_one_clusters():
    x = torch.randn(1, 5, 3)
    with pytest.raises(ValueError, match="clusters"):
        silhouette_samples(x, ["a"] * 5)
    with pytest.raises(ValueError, match="clusters"):
        silhouette_samples(x, list("abcde"))


# ---- CKA -----------------------------------------------------------------------------------------------------

def _center_gram(gram: np.ndarray, unbiased: bool) -> np.ndarray:
    """Reference centring of a gram matrix (Kornblith et al. 2019; unbiased form after Nguyen et al. 2021)."""
    gram = gram.copy()
    n = len(gram)
    if unbiased:
        np.fill_diagonal(gram, 0)
        means = gram.sum(0) / (n - 2)
        means -= means.sum() / (2 * (n - 1))
        gram -= means[:, None] + means[None, :]
        np.fill_diagonal(gram, 0)
    else:
        h = np.eye(n) - 1 / n
        gram = h @ gram @ h
    return gram


def _reference_cka(x: np.ndarray, y: np.ndarray, unbiased: bool) -> float:
    kx, ky = _center_gram(x @ x.T, unbiased), _center_gram(y @ y.T, unbiased)
    return float((kx * ky).sum() / np.linalg.norm(kx) / np.linalg.norm(ky))


@pytest.mark.parametrize("unbiased", [True, False])
def test_cka_matches_numpy_reference_and_properties(unbiased):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(3, 30, 20))
    y = 0.5 * x[..., :12] @ rng.normal(size=(12, 8)) + rng.normal(size=(3, 30, 8))
    ours = cka(x, y, unbiased=unbiased).numpy()
    assert np.allclose(ours, [_reference_cka(x[k], y[k], unbiased) for k in range(3)], atol=1e-10)
    assert np.allclose(cka(x, x, unbiased=unbiased).numpy(), 1.0)
    q = np.linalg.qr(rng.normal(size=(20, 20)))[0]
    assert np.allclose(cka(3.7 * x @ q, y, unbiased=unbiased).numpy(), ours)  # orthogonal map and isotropic scale
    matrix = cka_matrix(x, unbiased=unbiased).numpy()
    assert np.allclose(matrix, matrix.T) and np.allclose(np.diag(matrix), 1.0)
    assert np.isclose(matrix[0, 2], _reference_cka(x[0], x[2], unbiased), atol=1e-10)


def test_unbiased_cka_of_independent_matrices_is_near_zero_while_plain_is_inflated():
    g = torch.Generator().manual_seed(0)
    x, y = (torch.randn(200, 20, 64, generator=g, dtype=torch.float64) for _ in range(2))  # 200 draws, n=20, d=64
    plain, unbiased = cka(x, y, unbiased=False), cka(x, y)
    assert plain.min() > 0.5
    assert abs(unbiased.mean()) < 0.03 and unbiased.abs().max() < 0.4


def test_cka_by_language_and_baseline():
    states, langs, items = make_states(lang_scale=1.0, item_scale=3.0)
    result = cka_by_language(states, langs, items, pivot="en", n_perm=5)
    assert result.langs == ["de", "es", "fr"] and result.cka.shape == result.baseline.shape == (2, 3)
    assert (result.cka > 0.8).all() and (result.baseline.abs() < 0.1).all()
    assert cka_by_language(states, langs, items, pivot="en", n_perm=0).baseline.isnan().all()


# ---- retrieval and probe -------------------------------------------------------------------------------------

def test_retrieval_matches_brute_force():
    states, langs, items = make_states(lang_scale=1.0, item_scale=0.6, noise=0.8, n_items=15)
    acc = retrieval_accuracy(states, langs, items, pivot="en")
    x = torch.nn.functional.normalize(states, dim=-1).numpy()
    for layer in range(2):
        for lang in ["de", "es", "fr"]:
            hits = []
            for i in range(15):
                query = x[layer][(langs == "en") & (items == i)][0]
                rows = np.flatnonzero(langs == lang)
                hits.append(items[rows[np.argmax(x[layer][rows] @ query)]] == i)
            assert acc[lang][layer].item() == pytest.approx(np.mean(hits))
    assert 0.1 < np.mean([a.mean().item() for a in acc.values()]) < 0.95  # neither trivial case


def test_probe_reads_language_but_not_item_identity():
    lang_states, langs, items = make_states(lang_scale=2.0, item_scale=1.0, n_items=50)
    result = language_probe(lang_states, langs, items)
    assert result.correct.shape == (2, 200) and (result.accuracy > 0.95).all()
    assert (result.selectivity > 0.6).all() and set(result.by_language()) == set(LANGS)
    item_states, *_ = make_states(lang_scale=0.0, item_scale=2.0, n_items=50)
    chance = language_probe(item_states, langs, items)
    assert (np.abs(chance.accuracy - 0.25) < 0.12).all() and (np.abs(chance.selectivity) < 0.15).all()


# ---- preprocessing -------------------------------------------------------------------------------------------

def test_prepare_modes():
    states, langs, items = make_states(lang_scale=3.0, item_scale=1.0)
    for mode in ("l2", "standardize", "center_lang"):
        assert torch.allclose(prepare(states, mode, langs).norm(dim=-1), torch.tensor(1.0, dtype=torch.float64))
    # an outlier dimension with huge variance hides the item signal from cosine geometry until standardised
    noisy, _, _ = make_states(lang_scale=0.0, item_scale=1.0)
    noisy[..., 0] = 1e3 * torch.randn(noisy.shape[:2], generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    sil = {mode: silhouette_samples(prepare(noisy, mode), items).mean().item() for mode in ("l2", "standardize")}
    assert sil["l2"] < 0.05 < sil["standardize"]
    # removing each language's mean removes the language clusters
    assert silhouette_samples(prepare(states, "center_lang", langs), langs).mean() < 0.05
    with pytest.raises(ValueError, match="needs langs"):
        prepare(states, "center_lang")
    with pytest.raises(ValueError, match="Unknown preprocess"):
        prepare(states, "pca")


# ---- layer_metrics -------------------------------------------------------------------------------------------

def test_language_dominated_states():
    states, langs, items = make_states(lang_scale=3.0, item_scale=0.5)
    m = summary(layer_metrics(states, langs, items, n_boot=100))
    assert m["sil_language"] > 0.5 and m["lasa"] < -0.3
    assert m["probe_acc"] > 0.95 and m["probe_selectivity"] > 0.6


def test_meaning_dominated_states():
    states, langs, items = make_states(lang_scale=0.0, item_scale=3.0, n_items=50)
    table = layer_metrics(states, langs, items, n_boot=100)
    m = summary(table)
    assert m["sil_meaning"] > 0.5 and m["lasa"] > 0.3
    assert m["retrieval"] == 1.0 and m["cka"] > 0.9 and abs(m["cka_baseline"]) < 0.1
    assert abs(m["probe_acc"] - 0.25) < 0.12 and abs(m["probe_selectivity"]) < 0.15
    for lang in ("de", "es", "fr"):
        assert summary(table, lang)["retrieval"] == 1.0


def test_center_lang_turns_language_dominated_states_to_meaning():
    states, langs, items = make_states(lang_scale=3.0, item_scale=1.0)
    m = summary(layer_metrics(states, langs, items, preprocess="center_lang", metrics=["silhouette"], n_boot=0))
    assert m["lasa"] > 0.3


def test_tidy_schema_depth_and_cis():
    states, langs, items = make_states(lang_scale=1.0, item_scale=1.0, n_layers=3)
    table = layer_metrics(states, langs, items, layers=[4, 9, 11], n_layers_total=12, n_boot=200)
    assert list(table.columns) == COLUMNS
    assert set(table["metric"]) == {"sil_meaning", "sil_language", "lasa", "probe_acc", "probe_control",
                                    "probe_selectivity", "cka", "cka_baseline", "retrieval"}
    assert sorted(table["layer"].unique()) == [4, 9, 11]
    assert np.allclose(table["depth"], (table["layer"] + 1) / 12)
    assert np.isfinite(table["value"]).all()
    per_metric = table.groupby("metric")["lang"].apply(set)
    assert per_metric["sil_meaning"] == {"all", *LANGS} and per_metric["retrieval"] == {"all", "de", "es", "fr"}
    assert per_metric["cka"] == {"all", "de", "es", "fr"}
    cka_rows = table["metric"].str.startswith("cka")
    assert table.loc[cka_rows, ["ci_low", "ci_high"]].isna().all().all()
    boot = table[~cka_rows]
    assert np.isfinite(boot[["ci_low", "ci_high"]]).all().all() and (boot["ci_low"] <= boot["ci_high"]).all()
    sil = table[(table["metric"] == "sil_meaning") & (table["lang"] == "all")]
    assert (sil["ci_low"] <= sil["value"]).all() and (sil["value"] <= sil["ci_high"]).all()
    # aggregate rows are the per-sample means; cka "all" is the mean over languages
    per_sample = silhouette_samples(prepare(states), items) - silhouette_samples(prepare(states), langs)
    lasa = table[(table["metric"] == "lasa") & (table["lang"] == "all")]["value"].to_numpy()
    assert np.allclose(lasa, per_sample.mean(1).numpy())
    ckas = table[table["metric"] == "cka"].pivot(index="layer", columns="lang", values="value")
    assert np.allclose(ckas["all"], ckas[["de", "es", "fr"]].mean(1))


def test_invariant_to_row_order_and_scale():
    states, langs, items = make_states(lang_scale=1.0, item_scale=1.0, n_items=20)
    kw = dict(metrics=["silhouette", "cka", "retrieval"], n_boot=50)
    base = layer_metrics(states, langs, items, **kw)
    perm = np.random.default_rng(0).permutation(len(langs))
    shuffled = layer_metrics(states[:, perm], langs[perm], items[perm], **kw)
    scaled = layer_metrics(5.5 * states, langs, items, **kw)
    for other in (shuffled, scaled):
        pd.testing.assert_frame_equal(base, other, check_exact=False, rtol=1e-9, atol=1e-9)
    probe = dict(metrics=["probe"], n_boot=0)
    pd.testing.assert_frame_equal(layer_metrics(states, langs, items, **probe),
                                  layer_metrics(0.1 * states, langs, items, **probe))


def test_bad_input_errors():
    states, langs, items = make_states(lang_scale=1.0, item_scale=1.0, n_items=6)
    with pytest.raises(ValueError, match="rows"):
        layer_metrics(states[:, :-1], langs, items)
    with pytest.raises(ValueError, match="langs has"):
        layer_metrics(states, langs, items[:-1])
    with pytest.raises(ValueError, match=">= 2 languages"):
        layer_metrics(states[:, :6], langs[:6], items[:6])
    with pytest.raises(ValueError, match=">= 2 items"):
        layer_metrics(states[:, ::6], langs[::6], items[::6])
    with pytest.raises(ValueError, match="aligned"):
        layer_metrics(states, langs, np.where(items == 1, 0, items))
    bad = states.clone()
    bad[1, 3, 2] = torch.nan
    with pytest.raises(ValueError, match="NaN or inf"):
        layer_metrics(bad, langs, items)
    with pytest.raises(ValueError, match=r"\[n_layers, n, d\]"):
        layer_metrics(states[0], langs, items)
    with pytest.raises(ValueError, match="pivot"):
        layer_metrics(states, langs, items, pivot="sw")
    with pytest.raises(ValueError, match="Unknown or no metrics"):
        layer_metrics(states, langs, items, metrics=["cca"])
    with pytest.raises(ValueError, match="n_layers_total"):
        layer_metrics(states, langs, items, layers=[3, 5])
    with pytest.raises(ValueError, match="layers go up to"):
        layer_metrics(states, langs, items, layers=[3, 5], n_layers_total=5)
    with pytest.raises(ValueError, match="at least 4 samples"):
        cka(states[:, :3], states[:, :3])


# ---- real states ---------------------------------------------------------------------------------------------

def test_layer_metrics_on_gemma_states(gemma):
    frame = pd.DataFrame([(lang, i, text) for lang, texts in SENTENCES.items() for i, text in enumerate(texts)],
                         columns=["lang", "item", "text"])
    cache = li.cache_activations(gemma, frame, pooling="last")
    table = layer_metrics(cache["last"], cache.meta["lang"], cache.meta["item"], layers=cache.layers,
                          n_layers_total=gemma.n_layers, n_boot=100)
    assert list(table.columns) == COLUMNS and sorted(table["layer"].unique()) == list(range(gemma.n_layers))
    assert table["metric"].nunique() == 9 and np.isfinite(table["value"]).all()
    assert np.isfinite(table.loc[~table["metric"].str.startswith("cka"), ["ci_low", "ci_high"]]).all().all()
    assert table["depth"].between(0, 1, inclusive="right").all()
