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
    low_quality, high_quality = (
        standard_codecs.DEFAULT_QUALITIES[name][1],
        standard_codecs.DEFAULT_QUALITIES[name][-1],
    )
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
    assert standard_codecs.get("workbench-jpeg").encode(picture, 40) == standard_codecs.get(
        "jpeg"
    ).encode(picture, 40)


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
    assert {
        "codec",
        "image",
        "bytes",
        "bpp",
        "psnr",
        "ms_ssim",
        "encode_seconds",
        "decode_seconds",
    } <= set(first[0])
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


def test_published_kodak_reference():
    curves = standard_codecs.published_kodak()
    assert {
        "JPEG",
        "WebP",
        "BPG (4:4:4, x265)",
        "VTM",
        "bmshj2018-factorized",
        "bmshj2018-hyperprior",
        "mbt2018",
    } <= set(curves)
    for curve in curves.values():
        assert len(curve["bpp"]) == len(curve["psnr"]) == len(curve["ms_ssim"])
        assert len(curve["commit"]) == 40 and curve["file"].startswith("results/image/kodak/")


@pytest.mark.parametrize("method, expected", [("cubic", -59.1), ("pchip", -58.9)])
def test_bd_rate_jpeg_to_bpg_on_compressai_points(method, expected):
    import bjontegaard

    curves = standard_codecs.published_kodak()
    jpeg, bpg = curves["JPEG"], curves["BPG (4:4:4, x265)"]
    with pytest.warns(UserWarning, match="overlap"):  # JPEG's curve covers 24-41 dB, BPG's 26-48 dB
        ours = metrics.bd_rate(jpeg["bpp"], jpeg["psnr"], bpg["bpp"], bpg["psnr"], method=method)
    assert ours == pytest.approx(expected, abs=0.1)
    with pytest.warns(UserWarning):
        theirs = bjontegaard.bd_rate(
            jpeg["bpp"],
            jpeg["psnr"],
            bpg["bpp"],
            bpg["psnr"],
            method=method,
            require_matching_points=False,
        )
    assert ours == pytest.approx(theirs, abs=0.1)


def test_pillow_jpeg_matches_compressai_on_kodak(kodak_dir, tmp_path, monkeypatch):
    """Our Pillow JPEG sweep, averaged as CompressAI does, against their published JPEG points."""
    from helpers import data

    monkeypatch.setenv("WORKBENCH_CACHE", str(tmp_path))
    qualities = list(range(5, 100, 5))
    records = standard_codecs.rd_sweep("jpeg", data.kodak(), qualities, measure_ms_ssim=False)
    averaged = metrics.average_rd(records)
    published = standard_codecs.published_kodak()["JPEG"]
    for index, quality in enumerate(qualities):
        assert averaged[quality]["count"] == 24
        assert averaged[quality]["psnr"] == pytest.approx(published["psnr"][index], abs=0.3), (
            quality
        )


def test_lossless_bits_round_trip_and_rank():
    rng = np.random.default_rng(0)
    smooth = np.cumsum(rng.integers(-2, 3, (48, 64, 3)), axis=1) + 128
    image = np.clip(smooth, 0, 255).astype(np.uint8)
    bits = standard_codecs.lossless_bits(image)
    assert set(bits) == set(standard_codecs.LOSSLESS)
    assert all(0 < value < 8.5 for value in bits.values())
    noise = rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)  # incompressible: about 8 bits
    assert standard_codecs.lossless_bits(noise, ["PNG"])["PNG"] > 7.9
    with pytest.raises(ValueError, match="unknown lossless"):
        standard_codecs.lossless_bits(image, ["GIF"])
