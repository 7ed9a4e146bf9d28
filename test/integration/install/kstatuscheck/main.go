// kstatuscheck prints the kstatus status of Kubernetes objects given as JSON (a single object or a
// List, e.g. `kubectl get -o json`), one "<kind>/<name> <Status> <message>" line per object.
// Usage: kstatuscheck [file.json]   (stdin when no file is given)
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
)

func main() {
	in := io.Reader(os.Stdin)
	if len(os.Args) > 1 {
		f, err := os.Open(os.Args[1])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		defer f.Close()
		in = f
	}
	data, err := io.ReadAll(in)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	// Decode as the API machinery does, so integers stay int64 (kstatus insists on it).
	var probe struct {
		Items []json.RawMessage `json:"items"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		fmt.Fprintln(os.Stderr, "not a JSON object:", err)
		os.Exit(2)
	}
	docs := []json.RawMessage{data}
	if probe.Items != nil {
		docs = probe.Items
	}
	for _, doc := range docs {
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(doc); err != nil {
			fmt.Fprintln(os.Stderr, "decode:", err)
			os.Exit(2)
		}
		res, err := status.Compute(u)
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s/%s: %v\n", u.GetKind(), u.GetName(), err)
			os.Exit(1)
		}
		fmt.Printf("%s/%s %s %s\n", u.GetKind(), u.GetName(), res.Status, res.Message)
	}
}
