"""Atomic writes: the target appears only on success, with ordinary permissions."""
import os
import stat

import pytest

from op3d.io.atomic import atomic_path


def test_success_replaces_with_umask_permissions(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with atomic_path(target) as tmp:
        with open(tmp, "w") as f:
            f.write("new")
    assert target.read_text() == "new"
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~mask
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_failure_keeps_the_old_file(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            with open(tmp, "w") as f:
                f.write("half")
            raise RuntimeError("killed")
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_a_folder_that_refuses_files_is_reported_with_the_target_name(tmp_path, monkeypatch):
    """When the temporary file cannot be made (read-only folder, a pseudo file system), the error names the file
    the user asked for, not the hidden temporary one."""
    import tempfile

    def refuse(prefix, suffix, dir):
        raise PermissionError(13, "Permission denied", os.path.join(dir, prefix + "x1y2" + suffix))

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    target = tmp_path / "out.zip"
    with pytest.raises(PermissionError) as e:
        with atomic_path(target):
            pass
    assert e.value.filename == str(target) and e.value.strerror == "Permission denied"
    assert list(tmp_path.iterdir()) == []
