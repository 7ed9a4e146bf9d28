package main

// A minimal client for the plane's API server (admin token, the plane's CA): the runner's own reads and
// writes go straight to the API server, never through the proxy the operator replicas use.

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

type plane struct {
	dir      string
	server   string // https://127.0.0.1:<port>
	token    string // admin
	caPEM    []byte
	certFile string // the API server's serving certificate (SAN 127.0.0.1), reused by the proxy
	keyFile  string
}

func loadPlane(dir string) (*plane, error) {
	ports, err := os.ReadFile(filepath.Join(dir, "ports"))
	if err != nil {
		return nil, err
	}
	p := &plane{dir: dir, certFile: filepath.Join(dir, "pki", "apiserver.crt"), keyFile: filepath.Join(dir, "pki", "apiserver.key")}
	for _, line := range strings.Split(string(ports), "\n") {
		if v, ok := strings.CutPrefix(line, "APISERVER_PORT="); ok {
			p.server = "https://127.0.0.1:" + strings.TrimSpace(v)
		}
	}
	if p.server == "" {
		return nil, fmt.Errorf("%s/ports has no APISERVER_PORT", dir)
	}
	if p.caPEM, err = os.ReadFile(filepath.Join(dir, "pki", "ca.crt")); err != nil {
		return nil, err
	}
	f, err := os.Open(filepath.Join(dir, "pki", "tokens.csv"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil {
		return nil, err
	}
	for _, rec := range recs {
		if len(rec) >= 2 && rec[1] == "admin" {
			p.token = rec[0]
		}
	}
	if p.token == "" {
		return nil, fmt.Errorf("no admin token in %s/pki/tokens.csv", dir)
	}
	return p, nil
}

func (p *plane) pid(component string) int {
	b, err := os.ReadFile(filepath.Join(p.dir, "pids", component+".pid"))
	if err != nil {
		return 0
	}
	var pid int
	fmt.Sscan(strings.TrimSpace(string(b)), &pid)
	return pid
}

func (p *plane) caPool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(p.caPEM)
	return pool
}

type kube struct {
	server string
	token  string
	http   *http.Client
}

func newKube(p *plane) *kube {
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: p.caPool()}, MaxIdleConnsPerHost: 8,
		IdleConnTimeout: 30 * time.Second}
	return &kube{server: p.server, token: p.token, http: &http.Client{Transport: tr, Timeout: 15 * time.Second}}
}

type apiError struct {
	code int
	body string
}

func (e *apiError) Error() string {
	return fmt.Sprintf("HTTP %d: %s", e.code, strings.TrimSpace(e.body))
}

func isNotFound(err error) bool {
	ae, ok := err.(*apiError)
	return ok && ae.code == 404
}

// do sends one request; body may be nil. out (if not nil) receives the decoded JSON answer.
func (k *kube) do(ctx context.Context, method, path, contentType string, body any, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, k.server+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+k.token)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "bgo-chaos-runner")
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := k.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return &apiError{resp.StatusCode, string(data)}
	}
	if out != nil {
		return json.Unmarshal(data, out)
	}
	return nil
}

func (k *kube) get(ctx context.Context, path string, out any) error {
	return k.do(ctx, http.MethodGet, path, "", nil, out)
}

func (k *kube) mergePatch(ctx context.Context, path string, patch any) error {
	return k.do(ctx, http.MethodPatch, path, "application/merge-patch+json", patch, nil)
}

func (k *kube) create(ctx context.Context, path string, obj any) error {
	err := k.do(ctx, http.MethodPost, path, "application/json", obj, nil)
	if ae, ok := err.(*apiError); ok && ae.code == 409 {
		return nil // already there
	}
	return err
}

// retry runs f until it succeeds or the context ends (the API server may be restarting).
func retry(ctx context.Context, what string, f func() error) error {
	var err error
	for i := 0; ; i++ {
		if err = f(); err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: %w (last error: %v)", what, ctx.Err(), err)
		case <-time.After(time.Duration(min(i+1, 5)) * 200 * time.Millisecond):
		}
	}
}

// Objects are read as generic JSON; only the fields the checks need are typed.
type objMeta struct {
	Name              string            `json:"name"`
	Namespace         string            `json:"namespace"`
	UID               string            `json:"uid"`
	Generation        int64             `json:"generation"`
	DeletionTimestamp string            `json:"deletionTimestamp,omitempty"`
	Labels            map[string]string `json:"labels,omitempty"`
	ResourceVersion   string            `json:"resourceVersion"`
}

type condition struct {
	Type   string `json:"type"`
	Status string `json:"status"`
	Reason string `json:"reason"`
}

type release struct {
	Metadata objMeta `json:"metadata"`
	Spec     struct {
		Replicas int  `json:"replicas"`
		Paused   bool `json:"paused"`
		Template struct {
			Spec struct {
				Containers []struct {
					Image string `json:"image"`
				} `json:"containers"`
			} `json:"spec"`
		} `json:"template"`
		ScaleDown struct {
			StandbyReplicas int `json:"standbyReplicas"`
		} `json:"scaleDown"`
	} `json:"spec"`
	Status struct {
		ObservedGeneration int64       `json:"observedGeneration"`
		ActiveColor        string      `json:"activeColor"`
		Stage              string      `json:"stage"`
		Message            string      `json:"message"`
		Conditions         []condition `json:"conditions"`
	} `json:"status"`
}

func (r *release) image() string {
	if c := r.Spec.Template.Spec.Containers; len(c) > 0 {
		return c[0].Image
	}
	return ""
}

type deployment struct {
	Metadata objMeta `json:"metadata"`
	Spec     struct {
		Replicas *int `json:"replicas"`
		Template struct {
			Spec struct {
				Containers []struct {
					Image string `json:"image"`
				} `json:"containers"`
			} `json:"spec"`
		} `json:"template"`
	} `json:"spec"`
	Status struct {
		ReadyReplicas int `json:"readyReplicas"`
	} `json:"status"`
}

func (d *deployment) replicas() int {
	if d.Spec.Replicas == nil {
		return 1
	}
	return *d.Spec.Replicas
}

func (d *deployment) image() string {
	if c := d.Spec.Template.Spec.Containers; len(c) > 0 {
		return c[0].Image
	}
	return ""
}

type ingressRoute struct {
	Metadata objMeta `json:"metadata"`
	Spec     struct {
		Routes []struct {
			Match    string `json:"match"`
			Services []struct {
				Name string `json:"name"`
			} `json:"services"`
		} `json:"routes"`
	} `json:"spec"`
}

type endpointSlice struct {
	Metadata objMeta `json:"metadata"`
	Ports    []struct {
		Port *int `json:"port"`
	} `json:"ports"`
	Endpoints []struct {
		Conditions struct {
			Ready *bool `json:"ready"`
		} `json:"conditions"`
	} `json:"endpoints"`
}

type list[T any] struct {
	Items []T `json:"items"`
}
