package gosdk

import (
	"testing"

	"github.com/google/uuid"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/graph"
)

// Groups and memberships through the Graph client, as the Terraform provider drives them.
func TestGroupsAndMemberships(t *testing.T) {
	ctx, connection := connection(t)
	client, err := graph.NewClient(ctx, connection)
	if err != nil {
		t.Fatal(err)
	}
	scope, err := client.GetDescriptor(ctx, graph.GetDescriptorArgs{StorageKey: ptr(uuid.MustParse(storefrontID))})
	if err != nil {
		t.Fatalf("project scope: %v", err)
	}
	group, err := client.CreateGroupVsts(ctx, graph.CreateGroupVstsArgs{
		ScopeDescriptor: scope.Value,
		CreationContext: &graph.GraphGroupVstsCreationContext{
			DisplayName: ptr("Go SDK Team"),
			Description: ptr("created through the Go SDK"),
		},
	})
	if err != nil {
		t.Fatalf("create group: %v", err)
	}
	if got := *group.PrincipalName; got != `[Storefront]\Go SDK Team` {
		t.Fatalf("principal name %q", got)
	}
	fetched, err := client.GetGroup(ctx, graph.GetGroupArgs{GroupDescriptor: group.Descriptor})
	if err != nil || *fetched.DisplayName != "Go SDK Team" {
		t.Fatalf("get group: %v %v", fetched, err)
	}
	// Paging: the group is found by following continuation tokens.
	found := false
	var token *string
	for pages := 0; pages < 100; pages++ {
		page, err := client.ListGroups(ctx, graph.ListGroupsArgs{ScopeDescriptor: scope.Value, ContinuationToken: token})
		if err != nil {
			t.Fatalf("list groups: %v", err)
		}
		for _, g := range *page.GraphGroups {
			found = found || *g.Descriptor == *group.Descriptor
		}
		if page.ContinuationToken == nil || len(*page.ContinuationToken) == 0 || (*page.ContinuationToken)[0] == "" {
			break
		}
		token = &(*page.ContinuationToken)[0]
	}
	if !found {
		t.Fatal("the new group was not listed")
	}
	user, err := client.CreateUserUserPrincipalName(ctx, graph.CreateUserUserPrincipalNameArgs{
		CreationContext: &graph.GraphUserPrincipalNameCreationContext{PrincipalName: ptr("lee.gu@contoso.com")},
	})
	if err != nil {
		t.Fatalf("materialize user: %v", err)
	}
	membership := graph.AddMembershipArgs{SubjectDescriptor: user.Descriptor, ContainerDescriptor: group.Descriptor}
	if _, err := client.AddMembership(ctx, membership); err != nil {
		t.Fatalf("add membership: %v", err)
	}
	if err := client.CheckMembershipExistence(ctx, graph.CheckMembershipExistenceArgs{SubjectDescriptor: user.Descriptor, ContainerDescriptor: group.Descriptor}); err != nil {
		t.Fatalf("membership check: %v", err)
	}
	subjects, err := client.QuerySubjects(ctx, graph.QuerySubjectsArgs{SubjectQuery: &graph.GraphSubjectQuery{
		Query: ptr("Go SDK"), SubjectKind: &[]string{"Group"}, ScopeDescriptor: scope.Value,
	}})
	if err != nil || len(*subjects) != 1 {
		t.Fatalf("subject query: %v %v", subjects, err)
	}
	if err := client.RemoveMembership(ctx, graph.RemoveMembershipArgs{SubjectDescriptor: user.Descriptor, ContainerDescriptor: group.Descriptor}); err != nil {
		t.Fatalf("remove membership: %v", err)
	}
	if err := client.CheckMembershipExistence(ctx, graph.CheckMembershipExistenceArgs{SubjectDescriptor: user.Descriptor, ContainerDescriptor: group.Descriptor}); err == nil {
		t.Fatal("the membership is still there")
	}
	if err := client.DeleteGroup(ctx, graph.DeleteGroupArgs{GroupDescriptor: group.Descriptor}); err != nil {
		t.Fatalf("delete group: %v", err)
	}
	state, err := client.GetMembershipState(ctx, graph.GetMembershipStateArgs{SubjectDescriptor: group.Descriptor})
	if err != nil || state.Active == nil || *state.Active {
		t.Fatalf("a deleted group is not active: %v %v", state, err)
	}
}
