"""The transformers/torch backend: generate() on a loaded model, with id2en's beam loop,
a GPU memory budget and, optionally, an output layer restricted to a shortlist."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from pipeline.generation.backend import (
    BackendCapabilities,
    Generated,
    RequiredTokens,
    VocabularyShortlist,
    mean_log_prob,
)
from pipeline.generation.batching import (
    MemoryBudget,
    longest_first,
    next_batch_end,
    prior_bytes_per_token,
)
from pipeline.generation.conditioning import NO_CONDITIONING, Conditioning
from pipeline.generation.constraints import RequiredTokensProcessor
from pipeline.generation.models import LoadedModel
from pipeline.generation.restricted_head import head_parameters, restricted_output
from pipeline.generation.runner import BatchedBackend
from pipeline.generation.tokens import HubTokenizerMethods

if TYPE_CHECKING:
    from transformers import LogitsProcessorList


class TorchBackend(HubTokenizerMethods, BatchedBackend):
    """A Backend on a transformers seq2seq model (pipeline.generation.models loads it)."""

    name = "torch"
    capabilities = BackendCapabilities(forces_required_tokens=True)  # a logits processor

    def __init__(
        self,
        loaded: LoadedModel,
        *,
        max_batch_tokens: int,
        max_batch_items: int,
        adapt_to_memory: bool = False,
        search_loop: str = "id2en",
        quantize: str = "none",
        shortlist: VocabularyShortlist | None = None,
        conditioning: Conditioning = NO_CONDITIONING,
    ):
        super().__init__(max_batch_tokens=max_batch_tokens, max_batch_items=max_batch_items)
        self.loaded = loaded
        self.tokenizer = loaded.tokenizer
        self.conditioning = conditioning
        conditioning.apply(self.tokenizer)
        self.generation_defaults = dict(loaded.generation_defaults)
        self.generation_defaults |= conditioning.generation_defaults()
        self.max_input_tokens = loaded.max_input_tokens
        self.search_loop = search_loop
        self.quantize = quantize
        self.shortlist = shortlist
        # Tokens the search may need whatever the source: end, unknown, and the start token
        # that CTranslate2's vocabulary map always adds too (both backends then score the
        # same candidates; opus-mt has no <s>).
        tok = loaded.tokenizer
        self._always = {t for t in (tok.eos_token, tok.unk_token, tok.bos_token) if t}
        if conditioning.forced_bos_token_id is not None:  # the target language token
            self._always |= set(self.pieces([conditioning.forced_bos_token_id]))
        self._head_parameters: tuple[Any, Any] | None = None
        # On CUDA, shrink the budget to what free memory holds (see MemoryBudget).
        self.memory_budget: MemoryBudget | None = None
        if adapt_to_memory and getattr(loaded.device, "type", "cpu") == "cuda":
            self.memory_budget = MemoryBudget(max_batch_tokens, _prior_bytes(loaded))

    @property
    def backend_id(self) -> str:
        dtype = str(self.loaded.dtype).replace("torch.", "")
        suffix = f"/shortlist-{self.shortlist.digest}" if self.shortlist is not None else ""
        languages = f"/{self.conditioning.key}" if self.conditioning.key else ""
        return f"torch/{dtype}/{self.quantize}{languages}{suffix}"

    def describe(self) -> dict[str, Any]:
        return self.loaded.describe() | {"backend": self.backend_id}

    def batches(self, lengths: list[int], beams: int) -> Iterator[list[int]]:
        """Token-budget batches; with a memory budget, each is sized when it is due."""
        if self.memory_budget is None:
            yield from super().batches(lengths, beams)
            return
        order, start = longest_first(lengths), 0
        while start < len(order):
            tokens = min(self.max_batch_tokens, self.memory_budget.budget(_free_cuda_bytes()))
            end = next_batch_end(
                order, lengths, start, max(1, tokens // beams), self.max_batch_items
            )
            batch = list(order[start:end])
            before = _cuda_peak_reset()
            yield batch  # the caller generates it before asking for the next one
            peak = _cuda_peak() - before
            padded = max(lengths[i] for i in batch) * len(batch) * beams
            self.memory_budget.observe(padded, peak)
            start = end

    def free_memory(self) -> None:
        import torch

        if torch.cuda.is_available():
            torch.cuda.empty_cache()

    def generate_batch(
        self,
        batch: list[Sequence[int]],
        settings: dict[str, Any],
        required: list[RequiredTokens] | None = None,
    ) -> list[Generated]:
        if self.shortlist is None:
            return self._generate(batch, settings, required)
        import torch

        model = self.loaded.model
        sources = [self.pieces(ids) for ids in batch]
        pieces = self.shortlist.candidates(sources) | self._always
        ids = sorted({i for i in self.piece_ids(sorted(pieces)) if i is not None})
        self.shortlist.sizes.append(len(ids))
        index = torch.tensor(ids, dtype=torch.long, device=self.loaded.device)
        if self._head_parameters is None:
            self._head_parameters = head_parameters(model)
        with restricted_output(model, index, self._head_parameters):
            return self._generate(batch, settings, required)

    def _generate(
        self,
        batch: list[Sequence[int]],
        settings: dict[str, Any],
        required: list[RequiredTokens] | None,
    ) -> list[Generated]:
        import torch

        loaded, tok = self.loaded, self.tokenizer
        padded = tok.pad({"input_ids": [list(x) for x in batch]}, return_tensors="pt")
        on_gpu = loaded.device.type == "cuda"
        inputs = {
            k: (
                v.pin_memory().to(loaded.device, non_blocking=True)
                if on_gpu
                else v.to(loaded.device)
            )
            for k, v in padded.items()
        }
        call = dict(settings)
        if required is not None:
            call["logits_processor"] = self._required_processor(required, settings)
        if self.search_loop == "id2en":
            from pipeline.generation.beam_search import lean_beam_search

            call |= {"custom_generate": lean_beam_search, "return_scores": True}
        with torch.inference_mode():
            output = loaded.model.generate(**inputs, **call)
        # id2en's loop returns (sequences, search scores); transformers' loop sequences only.
        output, search_scores = output if isinstance(output, tuple) else (output, None)
        sequences = output.cpu() if on_gpu else output
        texts = self.decode_outputs(sequences.tolist())
        pad = loaded.model.generation_config.pad_token_id
        outputs = [
            _describe_output(seq, text, settings, pad)
            for seq, text in zip(sequences, texts, strict=True)
        ]
        if search_scores is not None:
            penalty = float(settings.get("length_penalty", 1.0))
            for out, raw in zip(outputs, search_scores.tolist(), strict=True):
                out.score = mean_log_prob(raw, out.output_tokens, penalty)
        else:
            forced = settings.get("forced_eos_token_id") is not None
            tokens = [out.output_tokens for out in outputs]
            # A cut output's end token was forced: the search gave it log-probability 0.
            free = [
                n - int(forced and out.hit_length_limit)
                for n, out in zip(tokens, outputs, strict=True)
            ]
            forced_first = settings.get("forced_bos_token_id") is not None
            scores = self._rescore(inputs, output, free, _static_bans(settings), forced_first)
            for out, total, n in zip(outputs, scores, tokens, strict=True):
                out.score = total / max(1, n)
        return outputs

    def _required_processor(
        self, rows: list[RequiredTokens], settings: dict[str, Any]
    ) -> LogitsProcessorList:
        """Forces each row's required token sequences (glossary terms, URLs) into its output.
        id2en's loop does not mirror it, so transformers' loop runs these batches."""
        from transformers import LogitsProcessorList

        config = self.loaded.model.generation_config
        if settings.get("max_new_tokens") is not None:
            budget = int(settings["max_new_tokens"])
        else:
            budget = int(settings.get("max_length") or config.max_length or 20) - 1
        eos = settings.get("eos_token_id", config.eos_token_id)
        eos_ids = [eos] if isinstance(eos, int) else list(eos or [])
        processor = RequiredTokensProcessor(
            rows,
            num_beams=int(settings.get("num_beams") or 1),
            prompt_length=1,  # the decoder start token
            max_new_tokens=budget,
            eos_token_ids=eos_ids,
        )
        return LogitsProcessorList([processor])

    def _rescore(
        self,
        inputs: dict[str, Any],
        sequences: Any,
        tokens: list[int],
        banned: list[int],
        forced_first: bool = False,
    ) -> list[float]:
        """Summed log-probability of each output's first `tokens` tokens by one teacher-forced
        pass, for outputs of transformers' own loop (which keeps no scores unless every
        step's are stored). transformers' search scores are log-softmax values that
        processors then edit: bans (bad words, n-gram blocks, minimum length) touch only
        tokens the output does not hold, so this equals the search's own score, except under
        repetition_penalty, and under renormalize_logits where a ban moves probability to
        the other tokens: `banned` (the tokens banned at every step) are left out of the
        softmax then, as the search left them out (Marian's <pad>). A `forced_first` token
        (forced_bos_token_id: NLLB's target language) had log-probability 0 in the search,
        whatever the model gives it, so it counts 0 here too."""
        import torch

        model = self.loaded.model
        scores: list[float] = []
        step = 8  # rows per pass: bounds the (rows, length, vocabulary) log-probabilities
        with torch.inference_mode():
            for start in range(0, sequences.shape[0], step):
                rows = slice(start, start + step)
                seq = sequences[rows]
                logits = model(
                    input_ids=inputs["input_ids"][rows],
                    attention_mask=inputs["attention_mask"][rows],
                    decoder_input_ids=seq[:, :-1],
                ).logits.float()
                if banned:
                    logits[..., banned] = float("-inf")
                picked = logits.log_softmax(-1).gather(-1, seq[:, 1:, None])[..., 0]
                if forced_first:
                    picked[:, 0] = 0.0
                counts = torch.tensor(tokens[rows], device=picked.device)
                mask = torch.arange(picked.shape[1], device=picked.device)[None] < counts[:, None]
                sums = (picked.masked_fill(~mask, 0.0)).sum(-1)
                scores += [float(s) for s in sums.tolist()]
        return scores


def _static_bans(settings: dict[str, Any]) -> list[int]:
    """Tokens banned at every step whose probability renormalize_logits hands to the rest:
    single-token bad_words_ids and suppress_tokens (none without renormalize_logits)."""
    if not settings.get("renormalize_logits"):
        return []
    single = [ids[0] for ids in settings.get("bad_words_ids") or [] if len(ids) == 1]
    return sorted({*single, *(settings.get("suppress_tokens") or [])})


def _describe_output(sequence: Any, text: str, gen: dict[str, Any], pad: int | None) -> Generated:
    tokens = [int(t) for t in sequence]
    while len(tokens) > 1 and tokens[-1] == pad:  # batch padding after an early end
        tokens.pop()
    # Length is the only stop besides end-of-sequence, and forced_eos puts an EOS on a cut
    # output too, so an output that reached the limit is the honest signal of truncation.
    new_tokens = len(tokens) - 1  # the first token is the decoder start
    if gen.get("max_new_tokens") is not None:
        hit = new_tokens >= int(gen["max_new_tokens"])
    else:
        hit = gen.get("max_length") is not None and len(tokens) >= int(gen["max_length"])
    return Generated(text=text.strip(), output_tokens=new_tokens, hit_length_limit=hit)


def _prior_bytes(loaded: LoadedModel) -> float:
    config = loaded.model.config
    element = loaded.dtype.itemsize if hasattr(loaded.dtype, "itemsize") else 4
    return prior_bytes_per_token(
        layers=int(getattr(config, "decoder_layers", 0) or getattr(config, "num_layers", 12)),
        d_model=int(getattr(config, "d_model", 0) or getattr(config, "hidden_size", 1024)),
        ffn=int(getattr(config, "decoder_ffn_dim", None) or 4096),
        vocab=int(getattr(config, "vocab_size", 50000)),
        dtype_bytes=int(element),
    )


def _free_cuda_bytes() -> int:
    """Free device memory plus what torch holds cached but unused (it can reuse that)."""
    import torch

    free, _ = torch.cuda.mem_get_info()
    return int(free + torch.cuda.memory_reserved() - torch.cuda.memory_allocated())


def _cuda_peak_reset() -> int:
    import torch

    torch.cuda.reset_peak_memory_stats()
    return int(torch.cuda.memory_allocated())


def _cuda_peak() -> int:
    import torch

    return int(torch.cuda.max_memory_allocated())
