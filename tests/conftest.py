"""Test harness: FAST on, seeds set, WORKBENCH_DATA pointed at ../shared/data when that folder exists.

Tests that need a data set use the ``kodak_dir`` / ``shared_data`` fixtures and skip, with a reason,
only when the data set is absent. Nothing else may skip.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = (ROOT.parent / "shared" / "data").resolve()

os.environ.setdefault("FAST", "1")
os.environ.setdefault("MPLBACKEND", "Agg")
if SHARED_DATA.is_dir() and not os.environ.get("WORKBENCH_DATA"):
    os.environ["WORKBENCH_DATA"] = str(SHARED_DATA)


@pytest.fixture(autouse=True)
def _seeded():
    from helpers import config

    config.seed_everything(0)
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


def _need(folder: str) -> Path:
    root = Path(os.environ.get("WORKBENCH_DATA", ""))
    path = root / folder
    if not os.environ.get("WORKBENCH_DATA") or not path.is_dir() or not any(path.iterdir()):
        pytest.skip(
            f"data set {folder!r} is not available (set WORKBENCH_DATA to the shared data folder)"
        )
    return path


@pytest.fixture
def shared_data() -> Path:
    """The data root (WORKBENCH_DATA); skips when it is not set."""
    root = os.environ.get("WORKBENCH_DATA")
    if not root or not Path(root).is_dir():
        pytest.skip("no data folder: set WORKBENCH_DATA to the shared data folder")
    return Path(root)


@pytest.fixture
def kodak_dir() -> Path:
    return _need("kodak")


@pytest.fixture
def bsds_dir() -> Path:
    return _need("train")


@pytest.fixture
def imagenet_dir() -> Path:
    return _need("imagenet-samples")


@pytest.fixture
def video_dir() -> Path:
    return _need("video")


@pytest.fixture(scope="session")
def roi_photo():
    """A 96 x 128 crop of scikit-image's astronaut: the ROI tests' photo."""
    from skimage import data as skdata

    from helpers import images

    return images.center_crop(skdata.astronaut(), (96, 128))


@pytest.fixture(scope="session")
def roi_blob():
    """A Gaussian ROI map (96 x 128) centred left of the middle: the ROI tests' map."""
    import numpy as np

    yy, xx = np.mgrid[0:96, 0:128]
    return np.exp(-((yy - 40) ** 2 + (xx - 60) ** 2) / (2 * 20**2)).astype(np.float32)


@pytest.fixture(scope="module")
def photo():
    """A 160 x 200 textured crop of scikit-image's astronaut (ships with the package: no data set)."""
    import skimage.data

    return skimage.data.astronaut()[100:260, 150:350]


def rendered(box):
    """What a widget shows: its picture as a pixel array (the PNG decoded) and the numbers in its text."""
    import io
    import re

    import numpy as np
    from PIL import Image

    pixels = np.asarray(Image.open(io.BytesIO(bytes(box.image.value)))) if box.image.value else None
    text = re.sub(r"<[^>]+>|&nbsp;", " ", box.text.value)
    text = re.sub(r"(?<=\d),(?=\d{3})", "", text)  # thousands separators
    return pixels, [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", text)]


def move(box, control: str, value):
    """Move one control and return (before, after) of ``rendered``; fails if the view did not change."""
    import numpy as np

    before = rendered(box)
    box.controls[control].value = value
    after = rendered(box)
    same_pixels = (
        before[0] is not None
        and after[0] is not None
        and before[0].shape == after[0].shape
        and np.array_equal(before[0], after[0])
    )
    assert not (same_pixels and before[1] == after[1]), f"moving {control!r} changed nothing shown"
    return before, after


@pytest.fixture
def tiny_classifier():
    """A seeded 6-class classifier with a pool + linear head (CAM applies), 48-pixel input: widget tests."""
    import torch

    from helpers import cam

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, stride=4, padding=1), torch.nn.ReLU())
    head = torch.nn.Linear(4, 6)
    model = torch.nn.Sequential(net, torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), head)
    classifier = cam.load_classifier("tiny", model=model, target_layer=net[-1])
    classifier.linear, classifier.input_size = head, 48
    classifier.names = [str(i) for i in range(6)]
    return classifier
