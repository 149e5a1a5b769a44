//! [`Caller`]: the authenticated user, and the admin-group scoping rules.

use pbx_model::{AdminGroupId, EntityId};

/// The authenticated user on whose behalf an operation runs.
///
/// A user is an extension that has a self-care password; the user's admin group
/// is that extension's group. Only [`PbxBackend::authenticate`](crate::PbxBackend::authenticate)
/// should make one; the constructor is public so that backends outside this crate can.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Caller {
    number: String,
    extension: EntityId,
    group: AdminGroupId,
}

impl Caller {
    /// The user whose extension is `extension`, dialled as `number`, in `group`.
    pub fn new(number: impl Into<String>, extension: EntityId, group: AdminGroupId) -> Self {
        Self {
            number: number.into(),
            extension,
            group,
        }
    }

    /// The user's extension number (the Basic-auth user name, e.g. `"203"`).
    pub fn number(&self) -> &str {
        &self.number
    }

    /// The id of the user's extension.
    pub fn extension(&self) -> EntityId {
        self.extension
    }

    /// The user's admin group.
    pub fn group(&self) -> &AdminGroupId {
        &self.group
    }

    /// Whether something in `group` is visible to this user.
    ///
    /// The one scoping rule all others follow from: a user sees exactly the
    /// entities of their own group; a call is visible when at least one of its
    /// parties is (see [`Caller::sees_call`]); everything else answers as if it
    /// did not exist.
    pub fn sees(&self, group: &AdminGroupId) -> bool {
        &self.group == group
    }

    /// Whether a call whose parties belong to `party_groups` is visible: at least
    /// one party in the user's group. Outside numbers belong to no group (`None`).
    pub fn sees_call<'a>(
        &self,
        party_groups: impl IntoIterator<Item = Option<&'a AdminGroupId>>,
    ) -> bool {
        party_groups.into_iter().flatten().any(|g| self.sees(g))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_is_visible_through_any_party_of_the_group() {
        let acme = AdminGroupId::new("Acme");
        let globex = AdminGroupId::new("Globex");
        let user = Caller::new("203", EntityId(3), acme.clone());
        assert!(user.sees_call([None, Some(&acme)]));
        assert!(user.sees_call([Some(&globex), Some(&acme)]));
        assert!(!user.sees_call([None, Some(&globex)]));
        assert!(!user.sees_call([None, None]));
    }
}
