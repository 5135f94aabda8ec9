import ipywidgets
import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

from helpers import widgets  # noqa: E402


def test_interactive_figure_redraws_on_change():
    calls = []

    def render(a, b):
        calls.append((a, b))
        return a + b

    box = widgets.interactive_figure(
        render, {"a": ipywidgets.IntSlider(1), "b": ipywidgets.IntSlider(2)}
    )
    assert box.last_result == 3 and box.render_count == 1
    box.controls["a"].value = 10
    assert box.last_result == 12 and calls[-1] == (10, 2)
    with pytest.raises(ValueError):
        widgets.interactive_figure(render, {})
    with pytest.raises(TypeError):
        widgets.interactive_figure("render", {"a": ipywidgets.IntSlider()})


def test_channel_explorer_code_path():
    image = np.random.default_rng(0).integers(0, 256, (40, 90, 3), dtype=np.uint8)
    box = widgets.channel_explorer(image)
    assert set(box.controls) == {"channel", "top", "left"}
    box.controls["channel"].value = "Cr"
    box.controls["left"].value = 0
    figure = box.last_result
    assert bytes(box.image.value)[:8] == b"\x89PNG\r\n\x1a\n"
    zoomed = np.asarray(figure.axes[1].images[0].get_array())
    assert zoomed.shape == (40, 40)
    assert box.render_count == 3
    with pytest.raises(ValueError):
        widgets.channel_explorer(image[..., 0])


def test_figure_to_png_and_text_results():
    import matplotlib.pyplot as plt

    figure, ax = plt.subplots()
    png = widgets.figure_to_png(figure)
    assert png.startswith(b"\x89PNG")
    box = widgets.interactive_figure(lambda a: f"<b>{a}</b>", {"a": ipywidgets.IntSlider(3)})
    assert box.text.value == "<b>3</b>"
    figure2, _ = plt.subplots()
    box2 = widgets.interactive_figure(lambda a: (figure2, f"a={a}"), {"a": ipywidgets.IntSlider(1)})
    assert box2.text.value == "a=1" and bytes(box2.image.value).startswith(b"\x89PNG")


@pytest.mark.parametrize("view", widgets.JPEG_VIEWS)
def test_jpeg_view_every_view(view):
    image = np.random.default_rng(1).integers(0, 256, (24, 40, 3), dtype=np.uint8)
    figure, summary = widgets.jpeg_view(image, 30, "4:2:0", view, block_row=1, block_col=2)
    assert "bytes" in summary and "PSNR" in summary
    assert len(figure.axes) >= 2


def test_jpeg_view_bad_view():
    with pytest.raises(ValueError, match="view"):
        widgets.jpeg_view(np.zeros((8, 8, 3), np.uint8), view="spectrum")


def test_jpeg_explorer_updates_live():
    image = np.random.default_rng(2).integers(0, 256, (32, 48, 3), dtype=np.uint8)
    box = widgets.jpeg_explorer(image)
    first = box.text.value
    box.controls["quality"].value = 90
    assert box.text.value != first and box.render_count == 2
    box.controls["view"].value = "bits per block"
    assert bytes(box.image.value).startswith(b"\x89PNG")
    with pytest.raises(ValueError):
        widgets.jpeg_explorer(image[..., 0])


def test_quantization_editor_updates_live():
    image = np.random.default_rng(3).integers(0, 256, (32, 48, 3), dtype=np.uint8)
    box = widgets.quantization_editor(image)
    before = box.text.value
    box.controls["keep"].value = 3
    assert box.text.value != before
    figure, summary = widgets.quantization_table_view(image, scale=4.0, keep=10)
    assert "bpp" in summary
    with pytest.raises(ValueError):
        widgets.quantization_editor(image[..., 0])


def test_codec_comparator_code_path():
    image = np.random.default_rng(4).integers(0, 256, (48, 64, 3), dtype=np.uint8)
    figure, summary = widgets.codec_comparison_view(
        image, "jpeg", 20, "jpeg2000", 80, top=4, left=8, size=32
    )
    assert "jpeg2000" in summary and "SSIM" in summary
    box = widgets.codec_comparator(image)
    before = box.text.value
    box.controls["percent_a"].value = 90
    assert box.text.value != before
    with pytest.raises(ValueError):
        widgets.codec_comparator(image[..., 0])


def test_rd_explorer_code_path(tmp_path, monkeypatch):
    from helpers import standard_codecs

    monkeypatch.setenv("WORKBENCH_CACHE", str(tmp_path))
    image = np.random.default_rng(5).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    pictures = {"noise": image}
    records = standard_codecs.rd_sweep("jpeg", pictures, [20, 60], measure_ms_ssim=False)
    records += standard_codecs.rd_sweep("webp", pictures, [20, 60], measure_ms_ssim=False)
    figure, summary = widgets.rd_point_view(records, pictures, "webp", point=1)
    assert "webp" in summary and "quality 60" in summary
    box = widgets.rd_explorer(records, pictures)
    box.controls["point"].value = 1
    assert "quality 60" in box.text.value
    with pytest.raises(ValueError):
        widgets.rd_point_view(records, pictures, "avif")
    with pytest.raises(ValueError):
        widgets.rd_explorer([], pictures)


def test_roi_explorer_code_path():
    import torch

    from helpers import cam

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, stride=4, padding=1), torch.nn.ReLU())
    head = torch.nn.Linear(4, 6)
    model = torch.nn.Sequential(net, torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), head)
    classifier = cam.load_classifier("tiny", model=model, target_layer=net[-1])
    classifier.linear, classifier.input_size = head, 48
    classifier.names = [str(i) for i in range(6)]
    yy, xx = np.mgrid[0:64, 0:96]
    image = np.stack([(xx * 2) % 256, (yy * 3) % 256, (xx + yy) % 256], axis=2).astype(np.uint8)
    box = widgets.roi_explorer(image, classifier)
    assert box.render_count == 1 and "psnr_roi" in box.text.value and box.image.value
    for mode in ("quantile", "threshold", "entropy", "progressive"):
        box.controls["mode"].value = mode
    box.controls["method"].value = "eigencam"
    box.controls["top_k"].value = 1
    assert box.render_count == 7 and "uniform" in box.text.value
