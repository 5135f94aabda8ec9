import random

import numpy as np
import pytest
import torch

from helpers import config


@pytest.mark.parametrize(
    "env, expected",
    [
        ({}, False),
        ({"FAST": "1"}, True),
        ({"FAST": "true"}, True),
        ({"CI": "true"}, True),
        ({"CI": "false"}, False),
        ({"CI": "true", "FAST": "0"}, False),
        ({"FAST": ""}, False),
    ],
)
def test_is_fast(env, expected):
    assert config.is_fast(env) is expected


def test_fast_flag_is_on_in_tests():
    assert config.FAST is True


def test_device_default_and_override(monkeypatch):
    monkeypatch.delenv("WORKBENCH_DEVICE", raising=False)
    expected = "cuda" if torch.cuda.is_available() else None
    dev = config.device()
    assert isinstance(dev, torch.device)
    if expected:
        assert dev.type == expected
    monkeypatch.setenv("WORKBENCH_DEVICE", "cpu")
    assert config.device().type == "cpu"


def test_device_bad_input(monkeypatch):
    with pytest.raises(ValueError, match="not a torch device"):
        config.device("not-a-device")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            config.device("cuda")


def test_seed_everything_repeats():
    config.seed_everything(123)
    first = (random.random(), np.random.rand(), torch.rand(1).item())
    config.seed_everything(123)
    second = (random.random(), np.random.rand(), torch.rand(1).item())
    assert first == second
    with pytest.raises(ValueError):
        config.seed_everything(-1)
    with pytest.raises(ValueError):
        config.seed_everything(1.5)


def test_directories(monkeypatch, tmp_path):
    monkeypatch.setenv("WORKBENCH_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("WORKBENCH_DATA", raising=False)
    assert config.cache_dir() == tmp_path / "cache"
    assert config.data_dir() == tmp_path / "cache" / "data"
    monkeypatch.setenv("WORKBENCH_DATA", str(tmp_path / "d"))
    assert config.data_dir() == tmp_path / "d"


def test_set_num_threads():
    before = torch.get_num_threads()
    try:
        assert config.set_num_threads(1) == 1
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
    with pytest.raises(ValueError):
        config.set_num_threads(0)
