// Package gosdk drives azdo-sim through Microsoft's official Go SDK
// (github.com/microsoft/azure-devops-go-api/azuredevops/v7), the one the Terraform provider is
// built on. hack/go-sdk-test.sh starts the simulator and exports AZDO_SIM_DEV_URL,
// AZDO_SIM_VSSPS_URL and SSL_CERT_FILE (the simulator's CA: verification stays on).
package gosdk

import (
	"context"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/microsoft/azure-devops-go-api/azuredevops/v7"
)

const (
	organization = "contoso"
	operatorPAT  = "simoperatorpat0000000000000000000000000000000000000000"
	storefrontID = "3f2a1b0c-4d5e-4f60-8a7b-9c0d1e2f3a4b"
)

func required(t *testing.T, name string) string {
	t.Helper()
	value := strings.TrimRight(os.Getenv(name), "/")
	if value == "" {
		t.Fatalf("%s is not set: run the suite through hack/go-sdk-test.sh", name)
	}
	return value
}

// connection is a PAT connection to the organization on the simulator's dev host, after
// resetting the simulator to its seed.
func connection(t *testing.T) (context.Context, *azuredevops.Connection) {
	t.Helper()
	dev := required(t, "AZDO_SIM_DEV_URL")
	request, err := http.NewRequest(http.MethodPost, dev+"/_sim/reset", nil)
	if err != nil {
		t.Fatal(err)
	}
	response, err := http.DefaultClient.Do(request)
	if err != nil {
		t.Fatalf("resetting the simulator: %v", err)
	}
	response.Body.Close()
	if response.StatusCode != http.StatusNoContent {
		t.Fatalf("resetting the simulator: %s", response.Status)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx, azuredevops.NewPatConnection(dev+"/"+organization, operatorPAT)
}

func ptr[T any](value T) *T { return &value }
