// lab-kindnet: a small node-network agent that fills kindnetd's role in the
// hermetic (offline) lab cluster, where the upstream kindnetd module cannot
// be fetched. It runs under kind's own kindnet DaemonSet manifest (hostNetwork,
// NET_ADMIN, /etc/cni/net.d mounted, env HOST_IP and POD_SUBNET) and:
//   - finds its node (the one whose InternalIP is HOST_IP) through the API,
//   - writes a CNI config using the reference plugins on the node (ptp +
//     host-local IPAM over the node's podCIDRs, portmap), with ipMasq so Pod
//     traffic leaving the node is masqueraded,
//   - routes every other node's podCIDRs via that node's InternalIP.
// Only the standard library is used, to keep the offline build small.
package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

const saDir = "/var/run/secrets/kubernetes.io/serviceaccount"

type nodeList struct {
	Items []struct {
		Metadata struct {
			Name string `json:"name"`
		} `json:"metadata"`
		Spec struct {
			PodCIDR  string   `json:"podCIDR"`
			PodCIDRs []string `json:"podCIDRs"`
		} `json:"spec"`
		Status struct {
			Addresses []struct {
				Type    string `json:"type"`
				Address string `json:"address"`
			} `json:"addresses"`
		} `json:"status"`
	} `json:"items"`
}

func apiClient() (*http.Client, string, error) {
	host, port := os.Getenv("KUBERNETES_SERVICE_HOST"), os.Getenv("KUBERNETES_SERVICE_PORT")
	if host == "" || port == "" {
		return nil, "", fmt.Errorf("not running in a cluster (KUBERNETES_SERVICE_HOST unset)")
	}
	ca, err := os.ReadFile(filepath.Join(saDir, "ca.crt"))
	if err != nil {
		return nil, "", err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	c := &http.Client{
		Timeout:   10 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}},
	}
	return c, "https://" + net.JoinHostPort(host, port), nil
}

func listNodes(c *http.Client, base string) (*nodeList, error) {
	// The token is re-read each time: projected tokens are rotated.
	tok, err := os.ReadFile(filepath.Join(saDir, "token"))
	if err != nil {
		return nil, err
	}
	req, _ := http.NewRequest("GET", base+"/api/v1/nodes", nil)
	req.Header.Set("Authorization", "Bearer "+string(bytes.TrimSpace(tok)))
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET nodes: %s", resp.Status)
	}
	var nl nodeList
	return &nl, json.NewDecoder(resp.Body).Decode(&nl)
}

func cniConfig(cidrs []string) ([]byte, error) {
	var ranges [][]map[string]string
	for _, c := range cidrs {
		ranges = append(ranges, []map[string]string{{"subnet": c}})
	}
	conf := map[string]any{
		"cniVersion": "0.4.0",
		"name":       "kindnet",
		"plugins": []any{
			map[string]any{
				"type":   "ptp",
				"ipMasq": true,
				"mtu":    1500,
				"ipam": map[string]any{
					"type":    "host-local",
					"dataDir": "/run/cni-ipam-state",
					"routes":  []map[string]string{{"dst": "0.0.0.0/0"}},
					"ranges":  ranges,
				},
			},
			map[string]any{"type": "portmap", "capabilities": map[string]bool{"portMappings": true}},
		},
	}
	return json.MarshalIndent(conf, "", "  ")
}

// writeIfChanged replaces path atomically, and only when the content differs,
// so the container runtime never reads a half-written config.
func writeIfChanged(path string, data []byte) (bool, error) {
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
		return false, nil
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return false, err
	}
	return true, os.Rename(tmp, path)
}

func sync(c *http.Client, base, hostIP, cniDir string) error {
	nl, err := listNodes(c, base)
	if err != nil {
		return err
	}
	for _, n := range nl.Items {
		cidrs := n.Spec.PodCIDRs
		if len(cidrs) == 0 && n.Spec.PodCIDR != "" {
			cidrs = []string{n.Spec.PodCIDR}
		}
		var ip string
		for _, a := range n.Status.Addresses {
			if a.Type == "InternalIP" {
				ip = a.Address
			}
		}
		if ip == hostIP {
			if len(cidrs) == 0 {
				return fmt.Errorf("node %s has no podCIDR yet", n.Metadata.Name)
			}
			data, err := cniConfig(cidrs)
			if err != nil {
				return err
			}
			changed, err := writeIfChanged(filepath.Join(cniDir, "10-kindnet.conflist"), data)
			if err != nil {
				return err
			}
			if changed {
				log.Printf("wrote CNI config for node %s, podCIDRs %v", n.Metadata.Name, cidrs)
			}
			continue
		}
		for _, cidr := range cidrs {
			if ip == "" {
				continue
			}
			if out, err := exec.Command("ip", "route", "replace", cidr, "via", ip).CombinedOutput(); err != nil {
				log.Printf("route %s via %s: %v: %s", cidr, ip, err, out)
			}
		}
	}
	return nil
}

func main() {
	hostIP := os.Getenv("HOST_IP")
	if hostIP == "" {
		log.Fatal("HOST_IP is not set")
	}
	cniDir := os.Getenv("CNI_CONFIG_DIR")
	if cniDir == "" {
		cniDir = "/etc/cni/net.d"
	}
	c, base, err := apiClient()
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("lab-kindnet: host %s, pod subnet %s", hostIP, os.Getenv("POD_SUBNET"))
	for {
		if err := sync(c, base, hostIP, cniDir); err != nil {
			log.Printf("sync: %v", err)
			time.Sleep(2 * time.Second)
			continue
		}
		time.Sleep(10 * time.Second)
	}
}
