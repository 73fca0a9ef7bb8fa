"""lasa_interp.plots on a planted synthetic analysis: the figures hold exactly the data they claim, and export works."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
import torch

from lasa_interp.cache import ActivationCache
from lasa_interp.geometry import cka_matrix, prepare
from lasa_interp.plots import (
    FIGURES, Analysis, BrowserNotFoundError, cka_heatmap, for_print, layer_cka_heatmap, layer_map,
    load_or_run_analysis, paper_figure, paper_figures, project, projection_explorer, write_figures,
)
from lasa_interp.plots import analysis as analysis_module
from lasa_interp.plots.layer_map import LABELS

LANGS, N_ITEMS, N_LAYERS, PLANTED = ["en", "zh", "sw", "ar"], 12, 6, 4


def synthetic_cache(seed: int = 0, d: int = 32) -> ActivationCache:
    """Language dominates every layer but ``PLANTED``, where meaning does."""
    g = torch.Generator().manual_seed(seed)
    lang_vec, item_vec = torch.randn(len(LANGS), d, generator=g), torch.randn(N_ITEMS, d, generator=g)
    meta = pd.DataFrame([(f"{lang} sentence {i}", lang, i) for lang in LANGS for i in range(N_ITEMS)],
                        columns=["text", "lang", "item_id"])
    li_idx, it_idx = torch.tensor(pd.factorize(meta["lang"])[0]), torch.tensor(meta["item_id"].to_numpy())
    layers = []
    for layer in range(N_LAYERS):
        meaning, language = (3.0, 0.5) if layer == PLANTED else (0.5, 3.0)
        noise = 0.5 * torch.randn(len(meta), d, generator=g)
        layers.append(language * lang_vec[li_idx] + meaning * item_vec[it_idx] + noise)
    return ActivationCache({"last": torch.stack(layers)}, list(range(N_LAYERS)), meta, {"model": "synthetic"})


@pytest.fixture(scope="module")
def analysis() -> Analysis:
    return Analysis.from_cache(synthetic_cache(), n_boot=30)


def by_name(fig: go.Figure, name: str, legend: str | None = None) -> list:
    return [t for t in fig.data if t.name == name and (legend is None or t.legend == legend)]


def test_layer_map_draws_every_metric_exactly(analysis):
    result = analysis.result
    assert result.layer == PLANTED
    fig = layer_map(result)
    overall = result.metrics[result.metrics["lang"] == "all"]
    for metric in ("sil_meaning", "sil_language", "lasa", "probe_acc", "probe_control", "cka_baseline"):
        (trace,) = [t for t in by_name(fig, LABELS[metric]) if t.legendgroup == metric]
        part = overall[overall["metric"] == metric].sort_values("layer")
        np.testing.assert_allclose(trace.y, part["value"])
        assert list(trace.x) == list(part["layer"])
        assert trace.text[PLANTED].startswith(f"{part['value'].iloc[PLANTED]:.3f}")
    lasa = overall[overall["metric"] == "lasa"].sort_values("layer")
    (band,) = [t for t in fig.data if t.fill == "toself" and t.legendgroup == "lasa"]
    np.testing.assert_allclose(band.y, list(lasa["ci_high"]) + list(lasa["ci_low"])[::-1])
    # per-language CKA and retrieval, one trace each per non-pivot language, toggled together by language
    per_lang = [t for t in fig.data if t.legend == "legend2"]
    assert sorted(t.name for t in per_lang) == sorted(LANGS[1:] * 2)
    for trace in per_lang:
        metric = "cka" if trace.yaxis == "y3" else "retrieval"
        rows = result.metrics[(result.metrics["metric"] == metric) & (result.metrics["lang"] == trace.name)]
        np.testing.assert_allclose(trace.y, rows.sort_values("layer")["value"])
        assert trace.legendgroup == f"lang-{trace.name}"
    (buttons,) = fig.layout.updatemenus
    assert list(buttons.buttons[1].args[1]) == [i for i, t in enumerate(fig.data) if t.legend == "legend2"]
    assert any(s.x0 == PLANTED and s.name != "interactive" for s in fig.layout.shapes)
    assert "LASA score (meaning − language)" in {t.name for t in fig.data}
    assert not [t for t in layer_map(result, languages=False).data if t.legend == "legend2"]
    # a result without some metrics gets only the panels it can fill
    partial = type(result)(**{**result.__dict__, "metrics": result.metrics.query("metric in ['lasa', 'retrieval']")})
    titles = [a.text for a in layer_map(partial).layout.annotations[:2]]
    assert titles == ["Silhouette (cosine)", "Retrieval en→x, top-1"]


def test_layer_slider_moves_a_cursor_and_reads_out_values(analysis):
    fig = layer_map(analysis.result)
    (slider,) = fig.layout.sliders
    assert [s.label for s in slider.steps] == [str(layer) for layer in range(N_LAYERS)]
    assert slider.active == PLANTED
    overall = analysis.result.metrics.query("lang == 'all'").set_index(["metric", "layer"])["value"]
    for layer, step in enumerate(slider.steps):
        (update,) = step.args
        shape = next(k for k in update if k.startswith("shapes"))
        assert update[shape] == layer and fig.layout.shapes[int(shape[7:-4])].name == "interactive"
        readout = next(v for k, v in update.items() if k.startswith("annotations"))
        assert readout.startswith(f"layer {layer} (") and f"LASA {overall['lasa', layer]:.3f}" in readout


def test_for_print_drops_widgets_and_keeps_the_plot_area(analysis):
    for fig in (layer_map(analysis.result), projection_explorer(analysis.cache, "pca")):
        printed = for_print(fig)
        assert not printed.layout.sliders and not printed.layout.updatemenus
        assert all(s.name != "interactive" for s in printed.layout.shapes)
        area = [f.layout.height - f.layout.margin.t - f.layout.margin.b for f in (fig, printed)]
        assert area[0] == area[1] and printed.layout.height < fig.layout.height
        assert len(printed.data) == len(fig.data)


def test_cka_heatmaps(analysis):
    result = analysis.result
    fig = cka_heatmap(result)
    (heat,) = fig.data
    assert list(heat.y) == LANGS[1:] + ["mean"] and list(heat.x) == list(range(N_LAYERS))
    rows = result.metrics[result.metrics["metric"] == "cka"]
    for lang, z in zip(LANGS[1:] + ["all"], heat.z):
        np.testing.assert_allclose(z, rows[rows["lang"] == lang].sort_values("layer")["value"])
    states = analysis.cache["last"]
    (grid,) = layer_cka_heatmap(states, bottleneck=PLANTED).data
    expected = cka_matrix(prepare(states, "l2")).double().numpy()
    np.testing.assert_allclose(grid.z, expected, atol=1e-4)
    np.testing.assert_allclose(np.diag(grid.z), 1, atol=1e-4)
    np.testing.assert_allclose(grid.z, np.asarray(grid.z).T, atol=1e-4)
    with pytest.raises(ValueError, match="no CKA rows"):
        cka_heatmap(type(result)(**{**result.__dict__, "metrics": rows.iloc[:0]}))


def test_pca_projection_matches_scikit_learn_up_to_sign(analysis):
    from sklearn.decomposition import PCA

    states = analysis.cache["last"]
    coords, notes = project(states, "pca")
    assert coords.shape == (N_LAYERS, len(LANGS) * N_ITEMS, 2) and np.abs(coords).max() == pytest.approx(1)
    x = prepare(states, "l2").double().numpy()[PLANTED]
    pca = PCA(2).fit(x)
    ref = pca.transform(x)
    low, high = ref.min(0), ref.max(0)
    ref = (ref - (low + high) / 2) / ((high - low).max() / 2)
    np.testing.assert_allclose(np.abs(coords[PLANTED]), np.abs(ref), atol=2e-3)
    assert notes[PLANTED] == "PC1 {:.0%}, PC2 {:.0%} of variance".format(*pca.explained_variance_ratio_)


@pytest.mark.parametrize("method", ["pca", "umap"])
def test_projection_explorer_slider_colours_and_determinism(analysis, method):
    cache = analysis.cache
    fig = projection_explorer(cache, method, bottleneck=PLANTED, seed=3)
    assert [t.name for t in fig.data] == LANGS
    (slider,) = fig.layout.sliders
    assert [s.label for s in slider.steps] == [str(layer) for layer in cache.layers] and slider.active == PLANTED
    coords, _ = project(cache["last"], method, seed=3)
    for k, step in enumerate(slider.steps):
        data, layout = step.args
        for lang, xs, ys in zip(LANGS, data["x"], data["y"]):
            rows = np.flatnonzero(cache.meta["lang"] == lang)
            np.testing.assert_array_equal(xs, coords[k, rows, 0])
            np.testing.assert_array_equal(ys, coords[k, rows, 1])
        assert f"layer {k}" in layout["title.subtitle.text"]
    np.testing.assert_array_equal(fig.data[0].x, coords[PLANTED, :N_ITEMS, 0])  # starts at the bottleneck
    assert fig.data[1].customdata[0][0] == "zh sentence 0" and "customdata[0]" in fig.data[1].hovertemplate
    by_lang, by_item = (b.args[0]["marker.color"] for b in fig.layout.updatemenus[0].buttons)
    assert len(set(by_lang)) == len(LANGS)
    for colours in by_item:
        assert list(colours) == list(range(N_ITEMS))  # each language holds every item once, in item order
    again = projection_explorer(cache, method, bottleneck=PLANTED, seed=3)
    assert json.loads(again.to_json()) == json.loads(fig.to_json())
    item_coloured = projection_explorer(cache, method, color_by="item", seed=3)
    assert list(item_coloured.data[2].marker.color) == list(range(N_ITEMS))
    layer_colours = {t.name: t.line.color for t in layer_map(analysis.result).data if t.legend == "legend2"}
    assert all(t.marker.color == layer_colours[t.name] for t in fig.data if t.name in layer_colours)  # one palette


def test_projection_explorer_errors(analysis):
    with pytest.raises(ValueError, match="color_by"):
        projection_explorer(analysis.cache, "pca", color_by="topic")
    with pytest.raises(ValueError, match="Unknown method"):
        project(analysis.cache["last"], "tsne")
    bare = ActivationCache(analysis.cache.states, analysis.cache.layers, analysis.cache.meta.drop(columns="lang"))
    with pytest.raises(ValueError, match="'lang' column"):
        projection_explorer(bare, "pca")


def test_paper_figure_registry_lets_later_stages_slot_in(analysis):
    figures = paper_figures(analysis, ["layer_map", "cka_languages", "cka_layers", "projection_pca"])
    assert all(isinstance(f, go.Figure) for f in figures.values())
    with pytest.raises(ValueError, match="Unknown figures"):
        paper_figures(analysis, ["nope"])

    @paper_figure("extra_view")
    def extra(a):
        return go.Figure(go.Bar(x=a.result.scores["layer"], y=a.result.scores["score"]))

    try:
        assert list(paper_figures(analysis, ["extra_view"])["extra_view"].data[0].x) == list(range(N_LAYERS))
    finally:
        del FIGURES["extra_view"]


def test_static_export_and_a_clear_error_without_a_browser(analysis, tmp_path, monkeypatch):
    fig = cka_heatmap(analysis.result)
    paths = write_figures({tmp_path / "heat": fig}, formats=("html", "json", "png", "pdf"))
    assert [p.suffix for p in paths] == [".html", ".json", ".png", ".pdf"]
    png, pdf = (tmp_path / "heat.png").read_bytes(), (tmp_path / "heat.pdf").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and int.from_bytes(png[16:20], "big") == 2 * fig.layout.width
    assert pdf[:5] == b"%PDF-"
    assert json.loads((tmp_path / "heat.json").read_text())["data"][0]["type"] == "heatmap"
    monkeypatch.setenv("BROWSER_PATH", str(tmp_path / "no-such-chromium"))
    with pytest.raises(BrowserNotFoundError, match="apt-get install chromium"):
        write_figures({tmp_path / "again": fig}, formats=("html", "png"))
    assert not list(tmp_path.glob("again*"))  # nothing half-written
    assert [p.name for p in write_figures({tmp_path / "again": fig}, formats=("html",))] == ["again.html"]


def test_analysis_roundtrip_and_reuse(analysis, tmp_path, monkeypatch):
    analysis.save(tmp_path / "a")
    back = Analysis.load(tmp_path / "a")
    pd.testing.assert_frame_equal(back.result.metrics, analysis.result.metrics)
    assert torch.equal(back.cache["last"], analysis.cache["last"]) and back.model == "synthetic"

    def no_recompute(*args, **kwargs):
        raise AssertionError("the saved analysis should have been reused")

    monkeypatch.setattr(analysis_module, "run_analysis", no_recompute)
    assert load_or_run_analysis(tmp_path / "a", "synthetic").result.layer == PLANTED
    with pytest.raises(ValueError, match="holds an analysis of 'synthetic'"):
        load_or_run_analysis(tmp_path / "a", "gemma-3-270m")
    with pytest.raises(FileNotFoundError, match="not a saved Analysis"):
        Analysis.load(tmp_path)
