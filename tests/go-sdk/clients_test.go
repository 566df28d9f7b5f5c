package gosdk

import (
	"context"
	"strings"
	"testing"

	"github.com/microsoft/azure-devops-go-api/azuredevops/v7"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/accounts"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/audit"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/build"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/contributions"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/core"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/dashboard"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/extensionmanagement"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/feed"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/gallery"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/git"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/graph"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/identity"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/maven"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/memberentitlementmanagement"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/npm"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/nuget"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/pipelinepermissions"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/pipelinesapproval"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/pipelineschecks"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/policy"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/profile"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/profileregions"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/projectanalysis"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/provenance"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/pypiapi"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/release"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/search"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/serviceendpoint"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/symbol"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/taskagent"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/test"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/testresults"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/tfvc"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/tokenadmin"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/universal"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/upackpackaging"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/wiki"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/work"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/workitemtracking"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/workitemtrackingprocess"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/workitemtrackingprocesstemplate"
)

type starter func(context.Context, *azuredevops.Connection) error

func start[C any](create func(context.Context, *azuredevops.Connection) (C, error)) starter {
	return func(ctx context.Context, connection *azuredevops.Connection) error {
		_, err := create(ctx, connection)
		return err
	}
}

// Every client of the SDK that resolves its resource area by id at creation (through
// _apis/ResourceAreas): each must start, whether or not the simulator implements the area.
func TestEveryClientTheSDKCreatesByAreaStarts(t *testing.T) {
	ctx, connection := connection(t)
	clients := map[string]starter{
		"accounts":                        start(accounts.NewClient),
		"audit":                           start(audit.NewClient),
		"build":                           start(build.NewClient),
		"contributions":                   start(contributions.NewClient),
		"core":                            start(core.NewClient),
		"dashboard":                       start(dashboard.NewClient),
		"extensionmanagement":             start(extensionmanagement.NewClient),
		"feed":                            start(feed.NewClient),
		"gallery":                         start(gallery.NewClient),
		"git":                             start(git.NewClient),
		"graph":                           start(graph.NewClient),
		"identity":                        start(identity.NewClient),
		"maven":                           start(maven.NewClient),
		"memberentitlementmanagement":     start(memberentitlementmanagement.NewClient),
		"npm":                             start(npm.NewClient),
		"nuget":                           start(nuget.NewClient),
		"pipelinepermissions":             start(pipelinepermissions.NewClient),
		"pipelinesapproval":               start(pipelinesapproval.NewClient),
		"pipelineschecks":                 start(pipelineschecks.NewClient),
		"policy":                          start(policy.NewClient),
		"profile":                         start(profile.NewClient),
		"profileregions":                  start(profileregions.NewClient),
		"projectanalysis":                 start(projectanalysis.NewClient),
		"provenance":                      start(provenance.NewClient),
		"pypiapi":                         start(pypiapi.NewClient),
		"release":                         start(release.NewClient),
		"search":                          start(search.NewClient),
		"serviceendpoint":                 start(serviceendpoint.NewClient),
		"symbol":                          start(symbol.NewClient),
		"taskagent":                       start(taskagent.NewClient),
		"test":                            start(test.NewClient),
		"testresults":                     start(testresults.NewClient),
		"tfvc":                            start(tfvc.NewClient),
		"tokenadmin":                      start(tokenadmin.NewClient),
		"universal":                       start(universal.NewClient),
		"upackpackaging":                  start(upackpackaging.NewClient),
		"wiki":                            start(wiki.NewClient),
		"work":                            start(work.NewClient),
		"workitemtracking":                start(workitemtracking.NewClient),
		"workitemtrackingprocess":         start(workitemtrackingprocess.NewClient),
		"workitemtrackingprocesstemplate": start(workitemtrackingprocesstemplate.NewClient),
	}
	var failed []string
	for name, create := range clients {
		if err := create(ctx, connection); err != nil {
			failed = append(failed, name+": "+err.Error())
		}
	}
	if len(failed) > 0 {
		t.Fatalf("clients that did not start:\n%s", strings.Join(failed, "\n"))
	}
	if len(clients) < 40 {
		t.Fatalf("only %d clients were tried", len(clients))
	}
}
