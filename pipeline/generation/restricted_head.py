"""An output layer that scores only some vocabulary rows (a lexical shortlist's candidates).

The search and its logits processors still see full-vocabulary ids: the unlisted columns
are -inf. id2en's beam-search loop recognises a RestrictedHead and computes only its rows.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any


class RestrictedHead:
    """Stands in for a model's output layer: scores only `ids`, -inf elsewhere, so the
    search and its logits processors still see full-vocabulary ids."""

    def __init__(self, weight: Any, bias: Any, ids: Any):
        self.ids = ids
        self.vocab = weight.shape[0]
        self.weight = selected_rows(weight, ids)
        self.bias = selected_rows(bias, ids) if bias is not None else None

    def __call__(self, hidden: Any) -> Any:
        import torch

        scores = torch.matmul(hidden, self.weight.to(hidden.dtype).t())
        if self.bias is not None:
            scores = scores + self.bias.to(hidden.dtype)
        out = hidden.new_full((*hidden.shape[:-1], self.vocab), float("-inf"))
        out[..., self.ids] = scores
        return out


def head_parameters(model: Any) -> tuple[Any, Any]:
    """The output layer's weight and bias. torch's dynamic int8 Linear unpacks them on each
    call (0.3 s for opus-mt's 54,796 rows), so a generator reads them once."""

    def read(name: str) -> Any:
        value = getattr(model.get_output_embeddings(), name, None)
        return value() if callable(value) else value

    return read("weight"), read("bias")


def selected_rows(value: Any, ids: Any) -> Any:
    """Rows `ids` of a weight, in float: a quantized weight dequantizes only those rows
    (the whole 54,796-row output layer took 0.3 s per batch)."""
    import torch

    if not value.is_quantized:
        return value.index_select(0, ids)
    scheme = value.qscheme()
    rows = value.int_repr().index_select(0, ids).float()
    if scheme in (torch.per_tensor_affine, torch.per_tensor_symmetric):
        return (rows - value.q_zero_point()) * value.q_scale()
    if scheme in (torch.per_channel_affine, torch.per_channel_symmetric) and (
        value.q_per_channel_axis() == 0
    ):
        # In double, as dequantize() computes per-channel values (bit for bit the same).
        scales = value.q_per_channel_scales().index_select(0, ids)[:, None].double()
        points = value.q_per_channel_zero_points().index_select(0, ids)[:, None].double()
        return ((rows.double() - points) * scales).float()
    return value.dequantize().index_select(0, ids)


@contextlib.contextmanager
def restricted_output(model: Any, ids: Any, parameters: tuple[Any, Any]) -> Iterator[None]:
    """Swap the model's lm_head for a restricted one while one batch generates;
    `parameters` are the head's (weight, bias), read once (see head_parameters)."""
    head = model.get_output_embeddings()
    original_forward = head.forward
    restricted = RestrictedHead(*parameters, ids)
    head.forward = restricted
    try:
        yield
    finally:
        head.forward = original_forward
