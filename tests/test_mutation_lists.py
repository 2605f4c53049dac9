"""The planted-bug lists of tools/ (mutation checks run before closing test issues) stay in step with the code:
every mutant's fragment occurs exactly once in its file, so a refactoring cannot silently retire a mutant."""
import functools
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


# every list in tools/: the tool's own and each independently written set (mutants_set2.py, mutants_set3.py, ...)
NAMES = ["mutation_check.py"] + sorted((p.name for p in (ROOT / "tools").glob("mutants_set*.py")),
                                       key=lambda name: int(name[len("mutants_set"):-len(".py")]))
SWEEPS = sorted(p.name for p in (ROOT / "tools").glob("mutants_sweep*.py"))  # tools/mutation_sweep.py's draws


@functools.cache
def mutant_lists():
    namespace = {"__name__": "mutation_lists", "__file__": str(ROOT / "tools" / "mutation_check.py")}
    exec((ROOT / "tools" / "mutation_check.py").read_text(), namespace)
    lists = {"mutation_check.py": namespace["MUTANTS"]}
    for name in NAMES[1:] + SWEEPS:
        scope = dict(namespace)  # set 2 uses mutation_check's test-group names
        exec((ROOT / "tools" / name).read_text(), scope)
        lists[name] = scope["MUTANTS"]
    return lists


@pytest.mark.parametrize("name", NAMES + SWEEPS)
def test_every_mutant_fragment_occurs_once(name):
    mutants = mutant_lists()[name]
    assert len(mutants) >= 19
    for path, fragment, replacement, tests, _ in mutants:
        assert (ROOT / "op3d" / path).read_text().count(fragment) == 1, (path, fragment)
        assert replacement != fragment
        assert all((ROOT / "tests" / t.split("::")[0]).is_file() for t in tests), tests


def test_the_sets_are_numbered_without_gaps():
    """A set file removed by mistake leaves a gap in the numbering instead of going unnoticed."""
    assert NAMES[1:] == [f"mutants_set{i}.py" for i in range(2, len(NAMES) + 1)] and len(NAMES) >= 20
