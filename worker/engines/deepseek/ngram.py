"""DeepSeek-OCR's no-repeat n-gram rule for a whole batch at once, in tensor ops.

The rule (DeepSeek-OCR's `NoRepeatNGramLogitsProcessor`, per request): with the output so far
`out` of length L ≥ n, take the last n-1 tokens as the prefix; for every n-gram that starts in
`out[max(0, L - window) : L - n + 1]` and begins with that prefix, ban its last token, unless the
token is whitelisted.

Upstream applies it with a Python loop over the requests and over the window (14-22 ms a decode
step at 256 pages). Here every running request's last `window` tokens live right-aligned in
one device tensor; each step appends the newest token of each row, compares the trailing
(n-1)-gram with every earlier (n-1)-gram in one broadcast, and writes -inf with one
`scatter_reduce`. The host's per-step work is gathering each row's newest token, done with
C-level `map` calls rather than per-request Python code.

This module has no vLLM import: `logits_processor.py` binds it to vLLM's interface, and the
tests drive it with plain batch-update objects.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any, Protocol

import numpy as np
import torch
import torch.nn.functional as F

# widest window a request may ask for: the history tensor is allocated at this width
MAX_WINDOW = 1024
MAX_WHITELIST = 64
_EMPTY = -1  # history slot before the first output token
_NO_TOKEN = -1


@dataclass(frozen=True)
class NGramRule:
    ngram_size: int
    window_size: int
    whitelist: tuple[int, ...] = ()


def rule_from_args(extra_args: Mapping[str, Any] | None) -> NGramRule | None:
    """The rule a request asks for through `SamplingParams.extra_args` (the keys DeepSeek-OCR's
    own vLLM processor reads), None when it asks for none. Raises ValueError when invalid."""
    if not extra_args or extra_args.get("ngram_size") is None:
        return None
    size = extra_args["ngram_size"]
    window = extra_args.get("window_size", 100)
    whitelist = extra_args.get("whitelist_token_ids") or ()
    if not isinstance(size, int) or isinstance(size, bool) or size < 2:
        # n = 1 would mean an empty prefix; upstream's slicing makes it ban nothing
        raise ValueError(f"ngram_size must be an integer >= 2, got {size!r}")
    if not isinstance(window, int) or isinstance(window, bool) or not 1 <= window <= MAX_WINDOW:
        raise ValueError(f"window_size must be an integer in 1..{MAX_WINDOW}, got {window!r}")
    ids = tuple(sorted({int(t) for t in whitelist}))
    if len(ids) > MAX_WHITELIST:
        raise ValueError(f"whitelist_token_ids holds {len(ids)} ids; the limit is {MAX_WHITELIST}")
    return NGramRule(size, window, ids)


class BatchUpdateLike(Protocol):
    """What vLLM's `BatchUpdate` carries (see vllm/v1/sample/logits_processor/interface.py)."""

    @property
    def batch_size(self) -> int: ...
    @property
    def removed(self) -> Sequence[int]: ...
    @property
    def added(self) -> Sequence[tuple[int, Any, Any, list[int]]]: ...
    @property
    def moved(self) -> Sequence[tuple[int, int, Any]]: ...


class NoRepeatNGramBatch:
    """Per-slot n-gram state of a persistent batch plus the batched ban.

    Host arrays hold each slot's rule; they change only on batch updates, by O(changes) work,
    and reach the device in one copy per update. The device holds each slot's last
    MAX_WINDOW output tokens, right-aligned.
    """

    def __init__(self, max_rows: int, device: torch.device | str, pin_memory: bool = False) -> None:
        self.device = torch.device(device)
        self.max_rows = max_rows
        self.history = torch.full((max_rows, MAX_WINDOW), _EMPTY, dtype=torch.int32, device=self.device)
        self.outputs: list[list[int] | None] = [None] * max_rows
        self.active = np.zeros(max_rows, dtype=bool)
        self.size = np.zeros(max_rows, dtype=np.int64)
        self.window = np.zeros(max_rows, dtype=np.int64)
        self.whitelist = np.full((max_rows, MAX_WHITELIST), _EMPTY, dtype=np.int64)
        self.whitelist_len = np.zeros(max_rows, dtype=np.int64)
        self.seen = np.zeros(max_rows, dtype=np.int64)  # tokens already in `history`
        self.fresh = np.zeros(max_rows, dtype=bool)  # rebuild from the output list at next apply
        self._rows = 0
        self._dirty = True
        self._active_idx = np.zeros(0, dtype=np.int64)
        self._max_window = self._max_prefix = 0
        self._size_dev = torch.zeros(max_rows, dtype=torch.int64, device=self.device)
        self._window_dev = torch.zeros(max_rows, dtype=torch.int64, device=self.device)
        self._whitelist_dev = torch.full((max_rows, 1), _EMPTY, dtype=torch.int64, device=self.device)
        self._length_dev = torch.zeros(max_rows, dtype=torch.int64, device=self.device)
        self._active_dev = torch.zeros(max_rows, dtype=torch.bool, device=self.device)
        # double-buffered staging for the per-step upload (new tokens, lengths), so a buffer
        # is never rewritten while its asynchronous copy may still be pending
        # (layout: new tokens of the first `rows` slots, then their lengths, contiguous)
        self._staging = [
            torch.zeros(2 * max_rows, dtype=torch.int64, pin_memory=pin_memory) for _ in range(2)
        ]
        self._flip = 0

    # -- batch bookkeeping (vLLM's order: removed, added, moved) ------------------------
    def update(self, batch: BatchUpdateLike | None) -> None:
        if batch is None:
            return
        for index in batch.removed:
            self._clear(index)
        for index, params, _prompt, output in batch.added:
            self._clear(index)
            rule = rule_from_args(getattr(params, "extra_args", None))
            if rule is not None:
                self._set(index, rule, output)
        moves = list(batch.moved)
        if moves:
            order = np.arange(self.max_rows)
            for a, b, direction in moves:
                if _is_swap(direction):
                    order[[a, b]] = order[[b, a]]
                    self._permute([a, b], [b, a])
                else:
                    order[b] = order[a]
                    self._permute([b], [a])
                    self._clear(a)
            self.history = self.history.index_select(0, torch.from_numpy(order).to(self.device))
        self._rows = batch.batch_size
        self._dirty = True

    def _set(self, index: int, rule: NGramRule, output: list[int]) -> None:
        self.active[index] = True
        self.size[index], self.window[index] = rule.ngram_size, rule.window_size
        self.whitelist[index, : len(rule.whitelist)] = rule.whitelist
        self.whitelist_len[index] = len(rule.whitelist)
        self.outputs[index] = output
        self.fresh[index] = True

    def _clear(self, index: int) -> None:
        self.active[index] = self.fresh[index] = False
        self.size[index] = self.window[index] = self.seen[index] = self.whitelist_len[index] = 0
        self.whitelist[index] = _EMPTY
        self.outputs[index] = None

    def _permute(self, to: list[int], frm: list[int]) -> None:
        for array in (
            self.active,
            self.size,
            self.window,
            self.whitelist,
            self.whitelist_len,
            self.seen,
            self.fresh,
        ):
            array[to] = array[frm]
        picked = [self.outputs[i] for i in frm]
        for i, output in zip(to, picked, strict=True):
            self.outputs[i] = output

    def _upload_rules(self) -> None:
        rows = self._rows
        self._active_idx = np.flatnonzero(self.active[:rows])
        idx = self._active_idx
        self._max_window = int(self.window[idx].max()) if len(idx) else 0
        self._max_prefix = int(self.size[idx].max()) - 1 if len(idx) else 0
        width = max(1, int(self.whitelist_len[idx].max()) if len(idx) else 1)
        self._size_dev[:rows] = torch.from_numpy(self.size[:rows]).to(self.device, non_blocking=True)
        self._window_dev[:rows] = torch.from_numpy(self.window[:rows]).to(self.device, non_blocking=True)
        self._whitelist_dev = torch.from_numpy(self.whitelist[:rows, :width].copy()).to(self.device)
        self._active_dev[:rows] = torch.from_numpy(self.active[:rows]).to(self.device)
        self._dirty = False

    # -- per step ------------------------------------------------------------------------
    def sync_history(self) -> None:
        """Bring each active row's history up to its output list."""
        idx = self._active_idx
        for index in idx[self.fresh[idx]]:
            self._rebuild(int(index))
        outputs = _pick(self.outputs, idx)
        lengths = np.fromiter(map(len, outputs), dtype=np.int64, count=len(idx))
        grown = lengths - self.seen[idx]
        tokens = np.full(len(idx), _NO_TOKEN, dtype=np.int64)
        stepped = np.flatnonzero(grown == 1)
        if len(stepped):
            last = map(itemgetter(-1), _pick(outputs, stepped))
            tokens[stepped] = np.fromiter(last, dtype=np.int64, count=len(stepped))
            # an unresolved placeholder (async scheduling) is taken, whole, at the next apply
            tokens[tokens < 0] = _NO_TOKEN
        advanced = tokens >= 0
        self.seen[idx[advanced]] = lengths[advanced]
        for j in np.flatnonzero((grown != 0) & ~advanced):
            self._rebuild(int(idx[j]))

        rows = self._rows
        staging = self._staging[self._flip]
        self._flip ^= 1
        staging[:rows] = _NO_TOKEN
        staging[torch.from_numpy(idx)] = torch.from_numpy(tokens)
        staging[rows : 2 * rows] = torch.from_numpy(self.seen[:rows])
        upload = staging[: 2 * rows].to(self.device, non_blocking=True)
        new = upload[:rows]
        self._length_dev[:rows] = upload[rows:]
        shifted = torch.cat((self.history[:rows, 1:], new.to(torch.int32).unsqueeze(1)), dim=1)
        self.history[:rows] = torch.where((new >= 0).unsqueeze(1), shifted, self.history[:rows])

    def _rebuild(self, index: int) -> None:
        output = self.outputs[index]
        assert output is not None
        tail = output[-MAX_WINDOW:]
        row = torch.full((MAX_WINDOW,), _EMPTY, dtype=torch.int32)
        if tail:
            row[MAX_WINDOW - len(tail) :] = torch.tensor(tail, dtype=torch.int32)
        self.history[index] = row.to(self.device)
        self.seen[index] = len(output)
        self.fresh[index] = False

    def apply(self, logits: torch.Tensor) -> torch.Tensor:
        if self._dirty:
            self._upload_rules()
        # vLLM also runs the sampler on dummy batches (start-up profiling): leave those alone
        if not len(self._active_idx) or logits.shape[0] != self._rows:
            return logits
        self.sync_history()
        banned, tokens = self.banned(self._rows)
        values = torch.full(banned.shape, float("inf"), dtype=logits.dtype, device=logits.device)
        values.masked_fill_(banned, float("-inf"))
        logits.scatter_reduce_(1, tokens.clamp_min(0), values, reduce="amin", include_self=True)
        return logits

    def banned(self, rows: int) -> tuple[torch.Tensor, torch.Tensor]:
        """(ban mask, tokens), both [rows, W]: position e of a row holds the token at that
        position of the row's last W outputs, banned when it ends a repeat of the current
        prefix inside the row's window."""
        width, prefix = self._max_window, self._max_prefix
        hist = self.history[:rows, MAX_WINDOW - width :].to(torch.int64)
        padded = F.pad(hist, (prefix, 0), value=_EMPTY)
        grams = padded.unfold(1, prefix, 1)  # [rows, W+1, prefix]: the tokens before each position
        equal = grams[:, :width, :] == grams[:, width:, :]
        size = self._size_dev[:rows].unsqueeze(1)
        offsets = torch.arange(prefix, device=self.device).unsqueeze(0)
        needed = (offsets >= prefix - (size - 1)).unsqueeze(1)
        match = (equal | ~needed).all(dim=-1)
        reach = torch.minimum(self._window_dev[:rows], self._length_dev[:rows]).unsqueeze(1)
        first = width - reach + size - 1
        positions = torch.arange(width, device=self.device).unsqueeze(0)
        allowed = ~(hist.unsqueeze(-1) == self._whitelist_dev.unsqueeze(1)).any(dim=-1)
        active = self._active_dev[:rows].unsqueeze(1)
        return match & (positions >= first) & allowed & (hist >= 0) & active, hist


def _pick(items: Sequence[Any], idx: np.ndarray) -> Sequence[Any]:
    """items[i] for each i in idx, gathered in C (itemgetter) rather than a Python loop."""
    if len(idx) == 0:
        return ()
    if len(idx) == 1:
        return (items[int(idx[0])],)
    return itemgetter(*idx.tolist())(items)  # type: ignore[no-any-return]


def _is_swap(direction: Any) -> bool:
    return getattr(direction, "name", str(direction)) == "SWAP"


def reference_bans(output: Sequence[int], rule: NGramRule) -> set[int]:
    """DeepSeek-OCR's rule for one request, written plainly (used by tests and benchmarks)."""
    n, window = rule.ngram_size, rule.window_size
    if len(output) < n:
        return set()
    prefix = tuple(output[len(output) - (n - 1) :])
    start = max(0, len(output) - window)
    banned = {
        output[i + n - 1] for i in range(start, len(output) - n + 1) if tuple(output[i : i + n - 1]) == prefix
    }
    return banned - set(rule.whitelist)


def ngram_extra_args(rule: NGramRule) -> dict[str, Any]:
    return {
        "ngram_size": rule.ngram_size,
        "window_size": rule.window_size,
        "whitelist_token_ids": list(rule.whitelist),
    }


def parse_token_ids(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in _split(text))


def _split(text: str) -> Iterable[str]:
    return (p.strip() for p in text.split(",") if p.strip())
