"""Where the injector configuration comes from: files, the cluster, or a built-in default.

Each of the three pieces (templates, values, mesh) is taken from its file when given on the
command line; the rest come from the cluster's ConfigMaps; with no cluster at all (no
kubeconfig) or with --offline, from the built-in default for --istio-version.
"""
from __future__ import annotations

import os
import sys

from .cluster_config import ClusterTarget, NoKubeconfig, describe_context, istiod_image, read_cluster_config
from .errors import MiB, InjectError, read_bounded, size_text
from .releases import default_builtin, profile_for, release_evidence, template_digest

BUILTIN_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "builtin")
DEFAULT_ISTIO_VERSION = default_builtin()
PIECES = (("config", "--injectConfigFile", "template.yaml"),
          ("values", "--valuesFile", "values.yaml"),
          ("mesh", "--meshConfigFile", "mesh.yaml"))


class ConfigTexts:
    """The three config texts of a run and where each came from. (Plain classes here and in the
    modules every run loads, not dataclasses: importing dataclasses costs start-up time.)"""

    def __init__(self, texts: dict, origins: dict | None = None, notice: str = "",
                 from_cluster: bool = False):
        self.texts = texts                                  # config / values / mesh -> text
        self.origins = {} if origins is None else origins   # piece -> where it came from
        self.notice = notice                # one line for stderr (built-in default in use)
        self.from_cluster = from_cluster    # some piece came from the cluster


def builtin_versions() -> list:
    if not os.path.isdir(BUILTIN_DIR):
        return []
    return sorted(v for v in os.listdir(BUILTIN_DIR) if os.path.isdir(os.path.join(BUILTIN_DIR, v)))


def builtin_texts(version: str) -> dict:
    directory = os.path.join(BUILTIN_DIR, version)
    if not os.path.isdir(directory):
        raise InjectError(f"no built-in injector config for Istio {version}; "
                          f"available: {', '.join(builtin_versions()) or 'none'}")
    texts = {}
    for piece, _, filename in PIECES:
        with open(os.path.join(directory, filename), encoding="utf-8") as handle:
            texts[piece] = handle.read()
    return texts


# The inputs of one run together (every -f and stdin; each config file on its own) are held in
# memory whole: at most this much (docs/hardening.md). 100 MiB of Deployments is the largest input
# measured (docs/benchmarks-scale.md, 218 MiB of memory); an endless one (/dev/zero, a runaway
# pipe) is refused once it passes the cap instead of growing until the kernel kills the process.
MAX_INPUT_BYTES = 256 * MiB


class InputBudget:
    """What is left of MAX_INPUT_BYTES for the run's next input."""

    def __init__(self, limit: int = MAX_INPUT_BYTES):
        self.left = limit
        self.limit = limit

    def take(self, data) -> None:
        self.left -= len(data)


def decode_input(data, what: str) -> str:
    """Input bytes as the text the YAML front end reads: UTF-8 (as kubectl and go-yaml read
    manifests, whatever the locale), line ends made "\n" as Python's text files make them."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise InjectError(f"cannot read {what}: not UTF-8 text") from None
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def read_file(path: str, what: str, budget: InputBudget | None = None) -> str:
    def read(budget, name):
        with open(path, "rb", buffering=0) as handle:
            return read_bounded(handle, budget.left, name)
    return _read_input(read, f"{what} {path!r}", budget)


def read_stdin(budget: InputBudget | None = None) -> str:
    """-f -: standard input's bytes (never the locale's decoding of them)."""
    name = "standard input (-f -)"
    stream = sys.stdin
    if stream is None:  # fd 0 was closed when the process started
        raise InjectError(f"cannot read {name}: it is closed")
    return _read_input(lambda budget, name: read_bounded(getattr(stream, "buffer", None) or _TextAsBytes(stream),
                                                         budget.left, name), name, budget)


def _read_input(read, name: str, budget: InputBudget | None) -> str:
    """read(budget, name)'s bytes within the inputs' budget, decoded as kubectl decodes them; a
    read error or the cap is one InjectError naming the input."""
    budget = budget or InputBudget()
    try:
        data = read(budget, name)
    except OSError as err:
        raise InjectError(f"cannot read {name}: {err.strerror or err}") from None
    except InjectError as err:
        raise _over_budget(err, budget, name) from None
    budget.take(data)
    return decode_input(data, name)


def _over_budget(err: InjectError, budget: InputBudget, name: str) -> InjectError:
    """The cap's error, worded for all the inputs together when earlier ones used part of it."""
    if budget.left == budget.limit:
        return err
    return InjectError(f"the inputs together are larger than {size_text(budget.limit)} at {name} "
                       f"(kubectl inject reads at most {size_text(budget.limit)} of input)")


class _TextAsBytes:
    """A text stream without a byte buffer (tests replace sys.stdin with a StringIO) read as
    UTF-8 bytes."""

    def __init__(self, stream):
        self.stream = stream

    def read(self, size: int) -> bytes:
        return self.stream.read(size).encode("utf-8", "surrogateescape")


def resolve(files: dict, target: ClusterTarget, offline: bool, istio_version: str | None) -> ConfigTexts:
    """files: piece -> path or None."""
    texts, origins = {}, {}
    for piece, flag, _ in PIECES:
        if files.get(piece):
            texts[piece] = read_file(files[piece], f"{flag} file")
            origins[piece] = f"file {files[piece]}"
    missing = [piece for piece, _, _ in PIECES if piece not in texts]
    if not missing:
        return ConfigTexts(texts, origins)

    version = istio_version or DEFAULT_ISTIO_VERSION
    if offline or istio_version:
        return _from_builtin(texts, origins, missing, version, reason="")
    try:
        cluster = cluster_texts(target, texts, origins)
    except NoKubeconfig:
        if target.explicit:
            raise
        return _from_builtin(texts, origins, missing, version,
                             reason="no cluster or config files given; ")
    where = f"cluster ({describe_context(target)}), namespace {target.namespace}"
    for piece in missing:
        texts[piece] = cluster[piece]
        name = target.mesh_configmap() if piece == "mesh" else target.injector_configmap()
        origins[piece] = f"{where}, ConfigMap {name} key {piece!r}"
    return ConfigTexts(texts, origins, from_cluster=True)


def cluster_texts(target: ClusterTarget, given: dict | None = None, origins: dict | None = None) -> dict:
    """The cluster's config texts (read_cluster_config) for the control plane the release in use
    reads when no -r/--revision is given.

    Which ConfigMaps to read depends on the release (Istio 1.28+ follows the default revision
    tag, older releases read the unrevisioned control plane), and the release is known only once
    a configuration is read. So: the default tag first (one GET); when it names a revision, that
    revision's ConfigMaps, and the release of that configuration (releases.release_evidence, with
    the pieces given as files, `given`) decides. A release that follows the tag keeps them; an
    older one reads the unrevisioned ConfigMaps instead (two GETs more), whatever their own
    release. Without a tag, the unrevisioned ones at once, as before."""
    return _follow_release(target, read_cluster_config(target, follow_default_tag=True), given, origins)


def _follow_release(target: ClusterTarget, cluster: dict, given: dict | None = None,
                    origins: dict | None = None) -> dict:
    """cluster_texts' second half: keep the default tag's revision if the release follows it,
    else the unrevisioned control plane's texts."""
    if not target.from_default_tag:
        return cluster
    given, origins = given or {}, origins or {}
    combined = {piece: given.get(piece, cluster[piece]) for piece, _, _ in PIECES}
    evidence = _release_of(target, combined, origins.get("values") or (
        f"cluster ({describe_context(target)}), namespace {target.namespace}, "
        f"ConfigMap {target.injector_configmap()} key 'values'"))
    if profile_for(evidence.release).resolves_default_revision:
        target.revision_source += f"; istioctl {evidence.name} follows the default tag (Istio 1.28+)"
        return cluster
    tag = target.revision
    target.use_revision("", f"no -r/--revision; the default revision tag points at {tag}, but istioctl "
                            f"{evidence.name} (from {evidence.source}) reads the unrevisioned control plane "
                            "without -r (Istio 1.28+ follows the tag)")
    return read_cluster_config(target)


def _release_of(target: ClusterTarget, texts: dict, values_source: str):
    """The release of a configuration read from the cluster (evidence_for's order; the template
    is parsed and fingerprinted only when nothing states the release)."""
    from .load_config import parse_values, sidecar_template  # lazy: only when a default tag was found
    values = parse_values(texts["values"], source=values_source)
    return _evidence(target, None, values, lambda: sidecar_template(texts["config"]))


def _from_builtin(texts, origins, missing, version, reason) -> ConfigTexts:
    builtin = builtin_texts(version)
    for piece in missing:
        texts[piece] = builtin[piece]
        origins[piece] = f"built-in default for Istio {version}"
    notice = (f"kubectl inject: {reason}using the built-in injector config of Istio {version} "
              "(other sources: a cluster with Istio via --kubeconfig/--context, or "
              "--injectConfigFile/--valuesFile/--meshConfigFile)")
    return ConfigTexts(texts, origins, notice)


def builtin_sidecar_digests() -> dict:
    """{digest of its sidecar template: release} of every built-in config: a configuration that
    states no release but carries one of these templates is that release's."""
    import yaml  # lazy: only a configuration that states no release is fingerprinted
    found = {}
    for version in builtin_versions():
        doc = yaml.load(builtin_texts(version)["config"], Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        template = ((doc.get("templates") or {}) if isinstance(doc, dict) else {}).get("sidecar")
        if isinstance(template, str):
            found[template_digest(template)] = version
    return found


def evidence_for(resolved: ConfigTexts, target: ClusterTarget, istio_version, values, sidecar_template):
    """The release to reproduce (releases.release_evidence) for a resolved configuration: in
    cluster mode with the injector ConfigMap's labels and istiod's image as evidence too."""
    return _evidence(target if resolved.from_cluster else None, istio_version, values, sidecar_template)


def _evidence(cluster: ClusterTarget | None, istio_version, values, sidecar_template):
    """releases.release_evidence with what this module knows: the cluster's labels and istiod's
    image when the configuration was read from `cluster`, the built-in configs' templates."""
    return release_evidence(istio_version,
                            labels=cluster.injector_labels if cluster else None,
                            istiod_image=(lambda: istiod_image(cluster)) if cluster else None,
                            values=values, sidecar_template=sidecar_template,
                            builtin_templates=builtin_sidecar_digests)
