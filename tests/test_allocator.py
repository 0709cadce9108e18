"""The C allocator's settings (mixscope/allocator.py): applied to the process and handed to its children."""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import pytest

from mixscope import allocator


@pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="glibc only")
def test_tune_applies_to_the_process_and_to_the_processes_it_starts():
    script = ("import os, subprocess, sys; from mixscope import allocator; print(allocator.tune());"
              "print(subprocess.run([sys.executable, '-c', 'import os; print(os.environ[\"MALLOC_ARENA_MAX\"],"
              " os.environ[\"MALLOC_MMAP_THRESHOLD_\"])'], capture_output=True, text=True).stdout.strip())")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.split("\n")[:2] == ["True", f"{allocator.ARENAS} {allocator.OWN_MAPPING_FROM}"]


def test_a_setting_given_in_the_environment_is_kept(monkeypatch):
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    monkeypatch.delenv("MALLOC_MMAP_THRESHOLD_", raising=False)  # restored after the test, as tune() sets it
    allocator.tune()
    assert os.environ["MALLOC_ARENA_MAX"] == "4"


@pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="glibc only")
def test_a_short_lived_command_also_keeps_freed_memory_for_reuse():
    script = ("import os; from mixscope import allocator; print(allocator.tune(short_lived=True));"
              "print(os.environ['MALLOC_TRIM_THRESHOLD_'], os.environ['MALLOC_TOP_PAD_'])")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.split("\n")[:2] == ["True", f"{allocator.SHORT_LIVED_KEEP} {allocator.SHORT_LIVED_KEEP // 4}"]
