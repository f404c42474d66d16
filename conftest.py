"""Repository-wide pytest configuration: the plugin's tests run against the checkout even when the
package is not installed.

The lab suite's command-line options come from its own pytest plugin (lab_checks/options.py, the
package's `pytest11` entry point), its fixtures from lab_checks/conftest.py.
"""
import os
import sys

ROOT = os.path.dirname(os.path.abspath(__file__))
# Tests run against the checkout even when the package is not installed.
sys.path.insert(0, os.path.join(ROOT, "plugin"))
