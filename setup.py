"""Builds the optional native backend (mixnet/_native.c). A missing compiler or a failed build leaves
Mixscope on libsodium alone: the install still succeeds and every result is the same."""

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext


class OptionalBuildExt(build_ext):
    def run(self):
        try:
            super().run()
        except Exception as exc:  # no compiler at all, or an unsupported platform
            self._skip(exc)

    def build_extension(self, ext):
        try:
            super().build_extension(ext)
        except Exception as exc:  # the compiler ran and failed (e.g. no 128-bit integers)
            self._skip(exc)

    def _skip(self, exc):
        print(f"warning: the native backend was not built ({exc}); Mixscope will use libsodium only")


setup(
    ext_modules=[
        Extension("mixscope.mixnet._native", ["mixscope/mixnet/_native.c"], extra_compile_args=["-O3"], optional=True)
    ],
    cmdclass={"build_ext": OptionalBuildExt},
)
