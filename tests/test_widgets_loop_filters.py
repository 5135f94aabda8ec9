"""Chapter 5's widget (helpers.widgets.loop_filters)."""

import matplotlib
import numpy as np

matplotlib.use("Agg")

from conftest import move  # noqa: E402

from helpers import filters, widgets  # noqa: E402

PNG = b"\x89PNG\r\n\x1a\n"


def test_filter_explorer_code_path():
    rng = np.random.default_rng(0)
    image = np.clip(rng.normal(128, 30, (48, 64, 3)), 0, 255).astype(np.uint8)
    model = filters.build_model("dncnn", features=8, depth=3)
    box = widgets.filter_explorer(image, {"tiny DnCNN": model})
    box.controls["choice"].value = "tiny DnCNN"
    box.controls["quality"].value = 20
    box.controls["side"].value = 32
    assert box.render_count == 4 and bytes(box.image.value)[:8] == PNG
    assert "PSNR-B" in box.text.value and "DnCNN" in box.text.value
    figure, text = widgets.filter_view(image, 10, None, (0, 0, 32))
    assert len(figure.axes) == 5 and "deblock" in text


def test_filter_explorer_responds_to_the_quality():
    image = np.random.default_rng(5).integers(60, 200, (64, 64, 3), dtype=np.uint8)
    box = widgets.filter_explorer(image, {})
    (_, q10), (_, q40) = move(box, "quality", 40)
    assert q40[0] > q10[0]  # the first number shown: bits per pixel
