#!/usr/bin/env python3
"""Differential test: `kubectl inject` against a real `istioctl kube-inject`, file by file.

    parity.py --istioctl PATH [--release 1.30.4] [--corpus real-world,samples,golden]
              [--native false,true] [--jobs N] [--json build/parity.json] [--show N]

Both commands get the same three config files (the release's built-in injector config of this
project: builtin/RELEASE/{template,values,mesh}.yaml, which are also what `kubectl inject
--offline` uses) and the same environment (ENABLE_NATIVE_SIDECARS set to each value asked for, no
kubeconfig). Each input file is then one of:

  equal      both exit 0 and stdout is byte for byte the same
  both-fail  both exit non-zero (the error texts may differ; istioctl's wording is Go's)
  differ     anything else; printed with a field-level diff (deepdiff over the parsed YAML
             documents) or, when the fields agree and only the text differs, the first lines
             that differ

Corpora: `fields` (plugin/tests/data/parity: one manifest per release-dependent behaviour,
Pod fields of newer Kubernetes releases among them; run a second time as `fields-untagged`, with
the config's image tag `my-build` and its sidecar template changed by a comment, so that the
configuration states no release and matches no known template: kubectl inject must then
reproduce the newest release and say so in exactly one notice line), `real-world` (../shared/real-world-manifests/manifests), `samples` (every *.yaml of
Istio's own samples/ in the istio.io/istio source the hermetic build downloaded, next to the
istioctl binary), `golden` (the input manifests of ../shared/istio-golden/1.22.0/inject).

Exit status: 0 when no file differs, 1 when one does, 2 on bad usage. Why `-r default` for
istioctl: since 1.29, `istioctl kube-inject` without a revision asks the cluster for its default
revision and waits for it forever when there is no cluster; `default` is what it would settle on
(an empty revision in the templates), so this changes nothing in its output.
"""
from __future__ import annotations

import argparse
import concurrent.futures
import difflib
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SHARED = (REPO / ".." / "shared").resolve()
BUILTIN = REPO / "plugin" / "kubectl_inject" / "builtin"
KUBECTL_INJECT = REPO / ".venv" / "bin" / "kubectl-inject"


def corpus_files(name: str, istioctl: Path) -> list[Path]:
    if name == "real-world":
        root = SHARED / "real-world-manifests" / "manifests"
        return sorted(p for p in root.iterdir() if p.suffix in (".yaml", ".yml")) if root.is_dir() else []
    if name == "fields":
        return sorted((REPO / "plugin" / "tests" / "data" / "parity").glob("*.yaml"))
    if name == "golden":
        root = SHARED / "istio-golden" / "1.22.0" / "inject"
        return sorted(root.glob("*.yaml")) if root.is_dir() else []
    if name == "samples":
        # $LAB_CACHE/istio/VERSION/bin/istioctl -> $LAB_CACHE/istio/VERSION/src/samples
        root = istioctl.resolve().parent.parent / "src" / "samples"
        return sorted(root.rglob("*.yaml")) if root.is_dir() else []
    raise SystemExit(f"parity: unknown corpus {name!r} (fields, real-world, samples, golden)")


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str


@dataclass
class Outcome:
    corpus: str
    file: str
    native: str
    verdict: str                 # equal | both-fail | differ
    details: list[str] = field(default_factory=list)


def run(argv: list[str], env: dict, timeout: float = 120) -> Run:
    try:
        p = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout,
                           stdin=subprocess.DEVNULL)
        return Run(p.returncode, p.stdout, p.stderr)
    except subprocess.TimeoutExpired:
        return Run(124, "", f"timed out after {timeout:.0f}s")


def last_line(text: str) -> str:
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1].strip() if lines else ""


def field_diff(ours: str, theirs: str, limit: int) -> list[str]:
    """What differs between two outputs, field by field (paths into the YAML documents)."""
    import yaml
    from deepdiff import DeepDiff
    try:
        a = list(yaml.safe_load_all(theirs))
        b = list(yaml.safe_load_all(ours))
    except yaml.YAMLError as e:
        return [f"output is not YAML: {str(e).splitlines()[0]}"]
    diff = DeepDiff(a, b, verbose_level=2, view="tree")
    lines = []
    for kind, items in diff.items():
        for item in items:
            path = item.path(output_format="list")
            where = "/".join(str(p) for p in path)
            if kind.endswith("_removed"):
                lines.append(f"{where}: istioctl has {short(item.t1)}, kubectl inject has nothing")
            elif kind.endswith("_added"):
                lines.append(f"{where}: kubectl inject has {short(item.t2)}, istioctl has nothing")
            else:
                lines.append(f"{where}: istioctl {short(item.t1)} / kubectl inject {short(item.t2)}")
    if not lines:
        # Same data, different text (key order, quoting, a trailing document separator...).
        text = difflib.unified_diff(theirs.splitlines(), ours.splitlines(), "istioctl",
                                    "kubectl inject", n=1, lineterm="")
        lines = ["same fields, different text:"] + [f"  {ln}" for ln in list(text)[2:2 + limit]]
    return sorted(lines)[:limit] if lines[0] != "same fields, different text:" else lines


def short(value, width: int = 100) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= width else text[:width] + "..."


UNTAGGED_NOTICE = "kubectl inject: the injector config names no Istio release (image tag 'my-build')"


def untagged_config(config: dict, into: Path) -> dict:
    """The config with an image tag that names no release and a sidecar template no release has
    (a comment added at its end), for the `fields-untagged` corpus."""
    import yaml  # the project's dependency; only this corpus needs it
    values = json.loads(config["values"].read_text()) if config["values"].read_text().lstrip().startswith("{") \
        else yaml.safe_load(config["values"].read_text())
    values.setdefault("global", {})["tag"] = "my-build"
    template = yaml.safe_load(config["template"].read_text())
    template["templates"]["sidecar"] += "\n{{- /* a private build's template */ -}}\n"
    out = {"template": into / "template.yaml", "values": into / "values.yaml", "mesh": config["mesh"]}
    out["template"].write_text(yaml.safe_dump(template, sort_keys=False))
    out["values"].write_text(json.dumps(values))
    return out


def compare(corpus: str, path: Path, native: str, istioctl: Path, config: dict, limit: int) -> Outcome:
    env = {"PATH": os.environ.get("PATH", ""), "HOME": tempfile.gettempdir(),
           "KUBECONFIG": "/nonexistent", "ENABLE_NATIVE_SIDECARS": native}
    files = ["--injectConfigFile", str(config["template"]), "--valuesFile", str(config["values"]),
             "--meshConfigFile", str(config["mesh"]), "-f", str(path)]
    theirs = run([str(istioctl), "kube-inject", "-r", "default", *files], env)
    ours = run([str(KUBECTL_INJECT), *files], env)
    name = str(path.relative_to(path.parents[1])) if corpus == "samples" else path.name
    if corpus == "fields-untagged" and ours.code == 0:
        notices = [ln for ln in ours.stderr.splitlines() if ln.startswith(UNTAGGED_NOTICE)]
        if len(notices) != 1:
            return Outcome(corpus, name, native, "differ", [f"kubectl inject printed {len(notices)} release "
                                                            f"notices, not one: {ours.stderr.strip()!r}"])
    if theirs.code == 0 and ours.code == 0 and theirs.stdout == ours.stdout:
        return Outcome(corpus, name, native, "equal")
    if theirs.code != 0 and ours.code != 0:
        return Outcome(corpus, name, native, "both-fail",
                       [f"istioctl: {last_line(theirs.stderr)}", f"kubectl inject: {last_line(ours.stderr)}"])
    if theirs.code != 0 or ours.code != 0:
        return Outcome(corpus, name, native, "differ",
                       [f"istioctl exit {theirs.code}: {last_line(theirs.stderr) or 'ok'}",
                        f"kubectl inject exit {ours.code}: {last_line(ours.stderr) or 'ok'}"])
    return Outcome(corpus, name, native, "differ", field_diff(ours.stdout, theirs.stdout, limit))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="kubectl inject vs istioctl kube-inject, file by file")
    ap.add_argument("--istioctl", required=True, type=Path)
    ap.add_argument("--release", default="1.30.4", help="built-in config of this release (builtin/RELEASE)")
    ap.add_argument("--corpus", default="fields,real-world,samples,golden")
    ap.add_argument("--native", default="false,true", help="ENABLE_NATIVE_SIDECARS values to run with")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--json", type=Path, help="write every outcome here")
    ap.add_argument("--show", type=int, default=12, help="diff lines shown per file")
    args = ap.parse_args(argv)

    if not args.istioctl.is_file():
        print(f"parity: no istioctl at {args.istioctl} (make istioctl-path builds it)", file=sys.stderr)
        return 2
    if not KUBECTL_INJECT.is_file():
        print(f"parity: no {KUBECTL_INJECT} (make install)", file=sys.stderr)
        return 2
    config_dir = BUILTIN / args.release
    config = {k: config_dir / f"{k}.yaml" for k in ("template", "values", "mesh")}
    if not all(p.is_file() for p in config.values()):
        print(f"parity: no built-in config for {args.release} in {BUILTIN}", file=sys.stderr)
        return 2

    version = run([str(args.istioctl), "version", "--remote=false"], dict(os.environ))
    print(f"parity: kubectl inject vs {last_line(version.stdout)} (istioctl), config builtin/{args.release}")
    scratch = tempfile.TemporaryDirectory(prefix="parity-")
    configs = {"": config, "fields-untagged": untagged_config(config, Path(scratch.name))}
    jobs = []
    for corpus in args.corpus.split(","):
        files = corpus_files(corpus, args.istioctl)
        if not files:
            print(f"parity: corpus {corpus}: no files here (skipped)")
        jobs += [(corpus, f, n) for n in args.native.split(",") for f in files]
        if corpus == "fields":
            jobs += [("fields-untagged", f, n) for n in args.native.split(",") for f in files]

    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        outcomes = list(pool.map(lambda j: compare(*j, args.istioctl, configs.get(j[0], config), args.show),
                                 jobs))
    scratch.cleanup()

    for o in outcomes:
        if o.verdict == "differ":
            print(f"\nDIFFER {o.corpus}/{o.file} (ENABLE_NATIVE_SIDECARS={o.native})")
            for line in o.details:
                print(f"    {line}")
    print()
    for corpus in dict.fromkeys(o.corpus for o in outcomes):
        for native in args.native.split(","):
            group = [o for o in outcomes if o.corpus == corpus and o.native == native]
            counts = {v: sum(o.verdict == v for o in group) for v in ("equal", "both-fail", "differ")}
            print(f"parity {args.release} {corpus:<10} native={native:<5}: {len(group)} files, "
                  f"{counts['equal']} equal, {counts['both-fail']} both-fail, {counts['differ']} differ")
    print(f"parity: {len(outcomes)} runs in {time.monotonic() - started:.0f}s")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps([asdict(o) for o in outcomes], indent=1) + "\n")
    return 1 if any(o.verdict == "differ" for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
