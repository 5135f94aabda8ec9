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


def test_scale_step_explorer_shows_the_step_the_controls_choose():
    import torch

    from helpers import multiscale

    torch.manual_seed(0)
    model = multiscale.build_model(hidden=8, blocks=1, mixtures=2).eval()
    rng = np.random.default_rng(0)
    pictures = {n: rng.integers(0, 256, (80, 130, 3), dtype=np.uint8) for n in ("a", "b")}
    box = widgets.scale_step_explorer(model, pictures)
    box.controls["name"].value = "b"
    box.controls["step"].value = 2
    box.controls["scale"].value = 1  # 40 x 65: the vertical step codes C, 20 x 33
    bits = np.asarray(box.last_result.axes[2].images[0].get_array())
    assert bits.shape == (20, 33) and box.render_count == 4
    np.testing.assert_allclose(bits, multiscale.step_bits_map(model, pictures["b"], 1, 2))
    assert "codes C" in box.last_result.axes[1].get_title()
    assert "knows A, D, B" in box.last_result.axes[0].get_title()
    box.controls[
        "scale"
    ].value = 3  # 80 x 130 has scales 0 and 1 only: the error is shown, not raised
    assert "scales 0..1" in box.text.value
    with pytest.raises(ValueError, match="step must be"):
        multiscale.step_bits_map(model, pictures["a"], 0, 3)


def test_rans_state_explorer_tracks_the_information_and_the_table_cost():
    import pytest

    box = widgets.rans_state_explorer("ABRACADABRA")
    assert (
        bytes(box.image.value)[:8] == b"\x89PNG\r\n\x1a\n"
        and "decodes to the message" in box.text.value
    )
    fine = box.text.value
    box.controls["precision"].value = 4
    coarse = box.text.value
    cost = lambda text: float(text.split("costs ")[1].split(" bits")[0])  # noqa: E731
    assert cost(coarse) > cost(fine) >= 0  # rounding p to sixteenths costs bits, 2^-12 almost none
    figure = box.last_result[0]
    held, truth = (line.get_ydata() for line in figure.axes[0].get_lines()[1::-1])
    table_cost, held_cost = (line.get_ydata() for line in figure.axes[1].get_lines()[:2])
    assert abs(held_cost[-1] - table_cost[-1]) < 1.0  # rANS itself loses under a bit on 220 symbols
    assert held[-1] == pytest.approx(truth[-1] + held_cost[-1])
    box.controls["precision"].value = 2  # 5 letters do not fit 4 slots: said, not raised
    assert "raise the precision" in box.text.value
    with pytest.raises(ValueError, match="at least one character"):
        widgets.rans_state_view("")
