"""Chapter 8: JPEG decoding as a linear map, the exact conversion of a residual network into the DCT
domain, the ReLU approximations, coefficient and latent readers, and the adapters."""

import io

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from helpers import autoencoder, container, jpeg, registry
from helpers import compressed_domain as cd


def _jpeg(image, quality=75, subsampling=2, **options) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, "JPEG", quality=quality, subsampling=subsampling, **options)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def smooth_photo():
    """A 48 x 64 photo-like image (gradients and an edge), no data set needed."""
    y, x = np.mgrid[0:48, 0:64]
    image = np.stack([x * 4, y * 5, 128 + 60 * np.sin(x / 5.0) * (y > 20)], -1)
    return np.clip(image, 0, 255).astype(np.uint8)


def _random_digits_net(seed=0) -> cd.DigitsNet:
    torch.manual_seed(seed)
    net = cd.DigitsNet().double()
    for module in net.modules():
        if isinstance(module, torch.nn.BatchNorm2d):  # non-trivial statistics to fold
            module.running_mean.uniform_(-0.3, 0.3)
            module.running_var.uniform_(0.5, 2.0)
            module.weight.data.uniform_(0.5, 1.5)
            module.bias.data.uniform_(-0.3, 0.3)
    return net.eval()


# ---- block DCT and the linear decoder ---------------------------------------------------------


def test_block_dct_matches_chapter_1_and_inverts():
    x = torch.rand(2, 3, 16, 24, dtype=torch.float64)
    coefficients = cd.to_coefficients(x)
    assert coefficients.shape == (2, 3 * 64, 2, 3)
    block = jpeg.dct2(x[0, 1, 8:16, 16:24].numpy())
    np.testing.assert_allclose(
        coefficients[0, 64:128, 1, 2].numpy(), np.asarray(block).reshape(64), atol=1e-12
    )
    torch.testing.assert_close(cd.to_pixels(coefficients), x, atol=1e-12, rtol=0)
    with pytest.raises(ValueError, match="multiples of 8"):
        cd.to_coefficients(torch.zeros(1, 1, 10, 16))


def test_band_mask_counts_and_rejects_bad_k():
    assert cd.band_mask(1).sum() == 1 and cd.band_mask(1)[0] == 1
    assert cd.band_mask(2).sum() == 3 and cd.band_mask(15).sum() == 64
    for bad in (0, 16, 2.5):
        with pytest.raises(ValueError, match="k must be"):
            cd.band_mask(bad)


def test_decoding_matrix_is_dequantize_then_idct():
    table = jpeg.quant_table(50)
    levels = np.random.default_rng(0).integers(-20, 21, 64)
    pixels = cd.decoding_matrix(table) @ levels
    expected = jpeg.idct2(jpeg.dequantize(jpeg.unzigzag(levels[None].astype(np.float64)), table))
    np.testing.assert_allclose(pixels, np.asarray(expected).reshape(64), atol=1e-9)
    with pytest.raises(ValueError, match="8 x 8"):
        cd.decoding_matrix(np.ones((4, 4)))


@pytest.mark.parametrize("subsampling", [0, 2])
def test_linear_decode_matches_the_decoders(smooth_photo, subsampling):
    data = _jpeg(smooth_photo, 80, subsampling)
    linear = np.clip(np.round(cd.linear_decode(jpeg.read_jpeg(data))), 0, 255)
    exact = jpeg.decode(data, upsampling="nearest", idct="float").astype(np.float64)
    # the same maps; chapter 1's decoder rounds the YCbCr planes before its fixed-point colour step
    assert np.abs(linear - exact).max() <= 2 and np.abs(linear - exact).mean() < 0.5
    pillow = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), dtype=np.float64)
    assert (
        np.abs(linear - pillow).mean() < 2.5
    )  # libjpeg: integer IDCT, fancy (triangular) upsampling


# ---- exact conversion -----------------------------------------------------------------------------


@pytest.mark.parametrize("stride, kernel, padding", [(1, 3, 1), (2, 3, 1), (2, 1, 0), (1, 1, 0)])
def test_block_conv_equals_the_pixel_convolution(stride, kernel, padding):
    torch.manual_seed(1)
    weight = torch.randn(3, 2, kernel, kernel, dtype=torch.float64)
    x = torch.randn(2, 2, 32, 32, dtype=torch.float64)
    expected = cd.to_coefficients(F.conv2d(x, weight, stride=stride, padding=padding))
    block = F.conv2d(
        cd.to_coefficients(x),
        cd.block_conv_weights(weight, stride, padding),
        stride=stride,
        padding=1,
    )
    torch.testing.assert_close(block, expected, atol=1e-10, rtol=0)
    with pytest.raises(ValueError, match="supported"):
        cd.block_conv_weights(torch.zeros(1, 1, 5, 5), 1, 2)


def test_converted_network_reproduces_the_pixel_logits():
    net = _random_digits_net()
    pixels = torch.rand(3, 1, 32, 32, dtype=torch.float64) * 2 - 1
    converted = cd.convert(net)
    with torch.no_grad():
        torch.testing.assert_close(
            converted(cd.to_coefficients(pixels)), net(pixels), atol=1e-9, rtol=0
        )
    with pytest.raises(TypeError, match="DigitsNet"):
        cd.convert(torch.nn.Linear(2, 2))
    with pytest.raises(ValueError, match="relu must be"):
        converted(cd.to_coefficients(pixels), relu="gelu")
    with pytest.raises(ValueError, match="64"):
        converted(torch.zeros(1, 3, 4, 4, dtype=torch.float64))


def test_relu_approximations_are_exact_with_every_band_and_asm_beats_direct():
    torch.manual_seed(2)
    smooth = F.interpolate(
        torch.randn(4, 1, 8, 8, dtype=torch.float64), size=(32, 32), mode="bilinear"
    )
    coefficients = cd.to_coefficients(smooth + 0.1 * torch.randn_like(smooth))
    exact = cd.relu_exact(coefficients)
    torch.testing.assert_close(exact, cd.to_coefficients(F.relu(cd.to_pixels(coefficients))))
    for relu in (cd.relu_direct, cd.relu_asm):
        torch.testing.assert_close(relu(coefficients, 15), exact, atol=1e-12, rtol=0)
    errors = {
        name: [float((f(coefficients, k) - exact).pow(2).mean()) for k in range(2, 14)]
        for name, f in (("direct", cd.relu_direct), ("asm", cd.relu_asm))
    }
    assert all(a < d for a, d in zip(errors["asm"], errors["direct"]))


def test_digit_inputs_read_chapter_1_files():
    (_, _), (test_x, _) = cd.digits()
    assert test_x.shape[1:] == (32, 32) and test_x.dtype == np.uint8
    coefficients, pixels = cd.digit_inputs(cd.jpeg_digits(test_x[:3], 50))
    assert coefficients.shape == (3, 64, 4, 4) and pixels.shape == (3, 1, 32, 32)
    decoded = np.stack([jpeg.decode(f) for f in cd.jpeg_digits(test_x[:3], 50)])
    np.testing.assert_allclose(
        np.clip(pixels[:, 0].numpy() * 128 + 128, 0, 255), decoded, atol=1.01
    )
    with pytest.raises(ValueError, match="multiple of 8"):
        cd.digits(size=30)


def test_shipped_digits_network_converts_exactly_on_real_jpeg_digits():
    net = cd.load_pretrained("digits-resnet").to("cpu")
    (_, _), (test_x, test_y) = cd.digits()
    coefficients, pixels = cd.digit_inputs(cd.jpeg_digits(test_x[:100], 50))
    converted = cd.convert(net)
    with torch.no_grad():
        reference = net.double()(pixels)
        logits = converted(coefficients.double())
    assert (logits - reference).abs().max() <= 1e-4
    assert (logits.argmax(1).numpy() == test_y[:100]).mean() >= 0.95


# ---- coefficient readers ---------------------------------------------------------------------


def test_jpeglib_and_chapter_1_reader_agree(smooth_photo):
    data = _jpeg(smooth_photo)
    fast, course = cd.read_coefficients(data), cd.read_coefficients(data, reader="course")
    assert fast.subsampling == course.subsampling == "4:2:0"
    assert (fast.height, fast.width) == (48, 64)
    for a, b in zip(fast.planes + fast.tables, course.planes + course.tables):
        np.testing.assert_array_equal(a, b)
    luma, chroma = cd.dct_tensors(fast)
    assert luma.shape == (1, 64, 6, 8) and chroma.shape == (1, 128, 3, 4)
    # dequantized coefficients of the luma plane: the DCT of (Y - 128), up to quantization
    y = jpeg.rgb_to_ycbcr(smooth_photo)[..., 0] - 128.0
    expected = cd.to_coefficients(torch.from_numpy(y)[None, None])[0]
    table = fast.tables[0].reshape(64, 1, 1)
    assert float(((luma[0].double() - expected).abs() / torch.from_numpy(table)).max()) <= 1.0


def test_readers_refuse_what_they_do_not_support(smooth_photo):
    with pytest.raises(jpeg.JPEGError, match="progressive"):
        cd.read_coefficients(_jpeg(smooth_photo, progressive=True))
    cmyk = io.BytesIO()
    Image.fromarray(smooth_photo).convert("CMYK").save(cmyk, "JPEG")
    with pytest.raises(jpeg.JPEGError, match="CMYK"):
        cd.read_coefficients(cmyk.getvalue())
    for junk in (b"", b"GIF89a", b"\xff\xd8\xff"):
        with pytest.raises(jpeg.JPEGError):
            cd.read_coefficients(junk)
    with pytest.raises(ValueError, match="reader"):
        cd.read_coefficients(_jpeg(smooth_photo), reader="opencv")
    with pytest.raises(ValueError, match="4:2:0"):
        cd.dct_tensors(cd.read_coefficients(_jpeg(smooth_photo, subsampling=0)))
    with pytest.raises(ValueError, match="224 x 224"):
        cd.dct_tensors(cd.read_coefficients(_jpeg(smooth_photo)), size=224)


def test_latents_are_the_encoders_rounded_latents(smooth_photo):
    codec = autoencoder.load_pretrained("bmshj2018-hyperprior", 1).to("cpu")
    data = autoencoder.compress(codec, smooth_photo)
    y_hat = cd.read_latents(codec, data)
    assert y_hat.shape == (1, 96, 3, 4)
    from helpers import images

    x, _ = images.pad_to_multiple(images.to_tensor(smooth_photo), 64)
    with torch.no_grad():
        torch.testing.assert_close(y_hat, torch.round(codec.g_a(x))[..., :3, :4])
    factorized = autoencoder.load_pretrained("bmshj2018-factorized", 1).to("cpu")
    with pytest.raises(cd.LatentError, match="not a hyperprior file|scale-hyperprior"):
        cd.read_latents(codec, autoencoder.compress(factorized, smooth_photo))
    rng = np.random.default_rng(0)
    for kind in container.DAMAGE_KINDS:
        with pytest.raises(cd.LatentError):
            cd.read_latents(codec, container.damage(data, kind, rng))
    with pytest.raises(cd.LatentError):
        cd.read_latents(codec, _jpeg(smooth_photo))


# ---- adapters ----------------------------------------------------------------------------------


def test_dct_adapter_shapes_gates_and_errors():
    adapter = cd.DCTAdapter().eval()
    out = adapter(torch.randn(2, 64, 6, 8), torch.randn(2, 128, 3, 4))
    assert out.shape == (2, 40, 6, 8)
    assert adapter.gates().shape == (3, 8, 8) and set(np.unique(adapter.gates())) == {1.0}
    adapter.disabled[64:] = True  # chroma off: the chroma input no longer matters
    a = adapter(torch.randn(1, 64, 6, 8), torch.randn(1, 128, 3, 4))
    torch.manual_seed(0)
    luma = torch.randn(1, 64, 6, 8)
    torch.testing.assert_close(
        adapter(luma, torch.randn(1, 128, 3, 4)), adapter(luma, torch.zeros(1, 128, 3, 4))
    )
    assert a.shape == (1, 40, 6, 8) and adapter.gates()[1:].sum() == 0
    adapter.gate_logits.data = torch.linspace(-1, 1, 192)
    adapter.keep_top(5)
    assert (~adapter.disabled).sum() == 5 and not adapter.disabled[-5:].any()
    assert adapter.gate_probabilities().shape == (3, 8, 8)
    with pytest.raises(ValueError, match="count"):
        adapter.keep_top(0)
    with pytest.raises(ValueError, match="4:2:0"):
        adapter(torch.randn(1, 64, 6, 8), torch.randn(1, 128, 6, 8))
    with pytest.raises(ValueError, match="luma"):
        adapter(torch.randn(1, 3, 6, 8), torch.randn(1, 128, 3, 4))
    latent = cd.LatentAdapter().eval()
    assert latent(torch.randn(2, 96, 3, 4)).shape == (2, 40, 6, 8)  # stride 16 -> the stride-8 join
    with pytest.raises(ValueError, match="96"):
        latent(torch.randn(1, 192, 4, 4))


def test_adapters_start_at_the_teachers_statistics():
    adapter = cd.LatentAdapter().eval()
    features = torch.randn(64, 40, 6, 8) * 3 + torch.linspace(-20, 20, 40)[None, :, None, None]
    adapter.set_targets(features)
    out = adapter(torch.randn(8, 96, 3, 4))
    torch.testing.assert_close(
        out.mean(dim=(0, 2, 3)), features.mean(dim=(0, 2, 3)), atol=2.0, rtol=0
    )
    assert "target_mean" in adapter.state_dict() and "target_std" in cd.DCTAdapter().state_dict()


def test_adapter_classifier_keeps_the_pixel_networks_layers_frozen():
    model = cd.AdapterClassifier("latent").train()
    assert not model.tail.training and model.adapter.training
    assert all(not p.requires_grad for p in model.tail.parameters())
    with pytest.raises(ValueError, match="kind"):
        cd.AdapterClassifier("wavelet")
    with pytest.raises(TypeError, match="dct"):
        model.classify_jpeg(b"")


def test_teacher_split_recomposes_the_pixel_network():
    from helpers import cam

    classifier = cam.load_classifier("efficientnet-lite0")
    x = torch.randn(1, 3, 224, 224)
    for kind in ("dct", "latent"):
        front, tail = cd.teacher_parts(kind)
        with torch.no_grad():
            torch.testing.assert_close(
                tail(front(x)), classifier.model.cpu()(x), atol=1e-4, rtol=1e-4
            )


@pytest.mark.parametrize("name", ["dct-lite0", "latent-lite0"])
def test_shipped_adapters_classify_from_compressed_bytes(name, smooth_photo):
    model = cd.load_pretrained(name).to("cpu")
    photo = cd.resize_center_crop(smooth_photo)
    assert photo.shape == (224, 224, 3)
    if name == "dct-lite0":
        logits = model.classify_jpeg(_jpeg(photo))
        assert model.adapter.gates().sum() >= 8  # the learned gate keeps some channels
        with pytest.raises(ValueError, match="224 x 224"):
            model.classify_jpeg(_jpeg(smooth_photo))
    else:
        codec = autoencoder.load_pretrained("bmshj2018-hyperprior", 4).to("cpu")
        logits = model.classify_latents(codec, autoencoder.compress(codec, photo))
        with pytest.raises(ValueError, match="224 x 224"):
            model.classify_latents(codec, autoencoder.compress(codec, smooth_photo))
    assert logits.shape == (1, 1000) and torch.isfinite(logits).all()


def test_load_pretrained_names_what_is_shipped():
    with pytest.raises(registry.WeightsError, match="shipped"):
        cd.load_pretrained("resnet-dct")
    with pytest.raises(ValueError, match="every quality"):
        cd.load_pretrained("dct-lite0", quality=3)
    assert {
        "compressed_domain/dct-lite0",
        "compressed_domain/latent-lite0",
        "compressed_domain/digits-resnet",
    } <= set(registry.shipped("compressed_domain"))


def test_adapter_recipe_trains_and_resumes(monkeypatch, tmp_path, smooth_photo):
    from helpers import config
    from helpers.recipes import compressed_domain as recipes_cd

    monkeypatch.setattr(config, "cache_dir", lambda: tmp_path)
    photos = [np.concatenate([smooth_photo] * 5, 0)[:, :, :].repeat(4, 1)[:240, :240]]
    monkeypatch.setattr(recipes_cd, "training_photos", lambda seed=0: photos)
    path = tmp_path / "dct.pt"
    history = recipes_cd.adapter_recipe(
        "dct", 2, path, batch_size=2, crops_per_image=2, progress=False
    )
    assert history.steps[-1] == 2 and {"feature_mse", "kd", "gates_on"} <= set(history.records[-1])
    again = recipes_cd.adapter_recipe(
        "dct", 3, path, batch_size=2, crops_per_image=2, progress=False
    )
    assert again.start_step == 2 and again.steps[-1] == 3
    assert (tmp_path / "ch8_distillation_2_0.pt").is_file()


def test_resize_center_crop():
    image = np.zeros((300, 400, 3), np.uint8)
    image[:, 150:250] = 255
    crop = cd.resize_center_crop(image)
    assert crop.shape == (224, 224, 3) and crop[:, 112].min() == 255 and crop[:, 0].max() == 0


def test_bytes_to_logits_paths(smooth_photo):
    from helpers import cam

    codec = autoencoder.load_pretrained("bmshj2018-hyperprior", 4).to("cpu")
    paths = cd.bytes_to_logits_paths(
        cam.load_classifier("efficientnet-lite0"),
        cd.load_pretrained("dct-lite0"),
        cd.load_pretrained("latent-lite0"),
        codec,
    )
    photo = cd.resize_center_crop(smooth_photo)
    files = {"jpeg": _jpeg(photo), "hyperprior": autoencoder.compress(codec, photo)}
    assert len(paths) == 6
    for name, (function, kind) in paths.items():
        out = function(files[kind])
        if name.endswith("entropy_decoding_only"):
            assert isinstance(out, (cd.Coefficients, torch.Tensor))  # no logits: the floor
        else:
            assert tuple(out.shape) == (1, 1000), name
