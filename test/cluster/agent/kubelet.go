package main

// The process kubelet: registers one Node, keeps it Ready with a Lease heartbeat, and runs
// the pods bound to it through pod workers.

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/klog/v2"
)

type kubelet struct {
	client         kubernetes.Interface
	nodeName       string
	nodeIP         string
	podCIDR        string
	kubeletVersion string
	network        *network
	images         *imageResolver
	podLister      corelisters.PodLister
	recorder       record.EventRecorder
	podLogDir      string
	defaultWorkDir string
	crashBackoff   time.Duration
	pullBackoff    time.Duration

	mu      sync.Mutex
	workers map[types.UID]*podWorker
}

func runKubelet(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("kubelet", flag.ExitOnError)
	kubeconfig := fs.String("kubeconfig", "", "kubeconfig of the node identity (system:node:<name>)")
	nodeName := fs.String("node-name", "adci-node", "Node object name")
	nodeIP := fs.String("node-ip", "127.0.0.1", "address reported as the node's InternalIP and pods' hostIP")
	podCIDR := fs.String("pod-cidr", "10.244.0.0/24", "pod address range; its first address is the bridge's")
	bridge := fs.String("bridge", "adci0", "node bridge the pod veths join")
	fs.StringVar(&netnsPrefix, "netns-prefix", netnsPrefix, "prefix of the pods' network namespace names (one per cluster on a machine)")
	imageMap := fs.String("image-map", "", "images.yaml mapping image references to commands")
	repoRoot := fs.String("repo-root", "", "value of {repo} in the image map and default working directory")
	nodeBin := fs.String("node-binary", "node", "value of {node} in the image map")
	logDir := fs.String("pod-log-dir", "/tmp/adci-cluster/pods", "directory for container logs")
	version := fs.String("kubelet-version", "v1.35.4", "version reported in the Node's nodeInfo")
	healthz := fs.String("healthz-address", "127.0.0.1:10248", "address of /healthz")
	serverAddress := fs.String("server-address", "127.0.0.1:10250", "HTTPS address for the API server (container logs)")
	tlsCert := fs.String("tls-cert-file", "", "serving certificate of the kubelet's HTTPS endpoint")
	tlsKey := fs.String("tls-private-key-file", "", "serving key of the kubelet's HTTPS endpoint")
	clientCA := fs.String("client-ca-file", "", "CA that signs the API server's kubelet client certificate")
	crashBackoff := fs.Duration("crash-backoff", 10*time.Second, "first CrashLoopBackOff delay (doubles up to 5m)")
	pullBackoff := fs.Duration("image-pull-backoff", 10*time.Second, "first ImagePullBackOff delay (doubles up to 5m)")
	addKlogFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *imageMap == "" {
		return fmt.Errorf("--image-map is required")
	}
	if err := checkNetnsPrefix(netnsPrefix); err != nil {
		return err
	}
	client, err := newClient(*kubeconfig, "adci-kubelet/"+*version)
	if err != nil {
		return err
	}
	netw, err := newNetwork(*bridge, *podCIDR)
	if err != nil {
		return err
	}
	if err := netw.ensureBridge(); err != nil {
		return err
	}
	netw.cleanupStale()

	broadcaster := record.NewBroadcaster(record.WithContext(ctx))
	broadcaster.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: client.CoreV1().Events("")})
	defer broadcaster.Shutdown()

	kl := &kubelet{
		client: client, nodeName: *nodeName, nodeIP: *nodeIP, podCIDR: *podCIDR, kubeletVersion: *version,
		network:        netw,
		images:         &imageResolver{path: *imageMap, vars: map[string]string{"repo": *repoRoot, "node": *nodeBin}},
		recorder:       broadcaster.NewRecorder(scheme.Scheme, v1.EventSource{Component: "kubelet", Host: *nodeName}),
		podLogDir:      *logDir,
		defaultWorkDir: *repoRoot,
		crashBackoff:   *crashBackoff,
		pullBackoff:    *pullBackoff,
		workers:        map[types.UID]*podWorker{},
	}
	if err := kl.registerNode(ctx); err != nil {
		return err
	}
	go kl.heartbeat(ctx)
	go serveHealthz(ctx, *healthz)
	if *tlsCert != "" && *tlsKey != "" && *clientCA != "" {
		go kl.serveAPI(ctx, *serverAddress, *tlsCert, *tlsKey, *clientCA)
	}

	factory := informers.NewSharedInformerFactoryWithOptions(client, 0, informers.WithTweakListOptions(func(o *metav1.ListOptions) {
		o.FieldSelector = fields.OneTermEqualSelector("spec.nodeName", *nodeName).String()
	}))
	podInformer := factory.Core().V1().Pods()
	kl.podLister = podInformer.Lister()
	_, err = podInformer.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { kl.podChanged(obj.(*v1.Pod)) },
		UpdateFunc: func(_, obj any) { kl.podChanged(obj.(*v1.Pod)) },
		DeleteFunc: func(obj any) {
			if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = tomb.Obj
			}
			if pod, ok := obj.(*v1.Pod); ok {
				kl.podRemoved(pod)
			}
		},
	})
	if err != nil {
		return err
	}
	factory.Start(ctx.Done())
	factory.WaitForCacheSync(ctx.Done())
	klog.InfoS("kubelet running", "node", *nodeName, "podCIDR", *podCIDR)
	<-ctx.Done()

	// Shutting down: stop every pod quickly so no process outlives the kubelet.
	kl.mu.Lock()
	workers := make([]*podWorker, 0, len(kl.workers))
	for _, w := range kl.workers {
		workers = append(workers, w)
	}
	kl.mu.Unlock()
	for _, w := range workers {
		w.mu.Lock()
		w.gone = true // leave the API objects alone on shutdown
		w.mu.Unlock()
		w.terminate(2*time.Second, true)
	}
	for _, w := range workers {
		select {
		case <-w.done:
		case <-time.After(10 * time.Second):
		}
	}
	return nil
}

func (kl *kubelet) podChanged(pod *v1.Pod) {
	kl.mu.Lock()
	w, ok := kl.workers[pod.UID]
	if !ok {
		// Nothing runs for a pod that is already being deleted (its worker finished, or this
		// kubelet never started it) or already finished: only the final delete is left to do.
		if pod.DeletionTimestamp != nil || pod.Status.Phase == v1.PodSucceeded || pod.Status.Phase == v1.PodFailed {
			kl.mu.Unlock()
			if pod.DeletionTimestamp != nil {
				kl.finishDelete(pod)
			}
			return
		}
		w = newPodWorker(kl, pod)
		kl.workers[pod.UID] = w
		kl.mu.Unlock()
		klog.InfoS("starting pod", "pod", klog.KObj(pod))
		go func() {
			w.run()
			kl.mu.Lock()
			delete(kl.workers, pod.UID)
			kl.mu.Unlock()
		}()
		w.update(pod)
		return
	}
	kl.mu.Unlock()
	w.update(pod)
}

func (kl *kubelet) podRemoved(pod *v1.Pod) {
	kl.mu.Lock()
	w, ok := kl.workers[pod.UID]
	kl.mu.Unlock()
	if ok {
		w.removed()
	}
}

func (kl *kubelet) finishDelete(pod *v1.Pod) {
	zero := int64(0)
	uid := pod.UID
	err := kl.client.CoreV1().Pods(pod.Namespace).Delete(context.Background(), pod.Name, metav1.DeleteOptions{
		GracePeriodSeconds: &zero, Preconditions: &metav1.Preconditions{UID: &uid},
	})
	if err != nil && !apierrors.IsNotFound(err) {
		klog.ErrorS(err, "delete finished pod", "pod", klog.KObj(pod))
	}
}

func (kl *kubelet) nodeConditions(now metav1.Time) []v1.NodeCondition {
	cond := func(t v1.NodeConditionType, s v1.ConditionStatus, reason, msg string) v1.NodeCondition {
		return v1.NodeCondition{Type: t, Status: s, Reason: reason, Message: msg, LastHeartbeatTime: now, LastTransitionTime: now}
	}
	return []v1.NodeCondition{
		cond(v1.NodeMemoryPressure, v1.ConditionFalse, "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
		cond(v1.NodeDiskPressure, v1.ConditionFalse, "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
		cond(v1.NodePIDPressure, v1.ConditionFalse, "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
		cond(v1.NodeReady, v1.ConditionTrue, "KubeletReady", "adci process kubelet is posting ready status"),
	}
}

func (kl *kubelet) registerNode(ctx context.Context) error {
	resources := v1.ResourceList{
		v1.ResourceCPU:              resource.MustParse(strconv.Itoa(max(runtime.NumCPU(), 8))),
		v1.ResourceMemory:           resource.MustParse("32Gi"),
		v1.ResourcePods:             resource.MustParse("250"),
		v1.ResourceEphemeralStorage: resource.MustParse("100Gi"),
	}
	hostname, _ := os.Hostname()
	node := &v1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name: kl.nodeName,
			Labels: map[string]string{
				"kubernetes.io/hostname": kl.nodeName, "kubernetes.io/os": "linux", "kubernetes.io/arch": runtime.GOARCH,
				"node.kubernetes.io/instance-type": "adci-process",
			},
		},
		Spec: v1.NodeSpec{PodCIDR: kl.podCIDR, PodCIDRs: []string{kl.podCIDR}},
	}
	for attempt := 0; ; attempt++ {
		_, err := kl.client.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{})
		if err == nil || apierrors.IsAlreadyExists(err) {
			break
		}
		klog.ErrorS(err, "register node")
		if !sleepCtx(ctx, backoffFor(attempt, 500*time.Millisecond)) {
			return ctx.Err()
		}
	}
	// No node lifecycle controller runs, so the kubelet lifts the not-ready taint itself.
	current, err := kl.client.CoreV1().Nodes().Get(ctx, kl.nodeName, metav1.GetOptions{})
	if err != nil {
		return err
	}
	var taints []v1.Taint
	for _, t := range current.Spec.Taints {
		if t.Key != v1.TaintNodeNotReady && t.Key != v1.TaintNodeUnreachable {
			taints = append(taints, t)
		}
	}
	if len(taints) != len(current.Spec.Taints) {
		current.Spec.Taints = taints
		if current, err = kl.client.CoreV1().Nodes().Update(ctx, current, metav1.UpdateOptions{}); err != nil {
			return fmt.Errorf("remove not-ready taint: %w", err)
		}
	}
	now := metav1.Now()
	current.Status = v1.NodeStatus{
		Capacity: resources, Allocatable: resources, Phase: v1.NodeRunning,
		Conditions:      kl.nodeConditions(now),
		Addresses:       []v1.NodeAddress{{Type: v1.NodeInternalIP, Address: kl.nodeIP}, {Type: v1.NodeHostName, Address: hostname}},
		DaemonEndpoints: v1.NodeDaemonEndpoints{KubeletEndpoint: v1.DaemonEndpoint{Port: 10250}},
		NodeInfo: v1.NodeSystemInfo{
			KubeletVersion: kl.kubeletVersion, KubeProxyVersion: "", OperatingSystem: "linux", Architecture: runtime.GOARCH,
			ContainerRuntimeVersion: "adci-process://1.0.0", KernelVersion: kernelVersion(), OSImage: "adci process kubelet",
			MachineID: "adci", SystemUUID: "adci", BootID: "adci",
		},
	}
	if _, err := kl.client.CoreV1().Nodes().UpdateStatus(ctx, current, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("update node status: %w", err)
	}
	klog.InfoS("node registered", "node", kl.nodeName)
	return nil
}

func kernelVersion() string {
	data, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(data))
}

// heartbeat renews the node Lease every 10s and refreshes the Ready condition every 30s.
func (kl *kubelet) heartbeat(ctx context.Context) {
	leases := kl.client.CoordinationV1().Leases(v1.NamespaceNodeLease)
	duration := int32(40)
	ticker := time.NewTicker(10 * time.Second)
	defer ticker.Stop()
	lastStatus := time.Now()
	for {
		now := metav1.NewMicroTime(time.Now())
		lease, err := leases.Get(ctx, kl.nodeName, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			lease = &coordinationv1.Lease{
				ObjectMeta: metav1.ObjectMeta{Name: kl.nodeName, Namespace: v1.NamespaceNodeLease},
				Spec:       coordinationv1.LeaseSpec{HolderIdentity: &kl.nodeName, LeaseDurationSeconds: &duration, RenewTime: &now},
			}
			if node, nerr := kl.client.CoreV1().Nodes().Get(ctx, kl.nodeName, metav1.GetOptions{}); nerr == nil {
				lease.OwnerReferences = []metav1.OwnerReference{{APIVersion: "v1", Kind: "Node", Name: node.Name, UID: node.UID}}
			}
			_, err = leases.Create(ctx, lease, metav1.CreateOptions{})
		case err == nil:
			lease.Spec.RenewTime = &now
			lease.Spec.HolderIdentity = &kl.nodeName
			lease.Spec.LeaseDurationSeconds = &duration
			_, err = leases.Update(ctx, lease, metav1.UpdateOptions{})
		}
		if err != nil && ctx.Err() == nil {
			klog.ErrorS(err, "renew node lease")
		}
		if time.Since(lastStatus) >= 30*time.Second {
			lastStatus = time.Now()
			if node, err := kl.client.CoreV1().Nodes().Get(ctx, kl.nodeName, metav1.GetOptions{}); err == nil {
				node.Status.Conditions = kl.nodeConditions(metav1.Now())
				if _, err := kl.client.CoreV1().Nodes().UpdateStatus(ctx, node, metav1.UpdateOptions{}); err != nil && ctx.Err() == nil {
					klog.ErrorS(err, "update node status")
				}
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

func serveHealthz(ctx context.Context, address string) {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) })
	srv := &http.Server{Addr: address, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	if err := srv.ListenAndServe(); err != nil && err != http.ErrServerClosed {
		klog.ErrorS(err, "healthz server", "address", address)
	}
}

func (kl *kubelet) envFromSource(ctx context.Context, namespace string, from v1.EnvFromSource) (map[string]string, error) {
	out := map[string]string{}
	switch {
	case from.ConfigMapRef != nil:
		cm, err := kl.client.CoreV1().ConfigMaps(namespace).Get(ctx, from.ConfigMapRef.Name, metav1.GetOptions{})
		if err != nil {
			if apierrors.IsNotFound(err) && from.ConfigMapRef.Optional != nil && *from.ConfigMapRef.Optional {
				return out, nil
			}
			return nil, fmt.Errorf("configmap %q: %w", from.ConfigMapRef.Name, err)
		}
		for k, v := range cm.Data {
			out[k] = v
		}
	case from.SecretRef != nil:
		s, err := kl.client.CoreV1().Secrets(namespace).Get(ctx, from.SecretRef.Name, metav1.GetOptions{})
		if err != nil {
			if apierrors.IsNotFound(err) && from.SecretRef.Optional != nil && *from.SecretRef.Optional {
				return out, nil
			}
			return nil, fmt.Errorf("secret %q: %w", from.SecretRef.Name, err)
		}
		for k, v := range s.Data {
			out[k] = string(v)
		}
	}
	return out, nil
}

func (kl *kubelet) envValueFrom(ctx context.Context, pod *v1.Pod, podIP string, c v1.Container, src *v1.EnvVarSource) (string, error) {
	switch {
	case src.FieldRef != nil:
		path := src.FieldRef.FieldPath
		switch {
		case path == "metadata.name":
			return pod.Name, nil
		case path == "metadata.namespace":
			return pod.Namespace, nil
		case path == "metadata.uid":
			return string(pod.UID), nil
		case path == "spec.nodeName":
			return pod.Spec.NodeName, nil
		case path == "spec.serviceAccountName":
			return pod.Spec.ServiceAccountName, nil
		case path == "status.hostIP", path == "status.hostIPs":
			return kl.nodeIP, nil
		case path == "status.podIP", path == "status.podIPs":
			return podIP, nil
		case strings.HasPrefix(path, "metadata.labels['"):
			return pod.Labels[strings.TrimSuffix(strings.TrimPrefix(path, "metadata.labels['"), "']")], nil
		case strings.HasPrefix(path, "metadata.annotations['"):
			return pod.Annotations[strings.TrimSuffix(strings.TrimPrefix(path, "metadata.annotations['"), "']")], nil
		}
		return "", fmt.Errorf("unsupported fieldRef %q", path)
	case src.ResourceFieldRef != nil:
		name := v1.ResourceName(strings.TrimPrefix(strings.TrimPrefix(src.ResourceFieldRef.Resource, "limits."), "requests."))
		list := c.Resources.Limits
		if strings.HasPrefix(src.ResourceFieldRef.Resource, "requests.") {
			list = c.Resources.Requests
		}
		if q, ok := list[name]; ok {
			return q.String(), nil
		}
		return "0", nil
	case src.ConfigMapKeyRef != nil:
		ref := src.ConfigMapKeyRef
		cm, err := kl.client.CoreV1().ConfigMaps(pod.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
		if err == nil {
			if v, ok := cm.Data[ref.Key]; ok {
				return v, nil
			}
			err = fmt.Errorf("key %q not found in configmap %q", ref.Key, ref.Name)
		}
		if ref.Optional != nil && *ref.Optional {
			return "", nil
		}
		return "", err
	case src.SecretKeyRef != nil:
		ref := src.SecretKeyRef
		s, err := kl.client.CoreV1().Secrets(pod.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
		if err == nil {
			if v, ok := s.Data[ref.Key]; ok {
				return string(v), nil
			}
			err = fmt.Errorf("key %q not found in secret %q", ref.Key, ref.Name)
		}
		if ref.Optional != nil && *ref.Optional {
			return "", nil
		}
		return "", err
	}
	return "", fmt.Errorf("unsupported valueFrom")
}
