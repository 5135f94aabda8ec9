"""Chapter 10, section 6: the learned P-frame codec (DVC-style, helpers.video.pframe) against the hybrid
codec's P-frames and x264's (-bf 0), on the study's test frames; writes
helpers/reference/video_pframe_study.json.

    WORKBENCH_DATA=../shared/data python scripts/pframe_study.py

Protocol: P-frames only (frames 1..N-1 of each test clip): bits per P-frame and PSNR-YUV over the P-frames
(hybrid.psnr). The hybrid codec codes each clip at its qualities (its own I-frame); the learned codec starts
from the hybrid codec's I-frame at quality 25 and codes every later frame from its own previous decoded frame;
x264's P-frame bits are its packet sizes after the first (ffprobe). "At equal rate": the hybrid curve's PSNR
interpolated (linear in log-rate) at the learned codec's rate.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import torch

from helpers import data, metrics
from helpers.video import hybrid, pframe, reference_codecs

SEQUENCES = {"foreman": (50, 30), "bus": (0, 38), "highway": (0, 40)}
QUALITIES = (6, 12, 25, 45)
CRFS = (32, 36, 40, 44)
#: PFRAME_STUDY_OUT writes elsewhere (a trial run)
OUT = Path(
    os.environ.get(
        "PFRAME_STUDY_OUT",
        Path(__file__).resolve().parents[1] / "helpers" / "reference" / "video_pframe_study.json",
    )
)


def p_frames(planes):
    return {k: v[1:] for k, v in planes.items()}


def main() -> None:
    torch.set_num_threads(1)
    out = {
        "command": "python scripts/pframe_study.py",
        "protocol": __doc__.split("\n\n")[2].strip(),
        "models": {q: {"lmbda": pframe.LAMBDAS[q]} for q in pframe.LAMBDAS},
        "sequences": {},
    }
    models = {q: pframe.load_pretrained("pframe", q) for q in pframe.LAMBDAS}
    for name, (start, count) in SEQUENCES.items():
        frames = data.video_sequence(name, count, start)
        target = p_frames(frames)
        entry = {
            "frames": [start, start + count - 1],
            "hybrid P-frames": [],
            "learned P-frames": [],
            "x264 -bf 0 P-frames": [],
        }
        for quality in QUALITIES:
            result = hybrid.analyze(frames, quality)
            entry["hybrid P-frames"].append(
                {
                    "quality": quality,
                    "bits_per_p_frame": float(np.mean(result.bits_per_frame[1:])),
                    "psnr_y_per_frame": [float(v) for v in result.psnr_per_frame],
                    **{
                        f"psnr_{k}": v
                        for k, v in hybrid.psnr(target, p_frames(result.decoded)).items()
                    },
                }
            )
        first = hybrid.analyze({k: v[:1] for k, v in frames.items()}, 25)
        for quality, model in models.items():
            coded = pframe.code_sequence(model, frames, [first.decoded[k][0] for k in "yuv"])
            entry["learned P-frames"].append(
                {
                    "model": quality,
                    "bits_per_p_frame": 8 * float(np.mean(coded["bytes"])),
                    "seconds_per_frame": coded["seconds"] / (count - 1),
                    **{
                        f"psnr_{k}": v
                        for k, v in hybrid.psnr(target, p_frames(coded["decoded"])).items()
                    },
                }
            )
            entry["learned P-frames"][-1]["psnr_y_per_frame"] = [
                float(
                    hybrid.psnr(
                        {k: frames[k][n : n + 1] for k in "yuv"},
                        {k: coded["decoded"][k][n : n + 1] for k in "yuv"},
                    )["y"]
                )
                for n in range(count)
            ]
            entry["learned P-frames"][-1]["motion_share"] = float(
                np.sum(coded["motion_bytes"]) / np.sum(coded["bytes"])
            )
        for crf in CRFS:
            coded = reference_codecs.code(
                frames, "x264", crf, fps=data.VIDEO_SEQUENCES[name]["fps"], low_delay=True
            )
            entry["x264 -bf 0 P-frames"].append(
                {
                    "crf": crf,
                    "bits_per_p_frame": 8 * float(np.mean(coded["frame_bytes"][1:])),
                    **{
                        f"psnr_{k}": v
                        for k, v in hybrid.psnr(target, p_frames(coded["decoded"])).items()
                    },
                }
            )
        hybrid_points = sorted(entry["hybrid P-frames"], key=lambda p: p["bits_per_p_frame"])
        rates = np.log([p["bits_per_p_frame"] for p in hybrid_points])
        psnrs = [p["psnr_yuv"] for p in hybrid_points]
        for point in entry["learned P-frames"]:
            rate = np.log(point["bits_per_p_frame"])
            inside = rates[0] <= rate <= rates[-1]
            point["hybrid_psnr_at_equal_rate"] = (
                float(np.interp(rate, rates, psnrs)) if inside else None
            )
            point["gain_db_at_equal_rate"] = (
                point["psnr_yuv"] - point["hybrid_psnr_at_equal_rate"] if inside else None
            )
        learned = entry["learned P-frames"]
        entry["motion_share"] = float(np.mean([p["motion_share"] for p in learned]))
        if len(learned) >= 2:
            entry["bd_rate_learned_vs_hybrid"] = float(
                metrics.bd_rate(
                    [p["bits_per_p_frame"] for p in hybrid_points],
                    psnrs,
                    [p["bits_per_p_frame"] for p in learned],
                    [p["psnr_yuv"] for p in learned],
                    method="pchip",
                )
            )
        print(name, json.dumps(entry, indent=1), flush=True)
        out["sequences"][name] = entry
        OUT.write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
