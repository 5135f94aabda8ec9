import functools
import http.server
import os
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest
import torch

from helpers import data, images


@pytest.fixture
def serve():
    """Serve a folder over HTTP on 127.0.0.1 and return its base URL."""
    servers = []

    def start(folder: Path) -> str:
        handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
        handler.log_message = lambda *args: None
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_kodak_download_over_http(kodak_dir, serve, tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_DATA", str(tmp_path))
    url = serve(kodak_dir)
    pictures = data.kodak(base_url=url, names=["kodim01", "kodim04"])
    assert pictures["kodim01"].shape == (512, 768, 3) and pictures["kodim01"].dtype == np.uint8
    assert pictures["kodim04"].shape == (768, 512, 3)
    cached = tmp_path / "kodak" / "kodim01.png"
    assert data.sha256_of(cached) == data.KODAK_SHA256["kodim01"]
    assert not list((tmp_path / "kodak").glob("*.part"))
    # A second call reads the cache: it works with the server gone (an unreachable URL).
    again = data.kodak(base_url="http://127.0.0.1:9/", names=["kodim01"])
    np.testing.assert_array_equal(again["kodim01"], pictures["kodim01"])


def test_kodak_corrupted_download_leaves_nothing(kodak_dir, serve, tmp_path, monkeypatch):
    served = tmp_path / "served"
    served.mkdir()
    corrupted = bytearray((kodak_dir / "kodim02.png").read_bytes())
    corrupted[5000] ^= 0xFF
    (served / "kodim02.png").write_bytes(bytes(corrupted))
    cache = tmp_path / "cache"
    monkeypatch.setenv("WORKBENCH_DATA", str(cache))
    with pytest.raises(data.ChecksumError, match="checksum mismatch"):
        data.kodak(base_url=serve(served), names=["kodim02"])
    assert not (cache / "kodak").exists() or not any((cache / "kodak").iterdir())


def test_kodak_offline_error_says_how_to_fix(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_DATA", str(tmp_path))
    with pytest.raises(data.DataUnavailableError, match="WORKBENCH_DATA"):
        data.kodak(base_url="http://127.0.0.1:9/", names=["kodim03"])
    assert not (tmp_path / "kodak").exists()  # nothing left behind, not even an empty folder


def test_existing_file_with_wrong_checksum_is_reported(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_DATA", str(tmp_path))
    (tmp_path / "kodak").mkdir()
    (tmp_path / "kodak" / "kodim05.png").write_bytes(b"tampered")
    with pytest.raises(data.ChecksumError, match="delete it"):
        data.kodak(base_url="http://127.0.0.1:9/", names=["kodim05"])
    assert (tmp_path / "kodak" / "kodim05.png").read_bytes() == b"tampered"


def test_kodak_all_from_shared(kodak_dir):
    pictures = data.kodak()
    assert list(pictures) == [f"kodim{i:02d}" for i in range(1, 25)]
    assert all(p.shape in ((512, 768, 3), (768, 512, 3)) for p in pictures.values())
    assert data.available()["kodak"]


def test_kodak_bad_names():
    with pytest.raises(ValueError, match="kodim01"):
        data.kodak(names=["kodim99"])


def test_image_folder_and_random_crops(tmp_path):
    rng = np.random.default_rng(0)
    for index in range(3):
        images.save_image(
            rng.integers(0, 256, (40, 50, 3), dtype=np.uint8), tmp_path / f"{index}.png"
        )
    (tmp_path / "notes.txt").write_text("not an image")
    paths = data.image_folder(tmp_path)
    assert [p.name for p in paths] == ["0.png", "1.png", "2.png"]
    crops = data.RandomCrops(paths, crop_size=16, seed=1)
    assert len(crops) == 3
    item = crops[0]
    assert item.shape == (3, 16, 16) and item.dtype == torch.float32
    first = next(data.RandomCrops(paths, 16, seed=1).batches(4, seed=5))
    second = next(data.RandomCrops(paths, 16, seed=1).batches(4, seed=5))
    assert first.shape == (4, 3, 16, 16)
    torch.testing.assert_close(first, second)
    # every crop is a real crop of one of the images
    originals = [images.load_image(p) for p in paths]
    patch = (first[0].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
    windows = [
        np.lib.stride_tricks.sliding_window_view(o, (16, 16, 3))[..., :, :, :] for o in originals
    ]
    found = any(
        (w == patch).all(axis=(-3, -2, -1)).any()
        or (w == patch[:, ::-1]).all(axis=(-3, -2, -1)).any()
        for w in windows
    )
    assert found


def test_random_crops_bad_input(tmp_path):
    with pytest.raises(FileNotFoundError):
        data.image_folder(tmp_path / "missing")
    with pytest.raises(ValueError, match="no image files"):
        data.image_folder(tmp_path)
    with pytest.raises(ValueError, match="larger"):
        data.RandomCrops([np.zeros((8, 8, 3), np.uint8)], crop_size=16)
    with pytest.raises(ValueError):
        data.RandomCrops([], crop_size=16)
    crops = data.RandomCrops([np.zeros((8, 8, 3), np.uint8)], crop_size=4)
    with pytest.raises(ValueError):
        next(crops.batches(0))


def test_bsds500(bsds_dir):
    train = data.bsds500("train")
    val = data.bsds500("val")
    assert len(train) == 200 and len(val) == 100 and len(data.bsds500("all")) == 300
    picture = images.load_image(train[0])
    assert picture.shape in ((321, 481, 3), (481, 321, 3))
    with pytest.raises(ValueError):
        data.bsds500("test")


def test_imagenet_samples(imagenet_dir):
    samples = list(data.imagenet_samples(limit=3))
    assert [s[1] for s in samples] == [0, 1, 2]
    assert samples[0][2] == "tench" and samples[0][0].ndim == 3
    cats = list(data.imagenet_samples(classes=[281]))
    assert len(cats) == 1 and cats[0][2] == "tabby"
    labels = data.imagenet_labels()
    assert len(labels) == 1000 and labels[281] == "tabby"


def test_foreman(video_dir):
    planes = data.foreman_qcif()
    assert planes["y"].shape == (10, 144, 176) and planes["u"].shape == (10, 72, 88)
    rgb = data.foreman_qcif_rgb(num_frames=2)
    assert rgb.shape == (2, 144, 176, 3)
    # The shared folder's PNG frames were derived with the same BT.601 limited-range formula.
    reference = images.load_image(video_dir / "foreman_qcif_frames" / "foreman_qcif_001.png")
    assert np.abs(rgb[1].astype(int) - reference.astype(int)).max() <= 1
    with pytest.raises(ValueError):
        data.foreman_qcif(num_frames=11)


def test_sample_images_from_kodak(kodak_dir):
    pictures = data.sample_images(2, size=64)
    assert list(pictures) == ["kodim01", "kodim02"]
    assert all(p.shape == (64, 64, 3) for p in pictures.values())


def test_sample_images_fallback_offline(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_DATA", str(tmp_path))
    monkeypatch.setenv("WORKBENCH_KODAK_URL", "http://127.0.0.1:9/")
    with pytest.warns(UserWarning, match="scikit-image"):
        pictures = data.sample_images(3)
    assert list(pictures) == ["astronaut", "chelsea", "coffee"]
    assert all(p.dtype == np.uint8 and p.shape[2] == 3 for p in pictures.values())
    with pytest.warns(UserWarning):
        many = data.sample_images(24)  # only the bundled photos, never a download
    assert len(many) == 6
    with pytest.raises(ValueError):
        data.sample_images(0)


def test_available_reports_missing(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_DATA", str(tmp_path))
    assert data.available() == {
        "kodak": False,
        "bsds500": False,
        "imagenet_samples": False,
        "foreman_qcif": False,
        "video/foreman": False,
        "video/bus": False,
        "video/highway": False,
    }


def test_fetch_is_atomic_on_network_error(tmp_path):
    with pytest.raises(data.DataUnavailableError):
        data.fetch("http://127.0.0.1:9/x.png", tmp_path / "x.png", "0" * 64, timeout=2)
    assert os.listdir(tmp_path) == []
    shutil.rmtree(tmp_path)


def test_kodak_paths(kodak_dir):
    paths = data.kodak_paths(names=["kodim07"])
    assert list(paths) == ["kodim07"] and paths["kodim07"].name == "kodim07.png"
    assert data.sha256_of(paths["kodim07"]) == data.KODAK_SHA256["kodim07"]
    assert data.KODAK_URL.startswith("http")
    with pytest.raises(ValueError):
        data.kodak_paths(names=["kodim25"])


def test_a_mirror_of_the_shared_folder_serves_every_data_set(
    tmp_path, monkeypatch, serve, shared_data
):
    """WORKBENCH_DATA_URL: a class server (or ``python -m http.server`` in the shared data folder)
    is the download source of every data set, checked against the same sha256 sums."""
    mirror = tmp_path / "mirror"
    files = ["kodak/kodim07.png", "imagenet-samples/labels.csv", f"video/{data.FOREMAN_FILE}"]
    val = sorted((shared_data / "train" / "bsds500_val").glob("*.jpg"))  # the 100 of the val split
    first_sample = sorted((shared_data / "imagenet-samples").glob("n01440764*"))[0]
    files += [f"train/bsds500_val/{p.name}" for p in val] + [
        f"imagenet-samples/{first_sample.name}"
    ]
    for relative in files:
        (mirror / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(shared_data / relative, mirror / relative)
    cache = tmp_path / "cache"
    monkeypatch.setenv("WORKBENCH_DATA", str(cache))
    monkeypatch.delenv("WORKBENCH_KODAK_URL", raising=False)
    monkeypatch.setenv("WORKBENCH_DATA_URL", serve(mirror))
    assert data.kodak(names=["kodim07"])["kodim07"].shape == (512, 768, 3)
    (_, index, _), *_ = data.imagenet_samples(limit=1)
    assert index == 0
    assert data.foreman_qcif(2)["y"].shape == (2, 144, 176)
    assert [p.name for p in data.bsds500("val")] == [p.name for p in val]
    assert (cache / "train" / "bsds500_val" / val[0].name).is_file()
    with pytest.raises(data.DataUnavailableError, match="WORKBENCH_DATA_URL"):
        data.kodak(names=["kodim08"])  # not on the mirror: the message names the fix
    assert not (cache / "kodak" / "kodim08.png").exists()


def test_y4m_payloads_become_the_raw_file(tmp_path):
    frame = bytes(range(6)) * 4  # 4x4 luma + 2x2 U + 2x2 V = 24 bytes
    path = tmp_path / "clip.y4m"
    path.write_bytes(b"YUV4MPEG2 W4 H4 F30:1 Ip\n" + (b"FRAME\n" + frame) * 2)
    assert data._y4m_to_raw(path, (4, 4)) == frame * 2
    path.write_bytes(b"YUV4MPEG2 W4 H4 F30:1 Ip C444\n" + b"FRAME\n" + bytes(48))
    with pytest.raises(ValueError, match="4:2:0"):
        data._y4m_to_raw(path, (4, 4))
    path.write_bytes(b"YUV4MPEG2 W4 H4 F30:1 Ip\n" + b"FRAME\n" + frame[:10])
    with pytest.raises(ValueError, match="truncated"):
        data._y4m_to_raw(path, (4, 4))


def test_a_failed_download_leaves_no_folder_behind(tmp_path, monkeypatch):
    # an empty data set folder would look like a data set that is there (the tests' fixtures, a user)
    import socket

    with socket.socket() as handle:
        handle.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{handle.getsockname()[1]}/x.png"
    target = tmp_path / "data" / "train" / "bsds500_train" / "x.png"
    with pytest.raises(data.DataUnavailableError):
        data.fetch(dead, target, "0" * 64)
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "kept").mkdir()  # a folder that was there before stays
    with pytest.raises(data.DataUnavailableError):
        data.fetch(dead, tmp_path / "kept" / "x.png", "0" * 64)
    assert (tmp_path / "kept").is_dir()


def test_study_json_keeps_number_lists_on_one_line_and_round_trips():
    import json

    study = {
        "rows": [{"top1": list(range(500)), "bpp": [0.25, -1.5e-07, 3.0]}],
        "names": ["a", "b"],
        "nested": [[1, 2], [3, 4]],
        "empty": [],
        "text": "[1, 2] stays text",
    }
    text = data.study_json(study)
    assert json.loads(text) == study and text.endswith("\n")
    assert (
        "[0, 1, 2, 3," in text and text.count("\n") < 30
    )  # 500 numbers on one line, not 500 lines
