"""Hugging Face transformers' GPT-2 (124M: 12 layers, hidden 768) built from its config with random
weights, no key-value cache: batch 8, sequence 256. Output: the last hidden state."""
import torch
from transformers import GPT2Config, GPT2Model

batch_size = 8
seq_len = 256
config = GPT2Config(use_cache=False, return_dict=False)


def get_model():
    return GPT2Model(config)


def get_inputs():
    return [torch.randint(0, config.vocab_size, (batch_size, seq_len))]


KSWARM_SMALL_SHAPES = {"batch_size": 1, "seq_len": 16}
