// Command adci-node is the node side of the adci test cluster: a process kubelet that runs
// pod containers as local processes in per-pod network namespaces, and a small kube-proxy
// that serves NodePorts on 127.0.0.1.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: adci-node kubelet|proxy [flags]")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	var err error
	switch os.Args[1] {
	case "kubelet":
		err = runKubelet(ctx, os.Args[2:])
	case "proxy":
		err = runProxy(ctx, os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q (want kubelet or proxy)", os.Args[1])
	}
	if err != nil {
		klog.ErrorS(err, "adci-node failed")
		klog.Flush()
		os.Exit(1)
	}
	klog.Flush()
}

func newClient(kubeconfig, userAgent string) (kubernetes.Interface, error) {
	config, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("load kubeconfig %s: %w", kubeconfig, err)
	}
	config.UserAgent = userAgent
	config.QPS = 50
	config.Burst = 100
	return kubernetes.NewForConfig(config)
}

func addKlogFlags(fs *flag.FlagSet) {
	klog.InitFlags(fs)
}
