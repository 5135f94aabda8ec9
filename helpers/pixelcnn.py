"""Pixel probabilistic models (chapter 3): p(x) = prod_i p(x_i | x_<i) over subpixels in raster order,
R before G before B within a pixel.

``MaskedConv2d`` hides the future (type A also hides the current subpixel, type B lets it through to
deeper layers), with the R -> G -> B channel masking of van den Oord et al. 2016 ("Pixel Recurrent
Neural Networks"). ``PixelCNN`` stacks them; ``GatedPixelCNN`` (van den Oord et al. 2016, "Conditional
Image Generation with PixelCNN Decoders") splits a vertical and a horizontal stack so the receptive
field has no blind spot. The output is a 256-way softmax per subpixel or a discretized logistic mixture
(Salimans et al. 2017, PixelCNN++). ``bits_per_subpixel`` needs one parallel forward pass; sampling
and decoding are sequential.
"""

from __future__ import annotations

import math
import struct

import numpy as np
import torch
import torch.nn.functional as F

from . import container, fixedpoint, images, registry

__all__ = [
    "logistic_log_prob_at",
    "channel_groups",
    "MaskedConv2d",
    "PixelCNN",
    "GatedPixelCNN",
    "OUTPUTS",
    "log_probabilities",
    "bits_loss",
    "bits_per_subpixel",
    "bits_map",
    "sample",
    "med_predict",
    "med_bits_per_subpixel",
    "FREQUENCY_TOTAL",
    "receptive_field",
    "coding_stream",
    "compress",
    "decompress",
    "ARCHITECTURES",
    "build_model",
    "load_pretrained",
    "PixelCNNStreamError",
    "IntegerPixelCNN",
    "integer_bits_per_subpixel",
    "load_integer",
]

OUTPUTS = ("softmax", "logistic_mixture")


def channel_groups(channels: int, colour: bool = True) -> torch.Tensor:
    """Which colour (0 R, 1 G, 2 B) each of ``channels`` feature channels belongs to: contiguous thirds.

    Without colour (grayscale) every channel is group 0.
    """
    if not colour:
        return torch.zeros(channels, dtype=torch.long)
    if channels % 3:
        raise ValueError(f"colour models need channel counts divisible by 3, got {channels}")
    return torch.arange(channels) * 3 // channels


class MaskedConv2d(torch.nn.Conv2d):
    """A convolution that sees only earlier positions: rows above, columns to the left in the same row,
    and at the centre only earlier colour groups (type A) or earlier and the same group (type B).

    ``in_groups`` / ``out_groups`` give the colour group of each input / output channel (see
    channel_groups); a layer whose output is split in parts (gates) passes its own out_groups.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        mask_type: str,
        in_groups: torch.Tensor | None = None,
        out_groups: torch.Tensor | None = None,
        colour: bool = True,
    ):
        kernel = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
        if kernel[0] % 2 == 0 or kernel[1] % 2 == 0:
            raise ValueError(f"kernel sizes must be odd, got {kernel}")
        if mask_type not in ("A", "B"):
            raise ValueError(f"mask_type must be 'A' or 'B', got {mask_type!r}")
        super().__init__(
            in_channels, out_channels, kernel, padding=(kernel[0] // 2, kernel[1] // 2)
        )
        in_groups = channel_groups(in_channels, colour) if in_groups is None else in_groups
        out_groups = channel_groups(out_channels, colour) if out_groups is None else out_groups
        mask = torch.zeros_like(self.weight)
        centre_row, centre_col = kernel[0] // 2, kernel[1] // 2
        mask[:, :, :centre_row, :] = 1  # every row above
        mask[:, :, centre_row, :centre_col] = 1  # the left part of the current row
        earlier = in_groups[None, :] < out_groups[:, None]
        same = in_groups[None, :] == out_groups[:, None]
        allowed = earlier | same if mask_type == "B" else earlier
        mask[:, :, centre_row, centre_col] = allowed.float()
        self.register_buffer("mask", mask)
        self.mask_type = mask_type

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.weight * self.mask, self.bias, padding=self.padding)


def _output_channels(output: str, mixtures: int) -> int:
    if output == "softmax":
        return 256
    if output == "logistic_mixture":
        return 3 * mixtures
    raise ValueError(f"output must be one of {OUTPUTS}, got {output!r}")


class _Head(torch.nn.Module):
    """Masked 1x1 convolutions to the per-subpixel distribution parameters, grouped by colour."""

    def __init__(self, hidden: int, channels: int, colour: bool, output: str, mixtures: int):
        super().__init__()
        per = _output_channels(output, mixtures)
        groups = channel_groups(hidden, colour)
        out_groups = (
            torch.arange(channels).repeat_interleave(per)
            if colour
            else torch.zeros(channels * per, dtype=torch.long)
        )
        if not colour and channels != 1:
            raise ValueError("a grayscale model has one channel")
        self.hidden = MaskedConv2d(hidden, hidden, 1, "B", groups, groups, colour)
        self.out = MaskedConv2d(hidden, channels * per, 1, "B", groups, out_groups, colour)
        self.channels, self.per = channels, per

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        params = self.out(F.relu(self.hidden(F.relu(h))))
        batch, _, height, width = params.shape
        return params.view(batch, self.channels, self.per, height, width)


def _describe(model: torch.nn.Module, channels: int, output: str, mixtures: int) -> bool:
    """Check and store what both models share (channels, output kind); return whether it is colour."""
    if channels not in (1, 3):
        raise ValueError(f"channels must be 1 (grayscale) or 3 (RGB), got {channels}")
    _output_channels(output, mixtures)  # raises for an unknown output
    model.channels, model.output, model.mixtures = channels, output, mixtures
    return channels == 3


class PixelCNN(torch.nn.Module):
    """PixelCNN (van den Oord et al. 2016): a 7x7 type-A masked convolution, residual blocks of 3x3
    type-B ones, and a head of 1x1 masked convolutions. Its receptive field has a blind spot (the
    upper right triangle is never seen); GatedPixelCNN removes it.

    Input: (B, C, H, W) in [0, 1] (C = 3 with colour, 1 without). Output: distribution parameters
    (B, C, P, H, W): 256 logits (softmax) or 3 x mixtures (logistic_mixture: logits, means, log scales).
    """

    def __init__(
        self,
        channels: int = 3,
        hidden: int = 60,
        num_layers: int = 6,
        output: str = "softmax",
        mixtures: int = 5,
    ):
        super().__init__()
        colour = _describe(self, channels, output, mixtures)
        groups = channel_groups(hidden, colour)
        self.first = MaskedConv2d(channels, hidden, 7, "A", None, groups, colour)
        self.blocks = torch.nn.ModuleList(
            MaskedConv2d(hidden, hidden, 3, "B", groups, groups, colour) for _ in range(num_layers)
        )
        self.head = _Head(hidden, channels, colour, output, mixtures)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.first(2 * x - 1)
        for block in self.blocks:
            h = h + block(F.relu(h))
        return self.head(h)


class _GatedLayer(torch.nn.Module):
    """One gated layer: a vertical stack (rows above and the current row, fed to the horizontal stack
    only after a shift down by one row) and a horizontal stack (the current row, left part, masked)."""

    def __init__(self, hidden: int, kernel: int, colour: bool, first: bool, in_channels: int):
        super().__init__()
        half = kernel // 2
        self.half, self.first = half, first
        self.vertical = torch.nn.Conv2d(in_channels, 2 * hidden, (half + 1, kernel))
        groups = channel_groups(hidden, colour)
        gated = torch.cat([groups, groups])  # tanh half and sigmoid half, each grouped by colour
        in_groups = channel_groups(in_channels, colour)
        self.horizontal = MaskedConv2d(
            in_channels, 2 * hidden, (1, kernel), "A" if first else "B", in_groups, gated, colour
        )
        self.link = torch.nn.Conv2d(2 * hidden, 2 * hidden, 1)  # vertical -> horizontal (shifted)
        self.horizontal_out = MaskedConv2d(hidden, hidden, 1, "B", groups, groups, colour)

    @staticmethod
    def _gate(x: torch.Tensor) -> torch.Tensor:
        a, b = x.chunk(2, dim=1)
        return torch.tanh(a) * torch.sigmoid(b)

    def forward(self, v: torch.Tensor, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        half = self.half
        v_features = self.vertical(F.pad(v, (half, half, half, 0)))  # row i sees rows i-half..i
        shifted = F.pad(v_features, (0, 0, 1, 0))[:, :, :-1]  # row i now sees rows < i only
        h_features = self.horizontal(h) + self.link(shifted)
        v_next = self._gate(v_features)
        h_next = self.horizontal_out(self._gate(h_features))
        if not self.first:
            h_next = h_next + h
        return v_next, h_next


class GatedPixelCNN(torch.nn.Module):
    """Gated PixelCNN (van den Oord et al. 2016, "Conditional Image Generation with PixelCNN Decoders"):
    vertical and horizontal stacks, tanh x sigmoid gates, no blind spot. Same input and output as
    PixelCNN."""

    def __init__(
        self,
        channels: int = 3,
        hidden: int = 60,
        num_layers: int = 6,
        kernel: int = 5,
        output: str = "softmax",
        mixtures: int = 5,
    ):
        super().__init__()
        colour = _describe(self, channels, output, mixtures)
        self.layers = torch.nn.ModuleList(
            [_GatedLayer(hidden, 7, colour, True, channels)]
            + [_GatedLayer(hidden, kernel, colour, False, hidden) for _ in range(num_layers - 1)]
        )
        self.head = _Head(hidden, channels, colour, output, mixtures)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        v = h = 2 * x - 1
        for layer in self.layers:
            v, h = layer(v, h)
        return self.head(h)


def _discretized_logistic_log_probs(params: torch.Tensor, mixtures: int) -> torch.Tensor:
    """log p(value) for all 256 values from mixture parameters (B, C, 3K, H, W) -> (B, C, 256, H, W).

    Each mixture component puts on value v the logistic mass of the bin [v - 0.5, v + 0.5] (scaled to
    [-1, 1]); the edge bins take the tails, as in PixelCNN++.
    """
    logits, means, log_scales = params.split(mixtures, dim=2)
    log_scales = log_scales.clamp(min=-7.0)
    centres = torch.linspace(-1, 1, 256, device=params.device).view(1, 1, 256, 1, 1, 1)
    means, log_scales = means.unsqueeze(2), log_scales.unsqueeze(2)  # (B, C, 1, K, H, W)
    inverse = torch.exp(-log_scales)
    plus = inverse * (centres + 1 / 255 - means)
    minus = inverse * (centres - 1 / 255 - means)
    cdf_plus, cdf_minus = torch.sigmoid(plus), torch.sigmoid(minus)
    log_mass = torch.log((cdf_plus - cdf_minus).clamp(min=1e-12))
    log_low = plus - F.softplus(plus)  # log sigmoid(plus): the left tail for value 0
    log_high = -F.softplus(minus)  # log (1 - sigmoid(minus)): the right tail for value 255
    index = torch.arange(256, device=params.device).view(1, 1, 256, 1, 1, 1)
    log_bins = torch.where(index == 0, log_low, torch.where(index == 255, log_high, log_mass))
    weights = F.log_softmax(logits, dim=2).unsqueeze(2)  # (B, C, 1, K, H, W)
    return torch.logsumexp(log_bins + weights, dim=3)


def log_probabilities(model: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Normalized log probabilities (natural log) of all 256 values: (B, C, 256, H, W)."""
    return _params_to_log_probs(model, model(x))


def _params_to_log_probs(model: torch.nn.Module, params: torch.Tensor) -> torch.Tensor:
    if model.output == "softmax":
        return F.log_softmax(params, dim=2)
    return _discretized_logistic_log_probs(params, model.mixtures)


def receptive_field(model: torch.nn.Module, probe: int = 48) -> tuple[int, int, int]:
    """(rows above, columns left, columns right) that can change one output, found by a gradient
    probe on a random input; the decoder only needs that many rows of context."""
    device = next(model.parameters()).device
    x = torch.rand(1, model.channels, probe, probe, device=device, requires_grad=True)
    with torch.enable_grad():
        model(x)[0, :, :, probe - 1, probe // 2].sum().backward()
    rows, cols = torch.nonzero(x.grad[0].abs().sum(dim=0), as_tuple=True)
    if rows.numel() == 0:  # the outputs ignore the input (e.g. an untrained, zeroed model)
        return 0, 0, 0
    above = probe - 1 - int(rows.min())
    left, right = probe // 2 - int(cols.min()), int(cols.max()) - probe // 2
    if above >= probe - 1 or left >= probe // 2 or right >= probe // 2 - 1:
        if probe >= 1024:
            raise ValueError("the receptive field is wider than 1024 pixels")
        return receptive_field(model, 2 * probe)  # it reached the probe's edge: look wider
    return above, left, right


def _row_log_probs(model: torch.nn.Module, x: torch.Tensor, row: int, above: int) -> torch.Tensor:
    """Log probabilities (B, C, 256, W) of one row from only the rows that can influence it.

    Encoder and decoder both call this with the same window shape, so their floating-point
    arithmetic is the same operation for operation (what bit-exact decoding needs).
    """
    top = max(0, row - above)
    params = model(x[:, :, top : row + 1, :])[:, :, :, -1:, :]
    return _params_to_log_probs(model, params)[:, :, :, 0, :]


def logistic_log_prob_at(params: torch.Tensor, values: torch.Tensor, mixtures: int) -> torch.Tensor:
    """log p(value) of the discretized logistic mixture at the observed values only (B, C, H, W):
    the same numbers as _discretized_logistic_log_probs, without the 256 bins (training speed)."""
    logits, means, log_scales = params.split(mixtures, dim=2)
    log_scales = log_scales.clamp(min=-7.0)
    centre = (values.float() / 127.5 - 1).unsqueeze(2)  # (B, C, 1, H, W)
    inverse = torch.exp(-log_scales)
    plus = inverse * (centre + 1 / 255 - means)
    minus = inverse * (centre - 1 / 255 - means)
    log_mass = torch.log((torch.sigmoid(plus) - torch.sigmoid(minus)).clamp(min=1e-12))
    log_low, log_high = plus - F.softplus(plus), -F.softplus(minus)
    v = values.unsqueeze(2)
    log_bins = torch.where(v == 0, log_low, torch.where(v == 255, log_high, log_mass))
    return torch.logsumexp(log_bins + F.log_softmax(logits, dim=2), dim=2)


def _nats(model: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    """-log p(x_i | x_<i) for every subpixel: (B, C, H, W) in nats."""
    values = torch.round(x * 255).long().clamp(0, 255)
    if model.output == "logistic_mixture":
        return -logistic_log_prob_at(model(x), values, model.mixtures)
    return -log_probabilities(model, x).gather(2, values.unsqueeze(2)).squeeze(2)


def bits_loss(model: torch.nn.Module, batch: torch.Tensor) -> torch.Tensor:
    """The training loss: mean bits per subpixel of a batch (B, C, H, W) in [0, 1], differentiable."""
    return _nats(model, batch).mean() / math.log(2)


def bits_per_subpixel(model: torch.nn.Module, image) -> float:
    """The ideal code length of an image under the model, in bits per subpixel (one forward pass)."""
    x = _as_input(model, image)
    with torch.no_grad():
        return float(_nats(model, x).mean() / math.log(2))


def bits_map(model: torch.nn.Module, image) -> np.ndarray:
    """Bits of each pixel (summed over its subpixels): (H, W) float array."""
    x = _as_input(model, image)
    with torch.no_grad():
        return (_nats(model, x)[0].sum(dim=0) / math.log(2)).cpu().numpy()


def _as_input(model: torch.nn.Module, image) -> torch.Tensor:
    if isinstance(image, torch.Tensor):
        x = image if image.ndim == 4 else image.unsqueeze(0)
    else:
        x = images.to_tensor(images.as_uint8(image))
    if x.shape[1] != model.channels:
        raise ValueError(f"the model codes {model.channels} channel(s), the image has {x.shape[1]}")
    return x.to(next(model.parameters()).device)


def sample(
    model: torch.nn.Module, height: int, width: int, num_samples: int = 1, seed: int = 0
) -> np.ndarray:
    """Draw images subpixel by subpixel (H x W x C forward passes): uint8 (N, H, W, C) or (N, H, W)."""
    device = next(model.parameters()).device
    generator = torch.Generator(device="cpu").manual_seed(seed)
    x = torch.zeros(num_samples, model.channels, height, width, device=device)
    model.eval()
    above = receptive_field(model)[0]
    with torch.no_grad():
        for row in range(height):
            for col in range(width):
                for channel in range(model.channels):
                    probs = _row_log_probs(model, x, row, above)[:, channel, :, col].exp().cpu()
                    value = torch.multinomial(probs, 1, generator=generator)[:, 0]
                    x[:, channel, row, col] = value.to(device).float() / 255
    out = (x * 255).round().byte().permute(0, 2, 3, 1).cpu().numpy()
    return out[..., 0] if model.channels == 1 else out


def med_predict(plane: np.ndarray) -> np.ndarray:
    """LOCO-I's median edge detector (JPEG-LS): predict x from a (left), b (above), c (above-left):
    min(a, b) if c >= max(a, b), max(a, b) if c <= min(a, b), else a + b - c."""
    p = np.asarray(plane, dtype=np.int64)
    a = np.pad(p, ((0, 0), (1, 0)))[:, :-1]
    b = np.pad(p, ((1, 0), (0, 0)))[:-1, :]
    c = np.pad(p, ((1, 0), (1, 0)))[:-1, :-1]
    low, high = np.minimum(a, b), np.maximum(a, b)
    return np.where(c >= high, low, np.where(c <= low, high, a + b - c))


def med_bits_per_subpixel(image) -> float:
    """The classical baseline: MED prediction per channel, residuals mod 256 coded by an adaptive
    counting model with one context per channel and per local activity class (|a - c| + |b - c|)."""
    from . import entropy

    array = images.as_uint8(image)
    planes = array[..., None] if array.ndim == 2 else array
    residuals, contexts = [], []
    for index in range(planes.shape[2]):
        p = planes[..., index].astype(np.int64)
        residuals.append(((p - med_predict(p)) % 256).ravel())
        a = np.pad(p, ((0, 0), (1, 0)))[:, :-1]
        b = np.pad(p, ((1, 0), (0, 0)))[:-1, :]
        c = np.pad(p, ((1, 0), (1, 0)))[:-1, :-1]
        activity = np.abs(a - c) + np.abs(b - c)
        contexts.append((index * 8 + np.digitize(activity, [2, 5, 10, 20, 40, 80, 160])).ravel())
    bits = entropy.adaptive_code_length(np.concatenate(residuals), 256, np.concatenate(contexts))
    return bits / array.size


#: integer frequencies per subpixel sum to this; every value keeps at least 1 (so nothing is impossible)
FREQUENCY_TOTAL = 1 << 16


def _frequencies(log_probs: torch.Tensor) -> np.ndarray:
    """(..., 256) log probabilities -> integer frequencies (..., 256) >= 1 summing to FREQUENCY_TOTAL.

    The coder sees only these integers, so encoder and decoder agree exactly even if their floating-
    point probabilities differed in the last bits (they do not here, but the integers make it certain).
    """
    probs = log_probs.double().exp().cpu().numpy()
    free = FREQUENCY_TOTAL - 256
    counts = np.floor(probs * free).astype(np.int64) + 1
    counts[..., 0] += FREQUENCY_TOTAL - counts.sum(
        axis=-1
    )  # the rounding remainder goes to value 0
    return counts


class PixelCNNStreamError(container.StreamError):
    """A stream that is not a PixelCNN file of this model, or is damaged."""


_MAGIC, _VERSION = b"NCWP", 1
_HEADER = ">HHBII"  # height, width, channels, model fingerprint, CRC-32 of the pixels


def coding_stream(model: torch.nn.Module, image) -> tuple[np.ndarray, np.ndarray]:
    """What ``compress`` hands the entropy coder: the subpixels in coding order (raster, R G B within a
    pixel) and one integer frequency table per subpixel (N, 256) summing to FREQUENCY_TOTAL = 2**16.
    Any coder fed these (the range coder, rANS) writes a file of about the stream's information."""
    x = image if isinstance(image, torch.Tensor) else _as_input(model, image)
    above = receptive_field(model)[0]
    with torch.no_grad():
        rows = [_row_log_probs(model, x, row, above)[0] for row in range(x.shape[2])]
    log_probs = torch.stack(rows, dim=2)  # (C, 256, H, W)
    values = torch.round(x[0] * 255).long().cpu().numpy()  # (C, H, W)
    order = log_probs.permute(2, 3, 0, 1).reshape(-1, 256)  # raster order, R G B within a pixel
    return values.transpose(1, 2, 0).reshape(-1), _frequencies(order)


def compress(model: torch.nn.Module, image) -> bytes:
    """Lossless: code every subpixel with the model's p(x_i | x_<i), one model pass per row.

    The file is self-describing (helpers.container: magic, version, size, channels, the model's
    fingerprint, CRC-32), so ``decompress(model, data)`` needs nothing else.
    """
    from . import entropy

    if isinstance(model, IntegerPixelCNN):
        return _compress_integer(model, image)
    x = _as_input(model, image)
    if x.shape[0] != 1:
        raise ValueError("compress codes one image")
    height, width = x.shape[2:]
    if height > 0xFFFF or width > 0xFFFF:
        raise ValueError(f"images are at most 65535 pixels on a side, got {height} x {width}")
    symbols, counts = coding_stream(model, x)
    payload = entropy.fast_encode(symbols, counts / FREQUENCY_TOTAL)
    header = struct.pack(
        _HEADER,
        height,
        width,
        model.channels,
        container.fingerprint(model),
        container.content_crc(_as_pixels(x)),
    )
    return container.pack(_MAGIC, _VERSION, header, payload)


def decompress(model: torch.nn.Module, data: bytes) -> np.ndarray:
    """Decode ``compress``'s bytes: one model pass per subpixel (H x W x C passes), each on the few
    rows of context the receptive field needs. Returns the uint8 image (H, W, 3) or (H, W), bit-exact.

    Raises PixelCNNStreamError for a foreign, damaged or truncated stream, or another model's.
    """
    import constriction

    header, payload = container.unpack(data, _MAGIC, _VERSION, PixelCNNStreamError)
    fields = container.read_fields(header, _HEADER, PixelCNNStreamError)
    height, width, channels, print_, pixels_crc = fields
    # The integer tables give any subpixel at least 1/FREQUENCY_TOTAL of the mass per other value, so
    # none costs less than log2(FREQUENCY_TOTAL / (FREQUENCY_TOTAL - 255)) bits: a bound on the size.
    least_bits = math.log2(FREQUENCY_TOTAL / (FREQUENCY_TOTAL - 255))
    if height * width * channels * least_bits > 8 * len(payload) + 64:
        raise PixelCNNStreamError(f"a {height} x {width} image cannot fit in {len(payload)} bytes")
    if channels != model.channels or not height or not width:
        raise PixelCNNStreamError(
            f"stream of a {height} x {width} image with {channels} channel(s); the model codes "
            f"{model.channels}"
        )
    container.check_fingerprint(model, print_, PixelCNNStreamError)
    if len(payload) % 4 or not payload:
        raise PixelCNNStreamError("the payload is not whole 32-bit coder words")
    device = next(model.parameters()).device
    words = np.frombuffer(payload, dtype="<u4").astype(np.uint32)
    decoder = constriction.stream.queue.RangeDecoder(words)
    if isinstance(model, IntegerPixelCNN):
        return _decompress_integer(model, decoder, height, width, pixels_crc, len(payload))
    x = torch.zeros(1, model.channels, height, width, device=device)
    above = receptive_field(model)[0]
    budget = container.BitBudget(len(payload), PixelCNNStreamError)
    with container.decoding(PixelCNNStreamError, "the range decoder"), torch.no_grad():
        for row in range(height):
            for col in range(width):
                for channel in range(model.channels):
                    log_probs = _row_log_probs(model, x, row, above)[0, channel, :, col]
                    frequencies = _frequencies(log_probs[None])[0]
                    probs = frequencies / FREQUENCY_TOTAL
                    model_ = constriction.stream.model.Categorical(probs, perfect=False)
                    value = int(decoder.decode(model_))
                    budget.spend(float(frequencies[value]) / FREQUENCY_TOTAL)
                    x[0, channel, row, col] = value / 255
    out = _as_pixels(x)
    container.check_content(pixels_crc, PixelCNNStreamError, out)
    return out[..., 0] if model.channels == 1 else out


def _as_pixels(x: torch.Tensor) -> np.ndarray:
    """uint8 (H, W, C) of a (1, C, H, W) tensor in [0, 1]."""
    return torch.round(x[0] * 255).byte().permute(1, 2, 0).cpu().numpy()


#: name -> (class, default keyword arguments)
ARCHITECTURES = {
    "pixelcnn": (PixelCNN, {"hidden": 60, "num_layers": 6}),
    "gated": (GatedPixelCNN, {"hidden": 60, "num_layers": 6}),
}


def build_model(name: str = "gated", **options) -> torch.nn.Module:
    """An untrained model by name ("pixelcnn" or "gated"), options overriding the defaults."""
    if name not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {name!r}; expected one of {sorted(ARCHITECTURES)}")
    cls, defaults = ARCHITECTURES[name]
    return cls(**{**defaults, **options})


def load_pretrained(name: str, quality: int | None = None) -> torch.nn.Module:
    """The shipped model ``name`` ("gated"; ``registry.shipped("pixelcnn")`` lists them) in eval
    mode on config.device(). PixelCNNs have one rate (lossless): quality must be None."""
    if quality is not None:
        raise ValueError(f"a lossless PixelCNN has no quality setting; got quality={quality!r}")
    return registry.load("pixelcnn", name, None, build_model)


# ----------------------------------------------------------------------------- integer inference
# Chapter 3's coder needs the same frequency tables in encoder and decoder. The float model gives them
# on one machine (encoder and decoder repeat the same float operations), not across machines. The
# integer form below computes them from integers only: the subpixels enter as u = 2p - 255 (1/255 is
# folded into the first layer's weights), activations carry 16 fraction bits, tanh, sigmoid and exp
# are tables read with linear interpolation (fixedpoint.Table, built in decimal arithmetic), and the
# discretized logistic mixture's CDF at the 257 bin edges is summed in 24-bit fixed point.


def _edges() -> np.ndarray:
    """The 255 inner bin edges (2j - 256) / 255, j = 1..255, with 16 fraction bits, in integers."""
    j = np.arange(1, 256, dtype=np.int64)
    numerator = (2 * j - 256) << 16
    return np.floor_divide(2 * numerator + 255, 2 * 255)  # round half up of numerator / 255


class IntegerPixelCNN(fixedpoint.TwoPaths, torch.nn.Module):
    """The integer (fixed-point) form of a GatedPixelCNN with a logistic-mixture output.

    ``counts(pixels)`` gives the coder's integer frequency tables (…, 256) for every subpixel;
    ``fixedpoint.integer_path`` "torch" (float64 tensors holding integers) or "numpy" (int64
    reference) give the same.
    ``compress``/``decompress`` accept it like a float model; its files decode on any machine.
    """

    FRACTION, WEIGHT_FRACTION, FIRST_WEIGHT_FRACTION, CDF_BITS = 16, 14, 24, 24
    MEAN_LIMIT = 4  #: the mixture means are clamped to [-4, 4] (the data lie in [-1, 1])

    def __init__(self, model: torch.nn.Module):
        super().__init__()
        from . import fixedpoint

        if not isinstance(model, GatedPixelCNN) or model.output != "logistic_mixture":
            raise TypeError(
                "the integer form exists for a GatedPixelCNN with a logistic-mixture output"
            )
        self.model = model.eval()
        self.channels, self.output, self.mixtures = model.channels, model.output, model.mixtures
        F_, W_ = self.FRACTION, self.WEIGHT_FRACTION

        def masked(module):
            weight = module.weight.detach().cpu().double()
            if isinstance(module, MaskedConv2d):
                weight = weight * module.mask.cpu().double()
            return weight.numpy()

        self.layers = []
        for index, layer in enumerate(model.layers):
            first = index == 0
            f_in, w_in = (0, self.FIRST_WEIGHT_FRACTION) if first else (F_, W_)
            scale = 1 / 255 if first else 1.0
            self.layers.append(
                {
                    "half": layer.half,
                    "first": first,
                    "vertical": fixedpoint.conv_layer(
                        layer.vertical, f_in, F_, w_in, masked(layer.vertical) * scale
                    ),
                    "horizontal": fixedpoint.conv_layer(
                        layer.horizontal, f_in, F_, w_in, masked(layer.horizontal) * scale
                    ),
                    "link": fixedpoint.conv_layer(layer.link, F_, F_, W_),
                    "horizontal_out": fixedpoint.conv_layer(
                        layer.horizontal_out, F_, F_, W_, masked(layer.horizontal_out)
                    ),
                }
            )
        head = model.head
        self.hidden = fixedpoint.conv_layer(head.hidden, F_, F_, W_, masked(head.hidden))
        self.out = fixedpoint.conv_layer(head.out, F_, F_, W_, masked(head.out))
        self.tanh = fixedpoint.Table("tanh", -8, 8, 8, F_)
        self.sigmoid = fixedpoint.Table("sigmoid", -16, 16, 8, F_)
        self.cdf = fixedpoint.Table("sigmoid", -16, 16, 8, self.CDF_BITS)
        self.exp = fixedpoint.Table("exp", -7, 7, 8, F_)  # exp(-log_scale), log_scale in [-7, 7]
        self.softmax_exp = fixedpoint.Table("exp", -16, 0, 8, self.CDF_BITS)
        self.edges = _edges()

    # the few array operations the network needs, for numpy int64 and torch float64 alike
    @staticmethod
    def _pad(x, left, right, top, bottom):
        if isinstance(x, np.ndarray):
            return np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))
        return F.pad(x, (left, right, top, bottom))

    def _gate(self, x):
        from . import fixedpoint

        half = x.shape[1] // 2
        a, b = x[:, :half], x[:, half:]
        product = self.tanh.lookup(a, self.FRACTION) * self.sigmoid.lookup(b, self.FRACTION)
        return fixedpoint.shift_round(product, self.FRACTION)

    def parameters_of(self, u):
        """The head's mixture parameters (B, C, 3K, H, W) with 16 fraction bits from u = 2p - 255."""
        from . import fixedpoint

        v = h = u
        for layer in self.layers:
            half = layer["half"]
            v_features = fixedpoint.apply_conv(layer["vertical"], self._pad(v, half, half, half, 0))
            shifted = self._pad(v_features, 0, 0, 1, 0)[:, :, :-1]
            h_features = fixedpoint.apply_conv(layer["horizontal"], h) + fixedpoint.apply_conv(
                layer["link"], shifted
            )
            v = self._gate(v_features)
            h_next = fixedpoint.apply_conv(layer["horizontal_out"], self._gate(h_features))
            h = h_next if layer["first"] else h_next + h
        relu = (lambda t: np.maximum(t, 0)) if isinstance(u, np.ndarray) else torch.relu
        params = fixedpoint.apply_conv(self.out, relu(fixedpoint.apply_conv(self.hidden, relu(h))))
        batch, _, height, width = params.shape
        return params.reshape(batch, self.channels, 3 * self.mixtures, height, width)

    def counts_from_parameters(self, params):
        """Integer frequencies (B, C, H, W, 256) >= 1 summing to FREQUENCY_TOTAL."""
        from . import fixedpoint

        numpy = isinstance(params, np.ndarray)
        K, F_, B_ = self.mixtures, self.FRACTION, self.CDF_BITS
        logits, means, log_scales = params[:, :, :K], params[:, :, K : 2 * K], params[:, :, 2 * K :]
        limit = self.MEAN_LIMIT << F_
        clip = np.clip if numpy else torch.clamp
        means = clip(means, -limit, limit)
        inverse = self.exp.lookup(-log_scales, F_)  # exp(-max(log_scale, -7)), 16 fraction bits
        top = logits.max(axis=2, keepdims=True) if numpy else logits.amax(dim=2, keepdim=True)
        weights = self.softmax_exp.lookup(logits - top, F_)  # exp(logit - max) with 24 bits
        total = weights.sum(axis=2, keepdims=True) if numpy else weights.sum(dim=2, keepdim=True)
        if numpy:
            pi = (weights << B_) // total
        else:
            pi = torch.floor(
                weights * 2.0**B_ / total
            )  # exact: both < 2**53, IEEE division rounds,
            pi = pi - (pi * total > weights * 2.0**B_).to(pi.dtype)  # corrected to the floor
            pi = pi + ((pi + 1) * total <= weights * 2.0**B_).to(pi.dtype)
        edges = (
            self.edges
            if numpy
            else torch.from_numpy(self.edges.astype(np.float64)).to(params.device)
        )
        shape = (1, 1, 1, 1, 1, -1)
        # (B, C, K, H, W, 255): the scaled distance of every inner edge from every component's mean
        distance = edges.reshape(shape) - means[..., None]
        t = fixedpoint.shift_round(inverse[..., None] * distance, F_)
        cdf = self.cdf.lookup(t, F_)  # sigmoid with 24 bits
        mixture = (pi[..., None] * cdf).sum(axis=2) if numpy else (pi[..., None] * cdf).sum(dim=2)
        mixture = fixedpoint.shift_round(mixture, B_)  # (B, C, H, W, 255), 24 bits, non-decreasing
        if numpy:
            zeros = np.zeros(mixture.shape[:-1] + (1,), np.int64)
            full = np.concatenate([zeros, mixture, zeros + (1 << B_)], axis=-1)
            mass = np.maximum(np.diff(full, axis=-1), 0)
        else:
            zeros = torch.zeros(
                mixture.shape[:-1] + (1,), dtype=mixture.dtype, device=mixture.device
            )
            full = torch.cat([zeros, mixture, zeros + 2.0**B_], dim=-1)
            mass = torch.clamp_min(full[..., 1:] - full[..., :-1], 0)
        free = FREQUENCY_TOTAL - 256
        counts = fixedpoint.shift_round(mass * free, 0)
        counts = (counts >> B_) + 1 if numpy else torch.floor(counts * (1.0 / 2**B_)) + 1
        remainder = (
            FREQUENCY_TOTAL - counts.sum(axis=-1) if numpy else FREQUENCY_TOTAL - counts.sum(-1)
        )
        counts[..., 0] += remainder
        return counts

    def counts(self, pixels) -> np.ndarray:
        """Frequencies (C, H, W, 256) int64 of every subpixel of a uint8 image (H, W, C) or (H, W),
        from one parallel pass (equal to the row-by-row passes of the coder: the arithmetic is exact)."""
        u = self._input(pixels)
        return self._counts(u)[0]

    def _input(self, pixels) -> np.ndarray:
        array = images.as_uint8(pixels)
        array = array[..., None] if array.ndim == 2 else array
        if array.shape[2] != self.channels:
            raise ValueError(
                f"the model codes {self.channels} channel(s), the image has {array.shape[2]}"
            )
        return (2 * array.astype(np.int64) - 255).transpose(2, 0, 1)[None]

    def _counts(self, u: np.ndarray, rows: slice | None = None, columns=slice(None)) -> np.ndarray:
        if self.path == "numpy":
            params = self.parameters_of(u)
            params = params if rows is None else params[..., rows, columns]
            return self.counts_from_parameters(params)
        device = next(self.model.parameters()).device
        with torch.no_grad():
            params = self.parameters_of(torch.from_numpy(u.astype(np.float64)).to(device))
            params = params if rows is None else params[..., rows, columns]
            return self.counts_from_parameters(params).cpu().numpy().astype(np.int64)

    def row_counts(
        self, u: np.ndarray, row: int, above: int, column: int | None = None
    ) -> np.ndarray:
        """Frequencies (C, W, 256) of one row from the rows that can influence it (the coder's pass);
        (C, 256) of one pixel when ``column`` is given (the decoder's pass)."""
        top = max(0, row - above)
        if column is None:
            return self._counts(u[:, :, top : row + 1], slice(-1, None))[0, :, 0]
        return self._counts(u[:, :, top : row + 1], slice(-1, None), slice(column, column + 1))[
            0, :, 0, 0
        ]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


def integer_bits_per_subpixel(model: IntegerPixelCNN, image, rows_per_pass: int = 16) -> float:
    """The exact code length of ``image`` under the integer model's frequency tables, in bits per
    subpixel (what its files cost, less the header and the coder's flush), in strips of rows."""
    u = model._input(image)
    above = receptive_field(model.model)[0]
    height = u.shape[2]
    values = ((u[0] + 255) // 2).astype(np.int64)  # (C, H, W)
    bits = 0.0
    for start in range(0, height, rows_per_pass):
        stop = min(height, start + rows_per_pass)
        top = max(0, start - above)
        counts = model._counts(u[:, :, top:stop], slice(start - top, None))[0]  # (C, rows, W, 256)
        chosen = np.take_along_axis(counts, values[:, start:stop, :, None], axis=-1)[..., 0]
        bits += float(-np.log2(chosen / FREQUENCY_TOTAL).sum())
    return bits / values.size


def load_integer(name: str = "gated") -> IntegerPixelCNN:
    """The integer form of a shipped PixelCNN (``load_pretrained(name)``), derived exactly from its
    float weights; its files decode to the same pixels on any machine."""
    return IntegerPixelCNN(load_pretrained(name))


def _compress_integer(model: IntegerPixelCNN, image) -> bytes:
    from . import entropy

    array = images.as_uint8(image)
    u = model._input(array)
    height, width = u.shape[2:]
    if height > 0xFFFF or width > 0xFFFF:
        raise ValueError(f"images are at most 65535 pixels on a side, got {height} x {width}")
    above = receptive_field(model.model)[0]
    rows = [model.row_counts(u, row, above).transpose(1, 0, 2) for row in range(height)]
    counts = np.stack(rows).reshape(-1, 256)  # raster order, R G B within a pixel
    symbols = ((u[0] + 255) // 2).transpose(1, 2, 0).reshape(-1)
    payload = entropy.fast_encode(symbols, counts / FREQUENCY_TOTAL)
    pixels = array[..., None] if array.ndim == 2 else array
    header = struct.pack(
        _HEADER,
        height,
        width,
        model.channels,
        container.fingerprint(model),
        container.content_crc(pixels),
    )
    return container.pack(_MAGIC, _VERSION, header, payload)


def _decompress_integer(
    model: IntegerPixelCNN, decoder, height, width, pixels_crc, payload_bytes: int
) -> np.ndarray:
    import constriction

    u = np.zeros((1, model.channels, height, width), dtype=np.int64)
    above = receptive_field(model.model)[0]
    budget = container.BitBudget(payload_bytes, PixelCNNStreamError)
    with container.decoding(PixelCNNStreamError, "the range decoder"):
        for row in range(height):
            for col in range(width):
                for channel in range(model.channels):
                    counts = model.row_counts(u, row, above, col)[channel]
                    coder_model = constriction.stream.model.Categorical(
                        counts / FREQUENCY_TOTAL, perfect=False
                    )
                    value = int(decoder.decode(coder_model))
                    budget.spend(float(counts[value]) / FREQUENCY_TOTAL)
                    u[0, channel, row, col] = 2 * value - 255
    out = ((u[0] + 255) // 2).transpose(1, 2, 0).astype(np.uint8)
    container.check_content(pixels_crc, PixelCNNStreamError, out)
    return out[..., 0] if model.channels == 1 else out
