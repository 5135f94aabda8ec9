"""Chapter 6: does a gentler ROI (a higher weight floor in the ROI-weighted RDO coder) keep the
classifier's top-1 agreement while still gaining inside the ROI? Kodak equal-size and ImageNet agreement
for several floors, written to helpers/reference/roi_floor_sweep.json.

    WORKBENCH_DATA=../shared/data OMP_NUM_THREADS=1 python scripts/roi_floor_sweep.py --floors 0.35 0.5
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import roi_study  # noqa: E402

from helpers import cam, config, data  # noqa: E402

OUT = Path(__file__).resolve().parents[1] / "helpers" / "reference" / "roi_floor_sweep.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--floors", type=float, nargs="*", default=[0.35, 0.5])
    parser.add_argument("--imagenet", type=int, default=200)
    parser.add_argument("--base", type=int, default=75, help="the RDO coder's base JPEG quality")
    parser.add_argument(
        "--control",
        action="store_true",
        help="add the RDO coder with uniform weights (no ROI) as a control",
    )
    parser.add_argument("--out", default=str(OUT))
    args = parser.parse_args()
    config.set_num_threads(1)
    started = time.time()
    classifier = cam.load_classifier()
    coders = {
        f"rdo (base {args.base}, floor {f})": dict(
            mode="rdo", base_quality=args.base, weight_floor=f
        )
        for f in args.floors
    }
    if args.control:
        coders[f"rdo (base {args.base}), uniform weights (control: RDO without ROI)"] = dict(
            mode="rdo", base_quality=args.base, uniform=True
        )
    roi_study.SETTINGS = coders
    kodak = roi_study.equal_size(classifier, data.kodak())
    agreement = roi_study.imagenet_agreement(classifier, args.imagenet, coders)
    Path(args.out).write_text(
        json.dumps(
            {
                "command": "python scripts/roi_floor_sweep.py --floors "
                + " ".join(map(str, args.floors))
                + f" --imagenet {args.imagenet} --base {args.base}"
                + (" --control" if args.control else ""),
                "roi_map": "as scripts/roi_study.py (Grad-CAM top-3, softmax fusion); anchor Pillow JPEG q50",
                "equal_size_kodak": kodak["summary"],
                "imagenet": agreement,
                "seconds": round(time.time() - started),
            },
            indent=1,
        )
        + "\n"
    )
    print("wrote", args.out)


if __name__ == "__main__":
    main()
