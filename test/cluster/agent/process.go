package main

// A container is a process group started inside the pod's network namespace.

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

type process struct {
	cmd      *exec.Cmd
	pid      int
	started  time.Time
	exited   chan struct{}
	exitCode int
	finished time.Time
	logFile  *os.File
}

type processSpec struct {
	sandbox    string // network namespace; empty runs in the host namespace
	argv       []string
	env        []string
	workingDir string
	logPath    string
}

func startProcess(spec processSpec) (*process, error) {
	if len(spec.argv) == 0 {
		return nil, errors.New("no command: neither the container nor its image map entry gives one")
	}
	if err := os.MkdirAll(filepath.Dir(spec.logPath), 0o755); err != nil {
		return nil, err
	}
	logFile, err := os.OpenFile(spec.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	name, args := spec.argv[0], spec.argv[1:]
	if spec.sandbox != "" {
		name, args = "ip", append([]string{"netns", "exec", spec.sandbox}, spec.argv...)
	}
	cmd := exec.Command(name, args...)
	cmd.Env = spec.env
	cmd.Dir = spec.workingDir
	cmd.Stdin = nil
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	// Own process group so stop reaches children; die with the kubelet so nothing is orphaned.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start %s: %w", spec.argv[0], err)
	}
	p := &process{cmd: cmd, pid: cmd.Process.Pid, started: time.Now(), exited: make(chan struct{}), logFile: logFile}
	go func() {
		err := cmd.Wait()
		p.exitCode = exitCodeOf(cmd, err)
		p.finished = time.Now()
		logFile.Close()
		close(p.exited)
	}()
	return p, nil
}

func exitCodeOf(cmd *exec.Cmd, err error) int {
	if cmd.ProcessState == nil {
		return 128
	}
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok {
		if ws.Signaled() {
			return 128 + int(ws.Signal())
		}
		return ws.ExitStatus()
	}
	if err != nil {
		return 1
	}
	return 0
}

func (p *process) signal(sig syscall.Signal) {
	// The group first (children too), then the leader in case it left the group.
	_ = syscall.Kill(-p.pid, sig)
	_ = syscall.Kill(p.pid, sig)
}

// stop sends SIGTERM and, if the process is still alive at the deadline, SIGKILL.
func (p *process) stop(deadline time.Time) {
	select {
	case <-p.exited:
		return
	default:
	}
	p.signal(syscall.SIGTERM)
	wait := time.Until(deadline)
	if wait < 0 {
		wait = 0
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-p.exited:
		return
	case <-timer.C:
	}
	p.signal(syscall.SIGKILL)
	<-p.exited
}
