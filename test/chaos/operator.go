package main

// The two operator replicas, each supervised like a Deployment's pod: restarted when it exits (the
// operator exits on a lost lease and expects to be restarted), or after a chosen pause when the runner
// SIGKILLed it.

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

type replica struct {
	name      string
	bin       string
	args      []string
	logPath   string
	px        *proxy
	logf      func(string, ...any)
	mu        sync.Mutex
	cmd       *exec.Cmd
	killed    bool
	pause     time.Duration
	starts    int
	selfExits []string // exits the runner did not cause (exit code)
	done      chan struct{}
	stopping  bool
}

func writeKubeconfig(path, server string, caPEM []byte, token string) error {
	cfg := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: chaos
  cluster:
    server: %s
    certificate-authority-data: %s
users:
- name: admin
  user:
    token: %s
contexts:
- name: chaos
  context: {cluster: chaos, user: admin}
current-context: chaos
`, server, base64.StdEncoding.EncodeToString(caPEM), token)
	return os.WriteFile(path, []byte(cfg), 0o600)
}

func newReplica(name, bin, kubeconfig, leaseNS, namespaces, outDir string, px *proxy, logf func(string, ...any)) *replica {
	return &replica{
		name: name, bin: bin, px: px, logf: logf, done: make(chan struct{}),
		logPath: filepath.Join(outDir, "operator-"+name+".log"),
		args: []string{"--kubeconfig", kubeconfig, "--leader-elect=true", "--leader-election-namespace", leaseNS,
			"--namespaces", namespaces, "--health-port", "0", "--metrics-port", "0", "--workers", "2",
			"--traffic-confirm-margin", "1", "--resync-period", "60", "--shutdown-grace", "5", "--log-level", "info"},
	}
}

func (r *replica) run(ctx context.Context) {
	defer close(r.done)
	for ctx.Err() == nil {
		r.px.forget(r.name) // a new process: no identity until it writes the lease
		f, err := os.OpenFile(r.logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			r.logf("replica %s: %v", r.name, err)
			return
		}
		r.mu.Lock()
		r.starts++
		fmt.Fprintf(f, "===== replica %s start %d at %s =====\n", r.name, r.starts, time.Now().UTC().Format(time.RFC3339Nano))
		cmd := exec.Command(r.bin, r.args...)
		cmd.Stdout, cmd.Stderr = f, f
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // never outlive the runner
		if err := cmd.Start(); err != nil {
			r.mu.Unlock()
			f.Close()
			r.logf("replica %s: cannot start: %v", r.name, err)
			return
		}
		r.cmd = cmd
		r.mu.Unlock()
		err = cmd.Wait()
		f.Close()
		r.mu.Lock()
		killed, pause, stopping := r.killed, r.pause, r.stopping
		r.killed, r.cmd = false, nil
		if !killed && !stopping {
			code := "signal"
			if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() >= 0 {
				code = fmt.Sprintf("exit %d", ee.ExitCode())
			} else if err == nil {
				code = "exit 0"
			}
			r.selfExits = append(r.selfExits, code)
			pause = time.Second
		}
		r.mu.Unlock()
		if stopping || ctx.Err() != nil {
			return
		}
		if !killed {
			r.logf("replica %s exited on its own (%s); restarting it in 1s", r.name, r.selfExits[len(r.selfExits)-1])
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(pause):
		}
	}
}

// kill SIGKILLs the current process; the supervisor starts a new one after pause.
func (r *replica) kill(pause time.Duration) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cmd == nil || r.cmd.Process == nil {
		return false
	}
	r.killed, r.pause = true, pause
	_ = r.cmd.Process.Signal(syscall.SIGKILL)
	return true
}

// stop ends the replica with SIGTERM (SIGKILL after 15 s) and waits for its supervisor.
func (r *replica) stop() {
	r.mu.Lock()
	r.stopping = true
	cmd := r.cmd
	r.mu.Unlock()
	if cmd != nil && cmd.Process != nil {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-r.done:
			return
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Signal(syscall.SIGKILL)
		}
	}
	select {
	case <-r.done:
	case <-time.After(5 * time.Second):
	}
}
