"""Chapter 9 benchmark (printed, not asserted): what the NPP adds to encoding one 224 x 224 photo
(NPP forward + JPEG/HEIF encode against the encode alone), and the cost of one training step's
pieces: the differentiable JPEG forward and backward, the learned proxy, Lite0's backward."""

from __future__ import annotations

import numpy as np
import torch
from common import best_of

from helpers import compressed_domain as cd
from helpers import config
from helpers import machine_coding as mc


def main() -> None:
    print(
        f"torch threads: {torch.get_num_threads()}, device: {config.device()}, {config.machine()}"
    )
    photos = [p for p, _ in cd.held_out_photos(5)]
    for codec in mc.CODECS:
        npp = mc.load_pretrained(f"npp-{codec}")
        quality = 30
        alone = np.mean(
            [best_of(lambda p=p, c=codec, q=quality: mc.encode(p, c, q), 3) for p in photos]
        )
        with_npp = np.mean(
            [
                best_of(lambda p=p, c=codec, q=quality, n=npp: mc.encode(p, c, q, n), 3)
                for p in photos
            ]
        )
        print(
            f"{codec} q{quality} encode, 224 x 224: alone {1000 * alone:6.1f} ms, "
            f"NPP + encode {1000 * with_npp:6.1f} ms (NPP {1000 * (with_npp - alone):+.1f} ms)"
        )

    device = config.device()
    x = torch.from_numpy(np.stack(photos[:4] * 2)).permute(0, 3, 1, 2).float().div(255).to(device)
    diff = mc.load_pretrained("diffjpeg")
    proxy = mc.load_pretrained("proxy-jpeg").train()
    machine = mc.Machine().to(device)

    def backward(function):
        y = x.clone().requires_grad_(True)
        x_hat, bits = function(y)
        (x_hat.mean() + bits.mean()).backward()

    rows = {
        "DiffJPEG forward + backward": lambda: backward(lambda y: diff(y, 30)),
        "learned JPEG proxy forward + backward": lambda: backward(lambda y: proxy(y, 25)),
        "real JPEG encode + decode (Pillow)": lambda: mc.real_codec("jpeg", x, 30),
        "Lite0 forward + backward to the pixels": lambda: backward(
            lambda y: (machine(y), torch.zeros(1, device=device))
        ),
    }
    print("\none training step's pieces, batch of 8 crops of 224 x 224 (best of 3)")
    for label, function in rows.items():
        function()
        print(f"{label:42s} {1000 * best_of(function, 3):7.1f} ms")


if __name__ == "__main__":
    main()
