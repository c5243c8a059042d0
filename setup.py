"""Build hook: the wheel carries the knowledge, the mappings and the example patients as package data.

The repository keeps cards/, mappings/ and examples/synthetic/ at the top level (the committee edits them
there); a built package gets a copy under cds_service/_data/ in the same layout, which cds_service.config
uses when it does not run from a checkout. Everything else is declared in pyproject.toml."""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
# Folders of the checkout that running the service needs, relative to the checkout and to cds_service/_data.
DATA_FOLDERS = ("cards", "mappings", "examples/synthetic")


class BuildWithData(build_py):
    def run(self) -> None:
        super().run()
        if self.editable_mode:  # an editable install runs from the checkout, which has the folders themselves
            return
        target = Path(self.build_lib) / "cds_service" / "_data"
        shutil.rmtree(target, ignore_errors=True)
        for folder in DATA_FOLDERS:
            source = HERE / folder
            if not source.is_dir():
                raise SystemExit(f"setup.py: {source} is missing: the package would not run without it")
            shutil.copytree(source, target / folder, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


setup(cmdclass={"build_py": BuildWithData})
