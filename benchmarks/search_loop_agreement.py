"""id2en's beam-search loop against transformers' own, on the real opus-mt-id-en shape.

    python benchmarks/search_loop_agreement.py            # 48 sentences, three settings

The tests compare the two loops on tiny models; this runs the random-weight model with the
real architecture and vocabulary (54,796 tokens) under the model's own generation defaults
(beam 6, pad banned, forced end token, renormalised scores) and two overrides, on the shared
UD sentences (or built-in ones), and prints how many outputs are identical token for token.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import shared_data  # noqa: F401  (names ../shared for the library)
from shared_data import shared_pairs

import pipeline.generation.beam_search as beam_search
from tests.support.corpus import builtin_pairs

SETTINGS = (
    {"max_new_tokens": 24},
    {"max_new_tokens": 20, "num_beams": 4, "length_penalty": 1.3},
    {"max_new_tokens": 16, "num_beams": 5, "early_stopping": True, "min_length": 8},
)


def main(argv: list[str] | None = None) -> int:
    import torch
    from transformers import AutoTokenizer, MarianMTModel

    from tests.support.tiny_models import build_random_marian

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=48, help="sentences per setting")
    parser.add_argument("--batch", type=int, default=16, help="sentences per generate() call")
    args = parser.parse_args(argv)
    texts = [p[0] for p in shared_pairs(limit=args.sentences)] or [
        p[0] for p in builtin_pairs(args.sentences)
    ]
    with tempfile.TemporaryDirectory(prefix="id2en-loop-") as work:
        build_random_marian(Path(work) / "marian")
        model = MarianMTModel.from_pretrained(Path(work) / "marian").eval()
        tokenizer = AutoTokenizer.from_pretrained(Path(work) / "marian")
    print(f"model defaults: {model.generation_config.to_diff_dict()}")
    ran: list[int] = []  # calls of the loop itself, so a silent fallback would show
    search = beam_search._search

    def counted(*a: object, **k: object) -> object:
        ran.append(1)
        return search(*a, **k)

    beam_search._search = counted
    for settings in SETTINGS:
        same = total = calls = 0
        ran.clear()
        for start in range(0, len(texts), args.batch):
            batch = tokenizer(texts[start : start + args.batch], return_tensors="pt", padding=True)
            with torch.inference_mode():
                theirs = model.generate(**batch, **settings).tolist()
                ours = model.generate(
                    **batch, custom_generate=beam_search.lean_beam_search, **settings
                )
            same += sum(a == b for a, b in zip(theirs, ours.tolist(), strict=True))
            total, calls = total + len(theirs), calls + 1
        print(f"{settings}: {same}/{total} identical (id2en's loop ran {len(ran)}/{calls} calls)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
