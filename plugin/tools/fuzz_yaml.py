#!/usr/bin/env python3
"""Byte-level mutation fuzzer for the YAML front end of kubectl inject (issues 14 and 22).

Each input is a seed manifest with a few random byte mutations (flip, insert, delete, duplicate a
span, splice in YAML punctuation, anchors, aliases, separators, control and multi-byte
characters). It goes through what the pipeline runs on untrusted text before any injection:
goyaml.split_documents, then goyaml.load_document on every chunk, then inject.decode (the typed
round trip of Pods and workloads) and goyaml.dump of what it decoded. The contract checked for
every input:

* the only exception is the pipeline's own (goyaml.YAMLError or InjectError): anything else would
  be an "internal error" for the user;
* an error message is one line once printed (InjectError.one_line) and has no raw control
  character after terminal_safe;
* no input takes longer than --slow seconds (an alias bomb or a quadratic path would).

    .venv/bin/python plugin/tools/fuzz_yaml.py --seconds 300 --seed 1 [--json build/fuzz.json]

Prints the number of inputs tried and the violations (each with its seed and index, so it can be
reproduced with --replay SEED:INDEX). Exit code 1 when there is any violation.
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import random
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "plugin"))

from kubectl_inject import goyaml  # noqa: E402
from kubectl_inject.config_source import decode_input  # noqa: E402
from kubectl_inject.errors import InjectError, terminal_safe  # noqa: E402
from kubectl_inject.inject import decode  # noqa: E402

SHARED = os.path.normpath(os.path.join(ROOT, "..", "shared"))

BUILTIN_SEEDS = [
    b"apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  annotations:\n    a: &x b\n    c: *x\n"
    b"spec:\n  containers:\n  - name: web\n    image: nginx\n    ports: [{containerPort: 80}]\n",
    b"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  template:\n    metadata:\n"
    b"      labels: {app: d}\n    spec:\n      containers:\n      - {name: d, image: i, args: [\"a\", 'b']}\n",
    b"apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: a}\n"
    b"  spec: {containers: [{name: a, image: b}]}\n---\napiVersion: v1\nkind: ConfigMap\n"
    b"data: {k: |\n    text\n  }\n",
    b"a: &a [1, 2, {b: *a}]\n<<: {c: !!binary aGVsbG8=}\nd: 0x1F\ne: .inf\nf: 2001-12-14t21:59:43.10-05:00\n",
]

# Fragments spliced in: YAML's structure characters and the inputs that reached odd paths before.
TOKENS = [b"---", b"--- x", b"...", b"&a ", b"*a", b"<<: ", b"!!binary ", b"!!str ", b"? ", b"- ",
          b": ", b"{", b"}", b"[", b"]", b"'", b'"', b"|", b">", b"#", b"%YAML 1.1\n", b"\t", b"\r\n",
          b"\x00", b"\x1b[31m", b"\xc2\x9b", b"\xef\xbb\xbf", b"\xe2\x80\xae", b"\xff", b"\\u0000",
          b"kind: Pod\n", b"kind: List\nitems:\n- ", b"spec:\n  containers: ", b"name: istio-proxy",
          b"1e400", b".nan", b"0o17", b"~", b"null", b"true", b"sidecar.istio.io/proxyCPU: ",
          b"\n  ", b"\n", b"[[[[[[[[", b"]]]]]]]]",
          # issue 22: integers beyond Python's 4,300-digit limit, kinds that are not strings
          b"9" * 5000, b"-" + b"7" * 4400, b"0x" + b"f" * 4400, b"0b" + b"1" * 4400, b"1" * 4400 + b".5",
          b"kind: 5\n", b"kind: [Pod]\n", b"kind: {a: 1}\n", b"kind: true\n", b"kind:\n"]


def seeds() -> list:
    found = list(BUILTIN_SEEDS)
    paths = sorted(glob.glob(os.path.join(SHARED, "istio-golden", "1.22.0", "inject", "*.yaml")))
    for path in paths[:80]:
        with open(path, "rb") as handle:
            data = handle.read()
        if len(data) < 20000:
            found.append(data)
    return found


def mutate(rng: random.Random, data: bytes) -> bytes:
    buf = bytearray(data)
    for _ in range(rng.choice((1, 1, 2, 3, 5, 8))):
        op = rng.randrange(6)
        pos = rng.randrange(len(buf) + 1) if buf else 0
        if op == 0 and buf:  # flip a byte
            buf[min(pos, len(buf) - 1)] = rng.randrange(256)
        elif op == 1:  # insert a token
            buf[pos:pos] = rng.choice(TOKENS)
        elif op == 2 and buf:  # delete a span
            del buf[pos:pos + rng.randrange(1, 16)]
        elif op == 3 and buf:  # duplicate a span elsewhere
            start = rng.randrange(len(buf))
            span = bytes(buf[start:start + rng.randrange(1, 64)])
            buf[pos:pos] = span
        elif op == 4:  # change indentation of a line
            line_start = buf.rfind(b"\n", 0, pos) + 1
            buf[line_start:line_start] = b" " * rng.randrange(1, 4)
        else:  # insert a random printable run
            buf[pos:pos] = bytes(rng.randrange(32, 127) for _ in range(rng.randrange(1, 6)))
    return bytes(buf)


def check(data: bytes, slow: float):
    """None, or a description of the violation."""
    started = time.monotonic()
    message = None
    try:
        text = decode_input(data, "input file 'fuzz.yaml'")  # as the command reads every input
    except InjectError:
        return None  # not UTF-8: the command's one error line, before the YAML front end
    try:
        for raw in goyaml.split_documents(text):
            try:
                obj = decode(raw, [], [])
                if obj is not None:
                    goyaml.dump(obj)  # the writer re-reads its JSON with go-yaml: it may refuse
            except InjectError as err:
                message = err.one_line()
            except goyaml.YAMLError as err:
                message = InjectError(str(err)).one_line()
    except goyaml.YAMLError as err:
        message = InjectError(str(err)).one_line()
    except RecursionError:
        return None if sys.getrecursionlimit() < 20000 else "RecursionError"
    except Exception as err:  # the violation this fuzzer looks for
        return f"{type(err).__name__}: {' '.join(str(err).split())[:200]}"
    elapsed = time.monotonic() - started
    if elapsed > slow:
        return f"slow: {elapsed:.2f} s"
    if message is not None:
        if "\n" in message or terminal_safe(message) != message:
            return f"message not one safe line: {message[:200]!r}"
    return None


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="time budget (default 60)")
    parser.add_argument("--max", type=int, default=0, help="stop after this many inputs (0: no limit)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--slow", type=float, default=1.0, help="seconds one input may take")
    parser.add_argument("--json", help="write the summary here too")
    parser.add_argument("--replay", help="SEED:INDEX: print that input (repr) and its result")
    args = parser.parse_args(argv)
    # as cli.main does: the parser allows 1000 levels, later stages recurse per level; and no
    # limit on the digits of an integer (every range check looks at the length first)
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 20000))
    sys.set_int_max_str_digits(0)
    corpus = seeds()
    if args.replay:
        seed, index = (int(x) for x in args.replay.split(":"))
        rng = random.Random(seed)
        for i in range(index + 1):
            data = mutate(rng, rng.choice(corpus))
        print(repr(data))
        print(check(data, args.slow))
        return 0
    rng = random.Random(args.seed)
    deadline = time.monotonic() + args.seconds
    tried, violations = 0, []
    while time.monotonic() < deadline and (not args.max or tried < args.max):
        data = mutate(rng, rng.choice(corpus))
        problem = check(data, args.slow)
        if problem:
            violations.append({"input": f"{args.seed}:{tried}", "problem": problem})
            print(f"violation {args.seed}:{tried}: {problem}", flush=True)
        tried += 1
    summary = {"tried": tried, "violations": len(violations), "seed": args.seed,
               "seeds": len(corpus), "seconds": args.seconds, "examples": violations[:20]}
    print(f"fuzz_yaml: {tried} inputs tried, {len(violations)} violations (seed {args.seed}, "
          f"{len(corpus)} seed manifests)")
    if args.json:
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(summary, handle, indent=1)
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main())
