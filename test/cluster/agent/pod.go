package main

// One worker per pod: sandbox, init containers, containers with restarts and back-off,
// probes, truthful status, and graceful termination ending in the kubelet's final delete.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	v1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/klog/v2"
)

const (
	maxBackoff        = 5 * time.Minute
	backoffResetAfter = 10 * time.Minute
)

type containerState struct {
	name         string
	image        string
	state        v1.ContainerState
	lastState    v1.ContainerState
	restartCount int32
	ready        bool
	started      bool
	containerID  string
	done         bool // will not run again
}

type podWorker struct {
	kl   *kubelet
	uid  types.UID
	ns   string
	name string

	mu             sync.Mutex
	pod            *v1.Pod
	podIP          string
	startTime      metav1.Time
	sandboxReady   bool
	initialized    bool
	terminating    bool
	gone           bool // the API object no longer exists
	deadline       time.Time
	initStatuses   []*containerState
	statuses       []*containerState
	terminateOnce  sync.Once
	cancel         context.CancelFunc
	ctx            context.Context
	statusTrigger  chan struct{}
	done           chan struct{}
	lastSentStatus *v1.PodStatus
}

func newPodWorker(kl *kubelet, pod *v1.Pod) *podWorker {
	ctx, cancel := context.WithCancel(context.Background())
	w := &podWorker{
		kl: kl, uid: pod.UID, ns: pod.Namespace, name: pod.Name, pod: pod.DeepCopy(),
		ctx: ctx, cancel: cancel, statusTrigger: make(chan struct{}, 1), done: make(chan struct{}),
		startTime: metav1.Now(),
	}
	for _, c := range pod.Spec.InitContainers {
		w.initStatuses = append(w.initStatuses, newContainerState(c))
	}
	for _, c := range pod.Spec.Containers {
		w.statuses = append(w.statuses, newContainerState(c))
	}
	if pod.Status.StartTime != nil {
		w.startTime = *pod.Status.StartTime
	}
	return w
}

func newContainerState(c v1.Container) *containerState {
	return &containerState{
		name: c.Name, image: c.Image,
		state: v1.ContainerState{Waiting: &v1.ContainerStateWaiting{Reason: "ContainerCreating"}},
	}
}

// update records the newest pod object and starts termination when it is being deleted.
func (w *podWorker) update(pod *v1.Pod) {
	w.mu.Lock()
	w.pod = pod.DeepCopy()
	w.mu.Unlock()
	if pod.DeletionTimestamp != nil {
		grace := int64(30)
		if pod.DeletionGracePeriodSeconds != nil {
			grace = *pod.DeletionGracePeriodSeconds
		} else if pod.Spec.TerminationGracePeriodSeconds != nil {
			grace = *pod.Spec.TerminationGracePeriodSeconds
		}
		w.terminate(time.Duration(grace)*time.Second, false)
	}
}

// removed is called when the pod vanished from the API without our final delete (force delete).
func (w *podWorker) removed() {
	w.terminate(2*time.Second, true)
}

func (w *podWorker) terminate(grace time.Duration, gone bool) {
	w.mu.Lock()
	if gone {
		w.gone = true
	}
	w.mu.Unlock()
	w.terminateOnce.Do(func() {
		w.mu.Lock()
		w.terminating = true
		w.deadline = time.Now().Add(grace)
		for _, cs := range w.statuses {
			cs.ready = false
		}
		w.mu.Unlock()
		klog.InfoS("terminating pod", "pod", klog.KRef(w.ns, w.name), "grace", grace)
		w.cancel()
		w.syncStatus()
	})
}

func (w *podWorker) syncStatus() {
	select {
	case w.statusTrigger <- struct{}{}:
	default:
	}
}

func (w *podWorker) event(eventType, reason, format string, args ...any) {
	w.mu.Lock()
	pod := w.pod
	w.mu.Unlock()
	w.kl.recorder.Eventf(pod, eventType, reason, format, args...)
}

func (w *podWorker) run() {
	defer close(w.done)
	statusCtx, stopStatus := context.WithCancel(context.Background())
	statusDone := make(chan struct{})
	go func() { defer close(statusDone); w.statusLoop(statusCtx) }()

	w.runPod()

	// Everything has stopped: release the sandbox, report the final status, then finish the delete.
	w.kl.network.teardown(string(w.uid))
	w.syncStatus()
	time.Sleep(50 * time.Millisecond)
	stopStatus()
	<-statusDone
	w.flushStatus()

	w.mu.Lock()
	gone, deleting := w.gone, w.pod.DeletionTimestamp != nil
	w.mu.Unlock()
	if !gone && deleting {
		zero := int64(0)
		uid := w.uid
		err := w.kl.client.CoreV1().Pods(w.ns).Delete(context.Background(), w.name, metav1.DeleteOptions{
			GracePeriodSeconds: &zero, Preconditions: &metav1.Preconditions{UID: &uid},
		})
		if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
			klog.ErrorS(err, "final pod delete failed", "pod", klog.KRef(w.ns, w.name))
		}
	}
	klog.InfoS("pod worker finished", "pod", klog.KRef(w.ns, w.name))
}

func (w *podWorker) runPod() {
	ctx := w.ctx
	// Sandbox, retried like RunPodSandbox failures are.
	for attempt := 0; ; attempt++ {
		ip, err := w.kl.network.setup(string(w.uid))
		if err == nil {
			w.mu.Lock()
			w.podIP, w.sandboxReady = ip, true
			w.mu.Unlock()
			w.syncStatus()
			break
		}
		w.event(v1.EventTypeWarning, "FailedCreatePodSandBox", "Failed to create pod sandbox: %v", err)
		if !sleepCtx(ctx, backoffFor(attempt, 2*time.Second)) {
			return
		}
	}

	w.mu.Lock()
	spec := w.pod.Spec
	w.mu.Unlock()

	for i, c := range spec.InitContainers {
		for {
			ok := w.runContainer(ctx, c, w.initStatuses[i], true)
			if ok || ctx.Err() != nil {
				break
			}
			if spec.RestartPolicy == v1.RestartPolicyNever {
				w.mu.Lock()
				for _, cs := range w.statuses {
					cs.done = true
				}
				w.mu.Unlock()
				w.syncStatus()
				<-ctx.Done()
				return
			}
		}
		if ctx.Err() != nil {
			return
		}
	}
	w.mu.Lock()
	w.initialized = true
	w.mu.Unlock()
	w.syncStatus()

	var wg sync.WaitGroup
	for i, c := range spec.Containers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.runContainer(ctx, c, w.statuses[i], false)
		}()
	}
	wg.Wait()
	w.syncStatus()
	// A completed pod keeps its sandbox until it is deleted.
	<-ctx.Done()
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func backoffFor(attempt int, initial time.Duration) time.Duration {
	d := initial
	for i := 0; i < attempt && d < maxBackoff; i++ {
		d *= 2
	}
	if d > maxBackoff {
		d = maxBackoff
	}
	return d
}

func (w *podWorker) setState(cs *containerState, mutate func(cs *containerState)) {
	w.mu.Lock()
	mutate(cs)
	w.mu.Unlock()
	w.syncStatus()
}

// runContainer runs one container until it will not be restarted (or the pod terminates).
// For an init container it returns whether it completed successfully.
func (w *podWorker) runContainer(ctx context.Context, c v1.Container, cs *containerState, isInit bool) bool {
	w.mu.Lock()
	policy := w.pod.Spec.RestartPolicy
	w.mu.Unlock()
	if isInit && policy == v1.RestartPolicyAlways {
		policy = v1.RestartPolicyOnFailure
	}
	pullAttempt, crashAttempt := 0, 0
	for {
		if ctx.Err() != nil {
			return false
		}
		image, err := w.kl.images.Resolve(c.Image)
		if err != nil {
			w.event(v1.EventTypeWarning, "Failed", "Failed to pull image %q: %v", c.Image, err)
			w.setState(cs, func(cs *containerState) {
				cs.state = v1.ContainerState{Waiting: &v1.ContainerStateWaiting{Reason: "ErrImagePull", Message: err.Error()}}
			})
			if !sleepCtx(ctx, time.Second) {
				return false
			}
			backoff := backoffFor(pullAttempt, w.kl.pullBackoff)
			pullAttempt++
			w.event(v1.EventTypeNormal, "BackOff", "Back-off pulling image %q", c.Image)
			w.setState(cs, func(cs *containerState) {
				cs.state = v1.ContainerState{Waiting: &v1.ContainerStateWaiting{
					Reason: "ImagePullBackOff", Message: fmt.Sprintf("Back-off pulling image %q: %v", c.Image, err)}}
			})
			if !sleepCtx(ctx, backoff) {
				return false
			}
			continue
		}
		pullAttempt = 0
		w.mu.Lock()
		firstStart := cs.restartCount == 0 && cs.state.Running == nil && cs.state.Terminated == nil
		w.mu.Unlock()
		if firstStart {
			w.event(v1.EventTypeNormal, "Pulled", "Container image %q already present on machine", c.Image)
		}

		spec, err := w.processSpec(ctx, c, cs, image)
		if err != nil {
			w.event(v1.EventTypeWarning, "Failed", "Error: %v", err)
			w.setState(cs, func(cs *containerState) {
				cs.state = v1.ContainerState{Waiting: &v1.ContainerStateWaiting{Reason: "CreateContainerConfigError", Message: err.Error()}}
			})
			if !sleepCtx(ctx, backoffFor(crashAttempt, w.kl.crashBackoff)) {
				return false
			}
			crashAttempt++
			continue
		}
		proc, err := startProcess(spec)
		if err != nil {
			w.event(v1.EventTypeWarning, "Failed", "Error: %v", err)
			w.setState(cs, func(cs *containerState) {
				cs.state = v1.ContainerState{Waiting: &v1.ContainerStateWaiting{Reason: "RunContainerError", Message: err.Error()}}
			})
			if !sleepCtx(ctx, backoffFor(crashAttempt, w.kl.crashBackoff)) {
				return false
			}
			crashAttempt++
			continue
		}
		containerID := fmt.Sprintf("adci://%s-%s-%d", w.uid, c.Name, proc.pid)
		w.event(v1.EventTypeNormal, "Started", "Started container %s", c.Name)
		w.setState(cs, func(cs *containerState) {
			cs.containerID = containerID
			cs.state = v1.ContainerState{Running: &v1.ContainerStateRunning{StartedAt: metav1.NewTime(proc.started)}}
			cs.started = c.StartupProbe == nil
			cs.ready = false
		})
		target := probeTarget{podIP: w.podIPValue(), sandbox: sandboxName(string(w.uid)), container: c, env: spec.env}

		procCtx, stopProbes := context.WithCancel(ctx)
		kill := make(chan string, 1)
		if c.Lifecycle != nil && c.Lifecycle.PostStart != nil {
			if err := runHandler(procCtx, c.Lifecycle.PostStart, target); err != nil {
				w.event(v1.EventTypeWarning, "FailedPostStartHook", "PostStartHook failed: %v", err)
				select {
				case kill <- "FailedPostStartHook":
				default:
				}
			}
		}
		if !isInit {
			go w.runProbes(procCtx, c, cs, target, proc.started, kill)
		}

		killReason := ""
		select {
		case <-proc.exited:
		case killReason = <-kill:
			w.setState(cs, func(cs *containerState) { cs.ready = false })
			w.event(v1.EventTypeNormal, "Killing", "Container %s %s, will be restarted", c.Name, killReason)
			w.stopContainer(c, proc, target, time.Now().Add(w.podGrace()))
		case <-ctx.Done():
			w.stopContainer(c, proc, target, w.terminationDeadline())
		}
		stopProbes()
		<-proc.exited

		reason := "Completed"
		if proc.exitCode != 0 {
			reason = "Error"
		}
		terminated := &v1.ContainerStateTerminated{
			ExitCode: int32(proc.exitCode), Reason: reason, ContainerID: containerID,
			StartedAt: metav1.NewTime(proc.started), FinishedAt: metav1.NewTime(proc.finished),
		}
		if ctx.Err() != nil {
			w.setState(cs, func(cs *containerState) {
				cs.state = v1.ContainerState{Terminated: terminated}
				cs.ready = false
				cs.done = true
			})
			return false
		}
		restart := policy == v1.RestartPolicyAlways ||
			(policy == v1.RestartPolicyOnFailure && proc.exitCode != 0) || killReason != ""
		if killReason != "" && policy == v1.RestartPolicyNever {
			restart = false
		}
		if !restart {
			w.setState(cs, func(cs *containerState) {
				cs.state = v1.ContainerState{Terminated: terminated}
				cs.ready = false
				cs.done = true
			})
			return proc.exitCode == 0
		}
		if proc.finished.Sub(proc.started) > backoffResetAfter {
			crashAttempt = 0
		}
		if crashAttempt == 0 {
			// The first restart is immediate, as the kubelet's is; back-off starts after it.
			w.setState(cs, func(cs *containerState) {
				cs.lastState = v1.ContainerState{Terminated: terminated}
				cs.state = v1.ContainerState{Terminated: terminated}
				cs.ready = false
				cs.restartCount++
			})
			crashAttempt++
			if !sleepCtx(ctx, 200*time.Millisecond) {
				return false
			}
			continue
		}
		backoff := backoffFor(crashAttempt-1, w.kl.crashBackoff)
		crashAttempt++
		w.event(v1.EventTypeWarning, "BackOff", "Back-off restarting failed container %s in pod %s", c.Name, w.name)
		w.setState(cs, func(cs *containerState) {
			cs.lastState = v1.ContainerState{Terminated: terminated}
			cs.state = v1.ContainerState{Waiting: &v1.ContainerStateWaiting{
				Reason:  "CrashLoopBackOff",
				Message: fmt.Sprintf("back-off %s restarting failed container=%s pod=%s_%s(%s)", backoff, c.Name, w.name, w.ns, w.uid),
			}}
			cs.ready = false
		})
		if !sleepCtx(ctx, backoff) {
			w.setState(cs, func(cs *containerState) {
				cs.state = v1.ContainerState{Terminated: terminated}
				cs.done = true
			})
			return false
		}
		w.setState(cs, func(cs *containerState) { cs.restartCount++ })
	}
}

func (w *podWorker) podIPValue() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.podIP
}

func (w *podWorker) podGrace() time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	if g := w.pod.Spec.TerminationGracePeriodSeconds; g != nil {
		return time.Duration(*g) * time.Second
	}
	return 30 * time.Second
}

func (w *podWorker) terminationDeadline() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.deadline.IsZero() {
		return time.Now().Add(2 * time.Second)
	}
	return w.deadline
}

// stopContainer runs preStop, then SIGTERM, then SIGKILL at the deadline.
func (w *podWorker) stopContainer(c v1.Container, proc *process, target probeTarget, deadline time.Time) {
	if c.Lifecycle != nil && c.Lifecycle.PreStop != nil {
		hookCtx, cancel := context.WithDeadline(context.Background(), deadline)
		done := make(chan error, 1)
		go func() { done <- runHandler(hookCtx, c.Lifecycle.PreStop, target) }()
		select {
		case err := <-done:
			if err != nil {
				w.event(v1.EventTypeWarning, "FailedPreStopHook", "PreStopHook failed: %v", err)
			}
		case <-proc.exited:
		case <-hookCtx.Done():
		}
		cancel()
	}
	proc.stop(deadline)
}

func (w *podWorker) runProbes(ctx context.Context, c v1.Container, cs *containerState, target probeTarget, started time.Time, kill chan<- string) {
	requestKill := func(reason string) {
		select {
		case kill <- reason:
		default:
		}
	}
	if c.StartupProbe != nil {
		startupCtx, done := context.WithCancel(ctx)
		passed := false
		probeLoop(startupCtx, c.StartupProbe, target, started, func(ok bool, err error) {
			if ok {
				passed = true
			} else {
				w.event(v1.EventTypeWarning, "Unhealthy", "Startup probe failed: %v", err)
				requestKill("failed startup probe")
			}
			done()
		})
		done()
		if !passed {
			return
		}
		w.setState(cs, func(cs *containerState) { cs.started = true })
	}
	if c.LivenessProbe != nil {
		go probeLoop(ctx, c.LivenessProbe, target, started, func(ok bool, err error) {
			if !ok {
				w.event(v1.EventTypeWarning, "Unhealthy", "Liveness probe failed: %v", err)
				requestKill("failed liveness probe")
			}
		})
	}
	if c.ReadinessProbe == nil {
		w.setState(cs, func(cs *containerState) { cs.ready = true })
		return
	}
	probeLoop(ctx, c.ReadinessProbe, target, started, func(ok bool, err error) {
		w.mu.Lock()
		changed := cs.ready != ok
		if !w.terminating {
			cs.ready = ok
		}
		w.mu.Unlock()
		if changed {
			if !ok {
				w.event(v1.EventTypeWarning, "Unhealthy", "Readiness probe failed: %v", err)
			}
			w.syncStatus()
		}
	})
}

var envRefPattern = regexp.MustCompile(`\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)|\$\$`)

// expandEnvRefs applies Kubernetes' $(VAR) syntax; $$ escapes and unknown references stay as written.
func expandEnvRefs(s string, env map[string]string) string {
	return envRefPattern.ReplaceAllStringFunc(s, func(m string) string {
		if m == "$$" {
			return "$"
		}
		name := m[2 : len(m)-1]
		if v, ok := env[name]; ok {
			return v
		}
		return m
	})
}

func (w *podWorker) processSpec(ctx context.Context, c v1.Container, cs *containerState, image *resolvedImage) (processSpec, error) {
	w.mu.Lock()
	pod := w.pod.DeepCopy()
	podIP := w.podIP
	restart := cs.restartCount
	w.mu.Unlock()

	env := map[string]string{}
	var order []string
	set := func(k, v string) {
		if _, ok := env[k]; !ok {
			order = append(order, k)
		}
		env[k] = v
	}
	set("PATH", os.Getenv("PATH"))
	set("HOME", "/root")
	hostname := pod.Name
	if pod.Spec.Hostname != "" {
		hostname = pod.Spec.Hostname
	}
	set("HOSTNAME", hostname)
	imageKeys := make([]string, 0, len(image.Env))
	for k := range image.Env {
		imageKeys = append(imageKeys, k)
	}
	sort.Strings(imageKeys)
	for _, k := range imageKeys {
		set(k, image.Env[k])
	}
	for _, from := range c.EnvFrom {
		data, err := w.kl.envFromSource(ctx, pod.Namespace, from)
		if err != nil {
			return processSpec{}, err
		}
		keys := make([]string, 0, len(data))
		for k := range data {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			set(from.Prefix+k, data[k])
		}
	}
	for _, e := range c.Env {
		if e.ValueFrom == nil {
			set(e.Name, expandEnvRefs(e.Value, env))
			continue
		}
		v, err := w.kl.envValueFrom(ctx, pod, podIP, c, e.ValueFrom)
		if err != nil {
			return processSpec{}, fmt.Errorf("env %s: %w", e.Name, err)
		}
		set(e.Name, v)
	}

	var argv []string
	if len(c.Command) > 0 {
		argv = append(argv, c.Command...)
		argv = append(argv, c.Args...)
	} else {
		argv = append(argv, image.Command...)
		if len(c.Args) > 0 {
			argv = append(argv, c.Args...)
		} else {
			argv = append(argv, image.Args...)
		}
	}
	for i := range argv {
		argv[i] = expandEnvRefs(argv[i], env)
	}
	dir := c.WorkingDir
	if dir == "" {
		dir = image.WorkingDir
	}
	if dir == "" {
		dir = w.kl.defaultWorkDir
	}
	envList := make([]string, 0, len(order))
	for _, k := range order {
		envList = append(envList, k+"="+env[k])
	}
	logPath := filepath.Join(w.kl.podLogDir, fmt.Sprintf("%s_%s_%s", pod.Namespace, pod.Name, pod.UID), c.Name, strconv.Itoa(int(restart))+".log")
	return processSpec{sandbox: sandboxName(string(w.uid)), argv: argv, env: envList, workingDir: dir, logPath: logPath}, nil
}

// buildStatus turns the worker's view into a PodStatus, keeping fields other writers own.
func (w *podWorker) buildStatus(current *v1.Pod) v1.PodStatus {
	w.mu.Lock()
	defer w.mu.Unlock()
	st := *current.Status.DeepCopy()
	st.HostIP = w.kl.nodeIP
	st.HostIPs = []v1.HostIP{{IP: w.kl.nodeIP}}
	if w.podIP != "" {
		st.PodIP = w.podIP
		st.PodIPs = []v1.PodIP{{IP: w.podIP}}
	}
	st.StartTime = &w.startTime

	toStatus := func(cs *containerState, c v1.Container) v1.ContainerStatus {
		started := cs.started && cs.state.Running != nil
		return v1.ContainerStatus{
			Name: cs.name, Image: c.Image, ImageID: "adci-image://" + c.Image, ContainerID: cs.containerID,
			State: *cs.state.DeepCopy(), LastTerminationState: *cs.lastState.DeepCopy(),
			Ready: cs.ready && cs.state.Running != nil, RestartCount: cs.restartCount, Started: &started,
		}
	}
	st.InitContainerStatuses = nil
	for i, cs := range w.initStatuses {
		st.InitContainerStatuses = append(st.InitContainerStatuses, toStatus(cs, current.Spec.InitContainers[i]))
	}
	st.ContainerStatuses = nil
	allReady, allDone, anyFailed, allStarted, anyRunning := true, true, false, true, false
	for i, cs := range w.statuses {
		s := toStatus(cs, current.Spec.Containers[i])
		st.ContainerStatuses = append(st.ContainerStatuses, s)
		if !s.Ready {
			allReady = false
		}
		if !cs.done {
			allDone = false
		}
		if cs.state.Terminated != nil && cs.state.Terminated.ExitCode != 0 {
			anyFailed = true
		}
		if cs.containerID == "" {
			allStarted = false
		}
		if cs.state.Running != nil {
			anyRunning = true
		}
	}
	if len(w.statuses) == 0 {
		allReady = false
	}
	initFailed := false
	for _, cs := range w.initStatuses {
		if cs.done && cs.state.Terminated != nil && cs.state.Terminated.ExitCode != 0 {
			initFailed = true
		}
	}

	switch {
	case initFailed && current.Spec.RestartPolicy == v1.RestartPolicyNever:
		st.Phase = v1.PodFailed
	case w.initialized && allDone && len(w.statuses) > 0:
		if anyFailed {
			st.Phase = v1.PodFailed
		} else {
			st.Phase = v1.PodSucceeded
		}
	case w.initialized && allStarted && (anyRunning || !w.terminating):
		st.Phase = v1.PodRunning
	case w.terminating && w.initialized && allStarted:
		st.Phase = v1.PodRunning
	default:
		st.Phase = v1.PodPending
	}
	if st.Phase == v1.PodPending && current.Status.Phase == v1.PodRunning {
		st.Phase = v1.PodRunning // a pod never goes back to Pending
	}

	ready := allReady && w.initialized && !w.terminating
	for _, gate := range current.Spec.ReadinessGates {
		found := false
		for _, cond := range current.Status.Conditions {
			if cond.Type == gate.ConditionType && cond.Status == v1.ConditionTrue {
				found = true
			}
		}
		if !found {
			ready = false
		}
	}
	setCondition(&st, v1.PodReadyToStartContainers, w.sandboxReady && !(w.terminating && st.Phase != v1.PodRunning), "")
	setCondition(&st, v1.PodInitialized, w.initialized, reasonIf(!w.initialized, "ContainersNotInitialized"))
	setCondition(&st, v1.ContainersReady, allReady && w.initialized, reasonIf(!(allReady && w.initialized), "ContainersNotReady"))
	setCondition(&st, v1.PodReady, ready, reasonIf(!ready, "ContainersNotReady"))
	if st.Phase == v1.PodSucceeded || st.Phase == v1.PodFailed {
		setCondition(&st, v1.ContainersReady, false, "PodCompleted")
		setCondition(&st, v1.PodReady, false, "PodCompleted")
	}
	return st
}

func reasonIf(cond bool, reason string) string {
	if cond {
		return reason
	}
	return ""
}

func setCondition(st *v1.PodStatus, t v1.PodConditionType, value bool, reason string) {
	status := v1.ConditionFalse
	if value {
		status = v1.ConditionTrue
	}
	now := metav1.Now()
	for i := range st.Conditions {
		if st.Conditions[i].Type == t {
			if st.Conditions[i].Status != status {
				st.Conditions[i].LastTransitionTime = now
			}
			st.Conditions[i].Status = status
			st.Conditions[i].Reason = reason
			return
		}
	}
	st.Conditions = append(st.Conditions, v1.PodCondition{Type: t, Status: status, Reason: reason, LastTransitionTime: now})
}

func (w *podWorker) statusLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-w.statusTrigger:
		}
		w.flushStatus()
	}
}

// flushStatus writes the status if it changed, retrying conflicts with a fresh object.
func (w *podWorker) flushStatus() {
	for attempt := 0; attempt < 5; attempt++ {
		current, err := w.kl.podLister.Pods(w.ns).Get(w.name)
		if attempt > 0 || err != nil {
			current, err = w.kl.client.CoreV1().Pods(w.ns).Get(context.Background(), w.name, metav1.GetOptions{})
		}
		if err != nil {
			if !apierrors.IsNotFound(err) {
				klog.ErrorS(err, "get pod for status", "pod", klog.KRef(w.ns, w.name))
			}
			return
		}
		if current.UID != w.uid {
			return
		}
		status := w.buildStatus(current)
		if w.lastSentStatus != nil && apiequality.Semantic.DeepEqual(status, current.Status) {
			return
		}
		updated := current.DeepCopy()
		updated.Status = status
		_, err = w.kl.client.CoreV1().Pods(w.ns).UpdateStatus(context.Background(), updated, metav1.UpdateOptions{})
		if err == nil {
			w.lastSentStatus = &status
			return
		}
		if apierrors.IsNotFound(err) {
			return
		}
		if !apierrors.IsConflict(err) {
			klog.ErrorS(err, "update pod status", "pod", klog.KRef(w.ns, w.name))
		}
		time.Sleep(time.Duration(100*(attempt+1)) * time.Millisecond)
	}
}

func (w *podWorker) key() string {
	return strings.Join([]string{w.ns, w.name, string(w.uid)}, "/")
}
