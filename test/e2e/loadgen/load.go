package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// answer is what a backend pod returns (test/controlplane/traffic/backend).
type answer struct {
	Color    string `json:"color"`
	Revision string `json:"revision"`
	Pod      string `json:"pod"`
	DB       string `json:"db"` // the database scenario: the schema version the request's query saw
}

// record is one request at the main host.
type record struct {
	Start   time.Time
	End     time.Time
	NewConn bool // false: the keep-alive client
	Status  int  // 0: no HTTP response
	Color   string
	Rev     string
	Pod     string
	DB      string
	Err     string
}

func (r *record) ok() bool { return r.Err == "" && r.Status >= 200 && r.Status < 300 }

// httpTarget sends requests with a given Host header to Traefik's entry point.
type httpTarget struct {
	web       string
	keepAlive *http.Client
	fresh     *http.Client
}

func newTarget(web string) *httpTarget {
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	mk := func(disableKeepAlive bool) *http.Client {
		return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
			DialContext:         dialer.DialContext,
			DisableKeepAlives:   disableKeepAlive,
			MaxIdleConns:        256,
			MaxIdleConnsPerHost: 256,
			IdleConnTimeout:     60 * time.Second,
		}}
	}
	return &httpTarget{web: web, keepAlive: mk(false), fresh: mk(true)}
}

// get sends GET / with the Host header and fills the record (Start is set by the caller).
func (t *httpTarget) get(ctx context.Context, host string, newConn bool, rec *record) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+t.web+"/", nil)
	if err != nil {
		rec.Err = err.Error()
		return
	}
	req.Host = host
	client := t.keepAlive
	if newConn {
		client = t.fresh
	}
	resp, err := client.Do(req)
	if err != nil {
		rec.Err, rec.End = err.Error(), time.Now()
		return
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	rec.End, rec.Status = time.Now(), resp.StatusCode
	if err != nil {
		rec.Err = "reading body: " + err.Error()
		return
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		var a answer
		if err := json.Unmarshal(body, &a); err != nil || a.Color == "" {
			rec.Err = fmt.Sprintf("not a backend answer: %.80q", body)
			return
		}
		rec.Color, rec.Rev, rec.Pod, rec.DB = a.Color, a.Revision, a.Pod, a.DB
	} else {
		rec.Err = fmt.Sprintf("HTTP %d: %.80q", resp.StatusCode, body)
	}
}

// loader sends `rate` requests per second at one host, open loop (a slow answer never slows the sender),
// alternating the keep-alive and the new-connection client, until stopped.
type loader struct {
	t        *httpTarget
	host     string
	rate     int
	inflight atomic.Int64

	mu      sync.Mutex
	records []*record
	wg      sync.WaitGroup
}

const maxInflight = 2000

func (l *loader) run(ctx context.Context) {
	interval := time.Second / time.Duration(l.rate)
	next := time.Now()
	for i := 0; ; i++ {
		next = next.Add(interval)
		if d := time.Until(next); d > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(d):
			}
		} else if ctx.Err() != nil {
			return
		}
		rec := &record{Start: time.Now(), NewConn: i%2 == 1}
		l.mu.Lock()
		l.records = append(l.records, rec)
		l.mu.Unlock()
		if l.inflight.Load() >= maxInflight { // the client itself could not keep up: count it as a failure
			rec.End, rec.Err = rec.Start, "client overloaded: too many requests in flight"
			continue
		}
		l.inflight.Add(1)
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			defer l.inflight.Add(-1)
			// Not the run's context: a request in flight when the load stops is still finished and counted.
			reqCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			l.t.get(reqCtx, l.host, rec.NewConn, rec)
		}()
	}
}

// count: requests finished so far.
func (l *loader) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.records) - int(l.inflight.Load())
}

func (l *loader) wait() []*record {
	l.wg.Wait()
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.records
}
