//go:build tools

// Package kube pins the commands the local stack builds: `go build k8s.io/kubernetes/cmd/kube-apiserver`.
package kube

import _ "k8s.io/kubernetes/cmd/kube-apiserver"
