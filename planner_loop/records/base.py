"""The base of every record model: immutable, and strict about keys it does not know."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class RecordModel(BaseModel):
    """A frozen pydantic model that refuses unknown keys (a typo is an error, not a silent drop)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
