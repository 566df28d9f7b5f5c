module github.com/azdo-operator/azdo-operator/tests/go-sdk

go 1.22

require (
	github.com/google/uuid v1.1.1
	github.com/microsoft/azure-devops-go-api/azuredevops/v7 v7.1.1-0.20241014080628-3045bdf43455
)
