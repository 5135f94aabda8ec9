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

Trained by ``python -m helpers.video.pframe`` on pairs of consecutive Foreman frames 0-49 (the training
split) and on BSDS500 crops moved by random shifts and small affine warps (synthetic motion).
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .. import config, registry

__all__ = [
    "PFrameCodec",
    "estimate_motion",
    "to_tensor",
    "to_planes",
    "code_sequence",
    "load_pretrained",
    "LAMBDAS",
]

BLOCK = 8
SEARCH = 8
#: R + lambda D weights of the shipped models (D: MSE on [0, 1] YUV, as chapter 4's RateDistortionLoss)
LAMBDAS = {1: 0.0018, 2: 0.0067}


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
    ys, xs = torch.meshgrid(torch.arange(height, dtype=frame.dtype, device=frame.device),
                            torch.arange(width, dtype=frame.dtype, device=frame.device), indexing="ij")  # fmt: skip
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
        self.motion_decoder = nn.Sequential(nn.ConvTranspose2d(16, 48, 3, 2, 1, output_padding=1), nn.ReLU(),
                                            nn.Conv2d(48, 2, 3, 1, 1))  # fmt: skip
        self.motion_entropy = EntropyBottleneck(16)
        self.compensation = nn.Sequential(nn.Conv2d(8, 32, 3, 1, 1), nn.ReLU(), nn.Conv2d(32, 32, 3, 1, 1),
                                          nn.ReLU(), nn.Conv2d(32, 3, 3, 1, 1))  # fmt: skip
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


def code_sequence(model: PFrameCodec, frames: dict, first: list[np.ndarray]) -> dict:
    """P-frames 1..N-1 of 4:2:0 ``frames``, each from the previous decoded frame; frame 0's decoded
    planes ``first`` come from another codec (the hybrid codec's I-frame). Returns bytes per P-frame
    (and the motion's share of them), decoded planes (frame 0 included) and the seconds spent."""
    count = frames["y"].shape[0]
    device = next(model.parameters()).device
    reference_planes = [np.asarray(p) for p in first]
    decoded = {key: [plane] for key, plane in zip("yuv", reference_planes, strict=True)}
    sizes, motion_sizes, started = [], [], time.perf_counter()
    for n in range(1, count):
        current = to_tensor(frames["y"][n], frames["u"][n], frames["v"][n]).to(device)
        reference = to_tensor(*reference_planes).to(device)
        blocks = torch.from_numpy(
            estimate_motion(frames["y"][n], reference_planes[0]).astype(np.float32)
        )[None].to(device)
        stream, reconstruction = model.compress(current, reference, blocks)
        sizes.append(stream_bytes(stream))
        motion_sizes.append(sum(len(s) for s in stream["motion"]))
        reference_planes = to_planes(reconstruction)
        for key, plane in zip("yuv", reference_planes, strict=True):
            decoded[key].append(plane)
    return {"bytes": sizes, "motion_bytes": motion_sizes, "decoded": {k: np.stack(v) for k, v in decoded.items()},
            "seconds": time.perf_counter() - started}  # fmt: skip


# ----------------------------------------------------------------------------- training


def _synthetic_pair(photo: np.ndarray, rng, size: int) -> tuple[np.ndarray, np.ndarray]:
    """(reference, current) YUV 4:4:4 uint8 crops: current = reference moved by a random shift and a
    small rotation/zoom (synthetic motion)."""
    from PIL import Image

    from .learned import rgb_to_yuv420

    height, width = photo.shape[:2]
    top, left = int(rng.integers(8, height - size - 8)), int(rng.integers(8, width - size - 8))
    angle, zoom = float(rng.normal(0, 1.5)), float(np.exp(rng.normal(0, 0.02)))
    shift = rng.normal(0, 3, 2)
    image = Image.fromarray(photo)
    moved = np.asarray(image.rotate(angle, resample=Image.BILINEAR, center=(left + size / 2, top + size / 2),
                                    translate=(float(shift[1]), float(shift[0])))
                       .resize((int(width * zoom), int(height * zoom)), Image.BILINEAR))  # fmt: skip
    reference = photo[top : top + size, left : left + size]
    current = moved[top : top + size, left : left + size]
    if current.shape[:2] != (size, size):
        current = reference

    def yuv444(rgb):
        y, u, v = rgb_to_yuv420(rgb)
        return np.stack([y, u.repeat(2, 0).repeat(2, 1), v.repeat(2, 0).repeat(2, 1)])

    return yuv444(reference), yuv444(current)


def _video_pairs(frames: dict, rng, size: int):
    n = int(rng.integers(0, frames["y"].shape[0] - 1))
    top, left = (
        int(rng.integers(0, (144 - size) // 8 + 1)) * 8,
        int(rng.integers(0, (176 - size) // 8 + 1)) * 8,
    )

    def crop(index):
        planes = [frames["y"][index]] + [frames[c][index].repeat(2, 0).repeat(2, 1) for c in "uv"]
        return np.stack([p[top : top + size, left : left + size] for p in planes])

    return crop(n), crop(n + 1)


def train(lmbda: float, steps: int, init_quality: int, seed: int = 0, size: int = 64, batch: int = 8,
          log_every: int = 100, init_state: dict | None = None,
          prediction_weight: float = 1.0) -> PFrameCodec:  # fmt: skip
    """R + lambda (D + w D_pred): D_pred, the prediction's own error, keeps the compensation network a
    predictor (DVC trains it alone first, for the same reason: jointly, nothing stops the residual
    coder from doing the prediction's work, intra-like, at a higher rate)."""
    from .. import autoencoder, data, images

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = PFrameCodec()
    shipped = autoencoder.load_pretrained("bmshj2018-hyperprior", init_quality)
    model.residual.load_state_dict(shipped.state_dict())
    if init_state is not None:
        model.load_state_dict(init_state)
    model = model.to(config.device()).train()
    photos = [images.load_image(p) for p in data.bsds500(split="train")[:100]]
    video = data.video_sequence("foreman", 50, 0)
    main_parameters = [p for n, p in model.named_parameters() if not n.endswith(".quantiles")]
    aux_parameters = [p for n, p in model.named_parameters() if n.endswith(".quantiles")]
    # the new modules learn from scratch (1e-3); the hyperprior, started from chapter 4's, is fine-tuned (1e-4)
    fresh = [
        p
        for n, p in model.named_parameters()
        if not n.endswith(".quantiles") and not n.startswith("residual.")
    ]
    tuned = [
        p
        for n, p in model.named_parameters()
        if not n.endswith(".quantiles") and n.startswith("residual.")
    ]
    optimizer = torch.optim.Adam([{"params": fresh, "lr": 1e-3}, {"params": tuned, "lr": 1e-4}])
    motion_optimizer = torch.optim.Adam(aux_parameters, lr=1e-3)
    from .toy import motion_search

    started = time.time()
    for step in range(steps):
        pairs = [(_video_pairs(video, rng, size) if rng.random() < 0.5
                  else _synthetic_pair(photos[int(rng.integers(len(photos)))], rng, size)) for _ in range(batch)]  # fmt: skip
        reference = torch.from_numpy(np.stack([p[0] for p in pairs]).astype(np.float32) / 255).to(
            config.device()
        )
        current = torch.from_numpy(np.stack([p[1] for p in pairs]).astype(np.float32) / 255).to(
            config.device()
        )
        blocks = torch.from_numpy(np.stack([np.moveaxis(motion_search(p[1][0], p[0][0], SEARCH, BLOCK, 2.0), -1, 0)
                                            for p in pairs]).astype(np.float32)).to(config.device())  # fmt: skip
        reconstruction, bits_motion, bits_residual, prediction = model(current, reference, blocks)
        pixels = batch * size * size
        mse = F.mse_loss(reconstruction, current)
        weight = prediction_weight * max(0.0, 1.0 - step / max(1, steps))  # fades out over training
        loss = (
            lmbda * 255**2 * (mse + weight * F.mse_loss(prediction, current))
            + (bits_motion + bits_residual) / pixels
        )
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(main_parameters, 1.0)
        optimizer.step()
        aux = model.aux_loss()
        motion_optimizer.zero_grad()
        aux.backward()
        motion_optimizer.step()
        if step % log_every == 0 or step == steps - 1:
            print(f"step {step} loss {float(loss):.4f} psnr {-10 * math.log10(float(mse)):.2f} "
                  f"bpp motion {float(bits_motion) / pixels:.4f} residual {float(bits_residual) / pixels:.4f} "
                  f"({time.time() - started:.0f} s)", flush=True)  # fmt: skip
    model.eval()
    model.update(force=True)
    return model


def load_pretrained(quality: int) -> PFrameCodec:
    """A shipped P-frame codec (registry key ``video/pframe/qN``), entropy tables built."""
    if quality not in LAMBDAS:
        raise ValueError(f"quality must be one of {list(LAMBDAS)}, got {quality!r}")
    model = registry.load("video", "pframe", quality, lambda: PFrameCodec())
    model.update(force=True)
    return model


def main(argv: list[str] | None = None) -> None:
    """python -m helpers.video.pframe --quality Q [--steps N] [--ship]"""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--quality", type=int, choices=sorted(LAMBDAS), required=True)
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--ship", action="store_true")
    parser.add_argument("--init", help="continue from a checkpoint (its 'model' state)")
    parser.add_argument("--prediction-weight", type=float, default=1.0)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    init_state = (
        torch.load(args.init, map_location="cpu", weights_only=True)["model"] if args.init else None
    )
    model = train(LAMBDAS[args.quality], args.steps, init_quality={1: 1, 2: 3}[args.quality],
                  init_state=init_state, prediction_weight=args.prediction_weight)  # fmt: skip
    payload = {"model": model.cpu().parameters_only()}
    torch.save(payload, f"pframe_q{args.quality}.pt")
    if args.ship:
        registry.ship(payload, f"video-pframe_q{args.quality}.pt", "video", "pframe", args.quality, build={},
                      lmbda=LAMBDAS[args.quality], steps=args.steps,
                      data="Foreman frames 0-49 (consecutive pairs) and BSDS500 train crops with synthetic motion",
                      command=f"python -m helpers.video.pframe --quality {args.quality} --steps {args.steps} --ship")  # fmt: skip


if __name__ == "__main__":
    main()
