"""Training campaigns (helpers.recipes.campaign): snapshots, resumption, the learning curve."""

import json

import numpy as np
import pytest
import torch
from torch import nn

from helpers.recipes import campaign


def _toy(fixed):
    """A campaign that fits y = 3x with one weight: its loss must fall across a resumption."""
    fixed = dict(fixed or {})
    fixed.setdefault("target", 3.0)
    model = nn.Linear(1, 1, bias=False)
    nn.init.zeros_(model.weight)

    def batches(step):
        rng = np.random.default_rng(step)
        while True:
            x = torch.from_numpy(rng.normal(size=(16, 1))).float()
            yield x, fixed["target"] * x

    def loss(batch):
        x, y = batch
        value = ((model(x) - y) ** 2).mean()
        return value, {"weight": model.weight.detach().item()}

    def validate():
        return {"weight": float(model.weight.item())}

    return campaign.Campaign(
        name="toy",
        model=model,
        parameter_groups=[{"params": list(model.parameters()), "lr": 0.05}],
        batches=batches,
        loss=loss,
        validate=validate,
        fixed=fixed,
        log_every=5,
        validate_every=10,
    )


@pytest.fixture
def toy(monkeypatch):
    monkeypatch.setitem(campaign.CAMPAIGNS, "toy", _toy)


def test_run_resume_and_curve(tmp_path, toy):
    assert campaign.run("toy", out=tmp_path, until_step=20) == 20
    snapshot = campaign.load_snapshot(tmp_path / "toy.pt")
    assert snapshot["step"] == 20 and snapshot["fixed"]["target"] == 3.0
    assert snapshot["model"]["weight"].dtype == torch.float16
    first = float(snapshot["model"]["weight"])
    assert campaign.run("toy", out=tmp_path, until_step=60) == 60  # resumes at 20
    later = float(campaign.load_snapshot(tmp_path / "toy.pt")["model"]["weight"])
    assert abs(later - 3.0) < abs(first - 3.0)
    records = [
        json.loads(line) for line in (tmp_path / "campaign-toy.jsonl").read_text().splitlines()
    ]
    kinds = [r["kind"] for r in records]
    assert kinds[0] == "event" and records[0]["event"] == "start"
    assert any(r.get("event") == "resume" and r["step"] == 20 for r in records)
    train = campaign.read_curve(tmp_path / "campaign-toy.jsonl", "train")
    assert [r["step"] for r in train] == list(range(5, 61, 5))  # no step logged twice
    val = campaign.read_curve(tmp_path / "campaign-toy.jsonl", "val")
    assert [r["step"] for r in val] == [0, 10, 20, 30, 40, 50, 60]
    assert train[-1]["loss"] < train[0]["loss"]


def test_lr_scale_is_recorded(tmp_path, toy):
    campaign.run("toy", out=tmp_path, until_step=5)
    campaign.run("toy", out=tmp_path, until_step=10, lr_scale=0.1)
    events = campaign.read_curve(tmp_path / "campaign-toy.jsonl", "event")
    resumed = [e for e in events if e["event"] == "resume"]
    assert resumed[-1]["lr"] == pytest.approx([0.005])


def test_unknown_campaign(tmp_path):
    with pytest.raises(ValueError, match="no campaign"):
        campaign.run("nope", out=tmp_path, until_step=1)


def test_validation_split_is_outside_the_test_photos():
    indices = campaign.validation_indices()
    assert len(indices) == 100 and all(i % 2 == 0 for i in indices)  # test photos are the odd ones
    mask = campaign.training_crop_mask(6 * 800)
    assert mask[: 6 * 300].all()  # BSDS500's crops all train
    dropped = np.flatnonzero(~mask)
    assert len(dropped) == 6 * 100
    # the first dropped row is the first crop of ImageNet photo 0, the next photo dropped is photo 10
    assert dropped[0] == 6 * 300 and dropped[6] == 6 * (300 + 5)
