package main

// Pod sandboxes, as a bridge CNI plugin would make them: a network namespace per pod, a
// veth pair whose host end joins the node bridge, an address from the pod CIDR, and no
// default route, so a pod reaches only the node and other pods and nothing beyond.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"k8s.io/klog/v2"
)

// netnsPrefix starts the name of every pod sandbox of this node (--netns-prefix): each cluster on
// the machine has its own, and the kubelet removes stale sandboxes with its prefix only.
var netnsPrefix = "adci-pod-"

type network struct {
	bridge  string
	subnet  *net.IPNet
	gateway net.IP
	prefix  int

	mu        sync.Mutex
	allocated map[string]string // ip -> sandbox name
	last      int               // index of the address handed out last
}

func newNetwork(bridge, cidr string) (*network, error) {
	ip, subnet, err := net.ParseCIDR(cidr)
	if err != nil || ip.To4() == nil {
		return nil, fmt.Errorf("pod CIDR %q must be an IPv4 CIDR", cidr)
	}
	ones, _ := subnet.Mask.Size()
	gateway := nextIP(subnet.IP.To4())
	return &network{bridge: bridge, subnet: subnet, gateway: gateway, prefix: ones, allocated: map[string]string{}, last: -1}, nil
}

func nextIP(ip net.IP) net.IP {
	out := make(net.IP, len(ip))
	copy(out, ip)
	for i := len(out) - 1; i >= 0; i-- {
		out[i]++
		if out[i] != 0 {
			break
		}
	}
	return out
}

func runIP(args ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// ensureBridge creates the node bridge with the gateway address if it is missing.
func (n *network) ensureBridge() error {
	if _, err := net.InterfaceByName(n.bridge); err != nil {
		if err := runIP("link", "add", n.bridge, "type", "bridge"); err != nil {
			return err
		}
	}
	addr := fmt.Sprintf("%s/%d", n.gateway, n.prefix)
	iface, err := net.InterfaceByName(n.bridge)
	if err != nil {
		return err
	}
	addrs, _ := iface.Addrs()
	has := false
	for _, a := range addrs {
		if a.String() == addr {
			has = true
		}
	}
	if !has {
		if err := runIP("addr", "add", addr, "dev", n.bridge); err != nil {
			return err
		}
	}
	return runIP("link", "set", n.bridge, "up")
}

// cleanupStale removes sandboxes left behind by an earlier kubelet, killing what runs in them.
func (n *network) cleanupStale() {
	entries, _ := os.ReadDir("/run/netns")
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), netnsPrefix) {
			klog.InfoS("removing stale pod sandbox", "netns", e.Name())
			killNetnsProcesses(e.Name())
			_ = runIP("netns", "del", e.Name())
		}
	}
}

func sandboxName(uid string) string { return netnsPrefix + uid }

func hostVethName(uid string) string {
	sum := sha256.Sum256([]byte(uid))
	return "vadci" + hex.EncodeToString(sum[:])[:10]
}

func (n *network) allocate(sandbox string) (string, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for ip, owner := range n.allocated {
		if owner == sandbox {
			return ip, nil
		}
	}
	broadcast := make(net.IP, 4)
	base := n.subnet.IP.To4()
	for i := range base {
		broadcast[i] = base[i] | ^n.subnet.Mask[i]
	}
	// Round robin from the last address handed out, so a freed address is not reused at once
	// while EndpointSlices and the proxy may still point at the pod that had it.
	var candidates []net.IP
	for ip := nextIP(n.gateway); n.subnet.Contains(ip) && !ip.Equal(broadcast); ip = nextIP(ip) {
		candidates = append(candidates, ip)
	}
	for i := range candidates {
		ip := candidates[(n.last+1+i)%len(candidates)]
		if _, used := n.allocated[ip.String()]; !used {
			n.allocated[ip.String()] = sandbox
			n.last = (n.last + 1 + i) % len(candidates)
			return ip.String(), nil
		}
	}
	return "", fmt.Errorf("pod CIDR %s is exhausted", n.subnet)
}

func (n *network) release(sandbox string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for ip, owner := range n.allocated {
		if owner == sandbox {
			delete(n.allocated, ip)
		}
	}
}

// setup creates the pod's namespace and returns its IP.
func (n *network) setup(uid string) (string, error) {
	sandbox := sandboxName(uid)
	veth := hostVethName(uid)
	// A half-made sandbox from a failed attempt is removed first.
	if _, err := os.Stat("/run/netns/" + sandbox); err == nil {
		n.teardown(uid)
	}
	ip, err := n.allocate(sandbox)
	if err != nil {
		return "", err
	}
	steps := [][]string{
		{"netns", "add", sandbox},
		{"link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", sandbox},
		{"link", "set", veth, "master", n.bridge},
		{"link", "set", veth, "up"},
		{"-n", sandbox, "addr", "add", ip + "/" + strconv.Itoa(n.prefix), "dev", "eth0"},
		{"-n", sandbox, "link", "set", "eth0", "up"},
		{"-n", sandbox, "link", "set", "lo", "up"},
	}
	for _, step := range steps {
		if err := runIP(step...); err != nil {
			n.teardown(uid)
			return "", err
		}
	}
	return ip, nil
}

func (n *network) teardown(uid string) {
	sandbox := sandboxName(uid)
	killNetnsProcesses(sandbox)
	if _, err := os.Stat("/run/netns/" + sandbox); err == nil {
		if err := runIP("netns", "del", sandbox); err != nil {
			klog.ErrorS(err, "delete pod sandbox", "netns", sandbox)
		}
	}
	if _, err := net.InterfaceByName(hostVethName(uid)); err == nil {
		_ = runIP("link", "del", hostVethName(uid))
	}
	n.release(sandbox)
}

// killNetnsProcesses SIGKILLs anything still running in a sandbox, so nothing outlives its pod.
func killNetnsProcesses(sandbox string) {
	out, err := exec.Command("ip", "netns", "pids", sandbox).Output()
	if err != nil {
		return
	}
	for _, field := range strings.Fields(string(out)) {
		if pid, err := strconv.Atoi(field); err == nil && pid > 1 {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// checkNetnsPrefix refuses a prefix that is empty (the kubelet would remove every network
// namespace on the machine as stale) or not usable in a file name under /run/netns.
func checkNetnsPrefix(prefix string) error {
	if prefix == "" || strings.ContainsAny(prefix, "/ \t\n") || prefix == "." || prefix == ".." {
		return fmt.Errorf("--netns-prefix %q: want a non-empty name without '/' or spaces", prefix)
	}
	return nil
}
