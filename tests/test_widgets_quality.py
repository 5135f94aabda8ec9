"""Chapter 2's widgets (helpers.widgets.quality)."""

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

from conftest import move  # noqa: E402

from helpers import widgets  # noqa: E402


def test_codec_comparator_code_path():
    image = np.random.default_rng(4).integers(0, 256, (48, 64, 3), dtype=np.uint8)
    figure, summary = widgets.codec_comparison_view(
        image, "jpeg", 20, "jpeg2000", 80, top=4, left=8, size=32
    )
    assert "jpeg2000" in summary and "SSIM" in summary
    box = widgets.codec_comparator(image)
    before = box.text.value
    box.controls["percent_a"].value = 90
    assert box.text.value != before
    with pytest.raises(ValueError):
        widgets.codec_comparator(image[..., 0])


def test_rd_explorer_code_path(tmp_path, monkeypatch):
    from helpers import standard_codecs

    monkeypatch.setenv("WORKBENCH_CACHE", str(tmp_path))
    image = np.random.default_rng(5).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    pictures = {"noise": image}
    records = standard_codecs.rd_sweep("jpeg", pictures, [20, 60], measure_ms_ssim=False)
    records += standard_codecs.rd_sweep("webp", pictures, [20, 60], measure_ms_ssim=False)
    figure, summary = widgets.rd_point_view(records, pictures, "webp", point=1)
    assert "webp" in summary and "quality 60" in summary
    box = widgets.rd_explorer(records, pictures)
    box.controls["point"].value = 1
    assert "quality 60" in box.text.value
    with pytest.raises(ValueError):
        widgets.rd_point_view(records, pictures, "avif")
    with pytest.raises(ValueError):
        widgets.rd_explorer([], pictures)


def test_codec_comparator_responds_to_the_size():
    image = np.random.default_rng(3).integers(0, 256, (64, 96, 3), dtype=np.uint8)
    box = widgets.codec_comparator(image)
    move(box, "percent_a", box.controls["percent_a"].max)
