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
