"""Calibration of DAILYPAPERS_SEARCH_SEMANTIC_FLOOR (issue 15): the best cosine that gibberish,
off-topic and on-topic queries reach over the seed sample's shipped vectors and, when given, over
another set of abstract vectors (an .npz with ``vecs``, e.g. CSFCube's written by the issue-15 work).

    .venv/bin/python bench/search_floor.py [--vectors FILE.npz]
"""

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
from dailypapers.search.encoder import load_provider  # noqa: E402

p = load_provider(model="sentence-transformers/all-MiniLM-L6-v2", cache_dir=ROOT / "var" / "models")
S = np.load(ROOT / "src/dailypapers/sample/vectors/sentence-transformers_all-MiniLM-L6-v2.npy")
parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--vectors", type=Path)
args = parser.parse_args()
C = np.load(args.vectors)["vecs"] if args.vectors else None
gib = ["xkqzv wplmf", "asdf qwer zxcv", "lorem ipsum dolor sit amet", "sdfkjhsdf", "aaaaaaaa", "12345 67890",
       "qwertyuiop", "zzzz yyyy xxxx", "blorf snargle wimbly", "hjkl hjkl", "!!! ???", "foo bar baz",
       "xyzzy plugh", "kjsdhf kjshdf kjhsdf", "mxnbv cxzlkj", "🙂🙃 🎉", "the of and", "ooooo"]
off = ["best chocolate cake recipe", "football world cup final score", "cheap flights to paris",
       "how to fix a leaking tap", "knitting patterns for beginners", "stock price of apple today",
       "weather tomorrow in london", "my cat won't eat", "wedding dress shopping", "guitar chords for wonderwall",
       "tax return deadline", "gardening tips for tomatoes", "used car prices", "yoga for back pain"]
on = ["diffusion models for video generation", "make language models reason step by step",
      "faster attention for long contexts", "robot learning from human demonstrations",
      "how do I make an LLM use tools", "evaluating hallucination in chatbots", "3D reconstruction from a single image",
      "speech recognition for low-resource languages", "mixture of experts efficiency", "text to image editing",
      "can small models beat big ones with better data", "aligning models with human preferences"]
def show(name, qs):
    for q in qs:
        v = p.embed_query(q)
        a = float((S @ v).max())
        b = float((C @ v).max()) if C is not None else float("nan")
        print(f"{name:4} {a:.3f} {b:.3f}  {q}")


show("gib", gib)
show("off", off)
show("on", on)
