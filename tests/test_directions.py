"""Safety directions, the Direction object, the safety probe and the harmful/harmless request data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from safetensors.torch import save_file

import lasa_interp as li
from lasa_interp.bottleneck import BottleneckResult
from lasa_interp.data import load_polyrefuse, load_refusal_splits, load_safety_requests
from lasa_interp.directions.probe import _classifier, calibrated_threshold
from lasa_interp.directions import (
    Direction, diff_means, resolve_layer, safety_direction, safety_directions, train_safety_probe,
)

LAYER = 15


@pytest.fixture(scope="module")
def english(smollm):
    return safety_direction(smollm, layer=LAYER, languages="en", n_items=12, progress=False)


def test_polyrefuse_items_shared_by_translations_and_splits_disjoint():
    test = load_polyrefuse("test", "harmful", ["en", "de", "th"], n_items=5)
    assert test.groupby("item_id")["lang"].nunique().eq(3).all()  # every item in every language
    en, de = test[test.lang == "en"], test[test.lang == "de"]
    assert en.item_id.tolist() == de.item_id.tolist() and en.text.tolist() != de.text.tolist()
    assert set(test.columns) >= {"text", "lang", "item_id", "kind", "label", "split", "source"}
    train, held_out = load_safety_requests("train"), load_safety_requests("test")
    assert not set(train.item_id) & set(held_out.item_id)
    assert set(train.lang) == set(li.data.POLYREFUSE_LANGUAGES) and "zh" not in set(held_out.lang)  # no zh harmless test
    assert train.groupby(["lang", "label"]).size().min() == 200
    # PolyRefuse translated Arditi et al.'s harmful splits in order: the English rows are those splits
    arditi = load_refusal_splits("train", "harmful")
    assert train[(train.lang == "en") & (train.label == 1)].item_id.isin(arditi.item_id).all()


def test_polyrefuse_bad_requests():
    with pytest.raises(ValueError, match="load_refusal_splits"):
        load_polyrefuse("train", "harmless", ["en"])  # PolyRefuse ships no English harmless train sample
    with pytest.raises(ValueError, match="Unknown split"):
        load_polyrefuse("dev")
    with pytest.raises(ValueError, match="Unknown kind"):
        load_refusal_splits("train", "benign")


def test_direction_is_unit_and_points_to_harm(smollm, english):
    assert english.norm == pytest.approx(1.0, abs=1e-5)
    assert english.layer == LAYER and english.hook == "blocks.15.hook_resid_post" and english.mean_norm > 0
    held_out = load_safety_requests("test", "en", n_items=10)
    cache = li.cache_activations(smollm, held_out, layers=[LAYER], pooling="last", chat_template=True)
    proj = english.project(cache.at(LAYER)).numpy()
    labels = held_out["label"].to_numpy()
    assert proj[labels == 1].mean() > proj[labels == 0].mean()


def test_all_layers_equal_single_layer(smollm, english):
    both = safety_directions(smollm, layers=[3, LAYER], languages="en", n_items=12, progress=False)
    assert sorted(both) == [3, LAYER]
    torch.testing.assert_close(both[LAYER].vector, english.vector, rtol=0, atol=1e-5)
    assert both[LAYER].mean_norm == pytest.approx(english.mean_norm, rel=1e-5)


def test_pooled_averages_language_differences():
    torch.manual_seed(0)
    states = torch.randn(2, 10, 4)
    labels = np.array([1, 1, 1, 0, 0, 1, 0, 0, 0, 0])
    langs = np.array(["a"] * 5 + ["b"] * 5)
    expected = sum(states[:, (langs == g) & (labels == 1)].mean(1) - states[:, (langs == g) & (labels == 0)].mean(1)
                   for g in "ab") / 2
    torch.testing.assert_close(diff_means(states, labels, langs), expected)
    torch.testing.assert_close(diff_means(states, labels), states[:, labels == 1].mean(1) - states[:, labels == 0].mean(1))


def test_save_load_roundtrip_and_arithmetic(tmp_path, english):
    path = english.save(tmp_path / "dirs" / "english.safetensors")
    back = Direction.load(path)
    torch.testing.assert_close(back.vector, english.vector, rtol=0, atol=0)
    assert (back.layer, back.model, back.method, back.mean_norm, back.info) == (
        english.layer, english.model, english.method, english.mean_norm, english.info)
    other = Direction(torch.randn(english.d_model), LAYER, english.model)
    torch.testing.assert_close((english + other).vector, english.vector + other.vector)
    torch.testing.assert_close((english - 2 * other).vector, english.vector - 2 * other.vector)
    torch.testing.assert_close((-english / 2).vector, -english.vector / 2)
    assert (3 * english).unit().norm == pytest.approx(1.0) and english.cosine(-english) == pytest.approx(-1.0)
    with pytest.raises(ValueError, match="different layers"):
        english + Direction(torch.randn(english.d_model), LAYER - 1, english.model)
    save_file({"states": torch.zeros(2)}, tmp_path / "other.safetensors")
    with pytest.raises(ValueError, match="not a saved Direction"):
        Direction.load(tmp_path / "other.safetensors")


def test_safety_probe_reports_every_language(smollm):
    probe = train_safety_probe(smollm, layer=LAYER, train_languages="en", eval_languages=["en", "de"], n_items=8,
                               n_eval_items=5, progress=False)
    report = probe.report.set_index("lang")
    assert list(report.index) == ["en", "de", "seen", "unseen"]
    assert report.loc["en", "seen"] and not report.loc["de", "seen"] and report.loc["en", "n"] == 10
    assert report.loc["en", "auroc"] > 0.8  # held-out English requests
    states = torch.zeros(3, smollm.d_model)
    assert probe.predict_proba(states).shape == (3,) and probe.flags(states).dtype == torch.bool
    with pytest.raises(ValueError, match="share"):
        data = load_safety_requests("train", "en", n_items=4)
        train_safety_probe(smollm, layer=LAYER, train_data=data, eval_data=data, progress=False)


def test_calibrated_threshold_flags_the_target_share_of_harmless_rows():
    """Known answer: one informative feature; the threshold leaves ~target_fpr of held-out harmless rows above it."""
    rng = np.random.default_rng(0)
    labels = np.repeat([0, 1], 200)
    x = np.c_[labels * 3.0 + rng.normal(size=400), rng.normal(size=(400, 3))]
    groups, probe = np.arange(400) % 100, _classifier("logreg", 0, 1.0)
    thresholds = [calibrated_threshold(probe, x, labels, groups, fpr) for fpr in (0.02, 0.1, 0.3)]
    assert thresholds[0] > thresholds[1] > thresholds[2]
    fresh = np.c_[rng.normal(size=2000), rng.normal(size=(2000, 3))]  # new harmless rows
    flagged = probe.fit(x, labels).predict_proba(fresh)[:, 1] >= thresholds[1]
    assert 0.05 < flagged.mean() < 0.16
    with pytest.raises(ValueError, match="at least 2 items"):
        calibrated_threshold(probe, x, labels, np.zeros(400), 0.1)


def test_probe_threshold_from_a_target_false_positive_rate(smollm):
    probe = train_safety_probe(smollm, layer=LAYER, train_languages="en", eval_languages=["en"], n_items=10,
                               n_eval_items=4, target_fpr=0.1, progress=False)
    assert probe.threshold != 0.5 and 0 < probe.threshold < 1 and probe.info["target_fpr"] == 0.1
    with pytest.raises(ValueError, match="target_fpr"):
        train_safety_probe(smollm, layer=LAYER, target_fpr=1.5)


def test_resolve_layer(smollm):
    result = BottleneckResult(layer=7, depth=0.27, criterion="lasa", stability=1.0, scores=pd.DataFrame(),
                              metrics=pd.DataFrame(), info={"n_layers": 30})
    assert resolve_layer(smollm, result) == 7 and resolve_layer(smollm, -1) == 29
    with pytest.raises(ValueError, match="'bottleneck'"):
        resolve_layer(smollm, "middle")


def test_bad_inputs(smollm, gemma):
    one_class = pd.DataFrame({"text": ["How do I pick a lock?", "How do I hotwire a car?"], "label": [1, 1]})
    with pytest.raises(ValueError, match="only harmful"):
        safety_direction(smollm, layer=3, data=one_class)
    with pytest.raises(ValueError, match="language 'de'"):
        mixed = pd.concat([load_safety_requests("train", "en", n_items=2), one_class.assign(lang="de")])
        safety_direction(smollm, layer=3, data=mixed)
    with pytest.raises(IndexError, match="out of range"):
        safety_direction(smollm, layer=30, languages="en", n_items=2)
    with pytest.raises(ValueError, match=r"chat_template = .*chat_template=False"):
        safety_direction(gemma, layer=3, languages="en", n_items=2)
    assert safety_direction(gemma, layer=3, languages="en", n_items=2, chat_template=False).norm == pytest.approx(1.0)
    with pytest.raises(ValueError, match="d_model"):
        Direction(torch.randn(7), 3, "x").check_model(smollm)
    with pytest.raises(ValueError, match="probe method"):
        train_safety_probe(smollm, layer=3, method="svm")
