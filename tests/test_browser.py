"""The interactive figures in a real headless Chromium (offline): they load cleanly, render, and their widgets work."""

from __future__ import annotations

import os

import pytest

from lasa_interp.plots import Analysis, find_browser, layer_map, project, projection_explorer, write_figures
from lasa_interp.plots.export import HEADLESS_FLAGS

from test_plots import LANGS, N_ITEMS, N_LAYERS, PLANTED, synthetic_cache

pytestmark = pytest.mark.skipif(
    find_browser() is None and not os.environ.get("CI"),
    reason="no Chrome/Chromium found (apt-get install chromium); CI always runs these",
)
# Paint the screenshot on a canvas and count what is not white: a blank or failed render has nothing.
PAINTED = """async (b64) => {
  const img = new Image(); img.src = "data:image/png;base64," + b64; await img.decode();
  const canvas = document.createElement("canvas"); canvas.width = img.width; canvas.height = img.height;
  const ctx = canvas.getContext("2d"); ctx.drawImage(img, 0, 0);
  const px = ctx.getImageData(0, 0, img.width, img.height).data; const colours = new Set(); let ink = 0;
  for (let i = 0; i < px.length; i += 4) {
    if (px[i] < 245 || px[i + 1] < 245 || px[i + 2] < 245) ink++;
    colours.add((px[i] << 16) | (px[i + 1] << 8) | px[i + 2]);
  }
  return {ink: ink / (px.length / 4), colours: colours.size};
}"""


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # playwright cannot download its own browsers here: drive the system Chromium
        chromium = playwright.chromium.launch(executable_path=find_browser(), args=list(HEADLESS_FLAGS[1:]))
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def analysis() -> Analysis:
    return Analysis.from_cache(synthetic_cache(), n_boot=30)


def open_figure(browser, fig, stem):
    """The figure's self-contained HTML in a new page with the network cut off; returns the page and its errors."""
    (path,) = write_figures({stem: fig}, formats=("html",), include_plotlyjs=True)
    page = browser.new_page(viewport={"width": fig.layout.width + 20, "height": fig.layout.height + 20})
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:") else route.abort())
    page.goto(path.as_uri())
    page.wait_for_selector(f"#{stem.name} .main-svg")
    return page, errors


def figure_state(page, div: str, expression: str):
    """Evaluate ``expression`` on the live Plotly graph div ``gd``."""
    return page.evaluate(f"() => {{ const gd = document.getElementById('{div}'); return {expression}; }}")


def wait_for(page, div: str, condition: str, arg=None) -> None:
    """Wait (up to 5 s) until ``condition`` holds on the graph div ``gd`` (and ``arg``): widgets update it async."""
    script = f"(arg) => {{ const gd = document.getElementById('{div}'); return {condition}; }}"
    page.wait_for_function(script, arg=arg, timeout=5000)


def click_slider_step(page, div: str, label: str) -> None:
    """Click the slider rail at the position of the step labelled ``label``, as a user would."""
    slider = page.locator(f"#{div} .slider-container")
    box = slider.locator(".slider-label", has_text=label).first.bounding_box()
    rail = slider.locator(".slider-rail-rect").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, rail["y"] + rail["height"] / 2)


def assert_painted(page, tmp_path, name: str) -> None:
    import base64

    shot = page.screenshot(path=str(tmp_path / f"{name}.png"), full_page=True)
    painted = page.evaluate(PAINTED, base64.b64encode(shot).decode())
    assert painted["ink"] > 0.01 and painted["colours"] > 50, painted  # a blank page: no ink, one colour


def test_layer_map_renders_and_its_slider_and_toggles_work(browser, analysis, tmp_path):
    fig = layer_map(analysis.result)
    page, errors = open_figure(browser, fig, tmp_path / "layer_map")
    assert figure_state(page, "layer_map", "gd.data.length") == len(fig.data)
    assert page.locator("#layer_map g.trace.scatter").count() == len(fig.data)
    assert page.locator("#layer_map .legendtext", has_text="LASA score (meaning − language)").count() == 1
    assert_painted(page, tmp_path, "layer_map")

    cursor = next(i for i, s in enumerate(fig.layout.shapes) if s.name == "interactive")
    assert figure_state(page, "layer_map", f"gd.layout.shapes[{cursor}].x0") == PLANTED
    click_slider_step(page, "layer_map", "1")
    wait_for(page, "layer_map", f"gd.layout.shapes[{cursor}].x0 === 1")
    assert figure_state(page, "layer_map", "gd.layout.sliders[0].active") == 1
    lasa = analysis.result.metrics.query("lang == 'all' and metric == 'lasa' and layer == 1")["value"].item()
    readout = page.locator("#layer_map .annotation-text", has_text="depth):").text_content()
    assert readout.startswith("layer 1 (") and f"LASA {lasa:.3f}" in readout

    per_language = sum(t.legend == "legend2" for t in fig.data)
    page.locator("#layer_map .updatemenu-button", has_text="means only").click()
    wait_for(page, "layer_map", f"gd.querySelectorAll('g.trace.scatter').length === {len(fig.data) - per_language}")
    page.locator("#layer_map .updatemenu-button", has_text="all languages").click()
    wait_for(page, "layer_map", f"gd.querySelectorAll('g.trace.scatter').length === {len(fig.data)}")
    assert not errors, errors


def test_projection_explorer_renders_slides_and_recolours(browser, analysis, tmp_path):
    cache = analysis.cache
    fig = projection_explorer(cache, "pca", bottleneck=PLANTED)
    page, errors = open_figure(browser, fig, tmp_path / "projection")
    assert page.locator("#projection g.trace.scatter").count() == len(LANGS)
    assert page.locator("#projection g.trace.scatter path.point").count() == len(LANGS) * N_ITEMS
    assert_painted(page, tmp_path, "projection")

    coords, _ = project(cache["last"], "pca")
    for layer in (1, N_LAYERS - 1):
        click_slider_step(page, "projection", str(layer))
        expected = coords[layer, :, 0].tolist()  # rows are grouped by language
        same = "JSON.stringify(gd.data.flatMap(t => Array.from(t.x))) === JSON.stringify(arg)"
        wait_for(page, "projection", same, expected)
        assert figure_state(page, "projection", "gd.layout.sliders[0].active") == layer
        assert f"layer {layer} ·" in page.locator("#projection .gtitle-subtitle").text_content()

    page.locator("#projection .updatemenu-button", has_text="colour: item").click()
    wait_for(page, "projection", "Array.isArray(gd.data[0].marker.color)")
    colours = figure_state(page, "projection", "gd.data.map(t => Array.from(t.marker.color))")
    assert colours == [list(range(N_ITEMS))] * len(LANGS)
    click_slider_step(page, "projection", str(PLANTED))  # moving through layers keeps the colouring
    wait_for(page, "projection", f"gd.layout.sliders[0].active === {PLANTED}")
    assert figure_state(page, "projection", "Array.from(gd.data[0].marker.color)") == list(range(N_ITEMS))
    assert not errors, errors
