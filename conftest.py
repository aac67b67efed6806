"""Loads the releasegate plugin for every pytest run in this repository.

Without --profile the plugin stays inert, so the harness's self-tests run as plain pytest."""

pytest_plugins = ["releasegate.pytest_plugin", "pytester"]
