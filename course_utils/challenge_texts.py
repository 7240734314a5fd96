"""The class challenge's texts: which validation poems are scored, and the training slice that
every model is also scored on (`course_utils.challenge` compares the two).

- `held_out_text(val_text, train_text)`: the validation poems minus those mostly in the
  training text. data/README.md says no poem is in both splits, and none is verbatim, but
  《点绛唇》汪藻 in val.txt is 《点绛唇》苏过 in train.txt with one character changed (於/如):
  a poem counts as a copy when at least half of its runs of 8 characters (title aside) occur
  in the training poems. That drops exactly this one of the 592 validation poems.
- `training_slice(train_text, num_bytes)`: as many bytes of training poems, spread over the
  training text, for comparison: a model knows its training text at least as well as new text.

Left out: near-copies with many characters changed (no 8-character run in common).
"""

from __future__ import annotations

import functools

__all__ = ["SHINGLE", "SHARED", "held_out_text", "training_slice", "course_texts"]

SHINGLE, SHARED = 8, 0.5  # a val poem with half its 8-character runs in training is not scored


def _poems(text: str) -> list[str]:
    return [p for p in text.strip("\n").split("\n\n") if p]


def held_out_text(val_text: str, train_text: str) -> tuple[str, list[str]]:
    """Return the validation text without its poems that are mostly in the training text
    (at least SHARED of the poem's runs of SHINGLE characters, title line aside, occur in
    it), and the dropped poems' title lines. Poems are separated by blank lines.

    >>> held_out_text("《a》x\\n一二三四五六七八九。\\n\\n《b》y\\n春风又绿江南岸。\\n",
    ...               "《c》z\\n一二三四五六七八九。\\n")
    ('《b》y\\n春风又绿江南岸。\\n', ['《a》x'])
    """
    runs = set()
    for poem in _poems(train_text):
        body = poem.partition("\n")[2]
        runs.update(body[i:i + SHINGLE] for i in range(len(body) - SHINGLE + 1))
    kept, dropped = [], []
    for poem in _poems(val_text):
        body = poem.partition("\n")[2]
        own = [body[i:i + SHINGLE] for i in range(len(body) - SHINGLE + 1)]
        shared = own and sum(run in runs for run in own) >= SHARED * len(own)
        (dropped if shared else kept).append(poem.partition("\n")[0] if shared else poem)
    return "\n\n".join(kept) + "\n", dropped


def training_slice(train_text: str, num_bytes: int) -> str:
    """Return whole poems spread evenly over the first nine tenths of `train_text` (every k-th
    poem), at least `num_bytes` UTF-8 bytes of them if there are as many. The last tenth is
    left out because a run often keeps it back to check itself (nanoGPT's split; the starter
    keeps 2%): a model never trained on its slice would look like one trained on val.

    >>> training_slice("".join(f"《{i}》\\n一\\n\\n" for i in range(20)), 30)
    '《0》\\n一\\n\\n《8》\\n一\\n\\n《16》\\n一\\n'
    """
    poems = _poems(train_text)
    poems = poems[:max(1, len(poems) * 9 // 10)]
    sizes = [len(poem.encode("utf-8")) + 2 for poem in poems]
    step = max(1, sum(sizes) // max(num_bytes, 1))
    while step > 1 and sum(sizes[::step]) < num_bytes:
        step -= 1
    return "\n\n".join(poems[::step]) + "\n"


@functools.lru_cache(maxsize=1)
def course_texts() -> tuple[str, str]:
    """Return the course's (validation, training) poems, read once per process."""
    from course_utils.data import load_corpus

    return load_corpus("poetry_zh", "val"), load_corpus("poetry_zh", "train")
