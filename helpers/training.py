"""One small training loop reused by every model of the course (PixelCNN, codecs, filters).

``train(model, batches, loss_fn, num_steps)`` runs on ``config.device()``, shows a tqdm progress bar
with the live loss, saves a checkpoint every ``checkpoint_every`` steps (atomically: a temporary file
then a rename), resumes from it, and on Ctrl-C / the notebook's stop button saves the last state
and returns what it has instead of losing it.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from tqdm.auto import tqdm

from . import config

__all__ = [
    "History",
    "train",
    "save_checkpoint",
    "load_checkpoint",
    "drop_schedule",
    "resumed_step",
    "run_recipe",
]

LossOutput = torch.Tensor | tuple[torch.Tensor, dict[str, float]]


@dataclass
class History:
    """What a training run did: one record per logged step (step, loss, extra metrics, seconds)."""

    records: list[dict[str, float]] = field(default_factory=list)
    interrupted: bool = False
    start_step: int = 0

    @property
    def steps(self) -> list[int]:
        return [int(r["step"]) for r in self.records]

    @property
    def losses(self) -> list[float]:
        return [r["loss"] for r in self.records]

    def last(self, key: str = "loss", window: int = 20) -> float:
        """Mean of ``key`` over the last ``window`` records (nan when there are none)."""
        values = [r[key] for r in self.records[-window:] if key in r]
        return sum(values) / len(values) if values else math.nan


def save_checkpoint(
    path: str | os.PathLike,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer | None = None,
    step: int = 0,
    history: History | None = None,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Save model (and optimizer, step, history) to path through a temporary file and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict() if optimizer is not None else None,
        "step": step,
        "history": history.records if history is not None else [],
        "extra": extra or {},
    }
    temporary = path.with_name(path.name + ".tmp")
    torch.save(state, temporary)
    os.replace(temporary, path)
    return path


def load_checkpoint(
    path: str | os.PathLike,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer | None = None,
    map_location: torch.device | str | None = None,
) -> dict[str, Any]:
    """Load a checkpoint written by ``save_checkpoint`` into model (and optimizer); return its dict."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"load_checkpoint: no checkpoint at {path}")
    location = map_location if map_location is not None else config.device()
    state = torch.load(path, map_location=location, weights_only=True)
    if not isinstance(state, dict) or "model" not in state:
        raise ValueError(
            f"load_checkpoint: {path} is not a workbench checkpoint (no 'model' entry)"
        )
    model.load_state_dict(state["model"])
    if optimizer is not None and state.get("optimizer") is not None:
        optimizer.load_state_dict(state["optimizer"])
    return state


def _to_device(batch: Any, device: torch.device) -> Any:
    if isinstance(batch, torch.Tensor):
        return batch.to(device, non_blocking=True)
    if isinstance(batch, (list, tuple)):
        return type(batch)(_to_device(b, device) for b in batch)
    if isinstance(batch, dict):
        return {k: _to_device(v, device) for k, v in batch.items()}
    return batch


def drop_schedule(
    lr: float, drop_at: int | None = None, factor: float = 10.0
) -> Callable[[int], float]:
    """lr until step ``drop_at``, then lr / factor: a function of the step, so a resumed run (whose
    checkpoint stores the optimizer's old learning rate) still follows the recipe's values."""
    if lr <= 0 or factor <= 0:
        raise ValueError(f"lr and factor must be positive, got {lr} and {factor}")
    return lambda step: lr if drop_at is None or step < drop_at else lr / factor


def train(
    model: torch.nn.Module,
    batches: Iterable[Any],
    loss_fn: Callable[[torch.nn.Module, Any], LossOutput],
    num_steps: int,
    optimizer: torch.optim.Optimizer | None = None,
    lr: float = 1e-3,
    checkpoint_path: str | os.PathLike | None = None,
    checkpoint_every: int = 500,
    resume: bool = True,
    device: torch.device | str | None = None,
    log_every: int = 1,
    grad_clip: float | None = None,
    progress: bool = True,
    extra: dict[str, Any] | None = None,
    lr_schedule: Callable[[int], float] | None = None,
) -> History:
    """Train ``model`` for ``num_steps`` optimizer steps (in total, counting resumed ones); return the History.

    Args:
        batches: an iterable of batches (tensors or tuples/dicts of tensors), moved to the device.
        loss_fn: loss_fn(model, batch) -> loss, or (loss, {"name": value, ...}) for extra metrics.
        optimizer: defaults to Adam(model.parameters(), lr).
        checkpoint_path: where to save every ``checkpoint_every`` steps, at the end and on interrupt;
            with ``resume`` an existing checkpoint there is loaded and training continues from its step.
        extra: stored in the checkpoint (e.g. the hyper-parameters, to rebuild the model).
        lr_schedule: lr_schedule(step) -> learning rate, set before every step; a function of the
            step (not of the run), so a resumed run follows the same schedule.
    """
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not callable(loss_fn):
        raise TypeError("loss_fn must be callable: loss_fn(model, batch) -> loss")
    if not isinstance(num_steps, int) or isinstance(num_steps, bool) or num_steps < 0:
        raise ValueError(f"num_steps must be a non-negative int, got {num_steps!r}")
    if checkpoint_every < 1 or log_every < 1:
        raise ValueError("checkpoint_every and log_every must be >= 1")
    target = config.device() if device is None else torch.device(device)
    model.to(target)
    if optimizer is None:
        optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    history = History()
    step = 0
    if checkpoint_path is not None and resume and Path(checkpoint_path).is_file():
        state = load_checkpoint(checkpoint_path, model, optimizer, map_location=target)
        step = int(state.get("step", 0))
        history.records = list(state.get("history", []))
    history.start_step = step
    iterator: Iterator[Any] = iter(batches)
    model.train()
    bar = tqdm(
        total=num_steps,
        initial=min(step, num_steps),
        disable=not progress,
        desc="training",
        dynamic_ncols=True,
    )
    started = time.perf_counter()
    try:
        while step < num_steps:
            try:
                batch = next(iterator)
            except StopIteration:
                iterator = iter(batches)
                try:
                    batch = next(iterator)
                except StopIteration as error:
                    raise ValueError("batches is empty: it yielded no batch") from error
            batch = _to_device(batch, target)
            if lr_schedule is not None:
                for group in optimizer.param_groups:
                    group["lr"] = float(lr_schedule(step))
            optimizer.zero_grad(set_to_none=True)
            output = loss_fn(model, batch)
            loss, metrics = output if isinstance(output, tuple) else (output, {})
            if not isinstance(loss, torch.Tensor) or loss.ndim != 0:
                raise TypeError("loss_fn must return a scalar tensor (or (scalar tensor, dict))")
            if not torch.isfinite(loss):
                raise FloatingPointError(
                    f"loss became {loss.item()} at step {step}; lower the learning rate or check the data"
                )
            loss.backward()
            if grad_clip is not None:
                torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
            optimizer.step()
            step += 1
            if step % log_every == 0 or step == num_steps:
                record = {
                    "step": step,
                    "loss": float(loss.detach()),
                    "seconds": time.perf_counter() - started,
                }
                record.update(
                    {
                        k: float(v.detach() if isinstance(v, torch.Tensor) else v)
                        for k, v in metrics.items()
                    }
                )
                history.records.append(record)
                bar.set_postfix(loss=f"{history.last('loss', 10):.4g}")
            bar.update(1)
            if checkpoint_path is not None and step % checkpoint_every == 0:
                save_checkpoint(checkpoint_path, model, optimizer, step, history, extra)
    except KeyboardInterrupt:
        history.interrupted = True
        print(
            f"Interrupted at step {step}"
            + (f"; checkpoint saved to {checkpoint_path}" if checkpoint_path else "")
        )
    finally:
        bar.close()
        if checkpoint_path is not None:
            save_checkpoint(checkpoint_path, model, optimizer, step, history, extra)
    model.eval()
    return history


def resumed_step(checkpoint_path: str | os.PathLike | None) -> int:
    """The step a checkpoint was saved at (0 when there is none): where a resumed run starts."""
    if checkpoint_path is None or not Path(checkpoint_path).is_file():
        return 0
    return int(torch.load(checkpoint_path, map_location="cpu", weights_only=True).get("step", 0))


def run_recipe(
    model: torch.nn.Module,
    batches_from: Callable[[int], Iterable[Any]],
    loss_fn: Callable[[torch.nn.Module, Any], LossOutput],
    num_steps: int,
    checkpoint_path: str | os.PathLike,
    lr: float,
    lr_drop_at: int | None = None,
    extra: dict[str, Any] | None = None,
    progress: bool = True,
    optimizer: torch.optim.Optimizer | None = None,
    log_every: int = 25,
) -> History:
    """The workbench's recipe around ``train``: Adam at lr (lr / 10 from step lr_drop_at), gradient
    clipping at 1, a checkpoint every 250 steps. ``batches_from(start_step)`` builds the batch source,
    so a resumed run draws fresh crops (seeded by the step it resumes from), not the same ones again."""
    start = resumed_step(checkpoint_path)
    return train(
        model,
        batches_from(start),
        loss_fn,
        num_steps,
        optimizer=optimizer or torch.optim.Adam(model.parameters(), lr=lr),
        checkpoint_path=checkpoint_path,
        checkpoint_every=250,
        log_every=log_every,
        grad_clip=1.0,
        progress=progress,
        extra=extra,
        lr_schedule=drop_schedule(lr, lr_drop_at),
    )
