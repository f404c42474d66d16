"""`kubectl inject --explain` on the lab's nginx Pod (issue 5)."""
from __future__ import annotations

from inject_testkit import NGINX_POD


def test_explain_shows_the_lab_command_lines(run_inject, golden_config):
    result = run_inject("-f", "-", "--explain", *golden_config, stdin=NGINX_POD)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Pod mywebserver" in out
    assert ("runs: pilot-agent proxy sidecar --domain $(POD_NAMESPACE).svc.cluster.local "
            "--proxyLogLevel=warning --proxyComponentLogLevel=misc:error --log_output_level=default:info") in out
    assert ("runs: pilot-agent istio-iptables -p 15001 -z 15006 -u 1337 -m REDIRECT -i '*' -x \"\" -b '*' "
            "-d 15090,15021,15020 --log_output_level=default:info") in out
    assert ('long form: pilot-agent istio-iptables --envoy-port "15001" --inbound-capture-port "15006" '
            '--proxy-uid "1337" --istio-inbound-interception-mode REDIRECT --istio-service-cidr \'*\' '
            '--istio-service-exclude-cidr "" --istio-inbound-ports \'*\' '
            '--istio-local-exclude-ports "15090,15021,15020"') in out
    assert "volumes added: workload-socket" in out and "istio-token (projected)" in out
    assert "security.istio.io/tlsMode: istio" in out
    # Istio's golden config uses a test hub and tag: explain names them as deliberate choices.
    assert "image hub: gcr.io/istio-testing  <- values global.hub" in out
    assert "image tag: latest  <- values global.tag" in out
    assert "apiVersion:" not in out, "explain prints an explanation, not YAML"


def test_explain_with_the_builtin_default_has_no_choices(run_inject):
    result = run_inject("-f", "-", "--explain", "--offline", stdin=NGINX_POD)
    assert result.returncode == 0, result.stderr
    assert "every choice is Istio's default" in result.stdout
    assert "image docker.io/istio/proxyv2:1.22.0" in result.stdout


def test_explain_names_what_decided_a_choice(run_inject, golden_config):
    pod = NGINX_POD.replace("  labels:\n", "  annotations:\n    sidecar.istio.io/interceptionMode: TPROXY\n"
                                         "    traffic.sidecar.istio.io/excludeOutboundPorts: \"5432\"\n  labels:\n")
    result = run_inject("-f", "-", "--explain", *golden_config, stdin=pod)
    assert result.returncode == 0, result.stderr
    assert "interception mode (-m): TPROXY  <- annotation sidecar.istio.io/interceptionMode" in result.stdout
    assert "outbound ports excluded (-o): 5432  <- annotation traffic.sidecar.istio.io/excludeOutboundPorts" in result.stdout
    assert "-m TPROXY" in result.stdout and "-o 5432" in result.stdout
