"""``claims.each``: one claimed row's bug stops none of the others, and its log line names
the row and the exception's type, never the exception's message (it may quote the row)."""

from __future__ import annotations

import logging
from types import SimpleNamespace

from clinicline import claims


def test_a_row_whose_step_raises_is_logged_by_type_and_the_others_go_on(caplog):
    rows = [SimpleNamespace(pk=n) for n in (1, 2, 3)]

    def step(row: SimpleNamespace) -> int:
        if row.pk == 2:
            raise ValueError("Walter Okafor, 1958-04-02")
        return 1

    with caplog.at_level(logging.ERROR):
        assert claims.each(rows, step, logging.getLogger("clinicline.test"), "bundle") == 2
    assert caplog.messages == ["bundle 2 failed: ValueError"]
