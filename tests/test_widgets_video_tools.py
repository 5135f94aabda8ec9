"""Chapter 10's widgets (helpers.widgets.video_tools)."""

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

from conftest import move  # noqa: E402

from helpers import widgets  # noqa: E402

PNG = b"\x89PNG\r\n\x1a\n"


def _frames(count=3, seed=0):
    """A smooth textured clip moving two pixels right per frame (32 x 48, 4:2:0)."""
    rng = np.random.default_rng(seed)
    big = rng.integers(0, 256, (40, 80)).astype(float)
    for _ in range(3):
        big = (big + np.roll(big, 1, 0) + np.roll(big, 1, 1)) / 3
    y = np.stack([big[4:36, 10 - 2 * k : 58 - 2 * k] for k in range(count)])
    y = np.clip((y - y.mean()) * 4 + 128, 0, 255).astype(np.uint8)
    return {"y": y, "u": y[:, ::2, ::2] // 2 + 64, "v": 255 - y[:, 1::2, 1::2]}


def test_tool_explorer_moves_with_quality_and_tool():
    box = widgets.tool_explorer(_frames())
    assert bytes(box.image.value)[:8] == PNG and "bytes" in box.text.value
    move(box, "quality", 60)
    (_, before), (_, after) = move(box, "tool", "linear chroma (CCLM)")
    assert "linear chroma" in box.text.value
    with pytest.raises(ValueError, match="tool must be one of"):
        widgets.tool_frames_view(_frames(), 25, "magic")


def test_motion_view_shows_the_vectors():
    figure, text = widgets.motion_view(_frames(), frame=1, quality=40)
    assert "skip" in text and "inter" in text and len(figure.axes) == 1
    box = widgets.motion_explorer(_frames())
    move(box, "frame", 2)
    with pytest.raises(ValueError, match="P-frame"):
        widgets.motion_view(_frames(), frame=0)


def test_mode_map_counts_every_block():
    figure, text = widgets.mode_map_view(_frames(), quality=30, tool="classic")
    assert "modes:" in text and len(figure.axes) == 3  # frame, map, colour bar
    box = widgets.mode_map_explorer(_frames())
    move(box, "quality", 70)
