"""Chapter 3's widgets (helpers.widgets.pixel_models)."""

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

from conftest import move  # noqa: E402

from helpers import pixelcnn, widgets  # noqa: E402

PNG = b"\x89PNG\r\n\x1a\n"


def test_interval_view_and_explorer():
    figure, text = widgets.interval_view("ABBA")
    assert len(figure.axes[0].get_yticks()) == 4
    assert "entropy bound is 4.0 bits" in text  # 2 A and 2 B: one bit each
    box = widgets.interval_explorer("AB")
    box.controls["message"].value = "MISSISSIPPI"
    assert box.render_count == 2 and bytes(box.image.value)[:8] == PNG
    assert "11 symbols" in box.text.value
    box.controls["message"].value = ""
    assert "at least one" in box.text.value
    with pytest.raises(ValueError, match="at least one"):
        widgets.interval_view("")


def test_bits_explorer_code_path():
    model = pixelcnn.GatedPixelCNN(channels=3, hidden=12, num_layers=2, output="logistic_mixture")
    rng = np.random.default_rng(0)
    pictures = {n: rng.integers(0, 256, (16, 20, 3), dtype=np.uint8) for n in ("a", "b")}
    box = widgets.bits_explorer(model, pictures)
    box.controls["name"].value = "b"
    box.controls["vmax"].value = 8
    shown = np.asarray(box.last_result.axes[1].images[0].get_array())
    assert shown.shape == (16, 20) and box.render_count == 3
    assert np.allclose(shown, pixelcnn.bits_map(model, pictures["b"]))


def test_interval_explorer_narrows_with_a_longer_message():
    box = widgets.interval_explorer("AB")
    (_, short), (_, long) = move(box, "message", "ABRACADABRA")
    assert short != long
