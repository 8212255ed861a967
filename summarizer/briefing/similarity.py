"""How alike two short fact texts are in meaning, from wordllama's static word embeddings.

Sources tell one fact in other words ("the rebels must hand over their heavy weapons" / "the movement must surrender
its heavy weapons first"); token ratios miss such paraphrases. wordllama's default model
(256 dimensions) ships inside its wheel, so it is loaded from the package's own folder with downloads
disabled: nothing is fetched, and embedding a sentence takes microseconds. Vectors are kept per text, since a
briefing repeats the same wordings many times.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rapidfuzz import fuzz

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

SAME_MEANING = 0.70
"""Cosine similarity of two texts' embeddings above which they tell the same fact (given the same key: the
same date, actors, status). Measured on paraphrases across outlets: paraphrases of one demand or event scored
0.71 to 0.88, different facts about the same actors up to 0.68."""
SAME_WORDS = 90.0
"""rapidfuzz token-set ratio above which two texts are the same whatever the embeddings say (one adds a word)."""


@cache
def _model() -> Any:
    import wordllama
    from wordllama import WordLlama

    # The default model and its tokenizer configuration are files of the installed package.
    return WordLlama.load(cache_dir=Path(wordllama.__file__).parent, disable_download=True)


class Embeddings:
    """Unit vectors of texts, each computed once."""

    def __init__(self) -> None:
        self._vectors: dict[str, npt.NDArray[np.float32]] = {}

    def of(self, texts: list[str]) -> list[npt.NDArray[np.float32]]:
        """One unit vector per text, in order."""
        missing = [t for t in dict.fromkeys(texts) if t not in self._vectors]
        if missing:
            for text, vector in zip(missing, _model().embed(missing, norm=True), strict=True):
                self._vectors[text] = vector
        return [self._vectors[t] for t in texts]

    def similarity(self, a: str, b: str) -> float:
        """Cosine similarity of ``a`` and ``b``, from -1 to 1."""
        first, second = self.of([a, b])
        return float(first @ second)

    def same_fact(self, a: str, b: str) -> bool:
        """Whether two texts of one kind of fact, under one key, tell the same fact."""
        if fuzz.token_set_ratio(a.casefold(), b.casefold()) >= SAME_WORDS:
            return True
        return self.similarity(a, b) >= SAME_MEANING
