"""Credential plugins (a kubeconfig's user.exec), run as kubectl runs them, and the deadline of
the cluster look-up that bounds them and every other wait of kubeapi.

A plugin's output is read as it comes, with a size cap; the plugin runs in a process group of its
own (unless it may need the terminal) and is killed at the look-up's deadline, and whatever is
still running when the command ends is killed by stop_children() (cli calls it on every way out,
SIGINT and SIGTERM included): a plugin that hangs never outlives the command.
"""
from __future__ import annotations

import json
import os
import sys

from .errors import MiB, InjectError, size_text

# A credential plugin prints one ExecCredential (a token or a certificate and key).
MAX_CREDENTIAL_OUTPUT_BYTES = 16 * MiB
# The longest single wait handed to a socket or a thread (Python refuses more than ~292 years):
# --timeout 1e10 means "no practical bound", not an OverflowError.
MAX_WAIT = 1e9


class CredentialError(InjectError):
    """The credential plugin (user.exec) failed; the message is the plugin's failure."""


class LookupTimeout(OSError):
    """The deadline of the look-up passed in the middle of a request or a credential plugin."""


def remaining(deadline: float | None) -> float | None:
    """Seconds left until deadline (a time.monotonic() value), at most MAX_WAIT; LookupTimeout
    when none is left. None without a deadline."""
    if deadline is None:
        return None
    import time  # (built into the interpreter)
    left = deadline - time.monotonic()
    if left <= 0:
        raise LookupTimeout("the look-up's deadline (--timeout) has passed")
    return min(left, MAX_WAIT)


def run_exec_plugin(spec: dict, base: str, cluster: dict, deadline: float | None = None) -> dict:
    """Run a user.exec credential plugin; its ExecCredential status. CredentialError on failure,
    with the `kubernetes` client's words for each failure; LookupTimeout at the deadline."""
    if not isinstance(spec, dict):
        raise CredentialError("exec: malformed request. user.exec is not a mapping")
    for key in ("command", "apiVersion"):
        if key not in spec:
            raise CredentialError(f"exec: malformed request. missing key {key!r}")
    args = spec.get("args") or []
    if not isinstance(spec["command"], str) or not isinstance(args, list) or \
            not all(isinstance(arg, str) for arg in args):
        raise CredentialError("exec: malformed request. command and args must be strings")
    argv = [spec["command"], *args]
    env = dict(os.environ)
    for item in spec.get("env") or []:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str) or \
                not isinstance(item.get("value"), str):
            raise CredentialError("exec: malformed request. each env entry needs a string name and value")
        env[item["name"]] = item["value"]
    interactive = hasattr(sys.stdout, "isatty") and sys.stdout.isatty()
    info = {"apiVersion": spec["apiVersion"], "kind": "ExecCredential", "spec": {"interactive": interactive}}
    if spec.get("provideClusterInfo"):
        info["spec"]["cluster"] = dict(cluster)
        for extension in cluster.get("extensions") or []:
            if isinstance(extension, dict) and extension.get("name") == "client.authentication.k8s.io/exec":
                info["spec"]["cluster"]["config"] = extension.get("extension")
                break
    env["KUBERNETES_EXEC_INFO"] = json.dumps(info, default=str)
    returncode, stdout, stderr = _run_plugin(argv, base, env, interactive, deadline)
    if returncode != 0:
        message = f"exec: process returned {returncode}"
        if stderr.strip():
            message += f". {stderr.strip()}"
        raise CredentialError(message)
    try:
        data = json.loads(stdout)
    except ValueError as err:
        raise CredentialError(f"exec: failed to decode process output: {err}") from None
    if not isinstance(data, dict):
        raise CredentialError("exec: malformed response: not an ExecCredential object")
    for key in ("apiVersion", "kind", "status"):
        if key not in data:
            raise CredentialError(f"exec: malformed response. missing key {key!r}")
    if data["apiVersion"] != spec["apiVersion"]:
        raise CredentialError(f"exec: plugin api version {data['apiVersion']} does not match {spec['apiVersion']}")
    status = data["status"] or {}
    if not isinstance(status, dict):
        raise CredentialError("exec: malformed response. status is not an object")
    if "token" not in status and "clientCertificateData" not in status:
        raise CredentialError("exec: missing token or clientCertificateData field in plugin output")
    if "token" not in status and "clientKeyData" not in status:
        raise CredentialError("exec: missing clientKeyData field in plugin output")
    for key in ("token", "clientCertificateData", "clientKeyData"):
        if key in status and not isinstance(status[key], str):
            raise CredentialError(f"exec: malformed response. status.{key} is not a string")
    return status


# Credential plugins still running: stop_children() ends them (the deadline passed, the command
# ends, a signal).
_CHILDREN: set = set()


def _run_plugin(argv, base, env, interactive, deadline):
    """(exit code, stdout text, stderr text) of the plugin. Its output is read as it comes, at most
    MAX_CREDENTIAL_OUTPUT_BYTES of stdout (and of stderr, whose first 64 KiB are kept); at the
    deadline it is killed (LookupTimeout).

    A non-interactive plugin runs in a session and process group of its own, so that it and
    whatever it started can be killed together. An interactive one (our stdout is a terminal: it
    may ask for a password) keeps our process group, the terminal's foreground one, or it could
    not read the terminal; it alone is killed."""
    import subprocess  # lazy: only kubeconfigs with a credential plugin need it
    import selectors  # lazy: idem
    try:
        process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=None if interactive else subprocess.PIPE,
                                   stdin=None if interactive else subprocess.DEVNULL, cwd=base or None,
                                   env=env, start_new_session=not interactive)
    except (OSError, ValueError) as err:  # ValueError: a NUL in an argument or the environment
        raise CredentialError(str(err)) from None
    process.own_group = not interactive
    _CHILDREN.add(process)
    try:
        out, err = bytearray(), bytearray()
        with selectors.DefaultSelector() as selector:
            selector.register(process.stdout, selectors.EVENT_READ, out)
            if process.stderr is not None:
                selector.register(process.stderr, selectors.EVENT_READ, err)
            while selector.get_map():
                for key, _ in selector.select(remaining(deadline)):
                    block = os.read(key.fd, 65536)
                    if not block:
                        selector.unregister(key.fileobj)
                        continue
                    key.data.extend(block)
                    if len(out) > MAX_CREDENTIAL_OUTPUT_BYTES or len(err) > MAX_CREDENTIAL_OUTPUT_BYTES:
                        raise CredentialError(f"exec: the plugin's output is larger than "
                                              f"{size_text(MAX_CREDENTIAL_OUTPUT_BYTES)}")
                remaining(deadline)  # LookupTimeout once the deadline has passed
        returncode = process.wait(remaining(deadline))
    except subprocess.TimeoutExpired:
        raise LookupTimeout("the credential plugin did not finish before the deadline") from None
    finally:
        _stop(process)
    return returncode, out.decode("utf-8", "replace"), err[:65536].decode("utf-8", "replace")


def _stop(process) -> None:
    """End a plugin (and, in its own session, everything it started) unless it has exited."""
    import signal  # lazy: only credential plugins need it
    _CHILDREN.discard(process)
    for stream in (process.stdout, process.stderr):
        if stream is not None:
            stream.close()
    if process.poll() is not None:
        return
    try:
        if process.own_group:
            os.killpg(process.pid, signal.SIGKILL)
        else:
            process.kill()
    except OSError:
        pass
    try:
        process.wait(5)
    except Exception:  # noqa: BLE001 - a process that will not die is the kernel's to reap
        pass


def stop_children() -> None:
    """Kill every credential plugin still running (the deadline passed, or the command ends)."""
    for process in list(_CHILDREN):
        _stop(process)
