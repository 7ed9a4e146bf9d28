// backend plays the application inside every simulated pod. One process serves all pods: it runs in the root
// network namespace (so it reaches the API server on 127.0.0.1) but opens its HTTP listener inside the test's
// network namespace, where every pod address is configured; the local address of a connection tells which
// pod it was sent to. nodesim's pod hook registers and removes pods through a control socket.
//
// What a pod answers (labels and annotations read live from a pod informer):
//
//	<readiness path>  200 "ready" or 503 "not ready": the path of the container's readinessProbe.httpGet,
//	                  /readyz when it has none. Unready as long as nodesim keeps the pod unready
//	                  (sim.bluegreen.io/ready: "false", ready-after-seconds not yet reached).
//	anything else     200 {"color","revision","pod","namespace","ip"}: color and revision are the pod labels
//	                  bluegreen.io/color and bluegreen.io/revision. Served whether ready or not, as a real
//	                  app serves whoever reaches it.
//	                  With the container env APP_DATABASE_URL (a PostgreSQL URL) and APP_QUERY (SQL returning one
//	                  value; $1, if used, is the revision), every such request runs the query first and answers
//	                  "db": its value, or 500 naming the error: an app that needs a column fails without it.
//
// A pod annotated sim.bluegreen.io/crash: "true" has no running container: its connections are closed at once.
// A connection to an address no pod holds gets 421.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/netip"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	listers "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
)

const (
	labelColor    = "bluegreen.io/color"
	labelRevision = "bluegreen.io/revision"
	annReady      = "sim.bluegreen.io/ready"
	annCrash      = "sim.bluegreen.io/crash"
	annReadyAfter = "sim.bluegreen.io/ready-after-seconds"
)

// podNet is the only range pod addresses may come from (the benchmarking range, never a real network).
var podNet = netip.MustParsePrefix("198.18.0.0/15")

type pod struct {
	Namespace  string    `json:"namespace"`
	Name       string    `json:"pod"`
	IP         string    `json:"ip"`
	Registered time.Time `json:"registered"`
}

type server struct {
	pods listers.PodLister

	mu    sync.RWMutex
	byIP  map[netip.Addr]pod
	count map[netip.Addr]*atomic.Uint64 // requests served per address (for the control socket's listing)

	dbMu sync.Mutex
	dbs  map[string]*pgxpool.Pool // by APP_DATABASE_URL
}

func main() {
	kubeconfig := flag.String("kubeconfig", "", "kubeconfig of the API server")
	netns := flag.String("netns", "", "network namespace (name under /var/run/netns, or a path) to listen in; empty: the current one")
	listen := flag.String("listen", "0.0.0.0:8080", "address the pods' HTTP server listens on (inside --netns)")
	control := flag.String("control", "", "unix socket of the control API (POST /up, POST /down, GET /pods)")
	flag.Parse()
	if *control == "" {
		log.Fatal("--control is required")
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", *kubeconfig)
	if err != nil {
		log.Fatalf("kubeconfig: %v", err)
	}
	client := kubernetes.NewForConfigOrDie(cfg)
	factory := informers.NewSharedInformerFactory(client, 0)
	podInf := factory.Core().V1().Pods()
	s := &server{pods: podInf.Lister(), byIP: map[netip.Addr]pod{}, count: map[netip.Addr]*atomic.Uint64{}, dbs: map[string]*pgxpool.Pool{}}
	podInf.Informer() // registers the informer before Start
	ctx := context.Background()
	factory.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), podInf.Informer().HasSynced) {
		log.Fatal("pod informer never synced")
	}

	ln, err := listenIn(*netns, *listen)
	if err != nil {
		log.Fatalf("listen %s in netns %q: %v", *listen, *netns, err)
	}
	data := &http.Server{Handler: http.HandlerFunc(s.serveApp), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 90 * time.Second}
	go func() { log.Fatal(data.Serve(&crashFilter{Listener: ln, s: s})) }()

	_ = os.Remove(*control)
	cl, err := net.Listen("unix", *control)
	if err != nil {
		log.Fatalf("control socket: %v", err)
	}
	_ = os.Chmod(*control, 0o600)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /up", s.up)
	mux.HandleFunc("POST /down", s.down)
	mux.HandleFunc("GET /pods", s.list)
	log.Printf("backend ready: pods served on %s in netns %q, control on %s", *listen, *netns, *control)
	log.Fatal(http.Serve(cl, mux))
}

// listenIn opens a TCP listener inside a network namespace. The calling goroutine's thread switches into the
// namespace and is never switched back: it stays locked, so the Go runtime ends that thread when the
// goroutine returns and no other goroutine ever runs in the wrong namespace. The socket keeps its namespace.
func listenIn(netns, addr string) (net.Listener, error) {
	if netns == "" {
		return net.Listen("tcp", addr)
	}
	path := netns
	if path[0] != '/' {
		path = "/var/run/netns/" + netns
	}
	type result struct {
		ln  net.Listener
		err error
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread() // deliberately never unlocked
		f, err := os.Open(path)
		if err != nil {
			done <- result{nil, err}
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			done <- result{nil, fmt.Errorf("setns: %w", err)}
			return
		}
		ln, err := net.Listen("tcp", addr)
		done <- result{ln, err}
	}()
	r := <-done
	return r.ln, r.err
}

// crashFilter closes connections to crash-looping pods as soon as they are accepted: nothing listens there.
type crashFilter struct {
	net.Listener
	s *server
}

func (c *crashFilter) Accept() (net.Conn, error) {
	for {
		conn, err := c.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if ap, ok := addrOf(conn.LocalAddr()); ok {
			if p, found := c.s.lookup(ap); found {
				if k8sPod, err := c.s.pods.Pods(p.Namespace).Get(p.Name); err == nil && k8sPod.Annotations[annCrash] == "true" {
					conn.Close()
					continue
				}
			}
		}
		return conn, nil
	}
}

func addrOf(a net.Addr) (netip.Addr, bool) {
	tcp, ok := a.(*net.TCPAddr)
	if !ok {
		return netip.Addr{}, false
	}
	ap, ok := netip.AddrFromSlice(tcp.IP)
	return ap.Unmap(), ok
}

func (s *server) lookup(a netip.Addr) (pod, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	p, ok := s.byIP[a]
	return p, ok
}

type answer struct {
	Color     string `json:"color"`
	Revision  string `json:"revision"`
	Pod       string `json:"pod"`
	Namespace string `json:"namespace"`
	IP        string `json:"ip"`
	DB        string `json:"db,omitempty"`
}

func (s *server) serveApp(w http.ResponseWriter, r *http.Request) {
	local, _ := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	a, ok := addrOf(local)
	p, found := s.lookup(a)
	if !ok || !found {
		http.Error(w, fmt.Sprintf("no pod holds address %v", local), http.StatusMisdirectedRequest)
		return
	}
	s.mu.RLock()
	n := s.count[a]
	s.mu.RUnlock()
	if n != nil {
		n.Add(1)
	}
	// The pod may already be gone from the API (deleted, hook not yet called): a terminating app still answers.
	k8sPod, _ := s.pods.Pods(p.Namespace).Get(p.Name)
	var labels, anns map[string]string
	probe := "/readyz"
	if k8sPod != nil {
		labels, anns = k8sPod.Labels, k8sPod.Annotations
		probe = readinessPath(k8sPod, probe)
	}
	w.Header().Set("X-Pod", p.Name)
	if r.URL.Path == probe {
		if ready(anns, p.Registered, time.Now()) {
			fmt.Fprintln(w, "ready")
		} else {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
		}
		return
	}
	ans := answer{Color: labels[labelColor], Revision: labels[labelRevision], Pod: p.Name, Namespace: p.Namespace, IP: p.IP}
	if dsn, query := envOf(k8sPod, "APP_DATABASE_URL"), envOf(k8sPod, "APP_QUERY"); dsn != "" && query != "" {
		v, err := s.query(r.Context(), dsn, query, ans.Revision)
		if err != nil {
			http.Error(w, fmt.Sprintf("database: %v", err), http.StatusInternalServerError)
			return
		}
		ans.DB = v
	}
	w.Header().Set("Content-Type", "application/json")
	body, _ := json.Marshal(ans)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)+1))
	w.Write(append(body, '\n'))
}

// envOf: the literal value of an env var of the pod's first container that sets it.
func envOf(p *corev1.Pod, name string) string {
	if p == nil {
		return ""
	}
	for _, c := range p.Spec.Containers {
		for _, e := range c.Env {
			if e.Name == name {
				return e.Value
			}
		}
	}
	return ""
}

// query runs the app's query on a pool per database (connections are reused, as an app's are).
func (s *server) query(ctx context.Context, dsn, query, revision string) (string, error) {
	s.dbMu.Lock()
	pool := s.dbs[dsn]
	if pool == nil {
		cfg, err := pgxpool.ParseConfig(dsn)
		if err != nil {
			s.dbMu.Unlock()
			return "", fmt.Errorf("APP_DATABASE_URL: %w", err)
		}
		cfg.MaxConns = 16
		if pool, err = pgxpool.NewWithConfig(context.Background(), cfg); err != nil {
			s.dbMu.Unlock()
			return "", err
		}
		s.dbs[dsn] = pool
	}
	s.dbMu.Unlock()
	var args []any
	if strings.Contains(query, "$1") {
		args = append(args, revision)
	}
	var v any
	if err := pool.QueryRow(ctx, query, args...).Scan(&v); err != nil {
		return "", err
	}
	return fmt.Sprint(v), nil
}

// readinessPath: the path of the first container's HTTP readiness probe, or def.
func readinessPath(p *corev1.Pod, def string) string {
	for _, c := range p.Spec.Containers {
		if c.ReadinessProbe != nil && c.ReadinessProbe.HTTPGet != nil && c.ReadinessProbe.HTTPGet.Path != "" {
			return c.ReadinessProbe.HTTPGet.Path
		}
	}
	return def
}

// ready follows nodesim's rules, so the app and the pod's Ready condition agree.
func ready(anns map[string]string, started, now time.Time) bool {
	if anns[annReady] == "false" || anns[annCrash] == "true" {
		return false
	}
	if n, err := strconv.Atoi(anns[annReadyAfter]); err == nil {
		return !now.Before(started.Add(time.Duration(n) * time.Second))
	}
	return true
}

// up registers a pod at an address; it answers once the pod informer knows the pod (so its first request
// already sees its labels), or 504 after 10 s.
func (s *server) up(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	a, err := netip.ParseAddr(q.Get("ip"))
	if err != nil || !podNet.Contains(a) || q.Get("ns") == "" || q.Get("pod") == "" {
		http.Error(w, "need ns, pod and ip (an address of 198.18.0.0/15)", http.StatusBadRequest)
		return
	}
	p := pod{Namespace: q.Get("ns"), Name: q.Get("pod"), IP: a.String(), Registered: time.Now()}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := s.pods.Pods(p.Namespace).Get(p.Name); err == nil {
			break
		}
		if time.Now().After(deadline) {
			http.Error(w, "pod "+p.Namespace+"/"+p.Name+" not in the informer after 10s", http.StatusGatewayTimeout)
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.mu.Lock()
	if old, ok := s.byIP[a]; ok && (old.Namespace != p.Namespace || old.Name != p.Name) {
		log.Printf("address %s moves from %s/%s to %s/%s", a, old.Namespace, old.Name, p.Namespace, p.Name)
	}
	s.byIP[a] = p
	s.count[a] = new(atomic.Uint64)
	s.mu.Unlock()
	log.Printf("up %s/%s %s", p.Namespace, p.Name, a)
	fmt.Fprintln(w, "ok")
}

func (s *server) down(w http.ResponseWriter, r *http.Request) {
	a, err := netip.ParseAddr(r.URL.Query().Get("ip"))
	if err != nil {
		http.Error(w, "need ip", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	p, ok := s.byIP[a]
	var n uint64
	if c := s.count[a]; c != nil {
		n = c.Load()
	}
	delete(s.byIP, a)
	delete(s.count, a)
	s.mu.Unlock()
	if ok {
		log.Printf("down %s/%s %s (served %d requests)", p.Namespace, p.Name, a, n)
	}
	fmt.Fprintln(w, "ok")
}

func (s *server) list(w http.ResponseWriter, _ *http.Request) {
	type row struct {
		pod
		Served uint64 `json:"served"`
	}
	s.mu.RLock()
	rows := make([]row, 0, len(s.byIP))
	for a, p := range s.byIP {
		rows = append(rows, row{p, s.count[a].Load()})
	}
	s.mu.RUnlock()
	sort.Slice(rows, func(i, j int) bool { return rows[i].IP < rows[j].IP })
	w.Header().Set("Content-Type", "application/json")
	if err := json.NewEncoder(w).Encode(rows); err != nil && !errors.Is(err, net.ErrClosed) {
		log.Printf("list: %v", err)
	}
}
