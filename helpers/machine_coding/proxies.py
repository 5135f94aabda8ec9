"""Chapter 9, proxies: Learned proxies of a standard codec, the real codec in the forward pass, and the machine
(EfficientNet-Lite) the preprocessor codes for."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .. import autoencoder, images, standard_codecs
from .common import PROXY_QUALITIES, check_batch, check_codec, quality_tensor

__all__ = [
    "LearnedProxy",
    "real_codec",
    "through_codec",
    "distillation_loss",
    "codec_curve",
    "curve_at",
    "load_proxy",
    "Machine",
]


class LearnedProxy(nn.Module):
    """The course's hyperprior fine-tuned to imitate ``codec`` at each of ``qualities``: forward(x,
    qualities) -> (x_hat, bits per image), each image through the model of its quality (which must
    be one of ``qualities``, or any with ``nearest = True``). Rates are the models' likelihoods (no
    entropy coding)."""

    def __init__(
        self, codec: str, qualities=None, models: dict | None = None, start: dict | None = None
    ):
        super().__init__()
        self.codec = check_codec(codec)
        self.qualities = tuple(int(q) for q in (qualities or PROXY_QUALITIES[codec]))
        if models is None:
            start = start or {}
            models = {
                str(q): autoencoder.build_model("bmshj2018-hyperprior", N=64, M=96)
                if q not in start
                else start[q]
                for q in self.qualities
            }
        self.models = nn.ModuleDict({str(q): m for q, m in models.items()})
        #: stand in for any quality with the model of the nearest one (the NPP's training sets this:
        #: the real codec runs at the drawn quality, the proxy only supplies the gradient)
        self.nearest = False

    def forward(self, x: torch.Tensor, qualities):
        x = check_batch(x)
        q = quality_tensor(self.codec, qualities, x.shape[0], x.device).round().long().tolist()
        if self.nearest:
            q = [min(self.qualities, key=lambda p, v=v: abs(p - v)) for v in q]
        unknown = sorted(set(q) - set(self.qualities))
        if unknown:
            raise ValueError(
                f"this proxy imitates {self.codec} at qualities {list(self.qualities)}, not {unknown}"
            )
        padded, (h, w) = images.pad_to_multiple(x, 64)
        x_hat = torch.empty_like(x)
        bits = torch.empty(x.shape[0], device=x.device)
        for quality in sorted(set(q)):
            index = torch.tensor([i for i, v in enumerate(q) if v == quality], device=x.device)
            out = self.models[str(quality)](padded[index])
            x_hat[index] = out["x_hat"][..., :h, :w].clamp(0, 1)
            bits[index] = sum(
                -torch.log2(lik).sum((1, 2, 3)) for lik in out["likelihoods"].values()
            )
        return x_hat, bits


def real_codec(codec: str, x: torch.Tensor, qualities) -> tuple[torch.Tensor, torch.Tensor]:
    """The standard codec itself on a batch: (decoded images in [0, 1], bits of each real file)."""
    check_codec(codec)
    q = quality_tensor(codec, qualities, x.shape[0], "cpu").tolist()
    arrays = [images.to_uint8(image[None]) for image in x.detach().to("cpu")]
    standard = standard_codecs.get(codec)
    decoded, bits = [], []
    for array, quality in zip(arrays, q):
        data = standard.encode(array, int(round(quality)))
        decoded.append(standard.decode(data))
        bits.append(8.0 * len(data))
    out = torch.from_numpy(np.stack(decoded)).permute(0, 3, 1, 2).float().div(255).to(x.device)
    return out, torch.tensor(bits, device=x.device)


def through_codec(proxy: nn.Module, x: torch.Tensor, qualities):
    """Forward through the real codec, backward through the proxy: x_hat and bits equal the real
    codec's decoded image and file size; their gradients are the proxy's."""
    proxy_hat, proxy_bits = proxy(x, qualities)
    real_hat, real_bits = real_codec(proxy.codec, x, qualities)
    return (
        proxy_hat + (real_hat - proxy_hat).detach(),
        proxy_bits + (real_bits - proxy_bits).detach(),
    )


def distillation_loss(
    student: torch.Tensor, teacher: torch.Tensor, temperature: float = 1.0, per_image: bool = False
):
    """T^2 KL(softmax(teacher / T) || softmax(student / T)) in nats: the mean over the batch, or one
    value per image with ``per_image``."""
    t = temperature
    terms = (
        F.kl_div(
            F.log_softmax(student / t, 1),
            F.log_softmax(teacher.float() / t, 1),
            log_target=True,
            reduction="none",
        ).sum(1)
        * t
        * t
    )
    return terms if per_image else terms.mean()


def codec_curve(
    codec: str,
    crops: torch.Tensor,
    logits: torch.Tensor,
    qualities,
    machine=None,
    temperature: float = 1.0,
) -> dict:
    """The codec alone on ``crops`` (uint8 (N, H, W, 3)) at each quality: mean bits per pixel of the
    real files and mean distillation loss of ``machine`` (Lite0) against ``logits``. Its slope is the
    codec's own exchange rate between bits and the machine's loss; the NPP's loss is measured
    relative to it (``recipes.coding_for_machines.npp_recipe``)."""
    machine = machine if machine is not None else Machine()
    device = next(machine.buffers()).device
    x = crops.permute(0, 3, 1, 2).float() / 255
    curve = {"quality": [], "bpp": [], "kd": []}
    for quality in qualities:
        decoded, bits = real_codec(codec, x, quality)
        with torch.no_grad():
            student = torch.cat(
                [machine(decoded[i : i + 16].to(device)).cpu() for i in range(0, len(x), 16)]
            )
        curve["quality"].append(float(quality))
        curve["bpp"].append(float(bits.mean()) / (x.shape[-2] * x.shape[-1]))
        curve["kd"].append(float(distillation_loss(student, logits.float(), temperature)))
    return curve


def curve_at(curve: dict, qualities: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The codec curve's bpp and distillation loss at each quality (log-linear interpolation)."""
    q = qualities.detach().cpu().double().numpy()
    known = np.asarray(curve["quality"])
    bpp = np.exp(np.interp(q, known, np.log(curve["bpp"])))
    kd = np.exp(np.interp(q, known, np.log(np.maximum(curve["kd"], 1e-6))))
    to = dict(dtype=torch.float32, device=qualities.device)
    return torch.as_tensor(bpp, **to), torch.as_tensor(kd, **to)


class Machine(nn.Module):
    """A frozen ImageNet classifier on images in [0, 1]: its own normalization, resized to its input
    size when the image is smaller (Lite1: 240, Lite2: 260). The machine the NPP codes for."""

    def __init__(self, name: str = "efficientnet-lite0"):
        super().__init__()
        from .. import cam

        classifier = cam.load_classifier(name)
        self.name, self.size, self.names = name, classifier.input_size, classifier.names
        self.net = classifier.model.eval()
        for p in self.net.parameters():
            p.requires_grad_(False)
        self.register_buffer("mean", torch.tensor(classifier.mean).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(classifier.std).view(1, 3, 1, 1))

    def train(self, mode: bool = True):
        return super().train(False)  # always eval: batch norm keeps its statistics, no dropout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if min(x.shape[-2:]) < self.size:
            scale = self.size / min(x.shape[-2:])
            x = F.interpolate(x, scale_factor=scale, mode="bilinear", align_corners=False)
        return self.net((x - self.mean) / self.std)


def load_proxy(path: str | Path) -> LearnedProxy:
    """A LearnedProxy from a proxy_recipe (helpers.recipes.coding_for_machines) checkpoint (or a shipped file holding its state)."""
    state = torch.load(path, map_location="cpu", weights_only=True)
    state["model"] = {
        k: v.float() if v.is_floating_point() else v for k, v in state["model"].items()
    }
    extra = state.get("extra", state)
    proxy = LearnedProxy(extra["codec"], extra["qualities"])
    weights = {k[len("proxy.") :]: v for k, v in state["model"].items() if k.startswith("proxy.")}
    tables = ("_offset", "_quantized_cdf", "_cdf_length", "scale_table")  # rebuilt by update()
    weights = {k: v for k, v in (weights or state["model"]).items() if not k.endswith(tables)}
    proxy.load_state_dict(weights, strict=False)
    for model in proxy.models.values():
        model.update(force=True)
    return proxy.eval()


# ----------------------------------------------------------------------------------------------
# Real files, and the accuracy-rate evaluation
# ----------------------------------------------------------------------------------------------
