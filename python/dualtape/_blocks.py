"""The number of variable blocks of an objective or a residual set."""

from __future__ import annotations

import numpy as np

# Largest block count inferred from the elements without a check: below it, memory
# for the pattern and the fixed mask is at most a few hundred MB.
_TRUSTED_BLOCKS = 1_000_000


def resolve_n_vars(n_vars, elements, owner: str) -> int:
    """Return the number of variable blocks: `n_vars`, or one more than the largest index.

    `elements` is a list of int arrays (one per term), and `owner` names the class in
    messages. Without n_vars, a largest index above a million and above 100 times the
    number of distinct blocks in use is almost surely a mistake. Allocating for it
    could take all the memory, so this raises instead, naming the index and its element.
    """
    needed = max(int(e.max()) for e in elements) + 1
    if n_vars is None:
        if needed > _TRUSTED_BLOCKS:
            used = np.unique(np.concatenate([e.ravel() for e in elements])).size
            if needed > 100 * used:
                for term, e in enumerate(elements):
                    rows = np.flatnonzero((e == needed - 1).any(axis=1))
                    if rows.size:
                        break
                where = f"element {int(rows[0])}" + (f" of term {term}" if len(elements) > 1 else "")
                raise ValueError(
                    f"{owner}: {where} refers to block {needed - 1}, but the elements use only {used} distinct "
                    f"blocks; n_vars would be {needed}. Check the element indices, or pass n_vars= explicitly "
                    "if that many variable blocks are intended")
        n_vars = needed
    if not isinstance(n_vars, (int, np.integer)) or isinstance(n_vars, bool) or n_vars < 1:
        raise ValueError(f"n_vars must be a positive integer; got {n_vars!r}")
    if n_vars < needed:
        raise IndexError(f"an element refers to block {needed - 1}, but n_vars is {n_vars}")
    return int(n_vars)
