"""Chapter 9, npp: The neural preprocessor: a pixel branch and a small U-Net scaled by the quantization adaptation."""

from __future__ import annotations

import math
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from .. import cam, config, metrics, standard_codecs
from .common import check_batch, check_codec, check_quality, quality_tensor

__all__ = [
    "QualityAdaptation",
    "NPP",
    "GuidedBlurNPP",
    "load_npp",
]


class QualityAdaptation(nn.Module):
    """Two small MLPs, quality -> one positive scale per feature channel: one for the U-Net's
    encoder channels, one for its decoder's. They start at 1 (the last layers are zero: 2 sigmoid(0))."""

    def __init__(self, encoder_channels: int, decoder_channels: int, hidden: int = 32):
        super().__init__()

        def mlp(out: int) -> nn.Sequential:
            net = nn.Sequential(nn.Linear(1, hidden), nn.ReLU(), nn.Linear(hidden, out))
            nn.init.zeros_(net[2].weight)
            nn.init.zeros_(net[2].bias)
            return net

        self.encoder, self.decoder = mlp(encoder_channels), mlp(decoder_channels)

    def forward(self, quality: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """quality (N,) normalized to [0, 1] -> (encoder scales, decoder scales), each (N, C)."""
        q = quality.reshape(-1, 1)
        return 2 * torch.sigmoid(self.encoder(q)), 2 * torch.sigmoid(self.decoder(q))


def _double_conv(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1),
        nn.LeakyReLU(0.1),
        nn.Conv2d(cout, cout, 3, padding=1),
        nn.LeakyReLU(0.1),
    )


class NPP(nn.Module):
    """Neural preprocessing: X_bar = clamp(X + pixel(X) + unet(X, q)), the last layer of each branch
    zero, so an untrained NPP is the identity. ``adaptive=False`` drops the quantization adaptation
    (a per-quality model: the quality is then ignored)."""

    def __init__(
        self,
        codec: str = "jpeg",
        width: int = 16,
        adaptive: bool = True,
        quality: int | None = None,
    ):
        super().__init__()
        self.codec = check_codec(codec)
        self.width, self.adaptive = width, adaptive
        #: the one quality a per-quality model (``adaptive=False``) was trained at
        self.quality = None if quality is None else int(check_quality(codec, quality))
        w = width
        self.pixel = nn.Sequential(nn.Conv2d(3, w, 1), nn.LeakyReLU(0.1), nn.Conv2d(w, 3, 1))
        self.enc1, self.enc2, self.enc3 = (
            _double_conv(3, w),
            _double_conv(w, 2 * w),
            _double_conv(2 * w, 4 * w),
        )
        self.up2, self.dec2 = (
            nn.ConvTranspose2d(4 * w, 2 * w, 2, stride=2),
            _double_conv(4 * w, 2 * w),
        )
        self.up1, self.dec1 = nn.ConvTranspose2d(2 * w, w, 2, stride=2), _double_conv(2 * w, w)
        self.out = nn.Conv2d(w, 3, 1)
        for last in (self.pixel[2], self.out):
            nn.init.zeros_(last.weight)
            nn.init.zeros_(last.bias)
        self.adaptation = QualityAdaptation(w + 2 * w + 4 * w, 2 * w + w) if adaptive else None

    def normalized_quality(self, qualities, n: int, device) -> torch.Tensor:
        low, high = standard_codecs.get(self.codec).quality_range
        q = quality_tensor(self.codec, qualities, n, device)
        return (q - low) / (high - low)

    def residual(self, x: torch.Tensor, qualities) -> torch.Tensor:
        """X_bar - X before clamping: what the NPP adds (its negative is what it removes)."""
        x = check_batch(x)
        h, w = x.shape[-2:]
        pad = (0, (-w) % 4, 0, (-h) % 4)
        z = F.pad(x, pad, mode="replicate") if any(pad) else x
        ones = torch.ones(x.shape[0], 1, device=x.device)
        if self.adaptive:
            enc, dec = self.adaptation(self.normalized_quality(qualities, x.shape[0], x.device))
        else:
            enc, dec = ones.expand(-1, 7 * self.width), ones.expand(-1, 3 * self.width)
        c = self.width
        e1 = self.enc1(z) * enc[:, :c, None, None]
        e2 = self.enc2(F.avg_pool2d(e1, 2)) * enc[:, c : 3 * c, None, None]
        e3 = self.enc3(F.avg_pool2d(e2, 2)) * enc[:, 3 * c :, None, None]
        d2 = self.dec2(torch.cat([self.up2(e3), e2], 1)) * dec[:, : 2 * c, None, None]
        d1 = self.dec1(torch.cat([self.up1(d2), e1], 1)) * dec[:, 2 * c :, None, None]
        out = self.pixel(z) + self.out(d1)
        return out[..., :h, :w]

    def forward(self, x: torch.Tensor, qualities) -> torch.Tensor:
        return (x + self.residual(x, qualities)).clamp(0, 1)


def gaussian_blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """A separable Gaussian blur of (N, C, H, W) with reflected borders (radius 3 sigma)."""
    radius = max(1, int(math.ceil(3 * sigma)))
    kernel = metrics.gaussian_window(2 * radius + 1, sigma, device=x.device, dtype=x.dtype)
    c = x.shape[1]
    z = F.pad(x, (radius, radius, 0, 0), mode="reflect")
    z = F.conv2d(z, kernel.view(1, 1, 1, -1).expand(c, 1, 1, -1), groups=c)
    z = F.pad(z, (0, 0, radius, radius), mode="reflect")
    return F.conv2d(z, kernel.view(1, 1, -1, 1).expand(c, 1, -1, 1), groups=c)


class GuidedBlurNPP(nn.Module):
    """A preprocessor that can only remove detail, where the machine does not look: X_bar =
    sum_k w_k G_k(X), a per-pixel convex mix of X (k = 0) and Gaussian blurs of X (sigma 1, 2, 4), the
    weights w from a small network that reads X, the quality and the machine's own class activation map
    (CAM of its top class on X, Lite0 at the encoder, as in chapter 7). It starts near the identity
    (w_0 = 0.99). Unlike ``NPP`` it cannot shift colours; what it learns is *where* detail is not worth
    its bits to the machine.

    ``machine``: the frozen classifier (``Machine``) whose CAM guides it; not part of the state dict
    (the machine is not trained); ``None`` drops the guidance (the map input is zero)."""

    def __init__(
        self,
        codec: str = "jpeg",
        width: int = 16,
        sigmas: tuple[float, ...] = (1.0, 2.0, 4.0),
        machine: nn.Module | None = None,
    ):
        super().__init__()
        self.codec = check_codec(codec)
        self.width, self.sigmas = width, tuple(float(s) for s in sigmas)
        self._machine = [machine]  # a list: not a submodule, not in the state dict
        w, k = width, len(self.sigmas) + 1
        self.net = nn.Sequential(
            nn.Conv2d(5, w, 3, stride=2, padding=1),
            nn.LeakyReLU(0.1),
            nn.Conv2d(w, w, 3, stride=2, padding=1),
            nn.LeakyReLU(0.1),
            nn.Conv2d(w, w, 3, padding=2, dilation=2),
            nn.LeakyReLU(0.1),
            nn.Conv2d(w, k, 1),
        )
        nn.init.zeros_(self.net[-1].weight)
        with torch.no_grad():
            self.net[-1].bias.copy_(torch.tensor([math.log(99.0 * (k - 1))] + [0.0] * (k - 1)))

    def guidance(self, x: torch.Tensor) -> torch.Tensor:
        """The machine's CAM of its top class on x, (N, 1, H, W) in [0, 1] (zeros without a machine)."""
        machine = self._machine[0]
        if machine is None:
            return x.new_zeros(x.shape[0], 1, *x.shape[-2:])
        cams = cam.top_class_cams(machine.net, (x - machine.mean) / machine.std)
        return F.interpolate(cams, size=x.shape[-2:], mode="bilinear", align_corners=False)

    def weights(self, x: torch.Tensor, qualities) -> torch.Tensor:
        """(N, 1 + len(sigmas), H, W): the share of X and of each blur at every pixel."""
        low, high = standard_codecs.get(self.codec).quality_range
        q = (quality_tensor(self.codec, qualities, x.shape[0], x.device) - low) / (high - low)
        plane = q.view(-1, 1, 1, 1).expand(-1, 1, *x.shape[-2:])
        logits = self.net(torch.cat([x, plane, self.guidance(x)], 1))
        logits = F.interpolate(logits, size=x.shape[-2:], mode="bilinear", align_corners=False)
        return logits.softmax(1)

    def forward(self, x: torch.Tensor, qualities) -> torch.Tensor:
        x = check_batch(x)
        w = self.weights(x, qualities)
        out = w[:, :1] * x
        for index, sigma in enumerate(self.sigmas, start=1):
            out = out + w[:, index : index + 1] * gaussian_blur(x, sigma)
        return out.clamp(0, 1)


# ----------------------------------------------------------------------------------------------
# Learned proxies, the real codec in the forward pass
# ----------------------------------------------------------------------------------------------


def load_npp(path: str | Path) -> NPP:
    """An NPP from an ``npp_recipe`` (helpers.recipes.coding_for_machines) checkpoint (what you trained yourself), in eval mode."""
    state = torch.load(path, map_location="cpu", weights_only=True)
    extra = state.get("extra", {})
    npp = NPP(
        extra.get("codec", "jpeg"),
        width=extra.get("width", 16),
        adaptive=extra.get("quality") is None,
        quality=extra.get("quality"),
    )
    npp.load_state_dict(state["model"])
    return npp.eval().to(config.device())
