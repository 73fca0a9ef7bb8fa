"""``lasa-interp eval | steer | sweep`` end to end on a real model (in-process), and clear errors for bad flags."""

from __future__ import annotations

import pandas as pd
import pytest
import torch

import lasa_interp.models
from lasa_interp import Direction
from lasa_interp.cli import main

MODEL = ["--model", "smollm2-135m-instruct", "--dtype", "float32"]
SMALL = ["--languages", "en", "--n-harmful", "2", "--n-harmless", "2", "--n-train", "4", "--direction-languages", "en"]


@pytest.fixture(autouse=True)
def loaded(smollm, monkeypatch):
    """The CLI loads its model by name: hand it the session's copy (same alias and dtype) to save the load, on one thread."""
    def load(name, dtype=None, **kwargs):
        assert (name, dtype) == ("smollm2-135m-instruct", "float32") and not kwargs
        return smollm

    monkeypatch.setattr(lasa_interp.models, "load_model", load)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_steer_prints_before_and_after_and_writes_files(tmp_path, capsys):
    main(["steer", *MODEL, *SMALL, "--layer", "15", "--alpha", "0.5", "--mode", "add", "--max-new-tokens", "6",
          "--out", str(tmp_path)])
    printed = capsys.readouterr().out
    assert "Before → after: add at layer 15, alpha 0.5 (phrases judge)" in printed and " → " in printed
    prompts = pd.read_csv(tmp_path / "prompts.csv")
    assert prompts.groupby("mode").size().to_dict() == {"add": 4, "none": 4}
    assert {"response", "outcome", "refused", "harmful", "lang"} <= set(prompts.columns)
    summary = pd.read_csv(tmp_path / "summary.csv")
    assert {"refusal_rate", "asr", "over_refusal"} <= set(summary["metric"]) and set(summary["lang"]) == {"en", "all"}
    direction = Direction.load(tmp_path / "direction.safetensors")
    assert direction.layer == 15 and direction.info["languages"] == ["en"]


def test_sweep_writes_the_csv_and_the_pareto_view(tmp_path, capsys):
    main(["sweep", *MODEL, *SMALL, "--layers", "15", "--alphas", "0,0.5", "--modes", "add,conditional",
          "--out", str(tmp_path)])
    printed = capsys.readouterr().out
    assert "gate: safety probe at layer 15, trained on en" in printed and "Sweep, all languages pooled" in printed
    table = pd.read_csv(tmp_path / "sweep.csv")
    assert table[["mode", "alpha"]].drop_duplicates().shape[0] == 1 + 2 * 2
    assert {"refusal_score", "over_refusal_score"} <= set(table["metric"])
    assert "Pareto front" in (tmp_path / "pareto.html").read_text()


def test_eval_with_the_first_token_judge(tmp_path, capsys):
    main(["eval", *MODEL, "--languages", "en,sw", "--n-harmful", "1", "--n-harmless", "2", "--judge", "first_token",
          "--out", str(tmp_path)])
    assert "Refusal without intervention (first_token judge)" in capsys.readouterr().out
    summary = pd.read_csv(tmp_path / "summary.csv")
    rates = summary.set_index(["lang", "metric"])["n"]
    assert rates[("sw", "refusal_rate")] == 1 and ("sw", "over_refusal") not in rates  # PolyRefuse has no Swahili
    assert rates[("en", "over_refusal")] == 2


@pytest.mark.parametrize("argv, message", [
    (["steer", "--alpha", "nan"], "argument --alpha: must be a finite number, got 'nan'"),
    (["steer", "--layer", "middle"], "argument --layer: must be 'auto' (the bottleneck) or a layer index"),
    (["steer", "--mode", "push"], "argument --mode: invalid choice: 'push'"),
    (["sweep", "--modes", "add,push"], "--modes must be among"),
    (["sweep", "--alphas", "0.1,inf"], "argument --alphas: must be a finite number, got 'inf'"),
    (["eval", "--languages", "en,xx"], "--languages: MultiJail has no language 'xx'"),
    (["steer", "--probe-languages", "en,sw"], "--probe-languages: PolyRefuse has no language 'sw'"),
    (["eval", "--judge", "model"], "--judge model needs --judge-model"),
    (["eval", "--n-harmful", "0"], "--n-harmful must be at least 1, got 0"),
    (["steer", *MODEL, *SMALL, "--layer", "30"], "Layer 30 is out of range for smollm2-135m-instruct with 30 layers"),
])
def test_bad_flags_fail_clearly(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err
