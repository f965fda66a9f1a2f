//go:build tools

// Package tilt pins the command the local stack builds: `go build github.com/tilt-dev/tilt/cmd/tilt`.
package tilt

import _ "github.com/tilt-dev/tilt/cmd/tilt"
