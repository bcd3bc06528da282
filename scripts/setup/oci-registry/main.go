// Command maestro-oci-registry serves an in-memory OCI registry (go-containerregistry's
// pkg/registry, the one behind `crane registry serve`) with the OCI 1.1 referrers API on, for the
// tests. `crane registry serve` does not turn referrers on, and the library's referrers list names
// a manifest's config media type where distribution-spec v1.1 says its `artifactType` comes first;
// this wrapper turns the API on and makes those two answers conform (artifactType, the
// `artifactType` filter with OCI-Filters-Applied, and the OCI-Subject header on a manifest PUT).
//
// Usage: maestro-oci-registry [--address 127.0.0.1:0] [--version]. The first line on stdout is
// `listening on <host:port>`; the process serves until it is killed.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"

	"github.com/google/go-containerregistry/pkg/registry"
)

type descriptor struct {
	MediaType    string            `json:"mediaType"`
	Digest       string            `json:"digest"`
	Size         int64             `json:"size"`
	ArtifactType string            `json:"artifactType,omitempty"`
	Annotations  map[string]string `json:"annotations,omitempty"`
}

type index struct {
	SchemaVersion int          `json:"schemaVersion"`
	MediaType     string       `json:"mediaType"`
	Manifests     []descriptor `json:"manifests"`
}

// version is what setup checks before reusing a cached binary: bump it when this file changes.
const version = "maestro-oci-registry r1 (go-containerregistry v0.22.1)"

func main() {
	address := flag.String("address", "127.0.0.1:0", "address to listen on")
	printVersion := flag.Bool("version", false, "print the version and exit")
	flag.Parse()
	if *printVersion {
		fmt.Println(version)
		return
	}
	inner := registry.New(registry.WithReferrersSupport(true), registry.Logger(log.New(io.Discard, "", 0)))
	listener, err := net.Listen("tcp", *address)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("listening on %s\n", listener.Addr().String())
	os.Stdout.Sync()
	log.Fatal(http.Serve(listener, handler(inner)))
}

func handler(inner http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
		if r.Method == http.MethodGet && len(parts) >= 4 && parts[0] == "v2" && parts[len(parts)-2] == "referrers" {
			referrers(inner, w, r, strings.Join(parts[1:len(parts)-2], "/"))
			return
		}
		if r.Method == http.MethodPut && len(parts) >= 4 && parts[0] == "v2" && parts[len(parts)-2] == "manifests" {
			putManifest(inner, w, r)
			return
		}
		inner.ServeHTTP(w, r)
	})
}

// putManifest answers OCI-Subject when the manifest has a subject: the client then knows the
// registry indexes it and needs no referrers tag.
func putManifest(inner http.Handler, w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var withSubject struct {
		Subject *descriptor `json:"subject"`
	}
	_ = json.Unmarshal(body, &withSubject)
	r.Body = io.NopCloser(bytes.NewReader(body))
	if withSubject.Subject != nil {
		w.Header().Set("OCI-Subject", withSubject.Subject.Digest)
	}
	inner.ServeHTTP(w, r)
}

func referrers(inner http.Handler, w http.ResponseWriter, r *http.Request, repo string) {
	recorder := httptest.NewRecorder()
	inner.ServeHTTP(recorder, r)
	if recorder.Code != http.StatusOK {
		copyResponse(w, recorder)
		return
	}
	var list index
	if err := json.Unmarshal(recorder.Body.Bytes(), &list); err != nil {
		copyResponse(w, recorder)
		return
	}
	wanted := r.URL.Query().Get("artifactType")
	kept := []descriptor{}
	for _, entry := range list.Manifests {
		if artifactType := manifestArtifactType(inner, repo, entry.Digest); artifactType != "" {
			entry.ArtifactType = artifactType
		}
		if wanted == "" || entry.ArtifactType == wanted {
			kept = append(kept, entry)
		}
	}
	list.Manifests = kept
	body, _ := json.Marshal(list)
	if wanted != "" {
		w.Header().Set("OCI-Filters-Applied", "artifactType")
	}
	w.Header().Set("Content-Type", "application/vnd.oci.image.index.v1+json")
	w.Header().Set("Content-Length", fmt.Sprint(len(body)))
	w.WriteHeader(http.StatusOK)
	w.Write(body)
}

// manifestArtifactType reads the referring manifest's own artifactType field.
func manifestArtifactType(inner http.Handler, repo, digest string) string {
	request := httptest.NewRequest(http.MethodGet, "/v2/"+repo+"/manifests/"+digest, nil)
	recorder := httptest.NewRecorder()
	inner.ServeHTTP(recorder, request)
	var manifest struct {
		ArtifactType string `json:"artifactType"`
	}
	if recorder.Code != http.StatusOK || json.Unmarshal(recorder.Body.Bytes(), &manifest) != nil {
		return ""
	}
	return manifest.ArtifactType
}

func copyResponse(w http.ResponseWriter, recorder *httptest.ResponseRecorder) {
	for key, values := range recorder.Header() {
		for _, value := range values {
			w.Header().Add(key, value)
		}
	}
	w.WriteHeader(recorder.Code)
	w.Write(recorder.Body.Bytes())
}
