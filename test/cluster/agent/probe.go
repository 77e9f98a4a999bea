package main

// Probes and lifecycle hooks, run for real against the pod's address or inside its namespace.

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

var probeHTTPClient = &http.Client{
	Transport: &http.Transport{
		TLSClientConfig:   &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // probes skip verification, as the kubelet's do
		DisableKeepAlives: true,
		Proxy:             nil,
	},
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

type probeTarget struct {
	podIP     string
	sandbox   string
	container v1.Container
	env       []string
}

func resolvePort(port intstr.IntOrString, c v1.Container) (int, error) {
	if port.Type == intstr.Int {
		return port.IntValue(), nil
	}
	for _, p := range c.Ports {
		if p.Name == port.StrVal {
			return int(p.ContainerPort), nil
		}
	}
	if n, err := strconv.Atoi(port.StrVal); err == nil {
		return n, nil
	}
	return 0, fmt.Errorf("port %q is not a named container port of %s", port.StrVal, c.Name)
}

// probeAddress is where an httpGet or tcpSocket probe connects: the action's host (the pod's
// IP when empty) and its port, resolved against the container's named ports.
func probeAddress(port intstr.IntOrString, host string, t probeTarget) (string, error) {
	n, err := resolvePort(port, t.container)
	if err != nil {
		return "", err
	}
	if host == "" {
		host = t.podIP
	}
	return net.JoinHostPort(host, strconv.Itoa(n)), nil
}

func runHTTPGet(ctx context.Context, action *v1.HTTPGetAction, t probeTarget) error {
	address, err := probeAddress(action.Port, action.Host, t)
	if err != nil {
		return err
	}
	scheme := strings.ToLower(string(action.Scheme))
	if scheme == "" {
		scheme = "http"
	}
	path := action.Path
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	url := fmt.Sprintf("%s://%s%s", scheme, address, path)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("User-Agent", "kube-probe/1.35")
	for _, h := range action.HTTPHeaders {
		if strings.EqualFold(h.Name, "host") {
			req.Host = h.Value
		} else {
			req.Header.Add(h.Name, h.Value)
		}
	}
	resp, err := probeHTTPClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.CopyN(io.Discard, resp.Body, 10<<10)
	if resp.StatusCode < 200 || resp.StatusCode >= 400 {
		return fmt.Errorf("HTTP probe failed with statuscode: %d", resp.StatusCode)
	}
	return nil
}

func runTCP(ctx context.Context, action *v1.TCPSocketAction, t probeTarget) error {
	address, err := probeAddress(action.Port, action.Host, t)
	if err != nil {
		return err
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", address)
	if err != nil {
		return err
	}
	return conn.Close()
}

func runExec(ctx context.Context, command []string, t probeTarget) error {
	if len(command) == 0 {
		return fmt.Errorf("exec action has no command")
	}
	name, args := command[0], command[1:]
	if t.sandbox != "" {
		name, args = "ip", append([]string{"netns", "exec", t.sandbox}, command...)
	}
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = t.env
	out, err := cmd.CombinedOutput()
	if err != nil {
		msg := strings.TrimSpace(string(out))
		if len(msg) > 200 {
			msg = msg[:200]
		}
		return fmt.Errorf("command %q failed: %v %s", strings.Join(command, " "), err, msg)
	}
	return nil
}

func runProbeOnce(ctx context.Context, p *v1.Probe, t probeTarget) error {
	timeout := time.Duration(p.TimeoutSeconds) * time.Second
	if timeout <= 0 {
		timeout = time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	switch {
	case p.HTTPGet != nil:
		return runHTTPGet(ctx, p.HTTPGet, t)
	case p.TCPSocket != nil:
		return runTCP(ctx, p.TCPSocket, t)
	case p.Exec != nil:
		return runExec(ctx, p.Exec.Command, t)
	case p.GRPC != nil:
		// No gRPC health client here; a TCP connect is the closest honest check.
		return runTCP(ctx, &v1.TCPSocketAction{Port: intstr.FromInt32(p.GRPC.Port)}, t)
	}
	return fmt.Errorf("probe has no handler")
}

func runHandler(ctx context.Context, h *v1.LifecycleHandler, t probeTarget) error {
	switch {
	case h.Exec != nil:
		return runExec(ctx, h.Exec.Command, t)
	case h.HTTPGet != nil:
		return runHTTPGet(ctx, h.HTTPGet, t)
	case h.TCPSocket != nil:
		return runTCP(ctx, h.TCPSocket, t)
	case h.Sleep != nil:
		select {
		case <-time.After(time.Duration(h.Sleep.Seconds) * time.Second):
		case <-ctx.Done():
		}
		return nil
	}
	return nil
}

// probeLoop runs a probe at its period and reports each result after applying thresholds:
// onChange(true) after successThreshold successes, onChange(false) after failureThreshold failures.
func probeLoop(ctx context.Context, p *v1.Probe, t probeTarget, started time.Time, onResult func(ok bool, err error)) {
	period := time.Duration(p.PeriodSeconds) * time.Second
	if period <= 0 {
		period = 10 * time.Second
	}
	success := int(p.SuccessThreshold)
	if success <= 0 {
		success = 1
	}
	failure := int(p.FailureThreshold)
	if failure <= 0 {
		failure = 3
	}
	delay := time.Until(started.Add(time.Duration(p.InitialDelaySeconds) * time.Second))
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return
		}
	}
	successes, failures := 0, 0
	ticker := time.NewTicker(period)
	defer ticker.Stop()
	for {
		err := runProbeOnce(ctx, p, t)
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			successes++
			failures = 0
			if successes >= success {
				onResult(true, nil)
			}
		} else {
			failures++
			successes = 0
			if failures >= failure {
				onResult(false, err)
			}
		}
		select {
		case <-ticker.C:
		case <-ctx.Done():
			return
		}
	}
}
