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
No release at all (a tag such as ``latest`` or a commit, Istio's golden configs) is the default
profile, Istio 1.22, the lab's release, silently.

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

import re
from collections import namedtuple

# Key of meshconfig.defaults.PROFILES that every release uses today. Istio's defaults did change
# between releases (1.22.0 dropped the default Zipkin tracer, issue 10): a release gets its own
# key once its defaults are written down and verified.
MESH_DEFAULTS_1_22 = "1.22"


_PROFILE_FIELDS = (
    "release",                          # (major, minor): the release line
    "k8s_api",                          # k8s.io/api (and apimachinery) in the release's go.mod
    "k8s_api_source",                   # how k8s_api was found ("unverified: ..." when it was not)
    "mesh_defaults",                    # key of meshconfig.defaults.PROFILES
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
    # The patch release reproduced (from the image tag); None: not known, taken as the line's .0.
    "patch",
)


class ReleaseProfile(namedtuple("ReleaseProfile", _PROFILE_FIELDS,
                                defaults=(MESH_DEFAULTS_1_22, None, False, False, 0, None))):
    """What istioctl kube-inject of one Istio release line does differently (immutable; a named
    tuple rather than a dataclass, whose import costs every run start-up time)."""

    __slots__ = ()

    @property
    def adjusts_init_container_user(self) -> bool:
        return (self.patch or 0) >= self.init_user_from_proxy_since_patch

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
_LATE = dict(_ANNOTATION, native_sidecars_auto_by_default=True)                       # 1.27+

PROFILES = {p.release: p for p in (
    _profile(22, "v0.30.0", "gotypes-schema's pin for Istio 1.22.0; golden parity 96/96",
             builtin="1.22.0", init_user_from_proxy_since_patch=1),
    _profile(23, "v0.30.0", _UNVERIFIED + "; client-go v1.23.0: v0.30.0"),
    _profile(24, "v0.31.0", _UNVERIFIED + "; v0.31 seen in istioctl 1.24 (issue 10)", **_ANNOTATION),
    _profile(25, "v0.32.1", _UNVERIFIED + "; client-go v1.25.0: v0.32.1", **_ANNOTATION),
    _profile(26, "v0.32.1", _UNVERIFIED + "; client-go v1.26.0: v0.32.1; istio#56113 (0.33) open "
             "after the branch cut", **_ANNOTATION),
    _profile(27, "v0.33.0", _UNVERIFIED, **_LATE),
    _profile(28, "v0.34.0", _UNVERIFIED + "; ObjectMeta omitzero seen in istioctl 1.28", **_LATE),
    _profile(29, "v0.35.0", _UNVERIFIED + "; client-go v1.29.0: v0.35.0", **_LATE),
    _profile(30, "v0.35.3", "istio.io/istio@v0.0.0-20260826214018-9739e10eb9d7 (release-1.30) go.mod",
             builtin="1.30.4", **_LATE),
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


def default_builtin() -> str:
    """The built-in injector config used when none is named (--offline, no cluster)."""
    return PROFILES[DEFAULT_RELEASE].builtin
