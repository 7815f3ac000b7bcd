"""Only what pyproject.toml cannot say: the package list, with checks/ and templates/ shipped
inside the package (see the comment in pyproject.toml)."""

from setuptools import find_packages, setup

setup(
    packages=[
        *find_packages(include=["checkrunner", "checkrunner.*"]),
        "checkrunner._builtin_checks",
        "checkrunner._templates",
    ],
    package_dir={
        "checkrunner._builtin_checks": "checks",
        "checkrunner._templates": "templates",
    },
)
