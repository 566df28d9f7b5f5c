//go:build tools

// Package tools records the main package hack/controlplane.sh builds, so that
// `go mod tidy` keeps its dependencies in go.sum. It is never compiled.
package tools

import (
	_ "helm.sh/helm/v4/cmd/helm"
)
