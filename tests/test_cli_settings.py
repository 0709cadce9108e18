"""The command line becomes one typed settings object per subcommand, built once in mixscope/cli.py."""

from __future__ import annotations

import dataclasses
import os

import pytest

from mixscope import cli

MINIMAL = {
    "gui": ["gui"],
    "serve": ["serve"],
    "node": ["node", "--url", "ws://127.0.0.1:9/ws", "--name", "n"],
    "demo": ["demo"],
}


@pytest.mark.parametrize("command", sorted(cli.SETTINGS))
def test_defaults_match_the_parser(command):
    """A settings object built from the bare command has the parser's defaults, field for field."""
    settings = cli.settings_for(cli.build_parser().parse_args(MINIMAL[command]))
    assert dataclasses.is_dataclass(settings) and type(settings).__name__ == cli.SETTINGS[command].split(":")[1]
    required = {f.name for f in dataclasses.fields(settings) if f.default is dataclasses.MISSING}
    defaults = type(settings)(**{name: getattr(settings, name) for name in required})
    assert settings == defaults


def test_options_arrive_typed():
    parse = cli.build_parser().parse_args
    serve = cli.settings_for(parse(["serve", "--host", "0.0.0.0", "--port", "0", "--allowed-host", "a.example",
                                 "--allowed-host", "b.example", "--cluster", "local:2"]))
    assert (serve.host, serve.port, serve.allowed_hosts, serve.cluster) == ("0.0.0.0", 0, ("a.example", "b.example"),
                                                                          "local:2")
    node = cli.settings_for(parse(["node", "--url", "ws://h/ws", "--name", "t1", "--role", "trustee", "--workers", "2",
                                "--skip-stage-proofs", "--nice", "10"]))
    assert (node.role, node.workers, node.skip_stage_proofs, node.nice, node.cheat) == ("trustee", 2, True, 10, None)
    demo = cli.settings_for(parse(["demo", "--voters", "7", "--candidates", "x", "y", "--json"]))
    assert (demo.voters, demo.candidates, demo.json) == (7, ("x", "y"), True)
    panel = cli.settings_for(parse(["gui", "--port", "8123", "--demo", "--demo-voters", "12", "--allowed-host", "h"]))
    assert (panel.port, panel.demo, panel.demo_voters, panel.allowed_hosts) == (8123, True, 12, ("h",))
    with pytest.raises(dataclasses.FrozenInstanceError):
        panel.port = 1  # built once, read everywhere


def test_other_commands_keep_their_namespace():
    args = cli.build_parser().parse_args(["verify", "record.json"])
    assert cli.settings_for(args) is args


def test_every_command_and_its_settings_resolve_outside_the_checkout(tmp_path):
    """The installed `mixscope` script runs with no checkout on its path: every module it names at run time is a
    `mixscope.` one, and importable from elsewhere (the folders beside the package are no import names)."""
    import subprocess
    import sys

    targets = [target for target, _help in cli.COMMANDS.values()] + list(cli.SETTINGS.values())
    assert all(target.startswith("mixscope.") for target in targets)
    script = ("import importlib, sys\n"
              "for target in sys.argv[1:]:\n"
              "    module, name = target.split(':')\n"
              "    getattr(importlib.import_module(module), name)\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    subprocess.run([sys.executable, "-c", script, *targets], cwd=tmp_path, env=env, check=True, timeout=120)
