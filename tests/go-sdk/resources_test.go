package gosdk

import (
	"testing"

	"github.com/google/uuid"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/build"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/core"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/git"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/pipelinepermissions"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/pipelineschecks"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/serviceendpoint"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/taskagent"
)

// The lookups the operator makes, through the SDK: protected resources by name, pipelines, the
// project with its capabilities and the process template it names.
func TestResourceLookups(t *testing.T) {
	ctx, connection := connection(t)
	agents, err := taskagent.NewClient(ctx, connection)
	if err != nil {
		t.Fatal(err)
	}
	queues, err := agents.GetAgentQueues(ctx, taskagent.GetAgentQueuesArgs{Project: ptr("Storefront"), QueueName: ptr("Default")})
	if err != nil || len(*queues) != 1 || *(*queues)[0].Id != 31 {
		t.Fatalf("queues: %v %v", queues, err)
	}
	environments, err := agents.GetEnvironments(ctx, taskagent.GetEnvironmentsArgs{Project: ptr("Storefront"), Name: ptr("storefront-staging")})
	if err != nil || len(environments.Value) != 1 {
		t.Fatalf("environments: %v %v", environments, err)
	}
	groups, err := agents.GetVariableGroups(ctx, taskagent.GetVariableGroupsArgs{Project: ptr("Storefront"), GroupName: ptr("storefront-common")})
	if err != nil || len(*groups) != 1 || *(*groups)[0].Id != 5 {
		t.Fatalf("variable groups: %v %v", groups, err)
	}
	endpoints, err := serviceendpoint.NewClient(ctx, connection)
	if err != nil {
		t.Fatal(err)
	}
	found, err := endpoints.GetServiceEndpointsByNames(ctx, serviceendpoint.GetServiceEndpointsByNamesArgs{
		Project: ptr("Storefront"), EndpointNames: &[]string{"azure-prod"}, IncludeFailed: ptr(true),
	})
	if err != nil || len(*found) != 1 || !*(*found)[0].IsReady {
		t.Fatalf("service endpoints: %v %v", found, err)
	}
	repos, err := git.NewClient(ctx, connection)
	if err != nil {
		t.Fatal(err)
	}
	repository, err := repos.GetRepository(ctx, git.GetRepositoryArgs{Project: ptr("Storefront"), RepositoryId: ptr("storefront")})
	if err != nil || *repository.Name != "storefront" {
		t.Fatalf("repository: %v %v", repository, err)
	}
	builds, err := build.NewClient(ctx, connection)
	if err != nil {
		t.Fatal(err)
	}
	definitions, err := builds.GetDefinitions(ctx, build.GetDefinitionsArgs{Project: ptr("Storefront"), Name: ptr("storefront-ci")})
	if err != nil || len(definitions.Value) != 1 {
		t.Fatalf("definitions: %v %v", definitions, err)
	}
	definition, err := builds.GetDefinition(ctx, build.GetDefinitionArgs{Project: ptr("Storefront"), DefinitionId: definitions.Value[0].Id})
	if err != nil || definition.Repository == nil || *definition.Repository.Name != "storefront" {
		t.Fatalf("a definition carries its repository: %v %v", definition, err)
	}
	projects, err := core.NewClient(ctx, connection)
	if err != nil {
		t.Fatal(err)
	}
	project, err := projects.GetProject(ctx, core.GetProjectArgs{ProjectId: ptr("Storefront"), IncludeCapabilities: ptr(true)})
	if err != nil || project.Capabilities == nil {
		t.Fatalf("project capabilities: %v %v", project, err)
	}
	capabilities := *project.Capabilities
	if capabilities["versioncontrol"]["sourceControlType"] != "Git" {
		t.Fatalf("version control: %v", capabilities)
	}
	templateID, err := uuid.Parse(capabilities["processTemplate"]["templateTypeId"])
	if err != nil {
		t.Fatalf("process template: %v", capabilities)
	}
	process, err := projects.GetProcessById(ctx, core.GetProcessByIdArgs{ProcessId: &templateID})
	if err != nil || *process.Name != capabilities["processTemplate"]["templateName"] {
		t.Fatalf("process: %v %v", process, err)
	}
}

// Pipeline permissions of a protected resource: read, authorize a pipeline, read back.
func TestPipelinePermissions(t *testing.T) {
	ctx, connection := connection(t)
	client, err := pipelinepermissions.NewClient(ctx, connection)
	if err != nil {
		t.Fatal(err)
	}
	resource := pipelinepermissions.GetPipelinePermissionsForResourceArgs{
		Project: ptr("Storefront"), ResourceType: ptr("queue"), ResourceId: ptr("31"),
	}
	before, err := client.GetPipelinePermissionsForResource(ctx, resource)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	for _, p := range *before.Pipelines {
		if *p.Id == 19 && *p.Authorized {
			t.Fatal("pipeline 19 is authorized before the test")
		}
	}
	_, err = client.UpdatePipelinePermisionsForResource(ctx, pipelinepermissions.UpdatePipelinePermisionsForResourceArgs{
		Project: ptr("Storefront"), ResourceType: ptr("queue"), ResourceId: ptr("31"),
		ResourceAuthorization: &pipelinepermissions.ResourcePipelinePermissions{
			Resource:  &pipelineschecks.Resource{Type: ptr("queue"), Id: ptr("31")},
			Pipelines: &[]pipelinepermissions.PipelinePermission{{Id: ptr(19), Authorized: ptr(true)}},
		},
	})
	if err != nil {
		t.Fatalf("authorize: %v", err)
	}
	after, err := client.GetPipelinePermissionsForResource(ctx, resource)
	if err != nil {
		t.Fatalf("read back: %v", err)
	}
	authorized := false
	for _, p := range *after.Pipelines {
		authorized = authorized || (*p.Id == 19 && *p.Authorized)
	}
	if !authorized {
		t.Fatalf("pipeline 19 is not authorized: %v", *after.Pipelines)
	}
}
