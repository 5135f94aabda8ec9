"""Chapter 8's widgets (helpers.widgets.compressed_domain)."""

import matplotlib
import numpy as np
import torch

matplotlib.use("Agg")

from conftest import move  # noqa: E402

from helpers import compressed_domain as cd  # noqa: E402
from helpers import widgets  # noqa: E402


def test_relu_explorer_reports_both_errors_and_reaches_exact():
    torch.manual_seed(0)
    coefficients = cd.to_coefficients(torch.randn(1, 2, 16, 16, dtype=torch.float64))
    box = widgets.relu_explorer(coefficients)
    assert "RMSE direct" in box.text.value and "RMSE ASM" in box.text.value
    move(box, "index", 5)
    move(box, "k", 15)
    errors = [float(part.split(": ")[1]) for part in box.text.value.split(" · ")]
    assert len(errors) == 2 and max(errors) < 1e-9  # all 15 bands: both approximations are exact


def test_gate_view_counts_the_channels_used():
    probabilities = np.full((3, 8, 8), 0.9)
    off = np.zeros((3, 8, 8), bool)
    off[1:, 4:] = True
    figure, text = widgets.gate_view(probabilities, off, agreement=0.5)
    assert len(figure.axes) == 4 and "50.0%" in text  # three maps and the colour bar
    assert figure.axes[1].get_title() == "Cb: 32 of 64 used"


def test_gate_explorer_turns_channels_off():
    class Tiny(torch.nn.Module):  # a stand-in classifier: reads the adapter's output
        def __init__(self):
            super().__init__()
            self.adapter = cd.DCTAdapter(width=12, depth=1, out_channels=4).eval()

        def forward(self, luma, chroma):
            return self.adapter(luma, chroma).mean(dim=(2, 3))

    torch.manual_seed(0)
    model = Tiny()
    inputs = [(torch.randn(1, 64, 2, 2), torch.randn(1, 128, 1, 1)) for _ in range(12)]
    with torch.no_grad():
        reference = np.array([int(model(*i).argmax()) for i in inputs])
    box = widgets.gate_explorer(model, inputs, reference)
    assert "100.0%" in box.text.value  # all channels on: the model agrees with itself
    move(box, "luma_bands", 0)
    assert "Y: 0 of 64 used" in str(box.last_result[0].axes[0].get_title())
    move(box, "top", 10)
    used = sum(int(a.get_title().split(": ")[1].split()[0]) for a in box.last_result[0].axes[:3])
    assert used <= 10
    assert not model.adapter.disabled.any()  # the explorer restores the gate after each render
