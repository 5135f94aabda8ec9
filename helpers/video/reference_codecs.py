"""x264 and x265 through Debian's ``ffmpeg`` (5.1), on the same 4:2:0 frames as the hybrid codec.

``code(frames, codec, crf)`` writes the frames as raw I420, encodes them with libx264 or libx265 at a
constant rate factor, decodes the elementary stream back with ffmpeg, and returns the decoded planes
and the stream's size. The settings are stated in ``SETTINGS`` and in every result: ``-preset medium
-tune psnr`` (the issue's protocol), frame rate as the sequence's, one intra frame then predicted
frames (``keyint`` above the sequence length). ``low_delay=True`` adds ``-bf 0`` (no B-frames: the
hybrid codec's own structure, IPPP); the default keeps x264/x265's B-frames, as a user would get.

``ffmpeg`` is a system package (``apt-get install ffmpeg``), not a pip one: ``available()`` says whether
it is there, and the tests skip with that reason when it is not.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

__all__ = ["CODECS", "SETTINGS", "available", "code", "version"]

CODECS = {"x264": "libx264", "x265": "libx265"}
SETTINGS = (
    "-preset medium -tune psnr, CRF rate control, one I-frame then P (and B unless low_delay)"
)


def available() -> bool:
    """Whether ffmpeg with libx264 and libx265 can be run here."""
    if shutil.which("ffmpeg") is None:
        return False
    try:
        encoders = subprocess.run(
            ["ffmpeg", "-hide_banner", "-encoders"], capture_output=True, text=True, timeout=30
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return "libx264" in encoders and "libx265" in encoders


def version() -> str:
    """ffmpeg's first version line."""
    if shutil.which("ffmpeg") is None:
        return "ffmpeg is not installed"
    return subprocess.run(
        ["ffmpeg", "-version"], capture_output=True, text=True
    ).stdout.splitlines()[0]


def code(
    frames,
    codec: str = "x264",
    crf: int = 28,
    fps: float = 30.0,
    low_delay: bool = False,
    preset: str = "medium",
) -> dict:
    """Encode and decode 4:2:0 planes {'y', 'u', 'v'} with x264 or x265; returns {'decoded': planes,
    'bytes': stream size, 'frame_bytes': each packet's size (ffprobe), 'command': the encoder command}."""
    from .hybrid import check_frames

    planes = check_frames(frames)
    if codec not in CODECS:
        raise ValueError(f"codec must be one of {sorted(CODECS)}, got {codec!r}")
    if isinstance(crf, bool) or not isinstance(crf, (int, np.integer)) or not 0 <= crf <= 51:
        raise ValueError(f"crf must be an int in 0..51, got {crf!r}")
    if not available():
        raise RuntimeError("ffmpeg with libx264/libx265 is not installed: apt-get install ffmpeg")
    count, height, width = planes["y"].shape
    with tempfile.TemporaryDirectory() as folder:
        raw, stream, back = (Path(folder) / name for name in ("in.yuv", "out.bin", "back.yuv"))
        with open(raw, "wb") as handle:
            for n in range(count):
                for key in "yuv":
                    handle.write(np.ascontiguousarray(planes[key][n]).tobytes())
        keyint = count + 1
        command = [
            "ffmpeg",
            "-y",
            "-v",
            "error",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "yuv420p",
            "-s",
            f"{width}x{height}",
            "-r",
            f"{fps:g}",
            "-i",
            str(raw),
            "-c:v",
            CODECS[codec],
            "-preset",
            preset,
            "-tune",
            "psnr",
            "-crf",
            str(int(crf)),
            "-threads",
            "1",
        ]
        if codec == "x264":
            command += ["-g", str(keyint), "-keyint_min", str(keyint), "-sc_threshold", "0"]
            command += ["-bf", "0"] if low_delay else []
            command += ["-f", "h264", str(stream)]
        else:
            params = f"keyint={keyint}:min-keyint={keyint}:scenecut=0:log-level=error:pools=1:frame-threads=1"
            params += ":bframes=0" if low_delay else ""
            command += ["-x265-params", params, "-f", "hevc", str(stream)]
        subprocess.run(command, check=True, capture_output=True, timeout=600)
        subprocess.run(
            [
                "ffmpeg",
                "-y",
                "-v",
                "error",
                "-i",
                str(stream),
                "-f",
                "rawvideo",
                "-pix_fmt",
                "yuv420p",
                str(back),
            ],
            check=True,
            capture_output=True,
            timeout=600,
        )
        size = stream.stat().st_size
        packets = subprocess.run(
            [
                "ffprobe",
                "-v",
                "error",
                "-show_entries",
                "packet=size",
                "-of",
                "csv=p=0",
                str(stream),
            ],
            capture_output=True,
            text=True,
            timeout=600,
        ).stdout.split()
        decoded = np.fromfile(back, dtype=np.uint8)
    frame = width * height * 3 // 2
    if decoded.size != frame * count:
        raise RuntimeError(f"{codec} returned {decoded.size // frame} frames for {count}")
    decoded = decoded.reshape(count, frame)
    luma = width * height
    out = {
        "y": decoded[:, :luma].reshape(count, height, width),
        "u": decoded[:, luma : luma + luma // 4].reshape(count, height // 2, width // 2),
        "v": decoded[:, luma + luma // 4 :].reshape(count, height // 2, width // 2),
    }
    # packet sizes in decoding order (with B-frames that is not display order); headers ride on the first
    frame_bytes = [int(value) for value in packets if value.strip().isdigit()]
    return {
        "decoded": out,
        "bytes": int(size),
        "frame_bytes": frame_bytes,
        "command": " ".join(command[:2] + command[13:]),
    }
