"""`make lab-drift`: which statements of the lab text hold, per Istio release, as Markdown.

Offline: for every release with a built-in injector configuration (plugin/kubectl_inject/builtin/),
with classic and with native sidecars, `kubectl inject --istio-version X` transforms the lab's
generated Pod and the transform statements (lab_text, step 3) are classified on its output.
With a verify-lab JSON report (--cluster-report, default build/lab-report.json when it exists):
every statement as that run classified it on the cluster.

    python -m lab_checks.lab_drift_report [--release 1.22.0 ...] [--cluster-report FILE] [--markdown FILE]
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

from lab_checks.lab_drift import classify, markdown
from lab_checks.lab_text import GENERATED_POD_YAML, LAB_ISTIO_RELEASE

from lab_checks.where import CHECKOUT, SCRIPTS_DIR, build_dir

# The built-in configurations of the kubectl_inject package beside this one (found, not imported:
# importing it would load the injector for nothing).
BUILTIN = Path(importlib.util.find_spec("kubectl_inject").origin).parent / "builtin"


def builtin_releases() -> list[str]:
    def key(v):
        return tuple(int(p) if p.isdigit() else 0 for p in v.split("."))
    return sorted((d.name for d in BUILTIN.iterdir() if (d / "template.yaml").is_file()), key=key)


def kubectl_inject() -> list[str]:
    for cand in (SCRIPTS_DIR / "kubectl-inject", *([CHECKOUT / "kubectl-inject"] if CHECKOUT else [])):
        if cand.exists():
            return [str(cand)]
    raise SystemExit("no kubectl-inject: run `make install`")


def transform(release: str, native: bool) -> dict:
    """The lab's Pod as `kubectl inject --istio-version release` injects it, with no cluster."""
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "nginx-pod.yaml"
        src.write_text(GENERATED_POD_YAML)
        # No kubeconfig: the built-in configuration is used whatever the caller's environment holds.
        env = {k: v for k, v in os.environ.items() if k not in ("KUBECONFIG",)}
        env.update(ENABLE_NATIVE_SIDECARS="true" if native else "false", KUBECONFIG=str(Path(tmp) / "none"))
        proc = subprocess.run(kubectl_inject() + ["--istio-version", release, "-f", str(src)],
                              capture_output=True, text=True, env=env, timeout=120, cwd=tmp)
    if proc.returncode != 0:
        raise RuntimeError(f"kubectl inject --istio-version {release} failed: {proc.stderr.strip()}")
    # istioctl's format ends every object with `---`: the Pod is the one non-empty document.
    return next(d for d in yaml.safe_load_all(proc.stdout) if d)


def offline_sections(releases: list[str]) -> list[tuple[str, list[dict]]]:
    sections = []
    for release in releases:
        for native in (False, True):
            named = " (the release the lab text names)" if release == LAB_ISTIO_RELEASE else ""
            heading = (f"Istio {release}{named}, offline, "
                       + ("native sidecars on (ENABLE_NATIVE_SIDECARS=true)" if native else "classic sidecars"))
            sections.append((heading, [v.as_dict() for v in classify(3, transform(release, native))]))
    return sections


def cluster_section(report_path: Path) -> tuple[str, list[dict]] | None:
    """Every statement as the verify-lab run of that report classified it on its cluster."""
    report = json.loads(report_path.read_text())
    verdicts = [v for step in report.get("steps", []) for v in step.get("statements", [])]
    if not verdicts:
        return None
    c = report.get("cluster") or {}
    revision = c.get("istio_revision") or ""
    heading = (f"cluster {c.get('name', '?')} (Kubernetes {c.get('server_version', '?')}, istiod "
               f"{c.get('istiod_image', '?')}"
               + (f", Istio revision {revision.split(' (')[0]}" if revision and not revision.startswith("default") else "")
               + f"), make verify-lab of {report.get('started', '?')}, "
               f"result {report.get('result')}")
    return heading, verdicts


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--release", action="append", help="a built-in release (default: all of them)")
    ap.add_argument("--cluster-report", default=str(build_dir() / "lab-report.json"),
                    help="a verify-lab JSON report to include ('' for none; ignored when missing)")
    ap.add_argument("--markdown", help="also write the Markdown to this file")
    args = ap.parse_args(argv)
    sections = offline_sections(args.release or builtin_releases())
    if args.cluster_report and Path(args.cluster_report).is_file():
        found = cluster_section(Path(args.cluster_report))
        if found:
            sections.append(found)
    text = markdown(sections)
    if args.markdown:
        Path(args.markdown).parent.mkdir(parents=True, exist_ok=True)
        Path(args.markdown).write_text(text)
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
