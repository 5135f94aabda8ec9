"""Chapter 7's widgets (helpers.widgets.roi_coding)."""

import matplotlib
import numpy as np

matplotlib.use("Agg")

from conftest import move  # noqa: E402

from helpers import widgets  # noqa: E402


def test_roi_explorer_code_path(tiny_classifier):
    classifier = tiny_classifier
    yy, xx = np.mgrid[0:64, 0:96]
    image = np.stack([(xx * 2) % 256, (yy * 3) % 256, (xx + yy) % 256], axis=2).astype(np.uint8)
    box = widgets.roi_explorer(image, classifier)
    assert box.render_count == 1 and "psnr_roi" in box.text.value and box.image.value
    for mode in ("quantile", "threshold", "entropy", "progressive"):
        box.controls["mode"].value = mode
    box.controls["method"].value = "eigencam"
    box.controls["top_k"].value = 1
    assert box.render_count == 7 and "uniform" in box.text.value
    box.controls["mode"].value = "linear"
    (_, gentle), (_, strong) = move(box, "q_range", (5, 95))
    assert gentle != strong  # the measured table follows the quality range
