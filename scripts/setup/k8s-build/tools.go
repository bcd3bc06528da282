//go:build tools

// Package tools pins the commands this module builds (kube-apiserver, kube-controller-manager,
// kube-scheduler, etcd, and helm for scripts/setup/helm.sh) so `go mod tidy` records their
// dependencies in go.sum. Nothing here is compiled.
package tools

import (
	_ "go.etcd.io/etcd/server/v3"
	_ "helm.sh/helm/v3/cmd/helm"
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
)
