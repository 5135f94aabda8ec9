"""Golden bitstreams: small files written once by each shipped integer coder, with the SHA-256 of the
pixels they decode to. Decoding them on any machine (another thread count, the numpy reference, a GPU,
another torch or numpy) must give those pixels exactly.

    python -m helpers.golden            # check this machine: every file, every configuration here

``helpers/reference/golden/golden.json`` lists the files: which coder wrote them, the model, the
image they come from and the pixel digest. ``scripts/make_golden.py`` writes them (once; rewriting
them is a format change, to be recorded in the closing note of the change that needs it).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Callable, Iterator
from importlib import resources
from pathlib import Path

import numpy as np
import torch

from . import fixedpoint

__all__ = [
    "GOLDEN_DIR",
    "golden_files",
    "configurations",
    "decode",
    "pixel_digest",
    "verify",
    "main",
]

GOLDEN_DIR = Path(str(resources.files("helpers") / "reference" / "golden"))


def golden_files() -> dict[str, dict]:
    """{file name: its record} from golden.json."""
    return json.loads((GOLDEN_DIR / "golden.json").read_text())["files"]


def pixel_digest(pixels: np.ndarray) -> str:
    """SHA-256 of decoded pixels: their shape, dtype and bytes (C order)."""
    array = np.ascontiguousarray(pixels)
    header = f"{array.shape}{array.dtype.str}".encode()
    return hashlib.sha256(header + array.tobytes()).hexdigest()


@contextlib.contextmanager
def _threads(count: int) -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def configurations() -> dict[str, dict]:
    """The decoding configurations this machine offers: {name: {"threads", "path", "device"}}.
    "cuda" appears only where a GPU is present."""
    found = {
        "torch, 1 thread": {"threads": 1, "path": "torch", "device": "cpu"},
        "torch, 2 threads": {"threads": 2, "path": "torch", "device": "cpu"},
        "numpy reference": {"threads": 1, "path": "numpy", "device": "cpu"},
    }
    if torch.cuda.is_available():
        found["torch, cuda"] = {"threads": 1, "path": "torch", "device": "cuda"}
    return found


_MODELS: dict = {}


class HybridNetworks:
    """Chapter 10's integer networks (``model``: the loop filter's float module, which the device
    configurations move; the small tool networks run on the CPU)."""

    def __init__(self):
        from .video import hybrid, learned

        self.tools = [learned.load_integer(name) for name in learned.TOOLS]
        self.loop_filter = hybrid.loop_filter_network("learned")
        self.model = self.loop_filter.model


def _model(record: dict):
    key = (record["coder"], record["model"], record.get("quality"))
    if key not in _MODELS:
        if record["coder"] in ("autoencoder", "roi-learned"):
            from . import autoencoder

            _MODELS[key] = autoencoder.load_integer(record["model"], record["quality"])
        elif record["coder"] == "pixelcnn":
            from . import pixelcnn

            _MODELS[key] = pixelcnn.load_integer(record["model"])
        elif record["coder"] == "video":
            from . import video

            _MODELS[key] = video.shipped_filter(record["model"])  # the one the decoder loads
        elif record["coder"] == "video-hybrid":
            _MODELS[key] = HybridNetworks()
        else:
            raise ValueError(f"unknown golden coder {record['coder']!r}")
    return _MODELS[key]


def hybrid_pixels(stream: bytes) -> np.ndarray:
    """Chapter 10's decoded planes as one array (Y, then U, then V, each flattened): what its digest covers."""
    from .video import hybrid

    planes = hybrid.decode(stream)
    return np.concatenate([planes[key].reshape(-1) for key in "yuv"])


def decode(name: str, configuration: dict | None = None) -> np.ndarray:
    """Decode one golden file under a configuration (default: torch, this machine's threads, CPU)."""
    record = golden_files()[name]
    setting = configuration or {
        "threads": torch.get_num_threads(),
        "path": "torch",
        "device": "cpu",
    }
    model = _model(record)
    data = (GOLDEN_DIR / name).read_bytes()
    decoder: Callable[[bytes], np.ndarray]
    if record["coder"] == "autoencoder":
        from . import autoencoder

        decoder = lambda stream: autoencoder.decompress(model, stream)  # noqa: E731
    elif record["coder"] == "video":
        from . import video

        decoder = lambda stream: video.decode(stream)["y"]  # noqa: E731
    elif record["coder"] == "video-hybrid":
        decoder = hybrid_pixels
    elif record["coder"] == "pixelcnn":
        from . import pixelcnn

        decoder = lambda stream: pixelcnn.decompress(model, stream)  # noqa: E731
    elif record["coder"] == "roi-learned":
        from . import roi

        decoder = lambda stream: roi.learned.decompress(model, stream)  # noqa: E731
    else:
        raise ValueError(f"unknown golden coder {record['coder']!r}")
    with _threads(setting["threads"]), fixedpoint.integer_path(setting["path"]):
        model.model.to(setting["device"])
        try:
            return decoder(data)
        finally:
            model.model.to("cpu")


def verify(names: list[str] | None = None) -> list[dict]:
    """Decode every golden file (or ``names``) under every configuration here; one row each with
    "ok" True when the pixels have the recorded digest."""
    rows = []
    files = golden_files()
    for name in names or sorted(files):
        for label, setting in configurations().items():
            digest = pixel_digest(decode(name, setting))
            rows.append(
                {
                    "file": name,
                    "configuration": label,
                    "ok": digest == files[name]["sha256"],
                    "digest": digest,
                }
            )
    return rows


def main() -> None:
    """Print one line per file and configuration; exit status 1 if any pixel differs."""
    import sys

    rows = verify()
    for row in rows:
        print(f"{'ok  ' if row['ok'] else 'FAIL'} {row['file']:<40} {row['configuration']}")
    bad = [r for r in rows if not r["ok"]]
    print(f"{len(rows) - len(bad)} of {len(rows)} decodes match their recorded pixels")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
