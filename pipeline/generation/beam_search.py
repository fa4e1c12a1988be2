"""A leaner beam-search loop, plugged into transformers' generate() as `custom_generate`.

transformers' own loop makes many passes over the full (beams x vocabulary) score matrix
at every step: a float copy, log_softmax, each logits processor's clone/where/add, a second
log_softmax when the model asks for renormalised scores, then the running-score add, and it
reorders the cross-attention cache, which is the same for every beam of a sentence. For
opus-mt's 54,796-token vocabulary those passes cost a third of CPU decoding time.

It also concatenates the whole self-attention cache with every new token and allocates a
reordered copy of it at every step, and each step's logits land in a fresh tensor.

This loop keeps transformers' search exactly (the same candidates per step, the same
finished-hypothesis bookkeeping, length penalty and early stopping, ported from
`GenerationMixin._beam_search`) and changes only how the work is done:

- only each beam's top 2*beams tokens can enter the top 2*beams of its sentence, so the
  log-probability (logit - logsumexp) is computed for those candidates alone;
- the processors Marian and BART use are applied as column bans on the logits (bad words,
  minimum length, no_repeat_ngram_size: the n-grams of each row whose first n-1 tokens
  match its last n-1, found with one tensor comparison rather than a Python dict per row)
  or as a forced first (bos) or last (eos) token; `repetition_penalty` scales the
  log-probabilities of the row's tokens as transformers does (the buffer is normalised
  first, only when a penalty is set); `renormalize_logits` becomes "logsumexp over the
  allowed tokens", which is what renormalising means;
- logits go into buffers reused across steps; with a vocabulary shortlist, only the
  listed columns are computed;
- the self-attention cache appends in place and reorders into a spare buffer
  (pipeline.kv_cache); the cross-attention cache is never reordered, and it is computed
  once per source sentence rather than once per beam (`_cross_attention_once`).

Anything else (sampling, other processors or stopping criteria, returned scores) runs
transformers' own `_beam_search` unchanged, so results never depend on this module being
clever. Beam outputs equal transformers' up to floating-point rounding in the scores.
"""

from __future__ import annotations

import functools
import logging
import math
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ScorePlan:
    """What the logits processors and stopping criteria amount to, in plain terms."""

    banned: tuple[int, ...]  # always -inf (bad words of length one)
    eos: tuple[int, ...]  # end-of-sequence ids
    min_length: int  # ban eos while the decoder sequence is shorter than this
    forced: dict[int, int]  # decoder length -> the only token allowed next (bos / eos)
    renormalize: bool  # log-probs over the allowed tokens only
    max_length: int
    no_repeat_ngram: int = 0  # ban a token that would repeat an n-gram of the sequence
    repetition_penalty: float = 1.0  # log-probs of tokens already in the sequence x this


def plan_scoring(  # noqa: C901 - one branch per mirrored processor
    logits_processor: Any, stopping_criteria: Any, generation_config: Any
) -> ScorePlan | None:
    """The plan, or None when a processor or criterion is one this loop does not mirror."""
    from transformers.generation import logits_process as lp
    from transformers.generation import stopping_criteria as sc

    eos_tensor = getattr(generation_config, "_eos_token_tensor", None)
    eos = tuple(int(t) for t in eos_tensor.reshape(-1).tolist()) if eos_tensor is not None else ()
    banned: set[int] = set()
    min_length, forced, renormalize = 0, {}, False
    no_repeat_ngram, repetition_penalty = 0, 1.0
    processors = list(logits_processor or [])
    for processor in processors:
        if renormalize:  # normalisation must come last, as transformers puts it
            return None
        kind = type(processor)
        if kind is lp.MinLengthLogitsProcessor:
            min_length = max(min_length, int(processor.min_length))
        elif kind is lp.MinNewTokensLengthLogitsProcessor:
            needed = int(processor.prompt_length_to_skip) + int(processor.min_new_tokens)
            min_length = max(min_length, needed)
        elif kind in (lp.NoBadWordsLogitsProcessor, lp.SequenceBiasLogitsProcessor):
            bias = getattr(processor, "sequence_bias", None)
            if not isinstance(bias, dict):
                return None
            for sequence, value in bias.items():
                if len(sequence) != 1 or value != float("-inf"):
                    return None
                banned.add(int(sequence[0]))
        elif kind is lp.ForcedBOSTokenLogitsProcessor:
            forced[1] = int(processor.bos_token_id)
        elif kind is lp.ForcedEOSTokenLogitsProcessor:
            if processor.eos_token_id.numel() != 1:
                return None
            forced[int(processor.max_length) - 1] = int(processor.eos_token_id.reshape(-1)[0])
        elif kind is lp.LogitNormalization:
            renormalize = True
        elif kind is lp.NoRepeatNGramLogitsProcessor:
            no_repeat_ngram = int(processor.ngram_size)
        elif kind is lp.RepetitionPenaltyLogitsProcessor:
            # A decoder attention mask (left-padded decoder prompts) is not mirrored.
            if processor.prompt_ignore_length not in (None, 0):
                return None
            repetition_penalty = float(processor.penalty)
        else:
            logger.debug("beam search: %s not mirrored; using transformers' loop", kind.__name__)
            return None
    max_length = None
    for criterion in list(stopping_criteria or []):
        if type(criterion) is sc.MaxLengthCriteria:
            max_length = int(criterion.max_length)
        elif type(criterion) is not sc.EosTokenCriteria:
            return None
    if max_length is None or not eos:
        return None
    return ScorePlan(
        banned=tuple(sorted(banned)),
        eos=eos,
        min_length=min_length,
        forced=forced,
        renormalize=renormalize,
        max_length=max_length,
        no_repeat_ngram=no_repeat_ngram,
        repetition_penalty=repetition_penalty,
    )


def lean_beam_search(
    model: Any,
    input_ids: Any,
    logits_processor: Any,
    stopping_criteria: Any,
    generation_config: Any,
    synced_gpus: bool = False,
    return_scores: bool = False,
    **model_kwargs: Any,
) -> Any:
    """`custom_generate` for generate(): this loop where it applies, transformers' otherwise.

    With return_scores=True this loop returns (sequences, scores): each output's search
    score, sum(log p) / tokens ** length_penalty as transformers' `sequences_scores`.
    transformers' loop, when it runs instead, returns the sequences alone."""
    plan = None
    if _plain_beam_search(model, generation_config, synced_gpus, model_kwargs):
        plan = plan_scoring(logits_processor, stopping_criteria, generation_config)
    if plan is None:
        from transformers.generation.utils import GENERATION_MODES_MAPPING

        mode = generation_config.get_generation_mode()
        method = getattr(type(model), GENERATION_MODES_MAPPING[mode])
        return method(
            model,
            input_ids,
            logits_processor=logits_processor,
            stopping_criteria=stopping_criteria,
            generation_config=generation_config,
            synced_gpus=synced_gpus,
            **model_kwargs,
        )
    sequences, scores = _search(model, input_ids, plan, generation_config, model_kwargs)
    return (sequences, scores) if return_scores else sequences


def _plain_beam_search(
    model: Any, generation_config: Any, synced_gpus: bool, model_kwargs: dict[str, Any]
) -> bool:
    config = generation_config
    return (
        int(config.num_beams or 1) > 1
        and not config.do_sample
        and int(config.num_return_sequences or 1) == 1
        and not config.return_dict_in_generate
        and not synced_gpus
        and not config.low_memory
        and model_kwargs.get("use_cache", True)
        and _model_fits(type(model))  # type: ignore[arg-type]  # mypy: type[Any] is hashable
        and model.base_model is not model  # a head over a base model, as Marian and BART
    )


@functools.cache
def _model_fits(model_class: type[Any]) -> bool:
    """The transformers internals this loop calls are there, with the arguments it passes
    (checked once per model class): a transformers release that changes them gets its own
    loop, not a crash mid-run."""
    import inspect

    try:
        from transformers.generation.utils import ALL_CACHE_NAMES  # noqa: F401
    except ImportError:
        return False
    prepare = getattr(model_class, "prepare_inputs_for_generation", None)
    if prepare is None or not all(
        callable(getattr(model_class, name, None))
        for name in ("_prefill", "_update_model_kwargs_for_generation", "get_output_embeddings")
    ):
        return False
    # transformers 5.0-5.2's _prefill takes no is_first_iteration (the call would raise).
    if "is_first_iteration" not in inspect.signature(model_class._prefill).parameters:
        return False
    parameters = inspect.signature(prepare).parameters
    return "next_sequence_length" in parameters or any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()
    )


def _cache_key(model_kwargs: dict[str, Any]) -> str | None:
    from transformers.generation.utils import ALL_CACHE_NAMES

    return next((key for key in ALL_CACHE_NAMES if model_kwargs.get(key) is not None), None)


def _reorder(model: Any, model_kwargs: dict[str, Any], beam_idx: Any) -> None:
    """Reorder the decoder's self-attention cache; the cross-attention cache holds the same
    rows for every beam of a sentence (beams move only within their sentence), so it stays."""
    key = _cache_key(model_kwargs)
    if key is None:
        return
    cache = model_kwargs[key]
    if hasattr(model, "_reorder_cache"):
        model_kwargs[key] = model._reorder_cache(cache, beam_idx)
    elif hasattr(cache, "self_attention_cache") and hasattr(cache, "cross_attention_cache"):
        cache.self_attention_cache.reorder_cache(beam_idx)
    else:
        cache.reorder_cache(beam_idx)


class _Scorer:
    """Runs a decoder step and scores its candidates in buffers reused across steps: a fresh
    (beams x vocabulary) tensor per step costs more in page faults than the arithmetic.

    With a vocabulary shortlist in place (a RestrictedHead scores only some token ids and
    puts -inf elsewhere), only those columns are computed and scored: the same numbers,
    without the -inf columns.
    """

    def __init__(self, model: Any, plan: ScorePlan, first_logits: Any, keep: int):
        import torch

        self.model, self.plan = model, plan
        self.base = model.base_model
        self.head = model.get_output_embeddings()
        swapped = vars(self.head).get("forward")  # a shortlist or other stand-in forward
        self.restricted = swapped if _is_restricted_head(swapped, keep) else None
        self._positions: Any = None  # token id -> shortlist column, built when needed
        bias = getattr(model, "final_logits_bias", None)
        device = first_logits.device
        if self.restricted is not None:
            self.columns = self.restricted.ids.to(device)
            self.bias = bias[:, self.columns] if bias is not None else None
            position = {int(token): at for at, token in enumerate(self.columns.tolist())}
            self.banned_at = [position[t] for t in plan.banned if t in position]
            self.eos_at = [position[t] for t in plan.eos if t in position]
        else:
            self.columns, self.bias = None, bias
            vocab = first_logits.shape[-1]
            self.banned_at = [t for t in plan.banned if t < vocab]
            self.eos_at = [t for t in plan.eos if t < vocab]
        width = first_logits.shape[-1] if self.columns is None else self.columns.numel()
        shape = (first_logits.shape[0], width)
        self.logits = torch.empty(shape, dtype=torch.float32, device=device)
        self.scratch = torch.empty_like(self.logits)
        # A plain Linear head can write straight into the buffer; a swapped-in forward
        # (quantized, shortlist) is called as it is.
        self.plain_head = (
            type(self.head) is torch.nn.Linear and self.head.bias is None and swapped is None
        )

    def step(self, flat_sequences: Any, model_kwargs: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        """One decoder step on the last tokens: logits into the buffer, kwargs updated."""
        model = self.model
        inputs = model.prepare_inputs_for_generation(
            flat_sequences, next_sequence_length=1, **model_kwargs
        )
        for head_only in ("labels", "logits_to_keep", "return_dict"):
            inputs.pop(head_only, None)
        outputs = self.base(**inputs, return_dict=True)
        model_kwargs = model._update_model_kwargs_for_generation(
            outputs, model_kwargs, is_encoder_decoder=model.config.is_encoder_decoder
        )
        hidden = outputs.last_hidden_state[:, -1, :]
        del outputs
        self._head(hidden)
        return self.logits, model_kwargs

    def _head(self, hidden: Any) -> None:
        """Logits as the model's forward computes them (head, then final_logits_bias, in
        the model's dtype), into the float32 buffer; in float32, with no temporary."""
        import torch

        if hidden.dtype != torch.float32:  # fp16/bf16 on GPU: the model's own arithmetic
            if self.restricted is not None:
                logits = torch.matmul(hidden, self.restricted.weight.to(hidden.dtype).t())
                if self.restricted.bias is not None:
                    logits = logits + self.restricted.bias.to(hidden.dtype)
            else:
                logits = self.head(hidden)
            if self.bias is not None:
                logits = logits + self.bias
            self.logits.copy_(logits)
            return
        if self.restricted is not None:
            torch.matmul(hidden, self.restricted.weight.t(), out=self.logits)
            if self.restricted.bias is not None:
                self.logits.add_(self.restricted.bias)
        elif self.plain_head:
            torch.matmul(hidden, self.head.weight.t(), out=self.logits)
        else:
            self.logits.copy_(self.head(hidden))
        if self.bias is not None:
            self.logits.add_(self.bias)

    def candidates(self, logits: Any, cur_len: int, keep: int, sequences: Any) -> tuple[Any, Any]:
        """Each row's `keep` best tokens and their log-probabilities, as transformers'
        processors and (re)normalisation would score them; `sequences` are the rows'
        decoder tokens so far (rows x cur_len)."""
        import torch

        plan, rows = self.plan, logits.shape[0]
        if cur_len in plan.forced:
            # One token allowed, with log-probability 0 (the processors set it outright).
            ids = torch.full(
                (rows, keep), plan.forced[cur_len], dtype=torch.long, device=logits.device
            )
            scores = torch.full((rows, keep), -math.inf, device=logits.device)
            scores[:, 0] = 0.0
            return scores, ids
        if logits.data_ptr() != self.logits.data_ptr():
            # The first step's logits come from generate's prefill, over the full vocabulary.
            if self.columns is None:
                self.logits.copy_(logits)
            else:
                torch.index_select(logits, 1, self.columns, out=self.logits)
            logits = self.logits
        normaliser = None if plan.renormalize else self._logsumexp(logits)
        if plan.repetition_penalty != 1.0:
            # transformers penalises log-probabilities, not logits: normalise first.
            logits.sub_(self._logsumexp(logits))
            normaliser = None if plan.renormalize else 0.0
            self._penalise_repeats(logits, sequences)
        if self.banned_at:
            logits[:, self.banned_at] = -math.inf
        if cur_len < plan.min_length and self.eos_at:
            logits[:, self.eos_at] = -math.inf
        if plan.no_repeat_ngram and cur_len >= plan.no_repeat_ngram:
            self._ban_repeated_ngrams(logits, sequences)
        if normaliser is None:
            normaliser = self._logsumexp(logits)
        top_logits, at = torch.topk(logits, k=keep, dim=-1)
        ids = at if self.columns is None else self.columns[at]
        return top_logits - normaliser, ids

    def _column_of(self, tokens: Any) -> Any:
        """Token ids -> buffer columns; -1 where the buffer has no column for the token."""
        import torch

        if self.columns is None:
            width = self.logits.shape[-1]
            return torch.where(tokens < width, tokens, torch.full_like(tokens, -1))
        if self._positions is None:
            size = max(int(self.columns.max()), int(tokens.max())) + 1
            positions = torch.full((size,), -1, dtype=torch.long, device=tokens.device)
            positions[self.columns] = torch.arange(self.columns.numel(), device=tokens.device)
            self._positions = positions
        if int(tokens.max()) >= self._positions.numel():
            grown = torch.full((int(tokens.max()) + 1,), -1, dtype=torch.long, device=tokens.device)
            grown[: self._positions.numel()] = self._positions
            self._positions = grown
        return self._positions[tokens]

    def _penalise_repeats(self, log_probs: Any, sequences: Any) -> None:
        """RepetitionPenaltyLogitsProcessor: each token already in a row's sequence has its
        log-probability multiplied by the penalty (divided, were it positive)."""
        import torch

        penalty = self.plan.repetition_penalty
        columns = self._column_of(sequences)
        rows = torch.arange(sequences.shape[0], device=sequences.device)[:, None].expand_as(columns)
        present = columns >= 0
        rows, columns = rows[present], columns[present]
        score = log_probs[rows, columns]
        log_probs[rows, columns] = torch.where(score < 0, score * penalty, score / penalty)

    def _ban_repeated_ngrams(self, logits: Any, sequences: Any) -> None:
        """NoRepeatNGramLogitsProcessor: a token that would complete an n-gram already in the
        row's sequence is banned; the n-grams whose first n-1 tokens match the row's last
        n-1 tokens name those tokens."""
        n = self.plan.no_repeat_ngram
        cur_len = sequences.shape[1]
        prefix = sequences[:, cur_len + 1 - n :]
        windows = sequences.unfold(1, n, 1)
        matches = (windows[..., :-1] == prefix.unsqueeze(1)).all(dim=-1)
        rows, at = matches.nonzero(as_tuple=True)
        if rows.numel() == 0:
            return
        columns = self._column_of(windows[rows, at, -1])
        present = columns >= 0
        logits[rows[present], columns[present]] = -math.inf

    def _logsumexp(self, logits: Any) -> Any:
        import torch

        peak = logits.amax(dim=-1, keepdim=True)
        # A row of -inf only (cannot happen with a real head) would give nan; keep it -inf.
        peak = torch.where(torch.isfinite(peak), peak, torch.zeros_like(peak))
        torch.sub(logits, peak, out=self.scratch)
        return self.scratch.exp_().sum(dim=-1, keepdim=True).log_() + peak


def _is_restricted_head(forward: Any, keep: int) -> bool:
    """A shortlist head with enough columns for the search to pick from."""
    from pipeline.generation.restricted_head import RestrictedHead

    return isinstance(forward, RestrictedHead) and forward.ids.numel() >= keep


def _search(
    model: Any, input_ids: Any, plan: ScorePlan, config: Any, model_kwargs: dict[str, Any]
) -> tuple[Any, Any]:
    """transformers' `_beam_search`, step for step, with the scoring above: the sequences
    and the best hypothesis' score per sentence."""
    import torch

    num_beams = int(config.num_beams)
    length_penalty = float(config.length_penalty)
    early_stopping = config.early_stopping
    max_length = plan.max_length
    pad = config._pad_token_tensor
    device = input_ids.device
    batch_size = input_ids.shape[0] // num_beams
    cur_len = decoder_prompt_len = input_ids.shape[1]
    beams_to_keep = max(2, 1 + len(plan.eos)) * num_beams
    top_num_beam_mask = torch.cat(
        (
            torch.ones(num_beams, dtype=torch.bool),
            torch.zeros(beams_to_keep - num_beams, dtype=torch.bool),
        )
    ).to(device)
    eos = torch.tensor(plan.eos, device=device)

    fill = int(pad) if pad is not None else plan.eos[0]
    running_sequences = torch.full(
        (batch_size, num_beams, max_length), fill, dtype=torch.int64, device=device
    )
    running_sequences[:, :, :cur_len] = input_ids.view(batch_size, num_beams, -1)
    sequences = running_sequences.clone()
    running_beam_scores = torch.zeros((batch_size, num_beams), dtype=torch.float, device=device)
    running_beam_scores[:, 1:] = -1e9
    beam_scores = torch.full((batch_size, num_beams), -1e9, dtype=torch.float, device=device)
    is_sent_finished = torch.zeros((batch_size, num_beams), dtype=torch.bool, device=device)
    improvable = torch.ones((batch_size, 1), dtype=torch.bool, device=device)
    running_beam_indices = torch.full(
        (batch_size, num_beams, max_length - cur_len), -1, dtype=torch.int32, device=device
    )
    beam_indices = running_beam_indices.clone()
    batch_offset = torch.arange(batch_size, device=device).view(-1, 1) * num_beams

    _grow_in_place(model_kwargs)
    _cross_attention_once(model, model_kwargs, num_beams)
    outputs = model._prefill(input_ids, config, model_kwargs, is_first_iteration=True)
    model_kwargs = model._update_model_kwargs_for_generation(
        outputs, model_kwargs, is_encoder_decoder=model.config.is_encoder_decoder
    )
    logits = outputs.logits[:, -1, :]
    del outputs
    scorer = _Scorer(model, plan, logits, beams_to_keep)
    flat = input_ids  # each row's decoder tokens so far
    while True:
        # c. top-k continuations over all beams of each sentence
        candidate_scores, candidate_ids = scorer.candidates(logits, cur_len, beams_to_keep, flat)
        candidate_scores = candidate_scores.view(batch_size, num_beams, beams_to_keep)
        candidate_scores = candidate_scores + running_beam_scores[:, :, None]
        topk_log_probs, flat_index = torch.topk(
            candidate_scores.view(batch_size, -1), k=beams_to_keep
        )
        source_beam = flat_index // beams_to_keep
        topk_ids = candidate_ids.view(batch_size, -1).gather(1, flat_index)
        topk_running_sequences = _gather(running_sequences, source_beam)
        topk_running_beam_indices = _gather(running_beam_indices, source_beam)
        topk_running_sequences[:, :, cur_len] = topk_ids
        topk_running_beam_indices[:, :, cur_len - decoder_prompt_len] = (
            source_beam + batch_offset
        ).to(torch.int32)

        # d. which continuations finished (eos, or the length limit)
        hits = torch.isin(topk_ids, eos) | (cur_len + 1 >= max_length)

        # e. the best unfinished continuations run on
        running_log_probs = topk_log_probs + hits.to(torch.float32) * -1.0e9
        next_indices = torch.topk(running_log_probs, k=num_beams)[1]
        running_sequences = _gather(topk_running_sequences, next_indices)
        running_beam_scores = _gather(running_log_probs, next_indices)
        running_beam_indices = _gather(topk_running_beam_indices, next_indices)

        # f. finished hypotheses that beat the kept ones replace them
        just_finished = hits & top_num_beam_mask[None, :]
        finished_scores = topk_log_probs / ((cur_len + 1 - decoder_prompt_len) ** length_penalty)
        full = torch.all(is_sent_finished, dim=-1, keepdim=True) & (early_stopping is True)
        finished_scores = finished_scores + full.to(torch.float32) * -1.0e9
        finished_scores = finished_scores + (~improvable).to(torch.float32) * -1.0e9
        finished_scores = finished_scores + (~just_finished) * -1.0e9
        merged_scores = torch.cat((beam_scores, finished_scores), dim=1)
        keep = torch.topk(merged_scores, k=num_beams)[1]
        sequences = _gather(torch.cat((sequences, topk_running_sequences), dim=1), keep)
        beam_scores = _gather(merged_scores, keep)
        beam_indices = _gather(torch.cat((beam_indices, topk_running_beam_indices), dim=1), keep)
        is_sent_finished = _gather(torch.cat((is_sent_finished, just_finished), dim=1), keep)

        # g. next step's cache, and whether any sentence can still improve
        beam_idx = running_beam_indices[..., cur_len - decoder_prompt_len].reshape(-1)
        _reorder(model, model_kwargs, beam_idx)
        cur_len += 1
        improvable = _still_improvable(
            improvable,
            running_beam_scores,
            beam_scores,
            is_sent_finished,
            cur_len,
            max_length,
            decoder_prompt_len,
            early_stopping,
            length_penalty,
        )
        exists_open_beam = ~(torch.all(is_sent_finished) & (early_stopping is True))
        if not bool(torch.any(improvable) & exists_open_beam & ~torch.all(hits)):
            break
        flat = running_sequences[:, :, :cur_len].reshape(batch_size * num_beams, -1)
        logits, model_kwargs = scorer.step(flat, model_kwargs)

    sequences = sequences[:, 0, :]
    generated = int(((beam_indices[:, 0, :] + 1).bool()).sum(dim=1).max())
    return sequences[:, : decoder_prompt_len + generated], beam_scores[:, 0]


def _grow_in_place(model_kwargs: dict[str, Any]) -> None:
    """Give a fresh decoder self-attention cache layers that append in place (GrowingLayer)."""
    try:
        from transformers.cache_utils import DynamicCache, DynamicLayer
    except ImportError:  # another cache design: keep transformers' own
        return

    from pipeline.generation.kv_cache import growing_layer_class

    key = _cache_key(model_kwargs)
    cache = getattr(model_kwargs.get(key), "self_attention_cache", None) if key else None
    if type(cache) is not DynamicCache or cache.get_seq_length() != 0:
        return
    if all(type(layer) is DynamicLayer for layer in cache.layers):
        cache.layers = [growing_layer_class()() for _ in cache.layers]
    if getattr(cache, "layer_class_to_replicate", None) is DynamicLayer:
        cache.layer_class_to_replicate = growing_layer_class()


def _cross_attention_once(model: Any, model_kwargs: dict[str, Any], num_beams: int) -> None:
    """Fill the cross-attention cache from one encoder row per sentence, copied to its beams.

    generate() hands the loop the encoder output repeated for every beam, and the first
    decoder step projects each copy to keys and values: `num_beams` times the same work
    (for distilbart at beam 4, 6 layers x 2 projections of 1,024 x 1,024 per source token,
    a quarter of a window's encoder cost). Here each layer projects a sentence once and the
    result is repeated; the layer then finds its cache filled and reuses it, as it does on
    every later step. Models of another shape keep transformers' first step.
    """
    from transformers.cache_utils import EncoderDecoderCache

    key = _cache_key(model_kwargs)
    cache = model_kwargs.get(key) if key else None
    encoder = model_kwargs.get("encoder_outputs")
    layers = getattr(getattr(model.base_model, "decoder", None), "layers", None)
    if (
        num_beams < 2
        or type(cache) is not EncoderDecoderCache
        or any(cache.is_updated.values())
        or cache.cross_attention_cache.get_seq_length() != 0
        or encoder is None
        or not layers
        or not all(_projects_keys_values(getattr(layer, "encoder_attn", None)) for layer in layers)
    ):
        return
    hidden = encoder[0] if isinstance(encoder, tuple) else encoder.last_hidden_state
    rows = hidden.shape[0]
    if rows % num_beams:
        return
    once = hidden[::num_beams]  # generate() repeats each sentence's rows num_beams times
    for index, layer in enumerate(layers):
        attention = layer.encoder_attn
        shape = (*once.shape[:-1], -1, attention.head_dim)
        keys = attention.k_proj(once).view(shape).transpose(1, 2)
        values = attention.v_proj(once).view(shape).transpose(1, 2)
        cache.cross_attention_cache.update(
            keys.repeat_interleave(num_beams, dim=0),
            values.repeat_interleave(num_beams, dim=0),
            attention.layer_idx if attention.layer_idx is not None else index,
        )
        cache.is_updated[attention.layer_idx if attention.layer_idx is not None else index] = True


def _projects_keys_values(attention: Any) -> bool:
    return (
        attention is not None
        and all(hasattr(attention, name) for name in ("k_proj", "v_proj", "head_dim"))
        and hasattr(attention, "layer_idx")
    )


def _gather(tensor: Any, indices: Any) -> Any:
    """Rows of `tensor` (batch, beams, ...) picked per sentence by `indices` (batch, k)."""
    while indices.dim() < tensor.dim():
        indices = indices.unsqueeze(-1)
    return tensor.gather(1, indices.expand(*indices.shape[:2], *tensor.shape[2:]))


def _still_improvable(
    improvable: Any,
    running_beam_scores: Any,
    beam_scores: Any,
    is_sent_finished: Any,
    cur_len: int,
    max_length: int,
    decoder_prompt_len: int,
    early_stopping: Any,
    length_penalty: float,
) -> Any:
    """transformers' early-stop heuristic: can a running beam still beat the worst kept one?"""
    import torch

    if early_stopping == "never" and length_penalty > 0.0:
        best_length = max_length - decoder_prompt_len
    else:
        best_length = cur_len - decoder_prompt_len
    best_running = running_beam_scores[:, :1] / (best_length**length_penalty)
    worst_finished = torch.where(
        is_sent_finished, torch.min(beam_scores, dim=1, keepdim=True)[0], -1.0e9
    )
    return improvable & torch.any(best_running > worst_finished, dim=-1, keepdim=True)
