"""planner-loop: can a language model check its own plans, or does it need a sound validator?"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
