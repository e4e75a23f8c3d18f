"""Helpers shared by the tests: building batches from per-instance values and reading them back."""

import torch


def instance(value, i):
    """Instance ``i`` of a batched result, as plain Python (a static result is shared)."""
    if isinstance(value, torch.Tensor):
        return value.tolist() if value.dim() == 0 else value[i].tolist()
    if isinstance(value, (list, tuple)):
        return type(value)(instance(v, i) for v in value)
    return value


def batch_of(column, sequence_as="tensor", dtype=torch.float64):
    """A batch from per-instance values: numbers -> (B,); sequences -> (B, n) or a list of (B,)."""
    tensor = torch.tensor(column, dtype=dtype)
    if tensor.dim() == 2 and sequence_as == "list":
        return list(tensor.unbind(1))
    return tensor


def flatten(value):
    """The numbers of a nested result, in order (for approximate comparison)."""
    if isinstance(value, (list, tuple)):
        return [x for v in value for x in flatten(v)]
    return [value]
