"""Video coding (chapters 5 and 10).

* ``helpers.video.toy`` (re-exported here, as before): chapter 5's luma-only toy codec, where the
  learned loop filter first meets a coding loop: ``video.encode``, ``video.decode``, ``video.analyze``.
* ``helpers.video.hybrid``: chapter 10's hybrid codec (4:2:0 luma and chroma, intra modes chosen by
  rate-distortion cost, half-pel motion, skip, loop filter) and its switchable deep tools.
* ``helpers.video.intra``: the intra predictors (classic modes, learned mode, chroma from luma).
* ``helpers.video.learned``: the small networks of the deep tools and their integer forms.
* ``helpers.video.fastmode``: the learned fast mode decision (encoder only).
* ``helpers.video.pframe``: the learned (DVC-style) P-frame codec.

Their training lives in ``helpers.recipes.video_tools`` (``python -m helpers.recipes video ...``).
* ``helpers.video.reference_codecs``: x264 and x265 through ffmpeg, on the same frames.
"""

from . import toy
from .toy import (
    FILTER_MODES,
    INTEGER_SUFFIX,
    MACROBLOCK,
    BitReader,
    BitWriter,
    EncodedVideo,
    VideoStreamError,
    analyze,
    decode,
    encode,
    luma_psnr,
    motion_compensate,
    motion_search,
    shipped_filter,
)

__all__ = [
    "toy",
    "load_pretrained",
    "FILTER_MODES",
    "INTEGER_SUFFIX",
    "MACROBLOCK",
    "BitReader",
    "BitWriter",
    "EncodedVideo",
    "VideoStreamError",
    "analyze",
    "decode",
    "encode",
    "luma_psnr",
    "motion_compensate",
    "motion_search",
    "shipped_filter",
]


def load_pretrained(name: str, quality: int | None = None):
    """A shipped chapter-10 model (registry family "video"): "pframe" (quality 1 or 2: the learned
    P-frame codec), "fast-mode" (the encoder's mode classifier), "loop-filter" (the codec-trained
    loop filter, float; ``hybrid.loop_filter_network`` gives its integer form) or "tools" (the deep
    tools' integer networks, {tool name: ``learned.IntegerTool``})."""
    from .. import filters, registry
    from . import fastmode, learned, pframe

    if name == "pframe":
        return pframe.load_pretrained(name, quality)
    if name == "fast-mode":
        return fastmode.load_pretrained(name, quality)
    if quality is not None:
        raise ValueError(f"the video model {name!r} serves every quality; got quality={quality!r}")
    if name == "loop-filter":
        return registry.load("video", name, None, filters.build_model)
    if name == "tools":
        return {tool: learned.load_integer(tool) for tool in learned.TOOLS}
    raise registry.WeightsError(f"no video model {name!r}; shipped: {registry.shipped('video')}")
