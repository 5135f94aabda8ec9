"""Chapter 0's widget (helpers.widgets.welcome)."""

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

from conftest import move  # noqa: E402

from helpers import widgets  # noqa: E402


def test_channel_explorer_code_path():
    image = np.random.default_rng(0).integers(0, 256, (40, 90, 3), dtype=np.uint8)
    box = widgets.channel_explorer(image)
    assert set(box.controls) == {"channel", "top", "left"}
    box.controls["channel"].value = "Cr"
    box.controls["left"].value = 0
    figure = box.last_result
    assert bytes(box.image.value)[:8] == b"\x89PNG\r\n\x1a\n"
    zoomed = np.asarray(figure.axes[1].images[0].get_array())
    assert zoomed.shape == (40, 40)
    assert box.render_count == 3
    with pytest.raises(ValueError):
        widgets.channel_explorer(image[..., 0])


def test_channel_explorer_shows_the_chosen_channel():
    image = np.random.default_rng(0).integers(0, 256, (40, 90, 3), dtype=np.uint8)
    box = widgets.channel_explorer(image)
    (before, _), (after, _) = move(box, "channel", "Cb")  # the picture shown changes
    assert before is not None and after is not None
