"""Tiny random-initialised models of each supported architecture, built locally from configs."""

from __future__ import annotations

import torch
from transformers import (
    AutoModelForCausalLM,
    Gemma3TextConfig,
    GPT2Config,
    GPTNeoXConfig,
    LlamaConfig,
    MistralConfig,
    Qwen2Config,
)

COMMON = dict(hidden_size=64, intermediate_size=128, num_hidden_layers=4, num_attention_heads=4, num_key_value_heads=2)

CONFIGS = {
    "llama": lambda v: LlamaConfig(vocab_size=v, **COMMON),
    "qwen2": lambda v: Qwen2Config(vocab_size=v, **COMMON),
    "mistral": lambda v: MistralConfig(vocab_size=v, **COMMON),
    "gemma3_text": lambda v: Gemma3TextConfig(vocab_size=v, head_dim=16, sliding_window=4, **COMMON),
    "gpt2": lambda v: GPT2Config(vocab_size=v, n_embd=64, n_layer=4, n_head=4),
    "gpt_neox": lambda v: GPTNeoXConfig(vocab_size=v, hidden_size=64, intermediate_size=128, num_hidden_layers=4,
                                        num_attention_heads=4),
}


def tiny_model(arch: str, vocab_size: int) -> torch.nn.Module:
    torch.manual_seed(0)
    config = CONFIGS[arch](vocab_size)
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    model.config.architectures = [type(model).__name__]
    return model.eval()
