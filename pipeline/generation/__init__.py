"""The decoding layer both model stages use.

- backend.py: the Backend protocol a stage holds (token counts, decoding, generation), its
  BackendCapabilities, RequiredTokens (what generate() may be asked to force) and
  Generated, one output.
- runner.py: token-budget batches, settings groups, required tokens and out-of-memory
  halving, written once for every backend (BatchedBackend).
- tokens.py: the protocol's token methods on the model's Hugging Face tokenizer, shared by
  both backends.
- constraints.py: the logits processor that forces required token sequences (torch).
- settings.py: merging a model's generation defaults with the config's overrides.
- batching.py: length-sorted token-budget batches; the GPU memory budget.
- torch_backend.py: transformers + torch (fp32/fp16/bf16, dynamic int8, shortlists).
- ctranslate2_backend.py, ctranslate2_models.py: CTranslate2, and converting models for it.
- beam_search.py, kv_cache.py: id2en's beam-search loop inside generate(), and its cache.
- restricted_head.py: the output layer restricted to a shortlist's candidates.
- backends.py: which backend a stage gets (open_backend).
"""
