"""Chapter 9: the differentiable JPEG against Pillow, its rate model, the NPP and its quantization
adaptation, forward-through-the-codec / backward-through-the-proxy, real files, the recipes on a
few crops, and the accuracy-rate evaluation (Pareto fronts, BD-rate at equal accuracy)."""

import io

import numpy as np
import pytest
import torch
from PIL import Image
from skimage import data as skdata

from helpers import images, jpeg, recipes, registry, standard_codecs
from helpers import machine_coding as mc


@pytest.fixture(scope="module")
def photos():
    """Four 64 x 64 crops of scikit-image's photos (uint8, no data set needed)."""
    sources = [skdata.astronaut(), skdata.coffee(), skdata.chelsea(), skdata.rocket()]
    return np.stack([s[40:104, 60:124] for s in sources])


def _tensor(batch):
    return torch.from_numpy(np.ascontiguousarray(batch)).permute(0, 3, 1, 2).float() / 255


@pytest.mark.parametrize("quality", [5, 30, 49, 50, 90])
def test_tables_are_libjpegs(quality):
    tables = mc.quant_tables(torch.tensor([float(quality)]))[0].numpy()
    assert np.array_equal(tables[0], jpeg.quant_table(quality))
    assert np.array_equal(tables[1], jpeg.quant_table(quality, chroma=True))


@pytest.mark.parametrize("quality", [10, 50, 90])
def test_diffjpeg_imitates_pillow(photos, quality):
    x = _tensor(photos)
    x_hat, _ = mc.DiffJPEG()(x, quality)
    real, _ = mc.real_codec("jpeg", x, quality)
    mse = ((x_hat - real) ** 2).mean().item()
    assert 10 * np.log10(1 / mse) > 40  # measured 46-47 dB on 224 x 224 photos
    # and far closer to the real decode than the original is
    assert mse < ((x - real) ** 2).mean().item() / 10


def test_diffjpeg_gradient_reaches_the_pixels(photos):
    x = _tensor(photos[:2]).requires_grad_(True)
    x_hat, bits = mc.DiffJPEG(mc.RateModel(torch.ones(8)))(x, 50)
    (x_hat.mean() + bits.sum()).backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="multiples of 16"):
        mc.DiffJPEG()(torch.rand(1, 3, 40, 40), 50)


def test_rate_model_fits_real_sizes(photos):
    model, fit = mc.fit_rate_model(photos, qualities=(10, 50, 90))
    assert (model.weights >= 0).all()
    assert fit["images"] == 12 and fit["mean_relative_error"] < 0.1
    _, bits = mc.DiffJPEG(model)(_tensor(photos), 50)
    real = np.array([8 * len(standard_codecs.get("jpeg").encode(p, 50)) for p in photos])
    assert np.abs(bits.detach().numpy() - real).mean() / real.mean() < 0.15
    # more detail costs more: the model prices the same image at a higher quality higher
    assert (mc.DiffJPEG(model)(_tensor(photos), 90)[1] > bits).all()


def test_untrained_npp_is_the_identity_and_adaptation_starts_at_one(photos):
    npp = mc.NPP("jpeg")
    x = _tensor(photos)
    assert torch.equal(npp(x, 50), x)
    enc, dec = npp.adaptation(torch.tensor([0.0, 1.0]))
    assert torch.allclose(enc, torch.ones_like(enc)) and torch.allclose(dec, torch.ones_like(dec))
    assert enc.shape == (2, 7 * 16) and dec.shape == (2, 3 * 16)


def test_gaussian_blur_is_scipys_and_the_guided_blur_npp_mixes_blurs(photos):
    import scipy.ndimage

    x = _tensor(photos).double()
    for sigma in (1.0, 2.0):
        ours = mc.npp.gaussian_blur(x, sigma)
        theirs = scipy.ndimage.gaussian_filter(
            x.numpy(), sigma=(0, 0, sigma, sigma), mode="mirror", truncate=3.0
        )
        assert np.abs(ours.numpy() - theirs).max() < 1e-9
    x = x.float()
    npp = mc.GuidedBlurNPP("jpeg")  # no machine: no guidance
    assert "_machine" not in str(list(npp.state_dict())) and len(npp.state_dict()) == 8
    w = npp.weights(x, 50)
    assert torch.allclose(w[:, 0], torch.full_like(w[:, 0], 0.99), atol=1e-5)  # starts near X
    assert (npp(x, 50) - x).abs().mean() < 0.01
    with torch.no_grad():  # all the weight on the widest blur: the output is that blur
        npp.net[-1].bias.copy_(torch.tensor([0.0, 0.0, 0.0, 40.0]))
    assert torch.allclose(npp(x, 50), mc.npp.gaussian_blur(x, 4.0).clamp(0, 1), atol=1e-5)

    # it only removes detail: less high-frequency energy than the photo
    def detail(image):
        return (image - mc.npp.gaussian_blur(image, 1.0)).pow(2).mean()

    assert detail(npp(x, 50)) < 0.2 * detail(x)
    guided = mc.GuidedBlurNPP("jpeg", machine=mc.Machine())  # Lite0's CAM of its top class
    heat = guided.guidance(x)
    assert heat.shape == (4, 1, 64, 64) and float(heat.min()) >= 0
    assert torch.allclose(heat.amax(dim=(2, 3)), torch.ones(4), atol=0.05)
    torch.nn.init.zeros_(npp.net[-1].bias)
    torch.nn.init.normal_(npp.net[-1].weight, std=0.5)
    assert not torch.allclose(npp(x, 10), npp(x, 90))  # the quality plane reaches the weights


def test_npp_quality_changes_the_output_once_trained(photos):
    torch.manual_seed(0)
    npp = mc.NPP("jpeg")
    for module in (npp.out, npp.adaptation.encoder[2], npp.adaptation.decoder[2]):
        torch.nn.init.normal_(module.weight, std=0.3)
    x = _tensor(photos[:1])
    assert not torch.allclose(npp(x, 10), npp(x, 90))
    single = mc.NPP("jpeg", adaptive=False, quality=20)
    torch.nn.init.normal_(single.out.weight, std=0.3)
    assert torch.equal(single(x, 10), single(x, 90))  # a per-quality model ignores the quality
    assert single.quality == 20


def test_odd_sizes_are_padded_and_cropped():
    npp = mc.NPP("heif")
    torch.nn.init.normal_(npp.out.weight, std=0.1)
    assert npp(torch.rand(1, 3, 37, 51), 30).shape == (1, 3, 37, 51)


def test_bad_input_gets_a_clear_error(photos):
    npp = mc.NPP("jpeg")
    with pytest.raises(ValueError, match="at least 16 x 16"):
        npp(torch.rand(1, 3, 8, 40), 50)
    with pytest.raises(ValueError, match="at least 16 x 16"):
        mc.encode(np.zeros((10, 40, 3), np.uint8), "jpeg", 50, npp)
    with pytest.raises(ValueError, match=r"RGB image \(H, W, 3\)"):
        mc.encode(np.zeros((32, 32), np.uint8), "jpeg", 50, npp)
    with pytest.raises(ValueError, match=r"RGB batch"):
        npp(torch.rand(1, 4, 32, 32), 50)
    with pytest.raises(ValueError, match=r"1\.\.100"):
        mc.encode(photos[0], "jpeg", 101)
    with pytest.raises(ValueError, match=r"0\.\.100"):
        npp_heif = mc.NPP("heif")
        npp_heif(_tensor(photos[:1]), -1)
    with pytest.raises(ValueError, match=r"\['jpeg', 'heif'\]"):
        mc.encode(photos[0], "webp", 50)
    with pytest.raises(ValueError, match="trained in front of jpeg"):
        mc.encode(photos[0], "heif", 50, npp)
    with pytest.raises(TypeError, match="number"):
        mc.encode(photos[0], "jpeg", "high")
    with pytest.raises(ValueError, match="not a JPEG"):
        mc.decode(b"GIF89a" + bytes(20))
    with pytest.raises(ValueError, match="cannot decode"):
        mc.decode(b"\xff\xd8\xff" + bytes(30))  # a damaged JPEG: an error, not a crash
    with pytest.raises(ValueError, match="proxy must be"):
        recipes.npp_recipe("jpeg", 1, "unused.pt", proxy="bpg")
    with pytest.raises(ValueError, match="imitates JPEG only"):
        recipes.npp_recipe("heif", 1, "unused.pt", proxy="diffjpeg")


@pytest.mark.parametrize("codec", ["jpeg", "heif"])
def test_files_are_ordinary_images(photos, codec):
    npp = mc.NPP(codec)
    torch.nn.init.normal_(npp.out.weight, std=0.05)
    data = mc.encode(photos[0], codec, 40, npp)
    if codec == "heif":
        import pillow_heif

        pillow_heif.register_heif_opener()
    with Image.open(io.BytesIO(data)) as picture:
        assert picture.format == {"jpeg": "JPEG", "heif": "HEIF"}[codec]
        opened = np.asarray(picture.convert("RGB"))
    assert np.array_equal(opened, mc.decode(data))
    # the file is the codec's file of the NPP's output: the same bytes as encoding X_bar directly
    x_bar = mc.preprocess(npp, photos[0], 40)
    assert data == standard_codecs.get(codec).encode(x_bar, 40)
    assert not np.array_equal(x_bar, photos[0])


def test_forward_through_the_codec_backward_through_the_proxy(photos):
    x = _tensor(photos[:2]).requires_grad_(True)
    proxy = mc.DiffJPEG(mc.RateModel(torch.ones(8)))
    x_hat, bits = mc.through_codec(proxy, x, 30)
    real, real_bits = mc.real_codec("jpeg", x.detach(), 30)
    assert torch.allclose(x_hat, real, atol=1e-6) and torch.equal(bits, real_bits)
    (x_hat.square().sum() + bits.sum()).backward()
    through = x.grad.clone()
    x.grad = None
    proxy_hat, proxy_bits = proxy(x, 30)
    # the gradient is the proxy's, taken at the real codec's output (d/dx of x_hat^2 = 2 x_hat)
    (2 * real * proxy_hat).sum().add(proxy_bits.sum()).backward()
    assert torch.allclose(through, x.grad, atol=1e-5)


def test_learned_proxy_routes_each_quality(photos):
    proxy = mc.LearnedProxy("jpeg", (10, 50)).eval()
    x = _tensor(photos[:3])
    x_hat, bits = proxy(x, torch.tensor([10.0, 50.0, 10.0]))
    assert x_hat.shape == x.shape and bits.shape == (3,) and (bits > 0).all()
    with torch.no_grad():
        alone = proxy.models["50"](images.pad_to_multiple(x[1:2], 64)[0])["x_hat"][..., :64, :64]
    assert torch.allclose(x_hat[1:2], alone.clamp(0, 1), atol=1e-5)
    with pytest.raises(ValueError, match=r"at qualities \[10, 50\], not \[30\]"):
        proxy(x[:1], 30)
    proxy.nearest = True
    assert torch.allclose(proxy(x[:1], 35)[0], proxy(x[:1], 50)[0])


def test_distillation_loss_is_zero_on_the_teacher_and_positive_elsewhere():
    logits = torch.randn(4, 1000)
    assert mc.distillation_loss(logits, logits).abs() < 1e-5
    assert mc.distillation_loss(logits.flip(0), logits) > 0.1


def _crops(photos):
    crops = torch.from_numpy(np.ascontiguousarray(photos[:, :32, :32]))
    return crops, torch.randn(len(crops), 1000)


def test_npp_recipe_trains_and_resumes(photos, tmp_path):
    path = tmp_path / "npp.pt"
    history = recipes.npp_recipe("jpeg", 2, path, batch_size=2, progress=False, data=_crops(photos))
    assert history.steps[-1] == 2 and {"bpp", "kd", "mse_pre"} <= set(history.records[-1])
    npp = mc.load_npp(path)
    assert npp.adaptive and npp.codec == "jpeg"
    state = torch.load(path, weights_only=True)
    assert state["extra"]["rate_fit"]["images"] > 0 and state["extra"]["lmbda"] == 1.0
    curve = state["extra"]["codec_curve"]  # the codec alone: the normalizers of the relative loss
    assert curve["bpp"] == sorted(curve["bpp"]) and len(curve["quality"]) == len(curve["kd"]) >= 2
    assert {"relative_rate", "relative_kd"} <= set(history.records[-1])
    again = recipes.npp_recipe("jpeg", 3, path, batch_size=2, progress=False, data=_crops(photos))
    assert again.start_step == 2 and again.steps[-1] == 3
    single = tmp_path / "q20.pt"
    recipes.npp_recipe(
        "jpeg", 1, single, quality=20, batch_size=2, progress=False, data=_crops(photos)
    )
    assert mc.load_npp(single).quality == 20 and not mc.load_npp(single).adaptive


def test_proxy_recipe_follows_the_codecs_rate(photos, tmp_path):
    from helpers import autoencoder

    path = tmp_path / "proxy.pt"
    history = recipes.proxy_recipe(
        "jpeg",
        1,
        path,
        qualities=(20,),
        batch_size=2,
        crop_size=32,
        rate_control=0.5,
        progress=False,
        data=_crops(photos),
    )
    record = history.records[-1]
    assert {"bpp_q20", "codec_bpp_q20", "psnr_q20", "lambda_q20"} <= set(record)
    # one step of the rate control: lambda_1 = lambda_0 (R_codec / R_proxy)^0.5, lambda_0 being the
    # lambda of the shipped hyperprior the proxy started from
    start = record["lambda_q20"] * (record["bpp_q20"] / record["codec_bpp_q20"]) ** 0.5
    assert min(abs(start / v - 1) for v in autoencoder.QUALITY_LAMBDAS.values()) < 1e-4
    assert record["bpp_q20"] != pytest.approx(record["codec_bpp_q20"], rel=1e-3)
    proxy = mc.load_proxy(path)
    assert proxy.qualities == (20,) and proxy.codec == "jpeg"
    npp_path = tmp_path / "npp_learned.pt"
    recipes.npp_recipe(
        "jpeg",
        1,
        npp_path,
        proxy="learned",
        proxy_path=path,
        batch_size=2,
        progress=False,
        data=_crops(photos),
    )
    assert mc.load_npp(npp_path).codec == "jpeg"


def test_rate_accuracy_on_real_files(photos):
    class Fixed(torch.nn.Module):  # a "classifier" reading the mean colour: cheap and deterministic
        def __init__(self):
            super().__init__()
            self.register_buffer("w", torch.randn(3, 10))

        def forward(self, x):
            return x.mean((2, 3)) @ self.w

    rows = mc.rate_accuracy(photos, [0, 1, 2, 3], "jpeg", [10, 90], None, {"toy": Fixed()})
    assert [r["quality"] for r in rows] == [10, 90]
    assert rows[0]["bpp"] < rows[1]["bpp"] and rows[0]["psnr"] < rows[1]["psnr"]
    real = np.mean([8 * len(standard_codecs.get("jpeg").encode(p, 10)) / 64**2 for p in photos])
    assert rows[0]["bpp"] == pytest.approx(real)
    assert 0 <= rows[0]["toy"]["agreement"] <= 1 and "original_accuracy" in rows[0]["toy"]


def test_pareto_and_bd_rate_at_equal_accuracy():
    rates, scores = mc.pareto(np.array([1.0, 2.0, 1.5, 3.0]), np.array([50, 70, 40, 69]))
    assert list(rates) == [1.0, 2.0] and list(scores) == [50, 70]
    anchor = [
        {"bpp": b, "m": {"agreement": a}}
        for b, a in ((0.4, 0.5), (0.6, 0.65), (0.9, 0.75), (1.4, 0.82), (2.5, 0.88))
    ]
    test = [{"bpp": r["bpp"] * 0.8, "m": r["m"]} for r in anchor]
    result = mc.bd_rate_accuracy(anchor, test, "m")
    assert result["bd_rate"] == pytest.approx(-20.0, abs=1e-6)
    assert result["points"] == [5, 5] and result["overlap"] == [50.0, 88.0]
    with pytest.raises(ValueError, match="measure"):
        mc.bd_rate_accuracy(anchor, test, "m", "psnr")


def _per_photo_curve(rng, photos, saving=0.0, noise=0.0):
    """A synthetic rate-accuracy curve with per-photo rows: each photo's bytes and 0/1 agreement at
    five qualities (agreement rising with rate); ``saving`` shrinks every file by that share."""
    rows = []
    for bpp, share in ((0.4, 0.5), (0.6, 0.65), (0.9, 0.75), (1.4, 0.82), (2.5, 0.88)):
        pixels = 224 * 224
        sizes = bpp * pixels / 8 * (1 + noise * rng.standard_normal(photos)) * (1 - saving)
        agrees = (rng.random(photos) < share).astype(int)
        rows.append(
            {
                "bpp": float(np.mean(np.round(sizes)) * 8 / pixels),
                "pixels": pixels,
                "bytes": np.round(sizes).astype(int).tolist(),
                "m": {
                    "agreement": float(agrees.mean()),
                    "accuracy": 0.0,
                    "agrees": agrees.tolist(),
                    "correct": [0] * photos,
                },
            }
        )
    return rows


def test_bd_rate_interval_resamples_photos_paired():
    rng = np.random.default_rng(0)
    anchor = _per_photo_curve(rng, 400, noise=0.3)
    test = [dict(r, bytes=[round(b * 0.8) for b in r["bytes"]]) for r in anchor]
    for row in test:
        row["bpp"] = float(np.mean(row["bytes"]) * 8 / row["pixels"])
    saved = mc.bd_rate_interval(anchor, test, "m", resamples=200)
    assert saved.value == pytest.approx(-20.0, abs=0.1)  # the same photos, 20 % smaller files
    assert saved.high < 0 and not saved.is_tie and saved.low > -21 and saved.high < -19
    # two independent draws of the same coder: a tie, and the interval is wide enough to say so
    other = _per_photo_curve(np.random.default_rng(1), 400, noise=0.3)
    tie = mc.bd_rate_interval(anchor, other, "m", resamples=200)
    assert tie.is_tie and tie.high - tie.low > 2
    with pytest.raises(ValueError, match="per-photo rows"):
        mc.bd_rate_interval([{"bpp": 1.0, "m": {"agreement": 0.5}}], test, "m")
    with pytest.raises(ValueError, match="same photos"):
        mc.bd_rate_interval(anchor, _per_photo_curve(rng, 300), "m", resamples=200)


def test_shipped_models_load_and_unknown_names_fail():
    with pytest.raises(registry.WeightsError, match="no chapter-9 model"):
        mc.load_pretrained("npp-webp")
    shipped = set(registry.shipped("machine_coding"))
    assert {
        "machine_coding/npp-jpeg",
        "machine_coding/npp-jpeg/q20",
        "machine_coding/npp-jpeg/q50",
        "machine_coding/diffjpeg",
        "machine_coding/proxy-heif",
    } <= shipped
    npp = mc.load_pretrained("npp-jpeg")
    assert npp.adaptive and npp.codec == "jpeg"
    single = mc.load_pretrained("npp-jpeg", 50)  # a per-quality NPP: the quality in the key
    assert single.quality == 50 and not single.adaptive
    with pytest.raises(registry.WeightsError, match="npp-jpeg/q35"):
        mc.load_pretrained("npp-jpeg", 35)
    diff = mc.load_pretrained("diffjpeg")
    assert (diff.rate.weights > 0).any()
    proxy = mc.load_pretrained("proxy-heif")
    assert proxy.codec == "heif" and proxy.qualities == mc.PROXY_QUALITIES["heif"]


def test_codec_curve_and_its_interpolation(photos):
    class Toy(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("w", torch.randn(3, 10))

        def forward(self, x):
            return 20 * x.mean((2, 3)) @ self.w

    toy = Toy()
    crops = torch.from_numpy(np.ascontiguousarray(photos[:, :32, :32]))
    with torch.no_grad():
        logits = toy(crops.permute(0, 3, 1, 2).float() / 255)
    curve = mc.codec_curve("jpeg", crops, logits, [5, 50, 90], toy)
    assert curve["bpp"] == sorted(curve["bpp"]) and curve["quality"] == [5.0, 50.0, 90.0]
    assert curve["kd"][0] > curve["kd"][-1] >= 0  # coarser files move the machine further
    bpp, kd = mc.curve_at(curve, torch.tensor([5.0, 50.0, 27.5]))
    assert bpp[:2].tolist() == pytest.approx(curve["bpp"][:2], rel=1e-6)
    assert bpp[2] == pytest.approx(np.sqrt(curve["bpp"][0] * curve["bpp"][1]), rel=1e-5)
    assert kd[1] == pytest.approx(max(curve["kd"][1], 1e-6), rel=1e-5)
