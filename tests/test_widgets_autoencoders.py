"""Chapter 4's widget (helpers.widgets.autoencoders)."""

import matplotlib
import numpy as np

matplotlib.use("Agg")

from conftest import move  # noqa: E402

from helpers import widgets  # noqa: E402

PNG = b"\x89PNG\r\n\x1a\n"


def test_rate_picker_code_path():
    rng = np.random.default_rng(0)
    image = np.clip(rng.normal(128, 20, (64, 96, 3)), 0, 255).astype(np.uint8)
    box = widgets.rate_picker(image)
    box.controls["quality"].value = 1
    box.controls["name"].value = "bmshj2018-hyperprior"
    assert box.render_count == 3 and bytes(box.image.value)[:8] == PNG
    title = box.last_result.axes[1].get_title()
    assert "bmshj2018-hyperprior q1" in title and "bpp" in title
    assert np.asarray(box.last_result.axes[2].images[0].get_array()).shape == (4, 6)  # 64x96 / 16


def test_rate_picker_rate_grows_with_quality(monkeypatch):
    from helpers import autoencoder

    image = np.random.default_rng(4).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    box = widgets.rate_picker(image)
    box.controls["quality"].value = 1
    (_, low), (_, high) = move(box, "quality", 4)
    assert autoencoder.QUALITY_LAMBDAS[4] > autoencoder.QUALITY_LAMBDAS[1]


def test_water_filling_explorer_sends_fewer_coefficients_at_lower_quality():
    import pytest

    from helpers import rate_distortion as rd

    variances = 2000.0 * 0.6 ** np.add.outer(np.arange(8), np.arange(8)).ravel()
    box = widgets.water_filling_explorer(variances, jpeg_rows=[(50, 1.1, 20.0), (10, 0.3, 90.0)])
    assert (
        bytes(box.image.value)[:8] == PNG and "q50" in box.text.value
    )  # 35 dB is nearest q50's 35.1
    box.controls["psnr"].value = 45.0
    high_rate, high_coded = box.last_result[1], box.last_result[0].axes[0].get_title()
    box.controls["psnr"].value = 25.0
    low_rate, low_coded = box.last_result[1], box.last_result[0].axes[0].get_title()
    assert box.render_count == 3 and "q10" in low_rate
    coded = lambda title: int(title.split(" of ")[0])  # noqa: E731
    assert coded(low_coded) < coded(high_coded) <= 64
    bits = lambda text: float(text.split("; rate ")[1].split(" bits")[0])  # noqa: E731
    assert bits(low_rate) < bits(high_rate)
    expected = rd.reverse_water_filling(variances, 255.0**2 / 10**2.5).rate
    assert bits(low_rate) == pytest.approx(expected, abs=5e-4)
    with pytest.raises(ValueError, match="64 variances"):
        widgets.water_filling_view(variances[:10], 30.0)
    with pytest.raises(ValueError, match="between 10 and 70"):
        widgets.water_filling_view(variances, 90.0)
