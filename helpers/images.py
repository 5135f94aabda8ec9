"""Images: load/save, uint8 <-> float tensors, colour conversion, padding, input validation.

The one tensor convention of the workbench is float32 (B, C, H, W) in [0, 1] on ``config.device()``.
Every conversion into or out of it lives here, so the other modules can accept numpy uint8 HWC,
PIL images or tensors and know exactly what they get.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from . import config

__all__ = [
    "ImageLike",
    "load_image",
    "decode_bytes",
    "save_image",
    "ceil_div",
    "as_uint8",
    "as_rgb",
    "to_tensor",
    "to_uint8",
    "rgb_to_ycbcr",
    "ycbcr_to_rgb",
    "RGB_TO_YCBCR",
    "YCBCR_TO_RGB",
    "RGB_TO_YUV",
    "YUV_TO_RGB",
    "rgb_to_yuv420",
    "yuv420_to_rgb",
    "pad_to_multiple",
    "crop_to",
    "center_crop",
]

ImageLike = np.ndarray | Image.Image | torch.Tensor


def _pil_to_uint8(picture: Image.Image, mode: str) -> np.ndarray:
    """Convert any PIL mode to uint8 'RGB' (H, W, 3) or 'L' (H, W), saying how each mode is treated."""
    if mode not in ("RGB", "L"):
        raise ValueError(f"mode must be 'RGB' or 'L', got {mode!r}")
    if picture.mode in ("I;16", "I;16B", "I;16L", "I"):
        # 16-bit (or 32-bit integer) grayscale: scale the full range down to 8 bits, not a clip.
        array = np.asarray(picture).astype(np.float64)
        maximum = 65535.0 if picture.mode.startswith("I;16") or array.max() > 255 else 255.0
        gray = np.clip(np.round(array / maximum * 255.0), 0, 255).astype(np.uint8)
        return gray if mode == "L" else np.repeat(gray[..., None], 3, axis=2)
    if picture.mode == "F":
        raise ValueError(
            "load_image: 32-bit float images are not supported; convert them to 8 bits first"
        )
    if picture.mode == "P":
        # Palette: expand through the palette (with its transparency, if any).
        picture = picture.convert("RGBA" if "transparency" in picture.info else "RGB")
    if picture.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        # Alpha: composite over white, which is what a viewer shows on a white page.
        background = Image.new("RGBA", picture.size, (255, 255, 255, 255))
        picture = Image.alpha_composite(background, picture.convert("RGBA")).convert("RGB")
    return np.asarray(picture.convert(mode)).copy()


def load_image(path: str | os.PathLike, mode: str = "RGB") -> np.ndarray:
    """Load an image file as uint8 (H, W, 3) for mode 'RGB' or (H, W) for mode 'L'.

    Grayscale is replicated to three channels, palette images are expanded, alpha is composited
    over white, and 16-bit images are scaled to 8 bits.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"load_image: no file at {path}")
    try:
        with Image.open(path) as picture:
            picture.load()
            return _pil_to_uint8(picture, mode)
    except (OSError, SyntaxError) as error:
        raise ValueError(f"load_image: {path} is not an image Pillow can read ({error})") from error


def decode_bytes(data: bytes, mode: str | None = None) -> np.ndarray:
    """Decode an image file held in memory (any format Pillow reads) to uint8 (H, W, 3) or (H, W).

    mode: "RGB", "L", ... to convert; None keeps the file's own (RGB or grayscale).
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"data must be bytes, got {type(data).__name__}")
    import io

    try:
        picture = Image.open(io.BytesIO(bytes(data)))
        picture.load()
    except (OSError, SyntaxError) as error:
        raise ValueError(f"not an image file Pillow can decode ({error})") from error
    return np.asarray(picture if mode is None else picture.convert(mode))


def ceil_div(a: int, b: int) -> int:
    """The smallest integer >= a / b (blocks of size b that cover a length a)."""
    return -(-a // b)


def save_image(image: ImageLike, path: str | os.PathLike, **save_options) -> Path:
    """Save an image (any form ``as_uint8`` accepts) to path; the format follows the extension."""
    array = as_uint8(image)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path, **save_options)
    return path


def _check_finite(array: np.ndarray | torch.Tensor, name: str) -> None:
    bad = torch.isnan(array).any() if isinstance(array, torch.Tensor) else np.isnan(array).any()
    if bool(bad):
        raise ValueError(f"{name} contains NaN values")


def as_uint8(image: ImageLike, name: str = "image") -> np.ndarray:
    """Return image as a uint8 numpy array, (H, W, 3) for colour or (H, W) for grayscale.

    Accepts uint8 arrays (H, W), (H, W, 1), (H, W, 3) or (H, W, 4, alpha composited over white),
    float arrays in [0, 1], PIL images, and tensors (C, H, W) or (1, C, H, W) in [0, 1].
    """
    if isinstance(image, Image.Image):
        return _pil_to_uint8(image, "L" if image.mode in ("L", "1") else "RGB")
    if isinstance(image, torch.Tensor):
        return to_uint8(image)
    if not isinstance(image, np.ndarray):
        raise TypeError(
            f"{name} must be a numpy array, a PIL image or a torch tensor, got {type(image).__name__}"
        )
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] not in (3, 4)):
        raise ValueError(
            f"{name} must have shape (H, W), (H, W, 1), (H, W, 3) or (H, W, 4), got {image.shape}"
        )
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise ValueError(f"{name} is empty (shape {image.shape})")
    if image.dtype == np.uint8:
        array = image
    elif image.dtype == bool:
        array = image.astype(np.uint8) * 255
    elif np.issubdtype(image.dtype, np.floating):
        _check_finite(image, name)
        if image.min() < 0.0 or image.max() > 1.0:
            raise ValueError(
                f"{name}: float images must lie in [0, 1], got values in "
                f"[{float(image.min()):.3g}, {float(image.max()):.3g}]"
            )
        array = np.round(image * 255.0).astype(np.uint8)
    elif image.dtype == np.uint16:
        array = np.round(image.astype(np.float64) / 65535.0 * 255.0).astype(np.uint8)
    else:
        raise TypeError(
            f"{name}: expected dtype uint8, uint16, bool or float in [0, 1], got {image.dtype}"
        )
    if array.ndim == 3 and array.shape[2] == 4:
        array = _pil_to_uint8(Image.fromarray(array, "RGBA"), "RGB")
    return np.ascontiguousarray(array)


def as_rgb(image: ImageLike, name: str = "image", max_side: int = 0xFFFF) -> np.ndarray:
    """``as_uint8`` for coders that take colour only: uint8 (H, W, 3), at most ``max_side`` pixels a
    side (the 16-bit size fields of the course's file headers); ValueError otherwise."""
    array = as_uint8(image, name)
    if array.ndim != 3 or array.shape[2] != 3:
        raise ValueError(f"{name} must be RGB (H, W, 3), got shape {array.shape}")
    if max(array.shape[:2]) > max_side:
        raise ValueError(f"{name} is at most {max_side} pixels on a side, got {array.shape[:2]}")
    return array


def to_tensor(image: ImageLike, device: torch.device | str | None = None) -> torch.Tensor:
    """Convert an image to float32 (1, C, H, W) in [0, 1] on ``device`` (default ``config.device()``).

    Tensors pass through after validation: (C, H, W) gains a batch axis, (B, C, H, W) is kept.
    """
    target = config.device() if device is None else torch.device(device)
    if isinstance(image, torch.Tensor):
        if image.ndim == 3:
            image = image.unsqueeze(0)
        if image.ndim != 4:
            raise ValueError(
                f"image tensor must be (C, H, W) or (B, C, H, W), got shape {tuple(image.shape)}"
            )
        if image.dtype == torch.uint8:
            image = image.float() / 255.0
        if not image.is_floating_point():
            raise TypeError(f"image tensor must be float in [0, 1] or uint8, got {image.dtype}")
        _check_finite(image, "image")
        if image.numel() and (image.min() < 0 or image.max() > 1):
            raise ValueError(
                f"image tensor must lie in [0, 1], got [{float(image.min()):.3g}, {float(image.max()):.3g}]"
            )
        return image.to(device=target, dtype=torch.float32)
    array = as_uint8(image)
    if array.ndim == 2:
        array = array[:, :, None]
    tensor = torch.from_numpy(np.ascontiguousarray(array.transpose(2, 0, 1))).float().div_(255.0)
    return tensor.unsqueeze(0).to(target)


def to_uint8(tensor: torch.Tensor, clip: bool = True) -> np.ndarray:
    """Convert a (1, C, H, W) or (C, H, W) tensor in [0, 1] to uint8 (H, W, 3) or (H, W).

    Decoders overshoot [0, 1] slightly, so values are clipped by default; ``clip=False`` raises instead.
    """
    if not isinstance(tensor, torch.Tensor):
        raise TypeError(f"to_uint8 expects a torch tensor, got {type(tensor).__name__}")
    if tensor.ndim == 4:
        if tensor.shape[0] != 1:
            raise ValueError(
                f"to_uint8 converts one image; got a batch of {tensor.shape[0]} (index it first)"
            )
        tensor = tensor[0]
    if tensor.ndim != 3 or tensor.shape[0] not in (1, 3):
        raise ValueError(
            f"to_uint8 expects (1 or 3, H, W) or (1, 1 or 3, H, W), got {tuple(tensor.shape)}"
        )
    tensor = tensor.detach().float()
    _check_finite(tensor, "tensor")
    if not clip and (tensor.min() < 0 or tensor.max() > 1):
        raise ValueError("to_uint8: tensor has values outside [0, 1] and clip=False")
    array = (tensor.clamp(0, 1) * 255.0).round().to(torch.uint8).cpu().numpy().transpose(1, 2, 0)
    return np.ascontiguousarray(array[:, :, 0] if array.shape[2] == 1 else array)


# The course's one home for colour conversions.
#: JFIF (ITU-T T.871) full-range BT.601 YCbCr (JPEG's): rows give Y, Cb, Cr from R, G, B
RGB_TO_YCBCR = np.array(
    [[0.299, 0.587, 0.114], [-0.168736, -0.331264, 0.5], [0.5, -0.418688, -0.081312]]
)
#: its inverse: R, G, B from Y, Cb - 128, Cr - 128
YCBCR_TO_RGB = np.array([[1.0, 0.0, 1.402], [1.0, -0.344136, -0.714136], [1.0, 1.772, 0.0]])
#: BT.601 limited range (video's: Y in 16..235, U and V in 16..240 centred on 128), from R, G, B
RGB_TO_YUV = np.array([[0.257, 0.504, 0.098], [-0.148, -0.291, 0.439], [0.439, -0.368, -0.071]])
#: its inverse: R, G, B from Y - 16, U - 128, V - 128
YUV_TO_RGB = np.array([[1.164, 0.0, 1.596], [1.164, -0.392, -0.813], [1.164, 2.017, 0.0]])


def rgb_to_yuv420(image: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """BT.601 limited-range Y, U, V uint8 planes of an RGB photo (cropped to an even size), chroma
    2x2-averaged: the planes a QCIF test file holds (I420)."""
    rgb = np.asarray(image, dtype=np.float64)
    height, width = (rgb.shape[0] // 2) * 2, (rgb.shape[1] // 2) * 2
    red, green, blue = (rgb[:height, :width, k] for k in range(3))
    (ry, gy, by), (ru, gu, bu), (rv, gv, bv) = RGB_TO_YUV  # summed term by term, as always
    y = 16 + ry * red + gy * green + by * blue
    u = 128 + ru * red + gu * green + bu * blue
    v = 128 + rv * red + gv * green + bv * blue

    def plane(values, halve):
        if halve:
            values = values.reshape(height // 2, 2, width // 2, 2).mean(axis=(1, 3))
        return np.clip(np.round(values), 0, 255).astype(np.uint8)

    return plane(y, False), plane(u, True), plane(v, True)


def yuv420_to_rgb(y: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """uint8 RGB (..., H, W, 3) of I420 planes (frames too): BT.601 limited range, nearest chroma
    upsampling. The inverse of ``rgb_to_yuv420`` up to rounding and the chroma's 2x2 mean."""
    y = np.asarray(y).astype(np.float64) - 16.0
    u = np.asarray(u).repeat(2, axis=-2).repeat(2, axis=-1).astype(np.float64) - 128.0
    v = np.asarray(v).repeat(2, axis=-2).repeat(2, axis=-1).astype(np.float64) - 128.0
    (yr, _, vr), (yg, ug, vg), (yb, ub, _) = YUV_TO_RGB
    red = yr * y + vr * v
    green = yg * y + ug * u + vg * v
    blue = yb * y + ub * u
    return np.clip(np.round(np.stack([red, green, blue], axis=-1)), 0, 255).astype(np.uint8)


def rgb_to_ycbcr(image: np.ndarray | torch.Tensor) -> np.ndarray | torch.Tensor:
    """RGB -> YCbCr exactly as JFIF defines it (full range, chroma centred on 128).

    numpy (..., 3) in 0..255 (uint8 or float) -> float64 in 0..255, unrounded.
    torch (B, 3, H, W) in [0, 1] -> the same in [0, 1] (chroma centred on 128/255).
    """
    return _convert(image, RGB_TO_YCBCR, offset_after=True)


def ycbcr_to_rgb(image: np.ndarray | torch.Tensor) -> np.ndarray | torch.Tensor:
    """YCbCr (JFIF) -> RGB; the inverse of ``rgb_to_ycbcr``, same shapes and ranges, unrounded and unclipped."""
    return _convert(image, YCBCR_TO_RGB, offset_after=False)


def _convert(image, matrix: np.ndarray, offset_after: bool):
    if isinstance(image, torch.Tensor):
        if image.ndim != 4 or image.shape[1] != 3:
            raise ValueError(
                f"colour conversion expects a (B, 3, H, W) tensor, got {tuple(image.shape)}"
            )
        if not image.is_floating_point():
            raise TypeError(
                f"colour conversion expects a float tensor in [0, 1], got {image.dtype}"
            )
        weights = torch.as_tensor(matrix, dtype=image.dtype, device=image.device)
        offset = torch.tensor(
            [0.0, 128.0 / 255.0, 128.0 / 255.0], dtype=image.dtype, device=image.device
        )
        offset = offset.view(1, 3, 1, 1)
        source = image if offset_after else image - offset
        result = torch.einsum("ij,bjhw->bihw", weights, source)
        return result + offset if offset_after else result
    if not isinstance(image, np.ndarray):
        raise TypeError(
            f"colour conversion expects a numpy array or torch tensor, got {type(image).__name__}"
        )
    if image.ndim < 1 or image.shape[-1] != 3:
        raise ValueError(f"colour conversion expects (..., 3) arrays, got shape {image.shape}")
    array = image.astype(np.float64)
    _check_finite(array, "image")
    offset = np.array([0.0, 128.0, 128.0])
    if offset_after:
        return array @ matrix.T + offset
    return (array - offset) @ matrix.T


def pad_to_multiple(
    image: np.ndarray | torch.Tensor, multiple: int, mode: str = "edge"
) -> tuple[np.ndarray | torch.Tensor, tuple[int, int]]:
    """Pad the bottom and right edges so height and width are multiples of ``multiple``.

    Returns (padded, (H, W)) where (H, W) is the original size for ``crop_to``.
    numpy arrays are (H, W) or (H, W, C); tensors are (..., H, W). mode: 'edge', 'reflect' or 'constant'.
    """
    if not isinstance(multiple, int) or isinstance(multiple, bool) or multiple < 1:
        raise ValueError(f"multiple must be a positive int, got {multiple!r}")
    if mode not in ("edge", "reflect", "constant"):
        raise ValueError(f"mode must be 'edge', 'reflect' or 'constant', got {mode!r}")
    if isinstance(image, torch.Tensor):
        if image.ndim < 2:
            raise ValueError(f"image tensor must have at least 2 dimensions, got {image.ndim}")
        height, width = image.shape[-2:]
    elif isinstance(image, np.ndarray):
        if image.ndim not in (2, 3):
            raise ValueError(f"image array must be (H, W) or (H, W, C), got shape {image.shape}")
        height, width = image.shape[:2]
    else:
        raise TypeError(f"image must be a numpy array or torch tensor, got {type(image).__name__}")
    if height == 0 or width == 0:
        raise ValueError("cannot pad an empty image")
    pad_h, pad_w = (-height) % multiple, (-width) % multiple
    if isinstance(image, torch.Tensor):
        torch_mode = {"edge": "replicate", "reflect": "reflect", "constant": "constant"}[mode]
        if pad_h or pad_w:
            shape = image.shape
            flat = image.reshape(-1, 1, height, width)
            if torch_mode == "reflect" and (pad_h >= height or pad_w >= width):
                torch_mode = "replicate"  # reflect needs the pad smaller than the image
            flat = torch.nn.functional.pad(flat, (0, pad_w, 0, pad_h), mode=torch_mode)
            image = flat.reshape(*shape[:-2], height + pad_h, width + pad_w)
        return image, (height, width)
    spec = [(0, pad_h), (0, pad_w)] + [(0, 0)] * (image.ndim - 2)
    numpy_mode = "symmetric" if mode == "reflect" else mode
    return np.pad(image, spec, mode=numpy_mode), (height, width)


def crop_to(image: np.ndarray | torch.Tensor, size: tuple[int, int]) -> np.ndarray | torch.Tensor:
    """Crop back to the top-left (H, W), undoing ``pad_to_multiple``."""
    height, width = size
    if isinstance(image, torch.Tensor):
        if image.shape[-2] < height or image.shape[-1] < width:
            raise ValueError(f"cannot crop {tuple(image.shape[-2:])} to the larger size {size}")
        return image[..., :height, :width]
    if not isinstance(image, np.ndarray):
        raise TypeError(f"image must be a numpy array or torch tensor, got {type(image).__name__}")
    if image.shape[0] < height or image.shape[1] < width:
        raise ValueError(f"cannot crop {image.shape[:2]} to the larger size {size}")
    return image[:height, :width]


def center_crop(image: np.ndarray, size: int | tuple[int, int]) -> np.ndarray:
    """Return the central (H, W) crop of a numpy image (H, W) or (H, W, C)."""
    height, width = (size, size) if isinstance(size, int) else size
    if not isinstance(image, np.ndarray) or image.ndim not in (2, 3):
        raise ValueError("center_crop expects a numpy array (H, W) or (H, W, C)")
    if height < 1 or width < 1 or height > image.shape[0] or width > image.shape[1]:
        raise ValueError(
            f"crop size {(height, width)} does not fit in an image of size {image.shape[:2]}"
        )
    top = (image.shape[0] - height) // 2
    left = (image.shape[1] - width) // 2
    return image[top : top + height, left : left + width]
