//! Deleting objects and waiting until their finalizers are done, dependants first.

use std::time::{Duration, Instant};

use kube::api::{DeleteParams, DynamicObject};
use kube::ResourceExt;

use super::objects::{api_for, describe, kind_of};
use super::{TestResult, POLL};

/// Delete every object, then wait until all of them are gone (their finalizers done).
pub async fn delete_and_wait(
    client: &kube::Client,
    objs: &[DynamicObject],
    timeout: Duration,
) -> TestResult {
    for obj in objs {
        let _ = api_for(client, obj)?
            .delete(&obj.name_any(), &DeleteParams::default())
            .await;
    }
    let deadline = Instant::now() + timeout;
    for obj in objs {
        let api = api_for(client, obj)?;
        while api.get_opt(&obj.name_any()).await?.is_some() {
            if Instant::now() > deadline {
                return Err(format!("{} still exists after {timeout:?}", describe(obj)).into());
            }
            tokio::time::sleep(POLL).await;
        }
    }
    Ok(())
}

/// Where a kind stands in the operator's install order ([`azdo_operator::api::all_crds`]:
/// organizations first, then groups, then what refers to groups); other kinds after all of them.
pub(super) fn install_rank(kind: &str) -> usize {
    super::objects::crds()
        .iter()
        .position(|crd| crd.spec.names.kind == kind)
        .unwrap_or(usize::MAX)
}

/// Delete the objects in the reverse of the install order, one kind at a time, each kind gone
/// before the next is deleted: authorizations and memberships, then groups, then organizations
/// (whose credentials the others' cleanup needs), all within `timeout`.
pub async fn delete_in_order(
    client: &kube::Client,
    objs: &[DynamicObject],
    timeout: Duration,
) -> TestResult {
    let deadline = Instant::now() + timeout;
    let mut ranks: Vec<usize> = objs.iter().map(|o| install_rank(kind_of(o))).collect();
    ranks.sort_unstable();
    ranks.dedup();
    for rank in ranks.into_iter().rev() {
        let tier: Vec<DynamicObject> = objs
            .iter()
            .filter(|o| install_rank(kind_of(o)) == rank)
            .cloned()
            .collect();
        let left = deadline.saturating_duration_since(Instant::now());
        delete_and_wait(client, &tier, left).await?;
    }
    Ok(())
}
