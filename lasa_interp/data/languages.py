"""One language-code convention for every dataset: ISO 639-1 where it exists, else ISO 639-3.

FLORES-200 codes (``zho_Hans``) and their ISO 639-3 part where it is unambiguous (``swh``,
``quy``) are accepted as aliases and turned into the user-facing code (``zh``, ``sw``, ``qu``).
"""

from __future__ import annotations

from collections import Counter
from typing import Iterable, Sequence

# user-facing code -> (FLORES-200 code, English name). The first ten are MultiJail's languages.
LANGUAGES: dict[str, tuple[str, str]] = {
    "en": ("eng_Latn", "English"),
    "zh": ("zho_Hans", "Chinese (Simplified)"),
    "it": ("ita_Latn", "Italian"),
    "vi": ("vie_Latn", "Vietnamese"),
    "ar": ("arb_Arab", "Arabic"),
    "ko": ("kor_Hang", "Korean"),
    "th": ("tha_Thai", "Thai"),
    "bn": ("ben_Beng", "Bengali"),
    "sw": ("swh_Latn", "Swahili"),
    "jv": ("jav_Latn", "Javanese"),
    "de": ("deu_Latn", "German"),
    "fr": ("fra_Latn", "French"),
    "es": ("spa_Latn", "Spanish"),
    "ru": ("rus_Cyrl", "Russian"),
    "ja": ("jpn_Jpan", "Japanese"),
    "hi": ("hin_Deva", "Hindi"),
    "id": ("ind_Latn", "Indonesian"),
    "su": ("sun_Latn", "Sundanese"),
    "ms": ("zsm_Latn", "Malay"),
    "tl": ("tgl_Latn", "Tagalog"),
    "yo": ("yor_Latn", "Yoruba"),
    "ha": ("hau_Latn", "Hausa"),
    "ig": ("ibo_Latn", "Igbo"),
    "am": ("amh_Ethi", "Amharic"),
    "zu": ("zul_Latn", "Zulu"),
    "so": ("som_Latn", "Somali"),
    "te": ("tel_Telu", "Telugu"),
    "ta": ("tam_Taml", "Tamil"),
    "ne": ("npi_Deva", "Nepali"),
    "ur": ("urd_Arab", "Urdu"),
    "fa": ("pes_Arab", "Persian"),
    "tr": ("tur_Latn", "Turkish"),
    "uk": ("ukr_Cyrl", "Ukrainian"),
    "pl": ("pol_Latn", "Polish"),
    "pt": ("por_Latn", "Portuguese"),
    "nl": ("nld_Latn", "Dutch"),
    "he": ("heb_Hebr", "Hebrew"),
    "el": ("ell_Grek", "Greek"),
    "km": ("khm_Khmr", "Khmer"),
    "my": ("mya_Mymr", "Burmese"),
    "lo": ("lao_Laoo", "Lao"),
    "zh-Hant": ("zho_Hant", "Chinese (Traditional)"),
    "rw": ("kin_Latn", "Kinyarwanda"),
    "wo": ("wol_Latn", "Wolof"),
    "qu": ("quy_Latn", "Quechua (Ayacucho)"),
}
FLORES_CODES: dict[str, str] = {code: flores for code, (flores, _) in LANGUAGES.items()}
MULTIJAIL_LANGUAGES: tuple[str, ...] = ("en", "zh", "it", "vi", "ar", "ko", "th", "bn", "sw", "jv")

_iso3 = Counter(flores.split("_")[0] for flores in FLORES_CODES.values())
_ALIASES: dict[str, str] = {
    **{flores.split("_")[0]: code for code, flores in FLORES_CODES.items() if _iso3[flores.split("_")[0]] == 1},
    **{flores.lower(): code for code, flores in FLORES_CODES.items()},
    **{code.lower(): code for code in LANGUAGES},
}


def language_name(code: str) -> str:
    """English name of a language code or alias, for display; an unknown code is returned unchanged."""
    canonical = _ALIASES.get(str(code).lower(), code)
    return LANGUAGES[canonical][1] if canonical in LANGUAGES else code


def resolve_languages(codes: str | Iterable[str], available: Sequence[str], dataset_name: str) -> list[str]:
    """Turn a list or comma-separated string of codes into codes from ``available``, in the order given.

    A code is kept as is when ``available`` has it, else its alias is looked up (``zho_Hans`` -> ``zh``).
    Repeats are dropped. Raises ValueError naming the unknown codes and listing the available ones.
    """
    requested = [c.strip() for c in codes.split(",") if c.strip()] if isinstance(codes, str) else list(codes)
    if not requested:
        raise ValueError(f"No language codes given for {dataset_name}; pass e.g. 'en,zh' or ['en', 'zh'].")
    resolved, unknown = [], []
    for given in requested:
        code = given if given in available else _ALIASES.get(str(given).lower(), given)
        if code not in available:
            unknown.append(given)
        elif code not in resolved:
            resolved.append(code)
    if unknown:
        listing = ", ".join(f"{c} ({language_name(c)})" if c in LANGUAGES else str(c) for c in available)
        raise ValueError(f"{dataset_name} has no language {', '.join(map(repr, unknown))}. Available codes: {listing}.")
    return resolved
