"""The batched n-gram processor bans exactly what DeepSeek-OCR's per-request rule bans, over a
persistent batch that gains, loses and reorders requests the way vLLM's does."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import pytest
import torch

from worker.engines.deepseek.ngram import (
    MAX_WINDOW,
    NGramRule,
    NoRepeatNGramBatch,
    ngram_extra_args,
    reference_bans,
    rule_from_args,
)

VOCAB = 12  # small, so that repeats (and so bans) are frequent


class Direction(Enum):
    UNIDIRECTIONAL = 1
    SWAP = 2


@dataclass
class Params:
    extra_args: dict[str, Any] | None


@dataclass
class Update:
    batch_size: int
    removed: list[int] = field(default_factory=list)
    added: list[tuple[int, Params, list[int] | None, list[int]]] = field(default_factory=list)
    moved: list[tuple[int, int, Direction]] = field(default_factory=list)


def check_bans(state: NoRepeatNGramBatch, rows: list[tuple[list[int], NGramRule | None] | None]) -> int:
    """Apply the processor to random logits; return how many tokens it banned."""
    logits = torch.randn(len(rows), VOCAB)
    before = logits.clone()
    state.apply(logits)
    for i, row in enumerate(rows):
        banned = set(torch.nonzero(torch.isneginf(logits[i])).flatten().tolist())
        expected = reference_bans(row[0], row[1]) if row and row[1] else set()
        assert banned == expected, f"row {i}: {sorted(banned)} != {sorted(expected)} for {row}"
        kept = ~torch.isneginf(logits[i])
        assert torch.equal(logits[i][kept], before[i][kept])
    return int(torch.isneginf(logits).sum())


def test_reference_rule_on_a_hand_example() -> None:
    rule = NGramRule(ngram_size=3, window_size=100)
    # prefix (7, 8) was followed by 9 and by 4 earlier: both are banned
    assert reference_bans([7, 8, 9, 1, 7, 8, 4, 2, 7, 8], rule) == {9, 4}
    assert reference_bans([7, 8, 9, 1, 7, 8, 4, 2, 7, 8], NGramRule(3, 100, (9,))) == {4}
    # the window reaches back 4 tokens only: 7 8 4 2 7 8 -> only "7 8 4"... starts outside
    assert reference_bans([7, 8, 9, 1, 7, 8, 4, 2, 7, 8], NGramRule(3, 6)) == {4}
    assert reference_bans([7, 8, 9, 1, 7, 8, 4, 2, 7, 8], NGramRule(3, 5)) == set()


@pytest.mark.parametrize("seed", range(6))
def test_matches_reference_on_random_histories(seed: int) -> None:
    rnd = random.Random(seed)
    rows = 9
    state = NoRepeatNGramBatch(rows, "cpu")
    outputs: list[list[int]] = [[] for _ in range(rows)]
    rules: list[NGramRule | None] = []
    added = []
    for i in range(rows):
        rule = None
        if i % 4 != 3:  # some requests ask for no protection
            size = rnd.randint(2, 6)
            window = rnd.choice([size - 1, size, size + 1, rnd.randint(1, 40), MAX_WINDOW])
            whitelist = tuple(rnd.sample(range(VOCAB), rnd.randint(0, 2)))
            rule = NGramRule(size, window, tuple(sorted(whitelist)))
        rules.append(rule)
        added.append((i, Params(ngram_extra_args(rule) if rule else None), None, outputs[i]))
    state.update(Update(rows, added=added))
    total = 0
    for _ in range(80):
        total += check_bans(state, [(outputs[i], rules[i]) for i in range(rows)])
        for i in range(rows):
            # repeat earlier material often, so that long n-grams recur
            if outputs[i] and rnd.random() < 0.6:
                outputs[i].append(outputs[i][-rnd.randint(1, min(len(outputs[i]), 7))])
            else:
                outputs[i].append(rnd.randrange(VOCAB))
    assert total > 20  # the histories really exercised the rule


def test_follows_removals_additions_and_moves() -> None:
    rnd = random.Random(7)
    capacity = 8
    state = NoRepeatNGramBatch(capacity, "cpu")
    rule = NGramRule(3, 12, (5,))
    slots: list[tuple[list[int], NGramRule | None] | None] = []

    def new_request(with_rule: bool) -> tuple[list[int], NGramRule | None]:
        history = [rnd.randrange(4) for _ in range(rnd.randint(0, 20))]  # resumed requests
        return history, (rule if with_rule else None)

    def params(entry: tuple[list[int], NGramRule | None]) -> Params:
        return Params(ngram_extra_args(entry[1]) if entry[1] else None)

    for _ in range(120):
        update = Update(batch_size=len(slots))
        # vLLM's order: remove, then add (into freed slots first), then condense with moves
        if slots and rnd.random() < 0.3:
            gone = rnd.randrange(len(slots))
            slots[gone] = None
            update.removed.append(gone)
        if len(slots) < capacity and rnd.random() < 0.4:
            entry = new_request(rnd.random() < 0.8)
            free = [i for i, s in enumerate(slots) if s is None]
            index = free[0] if free else len(slots)
            if index == len(slots):
                slots.append(entry)
            else:
                slots[index] = entry
                update.removed.remove(index) if index in update.removed else None
            update.added.append((index, params(entry), None, entry[0]))
        while slots and slots[-1] is None:
            slots.pop()
        holes = [i for i, s in enumerate(slots) if s is None]
        for hole in holes:
            last = len(slots) - 1
            if hole >= last:
                continue
            slots[hole], slots[last] = slots[last], None
            update.moved.append((last, hole, Direction.UNIDIRECTIONAL))
            while slots and slots[-1] is None:
                slots.pop()
        if len(slots) >= 2 and rnd.random() < 0.3:
            a, b = rnd.sample(range(len(slots)), 2)
            slots[a], slots[b] = slots[b], slots[a]
            update.moved.append((a, b, Direction.SWAP))
        update.batch_size = len(slots)
        state.update(update)
        if slots:
            check_bans(state, slots)
        for entry in slots:
            if entry is not None:
                entry[0].append(rnd.randrange(4))


def test_a_placeholder_token_is_taken_once_resolved() -> None:
    # async scheduling can leave -1 at the end of an output list; the row catches up later
    state = NoRepeatNGramBatch(1, "cpu")
    rule = NGramRule(2, 50)
    output = [1, 2, 1]
    state.update(Update(1, added=[(0, Params(ngram_extra_args(rule)), None, output)]))
    check_bans(state, [(output, rule)])
    output.append(-1)
    state.apply(torch.zeros(1, VOCAB))
    output[-1] = 2
    output.append(1)
    check_bans(state, [(output, rule)])


def test_dummy_batches_are_left_alone() -> None:
    state = NoRepeatNGramBatch(4, "cpu")
    output = [3, 3, 3]
    state.update(Update(1, added=[(0, Params(ngram_extra_args(NGramRule(2, 10))), None, output)]))
    logits = torch.zeros(3, VOCAB)  # a profiling batch of another size
    assert torch.equal(state.apply(logits), torch.zeros(3, VOCAB))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"ngram_size": 1}, "ngram_size"),
        ({"ngram_size": "30"}, "ngram_size"),
        ({"ngram_size": 30, "window_size": 0}, "window_size"),
        ({"ngram_size": 30, "window_size": MAX_WINDOW + 1}, "window_size"),
        ({"ngram_size": 30, "whitelist_token_ids": list(range(65))}, "whitelist"),
    ],
)
def test_invalid_arguments_are_refused(args: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        rule_from_args(args)


def test_arguments_round_trip() -> None:
    assert rule_from_args(None) is None
    assert rule_from_args({"temperature": 0}) is None
    rule = NGramRule(30, 90, (128821, 128822))
    assert rule_from_args(ngram_extra_args(rule)) == rule
