"""A parallel learned lossless codec: the image coded from a coarser copy of itself (chapter 3).

The PixelCNN of chapter 3 predicts every subpixel from all the ones before it in raster order, so its
decoder runs one network pass per subpixel. Here (in the manner of SReC, Cao et al. 2020, and of
Reed et al.'s multiscale PixelCNN, 2017) each scale of an image is split into its four polyphase
components::

    A = x[0::2, 0::2]   B = x[0::2, 1::2]
    C = x[1::2, 0::2]   D = x[1::2, 1::2]

A is the next coarser scale (coded the same way, recursively, down to a base of at most 31 pixels on
its short side, sent as raw bytes). Given A, three *steps* code the rest, each with one pass of its own
small network over the half-resolution grid:

    step 0 "diagonal":   D from A                 (its four diagonal neighbours are known)
    step 1 "horizontal": B from A, D              (left/right are A, above/below are D)
    step 2 "vertical":   C from A, D, B           (all eight neighbours are known)

Each network outputs, for every position, a discretized logistic mixture per colour channel (as in
PixelCNN++) and three coefficients that shift the means of G by R and of B by R and G (the colour
channels are coded one after the other, so the decoder knows R when it reads G). A whole image takes
3 x (number of scales) network passes instead of height x width x 3: the price is that a subpixel no
longer sees its causal neighbours on the same grid, only the coarser scale and the earlier steps.

``compress(model, image)`` / ``decompress(model, data)`` write and read the course's self-describing
files (helpers.container); the integer frequency tables are computed by the same calls with the same
shapes on both sides, so decoding is bit-exact on the machine that encoded.
"""

from __future__ import annotations

import math
import struct

import numpy as np
import torch
import torch.nn.functional as F

from . import container, images, registry
from .pixelcnn import logistic_log_prob_at

__all__ = [
    "image_values",
    "STEPS",
    "BASE_SIDE",
    "MultiscaleModel",
    "polyphase",
    "pyramid",
    "step_inputs",
    "bits_loss",
    "bits_per_subpixel",
    "bits_by_step",
    "step_bits_map",
    "scale_image",
    "MultiscaleStreamError",
    "coding_stream",
    "compress",
    "decompress",
    "round_trip",
    "build_model",
    "load_pretrained",
]

STEPS = ("diagonal", "horizontal", "vertical")  #: the three steps of a scale, in coding order
#: a scale is split while its short side is at least this long; the base is sent as raw bytes
BASE_SIDE = 32
_TARGET = {0: "D", 1: "B", 2: "C"}
_KNOWN = {0: ("A",), 1: ("A", "D"), 2: ("A", "D", "B")}


def polyphase(x: torch.Tensor) -> dict[str, torch.Tensor]:
    """The four polyphase components of (N, C, H, W), each zero-padded to (ceil(H/2), ceil(W/2))."""
    height, width = x.shape[-2:]
    x = F.pad(x, (0, width % 2, 0, height % 2))
    return {
        "A": x[..., 0::2, 0::2],
        "B": x[..., 0::2, 1::2],
        "C": x[..., 1::2, 0::2],
        "D": x[..., 1::2, 1::2],
    }


def _valid(height: int, width: int, component: str) -> tuple[int, int]:
    """The real size of a component of an (height, width) scale (odd sizes give smaller B, C, D)."""
    rows = (height + 1) // 2 if component in "AB" else height // 2
    cols = (width + 1) // 2 if component in "AC" else width // 2
    return rows, cols


def pyramid(height: int, width: int) -> list[tuple[int, int]]:
    """The sizes of the scales, finest first, down to the base (short side < BASE_SIDE)."""
    sizes = [(height, width)]
    while min(sizes[-1]) >= BASE_SIDE:
        h, w = sizes[-1]
        sizes.append(((h + 1) // 2, (w + 1) // 2))
    return sizes


class _Step(torch.nn.Module):
    """One step's network: a 3x3 convolution, residual blocks, a 1x1 head (ReLU throughout)."""

    def __init__(self, inputs: int, hidden: int, blocks: int, mixtures: int, channels: int):
        super().__init__()
        self.first = torch.nn.Conv2d(inputs, hidden, 3, padding=1)
        self.blocks = torch.nn.ModuleList(
            torch.nn.Sequential(
                torch.nn.Conv2d(hidden, hidden, 3, padding=1),
                torch.nn.ReLU(),
                torch.nn.Conv2d(hidden, hidden, 3, padding=1),
            )
            for _ in range(blocks)
        )
        self.head = torch.nn.Conv2d(hidden, channels * 3 * mixtures + 3, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.first(x)
        for block in self.blocks:
            h = h + block(torch.relu(h))
        return self.head(torch.relu(h))


class MultiscaleModel(torch.nn.Module):
    """Three step networks (``steps[0..2]``), shared by every scale. Inputs are in [-1, 1]."""

    def __init__(self, hidden: int = 48, blocks: int = 3, mixtures: int = 5):
        super().__init__()
        self.hidden, self.num_blocks, self.mixtures, self.channels = hidden, blocks, mixtures, 3
        self.steps = torch.nn.ModuleList(
            _Step(3 * len(_KNOWN[s]), hidden, blocks, mixtures, 3) for s in range(3)
        )

    def step_parameters(self, step: int, known: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(mixture parameters (N, 3, 3K, h, w), colour coefficients (N, 3, h, w)) of one step."""
        out = self.steps[step](known)
        n, _, h, w = out.shape
        params = out[:, :-3].reshape(n, 3, 3 * self.mixtures, h, w)
        return params, torch.tanh(out[:, -3:])


def _signed(x: torch.Tensor) -> torch.Tensor:
    """Pixel values 0..255 (any dtype) -> [-1, 1]."""
    return x.float() / 127.5 - 1


def step_inputs(components: dict[str, torch.Tensor], step: int) -> torch.Tensor:
    """The network input of a step: the known components (values 0..255) in [-1, 1], stacked."""
    return torch.cat([_signed(components[c]) for c in _KNOWN[step]], dim=1)


def _coupled(params: torch.Tensor, coefficients: torch.Tensor, target: torch.Tensor, mixtures: int):
    """Shift G's means by a*R and B's by b*R + c*G (the true R, G of the target, in [-1, 1])."""
    x = _signed(target)
    shift = torch.stack(
        [
            torch.zeros_like(x[:, 0]),
            coefficients[:, 0] * x[:, 0],
            coefficients[:, 1] * x[:, 0] + coefficients[:, 2] * x[:, 1],
        ],
        dim=1,
    )
    K = mixtures
    means = params[:, :, K : 2 * K] + shift[:, :, None]
    return torch.cat([params[:, :, :K], means, params[:, :, 2 * K :]], dim=2)


def _step_nats(
    model: MultiscaleModel, scale: torch.Tensor, step: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """-log p of the step's target subpixels (N, 3, h, w) in nats, and the mask of real positions."""
    components = polyphase(scale)
    params, coefficients = model.step_parameters(step, step_inputs(components, step))
    target = components[_TARGET[step]]
    params = _coupled(params, coefficients, target, model.mixtures)
    nats = -logistic_log_prob_at(params, target.long(), model.mixtures)
    rows, cols = _valid(scale.shape[-2], scale.shape[-1], _TARGET[step])
    mask = torch.zeros_like(nats[:1, :1])
    mask[..., :rows, :cols] = 1
    return nats, mask


def _scales(x: torch.Tensor) -> list[torch.Tensor]:
    """The pyramid of an (N, C, H, W) tensor of values 0..255, finest first, base last."""
    out = [x]
    for _ in pyramid(*x.shape[-2:])[1:]:
        out.append(out[-1][..., 0::2, 0::2])
    return out


def bits_by_step(model: MultiscaleModel, x: torch.Tensor) -> list[dict]:
    """Bits of every (scale, step) of a batch of values 0..255 (N, 3, H, W): a list of
    {"scale", "step", "subpixels", "bits"} (finest scale 0), plus the base as raw bytes."""
    rows = []
    scales = _scales(x)
    for index, scale in enumerate(scales[:-1]):
        for step in range(3):
            nats, mask = _step_nats(model, scale, step)
            count = float(mask.sum()) * nats.shape[0] * nats.shape[1]
            rows.append(
                {
                    "scale": index,
                    "step": STEPS[step],
                    "subpixels": int(count),
                    "bits": float((nats * mask).sum().detach()) / math.log(2),
                }
            )
    base = scales[-1]
    rows.append(
        {
            "scale": len(scales) - 1,
            "step": "base",
            "subpixels": base.numel(),
            "bits": 8.0 * base.numel(),
        }
    )
    return rows


def step_bits_map(model: MultiscaleModel, image, scale: int = 0, step: int = 0) -> np.ndarray:
    """Bits spent on each pixel of one step's target component (R + G + B), shape (rows, cols):
    ``scale`` 0 is the finest, ``step`` 0..2 as in STEPS."""
    if step not in (0, 1, 2):
        raise ValueError(f"step must be 0, 1 or 2 ({', '.join(STEPS)}), got {step!r}")
    x = image_values(model, image)
    scales = _scales(x)
    if not 0 <= scale < len(scales) - 1:
        raise ValueError(
            f"this image has scales 0..{len(scales) - 2} (then the base), got {scale!r}"
        )
    with torch.no_grad():
        nats, _ = _step_nats(model, scales[scale], step)
    rows, cols = _valid(*scales[scale].shape[-2:], _TARGET[step])
    return (nats[0, :, :rows, :cols].sum(dim=0) / math.log(2)).cpu().numpy()


def scale_image(image, scale: int) -> np.ndarray:
    """The image at a scale of the pyramid (0 = itself, 1 = every second pixel of every second row...)."""
    array = images.as_uint8(image)
    step = 2**scale
    return array[::step, ::step]


def bits_loss(model: MultiscaleModel, batch: torch.Tensor, max_scales: int = 3) -> torch.Tensor:
    """The training loss: mean bits per coded subpixel over the first ``max_scales`` scales of a batch
    (N, 3, H, W) of values in [0, 1] (crops with even sides), differentiable."""
    x = torch.round(batch * 255)
    total, count = 0.0, 0
    scale = x
    for _ in range(max_scales):
        if min(scale.shape[-2:]) < 4:
            break
        for step in range(3):
            nats, _ = _step_nats(model, scale, step)
            total = total + nats.sum()
            count += nats.numel()
        scale = scale[..., 0::2, 0::2]
    return total / count / math.log(2)


def image_values(model: MultiscaleModel, image) -> torch.Tensor:
    """An RGB image (uint8 (H, W, 3)) as the values ``bits_by_step`` reads: (1, 3, H, W) float
    0..255 on the model's device."""
    array = images.as_uint8(image)
    if array.ndim != 3 or array.shape[2] != 3:
        raise ValueError(
            f"the multiscale codec codes RGB images (H, W, 3), got shape {array.shape}"
        )
    device = next(model.parameters()).device
    return torch.from_numpy(array.transpose(2, 0, 1).copy())[None].to(device).float()


def bits_per_subpixel(model: MultiscaleModel, image) -> float:
    """The ideal code length of an RGB image (uint8 (H, W, 3)), base included, in bits per subpixel."""
    with torch.no_grad():
        rows = bits_by_step(model, image_values(model, image))
    return sum(r["bits"] for r in rows) / sum(r["subpixels"] for r in rows)


# --------------------------------------------------------------------------- the codec

#: integer frequencies per subpixel sum to this; every value keeps at least 1
FREQUENCY_TOTAL = 1 << 16
#: subpixels whose 256-value tables are built at once: their (chunk, K, 255) CDF values take about
#: 20 MB, small enough for the allocator to reuse the same memory chunk after chunk
_CHUNK = 4096


class MultiscaleStreamError(container.StreamError):
    """A stream that is not a multiscale file of this model, or is damaged."""


_MAGIC, _VERSION = b"NCWM", 1
_HEADER = ">HHII"  # height, width, model fingerprint, CRC-32 of the pixels


def _count_chunks(params: torch.Tensor, mixtures: int):
    """Integer frequency tables of mixture parameters (P, 3K), in chunks of (p, 256) int64.

    The mixture's CDF is evaluated at the 255 edges between neighbouring values (K sigmoids per edge);
    its differences, with 0 below value 0 and 1 above value 255, are the same distribution as the
    training loss's (PixelCNN++'s edge bins take the tails). The frequencies are at least 1 and sum
    to FREQUENCY_TOTAL; encoder and decoder compute them with the same operations on the same shapes.
    """
    K = mixtures
    edges = (2 * torch.arange(255, device=params.device, dtype=params.dtype) + 1) / 255 - 1
    free = FREQUENCY_TOTAL - 256
    for start in range(0, params.shape[0], _CHUNK):
        chunk = params[start : start + _CHUNK]
        inverse = torch.exp(-chunk[:, 2 * K :].clamp(min=-7.0))
        weights = torch.softmax(chunk[:, :K], dim=1)
        cdf = ((edges.view(1, 1, -1) - chunk[:, K : 2 * K, None]) * inverse[:, :, None]).sigmoid_()
        mixture = torch.bmm(weights[:, None, :], cdf)[:, 0]  # (p, 255), non-decreasing
        zero = torch.zeros_like(mixture[:, :1])
        probs = torch.diff(mixture, prepend=zero, append=zero + 1).clamp_(min=0)
        probs /= probs.sum(dim=1, keepdim=True)
        counts = torch.floor(probs * free).to(torch.int64) + 1
        counts[:, 0] += FREQUENCY_TOTAL - counts.sum(dim=1)
        yield counts.cpu().numpy()


def _counts(params: torch.Tensor, mixtures: int) -> np.ndarray:
    """All the integer frequency tables (P, 256) of mixture parameters (P, 3K)."""
    chunks = list(_count_chunks(params, mixtures))
    return np.concatenate(chunks) if chunks else np.zeros((0, 256), np.int64)


def _channel_parameters(model, params, coefficients, target, channel, rows, cols) -> torch.Tensor:
    """Mixture parameters (rows * cols, 3K) of one channel of a step's target, in raster order, with
    the earlier channels of ``target`` known (the later ones are not read)."""
    coupled = _coupled(params, coefficients, target, model.mixtures)[0, channel, :, :rows, :cols]
    return coupled.reshape(coupled.shape[0], -1).T


def _coding_chunks(model: MultiscaleModel, x: torch.Tensor, scales: list):
    """(symbols, integer tables) in coding order: every scale's three steps, coarsest first, each
    channel with the tables of its step's one network pass, in chunks of at most _CHUNK symbols."""
    with torch.no_grad():
        for scale in reversed(scales[:-1]):
            components = polyphase(scale)
            for step in range(3):
                params, coefficients = model.step_parameters(step, step_inputs(components, step))
                target = components[_TARGET[step]]
                rows, cols = _valid(scale.shape[-2], scale.shape[-1], _TARGET[step])
                for channel in range(3):
                    symbols = target[0, channel, :rows, :cols].reshape(-1).to(torch.int32)
                    symbols = symbols.cpu().numpy()
                    chunks = _count_chunks(
                        _channel_parameters(
                            model, params, coefficients, target, channel, rows, cols
                        ),
                        model.mixtures,
                    )
                    for start, counts in zip(range(0, len(symbols), _CHUNK), chunks, strict=True):
                        yield symbols[start : start + _CHUNK], counts


def coding_stream(model: MultiscaleModel, image) -> tuple[np.ndarray, np.ndarray]:
    """What ``compress`` hands the entropy coder after the raw base: every coded subpixel in coding
    order and its integer frequency table (N, 256), each summing to FREQUENCY_TOTAL = 2**16 (8 bytes
    per table entry: keep images small, a 128 x 128 crop's tables take 100 MB)."""
    x = image_values(model, images.as_uint8(image))
    parts = list(_coding_chunks(model, x, _scales(x)))
    if not parts:
        return np.zeros(0, np.int32), np.zeros((0, 256), np.int64)
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def compress(model: MultiscaleModel, image) -> bytes:
    """Lossless: the base as raw bytes, then every scale's three steps, coarsest first, each channel
    with the integer tables of its step's one network pass. Returns self-describing bytes."""
    import constriction

    array = images.as_uint8(image)
    x = image_values(model, array)
    height, width = x.shape[-2:]
    if height > 0xFFFF or width > 0xFFFF:
        raise ValueError(f"images are at most 65535 pixels on a side, got {height} x {width}")
    scales = _scales(x)
    encoder = constriction.stream.queue.RangeEncoder()
    family = constriction.stream.model.Categorical(perfect=False)
    for symbols, counts in _coding_chunks(model, x, scales):
        encoder.encode(symbols, family, counts / FREQUENCY_TOTAL)
    payload = encoder.get_compressed().astype("<u4").tobytes()  # empty for an all-base image
    base = scales[-1][0].byte().cpu().numpy().tobytes()
    header = struct.pack(
        _HEADER, height, width, container.fingerprint(model), container.content_crc(array)
    )
    return container.pack(_MAGIC, _VERSION, header, base + payload)


def decompress(model: MultiscaleModel, data: bytes) -> np.ndarray:
    """Decode ``compress``'s bytes: 3 network passes per scale. Returns the uint8 image (H, W, 3),
    bit-exact. Raises MultiscaleStreamError for a foreign, damaged or truncated stream, or another
    model's."""
    import constriction

    header, payload = container.unpack(data, _MAGIC, _VERSION, MultiscaleStreamError)
    height, width, print_, pixels_crc = container.read_fields(
        header, _HEADER, MultiscaleStreamError
    )
    if not height or not width:
        raise MultiscaleStreamError(f"stream of a {height} x {width} image")
    container.check_fingerprint(model, print_, MultiscaleStreamError)
    sizes = pyramid(height, width)
    base_bytes = 3 * sizes[-1][0] * sizes[-1][1]
    least_bits = math.log2(FREQUENCY_TOTAL / (FREQUENCY_TOTAL - 255))
    coded = 3 * (height * width - sizes[-1][0] * sizes[-1][1])
    if len(payload) < base_bytes or coded * least_bits > 8 * (len(payload) - base_bytes) + 64:
        raise MultiscaleStreamError(
            f"a {height} x {width} image cannot fit in {len(payload)} bytes"
        )
    stream = payload[base_bytes:]
    if len(stream) % 4 or bool(coded) != bool(stream):
        raise MultiscaleStreamError("the payload is not whole 32-bit coder words")
    device = next(model.parameters()).device
    base = np.frombuffer(payload[:base_bytes], np.uint8).reshape(3, *sizes[-1])
    scale = torch.from_numpy(base.copy())[None].to(device).float()
    decoder = constriction.stream.queue.RangeDecoder(np.frombuffer(stream, "<u4").astype(np.uint32))
    family = constriction.stream.model.Categorical(perfect=False)
    with container.decoding(MultiscaleStreamError, "the range decoder"), torch.no_grad():
        for h, w in reversed(sizes[:-1]):
            components = {"A": scale}
            for step in range(3):
                grid = components["A"].shape[-2:]
                params, coefficients = model.step_parameters(step, step_inputs(components, step))
                rows, cols = _valid(h, w, _TARGET[step])
                target = torch.zeros(1, 3, *grid, device=device)
                for channel in range(3):
                    chunks = _count_chunks(
                        _channel_parameters(
                            model, params, coefficients, target, channel, rows, cols
                        ),
                        model.mixtures,
                    )
                    values = np.concatenate(
                        [decoder.decode(family, counts / FREQUENCY_TOTAL) for counts in chunks]
                    )
                    target[0, channel, :rows, :cols] = (
                        torch.from_numpy(values.astype(np.int64).reshape(rows, cols))
                        .to(device)
                        .float()
                    )
                components[_TARGET[step]] = target
            scale = _interleave(components, h, w)
    out = scale[0].byte().permute(1, 2, 0).cpu().numpy()
    container.check_content(pixels_crc, MultiscaleStreamError, out)
    return out


def round_trip(model: MultiscaleModel, image) -> dict:
    """Code ``image`` and decode the bytes, timed: {"bits_per_subpixel" (of the file), "encode_seconds",
    "decode_seconds", "bit_exact"} (what the chapter, the study and the benchmark report)."""
    import time

    array = images.as_uint8(image)
    started = time.perf_counter()
    stream = compress(model, array)
    encode_seconds = time.perf_counter() - started
    started = time.perf_counter()
    decoded = decompress(model, stream)
    decode_seconds = time.perf_counter() - started
    return {
        "bits_per_subpixel": 8 * len(stream) / array.size,
        "encode_seconds": encode_seconds,
        "decode_seconds": decode_seconds,
        "bit_exact": bool(np.array_equal(decoded, array)),
    }


def _interleave(components: dict[str, torch.Tensor], height: int, width: int) -> torch.Tensor:
    """The inverse of ``polyphase``: (N, C, height, width) from the four components."""
    a = components["A"]
    n, c, h, w = a.shape
    out = torch.zeros(n, c, 2 * h, 2 * w, device=a.device, dtype=a.dtype)
    out[..., 0::2, 0::2], out[..., 0::2, 1::2] = a, components["B"]
    out[..., 1::2, 0::2], out[..., 1::2, 1::2] = components["C"], components["D"]
    return out[..., :height, :width]


def build_model(name: str = "multiscale", **options) -> MultiscaleModel:
    """A fresh model (``hidden``, ``blocks``, ``mixtures``)."""
    if name != "multiscale":
        raise ValueError(f"unknown multiscale architecture {name!r}; expected 'multiscale'")
    return MultiscaleModel(**options)


def load_pretrained(name: str, quality: int | None = None) -> MultiscaleModel:
    """The shipped model ``name`` ("multiscale"; trained on BSDS500 + the ImageNet sample photos, never
    Kodak) in eval mode on config.device(). Lossless: quality must be None."""
    if quality is not None:
        raise ValueError(f"a lossless codec has no quality setting; got quality={quality!r}")
    return registry.load("lossless", name, None, build_model)
