"""Every widget of the course, one module per chapter; wiring only, the maths lives in the topic modules.

Each explorer returns an ``ipywidgets.VBox`` whose ``render()`` redraws it and whose ``controls`` dict
holds its sliders and dropdowns, so a test drives the same code path as a student. Each ``*_view``
function draws the static figure that comes before its widget in the notebook.

| chapter | module | widgets |
|---|---|---|
| 0 | welcome | channel_explorer |
| 1 | jpeg_internals | jpeg_view, jpeg_explorer, quantization_table_view, quantization_editor |
| 2 | quality | codec_comparison_view, codec_comparator, rd_point_view, rd_explorer |
| 3 | pixel_models | interval_view, interval_explorer, rans_state_view, rans_state_explorer, bits_heatmap_view, bits_explorer, scale_step_view, scale_step_explorer |
| 4 | autoencoders | water_filling_view, water_filling_explorer, rate_point_view, rate_picker |
| 5 | loop_filters | filter_view, filter_explorer |
| 6 | class_maps | cam_view, cam_explorer |
| 7 | roi_coding | roi_view, roi_explorer |
| 8 | compressed_domain | relu_view, relu_explorer, gate_view, gate_explorer |
| 9 | machine_coding | npp_view, npp_explorer |
| 10 | video_tools | tool_frames_view, tool_explorer, motion_view, motion_explorer, mode_map_view, mode_map_explorer |
"""

from . import (
    autoencoders,
    class_maps,
    compressed_domain,
    core,
    jpeg_internals,
    loop_filters,
    machine_coding,
    pixel_models,
    quality,
    roi_coding,
    video_tools,
    welcome,
)
from .autoencoders import rate_picker, rate_point_view, water_filling_explorer, water_filling_view
from .class_maps import cam_explorer, cam_view
from .compressed_domain import gate_explorer, gate_view, relu_explorer, relu_view
from .core import figure_to_png, interactive_figure
from .jpeg_internals import (
    JPEG_VIEWS,
    jpeg_explorer,
    jpeg_view,
    quantization_editor,
    quantization_table_view,
)
from .loop_filters import filter_explorer, filter_view
from .machine_coding import npp_explorer, npp_view
from .pixel_models import (
    bits_explorer,
    bits_heatmap_view,
    interval_explorer,
    interval_view,
    rans_state_explorer,
    rans_state_view,
    scale_step_explorer,
    scale_step_view,
)
from .quality import codec_comparator, codec_comparison_view, rd_explorer, rd_point_view
from .roi_coding import roi_explorer, roi_view
from .video_tools import (
    mode_map_explorer,
    mode_map_view,
    motion_explorer,
    motion_view,
    tool_explorer,
    tool_frames_view,
)
from .welcome import channel_explorer

__all__ = [
    "video_tools",
    "tool_frames_view",
    "tool_explorer",
    "motion_view",
    "motion_explorer",
    "mode_map_view",
    "mode_map_explorer",
    "autoencoders",
    "class_maps",
    "compressed_domain",
    "roi_coding",
    "core",
    "jpeg_internals",
    "loop_filters",
    "machine_coding",
    "pixel_models",
    "quality",
    "welcome",
    "figure_to_png",
    "interactive_figure",
    "channel_explorer",
    "JPEG_VIEWS",
    "jpeg_view",
    "jpeg_explorer",
    "quantization_table_view",
    "quantization_editor",
    "codec_comparison_view",
    "codec_comparator",
    "rd_point_view",
    "rd_explorer",
    "interval_view",
    "interval_explorer",
    "rans_state_view",
    "rans_state_explorer",
    "bits_heatmap_view",
    "bits_explorer",
    "scale_step_explorer",
    "scale_step_view",
    "rate_point_view",
    "rate_picker",
    "water_filling_view",
    "water_filling_explorer",
    "filter_view",
    "filter_explorer",
    "cam_view",
    "cam_explorer",
    "roi_view",
    "roi_explorer",
    "relu_view",
    "relu_explorer",
    "gate_view",
    "gate_explorer",
    "npp_view",
    "npp_explorer",
]
