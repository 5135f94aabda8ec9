import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from helpers import plotting  # noqa: E402


@pytest.fixture
def rgb():
    return np.random.default_rng(0).integers(0, 256, size=(32, 48, 3), dtype=np.uint8)


def test_use_style_sets_rcparams():
    plotting.use_style()
    assert plt.rcParams["figure.dpi"] == plotting.STYLE["figure.dpi"]


def test_show_images_grid_and_zoom(rgb):
    figure = plotting.show_images(
        {"a": rgb, "b": rgb[..., 0], "map": np.random.rand(32, 48), "t": torch.rand(1, 3, 32, 48)},
        zoom=(4, 8, 16),
        colorbar=True,
    )
    images_drawn = [ax for ax in figure.axes if ax.images]
    assert len(images_drawn) == 8  # 4 images + 4 zoomed crops
    assert [ax.get_title() for ax in figure.axes[:4]] == ["a", "b", "map", "t"]
    zoomed = figure.axes[4].images[0].get_array()
    np.testing.assert_array_equal(np.asarray(zoomed), rgb[4:20, 8:24])


def test_show_images_bad_input(rgb):
    with pytest.raises(ValueError):
        plotting.show_images([])
    with pytest.raises(ValueError, match="titles"):
        plotting.show_images([rgb], titles=["a", "b"])
    with pytest.raises(ValueError, match="zoom"):
        plotting.show_images([rgb], zoom=(30, 0, 16))
    with pytest.raises(ValueError, match="NaN"):
        plotting.show_images([np.full((4, 4), np.nan)])


def test_overlay_heatmap(rgb):
    heat = np.zeros((32, 48))
    out = plotting.overlay_heatmap(rgb, heat, alpha=0.0)
    np.testing.assert_array_equal(out, rgb)
    full = plotting.overlay_heatmap(rgb, np.ones((8, 12)), alpha=1.0, cmap="gray")
    assert full.shape == (32, 48, 3) and (full == 255).all()
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        plotting.overlay_heatmap(rgb, heat + 2)
    with pytest.raises(ValueError, match="2-D"):
        plotting.overlay_heatmap(rgb, np.zeros((2, 2, 2)))
    with pytest.raises(ValueError, match="alpha"):
        plotting.overlay_heatmap(rgb, heat, alpha=2)


def test_plot_rd():
    ax = plotting.plot_rd({"A": ([1.0, 0.5, 0.25], [35, 32, 29]), "B": ([0.3, 0.6], [30, 33])})
    assert len(ax.lines) == 2
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), [0.25, 0.5, 1.0])
    with pytest.raises(ValueError):
        plotting.plot_rd({})
    with pytest.raises(ValueError, match="same length"):
        plotting.plot_rd({"A": ([1, 2], [1])})


@pytest.mark.parametrize("channel", ["RGB", "R", "G", "B", "Y", "Cb", "Cr"])
def test_channel_view(rgb, channel):
    figure = plotting.channel_view(rgb, channel, crop=(0, 0, 16))
    shown = np.asarray(figure.axes[0].images[0].get_array())
    assert shown.shape[:2] == (32, 48)
    if channel == "G":
        np.testing.assert_array_equal(shown, rgb[..., 1])


def test_channel_view_bad_input(rgb):
    with pytest.raises(ValueError, match="channel"):
        plotting.channel_view(rgb, "H")
    with pytest.raises(ValueError, match="RGB"):
        plotting.channel_view(rgb[..., 0])


def test_one_style_per_codec_for_every_figure():
    from helpers import plotting

    assert plotting.style_for("CompressAI: BPG (4:4:4, x265)")["linestyle"] == "--"
    assert plotting.style_for("VTM")["color"] != plotting.style_for("BPG")["color"]
    assert plotting.style_for("workbench bmshj2018-hyperprior")["linewidth"] == 2
    assert plotting.style_for("CompressAI bmshj2018-hyperprior")["linestyle"] == "--"
    assert plotting.style_for("jpeg-444") != plotting.style_for("jpeg")
    assert plotting.style_for("some new codec") == plotting.style_for("some new codec")
    ax = plotting.plot_rd({"jpeg": ([0.5, 1.0], [30, 33]), "webp": ([0.5, 1.0], [31, 34])})
    assert ax.lines[0].get_color() == "black" and ax.lines[1].get_color() == "tab:brown"
    legend = ax.get_legend()
    assert legend.get_bbox_to_anchor().x0 > ax.get_window_extent().x1 - 1  # outside the axes
