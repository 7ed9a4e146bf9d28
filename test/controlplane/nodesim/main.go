// nodesim plays the kubelet for the test control plane: it registers Ready nodes, binds Pending pods (there
// is no scheduler), reports them Running and Ready with an address from 198.18.0.0/16, and finishes pods
// being deleted. Pod annotations make pods misbehave on purpose:
//
//	sim.bluegreen.io/ready: "false"            Running but never Ready
//	sim.bluegreen.io/crash: "true"             CrashLoopBackOff, restartCount rising, never Ready
//	sim.bluegreen.io/ready-after-seconds: "N"  Ready N seconds after the pod started
//
// A pod that runs to completion (restartPolicy Never or OnFailure, as a Job's pods are) is run for real: the
// first container's command and args become a process on this machine (the image is not pulled), with the
// container's literal env values, optionally behind --run-wrapper (e.g. `ip netns exec NS` in a script).
// Its exit code sets the pod Succeeded or Failed; a failure's termination message is the tail of its output,
// as the kubelet's FallbackToLogsOnError does. Deleting the pod kills the process group. A process that was
// running when nodesim restarted is not run again: its pod fails (a kubelet loses no container, but a
// second run of a migration would be worse than a failed one).
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	listers "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/util/workqueue"
)

const (
	annReady      = "sim.bluegreen.io/ready"
	annCrash      = "sim.bluegreen.io/crash"
	annReadyAfter = "sim.bluegreen.io/ready-after-seconds"
	crashInterval = 3 * time.Second
)

type podIP struct {
	uid types.UID
	ip  string
}

type sim struct {
	client  kubernetes.Interface
	pods    listers.PodLister
	queue   workqueue.TypedRateLimitingInterface[string]
	nodes   []string
	nodeIPs map[string]string
	podHook string // optional executable run as `hook up|down <namespace> <pod> <ip>` (real backends, later)
	wrapper string // optional executable that runs a completion pod's command: `wrapper <cmd> <args...>`
	logDir  string // output of each completion pod's process, <namespace>_<pod>_<uid>.log

	runsMu sync.Mutex
	runs   map[types.UID]*run // completion pods' processes, by pod UID

	mu   sync.Mutex
	ips  map[string]podIP // namespace/name -> address of the pod (by UID) of that name
	used map[string]bool  // pod IPs handed out
	next uint32           // next offset into 198.18.0.0/16 to try
	rr   int              // round-robin node choice
}

func main() {
	kubeconfig := flag.String("kubeconfig", "", "kubeconfig of the API server")
	nodeCount := flag.Int("nodes", 2, "number of simulated nodes")
	prefix := flag.String("node-prefix", "sim-node-", "node name prefix")
	podHook := flag.String("pod-hook", "", "executable called as `<hook> up|down <namespace> <pod> <ip>` when a pod gets or loses its address")
	wrapper := flag.String("run-wrapper", "", "executable that runs a completion pod's command as `<wrapper> <cmd> <args...>`")
	logDir := flag.String("run-log-dir", filepath.Join(os.TempDir(), "nodesim-runs"), "folder for the output of completion pods' processes")
	flag.Parse()
	if err := os.MkdirAll(*logDir, 0o755); err != nil {
		log.Fatalf("run-log-dir: %v", err)
	}

	cfg, err := clientcmd.BuildConfigFromFlags("", *kubeconfig)
	if err != nil {
		log.Fatalf("kubeconfig: %v", err)
	}
	cfg.QPS, cfg.Burst = 100, 200
	s := &sim{client: kubernetes.NewForConfigOrDie(cfg), nodeIPs: map[string]string{}, ips: map[string]podIP{}, used: map[string]bool{},
		podHook: *podHook, wrapper: *wrapper, logDir: *logDir, runs: map[types.UID]*run{}, queue: workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[string]())}
	ctx := context.Background()
	for i := 0; i < *nodeCount; i++ {
		name := fmt.Sprintf("%s%d", *prefix, i)
		s.nodeIPs[name] = fmt.Sprintf("198.19.255.%d", i+1) // node addresses: top of the range, pods: bottom
		s.nodes = append(s.nodes, name)
		for err := s.registerNode(ctx, name); err != nil; err = s.registerNode(ctx, name) {
			log.Printf("register node %s: %v (retrying)", name, err)
			time.Sleep(time.Second)
		}
	}

	factory := informers.NewSharedInformerFactory(s.client, 0)
	inf := factory.Core().V1().Pods()
	s.pods = inf.Lister()
	enqueue := func(obj any) {
		if key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj); err == nil {
			s.queue.Add(key)
		}
	}
	inf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{AddFunc: enqueue,
		UpdateFunc: func(_, obj any) { enqueue(obj) }, DeleteFunc: enqueue})
	factory.Start(ctx.Done())
	factory.WaitForCacheSync(ctx.Done())
	// Remember addresses already handed out (nodesim may have been restarted) before giving out new ones.
	pods, _ := s.pods.List(labels.Everything())
	for _, p := range pods {
		if p.Status.PodIP != "" {
			s.ips[p.Namespace+"/"+p.Name], s.used[p.Status.PodIP] = podIP{p.UID, p.Status.PodIP}, true
		}
		if runsToCompletion(p) && p.Status.Phase == corev1.PodRunning { // its process died with the last nodesim
			s.runs[p.UID] = &run{key: p.Namespace + "/" + p.Name, done: true, exitCode: 137, reason: "NodeSimRestarted",
				message: "the node simulator restarted while this container ran; it is not run twice", started: metav1.Now()}
			s.runs[p.UID].finished = s.runs[p.UID].started
		}
	}
	log.Printf("nodesim ready: nodes %v, %d existing pods", s.nodes, len(pods))
	for w := 0; w < 4; w++ {
		go func() {
			for s.work(ctx) {
			}
		}()
	}
	select {}
}

func (s *sim) registerNode(ctx context.Context, name string) error {
	qty := resource.MustParse
	res := corev1.ResourceList{corev1.ResourceCPU: qty("32"), corev1.ResourceMemory: qty("128Gi"), corev1.ResourcePods: qty("500")}
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{
		"kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "sim.bluegreen.io/node": "true"}}}
	cur, err := s.client.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		cur, err = s.client.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
	}
	if err != nil {
		return err
	}
	if len(cur.Spec.Taints) > 0 { // the TaintNodesByCondition admission adds not-ready; this plays node-lifecycle
		cur.Spec.Taints = nil
		if cur, err = s.client.CoreV1().Nodes().Update(ctx, cur, metav1.UpdateOptions{}); err != nil {
			return err
		}
	}
	now := metav1.Now()
	cur.Status.Capacity, cur.Status.Allocatable = res, res
	cur.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: s.nodeIPs[name]},
		{Type: corev1.NodeHostName, Address: name}}
	cur.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue,
		Reason: "KubeletReady", Message: "simulated", LastHeartbeatTime: now, LastTransitionTime: now}}
	cur.Status.NodeInfo.KubeletVersion = "v0.0.0-nodesim"
	_, err = s.client.CoreV1().Nodes().UpdateStatus(ctx, cur, metav1.UpdateOptions{})
	return err
}

func (s *sim) work(ctx context.Context) bool {
	key, quit := s.queue.Get()
	if quit {
		return false
	}
	defer s.queue.Done(key)
	if requeue, err := s.sync(ctx, key); err != nil {
		log.Printf("%s: %v", key, err)
		s.queue.AddRateLimited(key)
	} else {
		s.queue.Forget(key)
		if requeue > 0 {
			s.queue.AddAfter(key, requeue)
		}
	}
	return true
}

// sync moves one pod one step towards what its annotations ask for; it returns when to look again.
func (s *sim) sync(ctx context.Context, key string) (time.Duration, error) {
	ns, name, _ := cache.SplitMetaNamespaceKey(key)
	pod, err := s.pods.Pods(ns).Get(name)
	if apierrors.IsNotFound(err) {
		s.release(key)
		s.forgetRuns(key)
		return 0, nil
	} else if err != nil {
		return 0, err
	}
	if pod.DeletionTimestamp != nil { // the kubelet's part of graceful deletion
		s.kill(pod.UID)
		err := s.client.CoreV1().Pods(ns).Delete(ctx, name, metav1.DeleteOptions{GracePeriodSeconds: new(int64),
			Preconditions: &metav1.Preconditions{UID: &pod.UID}})
		if err == nil || apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
			s.release(key)
			return 0, nil
		}
		return 0, err
	}
	if pod.Spec.NodeName == "" {
		s.mu.Lock()
		node := s.nodes[s.rr%len(s.nodes)]
		s.rr++
		s.mu.Unlock()
		return 0, s.client.CoreV1().Pods(ns).Bind(ctx, &corev1.Binding{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, UID: pod.UID},
			Target:     corev1.ObjectReference{Kind: "Node", Name: node}}, metav1.CreateOptions{})
	}
	if _, ours := s.nodeIPs[pod.Spec.NodeName]; !ours || pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
		return 0, nil
	}

	now := metav1.Now()
	st := pod.Status.DeepCopy()
	if runsToCompletion(pod) { // no address and no pod hook: its process runs on the host, serving nothing
		st.HostIP = s.nodeIPs[pod.Spec.NodeName]
		st.HostIPs = []corev1.HostIP{{IP: st.HostIP}}
		if st.StartTime == nil {
			st.StartTime = &now
		}
		return s.syncRun(ctx, key, pod, st, now)
	}
	if st.PodIP == "" {
		s.mu.Lock()
		a := s.ips[key]
		s.mu.Unlock()
		if a.uid != pod.UID { // not allocated yet (or only for an earlier pod of the same name)
			s.release(key)
			ip, err := s.allocate(key, pod.UID)
			if err != nil {
				return 0, err
			}
			if err := s.runHook("up", key, ip); err != nil {
				s.release(key)
				return 0, err
			}
			a.ip = ip
		}
		st.PodIP, st.PodIPs = a.ip, []corev1.PodIP{{IP: a.ip}}
	}
	st.Phase, st.HostIP = corev1.PodRunning, s.nodeIPs[pod.Spec.NodeName]
	st.HostIPs = []corev1.HostIP{{IP: st.HostIP}}
	if st.StartTime == nil {
		st.StartTime = &now
	}
	crash := pod.Annotations[annCrash] == "true"
	ready, requeue := !crash && pod.Annotations[annReady] != "false", time.Duration(0)
	if n, err := strconv.Atoi(pod.Annotations[annReadyAfter]); err == nil && ready {
		if wait := st.StartTime.Add(time.Duration(n) * time.Second).Sub(now.Time); wait > 0 {
			ready, requeue = false, wait+100*time.Millisecond
		}
	}
	old := map[string]corev1.ContainerStatus{}
	for _, cs := range st.ContainerStatuses {
		old[cs.Name] = cs
	}
	st.ContainerStatuses = nil
	for _, c := range pod.Spec.Containers {
		cs := old[c.Name]
		cs.Name, cs.Image, cs.ImageID, cs.Ready = c.Name, c.Image, "sim://"+c.Image, ready
		cs.ContainerID = "sim://" + string(pod.UID) + "/" + c.Name
		if crash { // one more restart every crashInterval, never running for long
			last := cs.LastTerminationState.Terminated
			if last == nil || now.Sub(last.FinishedAt.Time) >= crashInterval {
				cs.RestartCount++
				cs.LastTerminationState = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
					ExitCode: 1, Reason: "Error", StartedAt: now, FinishedAt: now}}
				last = cs.LastTerminationState.Terminated
			}
			cs.State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff",
				Message: "simulated crash (" + annCrash + ")"}}
			requeue = crashInterval - now.Sub(last.FinishedAt.Time) + 100*time.Millisecond
		} else if cs.State.Running == nil {
			cs.State = corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: now}}
		}
		started := !crash
		cs.Started = &started
		st.ContainerStatuses = append(st.ContainerStatuses, cs)
	}
	readyStatus := map[bool]corev1.ConditionStatus{true: corev1.ConditionTrue, false: corev1.ConditionFalse}[ready]
	for _, c := range []corev1.PodConditionType{corev1.PodReadyToStartContainers, corev1.PodInitialized, corev1.PodScheduled} {
		setCondition(st, c, corev1.ConditionTrue, now)
	}
	setCondition(st, corev1.ContainersReady, readyStatus, now)
	setCondition(st, corev1.PodReady, readyStatus, now)
	if equality.Semantic.DeepEqual(st, &pod.Status) {
		return requeue, nil
	}
	upd := pod.DeepCopy()
	upd.Status = *st
	_, err = s.client.CoreV1().Pods(ns).UpdateStatus(ctx, upd, metav1.UpdateOptions{})
	if apierrors.IsConflict(err) || apierrors.IsNotFound(err) {
		return 0, nil // a newer event is queued already
	}
	return requeue, err
}

func setCondition(st *corev1.PodStatus, t corev1.PodConditionType, v corev1.ConditionStatus, now metav1.Time) {
	for i := range st.Conditions {
		if st.Conditions[i].Type == t {
			if st.Conditions[i].Status != v {
				st.Conditions[i].Status, st.Conditions[i].LastTransitionTime = v, now
			}
			return
		}
	}
	st.Conditions = append(st.Conditions, corev1.PodCondition{Type: t, Status: v, LastTransitionTime: now})
}

// allocate hands out the next free pod address of 198.18.0.0/16, skipping .0, .1 and .255 of every /24
// (198.18.0.1 is kept for the host side of a test network namespace). The rest of 198.18.0.0/15 is for
// Service cluster IPs (198.19.0.0/20, see start.sh) and node addresses (198.19.255.0/24).
func (s *sim) allocate(key string, uid types.UID) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for tries := 0; tries < 1<<16; tries++ {
		off := s.next % (1 << 16)
		s.next++
		if b := off & 0xff; b <= 1 || b == 255 {
			continue
		}
		if ip := fmt.Sprintf("198.18.%d.%d", off>>8, off&0xff); !s.used[ip] {
			s.ips[key], s.used[ip] = podIP{uid, ip}, true
			return ip, nil
		}
	}
	return "", fmt.Errorf("pod address range 198.18.0.0/16 exhausted")
}

func (s *sim) release(key string) {
	s.mu.Lock()
	ip := s.ips[key].ip
	delete(s.ips, key)
	delete(s.used, ip)
	s.mu.Unlock()
	if ip != "" {
		if err := s.runHook("down", key, ip); err != nil {
			log.Printf("%s: %v", key, err)
		}
	}
}

func (s *sim) runHook(op, key, ip string) error {
	if s.podHook == "" {
		return nil
	}
	ns, name, _ := cache.SplitMetaNamespaceKey(key)
	if out, err := exec.Command(s.podHook, op, ns, name, ip).CombinedOutput(); err != nil {
		return fmt.Errorf("pod hook %s: %v: %s", op, err, out)
	}
	return nil
}

// A completion pod's process: started once per pod UID, never again.
type run struct {
	key               string // namespace/name of the pod
	cmd               *exec.Cmd
	done              bool
	exitCode          int32
	reason, message   string
	started, finished metav1.Time
}

func runsToCompletion(p *corev1.Pod) bool {
	return p.Spec.RestartPolicy == corev1.RestartPolicyNever || p.Spec.RestartPolicy == corev1.RestartPolicyOnFailure
}

// syncRun starts the pod's process on its first look and reports it Running, then Succeeded or Failed.
func (s *sim) syncRun(ctx context.Context, key string, pod *corev1.Pod, st *corev1.PodStatus, now metav1.Time) (time.Duration, error) {
	s.runsMu.Lock()
	r := s.runs[pod.UID]
	if r == nil {
		r = s.start(key, pod, now)
		s.runs[pod.UID] = r
	}
	done, code, reason, msg, started, finished := r.done, r.exitCode, r.reason, r.message, r.started, r.finished
	s.runsMu.Unlock()

	if len(pod.Spec.Containers) == 0 {
		return 0, nil
	}
	c := pod.Spec.Containers[0]
	cs := corev1.ContainerStatus{Name: c.Name, Image: c.Image, ImageID: "sim://" + c.Image,
		ContainerID: "sim://" + string(pod.UID) + "/" + c.Name}
	started0 := !done
	cs.Started = &started0
	if done {
		cs.State = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: code, Reason: reason,
			Message: msg, StartedAt: started, FinishedAt: finished, ContainerID: cs.ContainerID}}
		st.Phase = corev1.PodSucceeded
		if code != 0 {
			st.Phase = corev1.PodFailed
		}
	} else {
		st.Phase = corev1.PodRunning
		cs.State = corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: started}}
		cs.Ready = true
	}
	st.ContainerStatuses = []corev1.ContainerStatus{cs}
	for _, t := range []corev1.PodConditionType{corev1.PodReadyToStartContainers, corev1.PodInitialized, corev1.PodScheduled} {
		setCondition(st, t, corev1.ConditionTrue, now)
	}
	readyStatus := map[bool]corev1.ConditionStatus{true: corev1.ConditionTrue, false: corev1.ConditionFalse}[!done]
	setCondition(st, corev1.ContainersReady, readyStatus, now)
	setCondition(st, corev1.PodReady, readyStatus, now)
	if equality.Semantic.DeepEqual(st, &pod.Status) {
		return 0, nil
	}
	upd := pod.DeepCopy()
	upd.Status = *st
	_, err := s.client.CoreV1().Pods(pod.Namespace).UpdateStatus(ctx, upd, metav1.UpdateOptions{})
	if apierrors.IsConflict(err) || apierrors.IsNotFound(err) {
		return 0, nil
	}
	return 0, err
}

// start launches the first container's command (runsMu held); its end re-queues the pod.
func (s *sim) start(key string, pod *corev1.Pod, now metav1.Time) *run {
	r := &run{key: key, started: now}
	fail := func(reason, msg string) *run {
		r.done, r.exitCode, r.reason, r.message, r.finished = true, 128, reason, msg, now
		return r
	}
	if len(pod.Spec.Containers) == 0 {
		return fail("NoContainer", "the pod has no container")
	}
	c := pod.Spec.Containers[0]
	argv := append(append([]string{}, c.Command...), c.Args...)
	if len(c.Command) == 0 {
		return fail("NoCommand", "container "+c.Name+" has no command: the node simulator runs a container's command on the host, it does not pull images")
	}
	if s.wrapper != "" {
		argv = append([]string{s.wrapper}, argv...)
	}
	logPath := filepath.Join(s.logDir, fmt.Sprintf("%s_%s_%s.log", pod.Namespace, pod.Name, pod.UID))
	out, err := os.Create(logPath)
	if err != nil {
		return fail("StartError", err.Error())
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.TempDir()}
	for _, e := range c.Env {
		if e.ValueFrom == nil {
			cmd.Env = append(cmd.Env, e.Name+"="+e.Value)
		}
	}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Dir = os.TempDir()
	if c.WorkingDir != "" {
		cmd.Dir = c.WorkingDir
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // deletion kills the whole group
	if err := cmd.Start(); err != nil {
		out.Close()
		return fail("StartError", err.Error())
	}
	r.cmd = cmd
	log.Printf("%s: running %q (pid %d, output %s)", key, argv, cmd.Process.Pid, logPath)
	go func() {
		err := cmd.Wait()
		out.Close()
		code := int32(0)
		if ee, ok := err.(*exec.ExitError); ok {
			code = int32(ee.ExitCode())
			if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				code = 128 + int32(ws.Signal())
			}
		} else if err != nil {
			code = 128
		}
		s.runsMu.Lock()
		r.done, r.exitCode, r.finished, r.reason = true, code, metav1.Now(), "Completed"
		if code != 0 {
			r.reason, r.message = "Error", logTail(logPath)
		}
		s.runsMu.Unlock()
		log.Printf("%s: exited with code %d", key, code)
		s.queue.Add(key)
	}()
	return r
}

// logTail is what the kubelet's FallbackToLogsOnError keeps: the last 80 lines, at most 2048 bytes.
func logTail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	b = bytes.TrimRight(b, "\n")
	if lines := bytes.Split(b, []byte("\n")); len(lines) > 80 {
		b = bytes.Join(lines[len(lines)-80:], []byte("\n"))
	}
	if len(b) > 2048 {
		b = b[len(b)-2048:]
	}
	return strings.ToValidUTF8(string(b), "?")
}

func (s *sim) kill(uid types.UID) {
	s.runsMu.Lock()
	defer s.runsMu.Unlock()
	if r := s.runs[uid]; r != nil && !r.done && r.cmd != nil {
		_ = syscall.Kill(-r.cmd.Process.Pid, syscall.SIGKILL)
	}
}

// forgetRuns drops the records of a pod name that no longer exists (memory stays bounded).
func (s *sim) forgetRuns(key string) {
	s.runsMu.Lock()
	defer s.runsMu.Unlock()
	for uid, r := range s.runs {
		if r.key == key {
			if !r.done && r.cmd != nil {
				_ = syscall.Kill(-r.cmd.Process.Pid, syscall.SIGKILL)
			}
			delete(s.runs, uid)
		}
	}
}
