"""Chapter 1's widgets (helpers.widgets.jpeg_internals)."""

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

from conftest import move  # noqa: E402

from helpers import widgets  # noqa: E402


@pytest.mark.parametrize("view", widgets.JPEG_VIEWS)
def test_jpeg_view_every_view(view):
    image = np.random.default_rng(1).integers(0, 256, (24, 40, 3), dtype=np.uint8)
    figure, summary = widgets.jpeg_view(image, 30, "4:2:0", view, block_row=1, block_col=2)
    assert "bytes" in summary and "PSNR" in summary
    assert len(figure.axes) >= 2


def test_jpeg_view_bad_view():
    with pytest.raises(ValueError, match="view"):
        widgets.jpeg_view(np.zeros((8, 8, 3), np.uint8), view="spectrum")


def test_jpeg_explorer_updates_live():
    image = np.random.default_rng(2).integers(0, 256, (32, 48, 3), dtype=np.uint8)
    box = widgets.jpeg_explorer(image)
    first = box.text.value
    box.controls["quality"].value = 90
    assert box.text.value != first and box.render_count == 2
    box.controls["view"].value = "bits per block"
    assert bytes(box.image.value).startswith(b"\x89PNG")
    with pytest.raises(ValueError):
        widgets.jpeg_explorer(image[..., 0])


def test_quantization_editor_updates_live():
    image = np.random.default_rng(3).integers(0, 256, (32, 48, 3), dtype=np.uint8)
    box = widgets.quantization_editor(image)
    before = box.text.value
    box.controls["keep"].value = 3
    assert box.text.value != before
    figure, summary = widgets.quantization_table_view(image, scale=4.0, keep=10)
    assert "bpp" in summary
    with pytest.raises(ValueError):
        widgets.quantization_editor(image[..., 0])


def test_jpeg_explorer_size_and_psnr_follow_the_quality():
    image = np.random.default_rng(1).integers(0, 256, (48, 64, 3), dtype=np.uint8)
    box = widgets.jpeg_explorer(image)
    box.controls["quality"].value = 90
    (_, high), (_, low) = move(box, "quality", 10)
    assert low[0] < high[0]  # the first number shown is the file size in bytes


def test_quantization_editor_responds_to_its_scale():
    image = np.random.default_rng(2).integers(0, 256, (48, 64, 3), dtype=np.uint8)
    box = widgets.quantization_editor(image)
    (_, fine), (_, coarse) = move(box, "scale", 8.0)
    assert coarse[0] < fine[0]  # fewer bytes with coarser steps
