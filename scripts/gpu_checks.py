"""GPU checks (run on a machine with CUDA): every shipped model on the GPU, files encoded on one device
and decoded on the other, and the hyperprior's scale-index flips between devices.

    python scripts/gpu_checks.py --out gpu_checks.json

The course's learned coders write a CRC-32 of what the decoder must reconstruct (helpers.container),
so a file whose decoder's arithmetic differs from the encoder's is refused, not decoded into garbage.
This script measures how often that happens between the CPU and a GPU. Skipped without CUDA.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch


def _photos() -> dict[str, np.ndarray]:
    from skimage import data as skdata

    return {
        "astronaut": skdata.astronaut()[:256, :256],
        "coffee": skdata.coffee()[:256, :384],
        "chelsea": skdata.chelsea()[:256, :320],
    }


def _timed(function, *args):
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    start = time.perf_counter()
    result = function(*args)
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return result, time.perf_counter() - start


def main(argv: list[str] | None = None) -> dict:
    from helpers import autoencoder, container, filters, multiscale, pixelcnn, video

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=None)
    parser.add_argument("--second", default="cuda", help="the other device (cpu: a dry run)")
    args = parser.parse_args(argv)
    if args.second == "cuda" and not torch.cuda.is_available():
        print("no CUDA device: nothing to check")
        return {}
    cpu, gpu = torch.device("cpu"), torch.device(args.second)
    name = torch.cuda.get_device_name(0) if gpu.type == "cuda" else "cpu (dry run)"
    report: dict = {"device": name, "torch": torch.__version__}
    photos = _photos()
    rows = []
    for name in ("bmshj2018-factorized", "bmshj2018-hyperprior"):
        for quality in (1, 2, 3, 4):
            model_cpu = autoencoder.load_pretrained(name, quality).to(cpu)
            model_gpu = autoencoder.load_pretrained(name, quality).to(gpu)
            model_gpu.update(force=True)
            model_cpu.update(force=True)
            for label, photo in photos.items():
                row = {"model": name, "quality": quality, "image": label}
                data_cpu, row["encode_cpu_s"] = _timed(autoencoder.compress, model_cpu, photo)
                data_gpu, row["encode_gpu_s"] = _timed(autoencoder.compress, model_gpu, photo)
                row["same_file"] = data_cpu == data_gpu
                for tag, model, data in (
                    ("cpu->cpu", model_cpu, data_cpu),
                    ("cpu->gpu", model_gpu, data_cpu),
                    ("gpu->cpu", model_cpu, data_gpu),
                    ("gpu->gpu", model_gpu, data_gpu),
                ):
                    try:
                        _, seconds = _timed(autoencoder.decompress, model, data)
                        row[tag] = f"decoded in {seconds:.3f} s"
                    except container.StreamError as error:
                        row[tag] = f"refused: {str(error)[:60]}"
                if name.endswith("hyperprior"):  # scale indexes from the same z_hat on both devices
                    x = torch.from_numpy(photo).permute(2, 0, 1)[None].float() / 255
                    with torch.no_grad():
                        z = model_cpu.h_a(model_cpu.g_a(x).abs())
                        z_hat = torch.round(z - model_cpu.entropy_bottleneck._get_medians()) + (
                            model_cpu.entropy_bottleneck._get_medians()
                        )
                        index_cpu = model_cpu.gaussian_conditional.build_indexes(
                            model_cpu.h_s(z_hat)
                        )
                        index_gpu = model_gpu.gaussian_conditional.build_indexes(
                            model_gpu.h_s(z_hat.to(gpu))
                        ).cpu()
                    row["index_flips"] = int((index_cpu != index_gpu).sum())
                    row["indexes"] = int(index_cpu.numel())
                rows.append(row)
                print(json.dumps(row), flush=True)
    report["autoencoder"] = rows
    torch.manual_seed(0)
    gated_cpu = pixelcnn.load_pretrained("gated").to(cpu)
    gated_gpu = pixelcnn.load_pretrained("gated").to(gpu)
    crop = photos["astronaut"][100:106, 100:106]
    stream = pixelcnn.compress(gated_cpu, crop)
    pixel = {}
    for tag, model in (("cpu->cpu", gated_cpu), ("cpu->gpu", gated_gpu)):
        try:
            decoded, seconds = _timed(pixelcnn.decompress, model, stream)
            pixel[tag] = f"exact: {bool(np.array_equal(decoded, crop))}, {seconds:.2f} s"
        except container.StreamError as error:
            pixel[tag] = f"refused: {str(error)[:60]}"
    report["pixelcnn_6x6"] = pixel
    print(json.dumps(pixel), flush=True)
    # chapter 3's parallel codec (float tables): a whole-photo round trip on each device, and across
    scales_cpu = multiscale.load_pretrained("multiscale").to(cpu)
    scales_gpu = multiscale.load_pretrained("multiscale").to(gpu)
    photo = photos["astronaut"]
    parallel = {}
    for tag, encoder, decoder in (
        ("cpu->cpu", scales_cpu, scales_cpu),
        ("gpu->gpu", scales_gpu, scales_gpu),
        ("cpu->gpu", scales_cpu, scales_gpu),
    ):
        stream, encode_seconds = _timed(multiscale.compress, encoder, photo)
        try:
            decoded, seconds = _timed(multiscale.decompress, decoder, stream)
            parallel[tag] = (
                f"exact: {bool(np.array_equal(decoded, photo))}, encode {encode_seconds:.2f} s, "
                f"decode {seconds:.2f} s, {8 * len(stream) / photo.size:.3f} bits/subpixel"
            )
        except container.StreamError as error:
            parallel[tag] = f"refused: {str(error)[:60]}"
    report["multiscale_astronaut"] = parallel
    print(json.dumps(parallel), flush=True)
    frames = (np.stack([photos["coffee"][i : i + 144, i : i + 176, 1] for i in range(3)])).astype(
        np.uint8
    )
    video_rows = {}
    original = video.toy._shipped_filter
    models = {d: filters.load_pretrained("conditioned").to(d) for d in (cpu, gpu)}
    try:
        video.toy._shipped_filter = lambda name: models[cpu]  # encode with the filter on the CPU
        encoded = video.analyze(frames, 20, "conditioned", "in-loop")
        for tag, device in (("cpu->cpu", cpu), ("cpu->gpu", gpu)):
            video.toy._shipped_filter = lambda name, device=device: models[device]
            try:
                decoded, seconds = _timed(video.decode, encoded.data)
                same = bool(np.array_equal(decoded, encoded.displayed))
                video_rows[tag] = f"exact: {same}, {seconds:.2f} s"
            except container.StreamError as error:
                video_rows[tag] = f"refused: {str(error)[:70]}"
    finally:
        video.toy._shipped_filter = original
    report["video_learned_in_loop"] = video_rows
    print(json.dumps(video_rows), flush=True)
    # the integer decoders (chapter 4, section 10): every golden file on the GPU must give its pixels
    from helpers import golden

    rows = [r for r in golden.verify() if r["configuration"] == "torch, cuda"]
    report["golden_on_gpu"] = {
        "files": len(rows),
        "exact": sum(r["ok"] for r in rows),
        "failed": [r["file"] for r in not_ok]
        if (not_ok := [r for r in rows if not r["ok"]])
        else [],
    }
    print(json.dumps(report["golden_on_gpu"]), flush=True)
    if args.out:
        with open(args.out, "w") as handle:
            json.dump(report, handle, indent=1)
    return report


if __name__ == "__main__":
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    main()
