"""The Jinja2 sandbox staff templates render in, with bounds on the work one render may do.

Jinja2's sandbox stops templates reaching Python internals, not from taking the machine:
``{% for i in range(100000) %}{% for j in range(12000) %}`` runs for half a minute and
``{{ "x" * 300000000 }}`` takes gigabytes. Campaign content will be typed into a browser,
so every render runs against a budget (time, output size, loop iterations, ``range``
length, the size of strings and lists built by ``*``, ``+``, ``~`` and string methods),
checked by the sandbox's own hooks and by a code generator that routes every ``for`` loop
through a counter. The clock is injectable so tests never sleep.
"""

from __future__ import annotations

import enum
import os
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from string import Formatter
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment
from jinja2.utils import Namespace


class Limit(enum.StrEnum):
    """Which bound a template ran into."""

    TIME = "time"  # seconds of rendering
    OUTPUT = "output"  # characters one template produces
    ITERATIONS = "iterations"  # loop iterations in one render
    RANGE = "range"  # items in one range()
    SIZE = "size"  # characters (or items) in one value the template builds


@dataclass(frozen=True, kw_only=True)
class RenderLimits:
    """The bounds of one render. Generous for any letter (a long one is 50,000 characters
    and loops over a few hundred news items); far below what hurts a server."""

    seconds: float = 5.0
    output_chars: int = 2_000_000
    iterations: int = 200_000
    range_items: int = 10_000
    value_chars: int = 1_000_000
    clock: Callable[[], float] = time.monotonic

    def maximum(self, limit: Limit) -> float:
        return {
            Limit.TIME: self.seconds,
            Limit.OUTPUT: self.output_chars,
            Limit.ITERATIONS: self.iterations,
            Limit.RANGE: self.range_items,
            Limit.SIZE: self.value_chars,
        }[limit]


class LimitReached(jinja2.TemplateError):
    """Raised inside a render; the composer turns it into a ContentError with the line."""

    def __init__(self, limit: Limit, maximum: float) -> None:
        super().__init__(f"{limit.value} limit of {maximum:g} reached")
        self.limit = limit
        self.maximum = maximum


@dataclass(kw_only=True)
class _Budget:
    limits: RenderLimits
    deadline: float
    iterations: int = 0
    _ticks: int = field(default=0, repr=False)

    def tick(self) -> None:
        """Called often; looks at the clock every few calls (cheap enough per iteration)."""
        self._ticks += 1
        if self._ticks % 64 == 0 and self.limits.clock() > self.deadline:
            raise LimitReached(Limit.TIME, self.limits.seconds)

    def check_time(self) -> None:
        if self.limits.clock() > self.deadline:
            raise LimitReached(Limit.TIME, self.limits.seconds)

    def count_iteration(self) -> None:
        self.iterations += 1
        if self.iterations > self.limits.iterations:
            raise LimitReached(Limit.ITERATIONS, self.limits.iterations)
        self.tick()


_budget: ContextVar[_Budget | None] = ContextVar("coopmail_render_budget", default=None)


def _sized(value: Any) -> int:
    """The size of a value for the SIZE limit; 0 for what has no meaningful size."""
    if isinstance(value, str | bytes | list | tuple | dict | set | frozenset):
        return len(value)
    return 0


class _LimitedNamespace(Namespace):
    """``namespace()`` whose attributes, set in loops, cannot grow without bound."""

    def __setitem__(self, name: str, value: Any) -> None:
        environment = _ACTIVE_ENVIRONMENT.get()
        if environment is not None:
            environment.check_size(value)
        super().__setitem__(name, value)


_ACTIVE_ENVIRONMENT: ContextVar[LimitedSandbox | None] = ContextVar(
    "coopmail_render_environment", default=None
)


class _CountingGenerator(CodeGenerator):
    """Compiles every ``for`` loop's iterable through ``environment.iterate`` and every
    ``~`` through ``environment.bounded_parts``, so loops and concatenations are counted."""

    def visit_For(self, node: nodes.For, frame: Frame) -> None:
        if not getattr(node, "_coopmail_counted", False):
            node.iter = nodes.Call(
                nodes.EnvironmentAttribute("iterate", lineno=node.lineno),
                [node.iter],
                [],
                None,
                None,
                lineno=node.lineno,
            )
            node._coopmail_counted = True  # type: ignore[attr-defined]
        super().visit_For(node, frame)

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        if frame.eval_ctx.volatile:
            func_name = "(markup_join if context.eval_ctx.volatile else str_join)"
        elif frame.eval_ctx.autoescape:
            func_name = "markup_join"
        else:
            func_name = "str_join"
        self.write(f"{func_name}(environment.bounded_parts((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write(")))")


_GROWING_METHODS = frozenset(
    {"center", "ljust", "rjust", "zfill", "expandtabs", "join", "replace", "format"}
)


class LimitedSandbox(SandboxedEnvironment):
    """A SandboxedEnvironment whose renders run inside ``budget()``."""

    code_generator_class = _CountingGenerator
    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self, *args: Any, limits: RenderLimits | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limits = limits or RenderLimits()
        self.globals["range"] = self._range
        self.globals["namespace"] = _LimitedNamespace
        self.globals["lipsum"] = self._lipsum
        self.filters = {name: self._bounded_filter(f) for name, f in self.filters.items()}

    @contextmanager
    def budget(self) -> Iterator[None]:
        """Every render inside shares one budget; nested calls keep the outer one."""
        if _budget.get() is not None:
            yield
            return
        token = _budget.set(
            _Budget(limits=self.limits, deadline=self.limits.clock() + self.limits.seconds)
        )
        environment_token = _ACTIVE_ENVIRONMENT.set(self)
        try:
            yield
        finally:
            _ACTIVE_ENVIRONMENT.reset(environment_token)
            _budget.reset(token)

    def render(self, template: jinja2.Template, context: dict[str, Any]) -> str:
        """``template.render(context)``, stopped once the output passes its bound."""
        with self.budget():
            budget = _budget.get()
            assert budget is not None
            parts: list[str] = []
            size = 0
            try:
                for chunk in template.generate(context):
                    size += len(chunk)
                    if size > self.limits.output_chars:
                        raise LimitReached(Limit.OUTPUT, self.limits.output_chars)
                    parts.append(chunk)
                    budget.tick()
            finally:
                budget.check_time()
            return "".join(parts)

    # The hooks

    def iterate(self, iterable: Iterable[Any]) -> Iterator[Any]:
        budget = _budget.get()
        for item in iterable:
            if budget is not None:
                budget.count_iteration()
            yield item

    def bounded_parts(self, parts: tuple[Any, ...]) -> tuple[Any, ...]:
        total = 0
        for part in parts:
            total += len(part) if isinstance(part, str) else len(str(part))
            if total > self.limits.value_chars:
                raise LimitReached(Limit.SIZE, self.limits.value_chars)
        return parts

    def check_size(self, value: Any) -> Any:
        if _sized(value) > self.limits.value_chars:
            raise LimitReached(Limit.SIZE, self.limits.value_chars)
        return value

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        self._tick()
        if operator == "*":
            for sequence, count in ((left, right), (right, left)):
                if _sized(sequence) and isinstance(count, int):
                    self.check_size_estimate(_sized(sequence) * count)
        elif operator == "+":
            if _sized(left) and _sized(right):
                self.check_size_estimate(_sized(left) + _sized(right))
        elif operator == "**":
            if isinstance(left, int) and isinstance(right, int) and abs(left) > 1:
                # The result's digits grow with exponent times log(base); bound them.
                self.check_size_estimate(right * left.bit_length() // 3)
        elif operator == "%" and isinstance(left, str):
            arguments = right if isinstance(right, tuple) else (right,)
            self._check_widths(left, arguments)
        return self.check_size(super().call_binop(context, operator, left, right))

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        __self._tick()
        owner = getattr(__obj, "__self__", None)
        if isinstance(owner, str) and getattr(__obj, "__name__", "") in _GROWING_METHODS:
            __self._check_string_method(owner, __obj.__name__, args, kwargs)
        return __self.check_size(super().call(__context, __obj, *args, **kwargs))

    def getattr(self, obj: Any, attribute: str) -> Any:
        self._tick()
        return super().getattr(obj, attribute)

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        wrapper = super().wrap_str_format(value)
        if wrapper is None:
            return None
        template = str(value.__self__)

        def bounded(*args: Any, **kwargs: Any) -> str:
            self._check_format_widths(template)
            return str(self.check_size(wrapper(*args, **kwargs)))

        return bounded

    # Checks

    def _tick(self) -> None:
        budget = _budget.get()
        if budget is not None:
            budget.tick()

    def check_size_estimate(self, size: int) -> None:
        if size > self.limits.value_chars:
            raise LimitReached(Limit.SIZE, self.limits.value_chars)

    def _range(self, *args: int) -> range:
        numbers = range(*args)
        if len(numbers) > self.limits.range_items:
            raise LimitReached(Limit.RANGE, self.limits.range_items)
        return numbers

    def _lipsum(self, n: int = 5, html: bool = True, min: int = 20, max: int = 100) -> Any:
        if n > 100 or max > 1000:
            raise LimitReached(Limit.SIZE, self.limits.value_chars)
        from jinja2.utils import generate_lorem_ipsum

        return generate_lorem_ipsum(n=n, html=html, min=min, max=max)

    def _check_string_method(
        self, owner: str, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> None:
        values = (*args, *kwargs.values())
        if name == "join":
            items = values[0] if values else ()
            if isinstance(items, list | tuple):
                estimate = len(owner) * len(items) + sum(_sized(item) for item in items)
                self.check_size_estimate(estimate)
            return
        if name == "replace":
            self._check_replace(owner, values)
            return
        for value in values:
            if isinstance(value, int) and value > self.limits.value_chars:
                raise LimitReached(Limit.SIZE, self.limits.value_chars)
        if name == "expandtabs":
            width = values[0] if values and isinstance(values[0], int) else 8
            self.check_size_estimate(len(owner) * max(width, 1))

    def _check_replace(self, owner: str, values: tuple[Any, ...]) -> None:
        if len(values) < 2 or not isinstance(values[0], str) or not isinstance(values[1], str):
            return
        old, new = values[0], values[1]
        count = values[2] if len(values) > 2 and isinstance(values[2], int) else -1
        occurrences = len(owner) + 1 if not old else owner.count(old)
        if count >= 0:
            occurrences = min(occurrences, count)
        self.check_size_estimate(len(owner) + occurrences * max(len(new) - len(old), 0))

    def _check_widths(self, template: str, arguments: tuple[Any, ...]) -> None:
        """printf-style ``%``: no width or precision, literal or ``*``, past the bound."""
        for number in _digit_runs(template):
            self.check_size_estimate(number)
        if "*" in template:
            for argument in arguments:
                if isinstance(argument, int):
                    self.check_size_estimate(argument)

    def _check_format_widths(self, template: str) -> None:
        """``str.format``: no width or precision in a format spec past the bound."""
        try:
            parsed = list(Formatter().parse(template))
        except ValueError:
            return  # the real call raises the same error, with its own message
        for _, _, spec, _ in parsed:
            for number in _digit_runs(spec or ""):
                self.check_size_estimate(number)

    def _bounded_filter(self, function: Callable[..., Any]) -> Callable[..., Any]:
        """A built-in filter that refuses outsized arguments and outsized results."""
        passes = getattr(function, "jinja_pass_arg", None)  # context, eval context...
        offset = 0 if passes is None else 1
        name = getattr(function, "__name__", "")

        def bounded(*call_args: Any, **kwargs: Any) -> Any:
            self._tick()
            value, args = call_args[offset], call_args[offset + 1 :]
            for argument in (*args, *kwargs.values()):
                if isinstance(argument, int) and argument > self.limits.value_chars:
                    raise LimitReached(Limit.SIZE, self.limits.value_chars)
            if isinstance(value, str):
                if name == "do_replace":
                    self._check_replace(value, (*args, *kwargs.values()))
                elif name == "do_indent":
                    width = args[0] if args and isinstance(args[0], int) else 4
                    self.check_size_estimate(len(value) + value.count("\n") * width)
                elif name == "do_format":
                    self._check_widths(value, args)
            elif name == "do_join" and isinstance(value, list | tuple):
                separator = args[0] if args and isinstance(args[0], str) else ""
                self.check_size_estimate(
                    len(separator) * len(value) + sum(_sized(item) for item in value)
                )
            return self.check_size(function(*call_args, **kwargs))

        bounded.__name__ = name or "filter"
        bounded.__doc__ = function.__doc__
        if passes is not None:
            bounded.jinja_pass_arg = passes  # type: ignore[attr-defined]
        return bounded


def _digit_runs(text: str) -> Iterator[int]:
    number = ""
    for character in text:
        if character.isdigit():
            number += character
            continue
        if number:
            yield int(number[:12])
            number = ""
    if number:
        yield int(number[:12])


class EmailTemplateLoader(jinja2.FileSystemLoader):
    """Only mail templates and their partials: ``.html`` and ``.txt`` files under
    ``email/``, inside the search folders even through a symbolic link. Anything
    else, such as a ``coopmail.toml`` or a DKIM key beside the staff templates, is
    "template not found"."""

    SUFFIXES = (".html", ".txt")

    def get_source(
        self, environment: jinja2.Environment, template: str
    ) -> tuple[str, str, Callable[[], bool]]:
        if not self.allowed(template):
            raise jinja2.TemplateNotFound(template)
        source, filename, uptodate = super().get_source(environment, template)
        real = os.path.realpath(filename)
        if not any(
            Path(real).is_relative_to(Path(os.path.realpath(root)) / "email")
            for root in self.searchpath
        ):
            raise jinja2.TemplateNotFound(template)
        return source, filename, uptodate

    def list_templates(self) -> list[str]:
        return [name for name in super().list_templates() if self.allowed(name)]

    @classmethod
    def allowed(cls, template: str) -> bool:
        return template.startswith("email/") and template.endswith(cls.SUFFIXES)
