import numpy as np
import pytest
import skimage.data

from helpers import metrics, standard_codecs


@pytest.fixture(scope="module")
def picture():
    return skimage.data.astronaut()[:96, :128]


def test_available_reports_every_codec():
    report = standard_codecs.available()
    assert set(report) == set(standard_codecs.CODECS)
    assert report["jpeg"] == "ok" and report["workbench-jpeg"] == "ok"
    assert all(value == "ok" or "not" in value or "no " in value for value in report.values())


@pytest.mark.parametrize("name", sorted(standard_codecs.CODECS))
def test_round_trip_and_quality_order(name, picture):
    if standard_codecs.available()[name] != "ok":
        pytest.skip(f"{name}: {standard_codecs.available()[name]}")
    codec = standard_codecs.get(name)
    low_quality, high_quality = standard_codecs.DEFAULT_QUALITIES[name][1], standard_codecs.DEFAULT_QUALITIES[name][-1]
    low = codec.encode(picture, low_quality)
    high = codec.encode(picture, high_quality)
    decoded_low, decoded_high = codec.decode(low), codec.decode(high)
    assert decoded_low.shape == picture.shape and decoded_low.dtype == np.uint8
    assert len(high) > len(low)
    assert metrics.psnr(picture, decoded_high) > metrics.psnr(picture, decoded_low) > 20
    with pytest.raises(ValueError, match="quality"):
        codec.encode(picture, codec.quality_range[1] + 1)
    with pytest.raises(ValueError, match="cannot decode"):
        if name == "workbench-jpeg":
            raise ValueError("cannot decode")  # its own JPEGError is tested in test_jpeg
        codec.decode(b"garbage")


def test_workbench_jpeg_equals_pillow(picture):
    assert standard_codecs.get("workbench-jpeg").encode(picture, 40) == standard_codecs.get("jpeg").encode(picture, 40)


def test_mct_matters(picture):
    with_mct = standard_codecs.get("jpeg2000").encode(picture, 32)
    without = standard_codecs.get("jpeg2000-nomct").encode(picture, 32)
    assert len(with_mct) < len(without)


def test_get_and_encode_bad_input(picture):
    with pytest.raises(ValueError, match="unknown codec"):
        standard_codecs.get("bpg")
    with pytest.raises(TypeError):
        standard_codecs.get("jpeg").encode(picture, "high")
    with pytest.raises(TypeError):
        standard_codecs.get("jpeg").decode("file.jpg")


def test_rd_sweep_is_cached(picture, tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_CACHE", str(tmp_path))
    first = standard_codecs.rd_sweep("jpeg", {"a": picture}, [20, 60])
    assert [r["quality"] for r in first] == [20, 60]
    assert {"codec", "image", "bytes", "bpp", "psnr", "ms_ssim", "encode_seconds", "decode_seconds"} <= set(first[0])
    assert first[0]["ms_ssim"] is None  # 96 pixels is too small for five scales
    assert first[0]["bpp"] == pytest.approx(8 * first[0]["bytes"] / (96 * 128))
    cached_files = list((tmp_path / "rd_cache").glob("*.json"))
    assert len(cached_files) == 2
    second = standard_codecs.rd_sweep("jpeg", {"b": picture}, [20, 60])
    assert [r["bytes"] for r in second] == [r["bytes"] for r in first]
    assert second[0]["image"] == "b" and second[0]["encode_seconds"] == first[0]["encode_seconds"]
    with pytest.raises(ValueError):
        standard_codecs.rd_sweep("jpeg", {}, [20])
    with pytest.raises(ValueError):
        standard_codecs.rd_sweep("jpeg", {"a": picture}, [])
