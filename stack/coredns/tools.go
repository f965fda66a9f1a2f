//go:build tools

// Package coredns pins CoreDNS, which the local cluster (stack/cluster.py) runs on its node as the
// cluster's DNS server: `go build github.com/coredns/coredns`.
package coredns

import _ "github.com/coredns/coredns"
