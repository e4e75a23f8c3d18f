"""Indexing, length and iteration, per instance (DESIGN §1.1, §1.4).

The source is written for one instance, so on a batched tensor ``x`` of shape ``(B, n, ...)``::

    xs[j]          ->  rx.getitem(xs, j)          # x[:, j] on a tensor, xs[j] on a list
    xs[j] = v      ->  xs = rx.setitem(xs, j, v)  # a new tensor; a list is updated in place
    len(xs)        ->  rx.len(xs)                 # n on a tensor
    for v in xs:   ->  for v in rx.iterate(xs):   # the n per-instance elements of a tensor

A value of one of the runtime's kinds (``values.Value``: a categorical, columns, an event) is
indexed, written, measured and iterated by its own methods; this module is the tensor's and
Python's meaning, and the per-instance index.

An index that is itself per instance (a ``(B,)`` tensor, e.g. a counter promoted by a relaxed
``while``) selects per instance: exactly when it is an integer tensor (or in hard mode, which rounds
it), and with the weights of a kernel around it when it is real-valued (paper §3.2)::

    w_j = κ_j / Σ_i κ_i,   κ_j = σ((j − k)/β) · σ((k − j)/β),   over the valid positions j = 0 … n−1

(the logistic family's density; another relaxation family uses its own, ``relaxations.py``. A
family with bounded support, ``"smoothstep"``, gives no position weight when the index is farther
than β from all of them: the index then reads its nearest position, the kernel's limit as β → 0.)

Reading gives ``Σ_j w_j · xs[j]``; assigning ``xs[k] = v`` gives
``xs[j] ← w_j·v + (1 − w_j)·xs[j]``.

The gradient is the gradient of these weights (the default, ``index_gradient="exact"``): with
``g_j = ∂ log κ_j / ∂k`` (logistic: ``(2σ((j − k)/β) − 1)/β``), ``∂w_j/∂k = w_j · (g_j − Σ_i w_i g_i)``; it equals
finite differences and is finite in float32 for any index but NaN. The paper's variant,
``index_gradient="constant_normaliser"``, holds the normaliser constant in the backward pass
(``∂w_j/∂k = w_j · g_j``), a training heuristic against aliasing: its gradients do not sum to zero
over the positions, and a loop that moves an index many times can multiply that error (gnome sort's
gradient on ``[1, 2]`` was ±1e17 with it, ≈ [1, 2] without). The option is read from the context
(``relax(f, index_gradient=...)``, ``f.options(index_gradient=...)``). The values are the same either way.

Special indices, each instance on its own:

- exactly at a valid position (an integer value; from −n to −1, counting from the end as in
  Python): that position's one-hot, as the static int it stands for would select (a counter
  promoted only because other instances of the batch went on); between the integers the kernel
  stays over 0 … n−1 (a real index just below 0 reads mostly the first position);
  its gradient is the kernel's there (the derivative on either side, what central differences see);
- more than 64·β beyond an end (or ±inf): the kernel's limit, logistic ``w_j ∝ exp(±j/β)`` (the
  index is clamped there, which changes no value by more than e^-64 relative; the gradient there
  is 0; the heavy-tailed ``"cauchy"`` family clamps at 10⁶·β);
- NaN: NaN weights, so reading gives NaN and a write makes that instance's sequence NaN, for that
  instance only; no gradient reaches the index, and none of the other instances' gradients sees
  the NaN. In sample and exact mode, where a position must be drawn, a NaN index draws uniformly.

Nothing raises for a non-finite index: one instance's inf or NaN never fails the batch (§1.7).
"""

from __future__ import annotations

import torch

from . import categorical, host
from .branches import BranchList, ChosenList, Merger
from .events import expectation
from .paths import inactive
from .relaxations import DEFAULT, Relaxation
from .values import Value, align, is_relaxed, syncs_freely, to_rank


def _per_instance(tensor: torch.Tensor, what: str):
    """Refuse to treat ``tensor`` as a per-instance sequence unless it is one ``(B, n, ...)``."""
    if tensor.dim() < 2:
        refuse_sequence(tensor.dim(), what)


def refuse_sequence(rank: int, what: str):
    """The error for a value of ``rank`` per-instance dims taken for a sequence."""
    kind = "a shared constant (0-d tensor)" if rank == 0 else "a relaxed scalar (B,)"
    raise TypeError(
        f"cannot {what} {kind}: a per-instance sequence is a tensor of shape (B, n, ...) "
        f"or a list of (B, ...) tensors"
    )


def _tensor_index(tensor: torch.Tensor, index):
    _per_instance(tensor, "index")
    if type(index) is slice and index.step is not None and index.step < 0:
        # torch slices step forwards only: `xs[::-1]` becomes the positions Python's would take.
        positions = range(tensor.shape[1])[index]
        index = torch.tensor(positions, dtype=torch.long, device=tensor.device)
    return (slice(None),) + (index if isinstance(index, tuple) else (index,))


def per_instance_index(index) -> bool:
    """Whether ``index`` selects per instance (a ``(B,)`` tensor or a categorical)."""
    if isinstance(index, tuple):
        if not any(is_relaxed(i) for i in index):
            return False
        if not all(is_relaxed(i) or isinstance(i, int) for i in index):
            raise TypeError("a multi-dimensional index with a relaxed part takes ints and "
                            "relaxed indices only (no slices)")
        return True
    if isinstance(index, Value):
        if not index.indexes:
            raise TypeError(f"cannot index with {index.noun}: use an int")
        return True
    if type(index) is slice and any(is_relaxed(b) for b in (index.start, index.stop, index.step)):
        raise TypeError(
            "a slice whose bounds differ per instance (`xs[:k]` with a relaxed `k`) has no "
            "fixed length: loop over every position with a guard instead (`for j in "
            "range(len(xs)):` and `if j < k:`)")
    return isinstance(index, torch.Tensor)


def _product_weights(index: tuple, shape, ctx):
    """Weights ``(B, n_1, …, n_d)`` of a multi-dimensional index: the product of the per-dimension
    kernels (a static int is one-hot in its dimension)."""
    total = None
    for dimension, (component, n) in enumerate(zip(index, shape)):
        if is_relaxed(component):
            weights = _weights(component, n, ctx)
        else:
            weights = torch.arange(n) == (component % n)
        view = [1] * (len(index) + 1)
        view[0], view[dimension + 1] = -1, n
        weights = weights.reshape(view)
        total = weights if total is None else total * weights   # (bool * bool is `and`)
    return total


def _weights(index, n, ctx):
    if isinstance(index, Value):
        return index.index_weights(n, ctx)
    return index_weights(index, n, ctx)


def index_weights(index: torch.Tensor, n: int, ctx) -> torch.Tensor:
    """Weights ``(B, n)`` of a per-instance index ``(B,)`` over positions ``0 … n−1``.

    Integer index (or hard mode): one-hot, negative indices counting from the end as in Python;
    out of range is an ``IndexError``. Real-valued: the kernel of the module docstring.
    """
    positions = torch.arange(n, device=index.device)
    if ctx.hard or not index.is_floating_point():
        exact = index.round().long() if index.is_floating_point() else index.long()
        exact = torch.where(exact < 0, exact + n, exact)
        outside = (exact < 0) | (exact >= n)
        if bool(outside.any()):
            # Out of range is an error only where this path matters (paths.py).
            dormant = inactive(index.shape[0]) if index.dim() > 0 else None
            if dormant is not None:
                outside, dormant = align(outside, dormant)   # (an index (B, 1) meets (B,))
            if dormant is None or bool((outside & ~dormant).any()):
                raise IndexError(f"per-instance index out of range for a sequence of length {n}")
            exact = exact.clamp(0, n - 1)
        return exact.unsqueeze(-1) == positions
    weights = kernel_weights(index, n, ctx.beta, ctx.index_gradient, ctx.relaxation)
    if ctx.sampling:   # a draw needs a distribution: an unknown (NaN) index draws uniformly
        weights = torch.where(torch.isnan(index).unsqueeze(-1), 1 / n, weights)
    return ctx.choice(weights)


def kernel_weights(index: torch.Tensor, n: int, beta: float, gradient: str = "exact",
                   relaxation: Relaxation = DEFAULT) -> torch.Tensor:
    """Weights ``(B, n)`` of a real-valued index ``(B,)``: the normalised kernel of the module
    docstring (``relaxation``'s), one-hot where the index is exactly a valid position (or where
    a bounded kernel reaches no position: the nearest one), NaN where it is NaN.

    ``gradient="constant_normaliser"``: the paper's variant, the normaliser a constant for the
    gradient (the values are the same).
    """
    positions = torch.arange(n, device=index.device, dtype=index.dtype)
    known = ~torch.isnan(index)
    # On the input, before any arithmetic (a NaN or inf computed and then discarded by a `where`
    # on the output would still send 0 · nan into the backward pass). Beyond `far`·β of the ends
    # the kernel is its limit (logistic: to e^-64, relative): clamping there changes no value that
    # float64 can tell apart, and an inf index reads that limit.
    far = relaxation.far * beta
    finite = torch.where(known, index, torch.zeros_like(index)).clamp(-far, n - 1 + far)
    # Normalised in log space, so a far-away index cannot divide 0 by 0.
    log_kernel = relaxation.log_kernel(positions - finite.unsqueeze(-1), beta)
    if relaxation.bounded:
        # Where the kernel reaches no position: the nearest one (ties: the lower).
        reached = torch.isfinite(log_kernel).any(-1, keepdim=True)
        nearest = torch.ceil(finite - 0.5).clamp(0, n - 1)
        log_kernel = torch.where(reached, log_kernel,
                                 torch.where(positions == nearest.unsqueeze(-1), 0.0, -torch.inf))
    normaliser = torch.logsumexp(log_kernel, -1, keepdim=True)
    if gradient == "constant_normaliser":
        normaliser = normaliser.detach()
    kernel = torch.exp(log_kernel - normaliser)
    # An index exactly at a valid position selects it, as the static int it stands for would (a
    # counter promoted only because other instances of the batch went on); its gradient is the
    # kernel's there, the derivative from either side (what central differences measure).
    # A negative one counts from the end, as Python's `xs[-1]` (a counter at 0 minus one).
    wrapped = torch.where(index < 0, index + n, index)
    at_position = (positions == wrapped.unsqueeze(-1)).to(kernel.dtype)
    exact = at_position.sum(-1, keepdim=True) == 1
    weights = torch.where(exact, at_position + (kernel - kernel.detach()), kernel)
    return torch.where(known.unsqueeze(-1), weights, torch.nan)


#: ``ctx.index_gradient``: the gradient of the kernel's weights (``"exact"``, the default), or
#: the paper's, with the normaliser a constant in the backward pass (``"constant_normaliser"``).
INDEX_GRADIENTS = ("exact", "constant_normaliser")


def _weighted_read(weights, elements, ctx):
    """Σ_j w_j · elements[j] (exact selection where ``weights`` is boolean). An element that is
    not finite adds nothing where its weight is negligible (below ``eps``, as a negligible path
    of a merge): ``math.inf`` marking a used element is not read by an index that is surely
    elsewhere."""
    if isinstance(elements[0], categorical.Categorical):
        return categorical.Categorical(_weighted_read(weights, [e.probs for e in elements], ctx))
    if isinstance(elements[0], (list, tuple)):
        # A row of a list of lists (a DP table): each of its positions read with the weights.
        if any(len(e) != len(elements[0]) for e in elements):
            raise ValueError("a relaxed index reads a list of lists whose rows differ in "
                             "length: give every row the same length")
        return [_weighted_read(weights, [e[k] for e in elements], ctx)
                for k in range(len(elements[0]))]
    if weights.dtype == torch.bool:
        result = elements[-1]
        for j in range(len(elements) - 2, -1, -1):
            mask, chosen, rest = align(weights[..., j], elements[j], result)
            result = torch.where(mask, chosen, rest)
        return result
    def weighted_sum(drop_negligible_non_finite: bool):
        total = 0
        for j, element in enumerate(elements):
            w, element = align(weights[..., j], element)
            if drop_negligible_non_finite and isinstance(element, torch.Tensor):
                dropped = (w < ctx.eps) & ~torch.isfinite(element)
                element = torch.where(dropped, torch.zeros_like(element), element)
            total = total + w * element
        return total

    if syncs_freely(weights):   # the plain sum, kept where a host read finds it finite
        total = weighted_sum(False)
        if not isinstance(total, torch.Tensor) or host.finite(total):
            return total
    return weighted_sum(True)


def getitem(container, index, ctx):
    """``container[index]`` for one instance.

    A tensor ``(B, n, ...)``: ``container[:, index]``; per instance::

        [x[index] for x in container]

    Anything else: Python's ``container[index]``. A per-instance index: see the module docstring.
    """
    if type(index) is int:   # the commonest cases, without the tests below
        if type(container) is list:   # (a branch's BranchList guards what it reads: below)
            return container[index]
        if type(container) is torch.Tensor and container.dim() >= 2:
            return container.select(1, index)
    if isinstance(container, Value):
        return container.read(index, ctx)
    if per_instance_index(index):
        return read_per_instance(container, index, ctx)
    if isinstance(container, torch.Tensor):
        return container[_tensor_index(container, index)]
    value = container[index]
    if type(container) is BranchList:
        value = container.guarded(value)
    return value


def read_per_instance(container, index, ctx):
    """``container[index]`` at a per-instance index: ``Σ_j w_j · container[j]``."""
    if isinstance(index, tuple):   # Σ_{j,k} w_j w_k · grid[j][k], one dimension at a time
        for component in index:
            container = getitem(container, component, ctx)
        return container
    elements = list(iterate(container))
    return _weighted_read(_weights(index, len(elements), ctx), elements, ctx)


def setitem(container, index, value, ctx):
    """``container[index] = value`` for one instance; returns the container to rebind.

    A tensor is never mutated: the result is a new tensor equal to ``container`` except at
    ``[:, index]`` (dtype promoted if ``value`` needs it), so neither the caller nor another branch
    sees the change. Lists, dicts and other objects are updated in place, exactly as in Python.
    A per-instance index updates every position ``j`` to ``w_j·value + (1 − w_j)·container[j]``.
    """
    if type(index) is int and type(container) is list:   # the commonest case, Python's
        container[index] = value
        return container
    if type(container) is ChosenList:
        container.refuse_write()
    if isinstance(container, Value):
        return container.write(index, value, ctx)
    if per_instance_index(index):
        if isinstance(index, tuple):
            return _product_write(container, index, expectation(value), ctx)
        return _weighted_write(container, _weights(index, length(container), ctx),
                               expectation(value), ctx)
    if isinstance(container, torch.Tensor):
        position = _tensor_index(container, index)
        value = expectation(value)
        dtype = stored_dtype(container.dtype, value)
        if type(index) is int:
            # One column: select_scatter is a single out-of-place op (no clone, no in-place copy).
            slot_shape = (container.shape[0],) + container.shape[2:]
            container = container if container.dtype == dtype else container.to(dtype)
            return torch.select_scatter(container, slot_value(value, dtype, slot_shape, container),
                                        1, index)
        updated = container.to(dtype, copy=True)
        if isinstance(value, torch.Tensor) and value.dim() > 0:
            slot = updated[position]
            value, _ = align(value, slot)
        updated[position] = value
        return updated
    container[index] = value
    return container


def slot_value(value, dtype: torch.dtype, slot_shape, like: torch.Tensor) -> torch.Tensor:
    """``value`` as what ``tensor[:, j] = value`` stores: of ``dtype``, per instance, filling the
    slot's shape ``(B, ...)``."""
    if not isinstance(value, torch.Tensor) or value.dtype != dtype:
        value = torch.as_tensor(value, dtype=dtype, device=like.device)
    value = to_rank(value, len(slot_shape))   # per instance: (B,) meets the slot's dim 0
    return value if value.shape == slot_shape else value.expand(slot_shape)


def _category(dtype: torch.dtype) -> int:
    """bool < integer < floating < complex: the order of torch's type promotion categories."""
    if dtype == torch.bool:
        return 0
    return 3 if dtype.is_complex else 2 if dtype.is_floating_point else 1


def stored_dtype(dtype: torch.dtype, value) -> torch.dtype:
    """The dtype of a tensor of ``dtype`` after ``tensor[...] = value``: ``torch.result_type``'s
    rule, written out because torch.compile cannot trace that function.

    A dimensioned tensor promotes with it; a number or 0-d tensor only when it is of a higher
    category (then a 0-d tensor brings its dtype, a number the default one: ``int64``, the default
    float, its complex counterpart).
    """
    if isinstance(value, torch.Tensor):
        if value.dim() > 0:
            return dtype if value.dtype == dtype else torch.promote_types(dtype, value.dtype)
        category = _category(value.dtype)
    else:
        category = (0 if isinstance(value, bool) else 1 if isinstance(value, int)
                    else 2 if isinstance(value, float) else 3)
    if category <= _category(dtype):
        return dtype
    if category == 3 and dtype.is_floating_point:   # complex keeps the floating size
        return _COMPLEX_OF.get(dtype, torch.complex64)
    if isinstance(value, torch.Tensor):
        return value.dtype
    default = torch.get_default_dtype()
    return torch.int64 if category == 1 else default if category == 2 else _COMPLEX_OF[default]


_COMPLEX_OF = {torch.float16: torch.complex32, torch.float32: torch.complex64,
               torch.float64: torch.complex128}


def _weighted_write(container, weights, value, ctx):
    """``xs[j] ← w_j·v + (1 − w_j)·xs[j]`` at every position ``j``: the merge of a relaxed ``if``
    (``branches.Merger``) of ``v`` into each position with its weight, so that a value or an
    element that is not finite is dropped where its weight is negligible (``xs[j] = math.inf`` at
    a relaxed index is inf at ``j``, not NaN at the other positions). A tensor is merged at all
    positions at once; a list position by position."""
    if isinstance(container, torch.Tensor):
        new = value if isinstance(value, torch.Tensor) else torch.as_tensor(value, device=container.device)
        new = new.unsqueeze(1) if new.dim() > 0 else new   # (B, ...) -> (B, 1, ...): every position
        return _written(*align(weights, new, container), ctx)
    container[:] = [_written(*align(weights[..., j], value, old), ctx) for j, old in enumerate(container)]
    return container


def _written(weights, value, old, ctx):
    """``weights·value + (1 − weights)·old`` (lined up) as the merge of a relaxed ``if``; boolean
    weights select."""
    if weights.dtype == torch.bool and not isinstance(old, (list, tuple)):
        return torch.where(weights, value, old)
    if isinstance(value, torch.Tensor) and isinstance(old, torch.Tensor):
        value = value.expand(torch.broadcast_shapes(value.shape, old.shape))
    return Merger(weights, ctx).merge(value, old)


def _product_write(container, index: tuple, value, ctx):
    """``grid[i, j] = v``: every cell becomes ``W·v + (1 − W)·cell`` with the product weights W."""
    if not isinstance(container, torch.Tensor):
        raise TypeError("a multi-dimensional relaxed index writes into a tensor (B, n, m, ...)")
    _per_instance(container, "index")
    shape = container.shape[1:1 + len(index)]
    weights = _product_weights(index, shape, ctx).to(container.device)
    return _written(*align(weights, value, container), ctx)


def length(container):
    """``len(container)`` for one instance: ``n`` for a tensor ``(B, n, ...)``; else Python's."""
    if isinstance(container, Value):
        return container.length()
    if isinstance(container, torch.Tensor):
        _per_instance(container, "take len() of")
        return container.shape[1]
    return len(container)


def static_range(*bounds):
    """``range(*bounds)``; its bounds must be static (a relaxed one is refused clearly)."""
    if any(is_relaxed(b) for b in bounds):
        raise TypeError(
            "a `range` bound is relaxed (it differs per instance, e.g. it was assigned under a "
            "relaxed condition): loop over a static range and guard the body with an `if` instead"
        )
    return range(*bounds)


def static_sorted(iterable, /, *, key=None, reverse=False):
    """``sorted`` (and ``list.sort``, ``calls.call``); the keys it compares must be static
    (per-instance ones are refused clearly)."""
    elements = list(iterable)
    keys = elements if key is None else [key(e) for e in elements]
    if any(is_relaxed(k) and not (isinstance(k, torch.Tensor) and k.dim() == 0) for k in keys):
        raise TypeError(
            "sorted() or list.sort() compares relaxed values (they differ per instance): write "
            "the sort as an algorithm in the relaxed function (a bubble sort, an insertion "
            "sort) so that each comparison is relaxed"
        )
    order = sorted(range(len(elements)), key=keys.__getitem__, reverse=reverse)   # stable
    return [elements[i] for i in order]


class _PerInstance:
    """A batch's numbers in an f-string with a format spec: each formatted, as a list."""

    __slots__ = ("numbers",)

    def __init__(self, numbers):
        self.numbers = numbers

    def __format__(self, spec: str) -> str:
        return "[" + ", ".join(format(number, spec) for number in self.numbers) + "]"


def formatted(value):
    """What ``f"{x:.3f}"`` formats: a number per instance as the list of the instances' numbers
    (torch formats a single number only: a debug ``print`` would fail), anything else as it
    is."""
    if isinstance(value, Value) and value.per_instance:
        value = value.output()
    if isinstance(value, torch.Tensor) and value.dim() == 1:
        return _PerInstance(value.detach().tolist())
    return value


def copy(value):
    """``value.copy()``: a list's, dict's (any object's) own; a tensor, which has none, as its
    clone: a sequence may be given as a tensor ``(B, n, ...)`` where Python code copies a list.
    Columns are immutable: a copy is themselves."""
    if isinstance(value, torch.Tensor):
        return value.clone()
    if isinstance(value, Value) and value.per_instance:
        return value
    return value.copy()


def tolist(value):
    """``value.tolist()``: per instance, the sequence as a list of its elements (nested for more
    dims) and a scalar as itself, so that relaxed code goes on per instance, as it does on a
    list argument. The batch's rows as Python numbers would make every decision after it static
    (no relaxation, no gradient). A value that is not per instance is torch's ``tolist``."""
    if isinstance(value, torch.Tensor) and value.dim() == 1:
        return value
    if (isinstance(value, Value) and value.per_instance) or (
            isinstance(value, torch.Tensor) and value.dim() > 1):
        return [tolist(element) for element in iterate(value)]
    return value.tolist()


def iterate(iterable, unpack: bool = False):
    """What ``for v in iterable`` sees for one instance: a tensor ``(B, n, ...)`` yields its
    ``n`` elements ``(B, ...)``; anything else is iterated as in Python. With ``unpack`` (a tuple
    target, ``for a, b in pairs``) each element is itself split per instance."""
    if unpack:
        return [iterate(element) for element in iterate(iterable)]
    if isinstance(iterable, Value):
        return iterable.elements()
    if isinstance(iterable, torch.Tensor):
        _per_instance(iterable, "iterate over")
        return iterable.unbind(1)
    return iterable


class Operations:
    """What generated code calls to read, write, measure and walk containers: ``rx.getitem(x, i)``
    is ``x[i]``, ``rx.len(x)`` is ``len(x)``."""

    __slots__ = ()

    def getitem(self, container, index): return getitem(container, index, self)

    def setitem(self, container, index, value, argument=None):
        """``argument``: the parameter's name where ``container`` is one that the function writes
        in place only (``calls.refuse_write_into_argument``)."""
        if argument is not None:
            from .calls import refuse_write_into_argument   # (calls imports this module)
            refuse_write_into_argument(container, argument)
        return setitem(container, index, value, self)

    # Named after the builtins they stand for; nothing in this class body reads those builtins.
    len = staticmethod(length)
    iterate = staticmethod(iterate)
    range = staticmethod(static_range)
    sorted = staticmethod(static_sorted)
    tolist = staticmethod(tolist)
    copy = staticmethod(copy)
    formatted = staticmethod(formatted)
