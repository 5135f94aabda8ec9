import numpy as np
import pytest
import torch
from PIL import Image

from helpers import images


@pytest.fixture
def rgb():
    return np.random.default_rng(0).integers(0, 256, size=(13, 21, 3), dtype=np.uint8)


def test_tensor_round_trip(rgb):
    tensor = images.to_tensor(rgb, device="cpu")
    assert tensor.shape == (1, 3, 13, 21) and tensor.dtype == torch.float32
    assert 0.0 <= tensor.min() and tensor.max() <= 1.0
    np.testing.assert_array_equal(images.to_uint8(tensor), rgb)


def test_grayscale_round_trip():
    gray = np.arange(60, dtype=np.uint8).reshape(6, 10)
    tensor = images.to_tensor(gray, device="cpu")
    assert tensor.shape == (1, 1, 6, 10)
    np.testing.assert_array_equal(images.to_uint8(tensor), gray)


def test_to_tensor_accepts_pil_and_float(rgb):
    from_pil = images.to_tensor(Image.fromarray(rgb), device="cpu")
    from_float = images.to_tensor(rgb / 255.0, device="cpu")
    torch.testing.assert_close(from_pil, from_float)


def test_to_tensor_bad_input():
    with pytest.raises(TypeError, match="dtype"):
        images.to_tensor(np.zeros((4, 4, 3), dtype=np.int32))
    with pytest.raises(ValueError, match="shape"):
        images.to_tensor(np.zeros((4, 4, 5), dtype=np.uint8))
    with pytest.raises(ValueError, match="NaN"):
        images.to_tensor(np.full((4, 4, 3), np.nan))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        images.to_tensor(np.full((4, 4, 3), 2.0))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        images.to_tensor(torch.full((1, 3, 4, 4), -0.5))
    with pytest.raises(TypeError):
        images.to_tensor("not an image")
    with pytest.raises(ValueError, match="empty"):
        images.to_tensor(np.zeros((0, 4, 3), dtype=np.uint8))


def test_to_uint8_clips_and_validates():
    tensor = torch.tensor([[[[1.2, -0.1]]]])
    np.testing.assert_array_equal(images.to_uint8(tensor), [[255, 0]])
    with pytest.raises(ValueError, match="clip=False"):
        images.to_uint8(tensor, clip=False)
    with pytest.raises(ValueError, match="batch"):
        images.to_uint8(torch.zeros(2, 3, 4, 4))
    with pytest.raises(ValueError, match="NaN"):
        images.to_uint8(torch.full((1, 3, 2, 2), float("nan")))
    with pytest.raises(TypeError):
        images.to_uint8(np.zeros((4, 4, 3)))


def test_ycbcr_matches_pillow(rgb):
    # Pillow's RGB -> YCbCr is the JFIF transform with integer rounding.
    ours = images.rgb_to_ycbcr(rgb)
    theirs = np.asarray(Image.fromarray(rgb).convert("YCbCr")).astype(float)
    assert np.abs(ours - theirs).max() <= 1.0
    assert ours[..., 0].min() >= 0 and ours[..., 0].max() <= 255


def test_ycbcr_known_values():
    pixels = np.array([[[255, 255, 255], [0, 0, 0], [255, 0, 0]]], dtype=np.uint8)
    ycbcr = images.rgb_to_ycbcr(pixels)
    np.testing.assert_allclose(ycbcr[0, 0], [255, 128, 128], atol=1e-3)
    np.testing.assert_allclose(ycbcr[0, 1], [0, 128, 128], atol=1e-3)
    np.testing.assert_allclose(ycbcr[0, 2], [76.245, 84.972, 255.5], atol=1e-3)


def test_ycbcr_inverse_numpy_and_torch(rgb):
    back = images.ycbcr_to_rgb(images.rgb_to_ycbcr(rgb))
    np.testing.assert_allclose(back, rgb, atol=1e-3)
    tensor = images.to_tensor(rgb, device="cpu")
    ycc = images.rgb_to_ycbcr(tensor)
    np.testing.assert_allclose(
        ycc[0].permute(1, 2, 0).numpy() * 255, images.rgb_to_ycbcr(rgb), atol=1e-3
    )
    torch.testing.assert_close(images.ycbcr_to_rgb(ycc), tensor, atol=1e-5, rtol=0)


def test_ycbcr_bad_input():
    with pytest.raises(ValueError):
        images.rgb_to_ycbcr(np.zeros((4, 4, 2)))
    with pytest.raises(ValueError):
        images.rgb_to_ycbcr(torch.zeros(1, 1, 4, 4))
    with pytest.raises(TypeError):
        images.rgb_to_ycbcr([[1, 2, 3]])


@pytest.mark.parametrize("mode", ["edge", "reflect", "constant"])
def test_pad_and_crop_numpy(rgb, mode):
    padded, size = images.pad_to_multiple(rgb, 8, mode=mode)
    assert padded.shape == (16, 24, 3) and size == (13, 21)
    np.testing.assert_array_equal(images.crop_to(padded, size), rgb)


def test_pad_and_crop_torch():
    tensor = torch.rand(2, 3, 5, 7)
    padded, size = images.pad_to_multiple(tensor, 4)
    assert padded.shape == (2, 3, 8, 8)
    torch.testing.assert_close(padded[..., 5:, :7], tensor[..., 4:5, :].expand(2, 3, 3, 7))
    torch.testing.assert_close(images.crop_to(padded, size), tensor)
    already, _ = images.pad_to_multiple(torch.rand(1, 1, 8, 8), 8)
    assert already.shape == (1, 1, 8, 8)


def test_pad_bad_input(rgb):
    with pytest.raises(ValueError):
        images.pad_to_multiple(rgb, 0)
    with pytest.raises(ValueError):
        images.pad_to_multiple(rgb, 8, mode="wrap")
    with pytest.raises(ValueError):
        images.crop_to(rgb, (100, 100))
    with pytest.raises(TypeError):
        images.pad_to_multiple([1, 2], 8)


def test_center_crop(rgb):
    crop = images.center_crop(rgb, 5)
    np.testing.assert_array_equal(crop, rgb[4:9, 8:13])
    with pytest.raises(ValueError):
        images.center_crop(rgb, 50)


def test_load_save_modes(tmp_path, rgb):
    path = images.save_image(rgb, tmp_path / "x.png")
    np.testing.assert_array_equal(images.load_image(path), rgb)
    gray = images.load_image(path, mode="L")
    assert gray.shape == (13, 21) and gray.dtype == np.uint8

    Image.fromarray(rgb[..., 0]).save(tmp_path / "gray.png")
    loaded = images.load_image(tmp_path / "gray.png")
    assert loaded.shape == (13, 21, 3)
    np.testing.assert_array_equal(loaded[..., 1], rgb[..., 0])

    rgba = np.dstack([rgb, np.zeros((13, 21), np.uint8)])  # fully transparent -> white
    Image.fromarray(rgba, "RGBA").save(tmp_path / "rgba.png")
    assert (images.load_image(tmp_path / "rgba.png") == 255).all()

    Image.fromarray(rgb).quantize(8).save(tmp_path / "palette.png")
    palette = images.load_image(tmp_path / "palette.png")
    assert palette.shape == (13, 21, 3)

    sixteen = (np.arange(13 * 21, dtype=np.uint16).reshape(13, 21) * 200).astype(np.uint16)
    Image.fromarray(sixteen).save(tmp_path / "sixteen.png")
    loaded16 = images.load_image(tmp_path / "sixteen.png", mode="L")
    expected = np.round(sixteen / 65535 * 255).astype(np.uint8)
    assert np.abs(loaded16.astype(int) - expected).max() <= 1


def test_load_bad_input(tmp_path):
    with pytest.raises(FileNotFoundError):
        images.load_image(tmp_path / "missing.png")
    (tmp_path / "junk.png").write_bytes(b"not an image")
    with pytest.raises(ValueError, match="not an image"):
        images.load_image(tmp_path / "junk.png")
    with pytest.raises(ValueError, match="mode"):
        images.save_image(np.zeros((2, 2, 3), np.uint8), tmp_path / "a.png")
        images.load_image(tmp_path / "a.png", mode="CMYK")


def test_as_uint8_forms(rgb):
    assert images.as_uint8(rgb[..., :1]).shape == (13, 21)
    assert images.as_uint8(np.ones((2, 2), bool)).max() == 255
    assert images.as_uint8(np.full((2, 2), 65535, np.uint16)).max() == 255
    assert images.as_uint8(np.dstack([rgb, np.full((13, 21), 255, np.uint8)])).shape == (13, 21, 3)
