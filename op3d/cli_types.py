"""Command-line value types shared by the `op3d` subcommands: numbers that must be finite, devices that exist.
Bad values are refused at parse time as click usage errors (one line, exit 2) instead of failing later."""
from __future__ import annotations

import math

import click


class Finite(click.FloatRange):
    """A float option that must be finite (click's FloatRange lets nan through: every comparison with it is
    False) and, optionally, within [min, max]."""

    name = "finite float"

    def convert(self, value, param, ctx):
        number = click.FLOAT.convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return super().convert(number, param, ctx)

    def _describe_range(self) -> str:
        """The range shown in --help; none without bounds (click would show 'x<=None')."""
        return super()._describe_range() if self.min is not None or self.max is not None else ""


class FiniteOrNone(Finite):
    """A Finite option that also takes 'none' (-> None)."""

    name = "finite float or none"

    def convert(self, value, param, ctx):
        if value is None or (isinstance(value, str) and value.lower() == "none"):
            return None
        return super().convert(value, param, ctx)


class Device(click.ParamType):
    """'cpu', 'cuda' or 'cuda:N', checked against what this machine has."""

    name = "device"

    def convert(self, value, param, ctx):
        import torch

        try:
            device = torch.device(value)
        except (RuntimeError, TypeError, ValueError):
            self.fail(f"{value!r} is not a device (cpu, cuda or cuda:N)", param, ctx)
        if device.type == "cuda" and not torch.cuda.is_available():
            self.fail(f"{value!r}: CUDA is not available on this machine", param, ctx)
        if device.type == "cuda" and device.index is not None and device.index >= torch.cuda.device_count():
            self.fail(f"{value!r}: this machine has {torch.cuda.device_count()} CUDA device(s)", param, ctx)
        if device.type not in ("cpu", "cuda"):
            self.fail(f"{value!r}: op3d runs on cpu or cuda", param, ctx)
        return str(device)
