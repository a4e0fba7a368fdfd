"""A lock that is handed out in turns, for the local runner's threads (local/pump.py,
local/emulator.py)."""

from __future__ import annotations

import threading
from collections import deque


class TurnLock:
    """A lock handed to its waiters in the order they came (first come, first served).

    A plain Lock lets the thread that just released it take it again at once. In the
    pump, while a DynamoDB stream has a backlog (the demo year writes thousands of
    events), its thread would invoke batch after batch and a resident's text would wait
    for all of them; in the emulator, the demo year's writer would keep DynamoDB to
    itself. With turns, everyone else waits at most one turn."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._waiting: deque[threading.Event] = deque()
        self._held = False

    def __enter__(self) -> TurnLock:
        with self._guard:
            if not self._held:
                self._held = True
                return self
            turn = threading.Event()
            self._waiting.append(turn)
        turn.wait()  # the holder hands the lock over: it stays held, now by this thread
        return self

    def __exit__(self, *_: object) -> None:
        with self._guard:
            if self._waiting:
                self._waiting.popleft().set()
            else:
                self._held = False
