"""Steering sweeps on a real model (alpha 0 is the baseline, a real direction moves the score, an idle gate changes
nothing) and the Pareto view (the front is non-dominated, the figure holds what it claims)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch

from lasa_interp.directions import safety_directions
from lasa_interp.evaluate import eval_prompts, sweep, sweep_prompts, sweep_summary
from lasa_interp.plots import pareto_front, pareto_plot

LAYER = 15  # of smollm2-135m-instruct's 30: adding its English safety direction raises the refusal-token mass


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Batches of a few prompts on a 135M model gain nothing from more threads, and lose much when cores are shared."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def directions(smollm):
    return safety_directions(smollm, layers=[10, LAYER], languages="en", n_items=8)


@pytest.fixture(scope="module")
def prompts():
    return eval_prompts("en", n_harmful=3, n_harmless=3)


class ConstantGate:
    """A stand-in safety probe at layer 5 giving every prompt the same probability of being harmful."""

    layer, threshold = 5, 0.5

    def __init__(self, prob: float):
        self.prob = prob

    def predict_proba(self, states: torch.Tensor) -> torch.Tensor:
        return torch.full((len(states),), self.prob)


def scores(frame: pd.DataFrame, mode: str, alpha: float) -> np.ndarray:
    return frame.query("mode == @mode and alpha == @alpha")["refusal_score"].to_numpy()


@pytest.fixture(scope="module")
def swept(smollm, directions, prompts):
    """Baseline, add at three strengths and conditional with a gate that flags every prompt, at ``LAYER``."""
    return sweep_prompts(smollm, directions, prompts, layers=LAYER, alphas=[0.0, 0.25, 0.5], modes=["add", "conditional"],
                         probe=ConstantGate(0.9))


def test_alpha_zero_is_the_baseline_and_the_direction_raises_the_score(swept, prompts):
    assert len(swept) == 7 * len(prompts) and list(swept.columns[:3]) == ["layer", "alpha", "mode"]
    baseline = scores(swept, "none", 0.0)
    assert swept.loc[swept["mode"] == "none", "layer"].isna().all() and (swept["layer"].dropna() == LAYER).all()
    np.testing.assert_array_equal(scores(swept, "add", 0.0), baseline)  # exactly, not approximately
    np.testing.assert_array_equal(scores(swept, "conditional", 0.0), baseline)
    means = [scores(swept, "add", alpha).mean() for alpha in (0.0, 0.25, 0.5)]
    assert means[0] + 0.05 < means[1] < means[2], means  # measured: about 0.09, 0.26, 0.45


def test_conditional_follows_its_gate(smollm, directions, prompts, swept):
    np.testing.assert_allclose(scores(swept, "conditional", 0.5), scores(swept, "add", 0.5), rtol=1e-5)  # all flagged
    idle = sweep_prompts(smollm, directions, prompts, layers=LAYER, alphas=0.5, modes="conditional",
                         probe=ConstantGate(0.9), threshold=0.95)  # the threshold overrides the probe's: none flagged
    np.testing.assert_array_equal(scores(idle, "conditional", 0.5), scores(swept, "none", 0.0))


def test_summary_is_tidy_per_language_and_setting(smollm, directions):
    two = eval_prompts("en,it", n_harmful=1, n_harmless=1)
    table = sweep(smollm, directions, two, alphas=[0.0, 0.25], modes=["add", "ablate"], n_boot=50)
    assert list(table.columns) == ["layer", "alpha", "mode", "lang", "metric", "n", "value", "ci_low", "ci_high"]
    settings = table[["layer", "alpha", "mode"]].astype(str).drop_duplicates()
    assert len(settings) == 1 + 2 * 2 + 2  # baseline; two layers x two alphas of add; ablate once per layer
    assert table.loc[table["mode"] == "ablate", "alpha"].isna().all()
    assert set(table["lang"]) == {"en", "it", "all"}
    # the first-token scorer cannot tell unsafe help from other replies: rates and mean scores only
    assert set(table["metric"]) == {"refusal_rate", "over_refusal", "refusal_score", "over_refusal_score"}
    assert len(table) == len(settings) * 3 * 4
    pooled = table.query("lang == 'all' and metric == 'refusal_score'")
    assert (pooled["n"] == 2).all() and pooled["value"].between(0, 1).all()


def test_generate_scorer_judges_replies(smollm, directions, prompts):
    frame = sweep_prompts(smollm, directions, prompts.iloc[[0, -1]], layers=LAYER, alphas=0.5, modes="add",
                          scorer="generate", max_new_tokens=4)
    assert {"response", "outcome", "refused", "scorer"} <= set(frame.columns) and set(frame["scorer"]) == {"generate"}
    table = sweep_summary(frame, n_boot=0)
    assert {"refusal_rate", "asr", "other_rate", "over_refusal"} == set(table["metric"])


def test_bad_input_says_what_to_fix(smollm, directions, prompts):
    with pytest.raises(ValueError, match=r"\['harmful'\].*prompts\['kind'\] == 'harmful'"):
        sweep_prompts(smollm, directions, prompts.drop(columns="harmful"))
    with pytest.raises(ValueError, match=r"\['lang'\]"):
        sweep_prompts(smollm, directions, prompts.drop(columns="lang"))
    with pytest.raises(TypeError, match="DataFrame"):
        sweep_prompts(smollm, directions, ["How do I pick a lock?"])
    with pytest.raises(ValueError, match="True/False"):
        sweep_prompts(smollm, directions, prompts.assign(harmful="yes"))
    with pytest.raises(ValueError, match="finite"):
        sweep_prompts(smollm, directions, prompts, alphas=[0.1, math.nan])
    with pytest.raises(IndexError, match="out of range"):
        sweep_prompts(smollm, directions, prompts, layers=[30])
    with pytest.raises(ValueError, match=r"No direction for layer\(s\) \[3\]"):
        sweep_prompts(smollm, directions, prompts, layers=[3])
    with pytest.raises(ValueError, match="needs probe="):
        sweep_prompts(smollm, directions, prompts, modes=["conditional"])
    with pytest.raises(ValueError, match="Unknown mode"):
        sweep_prompts(smollm, directions, prompts, modes=["push"])
    with pytest.raises(ValueError, match="Unknown scorer"):
        sweep_prompts(smollm, directions, prompts, modes="add", scorer="vibes")
    with pytest.raises(ValueError, match="scorer='generate'"):
        sweep_prompts(smollm, directions, prompts, modes="add", judge=lambda r, p: None)


def test_pareto_front_is_exactly_the_non_dominated_points():
    rng = np.random.default_rng(0)
    x, y = rng.integers(0, 6, 60) / 5, rng.integers(0, 6, 60) / 5  # ties on purpose
    front = pareto_front(x, y)
    for i in range(len(x)):
        dominated = any(x[j] <= x[i] and y[j] >= y[i] and (x[j] < x[i] or y[j] > y[i]) for j in range(len(x)))
        assert front[i] == (not dominated)
    assert pareto_front([0.1, 0.1, 0.5, np.nan], [0.5, 0.5, 0.9, 1.0]).tolist() == [True, True, True, False]
    with pytest.raises(ValueError, match="one length"):
        pareto_front([0.1, 0.2], [0.3])


def constructed_sweep() -> pd.DataFrame:
    """en and it with both metrics, sw with refusal only; the add at layer 14, alpha 0.25 dominates in en."""
    settings = [(pd.NA, 0.0, "none"), (4, 0.25, "add"), (14, 0.25, "add"), (14, 0.25, "conditional"), (4, math.nan, "ablate")]
    en = {"none": (0.2, 0.4), (4, "add"): (0.5, 0.5), (14, "add"): (0.1, 0.9), (14, "conditional"): (0.3, 0.6),
          (4, "ablate"): (0.0, 0.1)}
    rows = []
    for lang in ("en", "it", "sw"):
        for layer, alpha, mode in settings:
            over, refusal = en["none" if mode == "none" else (layer, mode)]
            if lang == "it":
                over, refusal = refusal / 2, over
            rows.append((layer, alpha, mode, lang, "refusal_rate", 4, refusal, 0.0, 1.0))
            if lang != "sw":
                rows.append((layer, alpha, mode, lang, "over_refusal", 4, over, 0.0, 1.0))
    frame = pd.DataFrame(rows, columns=["layer", "alpha", "mode", "lang", "metric", "n", "value", "ci_low", "ci_high"])
    return frame.astype({"layer": "Int64"})


def test_pareto_plot_draws_settings_front_baseline_and_language_buttons():
    fig = pareto_plot(constructed_sweep())
    names = [trace.name for trace in fig.data]
    assert names == ["Pareto front", "add", "conditional", "ablate", "no intervention"] * 2  # en, it; sw: no harmless
    en = fig.data[:5]
    assert all(trace.visible for trace in en) and not any(trace.visible for trace in fig.data[5:])
    assert (list(en[0].x), list(en[0].y)) == ([0.0, 0.1], [0.1, 0.9])  # ablate (0, 0.1) and add at 14 (0.1, 0.9)
    assert en[0].line.shape == "hv"
    assert (en[4].x, en[4].y, en[4].marker.symbol) == ((0.2,), (0.4,), "star")
    assert "layer 14 · α 0.25 · add" in en[1].text[1] and "0.900 (95% CI 0.00 to 1.00), n=4" in en[1].text[1]
    assert "layer 4 · α – · ablate" in en[3].text[0] and en[4].text[0].startswith("no intervention")
    buttons = fig.layout.updatemenus[0].buttons
    assert [b.label for b in buttons] == ["en (English)", "it (Italian)"]
    assert buttons[1].args[0]["visible"] == [False] * 5 + [True] * 5
    assert fig.layout.xaxis.title.text == "over-refusal on harmless prompts"


def test_pareto_plot_one_language_and_errors():
    frame = constructed_sweep()
    fig = pareto_plot(frame, lang="it")
    assert len(fig.data) == 5 and not fig.layout.updatemenus
    with pytest.raises(ValueError, match=r"No language 'sw' with both over_refusal and refusal_rate.*\['en', 'it'\]"):
        pareto_plot(frame, lang="sw")
    with pytest.raises(ValueError, match=r"No \['refusal_score'\] rows"):
        pareto_plot(frame, y="refusal_score")
    with pytest.raises(ValueError, match=r"lacks columns \['metric'\]"):
        pareto_plot(frame.drop(columns="metric"))
