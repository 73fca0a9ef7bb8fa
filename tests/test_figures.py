"""``lasa-interp figures`` reproduces the committed figures/ for the default model, and reuses a saved analysis."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
import pytest

from lasa_interp.cli import main
from lasa_interp.plots import FIGURES
from lasa_interp.plots import analysis as analysis_module

FIGURES_DIR = Path(__file__).parents[1] / "figures"


def figure_json(html: Path) -> dict:
    """The ``data`` and ``layout`` that a Plotly HTML page passes to ``Plotly.newPlot``."""
    text = html.read_text()
    decoder = json.JSONDecoder()
    at = text.index("Plotly.newPlot(") + len("Plotly.newPlot(")
    parts = []
    for _ in range(3):  # div id, data, layout
        at = len(text) - len(text[at:].lstrip(" \n,"))
        value, at = decoder.raw_decode(text, at)
        parts.append(value)
    return {"div": parts[0], "data": parts[1], "layout": parts[2]}


def decoded(value):
    """Plotly's typed arrays (``{"dtype", "bdata"}``) as numpy arrays, everywhere in a JSON value."""
    if isinstance(value, dict):
        if set(value) >= {"dtype", "bdata"}:
            array = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
            shape = value.get("shape", len(array))  # e.g. "24,24" for a matrix
            return array.reshape([int(n) for n in str(shape).split(",")])
        return {k: decoded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decoded(v) for v in value]
    return value


def assert_same(a, b, where: str = "") -> None:
    """Equal structure and strings; numbers equal to float noise (the same machine reproduces them exactly)."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), f"{where}: keys differ"
        for key in a:
            assert_same(a[key], b[key], f"{where}.{key}")
    elif isinstance(a, (list, np.ndarray)) and not (isinstance(a, list) and a and isinstance(a[0], (str, dict, list))):
        a, b = np.asarray(a), np.asarray(b)
        assert a.shape == b.shape, f"{where}: shape {a.shape} != {b.shape}"
        if a.dtype.kind in "fiu" and b.dtype.kind in "fiu":
            np.testing.assert_allclose(a.astype(float), b.astype(float), atol=1e-6, err_msg=where)
        else:
            assert a.tolist() == b.tolist(), where
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), f"{where}: lengths differ"
        for k, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{where}[{k}]")
    elif isinstance(a, float) or isinstance(b, float):
        assert a == pytest.approx(b, abs=1e-6), where
    else:
        assert a == b, where


def test_committed_figures_are_complete_and_small():
    for name in FIGURES:
        for suffix in (".html", ".png", ".pdf"):
            assert (FIGURES_DIR / f"{name}{suffix}").is_file(), f"figures/{name}{suffix} is missing"
    shot = (FIGURES_DIR / "screenshots" / "layer_map.png").read_bytes()
    assert shot[:8] == b"\x89PNG\r\n\x1a\n"
    files = [p for p in FIGURES_DIR.rglob("*") if p.is_file()]
    committed = [p for p in files if p.relative_to(FIGURES_DIR).parts[0] != "analysis"]  # analysis/ is not committed
    assert sum(p.stat().st_size for p in committed) < 3_000_000


def test_figures_command_reproduces_figures_and_reuses_the_analysis(tmp_path, monkeypatch):
    out = tmp_path / "figures"
    main(["figures", "--out", str(out), "--formats", "html"])  # the default model, from scratch
    assert (out / "analysis" / "result" / "result.json").is_file() and (out / "analysis" / "cache").is_dir()
    for name in FIGURES:
        new, committed = figure_json(out / f"{name}.html"), figure_json(FIGURES_DIR / f"{name}.html")
        for fig in (new, committed):
            del fig["layout"]["template"]  # plotly's theme defaults, which follow the installed plotly version
        assert_same(decoded(new), decoded(committed), name)

    def no_recompute(*args, **kwargs):
        raise AssertionError("the saved analysis should have been reused")

    monkeypatch.setattr(analysis_module, "run_analysis", no_recompute)
    again = tmp_path / "again"
    main(["figures", "--out", str(again), "--analysis", str(out / "analysis"), "--formats", "html"])
    for name in FIGURES:
        assert (again / f"{name}.html").read_text() == (out / f"{name}.html").read_text()
    with pytest.raises(ValueError, match="holds an analysis of 'qwen2.5-coder-0.5b-instruct'"):
        main(["figures", "--model", "gemma-3-270m", "--out", str(out), "--formats", "html"])
