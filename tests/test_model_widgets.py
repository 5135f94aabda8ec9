"""Widgets of chapters 3-5: every explorer's code path, driven like a user would."""

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

from helpers import filters, model_widgets, pixelcnn  # noqa: E402

PNG = b"\x89PNG\r\n\x1a\n"


def test_interval_view_and_explorer():
    figure, text = model_widgets.interval_view("ABBA")
    assert len(figure.axes[0].get_yticks()) == 4
    assert "entropy bound is 4.0 bits" in text  # 2 A and 2 B: one bit each
    box = model_widgets.interval_explorer("AB")
    box.controls["message"].value = "MISSISSIPPI"
    assert box.render_count == 2 and bytes(box.image.value)[:8] == PNG
    assert "11 symbols" in box.text.value
    box.controls["message"].value = ""
    assert "at least one" in box.text.value
    with pytest.raises(ValueError, match="at least one"):
        model_widgets.interval_view("")


def test_bits_explorer_code_path():
    model = pixelcnn.GatedPixelCNN(channels=3, hidden=12, num_layers=2, output="logistic_mixture")
    rng = np.random.default_rng(0)
    pictures = {n: rng.integers(0, 256, (16, 20, 3), dtype=np.uint8) for n in ("a", "b")}
    box = model_widgets.bits_explorer(model, pictures)
    box.controls["name"].value = "b"
    box.controls["vmax"].value = 8
    shown = np.asarray(box.last_result.axes[1].images[0].get_array())
    assert shown.shape == (16, 20) and box.render_count == 3
    assert np.allclose(shown, pixelcnn.bits_map(model, pictures["b"]))


def test_filter_explorer_code_path():
    rng = np.random.default_rng(0)
    image = np.clip(rng.normal(128, 30, (48, 64, 3)), 0, 255).astype(np.uint8)
    model = filters.build_model("dncnn", features=8, depth=3)
    box = model_widgets.filter_explorer(image, {"tiny DnCNN": model})
    box.controls["choice"].value = "tiny DnCNN"
    box.controls["quality"].value = 20
    box.controls["side"].value = 32
    assert box.render_count == 4 and bytes(box.image.value)[:8] == PNG
    assert "PSNR-B" in box.text.value and "DnCNN" in box.text.value
    figure, text = model_widgets.filter_view(image, 10, None, (0, 0, 32))
    assert len(figure.axes) == 5 and "deblock" in text


def test_rate_picker_code_path():
    rng = np.random.default_rng(0)
    image = np.clip(rng.normal(128, 20, (64, 96, 3)), 0, 255).astype(np.uint8)
    box = model_widgets.rate_picker(image)
    box.controls["quality"].value = 1
    box.controls["name"].value = "bmshj2018-hyperprior"
    assert box.render_count == 3 and bytes(box.image.value)[:8] == PNG
    title = box.last_result.axes[1].get_title()
    assert "bmshj2018-hyperprior q1" in title and "bpp" in title
    assert np.asarray(box.last_result.axes[2].images[0].get_array()).shape == (4, 6)  # 64x96 / 16
