"""A decoder self-attention cache layer that appends in place (used by pipeline.beam_search)."""

from __future__ import annotations

import functools
from typing import Any


@functools.cache
def growing_layer_class() -> type:  # noqa: C901 - a class factory; its methods count
    """GrowingLayer subclasses a transformers class, so it is built on first use."""
    from transformers.cache_utils import DynamicLayer

    class GrowingLayer(DynamicLayer):  # type: ignore[no-untyped-call]  # its __init_subclass__
        """A DynamicLayer whose keys and values live in buffers with room to spare.

        transformers' layer concatenates the whole cache with each new token and allocates a
        reordered copy at each beam step: both copy every cached position, every step. Here a
        token is written into its slot, and reordering copies into a second buffer that is
        then swapped in. `keys`/`values` stay views of the live buffer, so everything that
        reads them (lengths, masks, attention) sees what a DynamicLayer would show.
        """

        def lazy_initialization(self, key_states: Any, value_states: Any) -> None:
            super().lazy_initialization(key_states, value_states)
            self._length = 0
            self._live: tuple[Any, Any] | None = None
            self._spare: tuple[Any, Any] | None = None

        def update(self, key_states: Any, value_states: Any, *args: Any, **kwargs: Any) -> Any:
            if not self.is_initialized:
                self.lazy_initialization(key_states, value_states)
            start, end = self._length, self._length + key_states.shape[-2]
            live = self._live
            if live is None or end > live[0].shape[-2]:
                live = self._grow(key_states, value_states, end)
            keys, values = live
            keys[:, :, start:end] = key_states
            values[:, :, start:end] = value_states
            self._length = end
            self.keys, self.values = keys[:, :, :end], values[:, :, :end]
            return self.keys, self.values

        def _grow(self, key_states: Any, value_states: Any, needed: int) -> tuple[Any, Any]:
            held = self._live[0].shape[-2] if self._live is not None else 0
            capacity = max(needed, 2 * held, 32)

            def buffer(like: Any) -> Any:
                return like.new_empty((*like.shape[:2], capacity, like.shape[-1]))

            live = (buffer(key_states), buffer(value_states))
            if self._length:
                live[0][:, :, : self._length] = self.keys
                live[1][:, :, : self._length] = self.values
            self._live, self._spare = live, (buffer(key_states), buffer(value_states))
            return live

        def reorder_cache(self, beam_idx: Any) -> None:
            import torch

            if not self._length or self._live is None or self._spare is None:
                return
            n = self._length
            index = beam_idx.to(self._live[0].device)
            for source, target in zip(self._live, self._spare, strict=True):
                torch.index_select(source[:, :, :n], 0, index, out=target[:, :, :n])
            self._live, self._spare = self._spare, self._live
            self.keys, self.values = self._live[0][:, :, :n], self._live[1][:, :, :n]

        def _readopt(self) -> None:
            """After a DynamicLayer method replaced keys/values: hold them in fresh buffers."""
            keys, values = self.keys, self.values
            self._length, self._live, self._spare = 0, None, None
            if keys is not None and keys.numel():
                self.update(keys, values)

        def crop(self, tokens_to_remove: int) -> None:
            super().crop(tokens_to_remove)
            self._readopt()

        def batch_repeat_interleave(self, repeats: int) -> None:
            super().batch_repeat_interleave(repeats)
            self._readopt()

        def batch_select_indices(self, indices: Any) -> None:
            super().batch_select_indices(indices)
            self._readopt()

        def reset(self) -> None:
            super().reset()
            self._length, self._live, self._spare = 0, None, None

    return GrowingLayer
