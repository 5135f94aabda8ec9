"""Chapter 9's widgets (helpers.widgets.machine_coding)."""

import matplotlib
import numpy as np
import torch
from skimage import data as skdata

matplotlib.use("Agg")

from conftest import move  # noqa: E402

from helpers import machine_coding as mc  # noqa: E402
from helpers import widgets  # noqa: E402


class _Toy(torch.nn.Module):
    """A stand-in machine: 5 classes from the mean colour (fast, no weights)."""

    names = ["red", "green", "blue", "dark", "bright"]

    def __init__(self):
        super().__init__()
        self.register_buffer(
            "w", torch.tensor([[4.0, 0, 0, -2, 2], [0, 4, 0, -2, 2], [0, 0, 4, -2, 2]])
        )

    def forward(self, x):
        return x.mean((2, 3)) @ self.w


def _npp():
    torch.manual_seed(0)
    npp = mc.NPP("jpeg")
    torch.nn.init.normal_(npp.out.weight, std=0.05)
    return npp.eval()


def test_npp_view_reports_the_real_file():
    image = skdata.astronaut()[100:164, 150:214]
    figure, text = widgets.npp_view(_npp(), image, 30, True, _Toy())
    size = len(mc.encode(image, "jpeg", 30, _npp()))
    assert f"{size:,} bytes" in text and len(figure.axes) == 4
    off_figure, off_text = widgets.npp_view(_npp(), image, 30, False, _Toy())
    assert f"{len(mc.encode(image, 'jpeg', 30)):,} bytes" in off_text
    assert "RMS removed 0.00" in off_text and "RMS removed 0.00" not in text


def test_npp_explorer_moves_quality_and_switch():
    image = skdata.coffee()[50:114, 200:264]
    box = widgets.npp_explorer(_npp(), image, _Toy())
    first = box.text.value
    move(box, "quality", 80)
    assert box.text.value != first and "q80" in box.last_result[0].axes[1].get_title()
    move(box, "on", False)
    assert "NPP off" in box.last_result[0].axes[1].get_title()
    sizes = [int(box.text.value.split(" bytes")[0].replace(",", ""))]
    assert sizes[0] == len(mc.encode(image, "jpeg", 80))
    assert np.isfinite(float(box.text.value.split("(")[1].split(" bpp")[0]))
