"""Istio's mesh and proxy config validation (pkg/config/validation/agent, Istio 1.22):
ValidateMeshConfig and ValidateMeshConfigProxyConfig, and inject's validateProxyConfig for
the proxy.istio.io/config annotation. Errors are Go error values: None, a str, or a
go-multierror Multi, whose str() is the text Istio prints.
"""
from __future__ import annotations

import re

from .. import lazy_regex
from ..gostd.strconv import quote
from ..gostd.time import format_duration
from ..gotypes.protojson import duration_nanos
from .defaults import PROXY_TYPE, profile_for
from .errors import GoError, append, append_validation, prefix
from .protomarshal import apply_yaml


def validate_proxy_config_annotation(value: str, version: str | None = None) -> str | None:
    """inject's validateProxyConfig for the annotation: None when valid, else the error text
    that goes into "invalid value '...' for annotation 'proxy.istio.io/config': <text>"."""
    profile = profile_for(version)
    pc = profile.default_proxy_config()
    try:
        apply_yaml(PROXY_TYPE, pc, value)
    except GoError as err:
        return f"failed to convert to apply proxy config: {err}"
    err = validate_proxy_config(pc)
    return None if err is None else str(err)


# Go's "$" (no (?m)) matches only at the end of the text; Python's also before a final "\n",
# which would let "svc\n" pass as a label: hence "\Z".
_DNS1123_LABEL = lazy_regex.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?\Z")
_WILDCARD_LABEL = lazy_regex.compile(r"^(\*|(\*|\*-)?[a-z0-9]([-a-z0-9]*[a-z0-9])?)\Z")


def _is_dns1123_label(value: str) -> bool:
    return len(value) <= 63 and bool(_DNS1123_LABEL.match(value))


def _validate_port(port: int):
    if 1 <= port <= 65535:
        return None
    return f"port number {port} must be in the range 1..65535"


def _bad_label(domain: str) -> str | None:
    """The first label of domain that is not a DNS-1123 label (a trailing dot is allowed)."""
    parts = domain.split(".")
    for index, label in enumerate(parts):
        if index == len(parts) - 1 and label == "":
            return None
        if not _is_dns1123_label(label):
            return label
    return None


def _validate_dns1123_labels(domain: str):
    top = domain.split(".")[-1]
    if re.fullmatch(r"[+-]?\d+", top):
        return f"domain name {quote(domain)} invalid (top level domain {quote(top)} cannot be all-numeric)"
    bad = _bad_label(domain)
    if bad is not None:
        return f"domain name {quote(domain)} invalid (label {quote(bad)} invalid)"
    return None


def _domain_size_error(domain: str):
    if len(domain) > 255:
        return f"domain name {quote(domain)} too long (max 255)"
    if not domain:
        return "empty domain name not allowed"
    return None


def _validate_fqdn(fqdn: str):
    return _domain_size_error(fqdn) or _validate_dns1123_labels(fqdn)


def _split_host_port(hostport: str):
    """net.SplitHostPort, raising GoError with its message."""
    def fail(why):
        raise GoError(f"address {hostport}: {why}")
    i = hostport.rfind(":")
    if i < 0:
        fail("missing port in address")
    if hostport.startswith("["):
        end = hostport.find("]")
        if end < 0:
            fail("missing ']' in address")
        if end + 1 == len(hostport):
            fail("missing port in address")
        if end + 1 != i:
            if hostport[end + 1] == ":":
                fail("too many colons in address")
            fail("missing port in address")
        host = hostport[1:end]
        if "[" in hostport[1:] or "]" in hostport[end + 1:]:
            fail("unexpected '[' in address" if "[" in hostport[1:] else "unexpected ']' in address")
    else:
        host = hostport[:i]
        if ":" in host:
            fail("too many colons in address")
        if "[" in host:
            fail("unexpected '[' in address")
        if "]" in host:
            fail("unexpected ']' in address")
    return host, hostport[i + 1:]


def _is_ip(text: str) -> bool:
    import ipaddress  # lazy: only this check needs it (start-up time)
    try:
        ipaddress.ip_address(text)
        return True
    except ValueError:
        return False


def _validate_proxy_address(host_addr: str):
    try:
        host, port = _split_host_port(host_addr)
    except GoError as err:
        return f"unable to split {quote(host_addr)}: {err}"
    if not re.fullmatch(r"[+-]?\d+", port):
        return f"port ({port}) is not a number: strconv.Atoi: parsing {quote(port)}: invalid syntax"
    err = _validate_port(int(port))
    if err:
        return err
    if _validate_fqdn(host) and not _is_ip(host):
        return f"{quote(host)} is not a valid hostname or an IP address"
    return None


def _duration_error(text: str | None):
    nanos = duration_nanos(text) or 0
    if nanos < 10**6:
        return "duration must be greater than 1ms"
    if nanos % 10**6:
        return "only durations to ms precision are supported"
    return None


def _validate_drain_duration(text: str | None):
    errs = None
    err = _duration_error(text)
    if err:
        errs = append(errs, prefix(err, "invalid drain duration:"))
        return errs
    if (duration_nanos(text) or 0) % 10**9:
        errs = append(errs, "drain time only supports durations to seconds precision")
    return errs


def _validate_tls(settings: dict):
    errs = None
    mode = settings.get("mode", "DISABLE")
    credential = settings.get("credentialName", "")
    if settings.get("insecureSkipVerify"):
        if mode == "SIMPLE" and (settings.get("caCertificates") or credential or "subjectAltNames" in settings):
            errs = append_validation(errs, "cannot specify CaCertificates or CredentialName or SubjectAltNames "
                                            "when InsecureSkipVerify is set true")
        if mode == "MUTUAL" and (settings.get("caCertificates") or "subjectAltNames" in settings):
            errs = append_validation(errs, "cannot specify CaCertificates or SubjectAltNames when "
                                            "InsecureSkipVerify is set true")
    if mode in ("SIMPLE", "MUTUAL") and credential:
        if settings.get("clientCertificate") or settings.get("caCertificates") or settings.get("privateKey") \
                or settings.get("caCrl"):
            errs = append_validation(errs, "cannot specify client certificates or CA certificate or CA CRL "
                                            "If credentialName is set")
        return errs
    if mode == "MUTUAL":
        if not settings.get("clientCertificate"):
            errs = append_validation(errs, "client certificate required for mutual tls")
        if not settings.get("privateKey"):
            errs = append_validation(errs, "private key required for mutual tls")
    return errs


def _validate_private_key_provider(pkp: dict):
    provider = next((pkp[name] for name in ("cryptomb", "qat") if name in pkp), None)
    if provider is None:
        return append(None, "private key provider configuration is required", "unknown private key provider")
    delay = provider.get("pollDelay")
    if delay is None:
        return append(None, "pollDelay is required")
    if duration_nanos(delay) == 0:
        return append(None, "pollDelay must be non zero")
    return None


def _with(errs, err, context: str):
    """multierror.Append(errs, multierror.Prefix(err, context)) when err is not nil."""
    return errs if err is None else append(errs, prefix(err, context))


def validate_proxy_config(pc: dict):
    """agent.ValidateMeshConfigProxyConfig: None or a Go error value (str or Multi)."""
    errs = None
    if not pc.get("configPath"):
        errs = append(errs, "config path must be set")
    if not pc.get("binaryPath"):
        errs = append(errs, "binary path must be set")
    if "serviceCluster" in pc:
        if not pc["serviceCluster"]:
            errs = append(errs, "service cluster must be specified")
    elif "tracingServiceName" not in pc:
        errs = append(errs, "oneof service cluster or tracing service name must be specified")
    drain = _validate_drain_duration(pc.get("drainDuration"))
    if drain is not None:
        errs = append(errs, drain)
    address = pc.get("discoveryAddress", "")
    if not address:
        errs = append(errs, "discovery address must be set to the proxy discovery service")
    else:
        errs = _with(errs, _validate_proxy_address(address), "invalid discovery address:")
    tracing = pc.get("tracing") or {}
    if "lightstep" in tracing:
        ls = tracing["lightstep"]
        lerrs = None
        if not ls.get("address"):
            lerrs = append(lerrs, "address is required")
        lerrs = _with(lerrs, _validate_proxy_address(ls.get("address", "")), "invalid lightstep address:")
        if not ls.get("accessToken"):
            lerrs = append(lerrs, "access token is required")
        errs = _with(errs, lerrs, "invalid lightstep config:")
    for tracer in ("zipkin", "datadog"):
        if tracer in tracing:
            address = tracing[tracer].get("address", "").replace("$(HOST_IP)", "127.0.0.1", 1)
            errs = _with(errs, _validate_proxy_address(address), f"invalid {tracer} config:")
    if "tlsSettings" in tracing:
        errs = _with(errs, _validate_tls(tracing["tlsSettings"]), "invalid tracing TLS config:")
    for what, address in (
            ("statsd udp address", pc.get("statsdUdpAddress", "")),
            ("envoy metrics service address", pc.get("envoyMetricsServiceAddress", "")),
            ("envoy metrics service address", (pc.get("envoyMetricsService") or {}).get("address", "")),
            ("envoy access log service address", (pc.get("envoyAccessLogService") or {}).get("address", ""))):
        if address:
            errs = _with(errs, _validate_proxy_address(address), f"invalid {what} {quote(address)}:")
    errs = _with(errs, _validate_port(pc.get("proxyAdminPort", 0)), "invalid proxy admin port:")
    policy = pc.get("controlPlaneAuthPolicy", "NONE")
    if policy not in ("NONE", "MUTUAL_TLS"):
        errs = _with(errs, f"unrecognized control plane auth policy {quote(str(policy))}",
                     "invalid authentication policy:")
    errs = _with(errs, _validate_port(pc.get("statusPort", 0)), "invalid status port:")
    if "privateKeyProvider" in pc:
        errs = _with(errs, _validate_private_key_provider(pc["privateKeyProvider"]),
                     "invalid private key provider configuration:")
    return errs


def _validate_localities(localities: list):
    seen: dict = {}
    for locality in localities:
        stars = locality.count("*")
        if stars and (stars > 1 or not locality.endswith("*")):
            return f"locality {locality} wildcard '*' number can not exceed 1 and must be in the end"
        if "*" in seen:
            return f"locality {locality} overlap with previous specified ones"
        items = locality.split("/", 2)
        if any(item == "" for item in items):
            return f"locality {locality} must not contain empty region/zone/subzone info"
        region = items[0]
        zone = items[1] if len(items) > 1 else ""
        sub = items[2] if len(items) > 2 else ""
        overlap = f"locality {locality} overlap with previous specified ones"
        if len(items) == 1:
            if region in seen:
                return overlap
            seen[region] = {"*": {"*": True}}
        elif len(items) == 2:
            zones = seen.get(region)
            if zones is not None:
                if "*" in zones or zone in zones:
                    return overlap
                zones[zone] = {"*": True}
            else:
                seen[region] = {zone: {"*": True}}
        else:
            zones = seen.get(region)
            if zones is not None:
                if "*" in zones:
                    return overlap
                if zone in zones:
                    if zones[zone].get("*") or zones[zone].get(sub):
                        return overlap
                    zones[zone][sub] = True
                else:
                    zones[zone] = {sub: True}
            else:
                seen[region] = {zone: {sub: True}}
    return None


def _validate_locality_lb(lb: dict | None):
    if not lb:
        return None
    errs = None
    distribute = lb.get("distribute", [])
    failover = lb.get("failover", [])
    if distribute and failover:
        return "can not simultaneously specify 'distribute' and 'failover'"
    if failover and lb.get("failoverPriority"):
        for label in lb["failoverPriority"]:
            if label in ("topology.kubernetes.io/region", "topology.kubernetes.io/zone", "topology.istio.io/subzone"):
                return f"can not simultaneously set 'failover' and topology label '{label}' in 'failover_priority'"
    sources = []
    for item in distribute:
        sources.append(item.get("from", ""))
        total = 0
        for weight in (item.get("to") or {}).values():
            if weight <= 0 or weight > 100:
                return append_validation(errs, "locality weight must be in range [1, 100]")
            total += weight
        if total != 100:
            return append_validation(errs, f"total locality weight {total} != 100")
        errs = append_validation(errs, _validate_localities(list((item.get("to") or {}).keys())))
    errs = append_validation(errs, _validate_localities(sources))
    for item in failover:
        src, dst = item.get("from", ""), item.get("to", "")
        if src == dst:
            errs = append_validation(errs, "locality lb failover settings must specify different regions")
        if "/" in src or "/" in dst:
            errs = append_validation(errs, "locality lb failover only specify region")
        if "*" in src or "*" in dst:
            errs = append_validation(errs, "locality lb failover region should not contain '*' wildcard")
    return errs


def _validate_wildcard_domain(domain: str):
    err = _domain_size_error(domain)
    if err:
        return err
    first, _, rest = domain.partition(".")
    if not (len(first) <= 63 and _WILDCARD_LABEL.match(first)):
        return f"domain name {quote(domain)} invalid (label {quote(first)} invalid)"
    if "." in domain:
        return _validate_dns1123_labels(rest)
    return None


def _validate_trust_domain(domain: str):
    if not domain:
        return "empty domain name not allowed"
    if _bad_label(domain) is not None:
        return f"trust domain name {quote(domain)} invalid"
    return None


def validate_mesh_config(mesh: dict):
    """agent.ValidateMeshConfig: None or the Go error value (warnings are not errors)."""
    v = None
    err = _validate_port(mesh.get("proxyListenPort", 0))
    if err:
        v = append_validation(v, prefix(err, "invalid proxy listen port:"))
    timeout = mesh.get("connectTimeout")
    err = _duration_error(timeout)
    if err is None:
        nanos = duration_nanos(timeout) or 0
        if nanos > 3600 * 10**9 or nanos < 10**6:
            err = (f"time {format_duration(nanos)} must be >1ms and <1h0m0s")
    if err:
        v = append_validation(v, prefix(err, "invalid connect timeout:"))
    detection = duration_nanos(mesh.get("protocolDetectionTimeout")) or 0
    if detection and detection % 10**6:
        v = append_validation(v, prefix("only durations to ms precision are supported",
                                          "invalid protocol detection timeout:"))
    if mesh.get("defaultConfig") is None:
        v = append_validation(v, "missing default config")
    else:
        v = append_validation(v, validate_proxy_config(mesh["defaultConfig"]))
    v = append_validation(v, _validate_locality_lb(mesh.get("localityLbSetting")))
    service_errs = None
    for index, setting in enumerate(mesh.get("serviceSettings", [])):
        for host in setting.get("hosts", []):
            err = _validate_wildcard_domain(host)
            if err:
                service_errs = append(service_errs, f"serviceSettings[{index}], host `{host}`: {err}")
    v = append_validation(v, service_errs)
    trust_errs = None
    err = _validate_trust_domain(mesh.get("trustDomain", ""))
    if err:
        trust_errs = append(trust_errs, f"trustDomain: {err}")
    for index, alias in enumerate(mesh.get("trustDomainAliases", [])):
        err = _validate_trust_domain(alias)
        if err:
            trust_errs = append(trust_errs, f"trustDomainAliases[{index}], domain `{alias}` : {err}")
    v = append_validation(v, trust_errs)
    if "ecdhCurves" in (mesh.get("meshMTLS") or {}):
        v = append_validation(v, append(None, "mesh TLS does not support ECDH curves configuration"))
    return v

