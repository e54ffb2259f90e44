//! Organizations: the organization's roots, organizational units and accounts (`audit --org`).

use super::{all_items, LiveClient};
use crate::api::{
    AwsResult, OrgAccount, OrgRead, OrgUnit, ORGANIZATIONS_LIST_ACCOUNTS_FOR_PARENT,
    ORGANIZATIONS_LIST_ORGANIZATIONAL_UNITS_FOR_PARENT, ORGANIZATIONS_LIST_ROOTS,
};

fn unit(id: Option<&str>, name: Option<&str>) -> OrgUnit {
    OrgUnit {
        id: id.unwrap_or_default().to_owned(),
        name: name.unwrap_or_default().to_owned(),
    }
}

fn account(account: &aws_sdk_organizations::types::Account) -> OrgAccount {
    // `State` replaces the deprecated `Status`; a server that sends only `Status` is read too.
    #[allow(deprecated)]
    let state = match (account.state(), account.status()) {
        (Some(state), _) => state.as_str().to_owned(),
        (None, Some(status)) => status.as_str().to_owned(),
        (None, None) => "UNKNOWN".to_owned(),
    };
    OrgAccount {
        id: account.id().unwrap_or_default().to_owned(),
        name: account.name().unwrap_or_default().to_owned(),
        state,
    }
}

impl OrgRead for LiveClient {
    async fn list_roots(&self) -> AwsResult<Vec<OrgUnit>> {
        Ok(all_items!(
            ORGANIZATIONS_LIST_ROOTS,
            self.organizations.list_roots(),
            pages | page | page.roots().iter(),
            |root| unit(root.id(), root.name())
        ))
    }

    async fn list_organizational_units_for_parent(
        &self,
        parent_id: &str,
    ) -> AwsResult<Vec<OrgUnit>> {
        Ok(all_items!(
            ORGANIZATIONS_LIST_ORGANIZATIONAL_UNITS_FOR_PARENT,
            self.organizations
                .list_organizational_units_for_parent()
                .parent_id(parent_id),
            pages | page | page.organizational_units().iter(),
            |ou| unit(ou.id(), ou.name())
        ))
    }

    async fn list_accounts_for_parent(&self, parent_id: &str) -> AwsResult<Vec<OrgAccount>> {
        Ok(all_items!(
            ORGANIZATIONS_LIST_ACCOUNTS_FOR_PARENT,
            self.organizations
                .list_accounts_for_parent()
                .parent_id(parent_id),
            pages | page | page.accounts().iter(),
            |item| account(item)
        ))
    }
}
