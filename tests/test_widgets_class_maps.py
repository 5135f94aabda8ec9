"""Chapter 6's widgets (helpers.widgets.class_maps)."""

import matplotlib
import numpy as np

matplotlib.use("Agg")

from conftest import move  # noqa: E402

from helpers import widgets  # noqa: E402


def test_cam_explorer_fuses_more_classes_and_erases(tiny_classifier):
    yy, xx = np.mgrid[0:64, 0:96]
    image = np.stack([(xx * 2) % 256, (yy * 3) % 256, (xx + yy) % 256], axis=2).astype(np.uint8)
    box = widgets.cam_explorer(image, tiny_classifier)
    assert box.render_count == 1 and "area above 0.5" in box.text.value
    move(box, "top_k", 1)
    (_, before), (_, after) = move(box, "erase", True)
    assert len(after) > len(before)  # the widened map's area is reported too


def test_cam_view_reports_the_fused_area():
    maps = np.zeros((2, 8, 8))
    maps[0, :4], maps[1, :, :2] = 1.0, 1.0
    figure, text = widgets.cam_view(
        np.zeros((8, 8, 3), np.uint8), maps, np.array([0.7, 0.3]), ["a", "b"], alpha=0.0, beta=0.0
    )
    assert len(figure.axes) == 3 and "area above 0.5" in text
