"""The persistent translation cache: hits across runs, misses when anything that matters
changes, safe to share between threads and to pickle."""

from __future__ import annotations

import pickle
import threading
from pathlib import Path

from pipeline.translate.cache import (
    CachedTranslation,
    TranslationCache,
    model_fingerprint,
    namespace_key,
)
from tests.helpers import SENTENCES, make_article, make_stage


def entry(text: str) -> CachedTranslation:
    return CachedTranslation(text=text, output_tokens=len(text), hit_length_limit=False)


def test_round_trip_and_namespaces_are_separate(tmp_path: Path) -> None:
    cache = TranslationCache(tmp_path / "t.sqlite")
    cache.put_many("ns1", {"a": entry("A"), "b": entry("B")})
    assert cache.get_many("ns1", ["a", "b", "c"]) == {"a": entry("A"), "b": entry("B")}
    assert cache.get_many("ns2", ["a"]) == {}
    assert (cache.hits, cache.misses) == (2, 2)


def test_many_keys_cross_the_sqlite_variable_limit(tmp_path: Path) -> None:
    cache = TranslationCache(tmp_path / "t.sqlite")
    items = {f"s{i}": entry(f"e{i}") for i in range(1800)}
    cache.put_many("ns", items)
    assert cache.get_many("ns", list(items)) == items


def test_threads_share_one_cache(tmp_path: Path) -> None:
    cache = TranslationCache(tmp_path / "t.sqlite")

    def work(worker: int) -> None:
        for i in range(20):
            cache.put_many("ns", {f"{worker}-{i}": entry(str(i))})
            cache.get_many("ns", [f"{worker}-{i}"])

    threads = [threading.Thread(target=work, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert cache.count("ns") == 80


def test_a_cache_pickles_and_reopens(tmp_path: Path) -> None:
    cache = TranslationCache(tmp_path / "t.sqlite")
    cache.put_many("ns", {"a": entry("A")})
    clone = pickle.loads(pickle.dumps(cache))
    assert clone.get_many("ns", ["a"]) == {"a": entry("A")}


def test_namespace_changes_with_settings_engine_and_weights(tmp_path: Path) -> None:
    base = namespace_key("m", "r1", "torch/float32/none", {"num_beams": 4})[0]
    assert base == namespace_key("m", "r1", "torch/float32/none", {"num_beams": 4})[0]
    assert base != namespace_key("m", "r2", "torch/float32/none", {"num_beams": 4})[0]
    assert base != namespace_key("m", "r1", "ctranslate2/int8", {"num_beams": 4})[0]
    assert base != namespace_key("m", "r1", "torch/float32/none", {"num_beams": 5})[0]
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "model.safetensors").write_bytes(b"one")
    before = model_fingerprint(str(folder), None)
    (folder / "model.safetensors").write_bytes(b"other weights")  # rebuilt in place
    assert model_fingerprint(str(folder), None) != before


def test_second_run_is_served_from_the_cache(tiny_models: Path, tmp_path: Path) -> None:
    path = str(tmp_path / "translations.sqlite")
    first = make_stage(tiny_models, cache_path=path)
    done = [make_article("a", SENTENCES[:4])]
    first(done)
    assert first.stats.generated == 4 and first.stats.cache_hits == 0

    second = make_stage(tiny_models, cache_path=path)  # a new run: empty memo
    again = [make_article("a", SENTENCES[:4]), make_article("b", SENTENCES[3:5])]
    second(again)
    assert second.stats.cache_hits == 4  # everything seen before
    assert second.stats.generated == 1  # only the one new sentence
    assert [s.en for s in again[0].sentences] == [s.en for s in done[0].sentences]


def test_other_generation_settings_do_not_hit(tiny_models: Path, tmp_path: Path) -> None:
    path = str(tmp_path / "translations.sqlite")
    make_stage(tiny_models, cache_path=path).translate_texts(SENTENCES[:2])
    other = make_stage(tiny_models, cache_path=path, num_beams=2)
    other.translate_texts(SENTENCES[:2])
    assert other.stats.cache_hits == 0 and other.stats.generated == 2
