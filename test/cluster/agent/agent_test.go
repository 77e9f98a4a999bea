package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	discoveryv1 "k8s.io/api/discovery/v1"
)

func TestResolveImage(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "images.yaml")
	map_ := "images:\n  - image: adci/echo\n    command: ['{node}', '{repo}/echo.ts']\n    args: ['--tag', '{tag}']\n    env: {ECHO_TAG: '{tag}'}\n"
	if err := os.WriteFile(path, []byte(map_), 0o644); err != nil {
		t.Fatal(err)
	}
	r := &imageResolver{path: path, vars: map[string]string{"repo": "/repo", "node": "/bin/node"}}
	for ref, tag := range map[string]string{
		"adci/echo:v1":                      "v1",
		"docker.io/adci/echo:v2":            "v2",
		"adci/echo":                         "latest",
		"adci/echo@sha256:0123456789abcdef": "sha256:0123456789abcdef",
	} {
		img, err := r.Resolve(ref)
		if err != nil {
			t.Fatalf("%s: %v", ref, err)
		}
		if img.Tag != tag || img.Env["ECHO_TAG"] != tag || img.Args[1] != tag {
			t.Errorf("%s: tag %q env %q args %v, want %q", ref, img.Tag, img.Env["ECHO_TAG"], img.Args, tag)
		}
		if strings.Join(img.Command, " ") != "/bin/node /repo/echo.ts" {
			t.Errorf("%s: command %v", ref, img.Command)
		}
	}
	if _, err := r.Resolve("adci/other:v1"); err == nil || !strings.Contains(err.Error(), "not in the image map") {
		t.Errorf("unknown image: got %v", err)
	}
	if _, err := r.Resolve("registry.example:5000/adci/echo:v1"); err == nil {
		t.Error("another registry's image must not match")
	}
}

func TestExpandEnvRefs(t *testing.T) {
	env := map[string]string{"A": "1", "B_C": "two"}
	cases := map[string]string{
		"$(A)-$(B_C)": "1-two",
		"$(MISSING)":  "$(MISSING)",
		"$$(A)":       "$(A)",
		"plain $A":    "plain $A",
		"x$(A)$(A)y":  "x11y",
	}
	for in, want := range cases {
		if got := expandEnvRefs(in, env); got != want {
			t.Errorf("expandEnvRefs(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestBackoff(t *testing.T) {
	if got := backoffFor(0, 10*time.Second); got != 10*time.Second {
		t.Errorf("attempt 0: %v", got)
	}
	if got := backoffFor(2, 10*time.Second); got != 40*time.Second {
		t.Errorf("attempt 2: %v", got)
	}
	if got := backoffFor(20, 10*time.Second); got != maxBackoff {
		t.Errorf("attempt 20: %v", got)
	}
}

func ptr[T any](v T) *T { return &v }

func TestReadyEndpoints(t *testing.T) {
	slice := &discoveryv1.EndpointSlice{
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Name: ptr("http"), Port: ptr(int32(8080))}},
		Endpoints: []discoveryv1.Endpoint{
			{Addresses: []string{"10.244.0.3"}, Conditions: discoveryv1.EndpointConditions{Ready: ptr(true)}},
			{Addresses: []string{"10.244.0.2"}, Conditions: discoveryv1.EndpointConditions{Ready: ptr(false)}},
			{Addresses: []string{"10.244.0.4"}, Conditions: discoveryv1.EndpointConditions{
				Ready: ptr(false), Serving: ptr(true), Terminating: ptr(true)}},
		},
	}
	got := readyEndpoints([]*discoveryv1.EndpointSlice{slice}, "http")
	if strings.Join(got, ",") != "10.244.0.3:8080" {
		t.Errorf("ready endpoints %v", got)
	}
	if got := readyEndpoints([]*discoveryv1.EndpointSlice{slice}, "metrics"); len(got) != 0 {
		t.Errorf("port without a match: %v", got)
	}
	slice.Endpoints[0].Conditions.Ready = ptr(false)
	got = readyEndpoints([]*discoveryv1.EndpointSlice{slice}, "http")
	if strings.Join(got, ",") != "10.244.0.4:8080" {
		t.Errorf("with no ready endpoint, serving-terminating ones are used: %v", got)
	}
}

func TestAllocateRoundRobin(t *testing.T) {
	n, err := newNetwork("adci-test0", "10.244.0.0/29")
	if err != nil {
		t.Fatal(err)
	}
	a, _ := n.allocate("a")
	b, _ := n.allocate("b")
	if a != "10.244.0.2" || b != "10.244.0.3" {
		t.Fatalf("first addresses %s %s", a, b)
	}
	n.release("a")
	c, _ := n.allocate("c")
	if c != "10.244.0.4" {
		t.Errorf("a freed address must not be reused at once; got %s", c)
	}
	for _, s := range []string{"d", "e", "f"} {
		if _, err := n.allocate(s); err != nil && s != "f" {
			t.Fatalf("%s: %v", s, err)
		}
	}
	if _, err := n.allocate("g"); err == nil {
		t.Error("a /29 has 5 pod addresses; the 6th allocation must fail")
	}
}

func TestNetnsPrefix(t *testing.T) {
	saved := netnsPrefix
	defer func() { netnsPrefix = saved }()
	if got := sandboxName("u1"); got != "adci-pod-u1" {
		t.Errorf("default sandbox name %q", got)
	}
	netnsPrefix = "adci.a.pod-"
	if got := sandboxName("u1"); got != "adci.a.pod-u1" {
		t.Errorf("named cluster's sandbox name %q", got)
	}
	for _, bad := range []string{"", "a/b", "a b", ".."} {
		if err := checkNetnsPrefix(bad); err == nil || !strings.Contains(err.Error(), "--netns-prefix") {
			t.Errorf("prefix %q: got %v", bad, err)
		}
	}
	if err := checkNetnsPrefix("adci.a.pod-"); err != nil {
		t.Error(err)
	}
}
