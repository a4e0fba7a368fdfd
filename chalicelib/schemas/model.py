"""The base of every wire model: validators built on first use, not at import.

A module of schemas declares dozens of models and a call uses two or three of them; pydantic
would build every model's validator and serializer as its class is defined (tens of
milliseconds of a cold start for nothing). ``defer_build`` builds each on its first use.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class WireModel(BaseModel):
    model_config = ConfigDict(defer_build=True)
