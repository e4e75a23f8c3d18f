"""What the experiment scripts (``examples/*_supervision.py``) share: the budget behind ``--quick``
and the process group under ``torchrun``."""

from __future__ import annotations

import argparse
import os

import torch.distributed as dist


def fill_budget(args: argparse.Namespace, quick: dict, full: dict) -> None:
    """Give every flag left unset its value from the quick or the full budget."""
    for key, default in (quick if args.quick else full).items():
        if getattr(args, key) is None:
            setattr(args, key, default)


def start_processes(batch_size: int) -> tuple[bool, int, int]:
    """``(distributed, rank, world size)``: under ``torchrun`` (``WORLD_SIZE`` > 1) a gloo process
    group is started, and the batch must split evenly between the processes."""
    distributed = int(os.environ.get("WORLD_SIZE", "1")) > 1
    if distributed:
        dist.init_process_group("gloo")
    rank = dist.get_rank() if distributed else 0
    world_size = dist.get_world_size() if distributed else 1
    if batch_size % world_size:
        raise ValueError(f"--batch-size {batch_size} is not divisible by {world_size} processes")
    return distributed, rank, world_size
