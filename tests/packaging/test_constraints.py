"""constraints.txt pins every runtime dependency, within pyproject's ranges, and what they pull in."""

import tomllib
from importlib import metadata

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from cds_service.config import REPO_ROOT

PYPROJECT = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
PROJECT = PYPROJECT["project"]
# The image installs the postgres extra: its driver is pinned too.
RUNTIME = [Requirement(r) for r in [*PROJECT["dependencies"], *PROJECT["optional-dependencies"]["postgres"]]]
# The image builds the package with a pinned backend (no build isolation).
BUILD = [Requirement(r) for r in PYPROJECT["build-system"]["requires"]]
FIX = "run `make constraints` after changing dependencies in pyproject.toml"


def _pins() -> dict[str, Version]:
    pins: dict[str, Version] = {}
    for line in (REPO_ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            assert version, f"constraints.txt: {line!r} is not an exact pin (name==version)"
            pins[canonicalize_name(name)] = Version(version)
    return pins


def test_every_runtime_and_build_dependency_is_pinned_within_its_range() -> None:
    pins = _pins()
    for requirement in [*RUNTIME, *BUILD]:
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement.name} is not in constraints.txt: {FIX}"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"constraints.txt pins {requirement.name}=={pins[name]}, outside pyproject's {requirement.specifier}: {FIX}"
        )


def test_what_the_dependencies_pull_in_is_pinned_too() -> None:
    """Walks the installed dependencies' own requirements (on this platform), from pyproject's list down."""
    pins, environment = _pins(), dict(default_environment())
    seen: set[str] = set()
    todo = [(r, frozenset(r.extras)) for r in RUNTIME]
    while todo:
        requirement, extras = todo.pop()
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement.name} (needed by the runtime dependencies) is not pinned: {FIX}"
        if name in seen:
            continue
        seen.add(name)
        for line in metadata.requires(requirement.name) or []:
            child = Requirement(line)
            if child.marker is None or any(child.marker.evaluate({**environment, "extra": e}) for e in ("", *extras)):
                todo.append((child, frozenset(child.extras)))
    build = {canonicalize_name(r.name) for r in BUILD}
    assert seen | build == set(pins), f"pinned but not needed: {sorted(set(pins) - seen - build)}: {FIX}"
