"""`make clock`: the local run's clock moves forward through a file the app re-reads."""

from __future__ import annotations

import json
from datetime import timedelta

from chalicelib.bootstrap import shifted_clock
from chalicelib.domain.instants import utc_now


def test_the_app_clock_follows_the_file(tmp_path, monkeypatch):
    import local.clock as clock

    path = tmp_path / "clock.json"
    monkeypatch.setattr(clock, "CLOCK", path)
    now = shifted_clock(str(path))
    assert abs(now() - utc_now()) < timedelta(seconds=5)  # no file yet: real time
    clock.main(["--advance", "2h"])
    clock.main(["--advance", "30m"])
    assert json.loads(path.read_text()) == {"shift_seconds": 9000.0}
    assert abs(now() - utc_now() - timedelta(hours=2, minutes=30)) < timedelta(seconds=5)
    clock.main(["--reset"])
    assert abs(now() - utc_now()) < timedelta(seconds=5)
    path.write_text("not json")
    assert abs(now() - utc_now()) < timedelta(seconds=5)  # a broken file is no shift
