"""argparse as the command line's full parser: help, usage text, abbreviated flags and every
usage error, one line each.

A plain `kubectl inject` run does not load this module (flags.parse reads the plain forms of the
flags itself); `--help`, anything unusual on the command line, and `kubectl inject config` do.
"""
from __future__ import annotations

import argparse

from .errors import InjectError

RawDescriptionHelpFormatter = argparse.RawDescriptionHelpFormatter


class ArgumentParser(argparse.ArgumentParser):
    """argparse, but a usage error is an InjectError: one line, exit 1."""

    # argparse makes a help formatter for every add_argument (to check the action's nargs), and
    # each one asks for the terminal's width, importing shutil (with bz2 and lzma): milliseconds
    # of every run. The width matters only for help and usage text: it is looked up for those.
    _width = 80

    def _get_formatter(self):
        return self.formatter_class(prog=self.prog, width=self._width)

    def format_usage(self):
        self._width = None  # argparse's own default: the terminal's width
        return super().format_usage()

    def format_help(self):
        self._width = None
        return super().format_help()

    def error(self, message):  # one line, exit 1, like every other error of ours
        raise InjectError(message)
