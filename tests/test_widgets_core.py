"""helpers.widgets.core: the render-to-PNG wiring every widget uses."""

import ipywidgets
import matplotlib
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
