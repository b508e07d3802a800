"""Every model of models/ splits into problems (kswarm optimize's first step) at its small shapes,
and the parts cover most of its time: torchvision, timm and transformers code is traced as it is."""

import argparse
import glob
import json
import os

import pytest

from kswarm_worker import split

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODELS = sorted(glob.glob(os.path.join(ROOT, "models", "*.py")))


def test_the_models_folder_has_the_five_families():
    names = {os.path.basename(m)[:-3] for m in MODELS}
    assert {"resnet50", "vit_b_16", "bert_base", "gpt2", "convnext_tiny"} <= names


@pytest.mark.parametrize("model", MODELS, ids=lambda m: os.path.basename(m)[:-3])
def test_a_model_splits_into_parts_that_cover_most_of_its_time(model, tmp_path):
    args = argparse.Namespace(model=model, out=str(tmp_path), device="cpu", shapes="small",
                              max_share=0.5, min_share=0.005, max_parts=24)
    reply = split.split(args)
    parts = json.loads((tmp_path / "parts.json").read_text())
    assert reply["parts"] >= 1
    # Transformer layers, called with keyword and constant arguments, are parts too.
    assert parts["covered_share"] >= 0.9, parts["not_parts"][:5]
