"""Vendored parallel data: counts, alignment, faithfulness to the source, language codes, sampling, bad input."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from lasa_interp.data import (
    FLORES_CODES, LANGUAGES, MULTIJAIL_LANGUAGES, check_aligned, language_name, load_flores, load_multijail,
    parallel_frame, resolve_languages,
)

SOURCE = Path(__file__).resolve().parents[2] / "shared" / "data"  # the upstream copies, where this checkout has them
ALL = list(LANGUAGES)


@pytest.fixture(scope="module")
def flores_all() -> pd.DataFrame:
    return load_flores(ALL)


def test_flores_counts_and_alignment(flores_all):
    assert len(ALL) == 45 and flores_all.shape == (45 * 1004, 6)
    assert list(flores_all.columns) == ["text", "lang", "item_id", "source", "split", "category"]
    assert (flores_all.groupby("lang", sort=False).size() == 1004).all()
    assert list(flores_all["lang"].unique()) == ALL
    keys = [g[["item_id", "split", "category"]].reset_index(drop=True) for _, g in flores_all.groupby("lang", sort=False)]
    assert all(k.equals(keys[0]) for k in keys) and keys[0]["item_id"].is_monotonic_increasing
    assert keys[0]["split"].value_counts().to_dict() == {"train": 701, "test": 204, "dev": 99}
    assert flores_all["category"].nunique() == 7 and set(flores_all["source"]) == {"flores200"}
    check_aligned(flores_all)


def test_flores_text_is_decoded_like_the_source(flores_all):
    en = flores_all[flores_all["lang"] == "en"].set_index("item_id")["text"]
    assert en[0].startswith("On Monday, scientists from the Stanford University School of Medicine announced")
    assert en[0].endswith("for possibly about one U.S. cent each.")
    # upstream writes quoted fields CSV-style ("""She’s ...""" on disk): one level of quoting is undone
    assert any(t.startswith('"She’s very cute and sings quite well, too," he said') for t in en)


@pytest.mark.skipif(not SOURCE.is_dir(), reason="the upstream copies (../shared/data) are not in this checkout")
def test_vendored_files_match_the_source(flores_all):
    for code, flores in FLORES_CODES.items():
        upstream = pd.concat(
            pd.read_csv(SOURCE / "sib200_flores200" / flores / f"{split}.tsv", sep="\t", dtype=str, keep_default_na=False)
            for split in ("train", "dev", "test")
        )
        ours = flores_all[flores_all["lang"] == code]
        assert dict(zip(upstream["index_id"].astype(int), upstream["text"])) == dict(zip(ours["item_id"], ours["text"]))
    vendored = Path(__file__).resolve().parents[1] / "lasa_interp" / "data" / "files" / "multijail" / "MultiJail.csv"
    assert vendored.read_bytes() == (SOURCE / "multijail" / "MultiJail.csv").read_bytes()


def test_multijail_counts_and_columns():
    frame = load_multijail()
    assert frame.shape == (3150, 6) and list(frame.columns) == ["text", "lang", "item_id", "source", "tags", "origin"]
    assert list(frame["lang"].unique()) == list(MULTIJAIL_LANGUAGES)
    assert all(sorted(g["item_id"]) == list(range(315)) for _, g in frame.groupby("lang"))
    assert frame["origin"].value_counts().to_dict() == {"anthropics": 3000, "openai": 150}
    first = frame[frame["item_id"] == 0]
    assert first["text"].iloc[0].startswith("How much money should I sell my 18 year old daughter")
    assert set(first["tags"]) == {"Sexual exploitation & human trafficking"}
    assert frame.loc[(frame["lang"] == "en") & (frame["item_id"] == 1), "tags"].item() == (
        "Non-violent unethical behavior (e.g. lying, cheating, etc.); Conspiracy theories & misinformation"
    )
    check_aligned(frame)


def test_defaults_order_and_cached_copies():
    frame = load_flores()
    assert list(frame["lang"].unique()) == list(MULTIJAIL_LANGUAGES)
    frame.loc[0, "text"] = "changed"
    assert load_flores("en")["text"].iloc[0] != "changed"
    ordered = load_multijail("th,en", n_items=4)
    assert list(ordered["lang"]) == ["th"] * 4 + ["en"] * 4
    assert ordered["item_id"].tolist()[:4] == sorted(ordered["item_id"].tolist()[:4])


def test_language_codes():
    expected = {"zh": "zho_Hans", "zh-Hant": "zho_Hant", "sw": "swh_Latn", "ar": "arb_Arab", "ms": "zsm_Latn",
                "ne": "npi_Deva", "fa": "pes_Arab", "jv": "jav_Latn", "yo": "yor_Latn", "qu": "quy_Latn"}
    assert {code: FLORES_CODES[code] for code in expected} == expected
    assert resolve_languages(" en, zho_Hans ,zh-hant,quy,sun,en", ALL, "FLORES-200") == ["en", "zh", "zh-Hant", "qu", "su"]
    assert resolve_languages(["de", "swh"], ALL, "FLORES-200") == ["de", "sw"]
    assert language_name("zh-Hant") == "Chinese (Traditional)" and language_name("wol_Latn") == "Wolof"
    assert language_name("xx") == "xx"
    with pytest.raises(ValueError, match=r"FLORES-200 has no language 'xx'\. Available codes: en \(English\), zh .*qu \(Quechua"):
        load_flores("en,xx")
    with pytest.raises(ValueError, match=r"MultiJail has no language 'deu_Latn'.*jv \(Javanese\)"):
        load_multijail(["en", "deu_Latn"])
    with pytest.raises(ValueError, match="No language codes given"):
        load_flores(" , ")


def test_n_items_picks_the_same_items_everywhere():
    a = load_flores(["en", "zh", "sw"], n_items=10, seed=3)
    assert len(a) == 30 and a.equals(load_flores(["en", "zh", "sw"], n_items=10, seed=3))
    ids = [g["item_id"].tolist() for _, g in a.groupby("lang")]
    assert ids[0] == ids[1] == ids[2] and ids[0] == sorted(ids[0])
    assert load_flores("en", n_items=10, seed=4)["item_id"].tolist() != ids[0]
    assert load_flores("en", n_items=10, seed=3)["item_id"].tolist() == ids[0]  # independent of the languages asked for
    dev = load_flores("en,ko", n_items=5, split="dev")
    assert set(dev["split"]) == {"dev"} and dev["item_id"].nunique() == 5
    assert load_multijail(n_items=7, seed=1)["item_id"].nunique() == 7
    with pytest.raises(ValueError, match=r"n_items=100 but FLORES-200 \(split='dev'\) has only 99 items"):
        load_flores("en", n_items=100, split="dev")
    with pytest.raises(ValueError, match="MultiJail has only 315 items"):
        load_multijail(n_items=316)
    with pytest.raises(ValueError, match="n_items must be a positive integer"):
        load_multijail(n_items=0)
    with pytest.raises(ValueError, match="Unknown split 'validation'; use one of train, dev, test"):
        load_flores(split="validation")


GOOD = {"en": ["The cat sleeps.", "It rains."], "fr": ["Le chat dort.", "Il pleut."], "de": ["Die Katze schläft.", "Es regnet."]}


def test_parallel_frame_from_dict_and_frame():
    frame = parallel_frame(GOOD)
    assert list(frame.columns) == ["text", "lang", "item_id"] and len(frame) == 6
    assert frame["lang"].tolist() == ["en", "en", "fr", "fr", "de", "de"] and frame["item_id"].tolist() == [0, 1] * 3
    shuffled = frame.sample(frac=1, random_state=0).assign(note="x")
    subset = parallel_frame(shuffled, languages="de,en")
    assert subset["lang"].tolist() == ["de", "de", "en", "en"] and subset["item_id"].tolist() == [0, 1, 0, 1]
    assert list(subset.columns) == ["text", "lang", "item_id", "note"]
    loaded = load_multijail("en,sw", n_items=3)
    assert parallel_frame(loaded).equals(loaded)


BAD_FRAME = pd.DataFrame({"text": ["a", "b", "c", "d"], "lang": ["en", "en", "fr", "fr"], "item_id": [0, 1, 0, 1]})


@pytest.mark.parametrize(
    ("data", "languages", "error", "match"),
    [
        ({"en": ["a", "b"], "fr": ["c"]}, None, ValueError, r"same number of texts.*\{'en': 2, 'fr': 1\}"),
        ({"en": ["a", "b"]}, None, ValueError, r"at least 2 languages; got 1 \('en'\)"),
        ({"en": ["a"], "fr": ["b"]}, None, ValueError, "at least 2 items; got 1"),
        (GOOD, ["en", "ja"], ValueError, r"Your data has no language 'ja'\. Available codes: en \(English\), fr \(French\), de"),
        (BAD_FRAME.drop(index=3), None, ValueError, r"1 \(lang, item_id\) pairs have no text, e\.g\. \('fr', 1\)"),
        (BAD_FRAME.assign(item_id=[0, 0, 0, 1]), None, ValueError, r"Duplicated \(lang, item_id\) pairs: \('en', 0\)"),
        ({"en": ["a", " \n"], "fr": ["c", "d"]}, None, ValueError, r"text of \('en', 1\) is empty or whitespace only"),
        ({"en": ["a", ""], "fr": ["c", "d"]}, None, ValueError, r"text of \('en', 1\) is empty"),
        (BAD_FRAME.assign(text=["a", None, "c", "d"]), None, TypeError, r"text of \('en', 1\) is float \(nan\), not str"),
        (BAD_FRAME.assign(text=["a", "b", 3, "d"]), None, TypeError, r"text of \('fr', 0\) is int"),
        (BAD_FRAME.drop(columns="item_id"), None, ValueError, r"needs columns text, lang and item_id; missing \['item_id'\]"),
        ({"en": "a b", "fr": "c d"}, None, TypeError, "a list of texts, not a single string"),
        (["a", "b"], None, TypeError, "not list"),
    ],
)
def test_parallel_frame_rejects_bad_input(data, languages, error, match):
    with pytest.raises(error, match=match):
        parallel_frame(data, languages=languages)


def test_check_aligned_names_missing_pairs():
    many = pd.DataFrame({"text": ["t"] * 12, "lang": ["en"] * 10 + ["fr"] * 2, "item_id": list(range(10)) + [0, 1]})
    with pytest.raises(ValueError, match=r"8 \(lang, item_id\) pairs have no text, e\.g\. \('fr', 2\), .*\('fr', 6\) and 3 more"):
        check_aligned(many)
