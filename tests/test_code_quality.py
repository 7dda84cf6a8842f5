"""No function in journeymap/ is more complex than :data:`MAX_COMPLEXITY` (issue 11), as radon counts it.

Radon's cyclomatic complexity counts every branch, loop, ``except``, comprehension ``if`` and boolean
operator; a function above the limit is hard to read on one screen and to test branch by branch. ruff's
C901 (McCabe, configured in pyproject.toml) checks the same limit with a slightly different count; this
test holds the stricter of the two.
"""

from __future__ import annotations

from helpers import ROOT

#: The most complex a function may be (pyproject.toml's ruff mccabe max-complexity says the same).
MAX_COMPLEXITY = 25


def _too_complex() -> list[str]:
    from radon.complexity import cc_visit

    found = []
    for path in sorted((ROOT / "journeymap").rglob("*.py")):
        for block in cc_visit(path.read_text(encoding="utf-8")):
            for item in [block, *getattr(block, "methods", [])]:
                if item.complexity > MAX_COMPLEXITY:
                    name = f"{item.classname}.{item.name}" if getattr(item, "classname", None) else item.name
                    found.append(f"{path.relative_to(ROOT)}:{item.lineno} {name} ({item.complexity})")
    return sorted(set(found))


def test_no_function_is_more_complex_than_the_limit():
    found = _too_complex()
    assert not found, f"{len(found)} function(s) above complexity {MAX_COMPLEXITY}:\n" + "\n".join(found)


def test_the_limit_is_the_one_ruff_checks():
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert config["tool"]["ruff"]["lint"]["mccabe"]["max-complexity"] == MAX_COMPLEXITY
    assert "C901" in config["tool"]["ruff"]["lint"]["select"]
