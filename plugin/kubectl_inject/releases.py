"""Istio releases in one place: what differs between the istioctl releases we reproduce.

One :class:`ReleaseProfile` per Istio release line names the k8s.io/api version that release's
go.mod builds istioctl with (its Kubernetes type schema: ``gotypes.schema.for_k8s_api``), the key
of its mesh/ProxyConfig defaults in ``meshconfig.defaults.PROFILES``, the built-in injector
config shipped for it (if any), and every release-dependent behaviour as a named switch. The
release comes from the injector configuration in use (:func:`istio_release_of`, the image tag);
:func:`profile_for` picks the profile. No other module compares release numbers: a behaviour
that depends on the release reads its switch here.

A release with no profile (older than the first, newer than the last) is reproduced as the
nearest known one; :func:`unknown_release_notice` gives the one line the command prints then.
Which release a configuration is comes from evidence, in one order (:func:`release_evidence`):
--istio-version; the cluster's labels and istiod's image; the values' image tag; a known
sidecar template; else the newest profile. The last two print one notice line (Evidence.notice):
the release is never guessed silently.

Where each k8s.io/api version comes from (the Go module proxy reachable here answers 403 for every
``istio.io/istio`` release tag, ``1.22.0``, ``v1.22.0``...; it serves three pseudo-versions, one of
them the head of release-1.30, see lab_checks/hermetic/istio/versions.env):
  - 1.30: istio.io/istio@v0.0.0-20260826214018-9739e10eb9d7 (release-1.30 head, the hermetic
    build's 1.30.4): its go.mod, fetched from the proxy, requires k8s.io/api v0.35.3.
  - 1.22: v0.30.0, what plugin/tools/gotypes-schema was pinned to for Istio 1.22.0 (golden parity
    96/96 with it); istio.io/istio@1.22.0 itself: 403.
  - the others: istio.io/istio's go.mod not fetchable (403). istio.io/client-go vX.Y.0 is served
    and was read, but it lags istio.io/istio (client-go v1.22.0 requires k8s.io/api v0.29.0,
    v1.24.0 v0.30.0, v1.25.0-v1.28.0 v0.32.1, v1.29.0 v0.35.0), so it is a lower bound only. 1.24
    is v0.31 as seen in a real istioctl 1.24 (issue 10); 1.26 is v0.32 (istio/istio#56113, "Upgrade
    k8s.io packages to 0.33.0", was still open on 2025-04-28, after the 1.26 branch cut); 1.23,
    1.25, 1.27, 1.28 and 1.29 follow the Kubernetes release of their time (1.28 on v0.34, as the
    ObjectMeta `omitzero` change shows in istioctl 1.28). Unverified lines say so in
    ``k8s_api_source``; verify them against the release's go.mod before relying on their schema.
"""
from __future__ import annotations

import contextvars
import re
from collections import namedtuple

# Key of meshconfig.defaults.PROFILES that releases use unless they name their own. Istio's
# defaults did change between releases (1.22.0 dropped the default Zipkin tracer, issue 10): a
# release gets its own key once its defaults and mesh types are written down and verified. 1.30
# has one: the mesh types of istio.io/api v1.30 (gotypes/schema/mesh-v1.30.json).
MESH_DEFAULTS_1_22 = "1.22"


_PROFILE_FIELDS = (
    "release",                          # (major, minor): the release line
    "k8s_api",                          # k8s.io/api (and apimachinery) in the release's go.mod
    "k8s_api_source",                   # how k8s_api was found ("unverified: ..." when it was not)
    "mesh_defaults",                    # key of meshconfig.defaults.PROFILES
    # istio.io/api line of the release's go.mod: its mesh types (gotypes.schema.MESH_SCHEMA_FILES),
    # the same as the istio_api of its mesh defaults (a test checks)
    "istio_api",
    "builtin",                          # directory of builtin/ with this release's injector config
    # ENABLE_NATIVE_SIDECARS defaults to "auto" in istiod (native sidecars when every node's
    # kubelet is 1.33+) since Istio 1.27; "false" before.
    "native_sidecars_auto_by_default",
    # The Pod annotation sidecar.istio.io/nativeSidecar overrides the global native-sidecar
    # setting (istio/istio#53490, Istio 1.24); older releases ignore it.
    "native_sidecar_annotation",
    # First patch release of the line whose injector makes istio-init (`-u UID`) and
    # istio-validation follow the runAsUser/runAsGroup of a user-defined istio-proxy
    # (adjustInitContainerUser, istio/istio#51012: 1.23.0, and 1.22.1 by cherry-pick #51047).
    "init_user_from_proxy_since_patch",
    # First patch release of the line whose appendMultusNetwork reads the Istio CNI network's
    # "namespace/name" into a JSON-array `k8s.v1.cni.cncf.io/networks` annotation as
    # {"name": N, "namespace": NS} and matches an existing entry by both (istio/istio#55000:
    # 1.26.0, cherry-picked as 1.24.4 and 1.25.1); None: never (the whole text is the name).
    "multus_json_namespace_since_patch",
    # HTTP and TCP lifecycle hooks (postStart/preStop httpGet/tcpSocket) go through the agent
    # like probes when probe rewriting is on: /app-lifecycle/CONTAINER/{poststartz,prestopz} on
    # the status port and their entries in ISTIO_KUBE_APP_PROBERS (istio/istio#53654, 1.25).
    "rewrite_lifecycle_hooks",
    # istioctl is built with Go 1.24 or later, whose encoding/json names the embedded structs a
    # promoted field is reached through in its errors ("...Go struct field
    # FCVolumeSource.spec.volumes.VolumeSource.fc.lun"; Go 1.22: "...spec.volumes.fc.lun").
    # Seen in istioctl 1.30.4; Istio 1.26 is the first line on Go 1.24 (1.25: Go 1.23).
    "json_errors_name_embedded_structs",
    # Without -r/--revision, kube-inject asks the cluster for its default revision (istioctl's
    # cli.Context.RevisionOrDefault, Istio 1.28+: the istio.io/rev label of the
    # MutatingWebhookConfiguration istio-revision-tag-default, pkg/revisions/default_watcher.go)
    # and reads istio-sidecar-injector-REV and istio-REV; older releases read the unrevisioned ones.
    "resolves_default_revision",
    # The patch release reproduced (from the image tag); None: not known, taken as the line's .0.
    "patch",
)


class ReleaseProfile(namedtuple("ReleaseProfile", _PROFILE_FIELDS,
                                defaults=(MESH_DEFAULTS_1_22, "v1.22", None, False, False, 0, None,
                                          False, False, False, None))):
    """What istioctl kube-inject of one Istio release line does differently (immutable; a named
    tuple rather than a dataclass, whose import costs every run start-up time)."""

    __slots__ = ()

    @property
    def adjusts_init_container_user(self) -> bool:
        return (self.patch or 0) >= self.init_user_from_proxy_since_patch

    @property
    def multus_json_namespace(self) -> bool:
        since = self.multus_json_namespace_since_patch
        return since is not None and (self.patch or 0) >= since

    @property
    def name(self) -> str:
        return f"{self.release[0]}.{self.release[1]}"

    @property
    def k8s_api_line(self) -> str:
        """The k8s.io/api minor line ("v0.35"): the schema file the release's types are in."""
        return ".".join(self.k8s_api.split(".")[:2])


def _profile(minor: int, k8s_api: str, source: str, **switches) -> ReleaseProfile:
    return ReleaseProfile(release=(1, minor), k8s_api=k8s_api, k8s_api_source=source, **switches)


_UNVERIFIED = "unverified: istio.io/istio go.mod not served by the module proxy (403)"
_ANNOTATION = dict(native_sidecar_annotation=True)                                    # 1.24+
_HOOKS = dict(_ANNOTATION, rewrite_lifecycle_hooks=True)                              # 1.25+
_MULTUS = dict(_HOOKS, multus_json_namespace_since_patch=0,                          # 1.26+
               json_errors_name_embedded_structs=True)
_LATE = dict(_MULTUS, native_sidecars_auto_by_default=True)                           # 1.27+
_TAGS = dict(_LATE, resolves_default_revision=True)                                   # 1.28+

PROFILES = {p.release: p for p in (
    _profile(22, "v0.30.0", "gotypes-schema's pin for Istio 1.22.0; golden parity 96/96",
             builtin="1.22.0", init_user_from_proxy_since_patch=1),
    _profile(23, "v0.30.0", _UNVERIFIED + "; client-go v1.23.0: v0.30.0"),
    _profile(24, "v0.31.0", _UNVERIFIED + "; v0.31 seen in istioctl 1.24 (issue 10)",
             multus_json_namespace_since_patch=4, **_ANNOTATION),
    _profile(25, "v0.32.1", _UNVERIFIED + "; client-go v1.25.0: v0.32.1",
             multus_json_namespace_since_patch=1, **_HOOKS),
    _profile(26, "v0.32.1", _UNVERIFIED + "; client-go v1.26.0: v0.32.1; istio#56113 (0.33) open "
             "after the branch cut", **_MULTUS),
    _profile(27, "v0.33.0", _UNVERIFIED, **_LATE),
    _profile(28, "v0.34.0", _UNVERIFIED + "; ObjectMeta omitzero seen in istioctl 1.28", **_TAGS),
    _profile(29, "v0.35.0", _UNVERIFIED + "; client-go v1.29.0: v0.35.0", **_TAGS),
    _profile(30, "v0.35.3", "istio.io/istio@v0.0.0-20260826214018-9739e10eb9d7 (release-1.30) go.mod",
             builtin="1.30.4", mesh_defaults="1.30", istio_api="v1.30", **_TAGS),
)}
DEFAULT_RELEASE = (1, 22)


def parse_release(text) -> tuple | None:
    """(major, minor, patch) of a release name such as 1.30.4, v1.22.0 or 1.30.4-distroless;
    (major, minor, None) for 1.28; None when it is not one (latest, a commit...)."""
    match = re.match(r"^v?(\d+)\.(\d+)(?:\.(\d+))?(?:[-+].*)?$", str(text))
    if not match:
        return None
    patch = match.group(3)
    return int(match.group(1)), int(match.group(2)), None if patch is None else int(patch)


# --- which release a configuration is: the evidence, in order ---------------------------------------

# The labels an installed injector ConfigMap states its release in, most specific first: the
# operator's (istioctl install), then Helm's. Istio's chart in its own source tree says 1.0.0
# (a placeholder a release's chart replaces with its number), so that one states nothing.
RELEASE_LABELS = ("operator.istio.io/version", "app.kubernetes.io/version", "helm.sh/chart")
_PLACEHOLDER_CHART_RELEASE = (1, 0, 0)

# sha256 (first 16 hex digits) of the `sidecar` template of injector configs that an Istio
# release's own istioctl generated, for configurations that state no release (image tag
# `latest`, as in every release's test data, or a private build's tag): Istio 1.22.0's and
# 1.30.3's golden inputs (../shared/istio-golden), and the hermetic cluster's Istio 1.30.4. The
# built-in configs' templates are recognised too (Evidence.from_template reads them).
KNOWN_SIDECAR_TEMPLATES = {
    "70a5c30bf354eef2": "1.22.0",
    "3c0fedcfea11beb4": "1.30.3",
    "f83eb303216663a3": "1.30.4",
}


class Evidence(namedtuple("Evidence", ("release", "source", "stated"))):
    """The release a run reproduces, where it comes from (words for `config show`, --explain and
    the notice) and whether the configuration states it (a flag, a label, an image tag) or it was
    inferred (a known template, the newest profile: then the command prints a notice)."""

    __slots__ = ()

    @property
    def name(self) -> str:
        return ".".join(str(part) for part in self.release if part is not None)

    def notice(self, tag) -> str:
        """The one line for stderr when the release was inferred; "" when it was stated."""
        if self.stated:
            return ""
        found = f"image tag {tag!r}" if tag else "no image tag"
        return (f"kubectl inject: the injector config names no Istio release ({found}); reproducing "
                f"istioctl {self.name}, from {self.source}; --istio-version chooses another")


def release_of_label(name: str, value) -> tuple | None:
    """The release one of RELEASE_LABELS states (helm.sh/chart names the chart too:
    `istiod-1.30.4`), or None."""
    text = str(value or "")
    if name == "helm.sh/chart":
        match = re.search(r"-(v?\d+\.\d+\S*)$", text)
        text = match.group(1) if match else ""
    release = parse_release(text)
    if release is None or release == _PLACEHOLDER_CHART_RELEASE:
        return None
    return release


def release_of_image(image) -> tuple | None:
    """The release an image reference's tag names (`.../pilot:1.30.4-distroless`), or None."""
    reference = str(image or "").partition("@")[0]
    name, _, tag = reference.rpartition(":")
    if not name or "/" in tag:   # no tag (the colon was a registry's port)
        return None
    return parse_release(tag)


def template_digest(text: str) -> str:
    import hashlib  # lazy: only a configuration that states no release is fingerprinted
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def release_evidence(flag=None, labels=None, istiod_image=None, values=None, sidecar_template=None,
                     builtin_templates=None) -> Evidence:
    """The release to reproduce, from the evidence in this order: --istio-version; in cluster
    mode the injector ConfigMap's release labels, then istiod's image tag; the values' image tag;
    a sidecar template known to be a release's (KNOWN_SIDECAR_TEMPLATES, or a built-in config's:
    builtin_templates() gives {digest: release}, asked only then); else the newest profile.

    flag must already be a release (the command line refuses others); istiod_image may be a
    function, called only when the labels state no release (it asks the cluster); so may
    sidecar_template, called only when nothing before it states the release (it parses the config)."""
    if flag:
        return Evidence(parse_release(flag), "--istio-version", True)
    for name in RELEASE_LABELS:
        release = release_of_label(name, (labels or {}).get(name))
        if release:
            return Evidence(release, f"the injector ConfigMap's label {name}", True)
    image = istiod_image() if callable(istiod_image) else istiod_image
    release = release_of_image(image)
    if release:
        return Evidence(release, f"istiod's image {image}", True)
    release = istio_release_of(values) if values is not None else None
    if release:
        return Evidence(release, "the values' image tag (global.tag)", True)
    if callable(sidecar_template):
        sidecar_template = sidecar_template()
    if sidecar_template:
        digest = template_digest(sidecar_template)
        known = KNOWN_SIDECAR_TEMPLATES.get(digest) or (builtin_templates() if builtin_templates else {}).get(digest)
        if known:
            return Evidence(parse_release(known), f"its sidecar template, Istio {known}'s", False)
    newest = max(PROFILES)
    return Evidence(newest + (None,), f"the newest release profile ({newest[0]}.{newest[1]})", False)


def istio_release_of(values) -> tuple | None:
    """The Istio release an injector config belongs to, from its image tag (parse_release)."""
    return parse_release(values.get("global", "tag", default=""))


def _nearest(release: tuple) -> tuple:
    known = sorted(PROFILES)
    if release <= known[0]:
        return known[0]
    if release >= known[-1]:
        return known[-1]
    older = max(k for k in known if k < release)
    newer = min(k for k in known if k > release)
    # Between two known lines of the same major: the closer one, the older on a tie.
    return older if release[1] - older[1] <= newer[1] - release[1] else newer


def profile_for(release: tuple | None) -> ReleaseProfile:
    """The profile of a release (major, minor[, patch]); None: the default (the lab's Istio
    1.22); a release with no profile: the nearest known one. With a patch number, the profile
    carries it (switches that changed within a line read it)."""
    if release is None:
        return PROFILES[DEFAULT_RELEASE]
    line = PROFILES.get(tuple(release[:2])) or PROFILES[_nearest(tuple(release[:2]))]
    patch = release[2] if len(release) > 2 else None
    if patch is None or line.release != tuple(release[:2]):
        return line
    return line._replace(patch=patch)


def unknown_release_notice(release: tuple | None) -> str:
    """One line for stderr when the release has no profile of its own; "" otherwise."""
    if release is None or tuple(release[:2]) in PROFILES:
        return ""
    chosen = profile_for(release)
    known = sorted(PROFILES)
    return (f"kubectl inject: Istio {release[0]}.{release[1]} has no release profile "
            f"(known: {known[0][0]}.{known[0][1]} to {known[-1][0]}.{known[-1][1]}); "
            f"reproducing istioctl {chosen.name}, the nearest")


# The profile of the run in progress, for the few functions that are handed no settings (Istio's
# template functions, bound when the templates are parsed, before the release is known):
# inject puts the run's profile in force; a context variable, so concurrent runs each see theirs.
_in_force: contextvars.ContextVar = contextvars.ContextVar("release_in_force", default=None)


def in_force() -> ReleaseProfile:
    """The profile put in force by :func:`using`; the default profile outside any."""
    return _in_force.get() or PROFILES[DEFAULT_RELEASE]


class using:
    """``with releases.using(profile):`` the profile in force inside the block."""

    __slots__ = ("profile", "_token")

    def __init__(self, profile: ReleaseProfile):
        self.profile = profile

    def __enter__(self) -> ReleaseProfile:
        self._token = _in_force.set(self.profile)
        return self.profile

    def __exit__(self, *exc) -> None:
        _in_force.reset(self._token)


def default_builtin() -> str:
    """The built-in injector config used when none is named (--offline, no cluster)."""
    return PROFILES[DEFAULT_RELEASE].builtin
