"""Throughput of the activation cache against a bare decoder forward, TransformerLens and nnsight.

Every method sees the same texts in the same length-sorted, padded batches; times are the
median of ``--repeats`` runs after a warm-up, in one process. Ratios are against the bare
forward through all decoder blocks measured in the same run (the limit for any cache).

    python benchmarks/bench_cache.py --model qwen2.5-coder-0.5b-instruct --texts 64 --batch-size 16
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings

import pandas as pd
import torch

import lasa_interp as li
from lasa_interp.cache.backends import nnsight_model, transformer_lens_bridge
from lasa_interp.cache.inputs import batches, encode
from lasa_interp.data import load_flores


def make_texts(n: int) -> list[str]:
    """``n`` FLORES-200 sentences, round-robin over the 10 MultiJail languages."""
    frame = load_flores(n_items=-(-n // 10))
    return frame.sort_values(["item_id", "lang"])["text"].head(n).tolist()


def timed(runs: dict, repeats: int) -> dict[str, float]:
    """Median seconds per method; methods are interleaved in each round so drift hits all alike."""
    for fn in runs.values():
        fn()  # warm-up
    times: dict[str, list[float]] = {label: [] for label in runs}
    for _ in range(repeats):
        for label, fn in runs.items():
            start = time.perf_counter()
            fn()
            times[label].append(time.perf_counter() - start)
    return {label: statistics.median(t) for label, t in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="qwen2.5-coder-0.5b-instruct")
    parser.add_argument("--dtype", default=None)
    parser.add_argument("--texts", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    warnings.simplefilter("ignore")

    model = li.load_model(args.model, dtype=args.dtype)
    texts = make_texts(args.texts)
    enc = encode(model.tokenizer, texts)
    pad = model.tokenizer.pad_token_id
    prepared = list(batches(enc.ids, range(len(texts)), args.batch_size, pad, "left", model.device))
    n_tokens = sum(enc.lengths)
    half = list(range(model.n_layers // 2))
    names = [model.hook_name(i) for i in range(model.n_layers)]
    bridge, lm = transformer_lens_bridge(model), nnsight_model(model)

    def bare():
        with torch.inference_mode():
            for b in prepared:
                model.decoder(input_ids=b.input_ids, attention_mask=b.attention_mask, position_ids=b.position_ids,
                              use_cache=False)

    def ours(layers=None):
        return lambda: li.cache_activations(model, texts, layers=layers, batch_size=args.batch_size,
                                            pooling=("last", "mean"), progress=False)

    def tl():
        with torch.inference_mode():
            for b in prepared:
                bridge.run_with_cache(b.input_ids, attention_mask=b.attention_mask, position_ids=b.position_ids,
                                      names_filter=names, return_type=None, output_attentions=False)

    def nns():
        with torch.inference_mode():
            for b in prepared:
                saved = []
                with lm.trace(input_ids=b.input_ids, attention_mask=b.attention_mask, position_ids=b.position_ids):
                    for block in lm.model.layers:
                        saved.append(block.output.save())

    runs = {
        "bare decoder forward (all layers)": bare,
        "lasa_interp cache, pooled, all layers": ours(),
        f"lasa_interp cache, layers <= L/2 ({len(half)}/{model.n_layers})": ours(half),
        "TransformerLens run_with_cache (names filter)": tl,
        "nnsight trace with saves": nns,
    }
    rows = []
    for label, seconds in timed(runs, args.repeats).items():
        rows.append({"method": label, "seconds": round(seconds, 3), "tokens/s": round(n_tokens / seconds)})
    table = pd.DataFrame(rows)
    table["ratio vs bare"] = (table["tokens/s"] / table["tokens/s"].iloc[0]).round(2)
    print(f"{model!r}\n{len(texts)} texts, {n_tokens} tokens, batch {args.batch_size}, "
          f"torch threads {torch.get_num_threads()}, median of {args.repeats}\n")
    print(table.to_markdown(index=False) if _has_tabulate() else table.to_string(index=False))


def _has_tabulate() -> bool:
    try:
        import tabulate  # noqa: F401
    except ImportError:
        return False
    return True


if __name__ == "__main__":
    main()
