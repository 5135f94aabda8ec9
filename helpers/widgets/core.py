"""The core of every widget of the workbench: render a matplotlib figure to PNG, and wire controls to
a render function (``interactive_figure``). Every chapter's widget module builds on it."""

from __future__ import annotations

import io
from collections.abc import Callable

import ipywidgets
import matplotlib.pyplot as plt

__all__ = ["figure_to_png", "interactive_figure"]


def figure_to_png(figure: plt.Figure, dpi: int = 90) -> bytes:
    """Render a matplotlib figure to PNG bytes and close it."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(figure)
    return buffer.getvalue()


def interactive_figure(
    render: Callable[..., object], controls: dict[str, ipywidgets.Widget], columns: int = 3
) -> ipywidgets.VBox:
    """Wire ``controls`` to ``render(**values)`` so every change redraws the view.

    ``render`` returns a matplotlib figure, a text/HTML string, or a (figure, text) pair. Figures
    are drawn into an ``ipywidgets.Image`` as PNG (no output capture, so the widget also works under
    nbclient and in tests). The box has ``.controls``, ``.image``, ``.text``, ``.render()``,
    ``.last_result`` and ``.render_count``.
    """
    if not callable(render):
        raise TypeError("render must be callable")
    if not controls:
        raise ValueError("interactive_figure needs at least one control")
    image = ipywidgets.Image(format="png", layout=ipywidgets.Layout(max_width="100%"))
    text = ipywidgets.HTML()
    rows = [
        ipywidgets.HBox(list(controls.values())[i : i + columns])
        for i in range(0, len(controls), columns)
    ]
    box = ipywidgets.VBox([*rows, text, image])
    box.controls, box.image, box.text = controls, image, text
    box.last_result = None
    box.render_count = 0

    def redraw(_change=None):
        values = {name: control.value for name, control in controls.items()}
        result = render(**values)
        figure, message = (
            result
            if isinstance(result, tuple)
            else (result, None)
            if isinstance(result, plt.Figure)
            else (None, result)
        )
        box.last_result = result
        if figure is not None:
            image.value = figure_to_png(figure)
        text.value = "" if message is None else str(message)
        box.render_count += 1

    for control in controls.values():
        control.observe(redraw, names="value")
    box.render = redraw
    redraw()
    return box
