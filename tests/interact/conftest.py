"""A small deterministic suggester for state-machine tests only (the simulator uses the real language layer)."""
from __future__ import annotations

import pytest

from myovox.language.api import Candidate


class FixedSuggester:
    """Answers every task with fixed, predictable candidates; records what it was asked."""

    def __init__(self):
        self.asked: list[tuple[str, object]] = []

    def phrases_from_labels(self, labels, context=(), n=5, deadline_s=None):
        self.asked.append(("phrases", tuple(labels)))
        return [Candidate(f"I want {' '.join(labels)}", 1.0, "memory"), Candidate("Thank you", 0.5, "memory")][:n]

    def expand_abbreviation(self, abbreviation, context=(), n=5, deadline_s=None):
        self.asked.append(("abbreviation", abbreviation))
        return [Candidate("i want some water", 1.0, "llm")][:n]

    def predict_words(self, text, n=5, deadline_s=None):
        self.asked.append(("words", text))
        return [Candidate(w, 1.0 / (i + 1), "ngram") for i, w in enumerate(("the", "to", "water"))][:n]

    def read_groups(self, before, keys, layout=None, context=(), n=5, deadline_s=None):
        """Two readings of the keys (each key's first, then its last letter) and one completion."""
        from myovox.language.groups import layout_for

        layout = layout or layout_for(3)
        self.asked.append(("groups", (before, keys)))
        ks = [int(k) for k in keys]
        first = "".join(sorted(layout.groups[k])[0] for k in ks)
        last = "".join(sorted(layout.groups[k])[-1] for k in ks)
        out = [Candidate(first, 1.0, "ngram"), Candidate(last, 0.5, "ngram"), Candidate(first + "e ", 0.2, "ngram")]
        return list(dict((c.text, c) for c in out).values())[:n]

    def learn(self, phrase):
        pass


@pytest.fixture
def suggester():
    return FixedSuggester()
