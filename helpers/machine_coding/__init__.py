"""Chapter 9: coding for machines. A neural preprocessor before a standard codec, trained through a
proxy, after Lu, Ge, Zhong, Geng and Hu, "Preprocessing Enhanced Image Compression for Machine
Vision" (arXiv 2206.05650, IEEE TCSVT 2024).

The file stays an ordinary JPEG (Pillow/libjpeg) or HEIF (pillow-heif, HEVC intra): only the pixels
handed to the encoder change. Pieces, in the chapter's order:

- ``NPP``: X -> X_bar = X + pixel branch (1 x 1 convolutions) + a small U-Net, whose feature channels
  are scaled by the **quantization adaptation** (two small MLPs: codec quality -> one scale per channel,
  one MLP for the encoder's channels, one for the decoder's): one network for every quality.
- Proxies, because the standard codec has no gradient. ``DiffJPEG`` is chapter 1's JPEG written in
  torch (the JFIF colour transform, 4:2:0 box downsampling, the 8 x 8 DCT, libjpeg's quantization
  tables, straight-through rounding, fancy upsampling) with a rate model fitted to real file sizes
  (``RateModel``). ``LearnedProxy`` is the course's hyperprior fine-tuned to imitate the codec at a
  few qualities (L_p = R_p + lambda_p * MSE(proxy's output, codec's output), trained by
  ``helpers.recipes.coding_for_machines.proxy_recipe``).
- ``through_codec``: forward through the real codec, backward through the proxy (the decoded image and
  the real bits replace the proxy's in the forward pass; the gradients are the proxy's).
- the NPP's training (``helpers.recipes.coding_for_machines.npp_recipe``): L = R + lambda * D_m + beta * D_pre, R in bits per pixel, D_m the knowledge-
  distillation loss against EfficientNet-Lite0's prediction on the original (no labels), D_pre the
  MSE between X and X_bar.
- ``encode`` / ``decode``: real files (the NPP runs before the encoder; decoding is the codec's own).

Images are float tensors in [0, 1], (N, 3, H, W), or uint8 arrays (H, W, 3) at the public entry points.

Modules: ``common`` (codecs, quality ranges, checks), ``diffjpeg``, ``npp``, ``proxies``, ``evaluation``;
every public name is re-exported here (``mc.NPP``).
"""

from __future__ import annotations

from . import common, diffjpeg, evaluation, npp, proxies
from .common import *  # noqa: F403
from .common import __all__ as _common
from .diffjpeg import *  # noqa: F403
from .diffjpeg import __all__ as _diffjpeg
from .evaluation import *  # noqa: F403
from .evaluation import __all__ as _evaluation
from .npp import *  # noqa: F403
from .npp import __all__ as _npp
from .proxies import *  # noqa: F403
from .proxies import __all__ as _proxies

__all__ = [
    "common",
    "diffjpeg",
    "npp",
    "proxies",
    "evaluation",
    *_common,
    *_diffjpeg,
    *_npp,
    *_proxies,
    *_evaluation,
]
