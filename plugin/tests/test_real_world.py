"""kubectl inject prints exactly what it printed when the digests were recorded, for every shared
real-world manifest and every built-in configuration (see real_world.py)."""
from __future__ import annotations

import pytest

import real_world

pytestmark = pytest.mark.skipif(not real_world.available(), reason=real_world.SKIP_REASON)


@pytest.fixture(scope="module")
def table():
    return real_world.recorded()


@pytest.mark.parametrize("config", list(real_world.CONFIGS))
def test_outputs_unchanged(config, table, monkeypatch):
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.setenv("HOME", "/nonexistent")
    changed = [name for name in real_world.manifests()
               if real_world.digest(config, name) != table.get((config, name))]
    assert not changed, f"{len(changed)} outputs changed under {config}, e.g. {changed[:5]}"
