"""Progress bars (tqdm.auto: a terminal or a notebook), or a silent stand-in where not wanted."""

from __future__ import annotations

__all__ = ["progress_bar"]


class _Null:
    def update(self, n=1):
        pass

    def set_description(self, desc):
        pass

    def close(self):
        pass


def progress_bar(enabled: bool, total: int | None, desc: str, unit: str = "it"):
    """A tqdm bar of ``total`` steps (None: a counter), or an object that ignores the calls."""
    if enabled:
        try:
            from tqdm.auto import tqdm

            return tqdm(total=total, desc=desc, unit=unit, leave=True)
        except ImportError:  # pragma: no cover - tqdm comes with numpyro
            pass
    return _Null()
