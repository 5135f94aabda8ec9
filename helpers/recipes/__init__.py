"""Every training recipe of the course, one module per chapter, one command line.

    python -m helpers.recipes pixelcnn --name gated --steps 20000 --out runs/gated.pt
    python -m helpers.recipes autoencoder --name bmshj2018-hyperprior --lmbda 0.0067 --steps 16000 \
        --out runs/hyperprior.pt --lr 3e-4 --lr-drop-at 14000
    python -m helpers.recipes filters --name conditioned --steps 10000 --out runs/filter.pt
    python -m helpers.recipes adapter --name dct --steps 3500 --out runs/dct.pt
    python -m helpers.recipes npp --name jpeg --proxy diffjpeg --steps 1000 --out runs/npp.pt
    python -m helpers.recipes video tools|loop-filter|fast-mode|pframe ...
    python -m helpers.recipes campaign run|status ...

Modules: ``pixel_models`` (chapter 3), ``autoencoders`` (4), ``loop_filters`` (5),
``compressed_domain`` (8), ``coding_for_machines`` (9), ``video_tools`` (10) and ``campaign`` (trainings
that outlive a session, with their snapshots and learning curves in ``campaigns/``). Most recipes are
``<family>_recipe(name, num_steps, checkpoint_path, *, ...)`` on the house loop of
``training.run_recipe`` (Adam, lr / 10 from ``lr_drop_at``, clipping, checkpoints every 250 steps,
fresh crops on resume); chapter 10's small tool networks and its classifier have their own short
loops. The teaching modules hold the models and losses; this package holds everything that trains them.
"""

from __future__ import annotations

import argparse

from .. import autoencoder, config, filters, machine_coding, pixelcnn
from . import (
    autoencoders,
    coding_for_machines,
    compressed_domain,
    loop_filters,
    pixel_models,
    video_tools,
)
from .autoencoders import autoencoder_recipe
from .coding_for_machines import npp_recipe, proxy_recipe
from .compressed_domain import adapter_recipe, digits_cli, digits_recipe, distillation_set
from .loop_filters import JPEGPairs, filter_recipe
from .pixel_models import downscaled_photos, multiscale_recipe, pixelcnn_recipe

__all__ = [
    "pixel_models",
    "autoencoders",
    "loop_filters",
    "compressed_domain",
    "coding_for_machines",
    "video_tools",
    "pixelcnn_recipe",
    "multiscale_recipe",
    "downscaled_photos",
    "autoencoder_recipe",
    "JPEGPairs",
    "filter_recipe",
    "digits_recipe",
    "distillation_set",
    "adapter_recipe",
    "proxy_recipe",
    "npp_recipe",
    "main",
]


_FAMILIES = {
    "pixelcnn": (pixelcnn_recipe, pixelcnn.ARCHITECTURES, "gated"),
    # chapter 3: the parallel (multi-scale) lossless codec
    "multiscale": (multiscale_recipe, {"multiscale": None}, "multiscale"),
    "autoencoder": (autoencoder_recipe, autoencoder.ARCHITECTURES, "bmshj2018-hyperprior"),
    "filters": (filter_recipe, filters.ARCHITECTURES, "conditioned"),
    # chapter 8: the adapters read JPEG coefficients ("dct") or the hyperprior's latents ("latent")
    "adapter": (adapter_recipe, {"dct": None, "latent": None}, "dct"),
    "digits": (digits_cli, {"resnet": None}, "resnet"),
    # chapter 9: a proxy imitating a standard codec, and the neural preprocessor in front of it
    "proxy": (proxy_recipe, {c: None for c in machine_coding.CODECS}, "jpeg"),
    "npp": (npp_recipe, {c: None for c in machine_coding.CODECS}, "jpeg"),
}


def main(argv: list[str] | None = None) -> None:
    """Command line: python -m helpers.recipes FAMILY --name ... --steps ... --out ... [options];
    python -m helpers.recipes video tools|loop-filter|fast-mode|pframe ... (chapter 10);
    python -m helpers.recipes campaign run|status ... (the training campaigns)."""
    import sys

    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "video":
        return video_tools.main(argv[1:])
    if argv and argv[0] == "campaign":
        from . import campaign

        return campaign.main(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m helpers.recipes", description=main.__doc__)
    commands = parser.add_subparsers(dest="family", required=True)
    for family, (_, architectures, default) in _FAMILIES.items():
        command = commands.add_parser(family)
        command.add_argument("--name", default=default, choices=sorted(architectures))
        command.add_argument("--steps", type=int, required=True)
        command.add_argument("--out", required=True, help="checkpoint path (resumed if it exists)")
        command.add_argument("--crop-size", type=int)
        command.add_argument("--batch-size", type=int)
        command.add_argument("--lr", type=float)
        command.add_argument("--lr-drop-at", type=int)
        command.add_argument("--seed", type=int, default=0)
        command.add_argument("--threads", type=int)
        if family == "pixelcnn":
            command.add_argument("--output", choices=pixelcnn.OUTPUTS)
            command.add_argument("--hidden", type=int)
            command.add_argument("--num-layers", type=int)
        if family == "multiscale":
            command.add_argument("--training-data", choices=["bsds500", "bsds500+imagenet"])
            command.add_argument("--hidden", type=int)
            command.add_argument("--blocks", type=int)
            command.add_argument("--mixtures", type=int)
        if family == "autoencoder":
            command.add_argument("--lmbda", type=float)
            command.add_argument("--N", type=int)
            command.add_argument("--M", type=int)
            command.add_argument("--init-from")
            command.add_argument("--training-data", choices=["bsds500", "bsds500+imagenet"])
        if family == "filters":
            command.add_argument("--max-images", type=int)
        if family == "adapter":
            command.add_argument("--gate-weight", type=float)
            command.add_argument("--crops-per-image", type=int)
        if family == "npp":
            command.add_argument("--proxy", choices=["diffjpeg", "learned"])
            command.add_argument("--proxy-path")
            command.add_argument("--quality", type=int, help="a per-quality model (no adaptation)")
            command.add_argument("--lmbda", type=float)
            command.add_argument("--beta", type=float)
            command.add_argument("--rounding", choices=["straight-through", "cubic"])
    args = vars(parser.parse_args(argv))
    config.set_num_threads(args.pop("threads"))
    recipe = _FAMILIES[args.pop("family")][0]
    name, steps, out = args.pop("name"), args.pop("steps"), args.pop("out")
    options = {key: value for key, value in args.items() if value is not None}
    history = recipe(name, steps, out, progress=False, **options)
    print(f"done: step {history.steps[-1] if history.steps else 0}, loss {history.last():.6f}")
