//! The simulator's seed for the bench: the default seed plus the directory users the memberships
//! draw from and a project `Bench` with the pipelines and environments the authorizations use.

use serde_yaml::{Mapping, Value};

use crate::workload::{
    environment_id, environment_name, pipeline_id, pipeline_name, user_upn, Workload, ORGANIZATION,
    PIPELINE_FOLDER, PROJECT,
};

/// Why the default seed could not be extended.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("the default seed has no {0}")]
    Missing(&'static str),
}

fn map(pairs: &[(&str, Value)]) -> Value {
    let mut m = Mapping::new();
    for (k, v) in pairs {
        m.insert(Value::from(*k), v.clone());
    }
    Value::Mapping(m)
}

/// Add the workload's users, pipelines and environments to a seed document.
pub fn extend(seed: &mut Value, workload: &Workload) -> Result<(), SeedError> {
    let users = seed["directory"]["users"]
        .as_sequence_mut()
        .ok_or(SeedError::Missing("directory.users"))?;
    for i in 0..workload.directory_users {
        users.push(map(&[
            ("upn", Value::from(user_upn(i))),
            ("displayName", Value::from(format!("Bench User {i:04}"))),
        ]));
    }
    let organizations = seed["organizations"]
        .as_sequence_mut()
        .ok_or(SeedError::Missing("organizations"))?;
    let organization = organizations
        .iter_mut()
        .find(|o| o["name"].as_str() == Some(ORGANIZATION))
        .ok_or(SeedError::Missing("organization contoso"))?;
    let projects = organization["projects"]
        .as_sequence_mut()
        .ok_or(SeedError::Missing("projects"))?;
    let pipelines: Vec<Value> = (0..workload.pipelines())
        .map(|i| {
            map(&[
                ("id", Value::from(pipeline_id(i) as u64)),
                ("name", Value::from(pipeline_name(i))),
                ("path", Value::from(PIPELINE_FOLDER)),
            ])
        })
        .collect();
    let environments: Vec<Value> = (0..workload.authorizations)
        .map(|i| {
            map(&[
                ("id", Value::from(environment_id(i) as u64)),
                ("name", Value::from(environment_name(i))),
            ])
        })
        .collect();
    projects.push(map(&[
        ("name", Value::from(PROJECT)),
        ("description", Value::from("Benchmark project")),
        ("pipelines", Value::Sequence(pipelines)),
        ("environments", Value::Sequence(environments)),
    ]));
    Ok(())
}
