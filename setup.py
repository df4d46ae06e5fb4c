"""Build hook: the wheel carries app.json inside the ``install`` package.

app.json lives at the repository root (the design card's "one file declares the app"), but a non-editable
``pip install .`` installs only packages. ``build_py`` copies the root app.json to ``install/app.json`` in
the build tree, so install.manifest finds it with importlib.resources wherever the package is installed.
A copy at build time rather than a symlink: symlinks break on Windows checkouts and in some sdists.
"""
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent


class BuildPyWithManifest(build_py):
    def run(self):
        super().run()
        src = HERE / "app.json"
        dst = Path(self.build_lib) / "install" / "app.json"
        dst.parent.mkdir(parents=True, exist_ok=True)
        self.copy_file(str(src), str(dst))

    def get_outputs(self, include_bytecode=True):
        return super().get_outputs(include_bytecode) + [str(Path(self.build_lib) / "install" / "app.json")]


setup(cmdclass={"build_py": BuildPyWithManifest})
