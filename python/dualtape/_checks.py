"""Input checks shared by the public entry points."""

from __future__ import annotations

import numpy as np


def check_finite(array: np.ndarray, name: str) -> None:
    """Raise ValueError unless every entry of `array` is finite.

    The message names the argument `name`, the index and value of the first NaN or
    inf entry (with its flat index when `array` has more than one dimension) and the
    number of such entries, for example ``x0 must contain only finite numbers, but
    x0[0, 1] = nan (flat index 1, the first of 2 non-finite entries)``.
    """
    finite = np.isfinite(array)
    if finite.all():
        return

    bad = np.flatnonzero(~finite)
    first = int(bad[0])
    index = np.unravel_index(first, array.shape)
    location = f"{name}[{', '.join(str(int(i)) for i in index)}]" if array.ndim else name
    details = []
    if array.ndim > 1:
        details.append(f"flat index {first}")
    if bad.size > 1:
        details.append(f"the first of {bad.size} non-finite entries")
    suffix = f" ({', '.join(details)})" if details else ""
    raise ValueError(f"{name} must contain only finite numbers, but {location} = "
                     f"{array.reshape(-1)[first]}{suffix}")
