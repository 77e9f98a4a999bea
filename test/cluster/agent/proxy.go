package main

// A small kube-proxy: every NodePort of every Service with endpoints listens on the bind
// address and each new TCP connection goes to the next ready endpoint of the Service's
// EndpointSlices, round robin. Changes take effect one sync delay after they are seen, like kube-proxy's
// minSyncPeriod; connections already open are left alone, as conntrack leaves them.

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	v1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	corelisters "k8s.io/client-go/listers/core/v1"
	discoverylisters "k8s.io/client-go/listers/discovery/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"
)

type backend struct {
	service   string // namespace/name:port
	endpoints []string
	next      atomic.Uint64
}

type nodePortListener struct {
	port     int32
	listener net.Listener
	current  atomic.Pointer[backend]
}

type proxier struct {
	bind      string
	syncDelay time.Duration
	services  corelisters.ServiceLister
	slices    discoverylisters.EndpointSliceLister

	mu        sync.Mutex
	listeners map[int32]*nodePortListener
	syncs     atomic.Uint64
	trigger   chan time.Time
}

func runProxy(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("proxy", flag.ExitOnError)
	kubeconfig := fs.String("kubeconfig", "", "kubeconfig of the proxy identity (system:kube-proxy)")
	bind := fs.String("bind-address", "127.0.0.1", "address NodePorts listen on")
	syncDelay := fs.Duration("sync-delay", time.Second, "delay between an EndpointSlice/Service change and acting on it")
	healthz := fs.String("healthz-address", "127.0.0.1:10256", "address of /healthz and /endpoints")
	addKlogFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	client, err := newClient(*kubeconfig, "adci-kube-proxy")
	if err != nil {
		return err
	}
	factory := informers.NewSharedInformerFactory(client, 0)
	p := &proxier{
		bind: *bind, syncDelay: *syncDelay,
		services:  factory.Core().V1().Services().Lister(),
		slices:    factory.Discovery().V1().EndpointSlices().Lister(),
		listeners: map[int32]*nodePortListener{},
		trigger:   make(chan time.Time, 1024),
	}
	handler := cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { p.changed() },
		UpdateFunc: func(any, any) { p.changed() },
		DeleteFunc: func(any) { p.changed() },
	}
	if _, err := factory.Core().V1().Services().Informer().AddEventHandler(handler); err != nil {
		return err
	}
	if _, err := factory.Discovery().V1().EndpointSlices().Informer().AddEventHandler(handler); err != nil {
		return err
	}
	factory.Start(ctx.Done())
	factory.WaitForCacheSync(ctx.Done())
	p.sync()
	go p.syncLoop(ctx)
	go p.serveStatus(ctx, *healthz)
	klog.InfoS("proxy running", "bind", *bind, "syncDelay", *syncDelay)
	<-ctx.Done()
	p.mu.Lock()
	for _, l := range p.listeners {
		_ = l.listener.Close()
	}
	p.mu.Unlock()
	return nil
}

func (p *proxier) changed() {
	select {
	case p.trigger <- time.Now():
	default:
	}
}

// syncLoop acts on a change syncDelay after it was seen. Changes seen while waiting join the
// same sync, so, like kube-proxy's minSyncPeriod, the proxy syncs at most once per delay.
func (p *proxier) syncLoop(ctx context.Context) {
	for {
		var seen time.Time
		select {
		case <-ctx.Done():
			return
		case seen = <-p.trigger:
		}
		if !sleepCtx(ctx, time.Until(seen.Add(p.syncDelay))) {
			return
		}
		for drained := false; !drained; {
			select {
			case <-p.trigger:
			default:
				drained = true
			}
		}
		p.sync()
	}
}

func (p *proxier) sync() {
	services, err := p.services.List(labels.Everything())
	if err != nil {
		klog.ErrorS(err, "list services")
		return
	}
	desired := map[int32]*backend{}
	for _, svc := range services {
		if svc.Spec.Type != v1.ServiceTypeNodePort && svc.Spec.Type != v1.ServiceTypeLoadBalancer {
			continue
		}
		slices, err := p.slices.EndpointSlices(svc.Namespace).List(labels.SelectorFromSet(labels.Set{discoveryv1.LabelServiceName: svc.Name}))
		if err != nil {
			continue
		}
		for _, sp := range svc.Spec.Ports {
			if sp.NodePort == 0 || (sp.Protocol != "" && sp.Protocol != v1.ProtocolTCP) {
				continue
			}
			desired[sp.NodePort] = &backend{
				service:   fmt.Sprintf("%s/%s:%s", svc.Namespace, svc.Name, sp.Name),
				endpoints: readyEndpoints(slices, sp.Name),
			}
		}
	}
	// With no endpoint to send to, the port is closed, so a client gets "connection refused"
	// as kube-proxy's REJECT rule gives; established connections are not affected.
	for port, b := range desired {
		if len(b.endpoints) == 0 {
			delete(desired, port)
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for port, l := range p.listeners {
		if _, ok := desired[port]; !ok {
			klog.InfoS("closing NodePort", "port", port)
			_ = l.listener.Close()
			delete(p.listeners, port)
		}
	}
	for port, b := range desired {
		l, ok := p.listeners[port]
		if !ok {
			ln, err := net.Listen("tcp", net.JoinHostPort(p.bind, strconv.Itoa(int(port))))
			if err != nil {
				klog.ErrorS(err, "listen on NodePort", "port", port, "service", b.service)
				continue
			}
			l = &nodePortListener{port: port, listener: ln}
			p.listeners[port] = l
			go l.serve()
			klog.InfoS("opened NodePort", "port", port, "service", b.service)
		}
		old := l.current.Load()
		if old != nil && old.service == b.service && equalStrings(old.endpoints, b.endpoints) {
			continue
		}
		if old != nil {
			b.next.Store(old.next.Load())
		}
		l.current.Store(b)
		klog.InfoS("endpoints updated", "port", port, "service", b.service, "endpoints", b.endpoints)
	}
	p.syncs.Add(1)
}

// readyEndpoints lists ip:port of ready endpoints; when none is ready, serving-terminating
// ones are used instead, as kube-proxy does.
func readyEndpoints(slices []*discoveryv1.EndpointSlice, portName string) []string {
	var ready, terminating []string
	seen := map[string]bool{}
	for _, slice := range slices {
		if slice.AddressType != discoveryv1.AddressTypeIPv4 {
			continue
		}
		var port int32
		found := false
		for _, ep := range slice.Ports {
			if ep.Port != nil && ((ep.Name == nil && portName == "") || (ep.Name != nil && *ep.Name == portName)) {
				port, found = *ep.Port, true
			}
		}
		if !found {
			continue
		}
		for _, ep := range slice.Endpoints {
			if len(ep.Addresses) == 0 {
				continue
			}
			addr := net.JoinHostPort(ep.Addresses[0], strconv.Itoa(int(port)))
			if seen[addr] {
				continue
			}
			seen[addr] = true
			isReady := ep.Conditions.Ready == nil || *ep.Conditions.Ready
			serving := ep.Conditions.Serving != nil && *ep.Conditions.Serving
			isTerminating := ep.Conditions.Terminating != nil && *ep.Conditions.Terminating
			switch {
			case isReady && !isTerminating:
				ready = append(ready, addr)
			case serving && isTerminating:
				terminating = append(terminating, addr)
			}
		}
	}
	sort.Strings(ready)
	sort.Strings(terminating)
	if len(ready) > 0 {
		return ready
	}
	return terminating
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func (l *nodePortListener) serve() {
	for {
		conn, err := l.listener.Accept()
		if err != nil {
			return
		}
		go l.forward(conn)
	}
}

func (l *nodePortListener) forward(client net.Conn) {
	b := l.current.Load()
	if b == nil || len(b.endpoints) == 0 {
		// No ready endpoint: refuse, as kube-proxy's REJECT rule does.
		if tcp, ok := client.(*net.TCPConn); ok {
			_ = tcp.SetLinger(0)
		}
		_ = client.Close()
		return
	}
	target := b.endpoints[int(b.next.Add(1)-1)%len(b.endpoints)]
	upstream, err := net.DialTimeout("tcp", target, 5*time.Second)
	if err != nil {
		klog.V(2).InfoS("endpoint unreachable", "endpoint", target, "err", err)
		if tcp, ok := client.(*net.TCPConn); ok {
			_ = tcp.SetLinger(0)
		}
		_ = client.Close()
		return
	}
	var wg sync.WaitGroup
	wg.Add(2)
	pipe := func(dst, src net.Conn) {
		defer wg.Done()
		_, _ = io.Copy(dst, src)
		if tcp, ok := dst.(*net.TCPConn); ok {
			_ = tcp.CloseWrite()
		} else {
			_ = dst.Close()
		}
	}
	go pipe(upstream, client)
	go pipe(client, upstream)
	wg.Wait()
	_ = upstream.Close()
	_ = client.Close()
}

func (p *proxier) serveStatus(ctx context.Context, address string) {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) })
	mux.HandleFunc("/endpoints", func(w http.ResponseWriter, _ *http.Request) {
		p.mu.Lock()
		out := map[string]any{"syncs": p.syncs.Load()}
		ports := map[string]any{}
		for port, l := range p.listeners {
			if b := l.current.Load(); b != nil {
				ports[strconv.Itoa(int(port))] = map[string]any{"service": b.service, "endpoints": b.endpoints}
			}
		}
		out["nodePorts"] = ports
		p.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(out)
	})
	srv := &http.Server{Addr: address, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	if err := srv.ListenAndServe(); err != nil && err != http.ErrServerClosed {
		klog.ErrorS(err, "status server", "address", address)
	}
}
