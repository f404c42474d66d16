"""Repository-wide pytest configuration: where Istio's golden data lives (beside the checkout)."""
import os
import sys

ROOT = os.path.dirname(os.path.abspath(__file__))
# Tests run against the checkout even when the package is not installed.
sys.path.insert(0, os.path.join(ROOT, "plugin"))
