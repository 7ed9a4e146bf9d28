package main

// The proxy between the operator replicas and the API server. Each replica has a listener of its own, so
// every request is known to come from replica A or B. It terminates TLS with the plane's own serving
// certificate (signed by the plane's throwaway CA, SAN 127.0.0.1), so the operator verifies it exactly as
// it verifies the API server, and forwards over TLS to the API server with the replica's own bearer token.
// It can cut every open watch stream, answer 429/500 or delay requests (fault windows), and it keeps:
//   - the Lease's holder as seen in every lease answer, and each replica's identity (from its lease
//     writes), to check that a replica writes only while it holds the lease;
//   - requests per release per second, to check that no release is in a hot loop.

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"time"
)

type faultMode int

const (
	faultNone faultMode = iota
	fault429
	fault500
	faultSlow
)

type leaseObs struct {
	at     time.Time
	holder string
}

type proxy struct {
	upstream *url.URL
	rp       *httputil.ReverseProxy
	rec      *recorder
	releases map[string]bool // ns/name of the releases under test
	leaseNS  string
	rateWin  time.Duration
	rateMax  int

	mu         sync.Mutex
	mode       faultMode
	prob       float64
	injected   map[faultMode]int
	watches    map[int]context.CancelFunc
	nextID     int
	cut        int
	identity   map[string]string    // replica -> identity of its current process ("" until its first lease write)
	ambiguous  map[string]time.Time // replica -> last lease write whose outcome is unknown
	holder     leaseObs             // the last holder seen in a lease answer
	terms      int                  // holder changes seen
	writes     map[string]int       // replica -> writes (leases excluded)
	requests   map[string]int       // replica -> requests
	perRelease map[string][]int64   // release -> request times (unix ms) inside the window
	relTotal   map[string]int       // release -> requests over the run
	rateOpen   map[string]time.Time // release -> when a rate violation was last recorded
	maxWindow  int                  // most requests of one release in one window
	maxWinRel  string
}

func newProxy(server string, ca *x509.CertPool, rec *recorder, releases map[string]bool, leaseNS string, rateWin time.Duration, rateMax int) *proxy {
	u, _ := url.Parse(server)
	px := &proxy{upstream: u, rec: rec, releases: releases, leaseNS: leaseNS, rateWin: rateWin, rateMax: rateMax,
		injected: map[faultMode]int{}, watches: map[int]context.CancelFunc{}, identity: map[string]string{},
		ambiguous: map[string]time.Time{}, writes: map[string]int{}, requests: map[string]int{},
		perRelease: map[string][]int64{}, relTotal: map[string]int{}, rateOpen: map[string]time.Time{}}
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca}, MaxIdleConnsPerHost: 64,
		IdleConnTimeout: 30 * time.Second, ResponseHeaderTimeout: 0, DialContext: (&net.Dialer{Timeout: 5 * time.Second}).DialContext}
	px.rp = &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(u)
			r.Out.Host = u.Host
		},
		Transport:      tr,
		FlushInterval:  -1, // watch events go out as they come
		ErrorLog:       log.New(io.Discard, "", 0),
		ModifyResponse: px.observeLease,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			// The API server is away (restarting) or the stream was cut: what a load balancer in front of
			// it would answer. A lease write that got here has an unknown outcome.
			if isLease(r) && isWrite(r.Method) {
				px.mu.Lock()
				px.ambiguous[replicaOf(r)] = time.Now()
				px.mu.Unlock()
			}
			if errors.Is(err, context.Canceled) {
				panic(http.ErrAbortHandler) // a cut: close the connection mid-answer
			}
			writeStatus(w, http.StatusServiceUnavailable, "ServiceUnavailable", "chaos proxy: API server unreachable: "+err.Error())
		},
	}
	return px
}

type replicaKey struct{}

func replicaOf(r *http.Request) string {
	s, _ := r.Context().Value(replicaKey{}).(string)
	return s
}

func isWrite(method string) bool {
	switch method {
	case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		return true
	}
	return false
}

func isLease(r *http.Request) bool {
	return strings.HasPrefix(r.URL.Path, "/apis/coordination.k8s.io/")
}

func isWatch(r *http.Request) bool {
	w := r.URL.Query().Get("watch")
	return w == "true" || w == "1"
}

func writeStatus(w http.ResponseWriter, code int, reason, msg string) {
	w.Header().Set("Content-Type", "application/json")
	if code == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", "1")
	}
	w.WriteHeader(code)
	b, _ := json.Marshal(map[string]any{"kind": "Status", "apiVersion": "v1", "status": "Failure",
		"message": msg, "reason": reason, "code": code})
	_, _ = w.Write(b)
}

// serve listens for one replica on 127.0.0.1:0 and returns the port.
func (px *proxy) serve(ctx context.Context, replica string, certFile, keyFile string) (int, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return 0, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			px.handle(w, r.WithContext(context.WithValue(r.Context(), replicaKey{}, replica)), replica)
		}),
		TLSConfig:    &tls.Config{Certificates: []tls.Certificate{cert}},
		TLSNextProto: map[string]func(*http.Server, *tls.Conn, http.Handler){}, // HTTP/1.1 only, like the operator
		ErrorLog:     log.New(io.Discard, "", 0),
	}
	go func() { _ = srv.ServeTLS(ln, "", "") }()
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// releaseOf names the release a request is about ("" for lists, watches and leases): the object name in
// the path or, for a create, in the body, with -blue/-green/-preview taken off; an Event by the object
// it is about.
func (px *proxy) releaseOf(r *http.Request, body []byte) string {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	ns, name := "", ""
	for i := 0; i+1 < len(parts); i++ {
		if parts[i] == "namespaces" {
			ns = parts[i+1]
			if i+3 < len(parts) {
				name = parts[i+3]
			}
			break
		}
	}
	if ns == "" {
		return ""
	}
	if name == "" && r.Method == http.MethodPost && len(body) > 0 {
		var obj struct {
			Metadata       struct{ Name string } `json:"metadata"`
			InvolvedObject struct{ Name string } `json:"involvedObject"`
			Regarding      struct{ Name string } `json:"regarding"`
		}
		if json.Unmarshal(body, &obj) == nil {
			name = obj.InvolvedObject.Name
			if name == "" {
				name = obj.Regarding.Name
			}
			if name == "" {
				name = obj.Metadata.Name
			}
		}
	}
	for _, suffix := range []string{"-blue", "-green", "-preview"} {
		if n, ok := strings.CutSuffix(name, suffix); ok && px.releases[key(ns, n)] {
			return key(ns, n)
		}
	}
	if px.releases[key(ns, name)] {
		return key(ns, name)
	}
	return ""
}

func (px *proxy) handle(w http.ResponseWriter, r *http.Request, replica string) {
	var body []byte
	if r.Body != nil && isWrite(r.Method) {
		body, _ = io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	now := time.Now()
	rel := px.releaseOf(r, body)
	lease := isLease(r)
	px.mu.Lock()
	px.requests[replica]++
	var rateMsg string
	if rel != "" {
		px.relTotal[rel]++
		ms := now.UnixMilli()
		win := px.perRelease[rel]
		cut := 0
		for cut < len(win) && win[cut] <= ms-px.rateWin.Milliseconds() {
			cut++
		}
		win = append(win[cut:], ms)
		px.perRelease[rel] = win
		if len(win) > px.maxWindow {
			px.maxWindow, px.maxWinRel = len(win), rel
		}
		if len(win) > px.rateMax && now.Sub(px.rateOpen[rel]) > px.rateWin {
			px.rateOpen[rel] = now
			rateMsg = fmt.Sprintf("%d requests in %s (bound %d), last %s %s from replica %s", len(win), px.rateWin, px.rateMax, r.Method, r.URL.Path, replica)
		}
	}
	var termMsg string
	if lease && isWrite(r.Method) && len(body) > 0 {
		var l struct {
			Spec struct{ HolderIdentity string } `json:"spec"`
		}
		if json.Unmarshal(body, &l) == nil && l.Spec.HolderIdentity != "" {
			px.identity[replica] = l.Spec.HolderIdentity
		}
	}
	if !lease && isWrite(r.Method) {
		px.writes[replica]++
		id := px.identity[replica]
		amb, isAmb := px.ambiguous[replica]
		if id == "" || px.holder.holder != id {
			if !(isAmb && amb.After(px.holder.at)) {
				termMsg = fmt.Sprintf("replica %s (identity %q) sent %s %s while the lease was held by %q (seen %s ago)",
					replica, id, r.Method, r.URL.Path, px.holder.holder, now.Sub(px.holder.at).Round(time.Millisecond))
			}
		}
	}
	mode, prob := px.mode, px.prob
	px.mu.Unlock()
	if rateMsg != "" {
		px.rec.add(vRate, rel, rateMsg)
	}
	if termMsg != "" {
		px.rec.add(vLeaseTerm, rel, termMsg)
	}

	if mode != faultNone && rand.Float64() < prob {
		px.mu.Lock()
		px.injected[mode]++
		px.mu.Unlock()
		switch mode {
		case fault429:
			writeStatus(w, http.StatusTooManyRequests, "TooManyRequests", "chaos proxy: too many requests")
			return
		case fault500:
			writeStatus(w, http.StatusInternalServerError, "InternalError", "chaos proxy: internal error")
			return
		case faultSlow:
			select {
			case <-time.After(time.Duration(500+rand.IntN(2500)) * time.Millisecond):
			case <-r.Context().Done():
				return
			}
		}
	}
	if isWatch(r) {
		ctx, cancel := context.WithCancel(r.Context())
		px.mu.Lock()
		px.nextID++
		id := px.nextID
		px.watches[id] = cancel
		px.mu.Unlock()
		defer func() {
			px.mu.Lock()
			delete(px.watches, id)
			px.mu.Unlock()
			cancel()
		}()
		r = r.WithContext(ctx)
	}
	px.rp.ServeHTTP(w, r)
}

// observeLease reads the holder from every successful lease answer (reads included).
func (px *proxy) observeLease(resp *http.Response) error {
	r := resp.Request
	if !isLease(r) || isWatch(r) || resp.StatusCode/100 != 2 {
		return nil
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if err != nil {
		return nil
	}
	var l struct {
		Metadata struct{ Name string }           `json:"metadata"`
		Spec     struct{ HolderIdentity string } `json:"spec"`
	}
	if json.Unmarshal(body, &l) != nil || l.Metadata.Name == "" {
		return nil
	}
	px.mu.Lock()
	if l.Spec.HolderIdentity != px.holder.holder {
		px.terms++
	}
	px.holder = leaseObs{time.Now(), l.Spec.HolderIdentity}
	px.mu.Unlock()
	return nil
}

// cutWatches ends every open watch stream mid-answer; returns how many.
func (px *proxy) cutWatches() int {
	px.mu.Lock()
	defer px.mu.Unlock()
	n := len(px.watches)
	for id, c := range px.watches {
		c()
		delete(px.watches, id)
	}
	px.cut += n
	return n
}

func (px *proxy) setFault(m faultMode, prob float64) {
	px.mu.Lock()
	px.mode, px.prob = m, prob
	px.mu.Unlock()
}

// forget is called when a replica's process is replaced: the new one has no identity until it writes
// the lease.
func (px *proxy) forget(replica string) {
	px.mu.Lock()
	px.identity[replica] = ""
	delete(px.ambiguous, replica)
	px.mu.Unlock()
}

// leader returns the replica whose current process holds the lease ("" when none is known).
func (px *proxy) leader() string {
	px.mu.Lock()
	defer px.mu.Unlock()
	for rep, id := range px.identity {
		if id != "" && id == px.holder.holder {
			return rep
		}
	}
	return ""
}

type counts struct {
	requests, writes, relTotal map[string]int
	maxWindow                  int
	maxWinRel                  string
}

func copyMap(m map[string]int) map[string]int {
	c := make(map[string]int, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

func (px *proxy) saveCounts() counts {
	px.mu.Lock()
	defer px.mu.Unlock()
	return counts{copyMap(px.requests), copyMap(px.writes), copyMap(px.relTotal), px.maxWindow, px.maxWinRel}
}

func (px *proxy) restoreCounts(c counts) {
	px.mu.Lock()
	defer px.mu.Unlock()
	px.requests, px.writes, px.relTotal, px.maxWindow, px.maxWinRel = c.requests, c.writes, c.relTotal, c.maxWindow, c.maxWinRel
}
