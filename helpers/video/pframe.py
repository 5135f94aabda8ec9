"""A learned P-frame codec in the manner of DVC (Lu et al., "DVC: An End-to-end Deep Video Compression
Framework", CVPR 2019), small enough to train on a CPU.

DVC replaces each module of the hybrid loop by a network and trains them together with R + lambda D:

1. motion estimation: here block matching (8x8 blocks, integer full search on luma: the hybrid
   codec's search), where DVC uses an optical-flow network (SpyNet);
2. motion compression: a small autoencoder with a factorized entropy model codes the block motion
   field (2, H/8, W/8) into a latent of (16, H/16, W/16);
3. motion compensation: the reference warped by the decoded field (bilinear, ``grid_sample``) and
   refined by a small CNN that sees the warped frame, the reference and the field;
4. residual compression: the course's scale hyperprior (chapter 4, N=64, M=96), started from the
   shipped image model and fine-tuned on residuals.

Frames are 4:2:0 planes; the networks see YUV 4:4:4 in [0, 1] (chroma upsampled by repetition) and
the decoded chroma is averaged back to 4:2:0. Rates are real bytes (CompressAI's range coder on the
motion and residual latents). This decoder is a float network: it decodes on the machine that encoded
(chapter 4, section 9 explains why; the hybrid codec's tools are the integer ones).

Files: ``compress(model, frames) -> bytes`` and ``decompress(model, data) -> frames`` (4:2:0 planes
{'y', 'u', 'v'}, as ``data.video_sequence`` gives them): the course's container (magic NCWF) holding
frame 0 as a hybrid-codec I-frame and every later frame as motion and residual strings, with the
model's fingerprint and a CRC-32 of the decoded planes; ``PFrameStreamError`` for anything else.

Trained by ``python -m helpers.recipes video pframe`` (helpers.recipes.video_tools) on pairs of
consecutive Foreman frames 0-49 (the training split) and on BSDS500 crops moved by random shifts and
small affine warps (synthetic motion).
"""

from __future__ import annotations

import struct
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .. import container, registry

__all__ = [
    "PFrameCodec",
    "PFrameStreamError",
    "compress",
    "decompress",
    "estimate_motion",
    "to_tensor",
    "to_planes",
    "code_sequence",
    "load_pretrained",
    "LAMBDAS",
    "warp",
]

BLOCK = 8
SEARCH = 8
#: R + lambda D weights of the shipped models (D: MSE on [0, 1] YUV, as chapter 4's RateDistortionLoss)
LAMBDAS = {1: 0.0018, 2: 0.0067}


_MAGIC, _VERSION = b"NCWF", 1
#: frames, height, width, the I-frame's quality, the model's fingerprint, CRC-32 of the decoded planes
_HEADER = ">HHHBII"


class PFrameStreamError(container.StreamError):
    """A stream that is not a P-frame codec file of this model, or is damaged."""


def to_tensor(y: np.ndarray, u: np.ndarray, v: np.ndarray) -> torch.Tensor:
    """(1, 3, H, W) float YUV 4:4:4 in [0, 1] of one 4:2:0 frame (chroma repeated 2x2)."""
    up = [np.asarray(c).repeat(2, 0).repeat(2, 1) for c in (u, v)]
    return torch.from_numpy(np.stack([np.asarray(y), *up]).astype(np.float32) / 255.0)[None]


def to_planes(x: torch.Tensor) -> list[np.ndarray]:
    """uint8 4:2:0 planes of a (1, 3, H, W) YUV 4:4:4 tensor: chroma as 2x2 means."""
    x = x.detach().cpu().clamp(0, 1)[0]
    y = x[0]
    chroma = F.avg_pool2d(x[1:][None], 2)[0]
    return [np.round(p.numpy() * 255).astype(np.uint8) for p in (y, chroma[0], chroma[1])]


def estimate_motion(current: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Block matching: integer (dy, dx) per 8x8 luma block, (2, H/8, W/8) int64 (the hybrid search)."""
    from .toy import motion_search

    return np.moveaxis(motion_search(current, reference, SEARCH, BLOCK, penalty=2.0), -1, 0)


def warp(frame: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
    """frame sampled at (y + flow_y, x + flow_x): flow (B, 2, H, W) in pixels, (dy, dx)."""
    _, _, height, width = frame.shape
    ys, xs = torch.meshgrid(
        torch.arange(height, dtype=frame.dtype, device=frame.device),
        torch.arange(width, dtype=frame.dtype, device=frame.device),
        indexing="ij",
    )
    grid_y = (ys + flow[:, 0]) / (height - 1) * 2 - 1
    grid_x = (xs + flow[:, 1]) / (width - 1) * 2 - 1
    grid = torch.stack([grid_x, grid_y], dim=-1)
    return F.grid_sample(frame, grid, mode="bilinear", padding_mode="border", align_corners=True)


class PFrameCodec(nn.Module):
    """Motion autoencoder + motion compensation network + residual hyperprior."""

    def __init__(self):
        super().__init__()
        import warnings

        from .. import autoencoder

        with (
            warnings.catch_warnings()
        ):  # compressai calls torch.jit.script, which torch now deprecates
            warnings.simplefilter("ignore", FutureWarning)
            from compressai.entropy_models import EntropyBottleneck

        self.motion_encoder = nn.Sequential(
            nn.Conv2d(2, 48, 3, 2, 1), nn.ReLU(), nn.Conv2d(48, 16, 3, 1, 1)
        )
        self.motion_decoder = nn.Sequential(
            nn.ConvTranspose2d(16, 48, 3, 2, 1, output_padding=1),
            nn.ReLU(),
            nn.Conv2d(48, 2, 3, 1, 1),
        )
        self.motion_entropy = EntropyBottleneck(16)
        self.compensation = nn.Sequential(
            nn.Conv2d(8, 32, 3, 1, 1),
            nn.ReLU(),
            nn.Conv2d(32, 32, 3, 1, 1),
            nn.ReLU(),
            nn.Conv2d(32, 3, 3, 1, 1),
        )
        self.residual = autoencoder.build_model("bmshj2018-hyperprior")

    #: the entropy coders' tables: rebuilt from the parameters by ``update``, never stored
    TABLES = ("_offset", "_quantized_cdf", "_cdf_length", "scale_table")

    def parameters_only(self) -> dict:
        """The state without the entropy tables (what is shipped: the tables are rebuilt on load)."""
        return {
            k: v for k, v in self.state_dict().items() if k.rsplit(".", 1)[-1] not in self.TABLES
        }

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False):
        """Load parameters (tables in ``state_dict`` are ignored) and rebuild the entropy tables."""
        state = {k: v for k, v in state_dict.items() if k.rsplit(".", 1)[-1] not in self.TABLES}
        result = super().load_state_dict(state, strict=False, assign=assign)
        missing = [k for k in result.missing_keys if k.rsplit(".", 1)[-1] not in self.TABLES]
        if strict and (missing or result.unexpected_keys):
            raise RuntimeError(
                f"P-frame codec state: missing {missing}, unexpected {result.unexpected_keys}"
            )
        self.update(force=True)
        return result

    def aux_loss(self) -> torch.Tensor:
        return self.motion_entropy.loss() + self.residual.aux_loss()

    def update(self, force: bool = True) -> None:
        self.motion_entropy.update(force=force)
        self.residual.update(force=force)

    def _flow(self, motion_hat: torch.Tensor, shape) -> torch.Tensor:
        field = self.motion_decoder(motion_hat)
        return F.interpolate(field, size=shape, mode="bilinear", align_corners=False) * SEARCH

    def predict(self, reference: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
        warped = warp(reference, flow)
        return warped + self.compensation(torch.cat([warped, reference, flow / SEARCH], dim=1))

    def forward(self, current, reference, blocks):
        """Training pass: (reconstruction, bits of motion, bits of residual, prediction) with noise
        quantization."""
        motion, motion_likelihoods = self.motion_entropy(self.motion_encoder(blocks / SEARCH))
        flow = self._flow(motion, current.shape[-2:])
        prediction = self.predict(reference, flow)
        out = self.residual(current - prediction)
        reconstruction = prediction + out["x_hat"]
        bits_motion = -torch.log2(motion_likelihoods).sum()
        bits_residual = sum(-torch.log2(v).sum() for v in out["likelihoods"].values())
        return reconstruction, bits_motion, bits_residual, prediction

    @torch.no_grad()
    def compress(self, current, reference, blocks) -> tuple[dict, torch.Tensor]:
        """Real bytes: {'motion': strings, 'residual': strings...} and the decoder's reconstruction."""
        latent = self.motion_encoder(blocks / SEARCH)
        motion_strings = self.motion_entropy.compress(latent)
        motion_hat = self.motion_entropy.decompress(motion_strings, latent.shape[-2:])
        flow = self._flow(motion_hat, current.shape[-2:])
        prediction = self.predict(reference, flow)
        residual = self.residual.compress(_pad64(current - prediction))
        stream = {"motion": motion_strings, "motion_shape": tuple(latent.shape[-2:]), **residual}
        return stream, self.decompress(stream, reference)

    @torch.no_grad()
    def decompress(self, stream: dict, reference: torch.Tensor) -> torch.Tensor:
        motion_hat = self.motion_entropy.decompress(stream["motion"], stream["motion_shape"])
        flow = self._flow(motion_hat, reference.shape[-2:])
        prediction = self.predict(reference, flow)
        residual = self.residual.decompress(stream["strings"], stream["shape"])["x_hat"]
        height, width = reference.shape[-2:]
        return (prediction + residual[..., :height, :width]).clamp(0, 1)


def _pad64(x: torch.Tensor) -> torch.Tensor:
    """Zero-pad a residual to multiples of 64 (the hyperprior's total downsampling)."""
    height, width = x.shape[-2:]
    return F.pad(x, (0, -width % 64, 0, -height % 64))


def stream_bytes(stream: dict) -> int:
    return sum(len(s) for s in stream["motion"]) + sum(
        len(s) for group in stream["strings"] for s in group
    )


def code_sequence(
    model: PFrameCodec, frames: dict, first: list[np.ndarray], keep_streams: bool = False
) -> dict:
    """P-frames 1..N-1 of 4:2:0 ``frames``, each from the previous decoded frame; frame 0's decoded
    planes ``first`` come from another codec (the hybrid codec's I-frame). Returns bytes per P-frame
    (and the motion's share of them), decoded planes (frame 0 included) and the seconds spent (and,
    with ``keep_streams``, each P-frame's strings: what ``compress`` writes)."""
    count = frames["y"].shape[0]
    device = next(model.parameters()).device
    reference_planes = [np.asarray(p) for p in first]
    decoded = {key: [plane] for key, plane in zip("yuv", reference_planes, strict=True)}
    sizes, motion_sizes, streams, started = [], [], [], time.perf_counter()
    for n in range(1, count):
        current = to_tensor(frames["y"][n], frames["u"][n], frames["v"][n]).to(device)
        reference = to_tensor(*reference_planes).to(device)
        blocks = torch.from_numpy(
            estimate_motion(frames["y"][n], reference_planes[0]).astype(np.float32)
        )[None].to(device)
        stream, reconstruction = model.compress(current, reference, blocks)
        sizes.append(stream_bytes(stream))
        if keep_streams:
            streams.append(stream)
        motion_sizes.append(sum(len(s) for s in stream["motion"]))
        reference_planes = to_planes(reconstruction)
        for key, plane in zip("yuv", reference_planes, strict=True):
            decoded[key].append(plane)
    return {
        "bytes": sizes,
        "motion_bytes": motion_sizes,
        "decoded": {k: np.stack(v) for k, v in decoded.items()},
        "seconds": time.perf_counter() - started,
        **({"streams": streams} if keep_streams else {}),
    }


def _check_frames(frames) -> tuple[int, int, int]:
    from .hybrid import check_frames

    planes = check_frames(frames)
    count, height, width = planes["y"].shape
    if height < 16 or width < 16 or height % 16 or width % 16:
        raise ValueError(
            "the P-frame codec codes frames whose sides are multiples of 16 (as QCIF's 176 x 144: "
            "its motion field has one vector per 8 x 8 block, coded at stride 16), got "
            f"{height} x {width}"
        )
    return count, height, width


def compress(model: PFrameCodec, frames, quality: int = 25) -> bytes:
    """Code 4:2:0 ``frames`` ({'y': (N, H, W), 'u', 'v'} uint8, H and W multiples of 16): frame 0 as an I-frame
    of the hybrid codec at ``quality`` (no deep tools), each later frame as a P-frame of ``model``
    from the previous decoded frame. Returns the file's bytes (``decompress`` reads them alone)."""
    from . import hybrid

    count, height, width = _check_frames(frames)
    if not isinstance(quality, int) or not 1 <= quality <= 100:
        raise ValueError(f"quality must be an int in 1..100, got {quality!r}")
    first = {key: np.asarray(frames[key][:1]) for key in "yuv"}
    intra = hybrid.encode(first, quality)
    decoded_first = hybrid.decode(intra)
    coded = code_sequence(
        model, frames, [decoded_first[key][0] for key in "yuv"], keep_streams=True
    )
    parts, lengths = [intra], [len(intra)]
    for stream in coded["streams"]:
        for string in (stream["motion"][0], stream["strings"][0][0], stream["strings"][1][0]):
            parts.append(string)
            lengths.append(len(string))
    table = struct.pack(f">{len(lengths)}I", *lengths)
    crc = container.content_crc(*(coded["decoded"][key] for key in "yuv"))
    header = struct.pack(_HEADER, count, height, width, quality, container.fingerprint(model), crc)
    return container.pack(_MAGIC, _VERSION, header, table + b"".join(parts))


def decompress(model: PFrameCodec, data: bytes) -> dict[str, np.ndarray]:
    """Decode ``compress``'s bytes to 4:2:0 planes {'y', 'u', 'v'} (uint8, N frames). A float decoder:
    the same machine (and model) as the encoder; anything else, or a damaged file, raises
    PFrameStreamError (the planes' CRC-32 catches a decode that differs)."""
    from . import hybrid

    header, payload = container.unpack(data, _MAGIC, _VERSION, PFrameStreamError)
    count, height, width, _quality, print_, crc = container.read_fields(
        header, _HEADER, PFrameStreamError
    )
    if not count or height < 16 or width < 16 or height % 16 or width % 16:
        raise PFrameStreamError(
            f"inconsistent P-frame header: {count} frames of {height} x {width}"
        )
    container.check_fingerprint(model, print_, PFrameStreamError)
    parts_count = 1 + 3 * (count - 1)
    if len(payload) < 4 * parts_count:
        raise PFrameStreamError(f"{count} frames need a {4 * parts_count}-byte length table")
    lengths = list(struct.unpack(f">{parts_count}I", payload[: 4 * parts_count]))
    parts = container.split_lengths(payload[4 * parts_count :], lengths, PFrameStreamError)
    try:
        first = hybrid.decode(parts[0])
    except hybrid.HybridStreamError as error:
        raise PFrameStreamError(f"its I-frame does not decode: {error}") from error
    if first["y"].shape != (1, height, width):
        raise PFrameStreamError(
            f"its I-frame is {first['y'].shape}, not one {height} x {width} frame"
        )
    device = next(model.parameters()).device
    reference_planes = [first[key][0] for key in "yuv"]
    decoded = {key: [plane] for key, plane in zip("yuv", reference_planes, strict=True)}
    motion_shape = (height // (2 * BLOCK), width // (2 * BLOCK))
    residual_shape = (-(-height // 64), -(-width // 64))
    with container.decoding(PFrameStreamError), torch.no_grad():
        for n in range(count - 1):
            motion, y_string, z_string = parts[1 + 3 * n : 4 + 3 * n]
            stream = {
                "motion": [motion],
                "motion_shape": motion_shape,
                "strings": [[y_string], [z_string]],
                "shape": residual_shape,
            }
            reference = to_tensor(*reference_planes).to(device)
            reference_planes = to_planes(model.decompress(stream, reference))
            for key, plane in zip("yuv", reference_planes, strict=True):
                decoded[key].append(plane)
    out = {key: np.stack(value) for key, value in decoded.items()}
    container.check_content(crc, PFrameStreamError, *(out[key] for key in "yuv"))
    return out


# ----------------------------------------------------------------------------- training


def load_pretrained(name: str, quality: int | None = None) -> PFrameCodec:
    """A shipped P-frame codec: ``load_pretrained("pframe", quality)`` (registry key
    ``video/pframe/qN``, quality 1 or 2), entropy tables built."""
    if name != "pframe":
        raise registry.WeightsError(
            f"no P-frame codec {name!r}; shipped: 'pframe' at qualities {list(LAMBDAS)}"
        )
    if quality not in LAMBDAS:
        raise ValueError(f"quality must be one of {list(LAMBDAS)}, got {quality!r}")
    model = registry.load("video", "pframe", quality, lambda: PFrameCodec())
    model.update(force=True)
    return model
