import itertools

import pytest
import torch

from helpers import training


def _problem(seed=0):
    torch.manual_seed(seed)
    model = torch.nn.Linear(3, 1)
    true_weight = torch.tensor([[1.0, -2.0, 0.5]])

    def batches():
        generator = torch.Generator().manual_seed(seed)
        while True:
            x = torch.randn(16, 3, generator=generator)
            yield x, x @ true_weight.T

    def loss_fn(model, batch):
        x, y = batch
        loss = torch.nn.functional.mse_loss(model(x), y)
        return loss, {"scale": loss.detach() * 2}

    return model, batches(), loss_fn


def test_train_reduces_loss_and_records_history():
    model, batches, loss_fn = _problem()
    history = training.train(
        model, batches, loss_fn, num_steps=200, lr=0.05, device="cpu", progress=False
    )
    assert len(history.records) == 200 and history.steps[-1] == 200
    assert history.losses[-1] < 0.01 * history.losses[0]
    assert history.records[-1]["scale"] == pytest.approx(2 * history.records[-1]["loss"])
    assert not history.interrupted
    assert not model.training


def test_checkpoint_and_resume(tmp_path):
    path = tmp_path / "run.pt"
    model, batches, loss_fn = _problem()
    training.train(
        model,
        batches,
        loss_fn,
        num_steps=30,
        lr=0.05,
        device="cpu",
        checkpoint_path=path,
        checkpoint_every=10,
        progress=False,
        extra={"lr": 0.05},
    )
    state = torch.load(path, weights_only=True)
    assert state["step"] == 30 and len(state["history"]) == 30 and state["extra"] == {"lr": 0.05}
    resumed, batches2, _ = _problem(seed=1)
    history = training.train(
        resumed,
        batches2,
        loss_fn,
        num_steps=50,
        lr=0.05,
        device="cpu",
        checkpoint_path=path,
        progress=False,
    )
    assert history.start_step == 30 and history.steps[-1] == 50 and len(history.records) == 50
    fresh, _, _ = _problem(seed=2)
    training.load_checkpoint(path, fresh, map_location="cpu")
    torch.testing.assert_close(fresh.weight, resumed.weight)


def test_interrupt_saves_checkpoint(tmp_path):
    path = tmp_path / "interrupted.pt"
    model, batches, loss_fn = _problem()

    def interrupting(model, batch):
        if interrupting.calls == 7:
            raise KeyboardInterrupt
        interrupting.calls += 1
        return loss_fn(model, batch)

    interrupting.calls = 0
    history = training.train(
        model,
        batches,
        interrupting,
        num_steps=100,
        device="cpu",
        checkpoint_path=path,
        checkpoint_every=1000,
        progress=False,
    )
    assert history.interrupted and history.steps[-1] == 7
    assert torch.load(path, weights_only=True)["step"] == 7


def test_finite_batches_are_cycled():
    model, batches, loss_fn = _problem()
    finite = list(itertools.islice(batches, 3))
    history = training.train(model, finite, loss_fn, num_steps=10, device="cpu", progress=False)
    assert history.steps[-1] == 10


def test_bad_input(tmp_path):
    model, batches, loss_fn = _problem()
    with pytest.raises(TypeError):
        training.train("model", batches, loss_fn, 1)
    with pytest.raises(ValueError):
        training.train(model, batches, loss_fn, -1)
    with pytest.raises(TypeError):
        training.train(model, batches, "loss", 1)
    with pytest.raises(ValueError, match="empty"):
        training.train(model, [], loss_fn, 1, device="cpu", progress=False)
    with pytest.raises(TypeError, match="scalar"):
        training.train(model, batches, lambda m, b: m(b[0]), 1, device="cpu", progress=False)
    with pytest.raises(FloatingPointError):
        training.train(
            model,
            batches,
            lambda m, b: m(b[0]).sum() * float("nan"),
            1,
            device="cpu",
            progress=False,
        )
    with pytest.raises(FileNotFoundError):
        training.load_checkpoint(tmp_path / "missing.pt", model)
    torch.save({"weights": 1}, tmp_path / "foreign.pt")
    with pytest.raises(ValueError, match="not a workbench checkpoint"):
        training.load_checkpoint(tmp_path / "foreign.pt", model)


def test_history_last():
    history = training.History(records=[{"step": 1, "loss": 2.0}, {"step": 2, "loss": 4.0}])
    assert history.last() == 3.0
    assert training.History().last() != training.History().last()  # nan


def test_save_checkpoint_is_atomic(tmp_path):
    model = torch.nn.Linear(2, 2)
    path = training.save_checkpoint(tmp_path / "sub" / "model.pt", model, step=3, extra={"a": 1})
    assert path.is_file() and not list(path.parent.glob("*.tmp"))
    state = torch.load(path, weights_only=True)
    assert state["step"] == 3 and state["extra"] == {"a": 1} and state["optimizer"] is None


def test_lr_schedule_is_a_function_of_the_step(tmp_path):
    model, batches, loss_fn = _problem()
    seen = []
    optimizer = torch.optim.SGD(model.parameters(), lr=1.0)

    def schedule(step):
        seen.append(step)
        return 0.05 if step < 5 else 0.005

    training.train(
        model,
        batches,
        loss_fn,
        num_steps=8,
        optimizer=optimizer,
        device="cpu",
        progress=False,
        lr_schedule=schedule,
    )
    assert seen == list(range(8)) and optimizer.param_groups[0]["lr"] == 0.005


def test_drop_schedule_is_a_function_of_the_step():
    schedule = training.drop_schedule(1e-3, drop_at=100)
    assert schedule(0) == schedule(99) == 1e-3
    assert schedule(100) == pytest.approx(1e-4)
    assert training.drop_schedule(5e-4)(10**6) == 5e-4
    with pytest.raises(ValueError, match="positive"):
        training.drop_schedule(0.0)


def test_run_recipe_resumes_with_fresh_batches(tmp_path):
    torch.manual_seed(0)
    model = torch.nn.Linear(2, 1)
    seen = []

    def batches_from(start):
        seen.append(start)
        while True:
            yield torch.randn(4, 2)

    def loss_fn(net, batch):
        return net(batch).pow(2).mean()

    path = tmp_path / "run.pt"
    assert training.resumed_step(path) == 0
    training.run_recipe(model, batches_from, loss_fn, 3, path, lr=1e-2, progress=False)
    assert training.resumed_step(path) == 3
    history = training.run_recipe(model, batches_from, loss_fn, 5, path, lr=1e-2, progress=False)
    assert seen == [0, 3] and history.steps[-1] == 5
