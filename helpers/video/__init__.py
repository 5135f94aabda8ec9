"""Video coding (chapters 5 and 10).

* ``helpers.video.toy`` (re-exported here, as before): chapter 5's luma-only toy codec, where the
  learned loop filter first meets a coding loop: ``video.encode``, ``video.decode``, ``video.analyze``.
* ``helpers.video.hybrid``: chapter 10's hybrid codec (4:2:0 luma and chroma, intra modes chosen by
  rate-distortion cost, half-pel motion, skip, loop filter) and its switchable deep tools.
* ``helpers.video.intra``: the intra predictors (classic modes, learned mode, chroma from luma).
* ``helpers.video.learned``: the small networks of the deep tools, their training and integer forms.
* ``helpers.video.fastmode``: the learned fast mode decision (encoder only).
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
    _shipped_filter,
    analyze,
    decode,
    encode,
    luma_psnr,
    motion_compensate,
    motion_search,
)

__all__ = [
    "toy",
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
    "_shipped_filter",
]
