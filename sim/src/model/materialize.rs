//! Creating subjects in an organization: Azure DevOps groups, and Entra users, groups and
//! service principals "materialized" from the directory.

use uuid::Uuid;

use super::subjects::{GroupScope, Origin, Subject, SubjectKind};
use super::{DirectoryGroup, DirectoryServicePrincipal, DirectoryUser, Organization};
use crate::ids::{encode_descriptor, group_sid, stable_uuid};

/// Where a new group's identifiers come from.
#[derive(Debug, Clone, Copy)]
pub enum IdSource {
    /// Derived from names: the seed's objects get the same ids on every build.
    Stable,
    /// Fresh random ids: objects created through the API.
    Random,
}

impl Organization {
    fn storage_key_for(&self, descriptor: &str) -> Uuid {
        stable_uuid("storage-key", &[&self.name, descriptor])
    }

    pub fn principal_scope_name(&self, scope: GroupScope) -> String {
        match scope {
            GroupScope::Organization => self.name.clone(),
            GroupScope::Project(id) => self.project_name(id).unwrap_or_default().to_string(),
        }
    }

    pub fn domain_of(&self, scope: GroupScope) -> String {
        match scope {
            GroupScope::Organization => format!("vstfs:///Framework/IdentityDomain/{}", self.id),
            GroupScope::Project(id) => format!("vstfs:///Classification/TeamProject/{id}"),
        }
    }

    /// Creates an Azure DevOps (vsts) group and returns its descriptor.
    pub fn create_vsts_group(
        &mut self,
        scope: GroupScope,
        name: &str,
        description: Option<String>,
        built_in: bool,
        ids: IdSource,
    ) -> String {
        let scope_key = match scope {
            GroupScope::Organization => "org".to_string(),
            GroupScope::Project(id) => id.to_string(),
        };
        let seed = match ids {
            IdSource::Stable => stable_uuid("vsts-group", &[&self.name, &scope_key, name]),
            IdSource::Random => Uuid::new_v4(),
        };
        let kind = match scope {
            GroupScope::Organization => 0,
            GroupScope::Project(_) => 1,
        };
        let descriptor = encode_descriptor("vssgp", &group_sid(self.id, seed, kind));
        let subject = Subject {
            kind: SubjectKind::Group,
            storage_key: self.storage_key_for(&descriptor),
            descriptor: descriptor.clone(),
            origin: Origin::Vsts,
            origin_id: stable_uuid("vsts-origin", &[&descriptor]).to_string(),
            display_name: name.to_string(),
            principal_name: format!("[{}]\\{}", self.principal_scope_name(scope), name),
            mail_address: None,
            description,
            domain: self.domain_of(scope),
            scope,
            deleted: false,
            directory_alias: None,
            application_id: None,
            built_in,
        };
        self.subjects.push(subject);
        descriptor
    }

    /// Materializes an Entra user; returns its descriptor and whether it was created (or restored).
    pub fn materialize_user(&mut self, tenant: Uuid, user: &DirectoryUser) -> (String, bool) {
        let origin_id = user.object_id.to_string();
        if let Some(existing) = self
            .subjects
            .with_origin_id_mut(&origin_id, |s| s.kind == SubjectKind::User)
        {
            let restored = existing.deleted;
            existing.deleted = false;
            return (existing.descriptor.clone(), restored);
        }
        let descriptor = encode_descriptor(
            "aad",
            &stable_uuid("aad-user", &[&self.name, &origin_id]).to_string(),
        );
        self.subjects.push(Subject {
            kind: SubjectKind::User,
            storage_key: self.storage_key_for(&descriptor),
            descriptor: descriptor.clone(),
            origin: Origin::Aad,
            origin_id,
            display_name: user.display_name.clone(),
            principal_name: user.upn.clone(),
            mail_address: Some(user.mail.clone()),
            description: None,
            domain: tenant.to_string(),
            scope: GroupScope::Organization,
            deleted: false,
            directory_alias: user.upn.split('@').next().map(str::to_string),
            application_id: None,
            built_in: false,
        });
        (descriptor, true)
    }

    /// Materializes an Entra group; returns its descriptor and whether it was created (or restored).
    pub fn materialize_entra_group(
        &mut self,
        tenant: Uuid,
        group: &DirectoryGroup,
    ) -> (String, bool) {
        let origin_id = group.object_id.to_string();
        if let Some(existing) = self
            .subjects
            .with_origin_id_mut(&origin_id, |s| s.kind == SubjectKind::Group)
        {
            let restored = existing.deleted;
            existing.deleted = false;
            return (existing.descriptor.clone(), restored);
        }
        let descriptor = encode_descriptor(
            "aadgp",
            &group_sid(
                self.id,
                stable_uuid("aad-group", &[&self.name, &origin_id]),
                3,
            ),
        );
        self.subjects.push(Subject {
            kind: SubjectKind::Group,
            storage_key: self.storage_key_for(&descriptor),
            descriptor: descriptor.clone(),
            origin: Origin::Aad,
            origin_id,
            display_name: group.display_name.clone(),
            principal_name: format!("[TEAM FOUNDATION]\\{}", group.display_name),
            mail_address: group.mail.clone(),
            description: group.description.clone(),
            domain: tenant.to_string(),
            scope: GroupScope::Organization,
            deleted: false,
            directory_alias: None,
            application_id: None,
            built_in: false,
        });
        (descriptor, true)
    }

    /// Materializes a service principal; returns its descriptor and whether it was created.
    pub fn materialize_service_principal(
        &mut self,
        tenant: Uuid,
        principal: &DirectoryServicePrincipal,
    ) -> (String, bool) {
        let origin_id = principal.object_id.to_string();
        if let Some(existing) = self
            .subjects
            .with_origin_id_mut(&origin_id, |s| s.kind == SubjectKind::ServicePrincipal)
        {
            let restored = existing.deleted;
            existing.deleted = false;
            return (existing.descriptor.clone(), restored);
        }
        let descriptor = encode_descriptor(
            "aadsp",
            &stable_uuid("aad-sp", &[&self.name, &origin_id]).to_string(),
        );
        self.subjects.push(Subject {
            kind: SubjectKind::ServicePrincipal,
            storage_key: self.storage_key_for(&descriptor),
            descriptor: descriptor.clone(),
            origin: Origin::Aad,
            origin_id,
            display_name: principal.display_name.clone(),
            principal_name: principal.app_id.to_string(),
            mail_address: None,
            description: None,
            domain: tenant.to_string(),
            scope: GroupScope::Organization,
            deleted: false,
            directory_alias: None,
            application_id: Some(principal.app_id),
            built_in: false,
        });
        (descriptor, true)
    }
}
