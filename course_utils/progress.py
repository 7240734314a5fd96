"""Progress bars for the course's long loops (BPE training, model training).

In JupyterLab `tqdm.auto` draws a real widget bar (ipywidgets is installed with the course); in a
terminal it draws a text bar. `TQDM_DISABLE=1` in the environment hides every bar, which is how
the tests and the committed notebooks stay quiet and identical on every machine.

A loop that ends early on purpose (early stopping, or BPE running out of pairs) is finished, not
failed: `progress_bar` then shrinks the bar's total to the steps done, so the bar closes full and
green instead of partly filled and red. A loop that raises leaves its bar as it was.

>>> with progress_bar(total=3, desc="steps", enabled=False) as bar:
...     for _ in range(2):
...         bar.update()
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

from course_utils.language import say
from course_utils.validation import check_bool, check_int, check_str

__all__ = ["progress_bar", "label", "CHINESE_LABELS"]

# The labels of the course's loops in Chinese: a bar shows its label in the current language
# (course_utils.language), so the code that starts a bar names it once, in English.
CHINESE_LABELS = {"BPE merges": "BPE合并", "training": "训练", "texts encoded": "已编码文本"}


def label(desc: str) -> str:
    """`desc` as a bar shows it: in Chinese when the language is "zh" and a translation exists.

    >>> label("training")
    'training'
    """
    return say(desc, CHINESE_LABELS.get(desc, desc))


class _NoBar:
    """Stands in for a tqdm bar when progress is off: every method does nothing."""

    n = 0

    def update(self, n: int = 1) -> None:
        self.n += n

    def set_postfix(self, *args: Any, **kwargs: Any) -> None:
        pass


@contextlib.contextmanager
def progress_bar(total: int, desc: str, *, enabled: bool = True, initial: int = 0,
                 unit: str = "it") -> Iterator[Any]:
    """A tqdm.auto bar for `total` steps (or a silent stand-in when not `enabled`).

    The bar is closed when the block ends; if the block ended before `total` steps without an
    error, the bar's total becomes the steps done, so it shows as complete.
    """
    check_int("total", total, minimum=0)
    check_int("initial", initial, minimum=0, maximum=total)
    check_str("desc", desc)
    check_str("unit", unit, nonempty=True, fix="e.g. unit='step'")
    if not check_bool("enabled", enabled):
        yield _NoBar()
        return
    from tqdm.auto import tqdm

    # tqdm reads TQDM_DISABLE only when it is imported, and its notebook bar not at all (it
    # passes disable=False itself): read it here, at every call.
    quiet = os.environ.get("TQDM_DISABLE", "").strip().lower() not in ("", "0", "false", "no")
    bar = tqdm(total=total, desc=label(desc), initial=initial, unit=unit,
               **({"disable": True} if quiet else {}))
    try:
        yield bar
    except BaseException:
        bar.close()
        raise
    if not bar.disable and bar.n < total:
        done, started = bar.n, bar.start_t
        bar.reset(total=done)  # sets the widget's maximum too, and the count and clock to 0
        bar.start_t = started
        bar.update(done)
    bar.close()
