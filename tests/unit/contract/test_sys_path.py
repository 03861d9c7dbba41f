"""Worker processes import this engage, not a loaded model's copy of it."""

from __future__ import annotations

import sys

from engage.contract.sys_path import foreign_engage_folders, without_foreign_engage


def test_a_models_copy_of_engage_is_off_the_path_while_workers_start(tmp_path) -> None:
    copy = tmp_path / "code"
    (copy / "engage").mkdir(parents=True)
    sys.path.insert(0, str(copy))
    try:
        # (in a full test run, models loaded earlier have put their code folders there too)
        foreign = foreign_engage_folders(sys.path)
        assert foreign[0] == str(copy)
        with without_foreign_engage():
            assert not set(foreign) & set(sys.path)
        assert sys.path[0] == str(copy)  # restored afterwards
    finally:
        sys.path.remove(str(copy))
