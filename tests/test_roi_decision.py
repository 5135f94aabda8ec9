"""Equal-size uniform JPEG at a fractional quality, and the ROI coder with a classifier in the loop
(checked with small stand-in classifiers whose decision we control)."""

import io

import numpy as np
import pytest
import torch
from PIL import Image

from helpers import cam, images, jpeg, roi


def test_fractional_quality_50_is_pillows_quality_50():
    assert np.array_equal(jpeg.quant_table(50.0, fractional=True), jpeg.quant_table(50))
    assert np.array_equal(
        jpeg.quant_table(50.0, chroma=True, fractional=True), jpeg.quant_table(50, chroma=True)
    )


@pytest.mark.parametrize("target_quality", [30, 50, 70])
def test_uniform_for_size_hits_budgets_integer_qualities_cannot(roi_photo, target_quality):
    low, high = (
        len(roi.uniform_jpeg(roi_photo, target_quality)),
        len(roi.uniform_jpeg(roi_photo, target_quality + 1)),
    )
    target = (low + high) // 2  # between two integer qualities
    data = roi.uniform_for_size(roi_photo, target)
    assert abs(len(data) - target) <= 0.01 * target
    decoded = Image.open(io.BytesIO(data))
    luma = np.array(decoded.quantization[0]).reshape(8, 8)
    # one table for the whole file, near those of the neighbouring qualities (1 % of size is ~0.5 q)
    assert (luma >= jpeg.quant_table(target_quality + 3)).all()
    assert (luma <= jpeg.quant_table(target_quality - 3)).all()
    with pytest.raises(ValueError, match="target_bytes"):
        roi.uniform_for_size(roi_photo, 0)


class _BackgroundTexture(torch.nn.Module):
    """Class 7 while the left half keeps at least ``keep`` of the original's high-frequency energy,
    class 3 otherwise: a classifier that a ROI coder can fool by flattening the background."""

    def __init__(self, reference: torch.Tensor, keep: float):
        super().__init__()
        self.reference = self.energy(reference)
        self.keep = keep

    @staticmethod
    def energy(x):
        left = x[..., : x.shape[-1] // 2]
        return float((left[..., 1:, :] - left[..., :-1, :]).abs().mean())

    def forward(self, x):
        logits = torch.zeros(1, 1000)
        kept = self.energy(x) >= self.keep * self.reference
        logits[0, 7 if kept else 3] = 5.0
        return logits


def _stand_in(roi_photo, keep):
    probe = cam.load_classifier(
        "probe", model=torch.nn.Identity(), target_layer=torch.nn.Identity()
    )
    model = _BackgroundTexture(probe.preprocess(roi_photo), keep)
    return cam.load_classifier("stand-in", model=model, target_layer=torch.nn.Identity()), model


@pytest.mark.parametrize("keep", [0.0, 0.8, 0.9, 0.97])
def test_the_first_file_that_keeps_the_decision_is_chosen(roi_photo, roi_blob, keep):
    classifier, model = _stand_in(roi_photo, keep)
    target = len(roi.uniform_jpeg(roi_photo, 50))
    result = roi.encode_keeping_decision(roi_photo, roi_blob, classifier, target)
    assert result.original_top == 7
    # recompute every rung on its own: the chosen one is the first whose decode is still class 7
    files = [roi.encode(roi_photo, roi_blob, target_bytes=target, **o) for o in roi.DECISION_LADDER]
    files.append(roi.uniform_for_size(roi_photo, target))
    keeps = [
        model.energy(classifier.preprocess(images.decode_bytes(f))) >= keep * model.reference
        for f in files
    ]
    assert all(abs(len(f) - target) <= 0.01 * target for f in files)
    if any(keeps):
        assert result.kept and result.rung == keeps.index(True)
        assert result.data == files[result.rung]
    else:
        assert not result.kept and len(result.tried) == len(files)
    assert [t[0] for t in result.tried] == list(range(len(result.tried)))


def test_stand_in_decisions_cover_both_outcomes(roi_photo, roi_blob):
    """The parametrization above must exercise a fallback: the strongest rung flattens the background
    more than uniform JPEG does, so some 'keep' separates them."""
    classifier, model = _stand_in(roi_photo, 0.0)
    target = len(roi.uniform_jpeg(roi_photo, 50))
    strong = roi.encode(roi_photo, roi_blob, target_bytes=target, **roi.DECISION_LADDER[0])
    uniform = roi.uniform_for_size(roi_photo, target)
    energy = [
        model.energy(classifier.preprocess(images.decode_bytes(f))) / model.reference
        for f in (strong, uniform)
    ]
    assert energy[0] < energy[1]
    assert any(energy[0] < keep <= energy[1] for keep in (0.8, 0.9, 0.97)), energy


class _OnlyTheOriginal(torch.nn.Module):
    """Class 7 only for the original itself; a decode is class 3, and the closer it is to the
    original, the more probable class 7 stays."""

    def __init__(self, reference: torch.Tensor):
        super().__init__()
        self.reference = reference

    def forward(self, x):
        error = float(((x - self.reference) ** 2).mean())
        logits = torch.zeros(1, 1000)
        logits[0, 3] = 0.0 if error == 0 else 10.0
        logits[0, 7] = 5.0 - 100 * error
        return logits


def test_no_file_keeps_the_decision_gives_the_most_probable(roi_photo, roi_blob):
    probe = cam.load_classifier(
        "probe", model=torch.nn.Identity(), target_layer=torch.nn.Identity()
    )
    model = _OnlyTheOriginal(probe.preprocess(roi_photo))
    classifier = cam.load_classifier("stand-in", model=model, target_layer=torch.nn.Identity())
    target = len(roi.uniform_jpeg(roi_photo, 50))
    result = roi.encode_keeping_decision(roi_photo, roi_blob, classifier, target)
    assert result.original_top == 7 and not result.kept
    assert len(result.tried) == len(roi.DECISION_LADDER) + 1
    assert all(top == 3 for _rung, top, _p in result.tried)
    probabilities = [p for _rung, _top, p in result.tried]
    assert result.rung == int(np.argmax(probabilities))
    ladder = roi.DECISION_LADDER
    expected = (
        roi.encode(roi_photo, roi_blob, target_bytes=target, **ladder[result.rung])
        if result.rung < len(ladder)
        else roi.uniform_for_size(roi_photo, target)
    )
    assert result.data == expected


class _ConfidenceFromTexture(_BackgroundTexture):
    """Always class 7, but less sure of it as the left half loses texture."""

    def forward(self, x):
        logits = torch.zeros(1, 1000)
        logits[0, 7] = 10.0
        logits[0, 3] = 9.0 * (1 - min(1.0, self.energy(x) / self.reference))
        return logits


def test_keep_probability_rejects_files_less_sure_than_uniform(roi_photo, roi_blob):
    probe = cam.load_classifier(
        "probe", model=torch.nn.Identity(), target_layer=torch.nn.Identity()
    )
    model = _ConfidenceFromTexture(probe.preprocess(roi_photo), 0.0)
    classifier = cam.load_classifier("stand-in", model=model, target_layer=torch.nn.Identity())
    target = len(roi.uniform_jpeg(roi_photo, 50))
    loose = roi.encode_keeping_decision(roi_photo, roi_blob, classifier, target)
    assert loose.kept and loose.rung == 0  # the label never changes
    strict = roi.encode_keeping_decision(
        roi_photo, roi_blob, classifier, target, keep_probability=1.0
    )
    uniform_p = strict.tried[-1][2] if strict.rung == len(roi.DECISION_LADDER) else None
    files = [roi.encode(roi_photo, roi_blob, target_bytes=target, **o) for o in roi.DECISION_LADDER]
    energies = [model.energy(classifier.preprocess(images.decode_bytes(f))) for f in files]
    uniform_energy = model.energy(
        classifier.preprocess(images.decode_bytes(roi.uniform_for_size(roi_photo, target)))
    )
    sure_enough = [e >= uniform_energy for e in energies]
    expected = sure_enough.index(True) if any(sure_enough) else len(files)
    assert strict.kept and strict.rung == expected
    assert loose.uniform_probability is None and 0 < strict.uniform_probability < 1
    assert strict.tried[strict.rung][2] >= strict.uniform_probability or strict.rung == len(files)
    assert expected > 0, "the strongest rung should flatten more texture than uniform JPEG"
    if uniform_p is not None:
        assert all(p < uniform_p for _r, _t, p in strict.tried[:-1])
    with pytest.raises(ValueError, match="keep_probability"):
        roi.encode_keeping_decision(roi_photo, roi_blob, classifier, target, keep_probability=1.5)
    with pytest.raises(ValueError, match="target_bytes"):
        roi.encode_keeping_decision(roi_photo, roi_blob, classifier, 0)
    with pytest.raises(ValueError, match="target_bytes"):
        roi.encode(roi_photo, roi_blob, mode="rdo", target_bytes=-5)
    with pytest.raises(ValueError, match="must match"):
        roi.encode_keeping_decision(roi_photo, roi_blob[:40], classifier, target)
