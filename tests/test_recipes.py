"""The training recipes and their one command line (helpers.recipes)."""

import math

import numpy as np
import pytest
import torch

from helpers import recipes


def test_autoencoder_recipe_runs_checkpoints_and_resumes_from_the_command_line(bsds_dir, tmp_path):
    path = tmp_path / "codec.pt"
    history = recipes.autoencoder_recipe(
        "bmshj2018-factorized",
        3,
        path,
        lmbda=0.01,
        crop_size=32,
        batch_size=2,
        N=8,
        M=8,
        progress=False,
    )
    assert history.steps[-1] == 3 and math.isfinite(history.records[-1]["bpp"])
    state = torch.load(path, weights_only=True)
    assert state["step"] == 3 and state["extra"]["lmbda"] == 0.01
    recipes.main(
        [
            "autoencoder",
            "--name",
            "bmshj2018-factorized",
            "--steps",
            "4",
            "--out",
            str(path),
            "--lmbda",
            "0.01",
            "--crop-size",
            "32",
            "--batch-size",
            "2",
            "--N",
            "8",
            "--M",
            "8",
            "--threads",
            "1",
        ]
    )
    assert torch.load(path, weights_only=True)["step"] == 4


def test_pixelcnn_recipe_lowers_the_bits(bsds_dir, tmp_path):
    path = tmp_path / "pixelcnn.pt"
    history = recipes.pixelcnn_recipe(
        "gated", 30, path, crop_size=12, batch_size=4, hidden=6, num_layers=2, progress=False
    )
    first, last = history.records[0]["loss"], history.last("loss", 1)
    assert 0 < last < first  # bits per subpixel fall from about 8
    state = torch.load(path, weights_only=True)
    assert state["step"] == 30 and state["extra"]["name"] == "gated"


def test_multiscale_recipe_trains_on_shrunk_photos_and_resumes(bsds_dir, tmp_path):
    path = tmp_path / "multiscale.pt"
    history = recipes.multiscale_recipe(
        "multiscale",
        3,
        path,
        crop_size=32,
        batch_size=2,
        hidden=8,
        blocks=1,
        mixtures=2,
        training_data="bsds500",
        progress=False,
    )
    assert history.steps[-1] == 3 and 0 < history.last("loss", 1) < 16
    state = torch.load(path, weights_only=True)
    assert state["extra"]["blocks"] == 1 and "shrunk" in state["extra"]["data"]
    recipes.main(
        [
            "multiscale",
            "--steps",
            "4",
            "--out",
            str(path),
            "--crop-size",
            "32",
            "--batch-size",
            "2",
            "--hidden",
            "8",
            "--blocks",
            "1",
            "--mixtures",
            "2",
            "--training-data",
            "bsds500",
            "--threads",
            "1",
        ]
    )
    assert torch.load(path, weights_only=True)["step"] == 4
    with pytest.raises(ValueError, match="training_data"):
        recipes.multiscale_recipe("multiscale", 1, path, training_data="kodak")


def test_downscaled_photos_shrink_each_photo_once_and_drop_small_ones():
    rng = np.random.default_rng(0)
    photos = [
        rng.integers(0, 256, (100, 150, 3), dtype=np.uint8),
        rng.integers(0, 256, (45, 45), dtype=np.uint8),
    ]
    out = recipes.downscaled_photos(photos, seed=1, min_side=40)
    assert len(out) == 1  # the 45 x 45 grey photo shrinks below 40 pixels and is left out
    height, width, channels = out[0].shape
    assert 0.6 * 100 - 1 <= height <= 0.8 * 100 + 1 and channels == 3
    assert abs(width / height - 1.5) < 0.05 and out[0].dtype == np.uint8


def test_filter_recipe_runs_and_caches_its_pairs(bsds_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_CACHE", str(tmp_path))
    path = tmp_path / "filter.pt"
    history = recipes.filter_recipe(
        "dncnn",
        4,
        path,
        crop_size=32,
        batch_size=2,
        max_images=2,
        qualities=(10,),
        progress=False,
        features=8,
        depth=3,
    )
    assert history.steps[-1] == 4 and path.is_file()
    state = torch.load(path, map_location="cpu", weights_only=True)
    assert state["extra"]["sizes"] == {"features": 8, "depth": 3}
    assert list((tmp_path / "filters").glob("pairs_*.npz"))  # the coded pairs were cached


def test_jpeg_pairs_crops_sit_on_the_block_grid(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_CACHE", str(tmp_path))
    column = (np.arange(48) % 8 * 30).astype(np.uint8)
    grey = np.repeat(np.tile(column, (40, 1))[:, :, None], 3, axis=2)
    pairs = recipes.JPEGPairs([grey, grey], qualities=(10, 30), crop_size=16, cache=False)
    decoded, clean, quality = pairs.batch(32, np.random.default_rng(0))
    assert decoded.shape == clean.shape == (32, 1, 16, 16)
    assert set(quality.tolist()) <= {10.0, 30.0}
    first = (clean[:, 0, :, 0] * 255).round()
    assert set(first[:, 0].tolist()) <= {0.0, 210.0}  # column 0 of a block (or 7 when flipped)
    assert not torch.equal(decoded, clean)
    with pytest.raises(ValueError, match="multiple of 8"):
        recipes.JPEGPairs([grey], crop_size=12)


def test_the_command_line_rejects_unknown_families_and_names():
    with pytest.raises(SystemExit):
        recipes.main(["codec", "--steps", "1", "--out", "x.pt"])
    with pytest.raises(SystemExit):
        recipes.main(["pixelcnn", "--name", "resnet", "--steps", "1", "--out", "x.pt"])
    for family in ("npp", "proxy"):  # chapter 9: the codec is the name
        with pytest.raises(SystemExit):
            recipes.main([family, "--name", "webp", "--steps", "1", "--out", "x.pt"])
    with pytest.raises(SystemExit):
        recipes.main(["npp", "--proxy", "bpg", "--steps", "1", "--out", "x.pt"])


def test_jpeg_pairs_cache_tells_in_memory_images_apart(tmp_path, monkeypatch):
    """Two different arrays with the same abbreviated repr must not share a cache entry."""
    monkeypatch.setenv("WORKBENCH_CACHE", str(tmp_path))
    first = np.full((48, 48, 3), 100, np.uint8)
    second = first.copy()
    second[20:30, 20:30] = 200  # the middle differs; numpy's repr of both looks the same
    a = recipes.JPEGPairs([first], qualities=(10,), crop_size=16)
    b = recipes.JPEGPairs([second], qualities=(10,), crop_size=16)
    assert not np.array_equal(a.clean[0], b.clean[0])
    assert len(list((tmp_path / "filters").glob("pairs_*.npz"))) == 2
    again = recipes.JPEGPairs([second], qualities=(10,), crop_size=16)  # read back from the cache
    np.testing.assert_array_equal(again.decoded[0][0], b.decoded[0][0])
