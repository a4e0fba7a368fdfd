"""A resolution code lives in one place (domain.lifecycle.Resolution); everything that shows
or accepts one follows it, so adding a code is one line plus its words."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from chalicelib.domain.lifecycle import RESOLUTIONS, TRANSITIONS
from chalicelib.domain.notices import RESOLUTION_WORDS
from chalicelib.schemas.work import CloseIn
from chalicelib.services.updates import STATUSES


def test_every_resolution_has_words_in_every_language() -> None:
    for language, words in RESOLUTION_WORDS.items():
        assert set(words) == set(RESOLUTIONS), language
        assert all(text.strip() for text in words.values()), language


@pytest.mark.parametrize("resolution", RESOLUTIONS)
def test_a_department_may_close_with_each_resolution(resolution: str) -> None:
    assert CloseIn.model_validate({"resolution": resolution}).resolution == resolution


def test_a_resolution_outside_the_list_is_refused() -> None:
    with pytest.raises(ValidationError):
        CloseIn.model_validate({"resolution": "lost_interest"})


def test_work_order_statuses_map_to_known_actions_and_resolutions() -> None:
    for status, (action, resolution) in STATUSES.items():
        assert action is None or action in TRANSITIONS, status
        assert resolution is None or resolution in RESOLUTIONS, status
        assert (resolution is not None) == (action == "close"), status
