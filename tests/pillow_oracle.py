"""Pillow (libjpeg) as the oracle of the JPEG tests: encode and decode exactly as libjpeg does."""

import io

import numpy as np
from PIL import Image

PILLOW_SUBSAMPLING = {"4:4:4": 0, "4:2:2": 1, "4:2:0": 2}


def pillow_jpeg(image, quality, subsampling="4:2:0", **options) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(
        buffer, "JPEG", quality=quality, subsampling=PILLOW_SUBSAMPLING[subsampling], **options
    )
    return buffer.getvalue()


def pillow_decode(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as picture:
        return np.asarray(picture.convert("RGB" if picture.mode != "L" else "L"))
