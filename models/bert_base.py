"""Hugging Face transformers' BERT-base (12 layers, hidden 768) built from its config with random
weights: batch 8, sequence 128. Outputs as a tuple (the last hidden state, the pooled output)."""
import torch
from transformers import BertConfig, BertModel

batch_size = 8
seq_len = 128
config = BertConfig(return_dict=False)


def get_model():
    return BertModel(config)


def get_inputs():
    return [torch.randint(0, config.vocab_size, (batch_size, seq_len))]


KSWARM_SMALL_SHAPES = {"batch_size": 1, "seq_len": 16}
