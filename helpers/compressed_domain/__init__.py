"""Chapter 8: learning on compressed data. Networks that read JPEG's DCT coefficients and a learned
codec's latents instead of pixels.

Three lines of work, in the chapter's order:

1. **JPEG decoding is (almost) a linear map.** Dequantization, the inverse DCT, chroma upsampling and
   the YCbCr -> RGB transform are linear or affine; only rounding and clamping are not
   (``decoding_matrix``, ``linear_decode``).
2. **Exact conversion** (Ehrlich and Davis, ICCV 2019) of a small residual network trained on pixels
   into one that reads the coefficients: a convolution becomes a convolution over the block grid whose
   channels are (feature channel, frequency) pairs (``block_conv_weights``), batch norm folds into it,
   addition is addition, global average pooling reads the DC coefficients. ReLU is not linear:
   ``relu_exact`` (decode, mask, re-encode), ``relu_direct`` (ReLU of a k-frequency approximation) and
   ``relu_asm`` (approximated spatial masking: the mask from k frequencies, applied to the full signal).
3. **Adapters** for EfficientNet-Lite0 (Gueguen et al. NeurIPS 2018; Xu et al. CVPR 2020; Duan, Ma and
   Zhu TCSVT 2023): a small network replaces the layers before the stride-8 stage (``DCTAdapter``, reads
   the quantized coefficients of a baseline 4:2:0 JPEG, with a learned gate over the 192 frequency
   channels) or the hyperprior's quantized latents y_hat (``LatentAdapter``, stride 16, upsampled x 2
   to the same join by a layer shaped like, and started from, g_s's first layer). They are trained by
   knowledge transfer from the pixel network (no labels): regress its own features and match its logits (``helpers.recipes.compressed_domain``).

Modules: ``exact`` (1 and 2), ``readers`` (a JPEG's coefficients and a hyperprior file's latents,
without decoding), ``adapters`` (3); every public name is re-exported here (``cd.DCTAdapter``).

Layouts: coefficient tensors are (N, C * 64, H / 8, W / 8), channel ``c * 64 + 8 * u + v`` holding
frequency (u, v) of feature channel c, orthonormal 8 x 8 DCT (chapter 1's ``dct_matrix``).
"""

from __future__ import annotations

from . import adapters, exact, readers
from .adapters import *  # noqa: F403
from .adapters import __all__ as _adapters
from .exact import *  # noqa: F403
from .exact import __all__ as _exact
from .readers import *  # noqa: F403
from .readers import __all__ as _readers

__all__ = ["exact", "readers", "adapters", *_exact, *_readers, *_adapters]
