"""Module, Parameter and the containers: how layers hold their parameters and find each other.

A Module registers every Parameter and sub-Module assigned to it as an attribute, in order, so
that ``parameters()``, ``state_dict()`` and ``repr`` can walk the tree. Names in a state dict
are attribute paths: 'encoder.0.W'.
"""
from __future__ import annotations

from collections import OrderedDict, namedtuple
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, Self

from ..core import backend
from ..core.mode import no_grad
from ..core.tensor import ArrayLike, DTypeLike, Tensor
from ..core.creation import tensor
from ..core.errors import StateDictError


class Parameter(Tensor):
    """A Tensor that a Module learns: a leaf that requires grad (by default), found by
    ``Module.parameters()``."""
    __slots__ = ()

    def __init__(self, data: Tensor | ArrayLike, requires_grad: bool = True) -> None:
        # lists of Python floats become float32, as in mg.tensor
        array = data.data if isinstance(data, Tensor) else tensor(data).data
        if requires_grad and not backend.is_floating(array.dtype):
            raise TypeError(f"Parameter: only floating-point parameters can require gradients; "
                            f"got {array.dtype}")
        super().__init__(array, requires_grad)
        if isinstance(data, Tensor):
            self._counter = data._counter       # the same memory: the same version counter
            self._counter[2] = 1

    def __repr__(self) -> str:
        return 'Parameter containing:\n' + super().__repr__()


class _RemovableHandle:
    """What register_forward_hook and register_forward_pre_hook return."""

    def __init__(self, hooks, hook):
        self.hooks, self.hook = hooks, hook

    def remove(self) -> None:
        if self.hook in self.hooks:
            self.hooks.remove(self.hook)


IncompatibleKeys = namedtuple('IncompatibleKeys', 'missing_keys unexpected_keys')


class Module:
    """Base class of every layer and model: subclass it, assign Parameters and Modules in
    ``__init__`` (after ``super().__init__()``), write ``forward``, call the module."""
    # set in __init__ through object.__setattr__ (this class's own __setattr__ registers)
    _param_names: list[str]
    _buffer_names: list[str]
    _module_names: list[str]
    training: bool

    def __init__(self) -> None:
        object.__setattr__(self, '_param_names', [])
        object.__setattr__(self, '_buffer_names', [])
        object.__setattr__(self, '_module_names', [])
        object.__setattr__(self, 'training', True)

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, (Parameter, Module)) and '_param_names' not in self.__dict__:
            raise AttributeError(f"{type(self).__name__}: call super().__init__() in __init__ "
                                 f"before assigning {name!r}")
        if isinstance(value, Parameter):
            self._register(self._param_names, name)
        elif isinstance(value, Module):
            self._register(self._module_names, name)
        elif value is not None and name in self.__dict__.get('_param_names', ()):
            raise TypeError(f"{type(self).__name__}.{name} is a parameter: assign a Parameter "
                            f"or None, not a {type(value).__name__} (wrap values in "
                            "nn.Parameter, or update them in place under no_grad)")
        elif value is not None and name in self.__dict__.get('_module_names', ()):
            raise TypeError(f"{type(self).__name__}.{name} is a sub-module: assign a Module or "
                            f"None, not a {type(value).__name__}")
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        for names in (self._param_names, self._buffer_names, self._module_names):
            if name in names:
                names.remove(name)
        object.__delattr__(self, name)

    def _register(self, names, name):
        for others in (self._param_names, self._buffer_names, self._module_names):
            if name in others and others is not names:
                others.remove(name)
        if name not in names:
            names.append(name)

    def register_buffer(self, name: str, tensor: Tensor | None) -> None:
        """A tensor that belongs to the state (saved, loaded, moved) but is not learned."""
        self._register(self._buffer_names, name)
        object.__setattr__(self, name, tensor)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__}.forward is not written")

    # Hooks (PyTorch's): empty tuples on the class until one is registered on an instance.
    _forward_pre_hooks: Any = ()
    _forward_hooks: Any = ()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if not (self._forward_pre_hooks or self._forward_hooks):
            return self.forward(*args, **kwargs)
        for hook in list(self._forward_pre_hooks):
            changed = hook(self, args)
            if changed is not None:
                args = changed if isinstance(changed, tuple) else (changed,)
        output = self.forward(*args, **kwargs)
        for hook in list(self._forward_hooks):
            changed = hook(self, args, output)
            if changed is not None:
                output = changed
        return output

    def register_forward_pre_hook(self, hook: Callable[..., Any]) -> Any:
        """Call ``hook(module, args)`` before each forward; it may return new args (a tuple,
        or one value). Returns a handle whose ``remove()`` takes it off."""
        return self._add_hook('_forward_pre_hooks', hook)

    def register_forward_hook(self, hook: Callable[..., Any]) -> Any:
        """Call ``hook(module, args, output)`` after each forward; it may return a new
        output. Returns a handle whose ``remove()`` takes it off."""
        return self._add_hook('_forward_hooks', hook)

    def _add_hook(self, kind, hook):
        if not callable(hook):
            raise TypeError(f"{type(self).__name__}.register_{kind[1:-1]}: the hook must be "
                            f"callable; got {type(hook).__name__}")
        if kind not in self.__dict__:
            object.__setattr__(self, kind, [])
        hooks = self.__dict__[kind]
        hooks.append(hook)
        return _RemovableHandle(hooks, hook)

    def apply(self, fn: Callable[[Module], Any]) -> Self:
        """Call ``fn`` on every sub-module, then on this one (PyTorch's order), e.g. to
        initialise: ``model.apply(init_weights)``. Returns the module."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # ------------------------------------------------------------------ the tree
    def named_children(self) -> Iterator[tuple[str, Module]]:
        for name in self._module_names:
            module = getattr(self, name)
            if module is not None:
                yield name, module

    def children(self) -> Iterator[Module]:
        return (m for _, m in self.named_children())

    def named_modules(self, prefix: str = '') -> Iterator[tuple[str, Module]]:
        yield prefix, self
        for name, child in self.named_children():
            yield from child.named_modules(f'{prefix}.{name}' if prefix else name)

    def modules(self) -> Iterator[Module]:
        return (m for _, m in self.named_modules())

    def named_parameters(self, prefix: str = '',
                         recurse: bool = True) -> Iterator[tuple[str, Parameter]]:
        """(name, Parameter) pairs, each Parameter once even if it is shared."""
        seen = set()
        modules = self.named_modules(prefix) if recurse else [(prefix, self)]
        for module_name, module in modules:
            for name in module._param_names:
                p = getattr(module, name)
                if p is not None and id(p) not in seen:
                    seen.add(id(p))
                    yield (f'{module_name}.{name}' if module_name else name), p

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        return (p for _, p in self.named_parameters(recurse=recurse))

    def _named_state(self):
        for module_name, module in self.named_modules():
            for name in module._param_names + module._buffer_names:
                t = getattr(module, name)
                if t is not None:
                    yield (f'{module_name}.{name}' if module_name else name), t

    # ------------------------------------------------------------------ modes and devices
    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.parameters():
            if set_to_none:
                p.grad = None
            elif p.grad is not None:
                p.grad.data[...] = 0
                p.grad._bump_version()

    def train(self, mode: bool = True) -> Self:
        for module in self.modules():
            object.__setattr__(module, 'training', mode)
        return self

    def eval(self) -> Self:
        return self.train(False)

    def to(self, device_or_dtype: str | DTypeLike = None, dtype: DTypeLike = None,
           device: str | None = None) -> Self:
        """Move (or cast) every parameter and buffer in place: the Parameter objects stay the
        same, so an optimizer made before still holds them."""
        for _, t in self._named_state():
            moved = Tensor(t.data).to(device_or_dtype, dtype=dtype, device=device)
            t.data = moved.data
            t._bump_version()
            if t.grad is not None:
                t.grad = t.grad.to(device_or_dtype, dtype=dtype, device=device)
        return self

    # ------------------------------------------------------------------ state
    def state_dict(self, layout: str = 'minigen') -> OrderedDict[str, Tensor]:
        """name -> Tensor for every parameter and buffer (sharing their memory and version
        counter, detached: a write into an entry is a write into the module).

        ``layout='torch'``: the names and layouts PyTorch gives the same architecture (weights
        transposed to (out, in); each layer's ``TORCH_NAMES``), copies, for a PyTorch model:
        ``mg.save(model.state_dict(layout='torch'), 'model.safetensors')``, then in PyTorch
        ``model.load_state_dict(safetensors.torch.load_file('model.safetensors'))``."""
        if layout == 'torch':
            return self._torch_state()
        if layout != 'minigen':
            raise ValueError(f"state_dict: layout must be 'minigen' or 'torch'; got {layout!r}")
        return OrderedDict((name, t._alias()) for name, t in self._named_state())

    # A layer's parameters as PyTorch names them: {own name: (PyTorch's name, transposed?)};
    # None: no PyTorch layout known (state_dict(layout='torch') refuses such a layer).
    TORCH_NAMES: dict[str, tuple[str, bool]] | None = None

    def torch_name(self, name: str) -> tuple[str, bool]:
        """(PyTorch's name for this module's own parameter ``name``, whether the weight is
        stored transposed to PyTorch's (out, in)); a layer overrides it or sets TORCH_NAMES."""
        if self.TORCH_NAMES is None or name not in self.TORCH_NAMES:
            raise TypeError(f"state_dict(layout='torch'): no PyTorch layout is known for "
                            f"{type(self).__name__} (parameter '{name}'); the layouts known are "
                            "Linear, RNN, LSTM, GRU, Embedding and LayerNorm")
        return self.TORCH_NAMES[name]

    def _torch_state(self):
        state = OrderedDict()
        for prefix, module in self.named_modules():
            for name in module._param_names + module._buffer_names:
                t = getattr(module, name)
                if t is None:
                    continue
                try:
                    torch_name, transposed = module.torch_name(name)
                except TypeError as exc:
                    where = f" at '{prefix}'" if prefix else ''
                    raise TypeError(f"{exc}{where}") from None
                data = t.data.T.copy() if transposed else t.data.copy()
                state[f'{prefix}.{torch_name}' if prefix else torch_name] = Tensor(data)
        return state

    def load_state_dict(self, state_dict: Mapping[str, Tensor | ArrayLike],
                        strict: bool = True) -> IncompatibleKeys:
        """Copy values into the parameters and buffers, in place. Names, shapes and dtypes are
        checked first; any problem raises one error listing every one of them, and nothing is
        copied. With strict=False, missing and unexpected names are returned, not raised."""
        if not hasattr(state_dict, 'keys'):
            raise TypeError(f"load_state_dict for {type(self).__name__}: expected a dict of "
                            f"name -> tensor, got a {type(state_dict).__name__}")
        own = OrderedDict(self._named_state())
        missing = [name for name in own if name not in state_dict]
        unexpected = [name for name in state_dict if name not in own]
        mismatched = []
        for name, t in own.items():
            if name in state_dict:
                value = state_dict[name]
                value = value.data if isinstance(value, Tensor) else backend.as_array(value)
                if tuple(value.shape) != t.shape or value.dtype != t.dtype:
                    mismatched.append(f"{name}: expected {t.shape} {t.dtype}, got "
                                      f"{tuple(value.shape)} {value.dtype}")
        problems = mismatched + ([f"missing: {', '.join(missing)}"] if strict and missing else
                                 []) + ([f"unexpected: {', '.join(unexpected)}"]
                                        if strict and unexpected else [])
        if problems:
            raise StateDictError(f"load_state_dict for {type(self).__name__}: "
                                 + '; '.join(problems))
        with no_grad():
            for name, t in own.items():
                if name in state_dict:
                    value = state_dict[name]
                    value = value.data if isinstance(value, Tensor) else value
                    t.data[...] = backend.to_device(backend.as_array(value), t.device)
                    t._bump_version()
        return IncompatibleKeys(missing, unexpected)

    # ------------------------------------------------------------------ repr
    def extra_repr(self) -> str:
        """What the module shows in its line of the tree (its sizes and options)."""
        return ''

    def _shapes(self):
        shapes = [f'{name} {tuple(getattr(self, name).shape)}' for name in self._param_names
                  if getattr(self, name) is not None]
        return f"  [{', '.join(shapes)}]" if shapes else ''

    def __repr__(self) -> str:
        """The tree: one line per module with its options and its parameters' shapes."""
        children = list(self.named_children())
        if not children:
            return f'{type(self).__name__}({self.extra_repr()})' + self._shapes()
        lines = [f'{type(self).__name__}(']
        if self.extra_repr() or self._shapes():
            lines.append('  ' + f'{self.extra_repr()}{self._shapes()}'.strip())
        for name, child in children:
            body = repr(child).replace('\n', '\n  ')
            lines.append(f'  ({name}): {body}')
        lines.append(')')
        return '\n'.join(lines)


class _Container(Module):
    """Indexing, length and iteration over the sub-modules, in order."""

    def __getitem__(self, i: int) -> Module:
        return list(self.children())[i]

    def __len__(self) -> int:
        return len(self._module_names)

    def __iter__(self) -> Iterator[Module]:
        return iter(list(self.children()))


class Sequential(_Container):
    """Modules applied in order: ``Sequential(Linear(4, 8), ReLU(), Linear(8, 1))``."""

    def __init__(self, *modules: Module) -> None:
        super().__init__()
        for i, module in enumerate(modules):
            if not isinstance(module, Module):
                raise TypeError(f"Sequential: item {i} is a {type(module).__name__}, "
                                "not a Module")
            setattr(self, str(i), module)

    def __getitem__(self, i: int | slice) -> Any:
        """The i-th module, or for a slice a Sequential of those modules (the same objects,
        under their names here, so its state_dict keys match this one's, as in PyTorch)."""
        if isinstance(i, slice):
            part = Sequential()
            for name in self._module_names[i]:
                setattr(part, name, getattr(self, name))
            return part
        return super().__getitem__(i)

    def forward(self, x: Any) -> Any:
        for module in self.children():
            x = module(x)
        return x


class ModuleList(_Container):
    """A list of Modules whose parameters the parent finds (a plain list would hide them)."""

    def __init__(self, modules: Iterable[Module] = ()) -> None:
        super().__init__()
        for module in modules:
            self.append(module)

    def append(self, module: Module) -> Self:
        if not isinstance(module, Module):
            raise TypeError(f"ModuleList: can hold Modules only, not {type(module).__name__}")
        setattr(self, str(len(self._module_names)), module)
        return self


class ModuleDict(Module):
    """Modules by name, found by the parent (a plain dict would hide their parameters); keys
    keep their insertion order. ``d['enc']``, ``d['enc'] = m``, ``del d['enc']``, ``'enc' in d``,
    ``len``, iteration over the keys, ``keys()``, ``values()``, ``items()``, ``update()``,
    ``pop()`` and ``clear()``, as PyTorch's."""

    def __init__(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]] | None
                 = None) -> None:
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        if key not in self._module_names:
            raise KeyError(f"ModuleDict: no module named {key!r} (it has "
                           f"{', '.join(map(repr, self._module_names)) or 'none'})")
        return getattr(self, key)

    def __setitem__(self, key: str, module: Module) -> None:
        if not isinstance(key, str) or not key or '.' in key:
            raise KeyError(f"ModuleDict: a key must be a non-empty str without '.', got "
                           f"{key!r}")
        if key not in self._module_names and hasattr(self, key):
            raise KeyError(f"ModuleDict: the key {key!r} is an attribute of ModuleDict itself")
        if not isinstance(module, Module):
            raise TypeError(f"ModuleDict: can hold Modules only, not {type(module).__name__} "
                            f"(key {key!r})")
        setattr(self, key, module)

    def __delitem__(self, key: str) -> None:
        self[key]                                   # the KeyError, if it is not there
        delattr(self, key)

    def __len__(self) -> int:
        return len(self._module_names)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._module_names))

    def __contains__(self, key: object) -> bool:
        return key in self._module_names

    def keys(self) -> list[str]:
        return list(self._module_names)

    def values(self) -> list[Module]:
        return [getattr(self, k) for k in self._module_names]

    def items(self) -> list[tuple[str, Module]]:
        return [(k, getattr(self, k)) for k in self._module_names]

    def update(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]]) -> None:
        pairs = modules.items() if isinstance(modules, Mapping) else modules
        for pair in pairs:
            if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                raise TypeError(f"ModuleDict.update: expected a mapping or (key, module) "
                                f"pairs, got the item {pair!r}")
            self[pair[0]] = pair[1]

    def pop(self, key: str) -> Module:
        module = self[key]
        del self[key]
        return module

    def clear(self) -> None:
        for key in list(self._module_names):
            del self[key]

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("ModuleDict has no forward: call the modules it holds")


def functional_call(module: Module, params: Mapping[str, Tensor], *args: Any,
                    method: Callable[..., Any] | None = None, **kwargs: Any) -> Any:
    """``module(*args)`` (or ``method(module, *args)``) with some parameters replaced by the
    given tensors, {state-dict name: Tensor}; the originals are put back afterwards.

    Gradients then flow to the given tensors, so a whole model's loss can be checked as a
    function of its parameters: ``gradcheck(lambda *ps: functional_call(m, dict(zip(names,
    ps)), x), params)`` (PyTorch's torch.func.functional_call does the same).
    """
    owners = dict(module.named_modules())
    swapped = []
    try:
        for name, value in params.items():
            owner_name, _, attr = name.rpartition('.')
            owner = owners[owner_name]
            swapped.append((owner, attr, getattr(owner, attr)))
            object.__setattr__(owner, attr, value)     # bypasses the Parameter-only rule
        if method is not None:
            return method(module, *args, **kwargs)
        return module(*args, **kwargs)
    finally:
        for owner, attr, original in reversed(swapped):
            object.__setattr__(owner, attr, original)
