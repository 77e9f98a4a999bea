package main

// The kubelet's HTTPS endpoint, enough for `kubectl logs`: the API server proxies
// /containerLogs requests here with its kubelet client certificate.

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"k8s.io/klog/v2"
)

const apiserverKubeletClientCN = "kube-apiserver-kubelet-client"

func (kl *kubelet) serveAPI(ctx context.Context, address, certFile, keyFile, caFile string) {
	caPEM, err := os.ReadFile(caFile)
	if err != nil {
		klog.ErrorS(err, "kubelet server: read client CA")
		return
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) })
	mux.HandleFunc("/containerLogs/", kl.handleContainerLogs)
	srv := &http.Server{
		Addr: address,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			// Only the API server (its kubelet client certificate, signed by the cluster CA) may read.
			if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 || r.TLS.PeerCertificates[0].Subject.CommonName != apiserverKubeletClientCN {
				http.Error(w, "Forbidden", http.StatusForbidden)
				return
			}
			mux.ServeHTTP(w, r)
		}),
		TLSConfig:         &tls.Config{ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS12},
		ReadHeaderTimeout: 10 * time.Second,
	}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	if err := srv.ListenAndServeTLS(certFile, keyFile); err != nil && err != http.ErrServerClosed {
		klog.ErrorS(err, "kubelet server", "address", address)
	}
}

func (kl *kubelet) findWorker(namespace, name string) *podWorker {
	kl.mu.Lock()
	defer kl.mu.Unlock()
	for _, w := range kl.workers {
		if w.ns == namespace && w.name == name {
			return w
		}
	}
	return nil
}

// handleContainerLogs serves /containerLogs/{namespace}/{pod}/{container}?previous&tailLines&limitBytes&follow.
func (kl *kubelet) handleContainerLogs(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/containerLogs/"), "/")
	if len(parts) != 3 {
		http.Error(w, "want /containerLogs/{namespace}/{pod}/{container}", http.StatusBadRequest)
		return
	}
	ns, podName, container := parts[0], parts[1], parts[2]
	worker := kl.findWorker(ns, podName)
	if worker == nil {
		http.Error(w, fmt.Sprintf("pod %s/%s is not running on this node", ns, podName), http.StatusNotFound)
		return
	}
	worker.mu.Lock()
	var cs *containerState
	for _, s := range append(append([]*containerState{}, worker.initStatuses...), worker.statuses...) {
		if s.name == container {
			cs = s
		}
	}
	restarts := int32(0)
	started := false
	if cs != nil {
		restarts = cs.restartCount
		started = cs.containerID != ""
	}
	uid := worker.uid
	worker.mu.Unlock()
	if cs == nil {
		http.Error(w, fmt.Sprintf("container %s is not valid for pod %s", container, podName), http.StatusBadRequest)
		return
	}
	q := r.URL.Query()
	previous := q.Get("previous") == "true"
	index := restarts
	if previous {
		if restarts == 0 {
			http.Error(w, fmt.Sprintf("previous terminated container %q in pod %q not found", container, podName), http.StatusBadRequest)
			return
		}
		index = restarts - 1
	}
	path := filepath.Join(kl.podLogDir, fmt.Sprintf("%s_%s_%s", ns, podName, uid), container, strconv.Itoa(int(index))+".log")
	f, err := os.Open(path)
	if err != nil {
		if !started {
			http.Error(w, fmt.Sprintf("container %q in pod %q is waiting to start", container, podName), http.StatusBadRequest)
			return
		}
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	defer f.Close()
	w.Header().Set("Content-Type", "text/plain")
	limit := int64(-1)
	if v, err := strconv.ParseInt(q.Get("limitBytes"), 10, 64); err == nil && v > 0 {
		limit = v
	}
	var out io.Writer = w
	if limit > 0 {
		out = &limitedWriter{w: w, n: limit}
	}
	if tail, err := strconv.Atoi(q.Get("tailLines")); err == nil && tail >= 0 {
		var lines []string
		scanner := bufio.NewScanner(f)
		scanner.Buffer(make([]byte, 64<<10), 1<<20)
		for scanner.Scan() {
			lines = append(lines, scanner.Text())
			if len(lines) > tail {
				lines = lines[1:]
			}
		}
		for _, l := range lines {
			_, _ = io.WriteString(out, l+"\n")
		}
	} else {
		_, _ = io.Copy(out, f)
	}
	if q.Get("follow") != "true" || previous {
		return
	}
	flusher, _ := w.(http.Flusher)
	if flusher != nil {
		flusher.Flush()
	}
	buf := make([]byte, 32<<10)
	for {
		n, _ := f.Read(buf)
		if n > 0 {
			if _, err := out.Write(buf[:n]); err != nil {
				return
			}
			if flusher != nil {
				flusher.Flush()
			}
			continue
		}
		select {
		case <-r.Context().Done():
			return
		case <-worker.done:
			return
		case <-time.After(200 * time.Millisecond):
		}
		worker.mu.Lock()
		restarted := cs.restartCount != restarts
		worker.mu.Unlock()
		if restarted {
			return
		}
	}
}

type limitedWriter struct {
	w io.Writer
	n int64
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.w.Write(p)
	l.n -= int64(n)
	return n, err
}
