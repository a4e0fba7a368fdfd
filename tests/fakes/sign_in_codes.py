"""A fake of the user pool's token endpoint (the ``SignInCodes`` port)."""

from __future__ import annotations

from chalicelib.domain.errors import Unauthenticated


class FakeSignInCodes:
    """SignInCodes: each code the test issued is exchanged once, for its ID token; any
    other code is refused as the pool refuses it. Keeps every exchange it was asked for."""

    def __init__(self) -> None:
        self.issued: dict[str, tuple[str, int]] = {}
        self.exchanges: list[tuple[str, str, str]] = []

    def issue(self, code: str, id_token: str, seconds: int = 3600) -> None:
        self.issued[code] = (id_token, seconds)

    def exchange(self, code: str, verifier: str, redirect_uri: str) -> tuple[str, int]:
        self.exchanges.append((code, verifier, redirect_uri))
        if code not in self.issued:
            raise Unauthenticated("the sign-in did not complete; sign in again")
        return self.issued.pop(code)
