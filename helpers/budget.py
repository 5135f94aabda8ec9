"""One search for "the setting that lands on a target" (a byte budget, an average quality).

Every coder that must hit a size (uniform JPEG at equal bytes, the ROI coders, the learned ROI codec)
calls ``fit_to_size``; anything else monotone in one parameter calls ``bisect``.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["bisect", "fit_to_size"]


def bisect(
    function: Callable[[float], float],
    target: float,
    low: float,
    high: float,
    increasing: bool = True,
    num_steps: int = 60,
    integer: bool = False,
) -> float:
    """The parameter in [low, high] where a monotone ``function`` crosses ``target``.

    Returns the midpoint of the final bracket (for ``integer``: the integer of the two neighbours
    whose value is closer to the target).
    """
    if not low < high:
        raise ValueError(f"low must be below high, got {low} and {high}")
    values: dict[float, float] = {}

    def at(x: float) -> float:
        if x not in values:
            values[x] = function(x)
        return values[x]

    for _ in range(num_steps):
        if integer and high - low <= 1:
            break
        middle = (low + high) // 2 if integer else (low + high) / 2
        below = at(middle) < target
        if below == increasing:
            low = middle
        else:
            high = middle
    if integer:
        return min((low, high), key=lambda x: abs(at(x) - target))
    return (low + high) / 2


class _Within(Exception):
    """Raised inside a size search to stop at the first setting within tolerance."""


def fit_to_size(
    encode: Callable[[float], bytes],
    target_bytes: int,
    low: float,
    high: float,
    tolerance: float = 0.01,
    increasing: bool = True,
    num_steps: int = 30,
    integer: bool = False,
) -> tuple[float, bytes]:
    """(setting, file) whose size is within ``tolerance`` of ``target_bytes``, else the closest tried.

    Args:
        encode: setting -> file bytes; the size must grow with the setting (``increasing``) or
            fall with it (``increasing=False``, e.g. a quantizer step or a Lagrangian).
        integer: search integer settings only (JPEG quality 1..100): ends at the closest neighbour.
    """
    if isinstance(target_bytes, bool) or not isinstance(target_bytes, int) or target_bytes < 1:
        raise ValueError(f"target_bytes must be a positive int, got {target_bytes!r}")
    if not 0 <= tolerance < 1:
        raise ValueError(f"tolerance must be in [0, 1), got {tolerance}")
    tried: dict[float, bytes] = {}

    def size(setting: float) -> float:
        tried[setting] = encode(setting)
        if not integer and abs(len(tried[setting]) - target_bytes) <= tolerance * target_bytes:
            raise _Within(setting)
        return len(tried[setting])

    try:
        bisect(size, target_bytes, low, high, increasing, num_steps, integer)
    except _Within as hit:
        setting = hit.args[0]
        return setting, tried[setting]
    return min(tried.items(), key=lambda item: abs(len(item[1]) - target_bytes))
