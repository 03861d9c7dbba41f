"""Worker processes import this engage, not a loaded model's copy of it."""

from __future__ import annotations

import sys

from engage.contract.sys_path import foreign_engage_folders, without_foreign_engage


def test_a_models_copy_of_engage_is_off_the_path_while_workers_start(tmp_path) -> None:
    copy = tmp_path / "code"
    (copy / "engage").mkdir(parents=True)
    sys.path.insert(0, str(copy))
    try:
        assert foreign_engage_folders(sys.path) == [str(copy)]
        with without_foreign_engage():
            assert str(copy) not in sys.path
        assert sys.path[0] == str(copy)  # restored afterwards
    finally:
        sys.path.remove(str(copy))
