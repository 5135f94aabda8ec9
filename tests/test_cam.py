"""Class activation maps: the hand-made CAM against pytorch-grad-cam, fusion rules, erasing, and
Grad-CAM peaks inside hand-drawn boxes on cat and dog photos."""

import numpy as np
import pytest
import torch

from helpers import cam, data

# (x0, y0, x1, y1) boxes drawn by hand around the animal in ImageNet sample photos (class index ->
# box), looked up on a 25-pixel grid; the animal's whole visible body, not just its face.
ANIMAL_BOXES = {
    281: (0, 0, 335, 330),  # tabby, close-up of the face
    284: (70, 105, 500, 335),  # Siamese cat on a window sill
    207: (40, 95, 240, 400),  # golden retriever carrying a shoe
    235: (190, 45, 310, 265),  # German shepherd running on a beach
    258: (60, 20, 380, 310),  # Samoyed among plants
    158: (180, 20, 320, 215),  # toy terrier held against a man's face
    224: (0, 90, 410, 332),  # groenendael lying in a living room
    230: (125, 95, 290, 310),  # Shetland sheepdog, small, on a pavement
    236: (145, 10, 395, 290),  # Doberman in snow
    266: (65, 225, 245, 500),  # miniature poodle in front of a boy
}


class TinyNet(torch.nn.Module):
    """A small GAP + linear classifier: every method runs on it in milliseconds."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.features = torch.nn.Sequential(
            torch.nn.Conv2d(3, 8, 3, stride=2, padding=1),
            torch.nn.ReLU(),
            torch.nn.Conv2d(8, 6, 3, stride=2, padding=1),
            torch.nn.ReLU(),
        )
        self.fc = torch.nn.Linear(6, 5)

    def forward(self, x):
        return self.fc(self.features(x).mean(dim=(2, 3)))


@pytest.fixture(scope="module")
def tiny():
    net = TinyNet()
    classifier = cam.load_classifier("tiny", model=net, target_layer=net.features[-1])
    classifier.linear = net.fc
    classifier.names = [f"class {i}" for i in range(5)]
    classifier.input_size = 64
    return classifier


@pytest.fixture(scope="module")
def lite0():
    return cam.load_classifier("efficientnet-lite0")


def test_class_names():
    names = cam.class_names()
    assert len(names) == 1000 and names[281] == "tabby" and names[207] == "golden_retriever"


@pytest.mark.parametrize("method", list(cam.METHODS))
def test_every_method_gives_a_map_of_the_image_size(tiny, method):
    image = np.random.default_rng(0).integers(0, 256, (50, 70, 3), dtype=np.uint8)
    result = cam.cam_map(tiny, image, method)
    assert result.shape == (50, 70) and result.dtype == np.float32
    assert 0 <= result.min() and result.max() <= 1


def test_cam_by_hand_matches_gradcam_on_a_gap_network(tiny):
    # With global average pooling and a linear layer, dy_c/dA_k = w_ck / (h w): Grad-CAM's weights
    # are CAM's up to a constant, so the two normalized maps agree.
    image = np.random.default_rng(1).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    a, _ = cam.class_maps(tiny, image, "cam", [2])
    b, _ = cam.class_maps(tiny, image, "gradcam", [2])
    assert np.abs(a - b).max() < 0.02


def test_bad_arguments(tiny):
    image = np.zeros((32, 32, 3), np.uint8)
    with pytest.raises(ValueError, match="unknown method"):
        cam.cam_map(tiny, image, "cam++")
    with pytest.raises(ValueError, match="classes"):
        cam.cam_map(tiny, image, "gradcam", classes=[7])
    with pytest.raises(ValueError, match="fusion"):
        cam.cam_map(tiny, image, "gradcam", classes=[0, 1], fusion="mean")
    with pytest.raises(ValueError, match="target_layer"):
        cam.load_classifier("mine", model=TinyNet())
    with pytest.raises(ValueError, match="unknown classifier"):
        cam.load_classifier("alexnet-9000")


def test_fuse_softmax_keeps_a_small_likely_object_and_trims_a_weak_one():
    big, small, faint = np.zeros((3, 40, 40), np.float32)
    big[:, :30] = 0.6  # a large, moderate class
    small[30:36, 32:38] = 1.0  # a small, confident one
    faint[:] = 0.15  # everywhere, weak: below alpha, it adds nothing
    maps = np.stack([big, small, faint])
    fused = cam.fuse_softmax(maps, np.array([0.3, 0.6, 0.1]), alpha=0.2, beta=0.05)
    assert fused[33, 35] == pytest.approx(1.0)
    assert fused[5, 5] > 0 and fused[5, 35] == 0
    # MSROI drops the classes under its threshold and sums the rest
    only_big = cam.fuse_msroi(maps, np.array([0.5, 0.05, 0.05]), threshold=0.1)
    assert only_big[33, 35] == 0 and only_big[5, 5] == pytest.approx(1.0)
    with pytest.raises(ValueError):
        cam.fuse_softmax(maps, np.array([0.5, 0.5]))


def test_normalize_map():
    assert cam.normalize_map(np.full((3, 3), 7.0)).max() == 0
    assert cam.normalize_map(np.array([[1.0, 3.0]])).tolist() == [[0.0, 1.0]]
    with pytest.raises(ValueError):
        cam.normalize_map(np.array([np.nan, 1.0]))


def test_efficientnet_classifies_and_erasing_widens_the_map(imagenet_dir, lite0):
    samoyed, index, _ = next(data.imagenet_samples(classes=[258]))
    top = cam.predict(lite0, samoyed, top_k=5)
    assert top[0][0] == 258 and top[0][1] == "Samoyed"
    first, _ = cam.class_maps(lite0, samoyed, "gradcam", [258])
    widened = cam.erase_and_fuse(lite0, samoyed, "gradcam", 258, threshold=0.5)
    assert np.all(widened >= first[0] - 1e-6)
    assert (widened > 0.5).sum() > (first[0] > 0.5).sum()
    ensemble = cam.cam_map(lite0, samoyed, ["gradcam", "gradcam++", "eigencam"])
    assert ensemble.shape == samoyed.shape[:2]


def test_gradcam_peak_falls_inside_the_animal(imagenet_dir, lite0):
    hits, misses = 0, []
    for image, index, name in data.imagenet_samples(classes=list(ANIMAL_BOXES)):
        heat = cam.cam_map(lite0, image, "gradcam", classes=index)
        y, x = np.unravel_index(heat.argmax(), heat.shape)
        x0, y0, x1, y1 = ANIMAL_BOXES[index]
        if x0 <= x < x1 and y0 <= y < y1:
            hits += 1
        else:
            misses.append((name, (int(x), int(y))))
    assert hits >= 8, misses


@pytest.mark.parametrize("name", ["efficientnet-lite1", "efficientnet-lite2"])
def test_larger_lite_models_load_offline_and_agree_on_a_clear_photo(name, lite0):
    from skimage import data as skdata

    other = cam.load_classifier(name)
    assert other.input_size == cam.LITE_SIZES[name] > lite0.input_size
    x = other.preprocess(skdata.chelsea())  # a tabby cat
    assert min(x.shape[-2:]) == other.input_size
    top = cam.predict(other, skdata.chelsea(), 5)
    assert {281, 282, 285} & {index for index, _n, _p in top}  # tabby, tiger cat, Egyptian cat


def test_top_class_cams_is_the_cam_of_each_images_top_class():
    from helpers import cam as cam_module

    class Toy(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = torch.nn.Linear(4, 3)

        def maps(self, x):
            return x  # the input is the feature maps

    torch.manual_seed(0)
    model, x = Toy(), torch.rand(2, 4, 5, 6)
    cams = cam_module.top_class_cams(model, x)
    assert cams.shape == (2, 1, 5, 6) and not cams.requires_grad
    for n in range(2):
        scores = model.linear(x[n].mean(dim=(1, 2)))
        top = int(scores.argmax())
        raw = torch.einsum("k,khw->hw", model.linear.weight[top], x[n]).relu()
        torch.testing.assert_close(cams[n, 0], raw / raw.max())
