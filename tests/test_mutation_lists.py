"""The planted-bug lists of tools/ (mutation checks run before closing test issues) stay in step with the code:
every mutant's fragment occurs exactly once in its file, so a refactoring cannot silently retire a mutant."""
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def mutant_lists():
    namespace = {"__name__": "mutation_lists", "__file__": str(ROOT / "tools" / "mutation_check.py")}
    exec((ROOT / "tools" / "mutation_check.py").read_text(), namespace)
    lists = {"mutation_check.py": namespace["MUTANTS"]}
    for name in [f"mutants_set{i}.py" for i in range(2, 21)]:
        scope = dict(namespace)  # set 2 uses mutation_check's test-group names
        exec((ROOT / "tools" / name).read_text(), scope)
        lists[name] = scope["MUTANTS"]
    return lists


@pytest.mark.parametrize("name", ["mutation_check.py", "mutants_set2.py", "mutants_set3.py", "mutants_set4.py",
                                  "mutants_set5.py", "mutants_set6.py", "mutants_set7.py",
                                  "mutants_set8.py", "mutants_set9.py", "mutants_set10.py", "mutants_set11.py",
                                  "mutants_set12.py", "mutants_set13.py", "mutants_set14.py", "mutants_set15.py",
                                  "mutants_set16.py", "mutants_set17.py", "mutants_set18.py",
                                  "mutants_set19.py", "mutants_set20.py"])
def test_every_mutant_fragment_occurs_once(name):
    mutants = mutant_lists()[name]
    assert len(mutants) >= 19
    for path, fragment, replacement, tests, _ in mutants:
        assert (ROOT / "op3d" / path).read_text().count(fragment) == 1, (path, fragment)
        assert replacement != fragment
        assert all((ROOT / "tests" / t.split("::")[0]).is_file() for t in tests), tests
