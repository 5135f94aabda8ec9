"""Add ImageNet agreement (and Kodak equal-size) results for more ROI coders to roi_study.json.

python scripts/roi_agreement_extra.py [--imagenet 200]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import roi_study  # noqa: E402

from helpers import cam, config, data  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--imagenet", type=int, default=200)
    parser.add_argument("--out", default="helpers/reference/roi_study.json")
    args = parser.parse_args()
    config.set_num_threads(1)
    classifier = cam.load_classifier()
    coders = {k: v for k, v in roi_study.AGREEMENT_CODERS.items() if "0.05" not in k}
    roi_study.SETTINGS = {
        "rdo (base 75, floor 0.2)": dict(mode="rdo", base_quality=75, weight_floor=0.2)
    }
    kodak = roi_study.equal_size(classifier, data.kodak())
    agreement = roi_study.imagenet_agreement(classifier, args.imagenet, coders)
    study = json.loads(Path(args.out).read_text())
    study["equal_size_kodak"]["summary"].update(kodak["summary"])
    study["equal_size_kodak"]["per_image"].update(kodak["per_image"])
    study["imagenet_more_coders"] = agreement
    study["command_more_coders"] = (
        f"python scripts/roi_agreement_extra.py --imagenet {args.imagenet}"
    )
    Path(args.out).write_text(json.dumps(study, indent=1))
    print("updated", args.out)


if __name__ == "__main__":
    main()
