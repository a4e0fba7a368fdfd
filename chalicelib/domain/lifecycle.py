"""A request's life, as the town sees it, behind Open311's two public statuses.

submitted → routed → acknowledged → in progress (⇄ on hold) → closed (with a resolution)
→ reopened → ... Departments may decline (back to triage) or hand off (to another
department) while the request is open. Anything else is an illegal transition: a clear
error, never a silent change.
"""

from __future__ import annotations

from typing import Literal, get_args

from chalicelib.domain.errors import Conflict

# Why a request was closed. A new one also needs its words in every language in
# domain/notices.py RESOLUTION_WORDS (tests/unit/test_lifecycle_names.py checks) and, if a
# work-order system may send it, a line in services/updates.py's code table.
Resolution = Literal["fixed", "duplicate", "not_ours", "no_action_needed", "referred"]
RESOLUTIONS: tuple[str, ...] = get_args(Resolution)

SUBMITTED, ROUTED, ACKNOWLEDGED = "submitted", "routed", "acknowledged"
IN_PROGRESS, ON_HOLD, CLOSED, REOPENED = "in_progress", "on_hold", "closed", "reopened"
LIFECYCLE = (SUBMITTED, ROUTED, ACKNOWLEDGED, IN_PROGRESS, ON_HOLD, CLOSED, REOPENED)

OPEN_STATES = frozenset(LIFECYCLE) - {CLOSED}

# action → (states it may start from, state it leads to)
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "route": (frozenset({SUBMITTED, REOPENED}), ROUTED),
    "acknowledge": (frozenset({ROUTED, REOPENED}), ACKNOWLEDGED),
    "accept": (frozenset({ROUTED, ACKNOWLEDGED, ON_HOLD, REOPENED}), IN_PROGRESS),
    "hold": (frozenset({ACKNOWLEDGED, IN_PROGRESS}), ON_HOLD),
    "decline": (frozenset({ROUTED, ACKNOWLEDGED}), ROUTED),
    "hand_off": (OPEN_STATES - {SUBMITTED}, ROUTED),
    "close": (OPEN_STATES, CLOSED),
    "reopen": (frozenset({CLOSED}), REOPENED),
}


def next_state(current: str, action: str) -> str:
    """The state ``action`` leads to from ``current``; Conflict if it may not happen now."""
    allowed, target = TRANSITIONS[action]
    if current not in allowed:
        raise Conflict(f"a request that is {current.replace('_', ' ')} cannot be "
                       f"{_past(action)}")
    return target


def public_status(state: str) -> str:
    return "closed" if state == CLOSED else "open"


def _past(action: str) -> str:
    return {"route": "routed", "acknowledge": "acknowledged", "accept": "accepted",
            "hold": "put on hold", "decline": "declined", "hand_off": "handed off",
            "close": "closed", "reopen": "reopened"}[action]
