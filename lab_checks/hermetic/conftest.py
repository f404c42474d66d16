"""pytest setup for the hermetic cluster checks: registers the `cluster` marker
so `pytest -m cluster` selects (and `-m "not cluster"` skips) them."""


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "cluster: needs a real kind cluster (built offline by lab_checks/hermetic)")
